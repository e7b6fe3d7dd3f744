"""Callback data: the named codes build the wire format that old buttons carry, and the
parser reads anything a client sends without raising."""

from __future__ import annotations

import pytest

from bot import callbacks as cb
from bot.callbacks import Op, Press


def test_wire_format_is_the_one_already_sent() -> None:
    # These strings are on buttons of messages already in auditors' chats: they must not move.
    assert cb.data(Op.MENU) == "m"
    assert cb.data(Op.FIXES) == "fx"
    assert cb.data(Op.OPEN, 12) == "o:12"
    assert cb.data(Op.PHONE, 12, "hang") == "p:12:hang"
    assert cb.data(Op.VISIT, 12, "arr") == "v:12:arr"
    assert cb.data(Op.LETTER, 12, "d1") == "l:12:d1"
    assert cb.data(Op.ANSWER, 12, 3, "y") == "q:12:3:y"
    assert cb.data(Op.BACK, 12) == "b:12"
    assert cb.data(Op.VALIDATE, 12) == "k:12"
    assert cb.data(Op.FIX, 12, 4) == "f:12:4"


def test_round_trip() -> None:
    for op in Op:
        contact = None if op in cb.GLOBAL_OPS else 7
        assert cb.parse(cb.data(op, contact, *(("a", "1") if contact else ()))) == Press(
            op, contact, ("a", "1") if contact else ()
        )


def test_a_task_button_needs_its_contact() -> None:
    with pytest.raises(ValueError, match="contact"):
        cb.data(Op.OPEN)
    with pytest.raises(ValueError, match="contact"):
        cb.data(Op.MENU, None, "x")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", Press(None, None, ())),
        (None, Press(None, None, ())),
        ("zzz", Press(None, None, ())),
        ("zzz:5:x", Press(None, 5, ("x",))),
        ("p:abc", Press(Op.PHONE, None, ())),
        ("q", Press(Op.ANSWER, None, ())),
        ("o:99999999999999999999", Press(Op.OPEN, None, ())),  # would overflow an integer
        ("o:²", Press(Op.OPEN, None, ())),  # a Unicode digit is no id
        ("o:-1", Press(Op.OPEN, None, ())),
    ],
)
def test_forged_data_is_read_without_raising(raw: str | None, expected: Press) -> None:
    assert cb.parse(raw) == expected
