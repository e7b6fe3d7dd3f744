"""`temoin campaign plan` with a team too small for its field plan: refused with the
numbers, in French from the catalogue (English with locale = en), and nothing written."""

from __future__ import annotations

import dataclasses
import math
import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from scenarios.calendar import BusinessCalendar
from scenarios.geography import area
from scenarios.plan_model import InfeasiblePlan, Rules
from scenarios.typography import violations
from storage.models import Auditor, Campaign, Contact, Persona
from temoin.cli.plan_refusal import refusal_message
from temoin.cli.words import Words
from temoin.planning import PlanRefused
from tests.conftest import DbTarget
from tests.scenarios.test_planning import email_only, svc
from tests.temoin.test_campaign_cli import EXAMPLE_SERVICES, count, example_file, invoke

NB = "\u202f"
WINDOW = (date(2027, 3, 1), date(2027, 3, 26))  # four weeks, no holiday in metropolitan France
FR_LINE = re.compile(
    rf"^(?P<area>.+) \((?P<code>\w+)\){NB}: il faudrait (?P<needed>\d+) journées? d’enquêteur "
    rf"pour (?P<contacts>\d+) visites? \(1 par jour\){NB}; (?P<free>aucune|\d+) "
    rf"(?:n’est|est|sont) disponibles? sur (?P<days>\d+) dans la période "
    rf"\((?P<taken>\d+) déjà prises? dans (?:un autre département|d’autres départements)\)\. "
    rf"(?P<left>\d+) visites? (?:reste|restent) sans place\.$",
    re.MULTILINE,
)


@pytest.fixture
def undersized(cli_env: DbTarget, tmp_path: Path) -> Path:
    """The example campaign with one auditor everywhere, one visit a day, four weeks."""
    result = invoke("import", "services", str(EXAMPLE_SERVICES))
    assert result.exit_code == 0, result.output
    path = example_file(
        tmp_path,
        auditors=[{"key": "camille", "name": "Camille Seule"}],
        mix={"email": {"per_service": 1}, "visit": {"per_service": 1}},
    )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["window"] = {"start": WINDOW[0], "end": WINDOW[1]}
    data["rules"]["visits_per_auditor_day"] = 1
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_an_undersized_team_is_refused_in_french_with_the_numbers(
    undersized: Path, cli_env: DbTarget
) -> None:
    result = invoke("campaign", "plan", str(undersized))
    assert result.exit_code == 1, result.output
    head, *rest = result.output.removeprefix("temoin: ").splitlines()
    assert head == (
        f"Impossible de planifier la campagne barometre-printemps-2027{NB}: "
        "les journées des enquêteurs ne suffisent pas."
    )
    lines = list(FR_LINE.finditer(result.output))
    more = rest[-1] if rest and rest[-1].startswith("Et ") else None
    assert lines, result.output
    assert len(lines) == len(rest) - (more is not None) <= 5, result.output
    for m in lines:
        code = m["code"]
        assert m["area"] == area(code).name.replace("'", "’")
        n = int(m["contacts"])
        assert int(m["needed"]) == n  # one visit a day
        business = BusinessCalendar.for_departement(code).business_days(*WINDOW)
        assert int(m["days"]) == len(business)  # one auditor: the département's business days
        free = 0 if m["free"] == "aucune" else int(m["free"])
        assert free + int(m["taken"]) == len(business)
        left = int(m["left"])
        assert 0 < left <= n
        assert n - left <= free  # what was placed took days still free for the département
        assert not violations(m.group(0)), m.group(0)
    assert [int(m["left"]) for m in lines] == sorted((int(m["left"]) for m in lines), reverse=True)
    if more is not None:
        assert len(lines) == 5
        assert re.fullmatch(
            r"Et \d+ autres? départements? ou (?:canal|canaux) (?:manque|manquent) aussi de "
            r"journées\.",
            more,
        ), more
    for model in (Campaign, Contact, Persona, Auditor):
        assert count(cli_env, model) == 0


