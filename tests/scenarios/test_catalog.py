"""The scenario catalogue: shipped scenarios, the checks on broken files, rendering, the CLI."""

from __future__ import annotations

import copy
import json
import os
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2.exceptions import SecurityError, UndefinedError
from typer.testing import CliRunner

import temoin.cli.app
from scenarios.catalog import (
    CATALOG_DIR,
    Catalog,
    CatalogError,
    ExpectedElement,
    Scenario,
    UnknownScenario,
    Wording,
    check_catalog,
    load_catalog,
)
from scenarios.domain import Channel
from scenarios.grid import next_question
from scenarios.render import (
    SAMPLE_REQUEST,
    CollectivityView,
    PersonaView,
    RequestView,
    ServiceView,
    a_lieu,
    compile_template,
    de_lieu,
    render_wording,
)
from scenarios.service_kinds import known_codes

CATALOG = load_catalog()

PERSONA = PersonaView(
    display_name="Françoise Lefèvre-Bénard",
    first_name="Françoise",
    last_name="Lefèvre-Bénard",
    email="f.lefevre@example.fr",
    address="3, allée des Tilleuls",
    postal_code="63800",
    city="Cournon-d'Auvergne",
)
COLLECTIVITY = CollectivityView(name="Pérignat-ès-Allier")
CITIES = ("Pérignat-ès-Allier", "Le Havre", "Les Ulis", "Évry-Courcouronnes")


def service(kind: str, city: str) -> ServiceView:
    return ServiceView.of_kind(f"Service « {kind} »", kind, city)


# --------------------------------------------------------------------------- shipped catalogue


def test_shipped_catalogue_is_clean_and_big_enough() -> None:
    assert check_catalog() == []
    by_channel = {c: sum(1 for s in CATALOG if s.channel is c) for c in Channel}
    assert len(CATALOG) >= 12
    assert by_channel[Channel.EMAIL] >= 4
    assert by_channel[Channel.LETTER] >= 2
    assert by_channel[Channel.PHONE] >= 3
    assert by_channel[Channel.VISIT] >= 3


@pytest.mark.parametrize("kind", known_codes())
def test_every_service_kind_is_reachable_by_email_and_in_the_field(kind: str) -> None:
    assert CATALOG.fitting(kind, Channel.EMAIL), f"no email scenario fits {kind}"
    field = CATALOG.fitting(kind, Channel.PHONE) + CATALOG.fitting(kind, Channel.VISIT)
    assert field, f"no phone or visit scenario fits {kind}"


def test_ids_match_file_names() -> None:
    assert sorted(CATALOG.scenarios) == sorted(p.stem for p in CATALOG_DIR.glob("*.yaml"))


def _cases() -> list[tuple[str, int, str]]:
    return [
        (scenario.id, index, kind)
        for scenario in CATALOG
        for index in range(len(scenario.wordings))
        for kind in scenario.service_kinds
    ]


def _static_lines(source: str) -> list[str]:
    """Lines of a template without any Jinja in them: they must come out verbatim."""
    return [
        line.strip()
        for line in source.splitlines()
        if line.strip() and "{{" not in line and "{%" not in line
    ]


def _check_rendered(source: str | None, text: str | None) -> None:
    assert source is not None and text is not None
    assert "{{" not in text and "{%" not in text and "}}" not in text
    assert unicodedata.normalize("NFC", text) == text
    assert "&#" not in text and "&amp;" not in text  # no HTML escaping in plain text
    for line in _static_lines(source):
        assert line in text  # accents and apostrophes intact
    for wrong in ("à Le ", "à Les ", "de Le ", "de Les ", "de Évry", "de Angers"):
        assert wrong not in text


