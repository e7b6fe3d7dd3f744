"""Business calendar: holidays per département, business days, deadlines, business seconds.

Expected values are written out by hand from the calendar (weekdays, Easter dates, DST
switch dates: last Sunday of March / October in Europe/Paris), never taken from the code.

2026: Easter Sunday 5 April, so Good Friday 3 April, Easter Monday 6 April, Ascension
14 May, Whit Monday 25 May. DST: Sunday 29 March (02:00 CET -> 03:00 CEST) and Sunday
25 October (03:00 CEST -> 02:00 CET). 2027: Easter Sunday 28 March, Good Friday 26 March.
"""

from __future__ import annotations

import time as time_module
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holidays_lib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scenarios.calendar as calendar_module
from scenarios.calendar import (
    BusinessCalendar,
    UnknownDepartement,
    normalise_departement,
    subdivision_for,
    timezone_for,
)
from scenarios.opening_hours import parse_hours

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")
OFFICE = parse_hours("lu-ve 08:30-12:00,13:30-17:30")
DEPARTEMENTS = ["75", "2A", "57", "67", "68", "971", "972", "973", "974", "976"]

NATIONAL_2026 = {
    date(2026, 1, 1),
    date(2026, 4, 6),  # Easter Monday
    date(2026, 5, 1),
    date(2026, 5, 8),
    date(2026, 5, 14),  # Ascension
    date(2026, 5, 25),  # Whit Monday
    date(2026, 7, 14),
    date(2026, 8, 15),
    date(2026, 11, 1),
    date(2026, 11, 11),
    date(2026, 12, 25),
}
ABOLITION_2026 = {
    "971": date(2026, 5, 27),
    "972": date(2026, 5, 22),
    "973": date(2026, 6, 10),
    "974": date(2026, 12, 20),
    "976": date(2026, 4, 27),
}
FAST = settings(max_examples=60, deadline=None)


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- départements ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("1", "01"),
        ("01", "01"),
        (" 75 ", "75"),
        ("2a", "2A"),
        ("2B", "2B"),
        ("95", "95"),
        ("9", "09"),
        ("976", "976"),
        ("971", "971"),
        ("975", "975"),
        ("977", "977"),
        ("988", "988"),
    ],
)
def test_normalise_departement_accepts(code: str, expected: str) -> None:
    assert normalise_departement(code) == expected


@pytest.mark.parametrize(
    "code",
    ["20", "96", "00", "0", "970", "979", "985", "990", "100", "", "2C", "A", "1.0", "+1", *"²٣"],
)
def test_normalise_departement_refuses(code: str) -> None:
    with pytest.raises(UnknownDepartement, match="unknown département"):
        normalise_departement(code)
    assert issubclass(UnknownDepartement, ValueError)


SUBDIVISIONS = [
    ("67", "6AE"), ("68", "6AE"), ("57", "57"), ("75", None), ("2A", None), ("974", "974"),
    ("975", "PM"), ("977", "BL"), ("978", "MF"), ("984", "TF"), ("986", "WF"), ("987", "PF"),
    ("988", "NC"), ("989", None),
]  # fmt: skip


@pytest.mark.parametrize(("code", "expected"), SUBDIVISIONS)
def test_subdivision_for(code: str, expected: str | None) -> None:
    assert subdivision_for(code) == expected


@pytest.mark.parametrize(
    ("code", "zone", "january_offset", "july_offset"),
    [
        ("75", "Europe/Paris", 1, 2),
        ("2B", "Europe/Paris", 1, 2),
        ("57", "Europe/Paris", 1, 2),
        ("971", "America/Guadeloupe", -4, -4),
        ("972", "America/Martinique", -4, -4),
        ("973", "America/Cayenne", -3, -3),
        ("974", "Indian/Reunion", 4, 4),
        ("976", "Indian/Mayotte", 3, 3),
        ("975", "America/Miquelon", -3, -2),  # daylight saving time, as in Canada
        ("977", "America/St_Barthelemy", -4, -4),
        ("978", "America/Marigot", -4, -4),
        ("986", "Pacific/Wallis", 12, 12),
        ("987", "Pacific/Tahiti", -10, -10),
        ("988", "Pacific/Noumea", 11, 11),
    ],
)
def test_timezone_for(code: str, zone: str, january_offset: int, july_offset: int) -> None:
    tz = timezone_for(code)
    assert tz.key == zone
    assert utc(2026, 1, 15, 12).astimezone(tz).utcoffset() == timedelta(hours=january_offset)
    assert utc(2026, 7, 15, 12).astimezone(tz).utcoffset() == timedelta(hours=july_offset)


