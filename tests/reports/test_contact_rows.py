"""The streamed contact export gives the rows the Python rules give, and the same files.

Oracle: ``reports.campaign_stats.contact_records`` + ``contact_row`` (facts per contact in
Python). Compared on random campaigns (``tests/reports/random_campaigns.py``) on SQLite and
PostgreSQL: every value with its type, then the CSV and JSON files byte for byte.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from reports import exports
from reports.campaign_stats import contact_records, shipped_catalog
from reports.contact_rows import PARIS, contact_values, paris_text, paris_texts, utc_datetime
from reports.db_stats import epoch_us
from reports.export_profiles import PROFILES, local_texts
from reports.export_tables import CONTACT_COLUMNS, contact_row
from reports.spreadsheet import csv_value
from reports.strata import DEFAULT_STRATA
from reports.writers import _NumberFields, _plain, _TextFields, flat_sink
from scenarios.i18n import Translator
from storage import contact_facts
from storage.db import Database
from storage.models import Collectivity, Service
from storage.stats import CampaignInfo, campaign_info
from tests.reports.random_campaigns import random_campaign

AS_OF = datetime(2026, 4, 14, 12, 0, tzinfo=UTC)
NAMES = [c.name for c in CONTACT_COLUMNS]


def test_paris_text_is_isoformat_in_paris() -> None:
    rnd = random.Random(3)
    base = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)  # spring forward at 01:00 UTC
    instants = [
        base + timedelta(microseconds=rnd.randrange(3 * 86_400 * 10**6)) for _ in range(3000)
    ]
    instants += [
        datetime(2026, 10, 25, 0, 59, 59, tzinfo=UTC),
        datetime(2026, 10, 25, 1, tzinfo=UTC),
    ]
    instants += [datetime(2026, 7, 1, h, tzinfo=UTC) for h in range(24)]
    for at in instants:
        assert paris_text(epoch_us(at)) == at.astimezone(PARIS).isoformat()


async def _reference(database: Database, info: CampaignInfo) -> list[list[Any]]:
    out = []
    async with database.session() as s:
        async for row, facts in contact_records(s, info, as_of=AS_OF, catalog=shipped_catalog()):
            values = contact_row(row, facts)
            out.append(
                [
                    epoch_us(v) if isinstance(v, datetime) else v
                    for v in (values[name] for name in NAMES)
                ]
            )
    return out


@pytest.mark.parametrize("seed", range(4))
async def test_streamed_rows_equal_the_python_rules(
    database: Database, tmp_path: Path, seed: int
) -> None:
    # Seed 3's window is far from its contacts: every one of them is then outside the
    # business-day table and must come out of the Python rules, the same.
    window = (date(2027, 1, 4), date(2027, 1, 29)) if seed == 3 else None
    async with database.session() as s:
        if window:
            await random_campaign(s, shipped_catalog(), seed, contacts=120, window=window)
        else:
            await random_campaign(s, shipped_catalog(), seed, contacts=120)
    async with database.session() as s:
        info = await campaign_info(s, f"random-{seed}")
        assert info is not None
        fast = [
            values
            async for values in contact_values(
                s,
                info,
                as_of=AS_OF,
                catalog=shipped_catalog(),
                strata=DEFAULT_STRATA,
                columns=NAMES,
            )
        ]
    slow = await _reference(database, info)
    assert len(fast) == len(slow) == 120
    for mine, theirs in zip(fast, slow, strict=True):
        assert mine == theirs
        assert [type(v) for v in mine] == [type(v) for v in theirs], mine[0]

    for fmt, profile in (("csv", "raw"), ("csv", "excel"), ("json", "raw")):
        await _same_file(database, info, tmp_path, fmt, profile)


async def _same_file(
    database: Database, info: CampaignInfo, tmp_path: Path, fmt: str, profile: str
) -> bytes:
    """The export (streamed, column-wise) and the Python rules' rows written one at a time
    through the sink's ``write`` (dict rows): the same bytes."""
    out = tmp_path / f"contacts-{profile}.{fmt}"
    async with database.session() as s:
        await exports.export(
            s, info, fmt=fmt, level="contacts", out=out, generated_at=AS_OF, profile=profile
        )
    reference = tmp_path / f"reference-{profile}.{fmt}"
    meta = exports.ExportMeta(info, AS_OF, AS_OF, "contacts", fmt, profile=profile).as_dict(
        CONTACT_COLUMNS
    )
    with reference.open("wb") as stream:  # the sinks write to a stream (reports.outputs)
        sink = flat_sink(stream, fmt, CONTACT_COLUMNS, meta, PROFILES[profile], Translator("fr"))
        async with database.session() as s:
            async for row, facts in contact_records(
                s, info, as_of=AS_OF, catalog=shipped_catalog()
            ):
                sink.write(contact_row(row, facts))
        sink.close()
    assert out.read_bytes() == reference.read_bytes(), (fmt, profile)
    return out.read_bytes()


