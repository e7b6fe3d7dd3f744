"""What every database takes (storage/mail.py ``clean_json``): no NUL, no lone surrogate,
whether the value is rebuilt or, clean already, passed on as it is."""

from __future__ import annotations

import json

from storage.mail import clean_json


def test_dirty_values_are_rebuilt_clean() -> None:
    dirty = {"a": "x\x00y", "b": ["\ud800", ("t", 1)], 2: {"k\x00": None}}
    assert clean_json(dirty) == {"a": "x\ufffdy", "b": ["?", ["t", 1]], "2": {"k\ufffd": None}}


def test_clean_values_store_the_same_json() -> None:
    for value in (
        {"classification": ["auto-submitted: auto-replied"], "n": 1.5, "ok": True, "none": None},
        [{"contact": 3, "method": "thread", "confidence": 1.0}],
        {"text": "a backslash and u0000 written out: \\u0000", "é": "« guillemets »"},
        {1: ("tuple", "keys as numbers")},
    ):
        assert json.dumps(clean_json(value)) == json.dumps(value)
    assert clean_json({"not json": {1, 2}}) == {"not json": {1, 2}}  # left to the column type