def test_calendar_normalises_its_code() -> None:
    cal = BusinessCalendar("1")
    assert cal.departement == "01"
    assert cal.subdivision is None
    with pytest.raises(UnknownDepartement):
        BusinessCalendar("20")


# --- holidays -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["75", "01", "2A", "2B", "13", "95"])
def test_national_holidays_2026(code: str) -> None:
    cal = BusinessCalendar(code)
    assert set(cal.holidays(2026)) == NATIONAL_2026
    assert cal.holiday_name(date(2026, 5, 14)) == "Ascension"
    assert cal.holiday_name(date(2026, 4, 6)) == "Lundi de Pâques"
    assert cal.holiday_name(date(2026, 5, 25)) == "Lundi de Pentecôte"
    assert cal.holiday_name(date(2026, 4, 3)) is None  # Good Friday: not here


@pytest.mark.parametrize("code", ["57", "67", "68"])
def test_alsace_moselle_holidays_2026(code: str) -> None:
    cal = BusinessCalendar(code)
    assert set(cal.holidays(2026)) == NATIONAL_2026 | {date(2026, 4, 3), date(2026, 12, 26)}
    assert not cal.is_business_day(date(2026, 4, 3))  # Good Friday, a Friday


@pytest.mark.parametrize("code", list(ABOLITION_2026))
def test_overseas_abolition_days_2026(code: str) -> None:
    cal = BusinessCalendar(code)
    found = set(cal.holidays(2026))
    assert found >= NATIONAL_2026
    assert ABOLITION_2026[code] in found
    for other, day in ABOLITION_2026.items():
        if other != code:
            assert day not in found, (code, other)
    assert date(2026, 12, 26) not in found


def test_abolition_days_are_business_days_elsewhere() -> None:
    # 22 May 2026 is a Friday, 27 May a Wednesday, 10 June a Wednesday, 27 April a Monday.
    paris_cal = BusinessCalendar("75")
    for day in (date(2026, 5, 22), date(2026, 5, 27), date(2026, 6, 10), date(2026, 4, 27)):
        assert paris_cal.is_business_day(day)
    assert not BusinessCalendar("972").is_business_day(date(2026, 5, 22))
    assert BusinessCalendar("971").is_business_day(date(2026, 5, 22))
    assert not BusinessCalendar("976").is_business_day(date(2026, 4, 27))
    assert not BusinessCalendar("973").is_business_day(date(2026, 6, 10))


def test_good_friday_2027_only_in_alsace_moselle() -> None:
    good_friday = date(2027, 3, 26)
    assert good_friday.weekday() == 4
    for code in ("57", "67", "68"):
        assert not BusinessCalendar(code).is_business_day(good_friday), code
    for code in ("75", "2A", "13", "972", "974"):
        assert BusinessCalendar(code).is_business_day(good_friday), code


def test_saint_stephen_on_a_friday() -> None:
    # 26 December 2025 is a Friday.
    assert not BusinessCalendar("67").is_business_day(date(2025, 12, 26))
    assert BusinessCalendar("75").is_business_day(date(2025, 12, 26))


@pytest.mark.parametrize(
    ("code", "expected"),
    # 2026 has 261 weekdays (52 weeks + Thursday 31 December). Weekday holidays in Paris:
    # 1 Jan Thu, 6 Apr Mon, 1 May Fri, 8 May Fri, 14 May Thu, 25 May Mon, 14 Jul Tue,
    # 11 Nov Wed, 25 Dec Fri = 9 (15 Aug is a Saturday, 1 Nov a Sunday).
    # Moselle adds 3 Apr (Fri; 26 Dec is a Saturday); Réunion's 20 Dec is a Sunday;
    # Mayotte's 27 Apr is a Monday.
    [("75", 252), ("57", 251), ("974", 252), ("976", 251)],
)
def test_business_days_in_2026(code: str, expected: int) -> None:
    cal = BusinessCalendar(code)
    assert len(cal.business_days(date(2026, 1, 1), date(2026, 12, 31))) == expected