# Texts a spreadsheet would run, or that the CSV must quote, or both.
HOSTILE = (
    '=HYPERLINK("http://x";"clic")',
    "+cmd|' /C calc'!A0",
    "  -2+3",
    "@SUM(A1)",
    "\t=1",
    "\uff1d1",
    "Saint-Jean; « Bourg »",
    'La "Mairie", annexe',
    "ligne\r\nsuivante",
    "fin\r",
    "",
    " ",
    "Î",
)


async def test_ranges_and_hostile_texts_give_the_same_files(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Facts read in many small id ranges (``stream_facts``), names that need neutralising
    and quoting: the CSV of both profiles and the JSON are the Python rules' rows, byte for
    byte; and the file does not depend on the range size."""
    async with database.session() as s:
        await random_campaign(s, shipped_catalog(), 5, contacts=150)
        await random_campaign(s, shipped_catalog(), 6, contacts=40)  # ids interleaved below
        colls = (await s.execute(select(Collectivity).order_by(Collectivity.id))).scalars()
        for index, coll in enumerate(colls):
            coll.name = HOSTILE[index % len(HOSTILE)]
        services = (await s.execute(select(Service).order_by(Service.id))).scalars()
        for index, service in enumerate(services):
            service.name = HOSTILE[(index + 5) % len(HOSTILE)]
        await s.commit()
    async with database.session() as s:
        info = await campaign_info(s, "random-5")
        assert info is not None
    whole = {
        (fmt, profile): await _same_file(database, info, tmp_path, fmt, profile)
        for fmt, profile in (("csv", "raw"), ("csv", "excel"), ("json", "raw"))
    }
    monkeypatch.setattr(contact_facts, "RANGE_ROWS", 7)
    for (fmt, profile), data in whole.items():
        assert await _same_file(database, info, tmp_path, fmt, profile) == data
    text = whole[("csv", "raw")].decode()
    assert text.count("\r\n") == 151 + text.count("ligne\r\n")  # header, rows, quoted CRLFs
    assert "'=HYPERLINK" in text and '"La ""Mairie"", annexe"' in text


def test_text_fields_are_what_the_csv_module_writes() -> None:
    rnd = random.Random(8)
    pieces = [*HOSTILE, "a", "é", ",", ";", '"', "\n", "\r", "-", "=", "\x00", None]
    for delimiter in (",", ";"):
        fields = _TextFields(delimiter, None)
        rows = [
            [
                None if (p := rnd.choice(pieces)) is None else p + (rnd.choice(pieces) or "")
                for _ in range(6)
            ]
            for _ in range(400)
        ]
        mine = "".join(
            delimiter.join(row) + "\r\n"
            for row in zip(*map(fields, zip(*rows, strict=True)), strict=True)
        )
        theirs = io.StringIO()
        writer = csv.writer(theirs, delimiter=delimiter, lineterminator="\r\n")
        for row in rows:
            writer.writerow([csv_value(v) for v in row])
        assert mine == theirs.getvalue()


def test_instant_columns_are_zoneinfo_across_both_changes_of_time() -> None:
    rnd = random.Random(4)
    spring = datetime(2026, 3, 29, 1, tzinfo=UTC)
    autumn = datetime(2026, 10, 25, 1, tzinfo=UTC)
    instants = [
        change + timedelta(microseconds=rnd.randrange(-36 * 3600 * 10**6, 36 * 3600 * 10**6))
        for change in (spring, autumn)
        for _ in range(3000)
    ]
    instants += [
        change + timedelta(microseconds=d) for change in (spring, autumn) for d in (-1, 0, 1)
    ]
    instants += [
        datetime(1900, 1, 1, tzinfo=UTC) + timedelta(seconds=rnd.randrange(5 * 10**9))
        for _ in range(3000)
    ]  # 1900 to 2058, Paris's LMT and wartime offsets included
    instants += [
        datetime(1900, 1, 1, tzinfo=UTC) + timedelta(microseconds=rnd.randrange(5 * 10**15))
        for _ in range(3000)
    ]
    # whole seconds and milliseconds about both changes (the texts without microseconds)
    instants += [at.replace(microsecond=0) for at in instants[:6000:3]]
    instants += [at.replace(microsecond=at.microsecond // 1000 * 1000) for at in instants[1::3]]
    values: list[int | None] = [epoch_us(at) for at in instants]
    values.insert(17, None)
    rnd.shuffle(values)
    # twice: the first call fills the caches per hour and per minute, the second reads them
    for _ in range(2):
        iso = paris_texts(values)
        local = local_texts(values)
        for us, mine, minute in zip(values, iso, local, strict=True):
            if us is None:
                assert mine == minute == ""
                continue
            at = utc_datetime(us).astimezone(PARIS)
            assert mine == at.isoformat() == paris_text(us)
            assert minute == at.strftime("%d/%m/%Y %H:%M")


def test_integer_fields_are_what_the_csv_module_writes() -> None:
    rnd = random.Random(9)
    columns: list[list[int | None]] = [
        [rnd.choice([None, 0, 1, 2, -3, 10**20]) for _ in range(500)],  # repeating
        [rnd.randrange(10**9) for _ in range(500)],  # identifiers: the cache let go
        [None] * 500,
    ]
    for values in columns:
        fields = _NumberFields()
        for partition in (values, values[::-1], values[:7], []):
            theirs = io.StringIO()
            csv.writer(theirs, lineterminator="\n").writerows([v] for v in partition)
            expected = ['""' if v is None else str(v) for v in partition]
            assert theirs.getvalue().split() == expected
            assert (
                fields(partition)
                == _plain(partition)
                == ["" if v is None else str(v) for v in partition]
            )


async def test_a_reader_that_stops_early_leaves_the_session_usable(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The facts are read ahead by a task of their own (``reports.contact_rows``): a writer
    that stops after a few rows (a full disk, a closed download) stops that task, and the
    session's connection then serves the next query."""
    monkeypatch.setattr(contact_facts, "RANGE_ROWS", 7)
    async with database.session() as s:
        await random_campaign(s, shipped_catalog(), 2, contacts=80)
    async with database.session() as s:
        info = await campaign_info(s, "random-2")
        assert info is not None
        rows = contact_values(
            s, info, as_of=AS_OF, catalog=shipped_catalog(), strata=DEFAULT_STRATA, columns=NAMES
        )
        first = [await anext(rows) for _ in range(10)]
        await rows.aclose()  # type: ignore[attr-defined]
        assert [values[0] for values in first] == sorted(values[0] for values in first)
        again = await campaign_info(s, "random-2")
        assert again is not None and again.id == info.id
        every = [
            values
            async for values in contact_values(
                s, info, as_of=AS_OF, catalog=shipped_catalog(), strata=DEFAULT_STRATA,
                columns=NAMES,
            )
        ]  # fmt: skip
    assert len(every) == 80 and every[:10] == first


def test_overlapping_exports_leave_the_collector_as_they_found_it() -> None:
    """Two exports in threads (the web server's downloads) overlap: the collector stays
    off while either runs and is back on once both are done, whichever ends first."""
    import gc
    import threading

    from reports.contact_rows import cycles_uncollected

    assert gc.isenabled()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with cycles_uncollected():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with cycles_uncollected():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.isenabled())  # the first has left: still off for this one

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [False]
    assert gc.isenabled()
    gc.disable()
    try:
        with cycles_uncollected():
            pass
        assert not gc.isenabled()  # found off, left off
    finally:
        gc.enable()
