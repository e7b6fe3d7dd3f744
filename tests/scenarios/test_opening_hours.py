"""Opening hours: parsing (French and English), errors with reasons, canonical formatting."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.opening_hours import (
    EN_DAYS,
    END_OF_DAY,
    FR_DAYS,
    Interval,
    OpeningHoursError,
    WeeklyHours,
    format_hours,
    parse_hours,
)

CLOSED: tuple[Interval, ...] = ()


def iv(start: str, end: str) -> Interval:
    def at(text: str) -> time:
        if text == "24:00":
            return END_OF_DAY
        hour, minute = text.split(":")
        return time(int(hour), int(minute))

    return Interval(at(start), at(end))


def week(*days: tuple[Interval, ...]) -> WeeklyHours:
    return WeeklyHours(tuple(days))


def test_parse_the_documented_example() -> None:
    hours = parse_hours("lu-ve 08:30-12:00,13:30-17:30; sa 09:00-12:00")
    office = (iv("08:30", "12:00"), iv("13:30", "17:30"))
    assert hours == week(office, office, office, office, office, (iv("09:00", "12:00"),), CLOSED)
    assert hours.on(0) == office
    assert hours.is_open_day(5)
    assert not hours.is_open_day(6)
    assert not hours.is_empty


@pytest.mark.parametrize(
    "text",
    [
        "mo-fr 08:30-12:00",
        "lu-ve 8h30-12h00",
        "LU-VE 8H30-12H",
        "lundi-vendredi 08:30-12:00",
        "Monday-Friday 08:30-12:00",
        "mon-fri 8:30-12:00",
        "Lun.-Ven. 08:30-12:00",
        "lu-ve 08:30 - 12:00",
        "lu-ve 08:30\u201312:00",  # en dash, as word processors write it
        "  lu - ve   08:30-12:00 ; ",
        "lu,ma,me,je,ve 08:30-12:00",
        "lu-me,je-ve 08:30-12:00",
        "mo,tu,we,th,fr 08:30-12:00",
    ],
)
def test_spellings_of_weekday_mornings(text: str) -> None:
    morning = (iv("08:30", "12:00"),)
    assert parse_hours(text) == week(*[morning] * 5, CLOSED, CLOSED)


@pytest.mark.parametrize(
    ("name", "weekday"),
    [
        ("lu", 0),
        ("mo", 0),
        ("ma", 1),
        ("tu", 1),
        ("mardi", 1),
        ("me", 2),
        ("we", 2),
        ("mercredi", 2),
        ("je", 3),
        ("th", 3),
        ("jeudi", 3),
        ("ve", 4),
        ("fr", 4),
        ("sa", 5),
        ("samedi", 5),
        ("saturday", 5),
        ("di", 6),
        ("su", 6),
        ("dimanche", 6),
        ("sunday", 6),
        ("Dimanche", 6),
    ],
)
def test_each_day_name(name: str, weekday: int) -> None:
    hours = parse_hours(f"{name} 10:00-11:00")
    for day in range(7):
        assert hours.is_open_day(day) == (day == weekday), (name, day)


def test_list_of_days_leaves_the_others_closed() -> None:
    hours = parse_hours("lu,me,ve 09:00-12:00")
    assert [hours.is_open_day(d) for d in range(7)] == [
        True,
        False,
        True,
        False,
        True,
        False,
        False,
    ]


def test_ranges_are_sorted_and_touching_ranges_kept() -> None:
    hours = parse_hours("lu 14:00-17:00,09:00-12:00; ma 09:00-12:00,12:00-14:00")
    assert hours.on(0) == (iv("09:00", "12:00"), iv("14:00", "17:00"))
    assert hours.on(1) == (iv("09:00", "12:00"), iv("12:00", "14:00"))


def test_24_00_closes_at_midnight() -> None:
    hours = parse_hours("sa 20:00-24:00; di 00:00-24h00")
    assert hours.on(5) == (Interval(time(20, 0), END_OF_DAY),)
    assert hours.on(6) == (Interval(time(0, 0), END_OF_DAY),)
    assert time(23, 59, 59) < END_OF_DAY
    assert format_hours(hours) == "sa 20:00-24:00; di 00:00-24:00"


def test_empty_text_means_unknown() -> None:
    for text in ("", "   ", ";", " ; ; "):
        hours = parse_hours(text)
        assert hours.is_empty
        assert hours == week(*[CLOSED] * 7)
        assert format_hours(hours) == ""


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("lu 09:00-12:00,11:00-13:00", "overlap"),
        ("lu 09:00-12:00,08:00-09:30", "overlap"),
        ("lu-ve 09:00-12:00; ve 14:00-15:00", "'ve' is given twice"),
        ("lu,lu 09:00-12:00", "given twice"),
        ("sa-lu 09:00-12:00", "goes backwards"),
        ("xx 09:00-12:00", "unknown day 'xx'"),
        ("lu-xx 09:00-12:00", "unknown day 'xx'"),
        ("lu,,ma 09:00-12:00", "unknown day ''"),
        ("lu 25:00-26:00", "invalid time"),
        ("lu 09:60-10:00", "invalid time"),
        ("lu 09:00-24:30", "invalid time"),
        ("lu 12:00-09:00", "does not end after it starts"),
        ("lu 09:00-09:00", "does not end after it starts"),
        ("lu 24:00-24:00", "24:00 can only end a range"),
        ("lu 9:5-10:00", "is not HH:MM-HH:MM"),
        ("lu 09:00", "is not HH:MM-HH:MM"),
        ("lu 09:00-12:00,", "is not HH:MM-HH:MM"),
        ("lu 9.00-12.00", "is not HH:MM-HH:MM"),
        ("lu-ve", "is not 'DAYS HH:MM-HH:MM"),
        ("09:00-12:00", "is not 'DAYS HH:MM-HH:MM"),
        ("lu: 09:00-12:00", "is not 'DAYS HH:MM-HH:MM"),
        ("fermé", "is not 'DAYS HH:MM-HH:MM"),
    ],
)
def test_bad_input_raises_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(OpeningHoursError, match=reason.replace("(", r"\(")) as caught:
        parse_hours(text)
    assert isinstance(caught.value, ValueError)


def test_weekly_hours_checks_its_invariants() -> None:
    morning = (iv("09:00", "12:00"),)
    with pytest.raises(OpeningHoursError, match="7 days"):
        WeeklyHours((morning,) * 6)
    with pytest.raises(OpeningHoursError, match="overlap"):
        week((iv("09:00", "12:00"), iv("11:00", "13:00")), *[CLOSED] * 6)
    with pytest.raises(OpeningHoursError, match="overlap or are not in order"):
        week((iv("14:00", "17:00"), iv("09:00", "12:00")), *[CLOSED] * 6)
    with pytest.raises(OpeningHoursError, match="does not end after"):
        Interval(time(12, 0), time(9, 0))
    with pytest.raises(OpeningHoursError, match="whole minutes"):
        Interval(time(9, 0, 30), time(12, 0))
    with pytest.raises(OpeningHoursError, match="24:00 can only end"):
        Interval(END_OF_DAY, END_OF_DAY)


def test_format_groups_consecutive_identical_days() -> None:
    office = (iv("08:30", "12:00"), iv("13:30", "17:30"))
    hours = week(office, office, (iv("08:30", "12:00"),), office, office, CLOSED, CLOSED)
    assert format_hours(hours) == (
        "lu-ma 08:30-12:00,13:30-17:30; me 08:30-12:00; je-ve 08:30-12:00,13:30-17:30"
    )
    apart = parse_hours("lu,me 09:00-12:00")
    assert format_hours(apart) == "lu 09:00-12:00; me 09:00-12:00"
    every_day = parse_hours("mo-su 9h-18h")
    assert format_hours(every_day) == "lu-di 09:00-18:00"


def test_canonical_round_trip() -> None:
    text = "lu-ve 08:30-12:00,13:30-17:30; sa 09:00-12:00"
    assert format_hours(parse_hours(text)) == text
    messy = "Mo-Fr 8h30-12h, 13h30-17h30 ; Saturday 9h-12h"
    assert format_hours(parse_hours(messy)) == text


@st.composite
def weekly_hours(draw: st.DrawFn) -> WeeklyHours:
    """Random valid weeks: per day, sorted minute marks paired into ranges (may touch)."""
    days: list[tuple[Interval, ...]] = []
    for _ in range(7):
        marks = sorted(draw(st.lists(st.integers(0, 1440), max_size=8, unique=True)))
        if len(marks) % 2:
            marks.pop()
        touching = draw(st.booleans())
        intervals: list[Interval] = []
        for start, end in zip(marks[::2], marks[1::2], strict=True):
            if touching and intervals and intervals[-1].end != END_OF_DAY:
                start = intervals[-1].end.hour * 60 + intervals[-1].end.minute
            intervals.append(
                Interval(
                    time(start // 60, start % 60),
                    END_OF_DAY if end == 1440 else time(end // 60, end % 60),
                )
            )
        days.append(tuple(intervals))
    # Identical neighbours exercise the grouping into ranges.
    if draw(st.booleans()):
        days[1] = days[2] = days[0]
    return WeeklyHours(tuple(days))


@settings(max_examples=150, deadline=None)
@given(weekly_hours())
def test_format_parse_round_trip_property(hours: WeeklyHours) -> None:
    text = format_hours(hours)
    assert parse_hours(text) == hours
    assert format_hours(parse_hours(text)) == text


@settings(max_examples=80, deadline=None)
@given(weekly_hours())
def test_english_and_upper_case_spellings_parse_the_same(hours: WeeklyHours) -> None:
    text = format_hours(hours)
    english = text
    # Replace day abbreviations inside the DAYS part of each rule only.
    rules = []
    for rule in english.split("; ") if english else []:
        days, times = rule.split(" ", 1)
        for fr, en in zip(FR_DAYS, EN_DAYS, strict=True):
            days = days.replace(fr, en)
        rules.append(f"{days.upper()} {times.replace(':', 'h')}")
    assert parse_hours("; ".join(rules)) == hours
