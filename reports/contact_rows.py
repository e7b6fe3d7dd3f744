"""Contact-level export rows straight from the database's per-contact facts.

    storage.contact_facts.stream_facts (one query per range of contact ids, server-side
    cursor, partitions of 5,000 rows), read ahead by a task of its own (``_read_ahead``:
    the database computes the next partitions while these are written)
      --> each partition column-wise (a tuple per facts column)
      |-- not detailed: each export column computed over the whole partition at once
      |   (comprehensions, no per-row function)
      '-- detailed (phone, grid answers, content checks): storage.stats.stream_contact_rows
          for those ids, then reports.stored_facts.contact_facts +
          reports.export_tables.contact_row, the rules as written, set in place
      --> ``contact_columns``: a partition's columns in ``CONTACT_COLUMNS`` order
          (``contact_values``: the same row by row); instants as integer microseconds
          since 1970-01-01 UTC (each writer renders them: ``paris_texts`` for CSV and JSON)

Same rows as ``contact_row(row, contact_facts(row))`` for every contact
(``tests/reports/test_contact_rows.py`` compares whole files on random campaigns). A contact
that is not detailed has no grid answer, no content check, no photo and no hold: its
criteria columns are 0 / empty and its hold 0 when picked up, as the Python rules give.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from reports.db_stats import epoch_us, load_calendar, targets_of
from reports.export_tables import contact_row
from reports.facts import CountingCalendar
from reports.stored_facts import contact_facts
from reports.strata import stratum_labels
from scenarios.catalog import Catalog
from storage.business_days import drop_business_days
from storage.contact_facts import stream_facts
from storage.stats import CampaignInfo, actor_keys, stream_contact_rows

__all__ = [
    "contact_columns",
    "contact_values",
    "cycles_uncollected",
    "paris_text",
    "paris_texts",
    "utc_datetime",
]

T = TypeVar("T")
PARIS: Final = ZoneInfo("Europe/Paris")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR_US: Final = 3_600_000_000
# Partitions of facts read ahead (``_read_ahead``): 4 x 5,000 contacts.
AHEAD: Final = 4
_HOURS: dict[int, tuple[str, str] | tuple[()]] = {}


_GC_LOCK: Final = threading.Lock()
_gc_holders = 0  # exports running with the collector paused (threads of the web server)
_gc_was_enabled = True


@contextlib.contextmanager
def cycles_uncollected() -> Iterator[None]:
    """The cyclic garbage collector off for the block, back as it was after: an export
    makes millions of acyclic objects (rows, texts) that reference counting frees, and
    each collection the allocations trigger walks every object alive in the process (at a
    million contacts: 5 to 6 s of collections, none freeing anything of the export's).

    The collector's switch is process-wide and the web server runs downloads in threads:
    the first export to enter pauses it and the last to leave puts it back as the first
    found it, so overlapping exports never leave it off."""
    global _gc_holders, _gc_was_enabled
    with _GC_LOCK:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


def utc_datetime(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _hour(hour: int) -> tuple[str, str] | tuple[()]:
    """The text around the minutes of the instants of UTC hour ``hour`` in Paris: the
    local ``YYYY-MM-DDTHH:`` and the offset ``+01:00``; ``()`` when the offset is not a
    whole number of hours (Paris before 1911), where only zoneinfo will do."""
    local = utc_datetime(hour * _HOUR_US).astimezone(PARIS)
    offset = local.utcoffset()
    whole = offset is not None and offset.total_seconds() % 3600 == 0
    text = local.isoformat()
    pieces: tuple[str, str] | tuple[()] = (text[:14], text[19:]) if whole else ()
    if len(_HOURS) > 200_000:
        _HOURS.clear()
    _HOURS[hour] = pieces
    return pieces


# "MM:SS" of every second of an hour
_MMSS: Final = tuple(f"{m:02d}:{s:02d}" for m in range(60) for s in range(60))
# ".fff" and "fff": the milliseconds and the microseconds past them
_MILLI: Final = tuple(f".{n:03d}" for n in range(1000))
_DIGITS: Final = tuple(f"{n:03d}" for n in range(1000))


def paris_text(us: int) -> str:
    """``utc_datetime(us).astimezone(PARIS).isoformat()``, cached per hour: Paris changes
    its offset only on whole UTC hours, by whole hours."""
    return _paris_text(us)


def paris_texts(values: Sequence[int | None]) -> list[str]:
    """``paris_text`` of every instant of a column, ``""`` for ``None``."""
    hours = _HOURS
    mmss = _MMSS
    milli, micro = _MILLI, _DIGITS
    # Instants of an hour already seen: one expression per value, on the whole seconds
    # since the epoch (``s``: smaller integers than the microseconds, divided once) and
    # the microseconds left (``r``); the others after.
    texts: list[str | None] = [
        ""
        if us is None
        else None
        if not (pieces := hours.get((s := us // 1_000_000) // 3600))
        else pieces[0] + mmss[s % 3600] + pieces[1]
        if not (r := us - s * 1_000_000)
        else pieces[0] + mmss[s % 3600] + milli[r // 1000] + micro[r % 1000] + pieces[1]
        for us in values
    ]
    if None in texts:
        for index, text in enumerate(texts):
            if text is None:
                texts[index] = _paris_text(values[index])  # type: ignore[arg-type]
    return texts  # type: ignore[return-value]


def _paris_text(us: int) -> str:
    hour, rest = divmod(us, _HOUR_US)
    pieces = _HOURS.get(hour) or _hour(hour)
    if not pieces:
        return utc_datetime(us).astimezone(PARIS).isoformat()
    second, micro = divmod(rest, 1_000_000)
    if micro:
        return f"{pieces[0]}{_MMSS[second]}.{micro:06d}{pieces[1]}"
    return pieces[0] + _MMSS[second] + pieces[1]


async def contact_values(
    session: AsyncSession,
    campaign: CampaignInfo,
    *,
    as_of: datetime,
    catalog: Catalog,
    strata: Sequence[int],
    columns: Sequence[str],
) -> AsyncIterator[list[Any]]:
    """Every contact's export values, by contact id, one row at a time (``contact_columns``
    turned into rows)."""
    partitions = contact_columns(
        session, campaign, as_of=as_of, catalog=catalog, strata=strata, columns=columns
    )
    async with contextlib.aclosing(partitions):  # its reading task ends with this
        async for partition in partitions:
            for row in zip(*partition, strict=True):
                yield list(row)


async def contact_columns(
    session: AsyncSession,
    campaign: CampaignInfo,
    *,
    as_of: datetime,
    catalog: Catalog,
    strata: Sequence[int],
    columns: Sequence[str],
) -> AsyncGenerator[list[Sequence[Any]], None]:
    """Every contact's export values, by contact id, a partition at a time: one list per
    column (``columns``' order, which must be ``CONTACT_COLUMNS``'), one value per contact
    (module docstring)."""
    bounds = tuple(strata)
    labels = stratum_labels(bounds)
    # Contacts outside the usual span come out unmapped and take the Python rules.
    await load_calendar(session, campaign, as_of)
    personas, auditors = await actor_keys(session)
    scenarios = catalog.scenarios
    calendars: dict[str, CountingCalendar] = {}
    datetimes = [i for i, name in enumerate(columns) if name.endswith("_at")]
    facts = stream_facts(
        session,
        campaign_id=campaign.id,
        as_of_us=epoch_us(as_of),
        campaign_closed_us=epoch_us(campaign.closed_at) if campaign.closed_at else None,
        strata=bounds,
        targets=targets_of(catalog),
    )
    connection = asyncio.Lock()  # one query at a time on the session's connection
    ahead = _read_ahead(facts, connection, AHEAD)
    try:
        async for fact in ahead:
            # Detailed contacts, and any the database flags for the Python rules to refuse
            # (clock skew) or could not map to a business day, go the reference way.
            detailed = [
                contact_id
                for contact_id, flagged, skew, unmapped in zip(
                    fact["id"], fact["detailed"], fact["skew"], fact["unmapped"], strict=True
                )
                if flagged or skew or unmapped
            ]
            reference: dict[int, list[Any]] = {}
            if detailed:
                async with connection:
                    rows = [
                        row
                        async for row in stream_contact_rows(
                            session, campaign.id, contact_ids=detailed
                        )
                    ]
                for row in rows:
                    calendar = calendars.get(row.departement)
                    if calendar is None:
                        calendar = calendars[row.departement] = CountingCalendar(row.departement)
                    computed = contact_facts(
                        row,
                        scenario=scenarios.get(row.scenario_id),
                        calendar=calendar,
                        campaign_closed_at=campaign.closed_at,
                        as_of=as_of,
                    )
                    as_dict = contact_row(row, computed, bounds)
                    values: list[Any] = [as_dict[name] for name in columns]
                    for index in datetimes:
                        if values[index] is not None:
                            values[index] = epoch_us(values[index])
                    reference[row.id] = values
            yield _columns(fact, len(fact["id"]), reference, labels, personas, auditors)
    finally:
        await ahead.aclose()  # its reading task stopped first
        await drop_business_days(session)


async def _read_ahead(
    source: AsyncGenerator[T, None], lock: asyncio.Lock, depth: int
) -> AsyncGenerator[T, None]:
    """``source``'s items, read up to ``depth`` ahead by a task of their own: the database
    computes the next partitions while this one is written. ``lock`` is held while the
    task reads; hold it too for any other query on the same connection. Closed early, it
    lets the task finish the read under way (cancelling it mid-query would break the
    connection), then closes ``source``."""
    queue: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue(depth)
    end = object()
    stop = asyncio.Event()

    async def read() -> None:
        try:
            while not stop.is_set():
                async with lock:
                    item = await anext(source, end)
                if item is end:
                    break
                await queue.put((True, item))
        except Exception as error:  # handed to the reader, raised there
            await queue.put((False, error))
        else:
            await queue.put((False, None))

    task = asyncio.create_task(read())
    try:
        while True:
            ok, item = await queue.get()
            if not ok:
                if item is not None:
                    raise item
                return
            # let the task ask for the next rows before this partition's work begins
            await asyncio.sleep(0)
            yield item
    finally:
        stop.set()
        while not task.done():
            while not queue.empty():  # a task waiting to put goes on, sees stop, ends
                queue.get_nowait()
            await asyncio.wait({task}, timeout=0.05)
        await source.aclose()


def _seconds(values: Sequence[int | None]) -> list[float | None]:
    return [None if v is None else v / 1_000_000 for v in values]


def _flags(values: Sequence[Any]) -> list[bool | None]:
    return [None if v is None else bool(v) for v in values]


def _columns(
    fact: dict[str, tuple[Any, ...]],
    n: int,
    reference: dict[int, list[Any]],
    labels: Sequence[str],
    personas: dict[int, str],
    auditors: dict[int, str],
) -> list[Sequence[Any]]:
    """The export columns of one partition of ``n`` contacts' facts (``fact``: a tuple of
    values per facts column): each column computed over the whole partition at once
    (comprehensions, no per-row function), then the rows of the contacts the Python rules
    computed (``reference``, by id) put in place."""
    status = fact["status"]
    picked = fact["picked"]
    ack = _seconds(fact["ack_delay_us"])
    answer = _seconds(fact["ans_delay_us"])
    # flags known for delivered written requests only
    known = [bool(d and w) for d, w in zip(fact["delivered"], fact["written"], strict=True)]
    nothing: list[Any] = [None] * n
    zero: list[Any] = [0] * n
    columns = [
        fact["id"], fact["channel"], fact["scenario_id"], fact["wording"], status,
        fact["service_id"], fact["service_kind"], fact["service_name"], fact["coll_code"],
        fact["coll_name"], fact["coll_kind"], fact["population"],
        [labels[s] for s in fact["stratum"]], fact["departement"], fact["region"],
        [None if p is None else personas.get(p) for p in fact["persona_id"]],
        [None if a is None else auditors.get(a) for a in fact["auditor_id"]],
        fact["planned_us"], fact["sent_us"], fact["ack_us"], fact["answer_us"],
        fact["closed_us"],
        [s == "undeliverable" for s in status],
        [(a is not None) if k else None for a, k in zip(ack, known, strict=True)],
        [(a is not None) if k else None for a, k in zip(answer, known, strict=True)],
        ack, fact["ack_bd"], answer, fact["ans_bd"], _seconds(fact["censor_us"]),
        fact["censor_bd"], fact["ack_target"], fact["answer_target"],
        _flags(fact["ack_within"]), _flags(fact["ans_within"]), fact["phone_attempts"],
        _flags(picked),
        nothing,  # rings: a grid answer (detailed contacts only)
        _seconds(fact["pickup_us"]), fact["transfers"],
        [0.0 if p else None for p in picked],  # hold: a call with a hold is detailed
        _seconds(fact["waiting_us"]), _seconds(fact["service_us"]),
        # criteria assessed, met, score, missed; content found, missing; photos
        zero, zero, nothing, nothing, nothing, nothing, zero,
    ]  # fmt: skip
    if reference:  # the rows of the Python rules, in place (columns made lists to be set)
        settable = [list(column) for column in columns]
        for index, contact_id in enumerate(fact["id"]):
            values = reference.get(contact_id)
            if values is not None:
                for column, value in zip(settable, values, strict=True):
                    column[index] = value
        return list(settable)
    return columns
