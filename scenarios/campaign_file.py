"""The campaign file: what a coordinator writes to plan a campaign (TOML or YAML).

``load_campaign_file(path)`` reads ``*.toml`` with ``tomllib`` and ``*.yaml``/``*.yml`` with
``yaml.safe_load``, validates with pydantic (unknown keys are errors) and returns a
``CampaignSpec``; any problem raises ``CampaignFileError`` whose lines name the key path
(``personas[1].email``, ``mix.phone.per_service``) and the reason. The scenario ids of the
mix are checked against the catalogue by ``check_scenarios`` (the catalogue is not known
while the file is parsed).

The format, every key with its default (a complete example ships as
``examples/campaign.toml``)::

    name = "barometre-2026-printemps"   # required: letters, digits, . _ -; unique
    title = "Baromètre de l'accueil, printemps 2026"   # optional, free text
    seed = 20260302                     # required: same seed, same file, same plan

    [window]                            # required: local dates, both inclusive, in
                                        # the years 2000 to 2100
    start = 2026-03-02
    end = 2026-05-29

    [selection]                         # which services; every criterion given must hold
    kinds = ["accueil_mairie", "etat_civil"]   # service kinds: codes, French labels or
                                        # aliases of scenarios.service_kinds ([] = all)
    departements = ["57", "67", "2A", "974"]   # département codes ([] = all)
    strata = ["<2000", "2000-10000"]    # population strata by label ([] = all)
    population_bounds = [2000, 10000, 50000]   # strata limits; the labels follow from
                                        # them: "<2000", "2000-10000", "10000-50000",
                                        # ">=50000" (a stratum includes its lower bound)
    insee = ["57463", "2A004"]          # INSEE codes (SIREN for EPCI...) ([] = all)

    [mix.email]                         # per channel: email, letter, phone, visit
    per_service = 1                     # contacts of this channel per selected service
    scenarios = { "email-acte-naissance" = 2, "email-carte-bibliotheque" = 1 }
                                        # optional: scenario ids with weights (a list of
                                        # ids means weight 1 each); default: every
                                        # scenario of the channel that fits the kind

    [[personas]]                        # the identities emails and letters come from;
    key = "claire"                      # upserted into the persona table by key
    display_name = "Claire Martin"
    email = "claire.martin@example.org"
    address = "12 rue des Lilas"        # address, postal_code and city: required for
    postal_code = "57000"               # a persona that writes letters
    city = "Metz"
    channels = ["email", "letter"]      # default ["email"]

    [[auditors]]                        # the people who call and visit; upserted into
    key = "paul"                        # the auditor table by key
    name = "Paul Durand"
    departements = ["57", "67"]         # default [] = covers every département
    unavailable = [2026-04-14, 2026-04-15]   # local dates the auditor does not work

    [rules]
    dispatch_hours = "lu-ve 08:30-12:00,13:30-18:00"   # when emails and letters go out
    default_service_hours = "lu-ve 09:00-12:00,14:00-17:00"   # phone and visits, for
                                        # services whose opening hours are unknown
    max_per_collectivity_per_day = 1    # never two requests to a collectivity on a day
    lockout_business_days = 3           # business days with no contact between two
                                        # contacts to the same service (3: Monday, then
                                        # Friday at the earliest)
    jitter = true                       # random minutes and seconds inside the hours
                                        # (false: at the opening of the first range)
    field_margin_minutes = 20           # calls and visits end this long before closing
    visits_per_auditor_day = 6          # an auditor's day: at most this many visits,
    calls_per_auditor_day = 30          # and calls; no two appointments overlap:
    visit_minutes = 30                  # a visit lasts this long, plus the travel to
    travel_minutes = 30                 # the next one; a call lasts call_minutes;
    call_minutes = 10                   # a day's visits are in one département
    regroup_business_days = 10          # how far a visit may move to join an auditor's
                                        # day in its département

Hours use the text format of ``scenarios.opening_hours``, in the collectivity's local time.
Phone and visit contacts need auditors only to be assigned: without ``[[auditors]]`` they
are planned unassigned. A channel with ``per_service > 0`` among email and letter needs at
least one persona serving it. In YAML, quote INSEE codes (``"01234"``): YAML reads
``01234`` as an octal number.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from scenarios.calendar import UnknownDepartement, normalise_departement
from scenarios.domain import Channel
from scenarios.input_files import LIMITS, InputFileError, read_input
from scenarios.opening_hours import OpeningHoursError, parse_hours
from scenarios.planning import (
    CHANNEL_ORDER,
    DEFAULT_DISPATCH_HOURS,
    DEFAULT_SERVICE_HOURS,
    ChannelQuota,
    Rules,
)
from scenarios.service_kinds import known_codes, resolve_service_kind

DEFAULT_BOUNDS = (2000, 10000, 50000)
_KEY = r"^[a-z0-9][a-z0-9_-]{0,59}$"
_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_INSEE = re.compile(r"^(?:\d{5}|2[AB]\d{3}|\d{9})$")


class CampaignFileError(Exception):
    """The campaign file cannot be used; ``problems`` lists ``key.path: reason`` lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        count = len(problems)
        head = f"{source}: {count} problem{'s' if count > 1 else ''}"
        super().__init__(head + "".join(f"\n  {p}" for p in problems))


