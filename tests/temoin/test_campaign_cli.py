"""`temoin campaign plan/show` end to end, on SQLite and PostgreSQL; the campaign file."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import tomllib
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from sqlalchemy import func, select, update
from typer.testing import CliRunner, Result

import temoin.cli.app
from scenarios.calendar import BusinessCalendar
from scenarios.campaign_file import CampaignFileError, load_campaign_file, parse_campaign
from scenarios.domain import ContactStatus
from scenarios.opening_hours import parse_hours
from scenarios.typography import violations
from storage.db import Database
from storage.models import Auditor, Campaign, Collectivity, Contact, Persona, Service
from tests.conftest import DbTarget

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CAMPAIGN = ROOT / "examples" / "campaign.toml"
EXAMPLE_SERVICES = ROOT / "examples" / "services.csv"
NAME = "barometre-printemps-2027"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(temoin.cli.app.app, list(args))


def example_file(tmp_path: Path, **changes: Any) -> Path:
    """The example campaign, its window moved by whole years while it lies in the past
    (the planner plans nothing before now), with ``changes`` applied to its top level."""
    text = EXAMPLE_CAMPAIGN.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    start, end = data["window"]["start"], data["window"]["end"]
    while start <= date.today():
        start, end = start.replace(year=start.year + 1), end.replace(year=end.year + 1)
    data["window"] = {"start": start, "end": end}
    data.update(changes)
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def run(target: DbTarget, work: Any) -> Any:
    async def main() -> Any:
        database: Database = target.database()
        try:
            async with database.session() as s:
                return await work(s)
        finally:
            await database.dispose()

    return asyncio.run(main())


def count(target: DbTarget, model: Any) -> int:
    async def work(s: Any) -> int:
        return int(await s.scalar(select(func.count()).select_from(model)))

    return int(run(target, work))


class ContactRow(NamedTuple):
    id: int
    service_id: int
    channel: str
    planned_at: datetime
    status: str
    persona_id: int | None
    auditor_id: int | None
    insee_code: str
    departement: str
    kind: str
    opening_hours: str | None


def contacts(target: DbTarget) -> list[ContactRow]:
    async def work(s: Any) -> list[ContactRow]:
        query = (
            select(
                Contact.id,
                Contact.service_id,
                Contact.channel,
                Contact.planned_at,
                Contact.status,
                Contact.persona_id,
                Contact.auditor_id,
                Collectivity.insee_code,
                Collectivity.departement,
                Service.kind,
                Service.opening_hours,
            )
            .join(Service, Contact.service_id == Service.id)
            .join(Collectivity, Contact.collectivity_id == Collectivity.id)
            .order_by(Contact.id)
        )
        return [ContactRow(*row) for row in await s.execute(query)]

    return list(run(target, work))


async def status_times(s: Any) -> dict[int, datetime]:
    return {i: at for i, at in await s.execute(select(Contact.id, Contact.status_at))}


@pytest.fixture
def imported(cli_env: DbTarget) -> DbTarget:
    result = invoke("import", "services", str(EXAMPLE_SERVICES))
    assert result.exit_code == 0, result.output
    return cli_env


def check_rules(rows: list[ContactRow], start: date, end: date) -> None:
    """What the example's rules promise, read back from the database."""
    per_day: Counter[tuple[str, date]] = Counter()
    by_service: dict[int, list[date]] = {}
    dispatch = parse_hours("lu-ve 08:30-12:00,13:30-18:00")
    default = parse_hours("lu-ve 09:00-12:00,14:00-17:00")
    for row in rows:
        cal = BusinessCalendar.for_departement(row.departement)
        assert row.planned_at.tzinfo is UTC
        local = row.planned_at.astimezone(cal.tz)
        day = local.date()
        assert start <= day <= end and cal.is_business_day(day), row
        hours = dispatch if row.channel in ("email", "letter") else default
        if row.channel in ("phone", "visit") and row.opening_hours:
            hours = parse_hours(row.opening_hours)
        assert any(iv.start <= local.time() < iv.end for iv in hours.on(local.weekday())), row
        per_day[row.insee_code, day] += 1
        by_service.setdefault(row.service_id, []).append(day)
        if row.channel in ("email", "letter"):
            assert row.persona_id is not None and row.auditor_id is None
        else:
            assert row.persona_id is None
            if row.status in ("planned", "assigned"):
                assert row.status == ("assigned" if row.auditor_id is not None else "planned")
    assert max(per_day.values()) == 1
    for row in rows:
        cal = BusinessCalendar.for_departement(row.departement)
        days = sorted(by_service[row.service_id])
        for a, b in itertools.pairwise(days):
            assert len(cal.business_days(a, b)) - 1 >= 4  # 3 clear business days between


