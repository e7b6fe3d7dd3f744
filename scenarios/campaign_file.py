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
from dataclasses import dataclass, field, replace
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
from pydantic_core import PydanticCustomError

from scenarios.calendar import UnknownDepartement, normalise_departement
from scenarios.domain import Channel
from scenarios.i18n import Translator
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


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a campaign file: where (a key path, ``""`` for the whole file, and
    the line and column when the format tells them), what (``code``: a pydantic error type
    or one of ours, said by ``campaign_file.problem.<code>``) and its English sentence."""

    where: str
    english: str
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.english}" if self.where else self.english


def _problem(code: str, english: str, where: str = "", **params: Any) -> Problem:
    return Problem(where, english, code, params)


class CampaignFileError(Exception):
    """The campaign file cannot be used; ``problems`` lists ``key.path: reason`` lines
    (``str``: English, for logs; ``said(t)``: in the reader's language)."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        count = len(problems)
        head = f"{source}: {count} problem{'s' if count > 1 else ''}"
        super().__init__(head + "".join(f"\n  {p}" for p in problems))

    def at(self, path: Path) -> CampaignFileError:
        """The same problems, said of the campaign file at ``path`` (problems found after it
        was read, as unknown scenarios): with their lines and columns when it reads again."""
        try:
            text = read_input(path, LIMITS["campaign"]).decode("utf-8-sig")
            places = toml_places(text) if path.suffix.lower() == ".toml" else yaml_places(text)
        except (InputFileError, UnicodeDecodeError):
            places = {}
        return CampaignFileError(str(path), [_placed(p, places) for p in self.problems])

    def said(self, t: Translator) -> str:
        """``campagne.toml : 2 problèmes`` then one indented line per problem."""
        count = len(self.problems)
        head = t(f"campaign_file.problems_{'one' if count == 1 else 'many'}",
                 path=self.source, n=count)  # fmt: skip
        return head + "".join(f"\n  {problem_said(t, p)}" for p in self.problems)


def problem_said(t: Translator, problem: Problem) -> str:
    """One problem in the reader's language; an unknown code falls back to a sentence that
    still says where."""
    key = f"campaign_file.problem.{problem.code}"
    params = {k: _shown(v) for k, v in problem.params.items()}
    for name in ("found", "channel"):
        if t.has(f"channel.{params.get(name)}"):
            params[name] = t(f"channel.{params[name]}").lower()
    if problem.code == "bad_hours" and t.has(f"directory.error.hours_{params.get('code')}"):
        reason = t(f"directory.error.hours_{params['code']}", **params)
    elif problem.code == "input" and t.has(f"input_file.{params.get('code')}"):
        reason = t(f"input_file.{params['code']}", **params)
    elif problem.code and t.has(key):
        try:
            reason = t(key, **params)
        except (KeyError, IndexError):
            reason = t("campaign_file.problem.unknown")
    else:
        reason = t("campaign_file.problem.unknown")
    where = problem.where or t("campaign_file.whole_file")
    if problem.line is not None:
        return t("campaign_file.at_line", where=where, line=problem.line,
                 column=problem.column or 1, reason=reason)  # fmt: skip
    return t("campaign_file.at", where=where, reason=reason)


def _shown(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return value


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
            raise PydanticCustomError(
                "unknown_departement", "unknown département code '{value}'", {"value": value}
            ) from None
        if code not in out:
            out.append(code)
    return out


def _hours(value: str) -> str:
    try:
        parse_hours(value)
    except OpeningHoursError as exc:
        raise PydanticCustomError(
            "bad_hours",
            "opening hours '{value}': {reason}",
            {"value": value, "reason": str(exc), "code": exc.code, **exc.params},
        ) from None
    if not value.strip():
        raise PydanticCustomError("empty", "must not be empty")
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
                raise PydanticCustomError(
                    "year_range", "{day} is not between {first} and {last}",
                    {"day": day.isoformat(), "first": FIRST_YEAR, "last": LAST_YEAR},
                )  # fmt: skip
        if self.end < self.start:
            raise PydanticCustomError(
                "end_before_start", "end {end} is before start {start}",
                {"end": self.end.isoformat(), "start": self.start.isoformat()},
            )  # fmt: skip
        if (self.end - self.start).days > 731:
            raise PydanticCustomError(
                "window_too_long", "a campaign window cannot be longer than two years"
            )
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
                raise PydanticCustomError(
                    "unknown_kind", "unknown service kind '{value}' (known: {known})",
                    {"value": value, "known": ", ".join(known_codes())},
                )  # fmt: skip
            if code not in out:
                out.append(code)
        return out

    @field_validator("population_bounds")
    @classmethod
    def _bounds(cls, values: list[int]) -> list[int]:
        if any(v <= 0 for v in values) or any(b <= a for a, b in itertools.pairwise(values)):
            raise PydanticCustomError("bounds_order", "must be positive and strictly increasing")
        return values

    @field_validator("insee")
    @classmethod
    def _insee(cls, values: list[str]) -> list[str]:
        out: list[str] = []
        for value in values:
            code = value.strip().upper()
            if not _INSEE.match(code):
                raise PydanticCustomError(
                    "not_insee", "'{value}' is not an INSEE code (5 characters) or a SIREN",
                    {"value": value},
                )  # fmt: skip
            if code not in out:
                out.append(code)
        return out

    @model_validator(mode="after")
    def _strata(self) -> Selection:
        known = strata_labels(self.population_bounds)
        for label in self.strata:
            if label not in known:
                raise PydanticCustomError(
                    "unknown_stratum", "strata: unknown stratum '{value}' (known: {known})",
                    {"value": label, "known": ", ".join(known)},
                )  # fmt: skip
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
            raise PydanticCustomError(
                "no_contacts", "no channel asks for any contact (set per_service on one)"
            )
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
            raise PydanticCustomError(
                "not_email", "'{value}' is not an email address", {"value": value}
            )
        return value

    @model_validator(mode="after")
    def _letters_need_an_address(self) -> PersonaSpec:
        if "letter" in self.channels and not (self.address and self.postal_code and self.city):
            raise PydanticCustomError(
                "letters_need_address",
                "a persona writing letters needs address, postal_code and city",
            )
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
        problems: list[Problem] = []
        keys: list[tuple[str, list[str]]] = [
            ("personas", [p.key for p in self.personas]),
            ("auditors", [a.key for a in self.auditors]),
        ]
        for what, names in keys:
            seen: dict[str, int] = {}
            for i, key in enumerate(names):
                if key in seen:
                    problems.append(_problem(
                        "duplicate", f"{key!r} is already {what}[{seen[key]}]", f"{what}[{i}].key",
                        value=key, first=f"{what}[{seen[key]}]",
                    ))  # fmt: skip
                seen.setdefault(key, i)
        emails: dict[str, int] = {}
        for i, persona in enumerate(self.personas):
            folded = persona.email.casefold()
            if folded in emails:
                first = f"personas[{emails[folded]}]"
                problems.append(_problem(
                    "duplicate", f"{persona.email!r} is already {first}", f"personas[{i}].email",
                    value=persona.email, first=first,
                ))  # fmt: skip
            emails.setdefault(folded, i)
        for channel in (Channel.EMAIL, Channel.LETTER):
            mix = self.mix.of(channel)
            wanted = mix is not None and mix.per_service > 0
            if wanted and not any(channel.value in p.channels for p in self.personas):
                problems.append(_problem(
                    "needs_persona", f"needs at least one persona with '{channel}' in channels",
                    f"mix.{channel}", channel=channel.value,
                ))  # fmt: skip
        if problems:
            raise PydanticCustomError(
                "consistency", "; ".join(map(str, problems)), {"problems": problems}
            )
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
    problems: list[Problem] = []
    for channel in CHANNEL_ORDER:
        mix = spec.mix.of(channel)
        for scenario_id in mix.scenarios if mix is not None else {}:
            found = channels.get(scenario_id)
            where = f"mix.{channel}.scenarios.{scenario_id}"
            if found is None:
                problems.append(_problem("no_scenario", "no such scenario in the catalogue",
                                         where, value=scenario_id))  # fmt: skip
            elif found is not channel:
                problems.append(_problem(
                    "wrong_channel", f"is a {found} scenario, not {channel}", where,
                    value=scenario_id, found=found.value, channel=channel.value,
                ))  # fmt: skip
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


def _problems(exc: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors():
        where = _loc(error["loc"])
        ctx = dict(error.get("ctx") or {})
        if error["type"] == "consistency":
            problems += ctx["problems"]
            continue
        message = str(error["msg"]).removeprefix("Value error, ")
        if "expected" in ctx:  # literal_error: "'email' or 'letter'"
            ctx["expected"] = str(ctx["expected"]).replace("'", "").replace(" or ", ", ")
        problems.append(Problem(where, message, error["type"], ctx))
    return problems


def parse_campaign(data: Any, source: str = "campaign file") -> CampaignSpec:
    """Validate already-read data (a dict from TOML, YAML or JSON)."""
    if not isinstance(data, dict):
        raise CampaignFileError(source, [_problem(
            "not_table", "the file must hold a table of keys (name, window...)"
        )])  # fmt: skip
    try:
        return CampaignSpec.model_validate(data)
    except ValidationError as exc:
        raise CampaignFileError(source, _problems(exc)) from None


def load_campaign_file(path: Path) -> CampaignSpec:
    """Read and validate a campaign file; ``CampaignFileError`` says what is wrong, with the
    line and column of each key it names (TOML and YAML)."""
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise CampaignFileError(source, [_problem(
            "suffix", "the file name must end in .toml, .yaml or .yml"
        )])  # fmt: skip
    try:
        raw = read_input(path, LIMITS["campaign"])
    except InputFileError as exc:
        said = Problem("", str(exc), "input", {"code": exc.code, **exc.params})
        raise CampaignFileError(source, [said]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CampaignFileError(source, [_problem("not_utf8", "is not UTF-8 text")]) from None
    language = "TOML" if suffix == ".toml" else "YAML"
    try:
        data = tomllib.loads(text) if suffix == ".toml" else yaml.safe_load(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, column = (int(found[1]), int(found[2])) if found else (None, None)
        if "(at end of document)" in str(exc):
            lines = text.split("\n")
            line, column = len(lines), len(lines[-1]) + 1
        raise CampaignFileError(source, [Problem(
            "", f"not valid TOML: {exc}", "syntax", {"language": "TOML"}, line, column
        )]) from None  # fmt: skip
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise CampaignFileError(source, [Problem(
            "", f"not valid YAML: {exc}".replace("\n", " "), "syntax", {"language": "YAML"},
            line, column,
        )]) from None  # fmt: skip
    except RecursionError:
        # arrays or tables nested thousands deep: the parsers recurse once per level
        raise CampaignFileError(source, [_problem(
            "too_deep", f"not valid {language}: nested too deeply", language=language
        )]) from None  # fmt: skip
    except ValueError as exc:
        # Python refuses to read an integer of more than 4,300 digits (a seed, a count)
        too_long = "integer string conversion" in str(exc)
        reason = "a number is too long" if too_long else exc
        raise CampaignFileError(source, [_problem(
            "number_too_long" if too_long else "syntax", f"not valid {language}: {reason}",
            language=language,
        )]) from None  # fmt: skip
    try:
        return parse_campaign(data, source)
    except CampaignFileError as exc:
        places = toml_places(text) if suffix == ".toml" else yaml_places(text)
        raise CampaignFileError(source, [_placed(p, places) for p in exc.problems]) from None


def _placed(problem: Problem, places: dict[str, tuple[int, int]]) -> Problem:
    """The problem with the line and column of its key, or of the nearest enclosing one."""
    where = problem.where
    while where:
        if where in places:
            line, column = places[where]
            return replace(problem, line=line, column=column)
        cut = max(where.rfind("."), where.rfind("["))
        where = where[:cut] if cut > 0 else ""
    return problem


_TOML_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_TOML_KEY = re.compile(
    r"""^(\s*)((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*="""
)

_TOML_INLINE = re.compile(r"\s*\{(.*)\}\s*(?:#.*)?$")
_TOML_INNER = re.compile(r"""(?:^|,)\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")


def _toml_parts(dotted: str) -> list[str]:
    return [p.strip().strip("\"'") for p in re.findall(r""""[^"]*"|'[^']*'|[^.]+""", dotted)]


def toml_places(text: str) -> dict[str, tuple[int, int]]:
    """Key path (as the problems name them: ``personas[1].email``) -> (line, column), from a
    line scan of the TOML text: ``tomllib`` keeps no positions. Best effort: keys inside
    multi-line strings or arrays may be missed; a problem then names an enclosing key."""
    places: dict[str, tuple[int, int]] = {}
    arrays: dict[str, int] = {}
    table = ""
    in_string = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.count('"""') % 2 or line.count("'''") % 2:
            in_string = not in_string
            if not in_string:
                continue
        if in_string:
            continue
        header = _TOML_HEADER.match(line)
        if header:
            path = ".".join(_toml_parts(header[2]))
            if header[1] == "[[":
                arrays[path] = arrays.get(path, -1) + 1
                path = f"{path}[{arrays[path]}]"
            table = path
            places.setdefault(table, (number, line.index(header[1]) + 1))
            continue
        key = _TOML_KEY.match(line)
        if key:
            path = ".".join(_toml_parts(key[2]))
            full = f"{table}.{path}" if table else path
            places.setdefault(full, (number, len(key[1]) + 1))
            inline = _TOML_INLINE.match(line, key.end())
            if inline is None:
                continue
            for inner in _TOML_INNER.finditer(inline[1]):
                name = _toml_parts(inner[1])[0]
                places.setdefault(f"{full}.{name}", (number, inline.start(1) + inner.start(1) + 1))
    return places


def yaml_places(text: str) -> dict[str, tuple[int, int]]:
    """Key path -> (line, column) from the YAML node tree (``yaml.compose`` keeps marks)."""
    places: dict[str, tuple[int, int]] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return places

    def walk(node: yaml.Node, path: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = f"{path}.{key.value}" if path else str(key.value)
                places.setdefault(name, (key.start_mark.line + 1, key.start_mark.column + 1))
                walk(value, name)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                name = f"{path}[{i}]"
                places.setdefault(name, (item.start_mark.line + 1, item.start_mark.column + 1))
                walk(item, name)

    if root is not None:
        walk(root, "")
    return places