def strata_labels(bounds: tuple[int, ...] | list[int]) -> list[str]:
    """``[2000, 10000]`` -> ``["<2000", "2000-10000", ">=10000"]``."""
    if not bounds:
        return ["all"]
    labels = [f"<{bounds[0]}"]
    labels += [f"{a}-{b}" for a, b in itertools.pairwise(bounds)]
    labels.append(f">={bounds[-1]}")
    return labels


def strata_ranges(bounds: tuple[int, ...] | list[int]) -> dict[str, tuple[int, int | None]]:
    """Label -> population range ``[low, high)``; ``high`` None is unbounded."""
    limits = [0, *bounds]
    highs: list[int | None] = [*bounds, None]
    return dict(zip(strata_labels(bounds), zip(limits, highs, strict=True), strict=True))


def _text_list(value: Any) -> Any:
    # YAML reads 57 as an int: départements are codes, take them as written.
    if isinstance(value, list):
        return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
    return value


def _departements(values: list[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        try:
            code = normalise_departement(value)
        except UnknownDepartement:
            raise ValueError(f"unknown département code {value!r}") from None
        if code not in out:
            out.append(code)
    return out


def _hours(value: str) -> str:
    try:
        parse_hours(value)
    except OpeningHoursError as exc:
        raise ValueError(f"opening hours {value!r}: {exc}") from None
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Departements = Annotated[list[str], BeforeValidator(_text_list), AfterValidator(_departements)]
Hours = Annotated[str, AfterValidator(_hours)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The calendar counts business days past the window (follow-ups, the close, delays of
# late answers), so a window must leave room before the end of year 9999; and a barometer
# is run in years Témoin and the public holiday rules know.
FIRST_YEAR = 2000
LAST_YEAR = 2100


class Window(_Model):
    start: date
    end: date

    @model_validator(mode="after")
    def _order(self) -> Window:
        for day in (self.start, self.end):
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                raise ValueError(f"{day} is not between {FIRST_YEAR} and {LAST_YEAR}")
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if (self.end - self.start).days > 731:
            raise ValueError("a campaign window cannot be longer than two years")
        return self


class Selection(_Model):
    kinds: list[str] = []
    departements: Departements = []
    strata: list[str] = []
    population_bounds: list[int] = list(DEFAULT_BOUNDS)
    insee: Annotated[list[str], BeforeValidator(_text_list)] = []

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, values: list[str]) -> list[str]:
        out: list[str] = []
        for value in values:
            code = resolve_service_kind(value)
            if code is None:
                raise ValueError(
                    f"unknown service kind {value!r} (known: {', '.join(known_codes())})"
                )
            if code not in out:
                out.append(code)
        return out

    @field_validator("population_bounds")
    @classmethod
    def _bounds(cls, values: list[int]) -> list[int]:
        if any(v <= 0 for v in values) or any(b <= a for a, b in itertools.pairwise(values)):
            raise ValueError("must be positive and strictly increasing")
        return values

    @field_validator("insee")
    @classmethod
    def _insee(cls, values: list[str]) -> list[str]:
        out: list[str] = []
        for value in values:
            code = value.strip().upper()
            if not _INSEE.match(code):
                raise ValueError(f"{value!r} is not an INSEE code (5 characters) or a SIREN")
            if code not in out:
                out.append(code)
        return out

    @model_validator(mode="after")
    def _strata(self) -> Selection:
        known = strata_labels(self.population_bounds)
        for label in self.strata:
            if label not in known:
                raise ValueError(f"strata: unknown stratum {label!r} (known: {', '.join(known)})")
        return self


def _weights(value: Any) -> Any:
    if isinstance(value, list):
        return dict.fromkeys(value, 1.0)
    return value


class ChannelMix(_Model):
    per_service: int = Field(ge=0, le=50)
    scenarios: Annotated[dict[str, Annotated[float, Field(gt=0)]], BeforeValidator(_weights)] = {}


class Mix(_Model):
    email: ChannelMix | None = None
    letter: ChannelMix | None = None
    phone: ChannelMix | None = None
    visit: ChannelMix | None = None

    def of(self, channel: Channel) -> ChannelMix | None:
        found: ChannelMix | None = getattr(self, channel.value)
        return found

    @model_validator(mode="after")
    def _something(self) -> Mix:
        if not any((m := self.of(ch)) is not None and m.per_service > 0 for ch in CHANNEL_ORDER):
            raise ValueError("no channel asks for any contact (set per_service on one)")
        return self


class PersonaSpec(_Model):
    key: str = Field(pattern=_KEY)
    display_name: str = Field(min_length=1, max_length=120)
    email: str = Field(max_length=254)
    address: str | None = Field(default=None, max_length=300)
    postal_code: str | None = Field(default=None, max_length=10)
    city: str | None = Field(default=None, max_length=120)
    channels: list[Literal["email", "letter"]] = Field(default=["email"], min_length=1)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value

    @model_validator(mode="after")
    def _letters_need_an_address(self) -> PersonaSpec:
        if "letter" in self.channels and not (self.address and self.postal_code and self.city):
            raise ValueError("a persona writing letters needs address, postal_code and city")
        return self


class AuditorSpec(_Model):
    key: str = Field(pattern=_KEY)
    name: str = Field(min_length=1, max_length=120)
    departements: Departements = []
    unavailable: list[date] = Field(default=[], max_length=1000)


class RulesSpec(_Model):
    dispatch_hours: Hours = DEFAULT_DISPATCH_HOURS
    default_service_hours: Hours = DEFAULT_SERVICE_HOURS
    max_per_collectivity_per_day: int = Field(default=1, ge=1, le=50)
    lockout_business_days: int = Field(default=3, ge=0, le=100)
    jitter: bool = True
    field_margin_minutes: int = Field(default=20, ge=0, le=240)
    visits_per_auditor_day: int = Field(default=6, ge=1, le=50)
    calls_per_auditor_day: int = Field(default=30, ge=1, le=200)
    visit_minutes: int = Field(default=30, ge=1, le=480)
    call_minutes: int = Field(default=10, ge=1, le=240)
    travel_minutes: int = Field(default=30, ge=0, le=480)
    regroup_business_days: int = Field(default=10, ge=0, le=100)


class CampaignSpec(_Model):
    name: str = Field(pattern=_NAME)
    title: str | None = Field(default=None, max_length=300)
    seed: int = Field(ge=0, le=2**63 - 1)
    window: Window
    selection: Selection = Selection()
    mix: Mix
    personas: list[PersonaSpec] = []
    auditors: list[AuditorSpec] = []
    rules: RulesSpec = RulesSpec()

    @model_validator(mode="after")
    def _consistent(self) -> CampaignSpec:
        problems: list[str] = []
        keys: list[tuple[str, list[str]]] = [
            ("personas", [p.key for p in self.personas]),
            ("auditors", [a.key for a in self.auditors]),
        ]
        for what, names in keys:
            seen: dict[str, int] = {}
            for i, key in enumerate(names):
                if key in seen:
                    problems.append(f"{what}[{i}].key: {key!r} is already {what}[{seen[key]}]")
                seen.setdefault(key, i)
        emails: dict[str, int] = {}
        for i, persona in enumerate(self.personas):
            folded = persona.email.casefold()
            if folded in emails:
                problems.append(
                    f"personas[{i}].email: {persona.email!r} is already personas[{emails[folded]}]"
                )
            emails.setdefault(folded, i)
        for channel in (Channel.EMAIL, Channel.LETTER):
            mix = self.mix.of(channel)
            wanted = mix is not None and mix.per_service > 0
            if wanted and not any(channel.value in p.channels for p in self.personas):
                problems.append(
                    f"mix.{channel}: needs at least one persona with '{channel}' in channels"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # Mapping to the planner ----------------------------------------------------------

    def planner_rules(self) -> Rules:
        r = self.rules
        return Rules(
            dispatch_hours=parse_hours(r.dispatch_hours),
            default_service_hours=parse_hours(r.default_service_hours),
            max_per_collectivity_per_day=r.max_per_collectivity_per_day,
            lockout_business_days=r.lockout_business_days,
            jitter=r.jitter,
            field_margin_minutes=r.field_margin_minutes,
            visits_per_auditor_day=r.visits_per_auditor_day,
            calls_per_auditor_day=r.calls_per_auditor_day,
            visit_minutes=r.visit_minutes,
            call_minutes=r.call_minutes,
            travel_minutes=r.travel_minutes,
            regroup_business_days=r.regroup_business_days,
        )

    def quotas(self) -> list[ChannelQuota]:
        out: list[ChannelQuota] = []
        for channel in CHANNEL_ORDER:
            mix = self.mix.of(channel)
            if mix is not None and mix.per_service > 0:
                weights = tuple(sorted(mix.scenarios.items()))
                out.append(ChannelQuota(channel, mix.per_service, weights))
        return out

    def population_ranges(self) -> list[tuple[int, int | None]]:
        """The selected strata as ``[low, high)`` ranges ([] = every population)."""
        ranges = strata_ranges(self.selection.population_bounds)
        return [ranges[label] for label in self.selection.strata]


def check_scenarios(spec: CampaignSpec, channels: dict[str, Channel]) -> None:
    """Every scenario of the mix exists (``channels``: id -> channel) on the right channel."""
    problems: list[str] = []
    for channel in CHANNEL_ORDER:
        mix = spec.mix.of(channel)
        for scenario_id in mix.scenarios if mix is not None else {}:
            found = channels.get(scenario_id)
            where = f"mix.{channel}.scenarios.{scenario_id}"
            if found is None:
                problems.append(f"{where}: no such scenario in the catalogue")
            elif found is not channel:
                problems.append(f"{where}: is a {found} scenario, not {channel}")
    if problems:
        raise CampaignFileError("campaign file", problems)


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "list[", "dict[", "literal[")):
            continue
        else:
            out += f".{part}" if out else part
    return out


def _problems(exc: ValidationError) -> list[str]:
    problems: list[str] = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        where = _loc(error["loc"])
        for piece in message.split("; ") if not where else [message]:
            problems.append(f"{where}: {piece}" if where else piece)
    return problems


def parse_campaign(data: Any, source: str = "campaign file") -> CampaignSpec:
    """Validate already-read data (a dict from TOML, YAML or JSON)."""
    if not isinstance(data, dict):
        raise CampaignFileError(source, ["the file must hold a table of keys (name, window...)"])
    try:
        return CampaignSpec.model_validate(data)
    except ValidationError as exc:
        raise CampaignFileError(source, _problems(exc)) from None


def load_campaign_file(path: Path) -> CampaignSpec:
    """Read and validate a campaign file; ``CampaignFileError`` says what is wrong."""
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise CampaignFileError(source, ["the file name must end in .toml, .yaml or .yml"])
    try:
        raw = read_input(path, LIMITS["campaign"])
    except InputFileError as exc:
        raise CampaignFileError(source, [str(exc)]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CampaignFileError(source, ["is not UTF-8 text"]) from None
    language = "TOML" if suffix == ".toml" else "YAML"
    try:
        data = tomllib.loads(text) if suffix == ".toml" else yaml.safe_load(text)
    except tomllib.TOMLDecodeError as exc:
        raise CampaignFileError(source, [f"not valid TOML: {exc}"]) from None
    except yaml.YAMLError as exc:
        raise CampaignFileError(source, [f"not valid YAML: {exc}".replace("\n", " ")]) from None
    except RecursionError:
        # arrays or tables nested thousands deep: the parsers recurse once per level
        raise CampaignFileError(source, [f"not valid {language}: nested too deeply"]) from None
    except ValueError as exc:
        # Python refuses to read an integer of more than 4,300 digits (a seed, a count)
        reason = "a number is too long" if "integer string conversion" in str(exc) else exc
        raise CampaignFileError(source, [f"not valid {language}: {reason}"]) from None
    return parse_campaign(data, source)
