"""Telegram chat bot for field auditors (phone calls, counter visits, letters)."""