@pytest.mark.parametrize("code", DEPARTEMENTS)
def test_weekends_are_never_business_days(code: str) -> None:
    cal = BusinessCalendar(code)
    day = date(2025, 1, 4)  # a Saturday
    assert day.weekday() == 5
    while day.year < 2028:
        assert not cal.is_business_day(day)
        assert not cal.is_business_day(day + timedelta(days=1))
        day += timedelta(days=7)


def test_a_plain_weekday_is_a_business_day() -> None:
    assert BusinessCalendar("75").is_business_day(date(2026, 5, 13))  # Wednesday


def test_datetime_refused_where_a_local_date_is_expected() -> None:
    cal = BusinessCalendar("75")
    # 14 May 2026 00:30 as a datetime would otherwise miss Ascension silently.
    instant = datetime(2026, 5, 14, 0, 30, tzinfo=UTC)
    with pytest.raises(TypeError):
        cal.is_business_day(instant)
    with pytest.raises(TypeError):
        cal.holiday_name(instant)
    with pytest.raises(TypeError):
        cal.add_business_days(instant, 1)


def test_for_departement_is_cached() -> None:
    assert BusinessCalendar.for_departement("57") is BusinessCalendar.for_departement("57")
    assert BusinessCalendar.for_departement("57").subdivision == "57"


def test_holidays_copy_does_not_leak() -> None:
    cal = BusinessCalendar("75")
    cal.holidays(2026).clear()
    assert not cal.is_business_day(date(2026, 5, 14))


def test_holidays_computed_once_per_subdivision_and_year(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[object, object]] = []
    real = holidays_lib.country_holidays

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append((kwargs.get("subdiv"), kwargs.get("years")))
        return real(*args, **kwargs)

    monkeypatch.setattr(holidays_lib, "country_holidays", counting)
    calendar_module._holidays.cache_clear()
    try:
        first, second = BusinessCalendar("57"), BusinessCalendar("57")
        for cal in (first, second):
            for offset in range(365):
                cal.is_business_day(date(2026, 1, 1) + timedelta(days=offset))
        assert calls == [("57", 2026)]
        first.is_business_day(date(2027, 1, 4))
        BusinessCalendar("67").is_business_day(date(2026, 1, 5))
        BusinessCalendar("68").is_business_day(date(2026, 1, 5))  # same subdivision 6AE
        assert calls == [("57", 2026), ("57", 2027), ("6AE", 2026)]
    finally:
        calendar_module._holidays.cache_clear()


def test_is_business_day_is_fast() -> None:
    cal = BusinessCalendar("57")
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(730)]
    started = time_module.perf_counter()
    for _ in range(100):
        for day in days:
            cal.is_business_day(day)
    elapsed = time_module.perf_counter() - started
    # 73,000 calls; about 10 ms on a laptop. The bound only catches a lost cache.
    assert elapsed < 2.0


# --- adding and counting business days ------------------------------------------------------


def test_add_business_days_over_may_2026() -> None:
    cal = BusinessCalendar("75")
    thursday = date(2026, 5, 7)
    # Fri 8 May (holiday), Mon 11, Tue 12, Wed 13, Thu 14 (Ascension), Fri 15, Mon 18.
    assert cal.add_business_days(thursday, 1) == date(2026, 5, 11)
    assert cal.add_business_days(thursday, 3) == date(2026, 5, 13)
    assert cal.add_business_days(thursday, 4) == date(2026, 5, 15)
    assert cal.add_business_days(thursday, 5) == date(2026, 5, 18)
    assert cal.add_business_days(date(2026, 5, 14), 0) == date(2026, 5, 14)


def test_add_business_days_around_easter_2027() -> None:
    thursday = date(2027, 3, 25)
    assert BusinessCalendar("75").add_business_days(thursday, 1) == date(2027, 3, 26)
    # Moselle: Good Friday 26 March and Easter Monday 29 March are holidays.
    assert BusinessCalendar("57").add_business_days(thursday, 1) == date(2027, 3, 30)
    assert BusinessCalendar("57").add_business_days(date(2027, 3, 30), -1) == thursday
    assert BusinessCalendar("75").add_business_days(date(2027, 3, 30), -1) == date(2027, 3, 26)


