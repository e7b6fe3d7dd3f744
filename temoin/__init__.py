"""Témoin: mystery-citizen audits of local public services."""

__version__ = "0.1.0"