@pytest.mark.parametrize(("scenario_id", "index", "kind"), _cases())
def test_every_wording_renders_for_every_fitting_kind(
    scenario_id: str, index: int, kind: str
) -> None:
    scenario = CATALOG.get(scenario_id)
    wording = scenario.wordings[index]
    for city in CITIES:
        message = render_wording(wording, PERSONA, service(kind, city), COLLECTIVITY)
        _check_rendered(wording.body, message.body)
        if scenario.channel in (Channel.EMAIL, Channel.LETTER):
            _check_rendered(wording.subject, message.subject)
            assert message.subject and "\n" not in message.subject
        else:
            assert message.subject is None
        if "persona." in wording.body:
            assert any(
                value in message.body
                for value in (PERSONA.display_name, PERSONA.first_name, PERSONA.email)
            )


@pytest.mark.parametrize(
    "scenario_id", [s.id for s in CATALOG if s.followup is not None] or ["none"]
)
def test_followups_render_with_the_first_request(scenario_id: str) -> None:
    scenario = CATALOG.get(scenario_id)
    assert scenario.followup is not None and scenario.targets.followup_after_days
    request = RequestView(subject="Demande d'acte", sent_on="12 février 2025")
    for kind in scenario.service_kinds:
        message = render_wording(
            scenario.followup, PERSONA, service(kind, "Le Havre"), COLLECTIVITY, request
        )
        _check_rendered(scenario.followup.body, message.body)
        assert "12 février 2025" in message.body


def test_channel_default_targets_and_overrides() -> None:
    email = CATALOG.get("email-acte-naissance").targets
    assert (email.answer_days, email.acknowledgement_days) == (5, 5)
    assert email.followup_after_days == 7
    letter = CATALOG.get("letter-acte-naissance").targets
    assert (letter.answer_days, letter.acknowledgement_days) == (15, 10)
    assert CATALOG.get("phone-piscine-horaires").targets.pickup_before_ring == 5
    assert CATALOG.get("email-bac-non-collecte").targets.answer_days == 2  # overridden
    visit = CATALOG.get("visit-carte-bibliotheque").targets
    assert visit.model_dump(exclude_none=True) == {}


def test_shipped_phone_grid_walks_both_branches() -> None:
    grid = CATALOG.get("phone-piscine-horaires").grid
    after_no = next_question(grid, {"picked_up": False}, "picked_up")
    assert after_no is not None and after_no.id == "no_answer"
    after_answer = next_question(grid, {"picked_up": False, "no_answer": "occupe"}, "no_answer")
    assert after_answer is not None and after_answer.id == "call_duration"
    after_yes = next_question(grid, {"picked_up": True}, "picked_up")
    assert after_yes is not None and after_yes.id == "rings"


def test_catalog_lookups() -> None:
    scenario = CATALOG.get("email-acte-naissance")
    assert scenario.fits("etat_civil") and not scenario.fits("piscine")
    assert scenario in CATALOG.fitting("etat_civil")
    assert all(s.channel is Channel.VISIT for s in CATALOG.fitting("urbanisme", Channel.VISIT))
    with pytest.raises(UnknownScenario):
        CATALOG.get("no-such-scenario")
    with pytest.raises(KeyError):
        CATALOG.get("no-such-scenario")


# --------------------------------------------------------------------------- expected elements


def test_expected_elements_fold_accents_case_and_ligatures() -> None:
    element = ExpectedElement(
        id="x", label="x", patterns=("pièce d'identité", "gratuit*", "le 17", "restos du cœur")
    )
    assert element.found_in("Munissez-vous d’une PIECE D'IDENTITE.")
    assert element.found_in("La délivrance est gratuite.")
    assert element.found_in("Les Restos du Coeur distribuent des colis.")
    assert element.found_in("La nuit, composez le 17.")
    assert not element.found_in("Ouvert de 9 h à 17 h.")  # whole words only
    assert element.found_in("Gratuitement, bien sûr.")  # the prefix matches any ending
    assert not element.found_in("C'est ingratuit.")  # start of a word only