@FAST
@given(
    day=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    count=st.integers(min_value=0, max_value=30),
    code=st.sampled_from(DEPARTEMENTS),
)
def test_add_business_days_property(day: date, count: int, code: str) -> None:
    cal = BusinessCalendar.for_departement(code)
    result = cal.add_business_days(day, count)
    assert result >= day
    if count > 0:
        assert cal.is_business_day(result)
        # Going back from a business day lands on the last business day not after ``day``.
        back = cal.add_business_days(result, -count)
        assert back <= day
        assert not cal.business_days(back + timedelta(days=1), day)
    assert len(cal.business_days(day + timedelta(days=1), result)) == count


def test_business_days_between_conventions() -> None:
    cal = BusinessCalendar("75")
    friday = paris(2026, 1, 9, 16, 0)
    assert cal.business_days_between(friday, paris(2026, 1, 12, 9, 0)) == 1  # Monday
    assert cal.business_days_between(friday, paris(2026, 1, 10, 9, 0)) == 0  # Saturday
    assert cal.business_days_between(friday, paris(2026, 1, 9, 23, 59)) == 0  # same day
    assert cal.business_days_between(friday, paris(2026, 1, 8, 9, 0)) == 0  # backwards
    assert cal.business_days_between(friday, paris(2026, 1, 16, 9, 0)) == 5  # next Friday
    # Across Ascension: Wed 13 May -> Fri 15 May counts Friday only.
    assert cal.business_days_between(paris(2026, 5, 13, 10, 0), paris(2026, 5, 15, 10, 0)) == 1
    # Alsace: Thu 2 April 2026 -> Tue 7 April: Good Friday and Easter Monday skipped.
    start, end = paris(2026, 4, 2, 10, 0), paris(2026, 4, 7, 10, 0)
    assert cal.business_days_between(start, end) == 2  # Fri 3, Tue 7
    assert BusinessCalendar("67").business_days_between(start, end) == 1


def test_business_days_between_uses_local_dates() -> None:
    paris_cal, reunion_cal = BusinessCalendar("75"), BusinessCalendar("974")
    # Thursday 8 January 2026 23:30 UTC is already Friday 00:30 in Paris.
    start, end = utc(2026, 1, 8, 23, 30), utc(2026, 1, 9, 12, 0)
    assert paris_cal.business_days_between(start, end) == 0
    # In Réunion (UTC+4) Thursday 20:30 UTC is Friday 00:30; Monday 12 January 05:00 UTC
    # is Monday 09:00 there.
    assert reunion_cal.business_days_between(utc(2026, 1, 8, 20, 30), utc(2026, 1, 12, 5)) == 1
    # The same instants in Paris: Thursday 21:30 -> Monday 06:00: Friday and Monday.
    assert paris_cal.business_days_between(utc(2026, 1, 8, 20, 30), utc(2026, 1, 12, 5)) == 2


def test_naive_instants_refused() -> None:
    cal = BusinessCalendar("75")
    naive = datetime(2026, 1, 9, 10, 0)
    with pytest.raises(ValueError, match="naive"):
        cal.local_date(naive)
    with pytest.raises(ValueError, match="naive"):
        cal.business_days_between(naive, utc(2026, 1, 12))
    with pytest.raises(ValueError, match="naive"):
        cal.business_seconds_between(utc(2026, 1, 8), naive)
    with pytest.raises(ValueError, match="naive"):
        cal.deadline(naive, 1)


# --- deadlines ------------------------------------------------------------------------------


def test_deadline_before_ascension() -> None:
    cal = BusinessCalendar("75")
    thursday = paris(2026, 5, 7, 10, 0)
    # 5th business day after Thu 7 May is Mon 18 May; it ends at Tue 19 May 00:00 CEST.
    assert cal.deadline(thursday, 5) == utc(2026, 5, 18, 22, 0)
    assert cal.deadline(thursday, 0) == utc(2026, 5, 7, 22, 0)
    assert cal.deadline(thursday, 1) == utc(2026, 5, 11, 22, 0)
    assert cal.deadline(thursday, 5).tzinfo is UTC


