"""Invite codes: random, readable, single-use; only their hash is stored (storage.bot)."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

# No 0/O, 1/I/L: codes are read aloud and typed by people.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # 31**12: about 59 bits, against 5 guesses an hour


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def invite_link(username: str, code: str) -> str:
    """The deep link that opens the bot with ``/start CODE``."""
    return f"https://t.me/{username.lstrip('@')}?start={code}"


_DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")


def parse_expiry(text: str) -> timedelta:
    """``7d``, ``48h``, ``30m`` -> a positive duration (ValueError otherwise)."""
    match = _DURATION.match(text.lower())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"expiry {text!r}: write a number and d, h or m, like 7d or 48h")
    amount = int(match.group(1))
    unit = {"d": "days", "h": "hours", "m": "minutes"}[match.group(2)]
    return timedelta(**{unit: amount})
