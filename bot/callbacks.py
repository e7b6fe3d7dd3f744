"""The callback data of the bot's buttons: named codes, one builder, one parser.

The wire format is unchanged from the first buttons ever sent (old messages keep working):
``CODE`` or ``CODE:CONTACT[:ARG…]``, ASCII, well under Telegram's 64 bytes. The codes:

====  ==========================  ===============================
code  meaning                     arguments after the contact id
====  ==========================  ===============================
m     the task list               (no contact)
fx    the answers to correct      (no contact)
o     open a task                 —
p     a phone-call step           move (start, up, vm, na, busy, tr, hold, res, hang, grid)
v     a visit step                move (arr, srv, left)
l     a letter step               move (post, reply, d0, d1, nophoto)
q     answer a grid question      question index, choice (y, n, s, or a choice index)
b     back to the previous question
k     validate the summary
f     correct an answer           question index
d     correct a measured duration question index (from the summary)
====  ==========================  ===============================

Callback data is the client's to forge: the parser never raises, and a contact id is a few
ASCII digits (it must not overflow an SQL integer) or nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Op(StrEnum):
    """What a button does (its code on the wire)."""

    MENU = "m"
    FIXES = "fx"
    OPEN = "o"
    PHONE = "p"
    VISIT = "v"
    LETTER = "l"
    ANSWER = "q"
    BACK = "b"
    VALIDATE = "k"
    FIX = "f"
    MEASURED = "d"


# Codes that name no task; every other code is followed by the contact id.
GLOBAL_OPS = frozenset({Op.MENU, Op.FIXES})

_CONTACT_ID = re.compile(r"[0-9]{1,9}")


def data(op: Op, contact_id: int | None = None, *args: object) -> str:
    """The callback data of a button: ``data(Op.ANSWER, 12, 3, "y")`` is ``"q:12:3:y"``."""
    if contact_id is None:
        if args or op not in GLOBAL_OPS:
            raise ValueError(f"the button {op.name} needs a contact id")
        return op.value
    return ":".join((op.value, str(contact_id), *(str(a) for a in args)))


@dataclass(frozen=True, slots=True)
class Press:
    """Callback data read back. ``op`` is None for a code we never sent; ``contact_id`` is
    None when it is missing or not a plausible id."""

    op: Op | None
    contact_id: int | None
    args: tuple[str, ...]


def parse(raw: str | None) -> Press:
    """Read callback data (anything a client sends); never raises."""
    parts = (raw or "").split(":")
    try:
        op: Op | None = Op(parts[0])
    except ValueError:
        op = None
    contact_id = None
    if len(parts) >= 2 and _CONTACT_ID.fullmatch(parts[1]) is not None:
        contact_id = int(parts[1])
    return Press(op, contact_id, tuple(parts[2:]))