def test_deadline_offsets_follow_dst_and_zone() -> None:
    paris_cal = BusinessCalendar("75")
    # Winter: Friday 9 Jan + 1 -> end of Monday 12 Jan = 13 Jan 00:00 CET.
    assert paris_cal.deadline(paris(2026, 1, 9, 15, 0), 1) == utc(2026, 1, 12, 23, 0)
    # Across the March switch: Thu 26 March + 2 -> end of Monday 30 March (CEST).
    assert paris_cal.deadline(paris(2026, 3, 26, 15, 0), 2) == utc(2026, 3, 30, 22, 0)
    # Across the October switch: Thu 22 October + 2 -> end of Monday 26 October (CET).
    assert paris_cal.deadline(paris(2026, 10, 22, 15, 0), 2) == utc(2026, 10, 26, 23, 0)
    # Réunion (UTC+4, no DST): end of Monday 30 March = 30 March 20:00 UTC.
    reunion = datetime(2026, 3, 26, 15, 0, tzinfo=REUNION)
    assert BusinessCalendar("974").deadline(reunion, 2) == utc(2026, 3, 30, 20, 0)


def test_deadline_refuses_negative_counts() -> None:
    with pytest.raises(ValueError):
        BusinessCalendar("75").deadline(utc(2026, 1, 9), -1)


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@FAST
@given(
    start=instants,
    count=st.integers(min_value=0, max_value=15),
    later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
    code=st.sampled_from(DEPARTEMENTS),
)
def test_deadline_agrees_with_business_days_between(
    start: datetime, count: int, later: timedelta, code: str
) -> None:
    cal = BusinessCalendar.for_departement(code)
    limit = cal.deadline(start, count)
    answer = start + later
    counted = cal.business_days_between(start, answer)
    local = answer.astimezone(cal.tz)
    if answer < limit:
        assert counted <= count
    else:
        assert counted >= count
        if cal.is_business_day(local.date()):
            assert counted > count
    # The deadline is a local midnight.
    assert limit.astimezone(cal.tz).time() == time(0, 0)


# --- local wall times -----------------------------------------------------------------------


def test_local_instant_plain_days() -> None:
    cal = BusinessCalendar("75")
    assert cal.local_instant(date(2026, 1, 15), time(9, 0)) == utc(2026, 1, 15, 8, 0)
    assert cal.local_instant(date(2026, 7, 15), time(9, 0)) == utc(2026, 7, 15, 7, 0)
    assert cal.local_instant(date(2026, 7, 15), time(9, 0)).tzinfo is UTC


def test_local_instant_in_the_spring_forward_gap() -> None:
    # 29 March 2026: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist. It moves forward
    # by the gap: 03:30 CEST = 01:30 UTC.
    got = BusinessCalendar("75").local_instant(date(2026, 3, 29), time(2, 30))
    assert got == utc(2026, 3, 29, 1, 30)
    assert got.astimezone(PARIS).time() == time(3, 30)
    # Réunion has no DST: 02:30 there is 22:30 UTC the day before.
    reunion = BusinessCalendar("974").local_instant(date(2026, 3, 29), time(2, 30))
    assert reunion == utc(2026, 3, 28, 22, 30)


def test_local_instant_at_the_fall_back_ambiguity() -> None:
    # 25 October 2026: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice. We pick the
    # first occurrence (fold=0, Python's default): 02:30 CEST = 00:30 UTC.
    cal = BusinessCalendar("75")
    assert cal.local_instant(date(2026, 10, 25), time(2, 30)) == utc(2026, 10, 25, 0, 30)
    # An explicit fold=1 asks for the second one: 02:30 CET = 01:30 UTC.
    assert cal.local_instant(date(2026, 10, 25), time(2, 30, fold=1)) == utc(2026, 10, 25, 1, 30)


# --- business seconds -----------------------------------------------------------------------


def test_business_seconds_over_the_march_weekend_in_paris() -> None:
    cal = BusinessCalendar("75")
    # Friday 27 March 17:00 CET = 16:00 UTC; Monday 30 March 09:00 CEST = 07:00 UTC.
    start, end = utc(2026, 3, 27, 16, 0), utc(2026, 3, 30, 7, 0)
    assert start.astimezone(PARIS).time() == time(17, 0)
    assert end.astimezone(PARIS).time() == time(9, 0)
    assert (end - start) == timedelta(hours=63)  # the weekend lost an hour
    # Opening hours: Friday 17:00-17:30 and Monday 08:30-09:00.
    assert cal.business_seconds_between(start, end, OFFICE) == 3600
    # Whole business days: Friday 17:00-24:00 (7 h) and Monday 00:00-09:00 (9 h).
    assert cal.business_seconds_between(start, end) == 16 * 3600
    # 00:00-24:00 on weekdays is the same as no opening hours (no second lost at midnight).
    all_day = parse_hours("lu-ve 00:00-24:00")
    assert cal.business_seconds_between(start, end, all_day) == 16 * 3600


