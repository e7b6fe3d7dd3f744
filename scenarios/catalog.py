"""The scenario catalogue: one YAML file per scenario in ``scenarios/catalog/<id>.yaml``.

    directory --read--> YAML --pydantic--> Scenario --checks--> Catalog | CatalogError

``check_catalog`` reports every problem it finds (file, path in the file such as
``wordings[1].body`` or ``grid[2].relevant``, reason) instead of stopping at the first;
``load_catalog`` raises ``CatalogError`` with that list when there is any. The checks render
every wording with a sample persona and service, so a campaign never discovers a misspelt
variable while it is sending.

Timing targets default per channel (the Marianne / Services Publics+ referentials): an email is
answered within 5 working days and acknowledged within 5, a letter answered within 15 and
acknowledged within 10, a phone call picked up before the 5th ring. A scenario may override
any of them and may add ``followup_after_days`` with a ``followup`` wording (the « relance »).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import yaml
from jinja2 import TemplateSyntaxError, meta, nodes
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scenarios.domain import Channel, CollectivityKind
from scenarios.grid import Measure, Question, check_grid
from scenarios.input_files import LIMITS, InputFileError, read_input
from scenarios.render import (
    ENVIRONMENT,
    FOLLOWUP_VARIABLES,
    SAMPLE_COLLECTIVITY,
    SAMPLE_PERSONA,
    SAMPLE_REQUEST,
    TEMPLATE_VARIABLES,
    compile_template,
    render_wording,
    sample_service,
)
from scenarios.service_kinds import known_codes
from scenarios.text import fold_terms

CATALOG_DIR = Path(__file__).parent / "catalog"
SCENARIO_ID = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
ELEMENT_ID = r"^[a-z][a-z0-9_]*$"

WRITTEN_CHANNELS = frozenset({Channel.EMAIL, Channel.LETTER})
FIELD_CHANNELS = frozenset({Channel.PHONE, Channel.VISIT})

DEFAULT_TARGETS: dict[Channel, dict[str, int]] = {
    Channel.EMAIL: {"answer_days": 5, "acknowledgement_days": 5},
    Channel.LETTER: {"answer_days": 15, "acknowledgement_days": 10},
    Channel.PHONE: {"pickup_before_ring": 5},
    Channel.VISIT: {},
}


class Targets(BaseModel):
    """Timing targets; days are business days of the collectivity's département."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    answer_days: int | None = Field(default=None, gt=0)
    acknowledgement_days: int | None = Field(default=None, gt=0)
    pickup_before_ring: int | None = Field(default=None, gt=1)
    followup_after_days: int | None = Field(default=None, gt=0)


class Wording(BaseModel):
    """One way of putting the request: a Jinja2 subject (email, letter) and body.

    For phone and visit scenarios the body is the auditor's script (what to ask).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str | None = None
    body: str = Field(min_length=1)


class ExpectedElement(BaseModel):
    """Something a good answer says, recognised by any of its patterns.

    Patterns are matched on whole words after folding case and accents; a trailing ``*``
    matches any ending (``gratuit*`` finds « gratuite » and « gratuitement »).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=ELEMENT_ID, max_length=80)
    label: str = Field(min_length=1)
    patterns: tuple[str, ...] = Field(min_length=1)

    def found_in(self, text: str) -> bool:
        folded = fold_terms(text)
        return any(_pattern_regex(pattern).search(folded) for pattern in self.patterns)


@lru_cache(maxsize=8192)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    prefix = pattern.rstrip().endswith("*")
    core = re.escape(fold_terms(pattern.rstrip().rstrip("*")))
    return re.compile(rf"(?<!\w){core}" + ("" if prefix else r"(?!\w)"))


class Scenario(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=SCENARIO_ID, max_length=80)
    title: str = Field(min_length=1)
    channel: Channel
    service_kinds: tuple[str, ...]
    description: str = Field(min_length=1)
    wordings: tuple[Wording, ...]
    expected_elements: tuple[ExpectedElement, ...]
    improvement_tips: tuple[str, ...]
    # Tips for one kind of collectivity (commune, epci, departement, region) in place of the
    # general ones: a département's social services get no tip about a town's CCAS.
    improvement_tips_by_kind: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    targets: Targets = Targets()
    followup: Wording | None = None
    grid: tuple[Question, ...] = ()

    def tips_for(self, collectivity_kind: str) -> tuple[str, ...]:
        """The improvement tips for a collectivity of that kind."""
        return self.improvement_tips_by_kind.get(collectivity_kind, self.improvement_tips)

    @model_validator(mode="before")
    @classmethod
    def _default_targets(cls, data: Any) -> Any:
        """Fill the targets the file does not give with the channel's defaults."""
        if not isinstance(data, dict):
            return data
        try:
            channel = Channel(str(data.get("channel")))
        except ValueError:
            return data
        given = data.get("targets")
        if given is None:
            given = {}
        if not isinstance(given, dict):
            return data
        return {**data, "targets": {**DEFAULT_TARGETS[channel], **given}}

    def fits(self, service_kind: str) -> bool:
        return service_kind in self.service_kinds

    def question(self, question_id: str) -> Question:
        for question in self.grid:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def elements_found(self, text: str) -> list[str]:
        """Ids of the expected elements a reply's text contains."""
        return [element.id for element in self.expected_elements if element.found_in(text)]


