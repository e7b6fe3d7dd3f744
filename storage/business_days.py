"""Business days as a table the database joins: one row per département and UTC day.

    instant_span(campaign)  -> (first µs, last µs, départements) the statistics may look up
    caller (reports/)       -> one ``BusinessDayRow`` per département and UTC day in the span
    load_business_days(rows) -> SQLite: TEMPORARY TABLE tmp_business_day;
                                PostgreSQL: arrays kept in the session (``day_arrays``)
    drop_business_days       -> empties / forgets them

A business-day delay is then a subtraction of two ordinals. For a UTC day ``D`` (days since
1970-01-01) of a département, the local date changes once inside ``D`` (local midnight, at
``split_us`` microseconds after 00:00 UTC; ``86400·10⁶`` when it does not change inside the
day, as with a zero offset). ``ord_before`` is the cumulative count of business days up to and
including the local date of the instants of ``D`` before the split, ``ord_after`` the same for
the instants from the split on. With ``ordinal(t)`` read from the row of ``t``'s UTC day,
``business_days_between(a, b) = ordinal(b) - ordinal(a)`` for ``a <= b``, which is the
calendar's convention (business days ``d`` with ``local(a) < d <= local(b)``).

PostgreSQL reads the same rows as three arrays bound as parameters (``DayArrays``: one
element per département and day, département-major), indexed by the contact's département
position and the instant's UTC day: a temporary table would forbid parallel workers
(the baseline GROUP BY gets two), and a subscript costs less than a hash join.

Rebuilt per report rather than stored: the holidays come from the ``holidays`` package,
whose version may change between two reports; rows rebuilt per report can never be stale.
The SQLite table lives in the connection's temp schema; ``drop_business_days`` empties it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from scenarios import events as ev
from storage.event_facts import epoch_us
from storage.models import Collectivity, Contact, ContactEvent

__all__ = [
    "DAY_US",
    "ORIGIN_KINDS",
    "TABLE",
    "BusinessDayRow",
    "DayArrays",
    "all_departements",
    "day_arrays",
    "drop_business_days",
    "epoch_us",
    "instant_span",
    "load_business_days",
]

TABLE = "tmp_business_day"
# The timeline events that stand for the origin (sent) of a letter, a call, a visit.
ORIGIN_KINDS = (ev.LETTER_POSTED, ev.CALL_STARTED, ev.VISIT_ARRIVED)
DAY_US = 86_400_000_000


@dataclass(frozen=True, slots=True)
class BusinessDayRow:
    departement: str
    utc_day: int  # days since 1970-01-01 (UTC)
    split_us: int  # microseconds after 00:00 UTC where the local date changes
    ord_before: int
    ord_after: int


@dataclass(frozen=True, slots=True)
class DayArrays:
    """The rows for PostgreSQL: element ``i * days + (utc_day - first_day)`` (0-based) is
    département ``departements[i]`` on ``utc_day``, for ``first_day <= utc_day <
    first_day + days``; every département has every day of the span."""

    departements: tuple[str, ...]
    first_day: int
    days: int
    split_us: tuple[int, ...]
    ord_before: tuple[int, ...]
    ord_after: tuple[int, ...]

    @staticmethod
    def of(rows: Iterable[BusinessDayRow]) -> DayArrays:
        by_dept: dict[str, dict[int, BusinessDayRow]] = {}
        for row in rows:
            by_dept.setdefault(row.departement, {})[row.utc_day] = row
        departements = tuple(sorted(by_dept))
        days_of = [set(by_dept[d]) for d in departements]
        first = min((min(d) for d in days_of), default=0)
        last = max((max(d) for d in days_of), default=-1)
        span = range(first, last + 1)
        if any(d != set(span) for d in days_of):
            raise ValueError("business-day rows must cover the same days for every département")
        ordered = [by_dept[d][day] for d in departements for day in span]
        return DayArrays(
            departements=departements,
            first_day=first,
            days=len(span),
            split_us=tuple(r.split_us for r in ordered),
            ord_before=tuple(r.ord_before for r in ordered),
            ord_after=tuple(r.ord_after for r in ordered),
        )


_INFO_KEY = "temoin.business_days"


def day_arrays(session: AsyncSession) -> DayArrays | None:
    """The arrays ``load_business_days`` kept for PostgreSQL in this session, if any."""
    found = session.info.get(_INFO_KEY)
    return found if isinstance(found, DayArrays) else None


async def instant_span(
    session: AsyncSession, campaign_id: int
) -> tuple[datetime | None, datetime | None, list[str]]:
    """Earliest and latest origin (``sent_at`` or an origin event) and latest ``closed_at``
    of the campaign's contacts, and the départements of its collectivities.

    Every instant a delay of the campaign starts or ends at lies between the earliest
    origin (less the clock-skew tolerance) and the latest of the origins, the contacts' and
    the campaign's ``closed_at`` and the as-of instant: the caller covers that span."""
    span = (
        await session.execute(
            select(
                func.min(Contact.sent_at), func.max(Contact.sent_at), func.max(Contact.closed_at)
            ).where(Contact.campaign_id == campaign_id)
        )
    ).one()
    events = (
        await session.execute(
            select(func.min(ContactEvent.at), func.max(ContactEvent.at))
            .join(Contact, Contact.id == ContactEvent.contact_id)
            .where(Contact.campaign_id == campaign_id, ContactEvent.kind.in_(ORIGIN_KINDS))
        )
    ).one()
    depts = (
        await session.scalars(
            select(Collectivity.departement)
            .where(
                select(Contact.id)
                .where(
                    Contact.collectivity_id == Collectivity.id, Contact.campaign_id == campaign_id
                )
                .exists()
            )
            .distinct()
            .order_by(Collectivity.departement)
        )
    ).all()
    lows = [v for v in (span[0], events[0]) if v is not None]
    highs = [v for v in (span[1], span[2], events[1]) if v is not None]
    return min(lows, default=None), max(highs, default=None), list(depts)