def test_business_seconds_over_the_march_weekend_in_reunion() -> None:
    cal = BusinessCalendar("974")
    # The same local wall times in Réunion (UTC+4 all year): 13:00 UTC -> 05:00 UTC.
    start, end = utc(2026, 3, 27, 13, 0), utc(2026, 3, 30, 5, 0)
    assert (end - start) == timedelta(hours=64)  # no DST shift
    assert cal.business_seconds_between(start, end, OFFICE) == 3600
    assert cal.business_seconds_between(start, end) == 16 * 3600
    # The Paris instants seen from Réunion: Friday 20:00 -> Monday 11:00 local.
    paris_start, paris_end = utc(2026, 3, 27, 16, 0), utc(2026, 3, 30, 7, 0)
    assert cal.business_seconds_between(paris_start, paris_end) == (4 + 11) * 3600
    assert cal.business_seconds_between(paris_start, paris_end, OFFICE) == 9000  # 08:30-11:00


def test_business_seconds_over_the_october_weekend_in_paris() -> None:
    cal = BusinessCalendar("75")
    # Friday 23 October 17:00 CEST = 15:00 UTC; Monday 26 October 09:00 CET = 08:00 UTC.
    start, end = utc(2026, 10, 23, 15, 0), utc(2026, 10, 26, 8, 0)
    assert (end - start) == timedelta(hours=65)
    assert cal.business_seconds_between(start, end, OFFICE) == 3600
    assert cal.business_seconds_between(start, end) == 16 * 3600


def test_business_seconds_over_a_week_with_good_friday() -> None:
    # Monday 30 March 00:00 CEST -> Saturday 4 April 00:00 CEST: 7.5 h a day.
    start, end = utc(2026, 3, 29, 22, 0), utc(2026, 4, 3, 22, 0)
    assert BusinessCalendar("75").business_seconds_between(start, end, OFFICE) == 5 * 27000
    assert BusinessCalendar("57").business_seconds_between(start, end, OFFICE) == 4 * 27000
    assert BusinessCalendar("57").business_seconds_between(start, end) == 4 * 86400


def test_business_seconds_partial_spans() -> None:
    cal = BusinessCalendar("75")
    # Tuesday 13 January 2026 (CET, UTC+1). 11:00 -> 14:00 local: 11:00-12:00 + 13:30-14:00.
    assert cal.business_seconds_between(utc(2026, 1, 13, 10), utc(2026, 1, 13, 13), OFFICE) == (
        5400
    )
    # Inside the lunch break: nothing.
    assert cal.business_seconds_between(
        utc(2026, 1, 13, 11, 5), utc(2026, 1, 13, 12, 25), OFFICE
    ) == (0)
    # Backwards or empty spans: nothing.
    assert cal.business_seconds_between(utc(2026, 1, 13, 13), utc(2026, 1, 13, 10)) == 0
    assert cal.business_seconds_between(utc(2026, 1, 13, 13), utc(2026, 1, 13, 13)) == 0
    # Saturday hours never count: Saturday is not a business day.
    saturday_open = parse_hours("lu-sa 09:00-12:00")
    saturday = utc(2026, 1, 17, 0), utc(2026, 1, 18, 0)
    assert cal.business_seconds_between(*saturday, saturday_open) == 0
    assert cal.business_seconds_between(*saturday) == 0


def test_business_seconds_floor_fractions() -> None:
    cal = BusinessCalendar("75")
    start = datetime(2026, 1, 13, 10, 0, 0, 500_000, tzinfo=UTC)
    end = datetime(2026, 1, 13, 10, 0, 2, 200_000, tzinfo=UTC)
    assert cal.business_time_between(start, end) == timedelta(seconds=1, microseconds=700_000)
    assert cal.business_seconds_between(start, end) == 1