def test_a_real_reply_is_scored_against_the_shipped_elements() -> None:
    scenario = CATALOG.get("email-acte-naissance")
    reply = (
        "Bonjour Madame, vous pouvez faire votre demande en ligne sur service-public.fr en "
        "indiquant les noms et prénoms de votre père, sa date de naissance ainsi que votre "
        "lien de parenté. La délivrance est gratuite ; l'acte vous sera adressé sous huitaine."
    )
    assert scenario.elements_found(reply) == [
        "procedure",
        "informations",
        "parente",
        "gratuite",
        "delai",
    ]
    assert scenario.elements_found("Bonjour, merci de rappeler le service.") == []


# --------------------------------------------------------------------------- rendering


def test_place_name_filters() -> None:
    assert [a_lieu(c) for c in ("Lyon", "Le Havre", "Les Ulis", "La Rochelle")] == [
        "à Lyon",
        "au Havre",
        "aux Ulis",
        "à La Rochelle",
    ]
    assert [de_lieu(c) for c in ("Lyon", "Le Havre", "Les Ulis", "Angers", "Évry", "Hyères")] == [
        "de Lyon",
        "du Havre",
        "des Ulis",
        "d'Angers",
        "d'Évry",
        "de Hyères",
    ]


def test_render_is_strict_and_sandboxed() -> None:
    view = service("etat_civil", "Lyon")
    with pytest.raises(UndefinedError):
        render_wording(Wording(body="{{ persona.nickname }}"), PERSONA, view, COLLECTIVITY)
    with pytest.raises(UndefinedError):
        render_wording(Wording(body="{{ request.sent_on }}"), PERSONA, view, COLLECTIVITY)
    with pytest.raises(SecurityError):
        render_wording(Wording(body="{{ persona.__class__.__mro__ }}"), PERSONA, view, COLLECTIVITY)
    plain = render_wording(
        Wording(body="<b>{{ persona.last_name }}</b> & co"), PERSONA, view, COLLECTIVITY
    )
    assert plain.body == "<b>Lefèvre-Bénard</b> & co\n"


def test_render_tidies_plain_text() -> None:
    wording = Wording(subject="  Objet :\n {{ service.city }} ", body="A  \n\n\n\nB\n\n")
    message = render_wording(wording, PERSONA, service("piscine", "Lyon"), COLLECTIVITY)
    assert message.subject == "Objet : Lyon"
    assert message.body == "A\n\nB\n"


def test_templates_are_compiled_once() -> None:
    source = "Bonjour {{ persona.first_name }} {{ 'et' }} cache"
    assert compile_template(source) is compile_template(source)


# --------------------------------------------------------------------------- broken catalogues