def test_plan_the_example_campaign(imported: DbTarget, tmp_path: Path) -> None:
    path = example_file(tmp_path)
    spec = load_campaign_file(path)
    result = invoke("campaign", "plan", str(path))
    assert result.exit_code == 0, result.output
    rows = contacts(imported)
    match = re.search(r"(\d+) contacts planifiés pour 64 services de 19", result.output)
    assert match is not None, result.output
    assert int(match.group(1)) == len(rows) > 100
    check_rules(rows, spec.window.start, spec.window.end)
    # Every channel is there; services that cannot take one are reported, not planned.
    assert {r.channel for r in rows} == {"email", "letter", "phone", "visit"}
    assert "pas d’adresse électronique" in result.output  # the pool without an address
    # 57, 67, 2A and the overseas collectivities are all planned.
    assert {"57", "67", "2A", "971", "972", "974"} <= {r.departement for r in rows}
    assert count(imported, Persona) == 3 and count(imported, Auditor) == 3
    assert count(imported, Campaign) == 1


def test_dry_run_writes_nothing(imported: DbTarget, tmp_path: Path) -> None:
    result = invoke("campaign", "plan", str(example_file(tmp_path)), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "contacts seraient planifiés" in result.output
    assert "Simulation\u202f: rien n’a été écrit." in result.output
    for model in (Campaign, Contact, Persona, Auditor):
        assert count(imported, model) == 0, model


def test_replan_is_refused_and_replace_keeps_what_started(
    imported: DbTarget, tmp_path: Path
) -> None:
    path = example_file(tmp_path)
    assert invoke("campaign", "plan", str(path)).exit_code == 0
    before = contacts(imported)

    again = invoke("campaign", "plan", str(path))
    assert again.exit_code == 1
    said = again.stderr.removeprefix("temoin: ")
    assert re.fullmatch(
        rf"la campagne «\u202f{NAME}\u202f» existe déjà \(planifiée le \d\d/\d\d/\d{{4}}\)"
        r"\u202f: --replace replanifie ce qui n’a pas commencé, ou choisissez un autre nom\n",
        said,
    ), said
    assert not violations(said), said
    assert contacts(imported) == before

    sent, done = before[0], next(r for r in before if r.channel == "visit")
    [first_status_at] = set(run(imported, status_times).values())

    async def mark(s: Any) -> None:
        await s.execute(
            update(Contact)
            .where(Contact.id == sent.id)
            .values(status=ContactStatus.SENT.value, sent_at=sent.planned_at)
        )
        await s.execute(
            update(Contact).where(Contact.id == done.id).values(status=ContactStatus.DONE.value)
        )

    run(imported, mark)
    dry = invoke("campaign", "plan", str(path), "--replace", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert re.search(
        rf"{len(before) - 2} contacts pas encore commencés seraient supprimés", dry.output
    )
    assert len(contacts(imported)) == len(before)

    replaced = invoke("campaign", "plan", str(path), "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert (
        f"{len(before) - 2} contacts pas encore commencés supprimés, 2 conservés" in replaced.output
    )
    after = contacts(imported)
    by_id = {r.id: r for r in after}
    assert by_id[sent.id] == sent._replace(status="sent")
    assert by_id[done.id] == done._replace(status="done")
    # Every other contact was deleted and planned again (ids may be reused on SQLite).
    status_at = run(imported, status_times)
    assert status_at[sent.id] == status_at[done.id] == first_status_at
    assert all(at > first_status_at for i, at in status_at.items() if i not in (sent.id, done.id))
    # Same quota as before: one contact per service and channel, the kept ones included.
    assert Counter((r.service_id, r.channel) for r in after) == Counter(
        (r.service_id, r.channel) for r in before
    )
    spec = load_campaign_file(path)
    check_rules(after, spec.window.start, spec.window.end)


def test_show_json_has_stable_keys_and_the_counts(imported: DbTarget, tmp_path: Path) -> None:
    assert invoke("campaign", "plan", str(example_file(tmp_path))).exit_code == 0
    rows = contacts(imported)
    result = invoke("campaign", "show", NAME, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # Later sections (mailboxes, observations) add keys after these.
    assert list(data)[:6] == [
        "campaign",
        "contacts",
        "by_channel",
        "by_week",
        "by_persona",
        "by_auditor",
    ]
    assert data["campaign"]["name"] == NAME and data["contacts"] == len(rows)
    assert list(data["by_channel"]) == ["email", "letter", "phone", "visit"]
    for channel, entry in data["by_channel"].items():
        assert list(entry["by_status"]) == [s.value for s in ContactStatus]
        assert entry["total"] == sum(1 for r in rows if r.channel == channel)
        for status, n in entry["by_status"].items():
            assert n == sum(1 for r in rows if r.channel == channel and r.status == status)
    assert sum(week["total"] for week in data["by_week"]) == len(rows)
    assert [w["week"] for w in data["by_week"]] == sorted(w["week"] for w in data["by_week"])
    assert sum(sum(v.values()) for v in data["by_persona"].values()) == sum(
        1 for r in rows if r.channel in ("email", "letter")
    )
    assert sorted(data["by_persona"]) == ["claire-martin", "karim-benali", "lucie-roux"]
    assert data["by_persona"]["lucie-roux"]["letter"] == 0  # she writes no letters

    table = invoke("campaign", "show", NAME)
    assert table.exit_code == 0, table.output
    assert "Avancement au" in table.output and "Par canal et statut" not in table.output
    assert "planifiée" in table.output  # the window has not begun and nothing started
    detailed = invoke("campaign", "show", NAME, "--details")
    assert "Par canal et statut" in detailed.output, detailed.output
    unknown = invoke("campaign", "show", "nope")
    assert unknown.exit_code == 1
    assert f"aucune campagne nommée «\u202fnope\u202f» (connues\u202f: {NAME})" in unknown.output


def test_rules_that_cannot_hold_are_explained_and_write_nothing(
    imported: DbTarget, tmp_path: Path
) -> None:
    path = example_file(tmp_path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["window"]["end"] = data["window"]["start"]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = invoke("campaign", "plan", str(path))
    assert result.exit_code == 1
    said = result.stderr.removeprefix("temoin: ")
    assert re.match(
        r"Impossible de planifier la campagne \S+\u202f: la règle «\u202fau plus 1 contact par "
        r"collectivité et par jour\u202f» ne tient pas\u202f: la collectivité .+ \(\w+\) a "
        r"besoin de \d+ jours ouvrés, la période en compte [01] jour ouvré \(il en manque \d+\)\.",
        said,
    ), result.output
    assert not violations(said), said
    for model in (Campaign, Contact, Persona, Auditor):
        assert count(imported, model) == 0


def test_unknown_scenario_in_the_mix_is_named(imported: DbTarget, tmp_path: Path) -> None:
    path = example_file(tmp_path, mix={"email": {"per_service": 1, "scenarios": ["nope"]}})
    result = invoke("campaign", "plan", str(path))
    assert result.exit_code == 1
    said = result.stderr.removeprefix("temoin: ")
    assert re.search(
        r"ligne \d+, colonne \d+, mix\.email\.scenarios\.nope\u202f: aucun scénario "
        r"«\u00a0nope\u00a0» dans le catalogue",
        said,
    ), said
    assert not violations(said), said


# --------------------------------------------------------------------------------------
# The campaign file, without a database


def test_example_file_reads_the_same_in_toml_and_yaml(tmp_path: Path) -> None:
    spec = load_campaign_file(EXAMPLE_CAMPAIGN)
    assert spec.name == NAME and spec.rules.lockout_business_days == 3
    assert [q.channel.value for q in spec.quotas()] == ["email", "letter", "phone", "visit"]
    data = tomllib.loads(EXAMPLE_CAMPAIGN.read_text(encoding="utf-8"))
    path = tmp_path / "c.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_campaign_file(path) == spec


def minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "c",
        "seed": 1,
        "window": {"start": date(2027, 3, 1), "end": date(2027, 3, 31)},
        "mix": {"email": {"per_service": 1}},
        "personas": [{"key": "a", "display_name": "A", "email": "a@x.example"}],
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"seed": -1}, "seed: Input should be greater than or equal to 0"),
        (
            {"window": {"start": date(2027, 3, 2), "end": date(2027, 3, 1)}},
            "window: end 2027-03-01 is before start 2027-03-02",
        ),
        (
            {"selection": {"kinds": ["mairie", "zoo"]}},
            "selection.kinds: unknown service kind 'zoo'",
        ),
        ({"selection": {"departements": ["57", "20"]}}, "unknown département code '20'"),
        ({"selection": {"strata": ["<5000"]}}, "strata: unknown stratum '<5000' (known: <2000,"),
        ({"selection": {"insee": ["5746"]}}, "selection.insee: '5746' is not an INSEE code"),
        ({"mix": {"email": {"per_service": 0}}}, "no channel asks for any contact"),
        ({"mix": {"fax": {"per_service": 1}}}, "mix.fax: Extra inputs are not permitted"),
        ({"mix": {"email": {"per_service": 1, "scenarios": {"x": 0}}}}, "mix.email.scenarios.x"),
        (
            {"mix": {"letter": {"per_service": 1}}},
            "mix.letter: needs at least one persona with 'letter' in channels",
        ),
        (
            {"personas": [{"key": "a", "display_name": "A", "email": "nope"}]},
            "personas[0].email: 'nope' is not an email address",
        ),
        (
            {
                "personas": [
                    {"key": "a", "display_name": "A", "email": "a@x.example"},
                    {"key": "a", "display_name": "B", "email": "A@x.example"},
                ]
            },
            "personas[1].key: 'a' is already personas[0]",
        ),
        (
            {
                "personas": [
                    {
                        "key": "a",
                        "display_name": "A",
                        "email": "a@x.example",
                        "channels": ["letter"],
                    }
                ]
            },
            "personas[0]: a persona writing letters needs address, postal_code and city",
        ),
        ({"auditors": [{"key": "p", "name": "P", "departements": ["999"]}]}, "auditors[0]"),
        ({"rules": {"dispatch_hours": "lu-ve 18:00-08:00"}}, "rules.dispatch_hours: opening"),
        ({"rules": {"max_per_collectivity_per_day": 0}}, "rules.max_per_collectivity_per_day"),
    ],
)
def test_file_problems_name_the_key_and_the_reason(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(CampaignFileError) as info:
        parse_campaign(minimal(**changes), "c.toml")
    assert problem in str(info.value), str(info.value)
    assert str(info.value).startswith("c.toml: ")


def test_selection_is_normalised() -> None:
    spec = parse_campaign(
        minimal(
            selection={
                "kinds": ["Mairie", "état civil", "etat_civil"],
                "departements": [57, "2a", "1", "974"],
                "strata": [">=50000", "<2000"],
                "insee": ["2a247", "57463"],
            }
        )
    )
    assert spec.selection.kinds == ["accueil_mairie", "etat_civil"]
    assert spec.selection.departements == ["57", "2A", "01", "974"]
    assert spec.population_ranges() == [(50000, None), (0, 2000)]
    assert spec.selection.insee == ["2A247", "57463"]


def test_plan_command_reports_file_errors_with_exit_1(cli_env: DbTarget, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\nseed = "one"\n', encoding="utf-8")
    result = invoke("campaign", "plan", str(path))
    assert result.exit_code == 1
    said = result.stderr.removeprefix("temoin: ")
    assert "ligne 2, colonne 1, seed\u202f: un nombre entier est attendu" in said
    assert "le fichier\u202f: clé obligatoire absente" not in said
    assert "window\u202f: clé obligatoire absente" in said  # absent: no line to name
    assert not violations(said), said
    other = tmp_path / "c.json"
    other.write_text("{}", encoding="utf-8")
    said = invoke("campaign", "plan", str(other)).output
    assert "le nom du fichier doit finir par .toml, .yaml ou .yml" in said
    broken = tmp_path / "b.toml"
    broken.write_text('name = "x"\nseed = ', encoding="utf-8")
    said = invoke("campaign", "plan", str(broken)).output
    assert "ligne 2, colonne 8, le fichier\u202f: syntaxe TOML invalide" in said, said


def test_campaign_file_problems_with_lines_in_french_and_english(
    cli_env: DbTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "x"\nseed = 1\n[window]\nstart = 2026-03-02\nend = 2026-03-20\n'
        '[mix.email]\nper_service = 1\n[[personas]]\nkey = "a"\ndisplay_name = "A"\n'
        'email = "a@x.example"\nchannels = ["fax"]\nbogus = 1\n',
        encoding="utf-8",
    )
    said = invoke("campaign", "plan", str(path)).stderr.removeprefix("temoin: ")
    assert f"{path}\u202f: 2 problèmes" in said
    assert (
        "ligne 12, colonne 1, personas[0].channels[0]\u202f: l’une de email, letter est "
        "attendue" in said
    ), said
    assert (
        "ligne 13, colonne 1, personas[0].bogus\u202f: clé inconnue (une faute de frappe\u202f?)"
        in said
    ), said
    assert not violations(said), said
    yml = tmp_path / "bad.yaml"
    yml.write_text(
        yaml.safe_dump(tomllib.loads(path.read_text(encoding="utf-8"))), encoding="utf-8"
    )
    said = invoke("campaign", "plan", str(yml)).output
    assert re.search(r"ligne \d+, colonne \d+, personas\[0\]\.bogus\u202f: clé inconnue", said)
    monkeypatch.setenv("TEMOIN_LOCALE", "en")
    said = invoke("campaign", "plan", str(path)).output
    assert f"{path}: 2 problems" in said
    assert "line 12, column 1, personas[0].channels[0]: one of email, letter is expected" in said
    assert "line 13, column 1, personas[0].bogus: unknown key (a typo?)" in said


def test_campaign_times_are_stored_as_aware_utc(imported: DbTarget, tmp_path: Path) -> None:
    assert invoke("campaign", "plan", str(example_file(tmp_path))).exit_code == 0

    async def work(s: Any) -> tuple[Any, ...]:
        c = (await s.execute(select(Campaign))).scalar_one()
        return (c.created_at, c.planned_at, c.spec["name"], c.window_start)

    created, planned, name, start = run(imported, work)
    assert created.tzinfo is UTC and planned.tzinfo is UTC
    assert abs((datetime.now(UTC) - planned).total_seconds()) < 120
    assert name == NAME and start > date.today()


def test_a_persona_address_taken_by_another_is_refused_in_the_reader_language(
    imported: DbTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invoke("campaign", "plan", str(example_file(tmp_path))).exit_code == 0
    data = tomllib.loads(EXAMPLE_CAMPAIGN.read_text(encoding="utf-8"))
    personas = data["personas"]
    personas[0] = {**personas[0], "key": "claire-bis"}  # Claire's address, another key
    path = example_file(tmp_path, name="autre-campagne", personas=personas)
    refused = invoke("campaign", "plan", str(path))
    assert refused.exit_code == 1
    said = refused.stderr.removeprefix("temoin: ").rstrip("\n")
    assert said == (
        "la persona «\u202fclaire-bis\u202f»\u202f: l’adresse claire.martin@temoin.example "
        "appartient déjà à la persona «\u202fclaire-martin\u202f»"
    )
    assert not violations(said), said
    monkeypatch.setenv("TEMOIN_LOCALE", "en")
    english = invoke("campaign", "plan", str(path))
    assert english.stderr == (
        "temoin: persona 'claire-bis': email claire.martin@temoin.example already belongs to "
        "persona 'claire-martin'\n"
    )
