"""The planner's vocabulary: what ``plan()`` is given, what it returns, and its rules.

    PlanRequest(services, scenarios, quotas, window, seed, Rules, personas, auditors, fixed)
        --scenarios.planning.plan--> Plan(contacts: [PlannedContact], skipped: [Skip], uncovered)

Plain frozen dataclasses and named tuples, no behaviour beyond ``ScenarioInput.fits``: the
constants of the channel mix (``CHANNEL_ORDER``, ``WRITTEN``, ``FIELD``) and the default
hours, ``InfeasiblePlan`` and ``SkipReason``, the inputs and outputs, ``Rules`` and the two
rule texts the infeasibility messages quote. ``Request`` is the one intermediate type: a
contact asked for by the demand step of ``plan()`` and not yet placed on a day and time
(``scenarios.placement``, ``scenarios.day_fitting``).

Everything here is re-exported by ``scenarios.planning``, the import path callers use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from scenarios.domain import Channel, ContactStatus
from scenarios.opening_hours import WeeklyHours, parse_hours

DEFAULT_DISPATCH_HOURS = "lu-ve 08:30-12:00,13:30-18:00"
DEFAULT_SERVICE_HOURS = "lu-ve 09:00-12:00,14:00-17:00"
CHANNEL_ORDER: tuple[Channel, ...] = (Channel.EMAIL, Channel.LETTER, Channel.PHONE, Channel.VISIT)
WRITTEN: tuple[Channel, ...] = (Channel.EMAIL, Channel.LETTER)
FIELD: tuple[Channel, ...] = (Channel.PHONE, Channel.VISIT)


@dataclass(frozen=True, slots=True)
class FieldShortfall:
    """Field contacts of one channel and département that no auditor-day could take."""

    channel: Channel
    departement: str
    contacts: int  # of that channel in the département
    left_out: int  # of them, without a place in any auditor's day
    days_needed: int  # auditor-days the contacts need at the daily capacity
    days_available: int  # auditor-days of the auditors covering it (each counted whole)
    days_busy: int = 0  # of them, already holding kept contacts or other campaigns' ones
    days_elsewhere: int = 0  # of them, taken by other départements (visits there, or calls)


class InfeasiblePlan(ValueError):
    """The rules cannot be met; the message names the rule and the shortfall.

    ``shortfalls`` carries the numbers of an auditor capacity problem, for a caller that
    words them itself (« il faudrait 120 journées d'auditeur en Moselle, 40 sont
    disponibles »). ``code`` and ``params`` do the same for the other cases, so that the
    command line says them from the catalogue (``cli.plan.infeasible.<code>``):

    - ``window``: the window ends before it starts;
    - ``no_capacity``: at most 0 contacts per collectivity per day;
    - ``cap`` (``per_day``, ``code``, ``name``, ``need``, ``have``, ``short``, ``left``): a
      collectivity needs more days than the window has at the daily cap;
    - ``lockout`` (``lockout``, ``service``, ``kind``, ``code``, ``name``, ``need``,
      ``total``, ``have``, ``short``): a service's contacts cannot be spaced in the window;
    - ``fitting`` (``per_day``, ``lockout``, ``code``, ``name``, ``contacts``, ``days``,
      ``exhausted``): both rules and the opening hours together cannot hold;
    - ``no_persona`` (``channel``): the mix asks for written contacts nobody writes.

    ``more`` is how many other collectivities are short as well (``cap``, ``lockout``,
    ``fitting``)."""

    def __init__(
        self,
        message: str,
        shortfalls: Sequence[FieldShortfall] = (),
        *,
        code: str = "",
        params: Mapping[str, str | int | bool] | None = None,
    ) -> None:
        super().__init__(message)
        self.shortfalls = tuple(shortfalls)
        self.code = code
        self.params: dict[str, str | int | bool] = dict(params or {})


class SkipReason(StrEnum):
    NO_EMAIL = "no email address"
    NO_PHONE = "no phone number"
    NO_ADDRESS = "no postal address"
    NO_SCENARIO = "no scenario fits the service kind"
    NEVER_OPEN = "not open on any business day of the window"
    UNKNOWN_DEPARTEMENT = "unknown département"


@dataclass(frozen=True, slots=True)
class ServiceInput:
    id: int
    kind: str
    collectivity_id: int
    collectivity_code: str
    collectivity_name: str
    departement: str
    has_email: bool
    has_phone: bool
    has_address: bool
    opening_hours: WeeklyHours | None = None  # None or empty: unknown, the default applies
    latitude: float | None = None  # of the counter, when known: a day's visits nearest first
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class ScenarioInput:
    id: str
    channel: Channel
    service_kinds: tuple[str, ...]
    n_wordings: int = 1

    def fits(self, kind: str) -> bool:
        return kind in self.service_kinds


@dataclass(frozen=True, slots=True)
class PersonaInput:
    id: int
    key: str
    channels: tuple[Channel, ...]


@dataclass(frozen=True, slots=True)
class AuditorInput:
    id: int
    key: str
    departements: tuple[str, ...] = ()  # empty: covers every département
    unavailable: tuple[date, ...] = ()  # local dates the auditor does not work


@dataclass(frozen=True, slots=True)
class ChannelQuota:
    channel: Channel
    per_service: int
    scenarios: tuple[tuple[str, float], ...] = ()  # (id, weight); empty: all that fit, weight 1


def _default_dispatch() -> WeeklyHours:
    return parse_hours(DEFAULT_DISPATCH_HOURS)


def _default_service() -> WeeklyHours:
    return parse_hours(DEFAULT_SERVICE_HOURS)


@dataclass(frozen=True, slots=True)
class Rules:
    dispatch_hours: WeeklyHours = field(default_factory=_default_dispatch)
    default_service_hours: WeeklyHours = field(default_factory=_default_service)
    max_per_collectivity_per_day: int = 1
    lockout_business_days: int = 3
    jitter: bool = True
    field_margin_minutes: int = 20
    # An auditor's day (``scenarios.field_plan``): at most this many visits and calls, no
    # two appointments overlapping (a visit lasts visit_minutes plus travel_minutes to the
    # next one, a call call_minutes), a day's visits in one département.
    visits_per_auditor_day: int = 6
    calls_per_auditor_day: int = 30
    visit_minutes: int = 30
    call_minutes: int = 10
    travel_minutes: int = 30
    regroup_business_days: int = 10  # how far a visit may move to join an auditor's day


@dataclass(frozen=True, slots=True)
class FixedContact:
    """A contact that exists and is kept: it counts for the quota, the cap and the lockout."""

    service_id: int
    collectivity_id: int
    channel: Channel
    scenario_id: str
    wording: int
    persona_id: int | None
    auditor_id: int | None
    at: datetime  # when it happened (sent) or is planned
    status: str = ContactStatus.PLANNED
    # False: a contact of another running campaign. It counts for the daily cap per
    # collectivity, the lockout per service and its auditor's day, not for this
    # campaign's quotas, scenario mix or persona balance.
    own: bool = True


@dataclass(frozen=True, slots=True)
class PlanRequest:
    services: Sequence[ServiceInput]
    scenarios: Sequence[ScenarioInput]
    quotas: Sequence[ChannelQuota]
    window_start: date
    window_end: date
    seed: int
    rules: Rules = field(default_factory=Rules)
    personas: Sequence[PersonaInput] = ()
    auditors: Sequence[AuditorInput] = ()
    fixed: Sequence[FixedContact] = ()
    not_before: datetime | None = None  # nothing is planned before this instant


class PlannedContact(NamedTuple):
    service_id: int
    collectivity_id: int
    scenario_id: str
    channel: Channel
    wording: int
    persona_id: int | None
    auditor_id: int | None
    planned_at: datetime


@dataclass(frozen=True, slots=True)
class Skip:
    service_id: int
    channel: Channel
    reason: SkipReason


@dataclass
class Plan:
    contacts: list[PlannedContact]
    skipped: list[Skip]
    # field contacts left without an auditor although auditors were given, per (channel, dept)
    uncovered: dict[tuple[Channel, str], int]


def per_day_rule(n: int) -> str:
    return f"at most {n} contact{'s' if n > 1 else ''} per collectivity per day"


def lockout_rule(n: int) -> str:
    return (
        f"lockout of {n} business day{'' if n == 1 else 's'} between contacts to the same service"
    )


class Request(NamedTuple):
    """One contact asked for, not yet placed; ``profile`` indexes ``placement.Slots.profiles``."""

    service: ServiceInput
    channel: Channel
    profile: int
    scenario_id: str
    wording: int
