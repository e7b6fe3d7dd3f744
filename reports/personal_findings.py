"""What a collectivity's barometer says about each channel, in words: findings, strengths and
priorities, the auditors' remarks (anonymised), improvement tracks, and its peer group.

Pure functions over ``ContactFacts``, grid answers and the scenario catalogue; the report
(``reports.render_personal``) lays them out.

- Findings: every assessed criterion of the collectivity's contacts of one channel, tallied
  as « met m times out of n ». A criterion is named as the practice it looks for
  (« Décroché en 4 sonneries au plus »), from the catalogue's ``report.finding.<question>``
  (thresholds from the question's ``met_when``), never as the auditor's question. Criteria of
  several scenarios with the same name are counted together.
- Strengths: criteria met at least three times in four, best first; priorities: criteria
  missed at least once in two, the most missed (then the heaviest) first; three of each.
- Remarks: the free-text answers of the grid (question type ``text``), with e-mail addresses,
  phone numbers, a name after a civility (« Mme Durand ») and the personas' and auditors'
  names replaced by a placeholder, and no author. A bare first name of an agent can remain:
  the coordinator reads remarks before the report goes out. They stay untrusted text: the
  template escapes them.
- Peer group: communes are compared with the communes of their population stratum; an EPCI,
  a département or a région with the others of its own kind only, never with towns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from reports.aggregate import MAX_RINGS_ON_TIME, TIMING_ACK, TIMING_ANSWER, TIMING_PICKUP
from reports.facts import ContactFacts
from reports.strata import stratum_index
from scenarios.catalog import Catalog, Scenario
from scenarios.formatting import Formats
from scenarios.grid import Bounds, Question, QuestionType
from scenarios.i18n import Translator
from scenarios.typography import french

__all__ = [
    "Finding",
    "anonymise",
    "criteria_of",
    "finding_label",
    "names_pattern",
    "peer_group",
    "peer_label",
    "remarks_of",
    "strengths_and_priorities",
    "tally",
    "tips_for",
]

WRITTEN: Final = ("email", "letter")
STRENGTH_RATE: Final = 0.75
PRIORITY_RATE: Final = 0.5
TOP: Final = 3
MAX_TIPS: Final = 5


@dataclass(slots=True)
class Finding:
    label: str
    met: int = 0
    assessed: int = 0
    weight: float = 1.0
    scenarios: set[str] = field(default_factory=set)

    @property
    def rate(self) -> float:
        return self.met / self.assessed if self.assessed else 0.0


def criteria_of(facts: ContactFacts) -> list[tuple[str, float, bool]]:
    """(criterion id, weight, met) of every assessed criterion of one contact, timing too."""
    out: list[tuple[str, float, bool]] = []
    if facts.delivered and facts.channel in WRITTEN:
        if facts.answered_within_target is not None:
            out.append((TIMING_ANSWER, 1.0, facts.answered_within_target))
        if facts.acknowledged_within_target is not None:
            out.append((TIMING_ACK, 1.0, facts.acknowledged_within_target))
    # The grid's own rings criterion, when answered, says the same as the pick-up timing.
    rings_in_grid = any(cid.endswith(".rings") and met is not None for cid, _w, met in facts.grid)
    if (
        facts.delivered
        and facts.channel == "phone"
        and facts.picked_up is not None
        and not rings_in_grid
    ):
        if not facts.picked_up:
            out.append((TIMING_PICKUP, 1.0, False))
        elif facts.rings is not None:
            out.append((TIMING_PICKUP, 1.0, facts.rings <= MAX_RINGS_ON_TIME))
    out += [(cid, weight, met) for cid, weight, met in facts.grid if met is not None]
    return out


def _threshold(question: Question, f: Formats) -> str:
    bound = question.met_when.max if isinstance(question.met_when, Bounds) else None
    if bound is None:
        return ""
    if question.type is QuestionType.DURATION:
        if bound >= 60 and bound % 60 == 0:  # « 2 min », not « 2 min 00 s »
            return f"{f.number(bound // 60)}\u202fmin"
        return f.duration(bound)
    return f.number(bound)


def finding_label(criterion: str, scenario: Scenario | None, t: Translator, f: Formats) -> str:
    """The criterion named as the practice it looks for (module docstring)."""
    if criterion.startswith("timing."):
        return t(f"report.timing.{criterion}")
    if criterion.startswith("form."):
        key = f"report.{criterion}"
        return t(key) if t.has(key) else criterion
    if scenario is None:
        return criterion
    rest = criterion.removeprefix(f"{scenario.id}.")
    if rest.startswith("content."):
        element = rest.removeprefix("content.")
        for expected in scenario.expected_elements:
            if expected.id == element:
                return t("report.timing.content", label=expected.label)
        return element
    try:
        question = scenario.question(rest)
    except KeyError:
        return rest
    key = f"report.finding.{question.id}"
    if t.has(key):
        return t(key, max=_threshold(question, f))
    return question.label.rstrip(" ?\u202f")


def tally(
    rows: Iterable[ContactFacts], catalog: Catalog, t: Translator, f: Formats
) -> dict[str, list[Finding]]:
    """Channel -> its findings, in the order first met (see ``strengths_and_priorities``)."""
    found: dict[str, dict[str, Finding]] = {}
    for facts in rows:
        scenario = catalog.scenarios.get(facts.scenario_id)
        by_label = found.setdefault(facts.channel, {})
        for criterion, weight, met in criteria_of(facts):
            label = finding_label(criterion, scenario, t, f)
            item = by_label.setdefault(label, Finding(label, weight=weight))
            item.assessed += 1
            item.met += 1 if met else 0
            item.weight = max(item.weight, weight)
            item.scenarios.add(facts.scenario_id)
    return {channel: list(items.values()) for channel, items in found.items()}


def strengths_and_priorities(
    findings: Sequence[Finding],
) -> tuple[list[Finding], list[Finding]]:
    priorities = sorted(
        (x for x in findings if x.assessed and x.rate <= PRIORITY_RATE),
        key=lambda x: (x.rate, -x.weight, -x.assessed, x.label),
    )[:TOP]
    strengths = sorted(
        (x for x in findings if x.assessed and x.rate >= STRENGTH_RATE),
        key=lambda x: (-x.rate, -x.weight, -x.assessed, x.label),
    )[:TOP]
    return strengths, priorities


def tips_for(findings: Sequence[Finding], catalog: Catalog, collectivity_kind: str) -> list[str]:
    """The improvement tracks of the scenarios whose criteria were missed, most missed
    first, each tip once, at most ``MAX_TIPS``; a kind's own tips replace the general ones."""
    missed: dict[str, int] = {}
    for item in findings:
        for scenario_id in item.scenarios:
            missed[scenario_id] = missed.get(scenario_id, 0) + (item.assessed - item.met)
    tips: list[str] = []
    for scenario_id, count in sorted(missed.items(), key=lambda kv: (-kv[1], kv[0])):
        scenario = catalog.scenarios.get(scenario_id)
        if count == 0 or scenario is None:
            continue
        tips += [tip for tip in scenario.tips_for(collectivity_kind) if tip not in tips]
    return tips[:MAX_TIPS]