def _base(name: str) -> dict[str, Any]:
    data = yaml.safe_load((CATALOG_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


EMAIL = _base("email-acte-naissance")
PHONE = _base("phone-piscine-horaires")


def _write(directory: Path, data: dict[str, Any], stem: str | None = None) -> Path:
    path = directory / f"{stem or data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        parts = re.findall(r"[^.\[\]]+", path)
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last = parts[-1]
        if value is _DELETE:
            del target[int(last) if last.isdigit() else last]
        elif last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


_DELETE = object()

BROKEN: list[tuple[str, dict[str, Any], Mutation, str, str]] = [
    ("unknown key", EMAIL, _set("colour", "bleu"), "colour", "unknown key"),
    (
        "nested unknown key",
        EMAIL,
        _set("wordings[1].sujet", "x"),
        "wordings[1].sujet",
        "unknown key",
    ),
    ("missing field", EMAIL, _set("title", _DELETE), "title", "missing field"),
    ("wrong channel", EMAIL, _set("channel", "fax"), "channel", "'email'"),
    (
        "unknown kind",
        EMAIL,
        _set("service_kinds[1]", "cantine"),
        "service_kinds[1]",
        "unknown service kind 'cantine'",
    ),
    ("no kind", EMAIL, _set("service_kinds", []), "service_kinds", "at least one"),
    ("id differs", EMAIL, _set("id", "autre-chose"), "id", "differs from the file name"),
    ("bad id", EMAIL, _set("id", "Pas Un Slug"), "id", "pattern"),
    ("one wording", EMAIL, _set("wordings", EMAIL["wordings"][:1]), "wordings", "at least 2"),
    (
        "jinja syntax",
        EMAIL,
        _set("wordings[0].body", "Bonjour {{ persona.first_name }"),
        "wordings[0].body",
        "syntax error",
    ),
    (
        "unknown attribute",
        EMAIL,
        _set("wordings[1].body", "{{ persona.nickname }}"),
        "wordings[1].body",
        "persona.nickname",
    ),
    (
        "unknown name",
        EMAIL,
        _set("wordings[1].subject", "{{ user.name }}"),
        "wordings[1].subject",
        "unknown variable 'user'",
    ),
    (
        "hidden in a branch",
        EMAIL,
        _set("wordings[0].body", "{% if false %}{{ service.town }}{% endif %}ok"),
        "wordings[0].body",
        "service.town",
    ),
    (
        "request outside a follow-up",
        EMAIL,
        _set("wordings[0].body", "{{ request.sent_on }}"),
        "wordings[0].body",
        "unknown variable 'request'",
    ),
    (
        "unknown filter",
        EMAIL,
        _set("wordings[0].body", "{{ service.city|au_lieu }}"),
        "wordings[0].body",
        "syntax error",
    ),
    (
        "runtime error",
        EMAIL,
        _set("wordings[0].body", "{{ 1 // 0 }}"),
        "wordings[0].body",
        "ZeroDivisionError",
    ),
    (
        "email without subject",
        EMAIL,
        _set("wordings[0].subject", _DELETE),
        "wordings[0].subject",
        "missing subject",
    ),
    (
        "phone with subject",
        PHONE,
        _set("wordings[0].subject", "Objet"),
        "wordings[0].subject",
        "no subject",
    ),
    ("grid on email", EMAIL, _set("grid", PHONE["grid"]), "grid", "no audit grid"),
    ("phone without grid", PHONE, _set("grid", _DELETE), "grid", "need an audit grid"),
    (
        "duplicate question",
        PHONE,
        _set("grid[2].id", "picked_up"),
        "grid[2].id",
        "duplicate question id",
    ),
    ("unknown question type", PHONE, _set("grid[0].type", "date"), "grid[0].type", "'yes_no'"),
    (
        "choice without choices",
        PHONE,
        _set("grid[1].choices", _DELETE),
        "grid[1].choices",
        "at least 2 choices",
    ),
    ("min above max", PHONE, _set("grid[2].min", 40), "grid[2].min", "greater than max"),
    (
        "relevant unknown",
        PHONE,
        _set("grid[2].relevant", "{decroche} == yes"),
        "grid[2].relevant",
        "not an earlier question",
    ),
    (
        "relevant later",
        PHONE,
        _set("grid[2].relevant", "{courtesy} == aimable"),
        "grid[2].relevant",
        "not an earlier question",
    ),
    (
        "relevant syntax",
        PHONE,
        _set("grid[2].relevant", "{picked_up} = yes"),
        "grid[2].relevant",
        "bad expression",
    ),
    (
        "relevant type",
        PHONE,
        _set("grid[2].relevant", "{picked_up} >= 2"),
        "grid[2].relevant",
        "yes/no",
    ),
    (
        "bad met_when",
        PHONE,
        _set("grid[2].met_when", {"maximum": 4}),
        "grid[2].met_when",
        "met_when is",
    ),
    ("question key typo", PHONE, _set("grid[2].hnit", "x"), "grid[2].hnit", "unknown key"),
    (
        "a call measured by a visit's buttons",
        PHONE,
        _set("grid[12].measured", "visit_wait"),
        "grid[12].measured",
        "visit_wait is not measured on a phone",
    ),
    (
        "the call measured twice",
        PHONE,
        _set("grid[3].measured", "call_length"),
        "grid[12].measured",
        "call_length measured by two questions",
    ),
    (
        "a measured integer",
        PHONE,
        _set("grid[2].measured", "call_length"),
        "grid[2]",
        "only a duration question is measured",
    ),
    (
        "followup delay without wording",
        EMAIL,
        _set("followup", _DELETE),
        "followup",
        "give the followup wording",
    ),
    (
        "phone follow-up target",
        PHONE,
        _set("targets", {"followup_after_days": 3}),
        "targets.followup_after_days",
        "only for email and letter",
    ),
    ("no tips", EMAIL, _set("improvement_tips", []), "improvement_tips", "1 to 3"),
    (
        "too many tips",
        EMAIL,
        _set("improvement_tips", ["a", "b", "c", "d"]),
        "improvement_tips",
        "1 to 3",
    ),
    (
        "star inside a pattern",
        EMAIL,
        _set("expected_elements[0].patterns[0]", "en*ligne"),
        "expected_elements[0].patterns[0]",
        "only at the end",
    ),
    (
        "duplicate element",
        EMAIL,
        _set("expected_elements[1].id", "procedure"),
        "expected_elements[1].id",
        "duplicate element id",
    ),
]


@pytest.mark.parametrize(
    ("base", "mutate", "path", "reason"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_check_catches_each_kind_of_broken_file(
    tmp_path: Path, base: dict[str, Any], mutate: Mutation, path: str, reason: str
) -> None:
    data = copy.deepcopy(base)
    mutate(data)
    written = _write(tmp_path, data, stem=base["id"])
    problems = check_catalog(tmp_path)
    assert any(
        p.file == str(written) and p.path == path and reason in p.reason for p in problems
    ), problems
    with pytest.raises(CatalogError) as raised:
        load_catalog(tmp_path)
    assert raised.value.problems == problems


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("id: x\ntitle: [unclosed\n", "invalid YAML at line"),
        ("- a\n- b\n", "a scenario file holds a mapping"),
        ("", "a scenario file holds a mapping"),
    ],
)
def test_check_reports_unreadable_files(tmp_path: Path, text: str, reason: str) -> None:
    (tmp_path / "x.yaml").write_text(text, encoding="utf-8")
    problems = check_catalog(tmp_path)
    assert [(p.path, reason in p.reason) for p in problems] == [("", True)]


def test_check_reports_every_broken_file_and_duplicates(tmp_path: Path) -> None:
    _write(tmp_path, EMAIL)
    _write(tmp_path, EMAIL, stem="copie")  # same id in another file
    broken = copy.deepcopy(PHONE)
    broken["channel"] = "pigeon"
    _write(tmp_path, broken)
    (tmp_path / "notes.yml").write_text("id: notes\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("ignored", encoding="utf-8")
    problems = {(Path(p.file).name, p.path) for p in check_catalog(tmp_path)}
    assert ("copie.yaml", "id") in problems  # differs from the file name, and duplicate
    assert ("phone-piscine-horaires.yaml", "channel") in problems
    assert ("notes.yml", "") in problems
    reasons = [p.reason for p in check_catalog(tmp_path) if p.file.endswith("copie.yaml")]
    assert any("duplicate id, also in email-acte-naissance.yaml" in r for r in reasons)


def test_empty_or_missing_directory_is_a_problem(tmp_path: Path) -> None:
    assert "no scenario file" in check_catalog(tmp_path)[0].reason
    assert check_catalog(tmp_path / "nope")[0].reason == "not a directory"


def test_a_custom_catalogue_loads(tmp_path: Path) -> None:
    _write(tmp_path, EMAIL)
    _write(tmp_path, PHONE)
    catalog = load_catalog(tmp_path)
    assert isinstance(catalog, Catalog)
    assert list(catalog.scenarios) == ["email-acte-naissance", "phone-piscine-horaires"]
    assert isinstance(catalog.get("phone-piscine-horaires"), Scenario)


def test_yes_in_yaml_and_oui_both_mean_true(tmp_path: Path) -> None:
    data = copy.deepcopy(PHONE)
    data["grid"][0]["met_when"] = "oui"
    _write(tmp_path, data)
    assert load_catalog(tmp_path).get(data["id"]).grid[0].met_when is True


def test_sample_request_is_french() -> None:
    assert SAMPLE_REQUEST.sent_on == "3 mars 2025"


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def clean_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """The CLI from an empty directory, without the developer's TEMOIN_* settings."""
    for key in [k for k in os.environ if k.startswith("TEMOIN_") and "TEST" not in k]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_cli_check_shipped_catalogue(clean_cli: CliRunner) -> None:
    result = clean_cli.invoke(temoin.cli.app.app, ["scenarios", "check"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{len(CATALOG)} scénarios valides"
    english = clean_cli.invoke(
        temoin.cli.app.app, ["scenarios", "check"], env={"TEMOIN_LOCALE": "en"}
    )
    assert english.stdout.strip() == f"{len(CATALOG)} scenarios OK"


def test_cli_check_broken_catalogue(clean_cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "cat"
    folder.mkdir()
    data = copy.deepcopy(PHONE)
    data["grid"][2]["relevant"] = "{courtesy} == aimable"
    data["service_kinds"] = ["piscine", "sauna"]
    written = _write(folder, data)
    result = clean_cli.invoke(temoin.cli.app.app, ["scenarios", "check", str(folder)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert f"{written}: service_kinds[1]: unknown service kind 'sauna'" in "\n".join(lines)
    assert any(line.startswith(f"{written}: grid[2].relevant: ") for line in lines)
    assert result.stderr == "temoin: 2 problèmes dans le catalogue\n"


def test_cli_list_json(clean_cli: CliRunner) -> None:
    result = clean_cli.invoke(temoin.cli.app.app, ["scenarios", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["id"] for row in rows] == list(CATALOG.scenarios)
    email = next(row for row in rows if row["id"] == "email-acte-naissance")
    assert email == {
        "id": "email-acte-naissance",
        "title": CATALOG.get("email-acte-naissance").title,
        "channel": "email",
        "service_kinds": ["etat_civil", "accueil_mairie"],
        "wordings": 3,
        "expected_elements": ["procedure", "informations", "parente", "gratuite", "delai"],
        "grid_questions": 0,
        "has_followup": True,
        "targets": {"answer_days": 5, "acknowledgement_days": 5, "followup_after_days": 7},
    }
    phone = next(row for row in rows if row["id"] == "phone-piscine-horaires")
    assert phone["targets"] == {"pickup_before_ring": 5} and phone["grid_questions"] > 5


def test_cli_list_table_and_dir(clean_cli: CliRunner, tmp_path: Path) -> None:
    result = clean_cli.invoke(temoin.cli.app.app, ["scenarios", "list"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    for scenario_id in CATALOG.scenarios:
        assert scenario_id in result.stdout
    folder = tmp_path / "cat"
    folder.mkdir()
    _write(folder, PHONE)
    result = clean_cli.invoke(
        temoin.cli.app.app, ["scenarios", "list", "--dir", str(folder)], env={"COLUMNS": "160"}
    )
    assert result.exit_code == 0 and "phone-piscine-horaires" in result.stdout
    assert "email-acte-naissance" not in result.stdout
    assert "décroché < 5 sonneries" in result.stdout and "Téléphone" in result.stdout
    assert "j.o.\u202f: jours ouvrés" in result.stdout and "formulations" in result.stdout
    (folder / "broken.yaml").write_text("id: [", encoding="utf-8")
    result = clean_cli.invoke(temoin.cli.app.app, ["scenarios", "list", "--dir", str(folder)])
    assert result.exit_code == 1
    assert result.stderr == (
        "temoin: le catalogue a 1 problème\u202f; lancez «\u202ftemoin scenarios check\u202f» "
        "pour les voir\n"
    )