def test_no_second_counted_twice_around_a_spring_forward_gap() -> None:
    # Sunday is never a business day, so this is only reachable through the span helper:
    # 01:00-02:30 ends at 03:30 CEST (02:30 does not exist), after 03:15 opens again.
    cal = BusinessCalendar("75")
    hours = parse_hours("di 01:00-02:30,03:15-04:00")
    spans = list(cal._open_spans(date(2026, 3, 29), hours))
    assert spans == [
        (utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 30)),
        (utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 2, 0)),
    ]


def _minute_oracle(
    cal: BusinessCalendar, start: datetime, end: datetime, hours_text: str | None
) -> int:
    """Business minutes counted one UTC minute at a time, looking at the local wall clock."""
    hours = parse_hours(hours_text) if hours_text is not None else None
    count = 0
    minute = start
    while minute < end:
        local = minute.astimezone(cal.tz)
        if local.weekday() < 5 and cal.holiday_name(local.date()) is None:
            if hours is None:
                count += 1
            else:
                wall = local.time().replace(tzinfo=None)
                for interval in hours.on(local.weekday()):
                    # END_OF_DAY is time.max: any whole minute of the day is before it.
                    if interval.start <= wall < interval.end:
                        count += 1
                        break
        minute += timedelta(minutes=1)
    return count


HOURS_TEXTS = [
    None,
    "lu-ve 08:30-12:00,13:30-17:30",
    "lu,me,ve 09:00-12:00; ma,je 14:00-24:00",
    "lu-di 00:00-02:00,23:00-24:00",
    "lu-ve 00:00-24:00",
]


@settings(max_examples=40, deadline=None)
@given(
    code=st.sampled_from(["75", "57", "974", "971"]),
    # Minute instants within a week either side of the March and October 2026 switches.
    anchor=st.sampled_from([utc(2026, 3, 24), utc(2026, 10, 20), utc(2026, 5, 11)]),
    first=st.integers(min_value=0, max_value=8 * 24 * 60),
    length=st.integers(min_value=0, max_value=4 * 24 * 60),
    hours_text=st.sampled_from(HOURS_TEXTS),
)
def test_business_seconds_match_a_minute_by_minute_oracle(
    code: str, anchor: datetime, first: int, length: int, hours_text: str | None
) -> None:
    cal = BusinessCalendar.for_departement(code)
    start = anchor + timedelta(minutes=first)
    end = start + timedelta(minutes=length)
    hours = parse_hours(hours_text) if hours_text is not None else None
    expected = 60 * _minute_oracle(cal, start, end, hours_text)
    assert cal.business_seconds_between(start, end, hours) == expected


@FAST
@given(
    code=st.sampled_from(DEPARTEMENTS),
    a=instants,
    steps=st.tuples(
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    ),
    hours_text=st.sampled_from(HOURS_TEXTS),
)
def test_business_time_is_additive(
    code: str, a: datetime, steps: tuple[timedelta, timedelta], hours_text: str | None
) -> None:
    cal = BusinessCalendar.for_departement(code)
    hours = parse_hours(hours_text) if hours_text is not None else None
    b = a + steps[0]
    c = b + steps[1]
    whole = cal.business_time_between(a, c, hours)
    assert whole == cal.business_time_between(a, b, hours) + cal.business_time_between(b, c, hours)
    assert timedelta(0) <= whole <= c - a
    # Whole seconds: floored separately, each half loses less than a second.
    split = cal.business_seconds_between(a, b, hours) + cal.business_seconds_between(b, c, hours)
    assert cal.business_seconds_between(a, c, hours) - split in (0, 1)
    # On whole-second instants the seconds are exactly additive.
    a0, b0, c0 = (x.replace(microsecond=0) for x in (a, b, c))
    assert cal.business_seconds_between(a0, c0, hours) == cal.business_seconds_between(
        a0, b0, hours
    ) + cal.business_seconds_between(b0, c0, hours)


def test_offsets_other_than_utc_are_accepted() -> None:
    cal = BusinessCalendar("75")
    plus_two = timezone(timedelta(hours=2))
    # Tuesday 13 January 2026 11:00 UTC is 13:00+02:00 and 12:00 in Paris.
    start = datetime(2026, 1, 13, 13, 0, tzinfo=plus_two)
    assert cal.local_date(start) == date(2026, 1, 13)
    assert cal.business_seconds_between(start, utc(2026, 1, 13, 13), OFFICE) == 1800
