"""Collectivities and services: the idempotent upsert of an import, and small queries.

``upsert_directory`` writes what ``scenarios.directory.parse_directory`` validated, inside
the caller's unit of work: it loads the collectivities named by the records (one query per
few thousand codes) and their services (likewise), compares field by field, inserts what is
new and updates in place what changed. A row whose values are all equal is left untouched,
``updated_at`` included, so importing the same file twice changes nothing. Keys:
collectivity by ``insee_code`` (the SIREN for EPCI, départements and régions), service by
(collectivity, kind, name). Nothing is ever deleted: a service missing from the file stays.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from scenarios.clock import require_utc
from scenarios.directory import CollectivityRecord, ImportResult
from storage.models import Collectivity, Service

# Both drivers take far more bound parameters than this; chunks keep huge files safe.
_CHUNK = 5000

_COLLECTIVITY_FIELDS = ("name", "kind", "population", "departement", "region")
_SERVICE_FIELDS = (
    "email", "phone", "address", "postal_code", "city", "opening_hours", "latitude", "longitude",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ImportCounts:
    collectivities_created: int = 0
    collectivities_updated: int = 0
    collectivities_unchanged: int = 0
    services_created: int = 0
    services_updated: int = 0
    services_unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.collectivities_created
            or self.collectivities_updated
            or self.services_created
            or self.services_updated
        )


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _apply(row: Collectivity | Service, wanted: dict[str, Any], now: datetime) -> bool:
    """Set the attributes that differ; bump ``updated_at`` only when one did."""
    changed = False
    for name, value in wanted.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed:
        row.updated_at = now
    return changed


def _collectivity_values(record: CollectivityRecord) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(record, name) for name in _COLLECTIVITY_FIELDS}
    values["kind"] = record.kind.value
    if record.siren is not None:  # a commune's SIREN, set by someone else, is kept
        values["siren"] = record.siren
    return values


async def upsert_directory(
    session: AsyncSession, records: ImportResult, now: datetime
) -> ImportCounts:
    """Insert or update the records of a valid import; see the module docstring.

    Runs in the caller's unit of work: nothing is committed here, and an exception leaves
    the caller's rollback to undo everything. An import with errors is refused.
    """
    if not records.ok:
        raise ValueError(f"refusing to write an import with {len(records.errors)} errors")
    now = require_utc(now)
    collectivities, services = records.collectivities, records.services
    codes = list(dict.fromkeys(record.insee_code for record in collectivities))
    existing: dict[str, Collectivity] = {}
    for chunk in _chunks(codes):
        rows = await session.scalars(select(Collectivity).where(Collectivity.insee_code.in_(chunk)))
        existing.update((row.insee_code, row) for row in rows)

    created = updated = 0
    by_code: dict[str, Collectivity] = {}
    for record in collectivities:
        values = _collectivity_values(record)
        row = existing.get(record.insee_code)
        if row is None:
            row = Collectivity(insee_code=record.insee_code, created_at=now, updated_at=now)
            for name, value in values.items():
                setattr(row, name, value)
            session.add(row)
            created += 1
        elif _apply(row, values, now):
            updated += 1
        by_code[record.insee_code] = row
    await session.flush()  # ids for the new collectivities

    ids = [row.id for code, row in by_code.items() if code in existing]
    known: dict[tuple[int, str, str], Service] = {}
    for chunk in _chunks(ids):
        found = await session.scalars(select(Service).where(Service.collectivity_id.in_(chunk)))
        known.update(((svc.collectivity_id, svc.kind, svc.name), svc) for svc in found)

    s_created = s_updated = 0
    for service in services:
        parent = by_code[service.insee_code]
        values = {name: getattr(service, name) for name in _SERVICE_FIELDS}
        current = known.get((parent.id, service.kind, service.name))
        if current is None:
            session.add(
                Service(
                    collectivity_id=parent.id,
                    kind=service.kind,
                    name=service.name,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            )
            s_created += 1
        elif _apply(current, values, now):
            s_updated += 1
    await session.flush()
    return ImportCounts(
        collectivities_created=created,
        collectivities_updated=updated,
        collectivities_unchanged=len(by_code) - created - updated,
        services_created=s_created,
        services_updated=s_updated,
        services_unchanged=len(services) - s_created - s_updated,
    )


async def list_collectivities(
    session: AsyncSession, *, departement: str | None = None, kind: str | None = None
) -> list[Collectivity]:
    """Collectivities ordered by INSEE code / SIREN, optionally of one département or kind."""
    query = select(Collectivity).order_by(Collectivity.insee_code)
    if departement is not None:
        query = query.where(Collectivity.departement == departement)
    if kind is not None:
        query = query.where(Collectivity.kind == kind)
    return list(await session.scalars(query))


async def list_services(
    session: AsyncSession,
    *,
    kind: str | None = None,
    collectivity_id: int | None = None,
    insee_code: str | None = None,
) -> list[Service]:
    """Services with their collectivity loaded, ordered by collectivity code, kind, name."""
    query = (
        select(Service)
        .join(Service.collectivity)
        .options(contains_eager(Service.collectivity))
        .order_by(Collectivity.insee_code, Service.kind, Service.name)
    )
    if kind is not None:
        query = query.where(Service.kind == kind)
    if collectivity_id is not None:
        query = query.where(Service.collectivity_id == collectivity_id)
    if insee_code is not None:
        query = query.where(Collectivity.insee_code == insee_code)
    return list(await session.scalars(query))
