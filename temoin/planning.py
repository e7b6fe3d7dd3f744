"""Planning a campaign, the use case behind ``temoin campaign plan`` (and ``temoin demo``).

    campaign file --validate--> CampaignSpec --+
    catalogue ----------------> scenarios -----+--> planner --> contacts
    database: personas, auditors (upserted),   |
              selected services, kept contacts +

All of it is one unit of work: an unknown scenario or rules that cannot hold
(``InfeasiblePlan``) raise ``UserError`` and write nothing. ``dry_run`` reads only (personas
and auditors not yet in the database get provisional ids). Planning a name that exists is
refused unless ``replace``, which deletes the contacts nothing has happened to yet and plans
the rest of the quota around the others. Planned times start no earlier than ``now``. The
contacts of the other campaigns not closed, to the same collectivities around the window,
count for the daily cap per collectivity, the lockout and their auditors' days.
bench/plan.py times this path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from scenarios.campaign_file import CampaignSpec, check_scenarios
from scenarios.catalog import CatalogError, load_catalog
from scenarios.domain import Channel
from scenarios.opening_hours import OpeningHoursError, WeeklyHours, parse_hours
from scenarios.planning import (
    AuditorInput,
    FieldShortfall,
    FixedContact,
    InfeasiblePlan,
    PersonaInput,
    Plan,
    PlanRequest,
    Rules,
    ScenarioInput,
    ServiceInput,
    plan,
)
from storage import campaigns as repo
from storage.db import Database
from temoin.errors import UserError


class PlanRefused(UserError):
    """The rules cannot hold: ``problem`` (the planner's ``InfeasiblePlan``) has the case
    and its numbers, ``shortfalls`` those of the auditors' days, for a caller that words
    them in the reader's language (``temoin.cli.plan_refusal``)."""

    def __init__(
        self,
        message: str,
        name: str,
        shortfalls: Sequence[FieldShortfall],
        rules: Rules,
        problem: InfeasiblePlan | None = None,
    ) -> None:
        super().__init__(message)
        self.name = name
        self.shortfalls = tuple(shortfalls)
        self.rules = rules
        self.problem = problem


class CampaignExists(UserError):
    """A campaign of that name is planned already (``--replace`` re-plans it)."""

    def __init__(self, name: str, planned_at: datetime) -> None:
        super().__init__(
            f"campaign {name!r} already exists (planned {planned_at:%Y-%m-%d}):"
            " use --replace to re-plan what has not started yet, or another name"
        )
        self.name = name
        self.planned_at = planned_at


class PersonaTaken(UserError):
    """A persona's address already belongs to another persona (``conflict`` has which)."""

    def __init__(self, conflict: repo.PersonaConflict) -> None:
        super().__init__(str(conflict))
        self.conflict = conflict


@dataclass
class PlanOutcome:
    name: str
    dry_run: bool
    plan: Plan
    services: dict[int, ServiceInput]
    persona_keys: dict[int, str]
    auditor_keys: dict[int, str]
    window: tuple[date, date]
    deleted: int = 0
    kept: list[repo.KeptContact] = field(default_factory=list)
    unreadable_hours: int = 0


def catalog_scenarios() -> list[ScenarioInput]:
    """The shipped catalogue as the planner sees it."""
    try:
        catalog = load_catalog()
    except CatalogError as exc:
        raise UserError(str(exc)) from exc
    return [
        ScenarioInput(s.id, s.channel, tuple(s.service_kinds), len(s.wordings))
        for s in catalog.scenarios.values()
    ]


def service_inputs(rows: Sequence[repo.ServiceRow]) -> tuple[list[ServiceInput], int]:
    """Planner inputs from the selected rows, and how many opening hours were unreadable."""
    parsed: dict[str, WeeklyHours | None] = {}
    unreadable = 0
    out: list[ServiceInput] = []
    # One object per distinct text: a commune's services repeat its code, name and
    # département, and every service of a kind its kind (a million-contact campaign holds
    # hundreds of thousands of services).
    texts: dict[str, str] = {}
    same = texts.setdefault
    for row in rows:
        hours: WeeklyHours | None = None
        if row.opening_hours:
            if row.opening_hours not in parsed:
                try:
                    parsed[row.opening_hours] = parse_hours(row.opening_hours)
                except OpeningHoursError:
                    parsed[row.opening_hours] = None
            hours = parsed[row.opening_hours]
            unreadable += hours is None
        out.append(
            ServiceInput(
                id=row.id,
                kind=same(row.kind, row.kind),
                collectivity_id=row.collectivity_id,
                collectivity_code=same(row.insee_code, row.insee_code),
                collectivity_name=same(row.collectivity_name, row.collectivity_name),
                departement=same(row.departement, row.departement),
                has_email=row.has_email,
                has_phone=row.has_phone,
                has_address=row.has_address,
                opening_hours=hours,
                latitude=row.latitude,
                longitude=row.longitude,
            )
        )
    return out, unreadable


def _reach(spec: CampaignSpec) -> tuple[datetime, datetime]:
    """The UTC span whose contacts of other campaigns can weigh on this plan: the window,
    widened by the lockout (in calendar days, holidays and weekends included) and a day
    for the time zones."""
    margin = timedelta(days=2 * spec.rules.lockout_business_days + 7)
    start = datetime.combine(spec.window.start, time(0), UTC) - margin
    end = datetime.combine(spec.window.end, time(0), UTC) + margin
    return start, end


async def plan_campaign(
    database: Database,
    spec: CampaignSpec,
    scenarios: Sequence[ScenarioInput],
    now: datetime,
    *,
    replace: bool = False,
    dry_run: bool = False,
) -> PlanOutcome:
    """Load the inputs, plan, insert: one unit of work (nothing written on ``dry_run``)."""
    check_scenarios(spec, {s.id: s.channel for s in scenarios})
    selection = repo.ServiceFilter(
        kinds=spec.selection.kinds,
        departements=spec.selection.departements,
        population_ranges=spec.population_ranges(),
        insee_codes=spec.selection.insee,
    )
    async with database.session() as session:
        existing = await repo.find_campaign(session, spec.name)
        if existing is not None and not replace:
            raise CampaignExists(spec.name, existing.planned_at)
        persona_keys = [p.key for p in spec.personas]
        auditor_keys = [a.key for a in spec.auditors]
        deleted = 0
        campaign_id = existing.id if existing is not None else 0
        if dry_run:
            personas = await repo.persona_ids(session, persona_keys)
            auditors = await repo.auditor_ids(session, auditor_keys)
            # Provisional negative ids for what the real run would create.
            for i, key in enumerate(k for k in persona_keys if k not in personas):
                personas[key] = -1 - i
            for i, key in enumerate(k for k in auditor_keys if k not in auditors):
                auditors[key] = -1 - i
            if existing is not None:
                deleted = await repo.count_replaceable(session, existing.id)
        else:
            try:
                personas = await repo.upsert_personas(session, spec.personas, now)
            except repo.PersonaConflict as exc:
                raise PersonaTaken(exc) from exc
            auditors = await repo.upsert_auditors(session, spec.auditors, now)
            campaign_id = await repo.save_campaign(
                session,
                name=spec.name,
                title=spec.title,
                window_start=spec.window.start,
                window_end=spec.window.end,
                seed=spec.seed,
                spec=spec.model_dump(mode="json"),
                now=now,
            )
            if existing is not None:
                deleted = await repo.delete_replaceable(session, campaign_id)
        kept = await repo.kept_contacts(session, campaign_id) if existing is not None else []
        services, unreadable = service_inputs(await repo.select_services(session, selection))
        others = await repo.running_contacts(
            session, campaign_id, *_reach(spec), {s.collectivity_id for s in services}
        )
        request = PlanRequest(
            services=services,
            scenarios=scenarios,
            quotas=spec.quotas(),
            window_start=spec.window.start,
            window_end=spec.window.end,
            seed=spec.seed,
            rules=spec.planner_rules(),
            personas=[
                PersonaInput(personas[p.key], p.key, tuple(Channel(c) for c in p.channels))
                for p in spec.personas
            ],
            auditors=[
                AuditorInput(auditors[a.key], a.key, tuple(a.departements), tuple(a.unavailable))
                for a in spec.auditors
            ],
            fixed=[
                FixedContact(
                    k.service_id,
                    k.collectivity_id,
                    k.channel,
                    k.scenario_id,
                    k.wording,
                    k.persona_id,
                    k.auditor_id,
                    k.at,
                    k.status,
                )
                for k in kept
            ]
            + [
                FixedContact(
                    k.service_id,
                    k.collectivity_id,
                    k.channel,
                    k.scenario_id,
                    k.wording,
                    k.persona_id,
                    k.auditor_id,
                    k.at,
                    k.status,
                    own=False,
                )
                for k in others
            ],
            not_before=now,
        )
        try:
            result = plan(request)
        except InfeasiblePlan as exc:
            message = f"cannot plan {spec.name!r}: {exc}"
            raise PlanRefused(message, spec.name, exc.shortfalls, request.rules, exc) from exc
        if not dry_run:
            await repo.insert_contacts(session, campaign_id, result.contacts, now)
    return PlanOutcome(
        name=spec.name,
        dry_run=dry_run,
        plan=result,
        services={s.id: s for s in services},
        persona_keys={v: k for k, v in personas.items()},
        auditor_keys={v: k for k, v in auditors.items()},
        window=(spec.window.start, spec.window.end),
        deleted=deleted,
        kept=kept,
        unreadable_hours=unreadable,
    )