def test_the_refusal_speaks_english_when_the_locale_is_en(
    undersized: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMOIN_LOCALE", "en")
    result = invoke("campaign", "plan", "--dry-run", str(undersized))
    assert result.exit_code == 1, result.output
    assert "Cannot plan campaign barometre-printemps-2027: the auditors' days are not enough." in (
        result.output
    )
    line = re.search(
        r"^.+ \(\w+\): (\d+) auditor-days? needed for (\d+) visits? \(1 a day\); "
        r"(?:none is|\d+ (?:is|are)) available of \d+ in the window "
        r"\(\d+ already taken by (?:another|other) départements?\)\. "
        r"\d+ visits? finds? no place\.$",
        result.output,
        re.MULTILINE,
    )
    assert line is not None, result.output
    assert int(line[1]) == math.ceil(int(line[2]) / 1)


# --- the collectivities' rules: the daily cap and the lockout ------------------------------


def _lockout_file(tmp_path: Path) -> Path:
    """Three emails to each service in one week, three business days apart: cannot hold."""
    path = example_file(tmp_path, mix={"email": {"per_service": 3}})
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["window"] = {"start": date(2027, 3, 1), "end": date(2027, 3, 5)}
    data["rules"]["max_per_collectivity_per_day"] = 50
    data["rules"]["lockout_business_days"] = 3
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_lockout_that_cannot_hold_is_said_in_french(cli_env: DbTarget, tmp_path: Path) -> None:
    assert invoke("import", "services", str(EXAMPLE_SERVICES)).exit_code == 0
    result = invoke("campaign", "plan", str(_lockout_file(tmp_path)))
    assert result.exit_code == 1, result.output
    said = result.stderr.removeprefix("temoin: ")
    head, *more = said.splitlines()
    found = re.fullmatch(
        rf"Impossible de planifier la campagne barometre-printemps-2027{NB}: la règle "
        rf"«{NB}3 jours ouvrés sans contact entre deux contacts d’un même service{NB}» ne tient "
        rf"pas{NB}: le service (?P<kind>.+) \(n°\u00a0\d+\) de la collectivité .+ \(\w+\) a "
        rf"besoin d’un intervalle de 9 jours ouvrés pour 3 contacts, la période en compte "
        rf"5 jours ouvrés utilisables \(il en manque 4\)\.",
        head,
    )
    assert found, said
    assert found["kind"][0].isupper() and "_" not in found["kind"]  # a label, not a code
    assert len(more) == 1 and re.fullmatch(
        r"\d+ autres collectivités sont dans le même cas\.", more[0]
    ), said
    assert not violations(said), said
    for model in (Campaign, Contact, Persona, Auditor):
        assert count(cli_env, model) == 0


def test_the_rules_are_said_in_english_when_the_locale_is_en(
    cli_env: DbTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invoke("import", "services", str(EXAMPLE_SERVICES)).exit_code == 0
    monkeypatch.setenv("TEMOIN_LOCALE", "en")
    result = invoke("campaign", "plan", str(_lockout_file(tmp_path)))
    assert result.exit_code == 1, result.output
    assert re.match(
        r"temoin: Cannot plan campaign barometre-printemps-2027: rule 'lockout of 3 business "
        r"days between contacts to the same service' cannot hold: service .+ \(no\. \d+\) of "
        r"collectivity .+ \(\w+\) needs a span of 9 business days for 3 contacts, the window "
        r"has 5 usable business days \(short by 4\)\.\n\d+ other collectivities are short too\.",
        result.stderr,
    ), result.stderr

    path = example_file(tmp_path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["window"]["end"] = data["window"]["start"] = date(2027, 3, 1)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = invoke("campaign", "plan", str(path))
    assert result.exit_code == 1, result.output
    assert re.match(
        r"temoin: Cannot plan campaign \S+: rule 'at most 1 contact per collectivity per day' "
        r"cannot hold: collectivity .+ \(\w+\) needs \d+ business days, the window has "
        r"1 business day \(short by \d+\)\.",
        result.stderr,
    ), result.stderr


def _refused(request: object) -> PlanRefused:
    from scenarios.planning import PlanRequest, plan

    assert isinstance(request, PlanRequest)
    try:
        plan(request)
    except InfeasiblePlan as exc:
        return PlanRefused(str(exc), "essai", exc.shortfalls, request.rules, exc)
    raise AssertionError("the plan held")


@pytest.mark.parametrize(
    ("change", "fr", "en"),
    [
        ({"window_end": date(2026, 3, 1)}, "la période finit avant de commencer.",
         "the window ends before it starts."),
        ({"rules": Rules(max_per_collectivity_per_day=0)},
         f"au plus 0 contact par collectivité et par jour{NB}: rien ne peut être planifié.",
         "at most 0 contacts per collectivity per day: nothing can be planned."),
        ({"personas": []},
         f"aucune persona n’écrit par le canal «{NB}Courriel{NB}», et le mix en demande.",
         "no persona writes by the 'Email' channel, and the mix asks for some."),
    ],
)  # fmt: skip
def test_every_case_of_the_planner_is_said_from_the_catalogue(
    change: dict[str, object], fr: str, en: str
) -> None:
    """The planner's own refusals (``InfeasiblePlan`` codes) in both languages."""
    request = dataclasses.replace(email_only([svc(1, 1, "57")]), **change)  # type: ignore[arg-type]
    refused = _refused(request)
    said = refusal_message(refused, Words("fr"))
    assert said == f"Impossible de planifier la campagne essai{NB}: {fr}"
    assert not violations(said), said
    assert refusal_message(refused, Words("en")) == f"Cannot plan campaign essai: {en}"
