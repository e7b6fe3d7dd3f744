"""Collectivities and services: the idempotent upsert of an import, and small queries.

``upsert_directory`` writes what ``scenarios.directory.parse_directory`` validated, inside
the caller's unit of work: it loads the collectivities named by the records (one query per
few thousand codes) and their services (likewise), compares field by field, inserts what is
new and updates in place what changed. A row whose values are all equal is left untouched,
``updated_at`` included, so importing the same file twice changes nothing. Keys:
collectivity by ``insee_code`` (the SIREN for EPCI, départements and régions), service by
(collectivity, kind, ``service_identity(name)``): « ACCUEIL » updates « Accueil » (and its
name as shown takes the file's spelling). A service of the file that matches no name but
has the email or phone of a service of the same collectivity and kind which no other row
claims (the oldest first) is that service renamed: updated in place and listed in
``ImportCounts.renamed``, never a second service at the same address (both would be
written to, which could give the campaign away). Nothing is ever deleted: a service
missing from the file stays.
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
from scenarios.directory import CollectivityRecord, ImportResult, ServiceRecord, service_identity
from storage.models import Collectivity, Service

# Both drivers take far more bound parameters than this; chunks keep huge files safe.
_CHUNK = 5000

_COLLECTIVITY_FIELDS = ("name", "kind", "population", "departement", "region")
_SERVICE_FIELDS = (
    "email", "phone", "address", "postal_code", "city", "opening_hours", "latitude", "longitude",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Renamed:
    """A service the file gives another name, found by its address."""

    insee_code: str
    kind: str
    old_name: str
    new_name: str
    by: str  # "email" or "phone"


@dataclass(frozen=True, slots=True)
class ImportCounts:
    collectivities_created: int = 0
    collectivities_updated: int = 0
    collectivities_unchanged: int = 0
    services_created: int = 0
    services_updated: int = 0
    services_unchanged: int = 0
    renamed: tuple[Renamed, ...] = ()  # among services_updated

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
    by_address: dict[tuple[int, str, str, str], list[Service]] = {}
    for chunk in _chunks(ids):
        found = await session.scalars(
            select(Service).where(Service.collectivity_id.in_(chunk)).order_by(Service.id)
        )
        for svc in found:  # the oldest wins where the database already holds look-alikes
            cid, kind = svc.collectivity_id, svc.kind
            known.setdefault((cid, kind, service_identity(svc.name)), svc)
            for name, value in (("email", svc.email), ("phone", svc.phone)):
                if value:
                    by_address.setdefault((cid, kind, name, value.casefold()), []).append(svc)

    matched: list[Service | None] = []
    for service in services:
        parent = by_code[service.insee_code]
        matched.append(known.get((parent.id, service.kind, service_identity(service.name))))
    claimed = {svc.id for svc in matched if svc is not None}

    s_created = s_updated = 0
    renamed: list[Renamed] = []
    for service, current in zip(services, matched, strict=True):
        parent = by_code[service.insee_code]
        values = {name: getattr(service, name) for name in _SERVICE_FIELDS}
        values["name"] = service.name
        if current is None:
            current, by = _by_address(by_address, parent.id, service, claimed)
            if current is not None:
                claimed.add(current.id)
                renamed.append(
                    Renamed(service.insee_code, service.kind, current.name, service.name, by)
                )
        if current is None:
            session.add(
                Service(
                    collectivity_id=parent.id,
                    kind=service.kind,
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
        renamed=tuple(renamed),
    )


def _by_address(
    by_address: dict[tuple[int, str, str, str], list[Service]],
    collectivity_id: int,
    service: ServiceRecord,
    claimed: set[int],
) -> tuple[Service | None, str]:
    """The unclaimed service of that collectivity and kind with this email, else phone."""
    for name, value in (("email", service.email), ("phone", service.phone)):
        if value:
            key = (collectivity_id, service.kind, name, value.casefold())
            for found in by_address.get(key, []):
                if found.id not in claimed:
                    return found, name
    return None, ""


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