async def all_departements(session: AsyncSession) -> list[str]:
    """Every département of the directory (its index answers: no scan of the contacts)."""
    found = await session.scalars(
        select(Collectivity.departement).distinct().order_by(Collectivity.departement)
    )
    return list(found.all())


async def load_business_days(session: AsyncSession, rows: Iterable[BusinessDayRow]) -> None:
    """SQLite: (re)create the temporary table in the session's transaction and fill it.
    PostgreSQL: keep the rows as ``DayArrays`` in the session (``day_arrays``), and
    ``SET LOCAL jit = off`` and ``work_mem = 64MB`` for the transaction."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # For the rest of the transaction, which runs the statistics' big queries: no JIT
        # (its compilation alone cost more than the baseline GROUP BY at 200k contacts) and
        # room to sort and hash the per-contact facts in memory rather than on disk.
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.info[_INFO_KEY] = DayArrays.of(rows)
        return
    # WITHOUT ROWID: the primary key is the table (one B-tree descent per lookup instead
    # of the key's index then the rowid table; four lookups per contact).
    suffix = " WITHOUT ROWID"
    await session.execute(
        text(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {TABLE} (departement VARCHAR(3) NOT NULL,"
            " utc_day INTEGER NOT NULL, split_us BIGINT NOT NULL, ord_before INTEGER NOT NULL,"
            f" ord_after INTEGER NOT NULL, PRIMARY KEY (departement, utc_day)){suffix}"
        )
    )
    await session.execute(text(f"DELETE FROM {TABLE}"))
    batch = [(r.departement, r.utc_day, r.split_us, r.ord_before, r.ord_after) for r in rows]
    if batch:
        # Straight to the driver's executemany: SQLAlchemy's per-row parameter processing
        # of a text() statement cost more than the insert (a few thousand rows).
        connection = await session.connection()
        style = connection.dialect.paramstyle
        marks = ", ".join(
            f"${i}" if style == "numeric_dollar" else "?" if style == "qmark" else "%s"
            for i in range(1, 6)
        )
        await connection.exec_driver_sql(f"INSERT INTO {TABLE} VALUES ({marks})", batch)


async def drop_business_days(session: AsyncSession) -> None:
    """Empty the table (SQLite), forget the arrays (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.info.pop(_INFO_KEY, None)
        return
    await session.execute(text(f"DELETE FROM {TABLE}"))
