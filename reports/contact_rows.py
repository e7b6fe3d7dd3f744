"""Contact-level export rows straight from the database's per-contact facts.

    storage.contact_facts.stream_facts (server-side cursor, partitions by contact id)
      |-- not detailed: one tuple per contact from the row's own values (a few conversions)
      '-- detailed (phone, grid answers, content checks): storage.stats.stream_contact_rows
          for those ids, then reports.stored_facts.contact_facts +
          reports.export_tables.contact_row, the rules as written
      --> values in ``CONTACT_COLUMNS`` order; instants as integer microseconds since
          1970-01-01 UTC (each writer renders them: ``paris_text`` for CSV and JSON)

Same rows as ``contact_row(row, contact_facts(row))`` for every contact
(``tests/reports/test_contact_rows.py`` compares whole files on random campaigns). A contact
that is not detailed has no grid answer, no content check, no photo and no hold: its
criteria columns are 0 / empty and its hold 0 when picked up, as the Python rules give.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast
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

__all__ = ["contact_values", "paris_text", "utc_datetime"]

PARIS: Final = ZoneInfo("Europe/Paris")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR_US: Final = 3_600_000_000
_HOURS: dict[int, tuple[str, str] | None] = {}


def utc_datetime(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def paris_text(us: int) -> str:
    """``utc_datetime(us).astimezone(PARIS).isoformat()``, cached per hour: Paris changes
    its offset only on whole UTC hours, by whole hours."""
    hour = us // _HOUR_US
    cached = _HOURS.get(hour, ())
    if cached == ():
        local = utc_datetime(hour * _HOUR_US).astimezone(PARIS)
        offset = local.utcoffset()
        whole = offset is not None and offset.total_seconds() % 3600 == 0
        cached = (local.strftime("%Y-%m-%dT%H:"), local.isoformat()[19:]) if whole else None
        if len(_HOURS) > 200_000:
            _HOURS.clear()
        _HOURS[hour] = cached
    if cached is None:
        return utc_datetime(us).astimezone(PARIS).isoformat()
    prefix, offset_text = cached  # type: ignore[misc]
    minute, rest = divmod(us - hour * _HOUR_US, 60_000_000)
    second, micro = divmod(rest, 1_000_000)
    if micro:
        return f"{prefix}{minute:02d}:{second:02d}.{micro:06d}{offset_text}"
    return f"{prefix}{minute:02d}:{second:02d}{offset_text}"


async def contact_values(
    session: AsyncSession,
    campaign: CampaignInfo,
    *,
    as_of: datetime,
    catalog: Catalog,
    strata: Sequence[int],
    columns: Sequence[str],
) -> AsyncIterator[list[Any]]:
    """Every contact's export values, by contact id (module docstring)."""
    bounds = tuple(strata)
    labels = stratum_labels(bounds)
    # Contacts outside the usual span come out unmapped and take the Python rules.
    await load_calendar(session, campaign, as_of)
    personas, auditors = await actor_keys(session)
    scenarios = catalog.scenarios
    calendars: dict[str, CountingCalendar] = {}
    datetimes = [i for i, name in enumerate(columns) if name.endswith("_at")]
    try:
        async for partition in stream_facts(
            session,
            campaign_id=campaign.id,
            as_of_us=epoch_us(as_of),
            campaign_closed_us=epoch_us(campaign.closed_at) if campaign.closed_at else None,
            strata=bounds,
            targets=targets_of(catalog),
        ):
            # Detailed contacts, and any the database flags for the Python rules to refuse
            # (clock skew) or could not map to a business day, go the reference way.
            detailed = [r.id for r in partition if r.detailed or r.skew or r.unmapped]
            reference: dict[int, list[Any]] = {}
            if detailed:
                async for row in stream_contact_rows(session, campaign.id, contact_ids=detailed):
                    calendar = calendars.get(row.departement)
                    if calendar is None:
                        calendar = calendars[row.departement] = CountingCalendar(row.departement)
                    facts = contact_facts(
                        row,
                        scenario=scenarios.get(row.scenario_id),
                        calendar=calendar,
                        campaign_closed_at=campaign.closed_at,
                        as_of=as_of,
                    )
                    as_dict = contact_row(row, facts, bounds)
                    values: list[Any] = [as_dict[name] for name in columns]
                    for index in datetimes:
                        if values[index] is not None:
                            values[index] = epoch_us(values[index])
                    reference[row.id] = values
            for r in partition:
                (
                    contact_id, channel, scenario_id, status, wording, service_id,
                    service_kind, service_name, _collectivity_id, coll_code, coll_name,
                    coll_kind, population, departement, region, stratum, persona, auditor,
                    planned_us, sent_us, answer_us, ack_us, closed_us, delivered, written,
                    detailed, answer_target, ack_target, ans_delay_us, ans_bd, ack_delay_us,
                    ack_bd, censor_us, censor_bd, ans_within, ack_within, waiting_us,
                    service_us, picked, pickup_us, transfers, phone_attempts, skew, unmapped,
                ) = cast(tuple[Any, ...], r)  # fmt: skip
                if detailed or skew or unmapped:
                    yield reference[contact_id]
                    continue
                known = delivered and written
                ack = None if ack_delay_us is None else ack_delay_us / 1_000_000
                answer = None if ans_delay_us is None else ans_delay_us / 1_000_000
                yield [
                    contact_id, channel, scenario_id, wording, status, service_id,
                    service_kind, service_name, coll_code, coll_name, coll_kind, population,
                    labels[stratum], departement, region,
                    personas.get(persona) if persona is not None else None,
                    auditors.get(auditor) if auditor is not None else None,
                    planned_us, sent_us, ack_us, answer_us, closed_us,
                    status == "undeliverable",
                    (ack is not None) if known else None,
                    (answer is not None) if known else None,
                    ack, ack_bd, answer, ans_bd,
                    None if censor_us is None else censor_us / 1_000_000, censor_bd,
                    ack_target, answer_target,
                    None if ack_within is None else bool(ack_within),
                    None if ans_within is None else bool(ans_within),
                    phone_attempts,
                    None if picked is None else bool(picked),
                    None,  # rings: a grid answer (detailed contacts only)
                    None if pickup_us is None else pickup_us / 1_000_000,
                    transfers,
                    0.0 if picked else None,  # hold: a call with a hold is detailed
                    None if waiting_us is None else waiting_us / 1_000_000,
                    None if service_us is None else service_us / 1_000_000,
                    # criteria assessed, met, score, missed; content found, missing; photos
                    0, 0, None, None, None, None, 0,
                ]  # fmt: skip
    finally:
        await drop_business_days(session)