@dataclass(frozen=True, slots=True)
class CatalogProblem:
    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        if self.path:
            return f"{self.file}: {self.path}: {self.reason}"
        return f"{self.file}: {self.reason}"


class CatalogError(Exception):
    def __init__(self, problems: list[CatalogProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        count = len(problems)
        super().__init__(f"{count} problem{'s' if count > 1 else ''} in the catalogue:\n{lines}")


class UnknownScenario(KeyError):
    pass


@dataclass(frozen=True)
class Catalog:
    scenarios: dict[str, Scenario]
    directory: Path | None = None

    def get(self, scenario_id: str) -> Scenario:
        try:
            return self.scenarios[scenario_id]
        except KeyError:
            raise UnknownScenario(scenario_id) from None

    def fitting(self, service_kind: str, channel: Channel | None = None) -> list[Scenario]:
        """Scenarios that fit ``service_kind`` (on ``channel`` if given), by id."""
        return [
            scenario
            for scenario in self.scenarios.values()
            if scenario.fits(service_kind) and (channel is None or scenario.channel == channel)
        ]

    def __iter__(self) -> Iterator[Scenario]:
        return iter(self.scenarios.values())

    def __len__(self) -> int:
        return len(self.scenarios)


def load_catalog(directory: Path | None = None) -> Catalog:
    """Every scenario of ``directory`` (default: the shipped catalogue), checked."""
    folder = CATALOG_DIR if directory is None else directory
    scenarios, problems = _read_directory(folder)
    if problems:
        raise CatalogError(problems)
    return Catalog(scenarios=scenarios, directory=folder)


def check_catalog(directory: Path | None = None) -> list[CatalogProblem]:
    """Every problem in the catalogue at ``directory`` (default: the shipped one)."""
    return _read_directory(CATALOG_DIR if directory is None else directory)[1]


# --------------------------------------------------------------------------- reading


def _read_directory(directory: Path) -> tuple[dict[str, Scenario], list[CatalogProblem]]:
    if not directory.is_dir():
        return {}, [CatalogProblem(str(directory), "", "not a directory")]
    problems: list[CatalogProblem] = []
    read: list[tuple[Scenario, Path]] = []
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))
    for path in files:
        if path.suffix == ".yml":
            problems.append(CatalogProblem(str(path), "", "name scenario files <id>.yaml"))
            continue
        scenario, file_problems = _read_file(path)
        problems.extend(CatalogProblem(str(path), where, why) for where, why in file_problems)
        if scenario is not None:
            read.append((scenario, path))
    if not files:
        problems.append(CatalogProblem(str(directory), "", "no scenario file (<id>.yaml) here"))
    # an id belongs to the file named after it; any other file claiming it is the duplicate
    read.sort(key=lambda item: (item[1].stem != item[0].id, item[1].name))
    found: dict[str, tuple[Scenario, Path]] = {}
    for scenario, path in read:
        if scenario.id in found:
            other = found[scenario.id][1].name
            problems.append(CatalogProblem(str(path), "id", f"duplicate id, also in {other}"))
        else:
            found[scenario.id] = (scenario, path)
    scenarios = {key: found[key][0] for key in sorted(found)}
    return scenarios, problems


def _read_file(path: Path) -> tuple[Scenario | None, list[tuple[str, str]]]:
    try:
        text = read_input(path, LIMITS["scenario"]).decode("utf-8")
    except UnicodeDecodeError:
        return None, [("", "not UTF-8 text")]
    except InputFileError as exc:
        return None, [("", str(exc))]
    try:
        data = _safe_load(text)
    except yaml.YAMLError as exc:
        return None, [("", _yaml_reason(exc))]
    except RecursionError:
        return None, [("", "not valid YAML: nested too deeply")]
    except ValueError:  # an integer of more than 4,300 digits
        return None, [("", "not valid YAML: a number is too long")]
    if not isinstance(data, dict):
        return None, [("", "a scenario file holds a mapping of keys (id:, title:, …)")]
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        return None, _validation_problems(exc)
    return scenario, scenario_problems(scenario, path.stem)


