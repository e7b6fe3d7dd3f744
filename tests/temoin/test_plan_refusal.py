"""`temoin campaign plan` with a team too small for its field plan: refused with the
numbers, in French from the catalogue (English with locale = en), and nothing written."""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from scenarios.calendar import BusinessCalendar
from scenarios.geography import area
from scenarios.typography import violations
from storage.models import Auditor, Campaign, Contact, Persona
from tests.conftest import DbTarget
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