# --------------------------------------------------------------------------- remarks

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\d)(?:\+33[\s.]?|0)[1-9](?:[\s.\u00a0\u202f-]?\d{2}){4}(?!\d)")
_NAMED = re.compile(
    r"\b(M\.|Mme|Mlle|Monsieur|Madame|Mademoiselle|Dr|Docteur|Maître|Me)"
    r"(\s+)[A-ZÀ-Ý][\w’'-]*(?:\s+[A-ZÀ-Ý][\w’'-]+)?"
)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def names_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """Whole names (any case) and their surnames (capitalised, at least three letters) of the
    personas and auditors, as one pattern; ``None`` when there are none."""
    parts: set[str] = set()
    for name in names:
        words = name.split()
        if words:
            parts.add("(?i:" + r"\s+".join(re.escape(w) for w in words) + ")")
        if len(words) > 1 and len(words[-1]) >= 3 and words[-1][:1].isupper():
            parts.add(re.escape(words[-1]))
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(sorted(parts, key=len, reverse=True)) + r")(?!\w)")


def anonymise(text: str, t: Translator, names: re.Pattern[str] | None = None) -> str:
    """``text`` without e-mail addresses, phone numbers, names after a civility or the
    personas' and auditors' ``names``, nor control characters; typographically French when
    the reader is."""
    text = _CONTROLS.sub(" ", text)
    if names is not None:
        text = names.sub(t("report.personal.redacted_name"), text)
    text = _EMAIL.sub(t("report.personal.redacted_email"), text)
    text = _PHONE.sub(t("report.personal.redacted_phone"), text)
    text = _NAMED.sub(lambda m: m.group(1) + m.group(2) + t("report.personal.redacted_name"), text)
    text = " ".join(text.split())
    return french(text) if t.locale == "fr" else text


def remarks_of(
    rows: Iterable[tuple[ContactFacts, dict[str, Any]]],
    catalog: Catalog,
    t: Translator,
    names: re.Pattern[str] | None = None,
) -> dict[str, list[str]]:
    """Channel -> the auditors' free-text remarks on it, anonymised, in contact order."""
    out: dict[str, list[str]] = {}
    for facts, answers in rows:
        scenario = catalog.scenarios.get(facts.scenario_id)
        if scenario is None:
            continue
        for question in scenario.grid:
            value = answers.get(question.id)
            if question.type is QuestionType.TEXT and isinstance(value, str) and value.strip():
                out.setdefault(facts.channel, []).append(anonymise(value, t, names))
    return out


# --------------------------------------------------------------------------- peers


def peer_group(kind: str, population: int, strata: Sequence[int]) -> str:
    """Who a collectivity is compared with: ``commune:<stratum index>`` or its kind."""
    if kind == "commune":
        return f"commune:{stratum_index(population, strata)}"
    return kind


def stratum_label(population: int, strata: Sequence[int], t: Translator, f: Formats) -> str:
    index = stratum_index(population, strata)
    if index == 0:
        return t("report.stratum_label.below", high=f.number(strata[0]))
    if index == len(strata):
        return t("report.stratum_label.above", low=f.number(strata[-1]))
    return t(
        "report.stratum_label.between",
        low=f.number(strata[index - 1]),
        high=f.number(strata[index]),
    )


def peer_label(
    kind: str, population: int, strata: Sequence[int], t: Translator, f: Formats, *, column: bool
) -> str:
    """The peer column's heading (``column``) or the group's name in a sentence."""
    prefix = "peers" if column else "group"
    if kind == "commune":
        return t(
            f"report.personal.{prefix}_commune", stratum=stratum_label(population, strata, t, f)
        )
    key = f"report.personal.{prefix}_{kind}"
    return t(key) if t.has(key) else kind