# libyaml's parser where PyYAML was built with it: the same documents (the constructor is
# PyYAML's own), read about five times faster (the catalogue is read by every export).
_FAST_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _safe_load(text: str) -> Any:
    """``yaml.safe_load``, through libyaml when it reads the text; a text it refuses is
    read again by the pure-Python parser, whose error messages (and marks) are the ones
    shown."""
    try:
        return yaml.load(text, Loader=_FAST_LOADER)  # a safe loader
    except (yaml.YAMLError, RecursionError, ValueError):
        return yaml.safe_load(text)


def _yaml_reason(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
    return f"invalid YAML: {exc}"


def _loc_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


_MET_WHEN_FORMS = "met_when is yes/no, a choice value, a list of choice values or {min:, max:}"


def _validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if "met_when" in loc:
            # a union: pydantic reports one error per member; one line says it better
            loc = loc[: loc.index("met_when") + 1]
            reason = _MET_WHEN_FORMS
        elif error["type"] == "missing":
            reason = "missing field"
        elif error["type"] == "extra_forbidden":
            reason = "unknown key"
        else:
            reason = f"{error['msg']} (got {error['input']!r})"
        problem = (_loc_path(loc), reason)
        if problem not in problems:
            problems.append(problem)
    return problems


# --------------------------------------------------------------------------- checks


def scenario_problems(scenario: Scenario, stem: str | None = None) -> list[tuple[str, str]]:
    """What is wrong with a well-formed scenario: (path, reason) pairs."""
    problems: list[tuple[str, str]] = []
    if stem is not None and scenario.id != stem:
        problems.append(("id", f"id {scenario.id!r} differs from the file name {stem!r}.yaml"))
    problems.extend(_kind_problems(scenario))
    if len(scenario.wordings) < 2:
        problems.append(("wordings", f"at least 2 wordings, found {len(scenario.wordings)}"))
    for index, wording in enumerate(scenario.wordings):
        problems.extend(_wording_problems(scenario, wording, f"wordings[{index}]", followup=False))
    problems.extend(_followup_problems(scenario))
    problems.extend(_element_problems(scenario))
    if not 1 <= len(scenario.improvement_tips) <= 3:
        count = len(scenario.improvement_tips)
        problems.append(("improvement_tips", f"give 1 to 3 improvement tips, found {count}"))
    for kind, tips in scenario.improvement_tips_by_kind.items():
        where = f"improvement_tips_by_kind.{kind}"
        if kind not in {k.value for k in CollectivityKind}:
            problems.append((where, f"unknown collectivity kind {kind!r}"))
        if not 1 <= len(tips) <= 3:
            problems.append((where, f"give 1 to 3 improvement tips, found {len(tips)}"))
    problems.extend(_target_problems(scenario))
    if scenario.channel in WRITTEN_CHANNELS and scenario.grid:
        problems.append(("grid", f"{scenario.channel} scenarios have no audit grid"))
    if scenario.channel in FIELD_CHANNELS:
        if not scenario.grid:
            problems.append(("grid", f"{scenario.channel} scenarios need an audit grid"))
        problems.extend((f"grid{path}", reason) for path, reason in check_grid(scenario.grid))
        problems.extend(_measured_problems(scenario))
    return problems


# Which presses measure what: a visit's buttons cannot time a call.
_MEASURED_ON = {
    Measure.VISIT_WAIT: Channel.VISIT,
    Measure.VISIT_EXCHANGE: Channel.VISIT,
    Measure.CALL_LENGTH: Channel.PHONE,
}


def _measured_problems(scenario: Scenario) -> list[tuple[str, str]]:
    problems = []
    seen: set[Measure] = set()
    for index, question in enumerate(scenario.grid):
        if question.measured is None:
            continue
        where = f"grid[{index}].measured"
        if _MEASURED_ON[question.measured] != scenario.channel:
            problems.append((where, f"{question.measured} is not measured on a {scenario.channel}"))
        if question.measured in seen:
            problems.append((where, f"{question.measured} measured by two questions"))
        seen.add(question.measured)
    return problems


def _kind_problems(scenario: Scenario) -> list[tuple[str, str]]:
    if not scenario.service_kinds:
        return [("service_kinds", "name at least one service kind")]
    known = known_codes()
    problems = []
    for index, kind in enumerate(scenario.service_kinds):
        if kind not in known:
            problems.append(
                (f"service_kinds[{index}]", f"unknown service kind {kind!r}; known: {known}")
            )
        elif kind in scenario.service_kinds[:index]:
            problems.append((f"service_kinds[{index}]", f"{kind!r} is listed twice"))
    return problems


def _wording_problems(
    scenario: Scenario, wording: Wording, at: str, *, followup: bool
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    written = scenario.channel in WRITTEN_CHANNELS
    if written and not (wording.subject or "").strip():
        problems.append(
            (f"{at}.subject", f"missing subject ({scenario.channel} wordings need one)")
        )
    if not written and wording.subject is not None:
        problems.append((f"{at}.subject", f"a {scenario.channel} script has no subject"))
    variables = FOLLOWUP_VARIABLES if followup else TEMPLATE_VARIABLES
    parts = {"subject": wording.subject, "body": wording.body}
    broken = False
    for part, source in parts.items():
        if source is None:
            continue
        reasons = _template_problems(source, variables)
        problems.extend((f"{at}.{part}", reason) for reason in reasons)
        broken = broken or bool(reasons)
    if not broken:
        problems.extend(_render_problems(scenario, wording, at, followup=followup))
    return problems


def _template_problems(source: str, variables: Mapping[str, frozenset[str]]) -> list[str]:
    try:
        compile_template(source)  # also refuses unknown filters and tests
        tree = ENVIRONMENT.parse(source)
    except TemplateSyntaxError as exc:
        return [f"template syntax error at line {exc.lineno}: {exc.message}"]
    reasons = [
        f"unknown variable {name!r} (known: {', '.join(sorted(variables))})"
        for name in sorted(meta.find_undeclared_variables(tree))
        if name not in variables
    ]
    for node in tree.find_all(nodes.Getattr):
        owner = node.node
        if (
            isinstance(owner, nodes.Name)
            and owner.name in variables
            and node.attr not in variables[owner.name]
        ):
            known = ", ".join(sorted(variables[owner.name]))
            reasons.append(f"unknown variable {owner.name}.{node.attr} (known: {known})")
    return reasons


def _render_problems(
    scenario: Scenario, wording: Wording, at: str, *, followup: bool
) -> list[tuple[str, str]]:
    """Render for every fitting kind, as a campaign would; report each failure once."""
    problems: list[tuple[str, str]] = []
    request = SAMPLE_REQUEST if followup else None
    for kind in scenario.service_kinds:
        if kind not in known_codes():
            continue
        try:
            message = render_wording(
                wording, SAMPLE_PERSONA, sample_service(kind), SAMPLE_COLLECTIVITY, request
            )
        except Exception as exc:  # a template may fail in many ways; report, don't crash
            problem = (f"{at}.body", f"cannot be rendered: {exc.__class__.__name__}: {exc}")
            if problem not in problems:
                problems.append(problem)
            continue
        for part, text in (("subject", message.subject), ("body", message.body)):
            if text is None:
                continue
            if not text.strip():
                problems.append((f"{at}.{part}", f"renders empty (for {kind})"))
            for leftover in ("{{", "}}", "{%", "%}"):
                if leftover in text:
                    problems.append((f"{at}.{part}", f"rendered text still holds {leftover!r}"))
    return list(dict.fromkeys(problems))


def _followup_problems(scenario: Scenario) -> list[tuple[str, str]]:
    after = scenario.targets.followup_after_days
    if scenario.followup is None:
        if after is not None:
            return [("followup", "targets.followup_after_days is set: give the followup wording")]
        return []
    if scenario.channel not in WRITTEN_CHANNELS:
        return [("followup", "only email and letter scenarios have a follow-up")]
    problems = []
    if after is None:
        problems.append(("targets.followup_after_days", "a followup wording needs this delay"))
    problems.extend(_wording_problems(scenario, scenario.followup, "followup", followup=True))
    return problems


def _element_problems(scenario: Scenario) -> list[tuple[str, str]]:
    if not scenario.expected_elements:
        return [("expected_elements", "name at least one element of a good answer")]
    problems = []
    seen: set[str] = set()
    for index, element in enumerate(scenario.expected_elements):
        at = f"expected_elements[{index}]"
        if element.id in seen:
            problems.append((f"{at}.id", f"duplicate element id {element.id!r}"))
        seen.add(element.id)
        for p_index, pattern in enumerate(element.patterns):
            core = pattern.strip()
            if not fold_terms(core.rstrip("*")):
                problems.append((f"{at}.patterns[{p_index}]", "empty pattern"))
            elif "*" in core.rstrip("*"):
                problems.append((f"{at}.patterns[{p_index}]", "'*' only at the end of a pattern"))
    return problems


def _target_problems(scenario: Scenario) -> list[tuple[str, str]]:
    targets = scenario.targets
    problems = []
    if scenario.channel not in WRITTEN_CHANNELS:
        for name in ("answer_days", "acknowledgement_days", "followup_after_days"):
            if getattr(targets, name) is not None:
                problems.append((f"targets.{name}", "only for email and letter scenarios"))
    if scenario.channel != Channel.PHONE and targets.pickup_before_ring is not None:
        problems.append(("targets.pickup_before_ring", "only for phone scenarios"))
    return problems
