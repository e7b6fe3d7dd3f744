"""`temoin mail inspect` and the expected-element matcher (channels.content)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import temoin.cli.app
from channels.content import check_expected, fold, fold_words
from channels.mime import parse_message
from scenarios.catalog import load_catalog

SAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mail"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No settings file or TEMOIN_* variable of the machine leaks into the command."""
    for key in [
        k for k in os.environ if k.startswith("TEMOIN_") and not k.startswith("TEMOIN_TEST")
    ]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def inspect(*args: str) -> tuple[Result, list[dict[str, Any]]]:
    result = CliRunner().invoke(temoin.cli.app.app, ["mail", "inspect", *args])
    return result, [json.loads(line) for line in result.stdout.splitlines()]


# -- matcher -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    id: str
    label: str
    patterns: tuple[str, ...]


def test_fold_keeps_lines_and_strips_accents() -> None:
    assert fold("Réponse À\nl’ŒUVRE") == "reponse a\nl'oeuvre"
    assert fold_words("Pièce d’identité / justificatif-domicile") == (
        "piece d identite justificatif domicile"
    )


def test_check_expected_folds_and_respects_word_boundaries() -> None:
    elements = [
        Element("gratuite", "Gratuit", ("gratuit*",)),
        Element("acte", "Acte", ("acte",)),
        Element("piece", "Pièce", ("pièce d'identité",)),
        Element("delai", "Délai", ("sous huit jours", "délai de traitement")),
        Element("absent", "Absent", ("rendez-vous",)),
    ]
    text = (
        "La délivrance est GRATUITE.\nMerci de nous contacter avec une PIECE\nD’IDENTITE.\n"
        "Delai de traitement : 5 jours."
    )
    hits = check_expected(text, elements)
    assert [(h.id, h.found, h.pattern) for h in hits] == [
        ("gratuite", True, "gratuit*"),
        ("acte", False, None),  # « contacter » contains « acte » but not as a word
        ("piece", True, "pièce d'identité"),  # across a line break and a typographic apostrophe
        ("delai", True, "délai de traitement"),
        ("absent", False, None),
    ]


def test_check_expected_agrees_with_the_catalogue() -> None:
    catalog = load_catalog()
    emails = [scenario for scenario in catalog if scenario.channel == "email"]
    assert emails
    for path in sorted(SAMPLES.glob("*.eml")):
        text = parse_message(path.read_bytes()).new_text
        for scenario in emails:
            hits = check_expected(text, scenario.expected_elements)
            found = [hit.id for hit in hits if hit.found]
            assert found == scenario.elements_found(text), (path.name, scenario.id)


# -- command -------------------------------------------------------------------------------


def test_inspect_every_sample() -> None:
    files = sorted(SAMPLES.glob("*.eml"))
    result, reports = inspect(*map(str, files))
    assert result.exit_code == 0, result.stderr
    assert [report["file"] for report in reports] == [str(path) for path in files]
    kinds = {Path(report["file"]).name: report["classification"] for report in reports}
    assert kinds["answer-threaded.eml"] == "answer"
    assert kinds["ooo-exchange.eml"] == "out_of_office"
    assert kinds["bounce-exim.eml"] == "bounce"
    for report in reports:
        assert report["quarantined"] is False
        assert report["evidence"]
        assert report["unsure"] is False  # every shipped sample is clear-cut


def test_inspect_report_fields() -> None:
    result, (report,) = inspect(str(SAMPLES / "answer-attachment.eml"))
    assert result.exit_code == 0
    assert report["message_id"] == "<CAB9xQ4e7Lm=Yq2Rz+P0u1v8w@mail.cc-des-exemples.example>"
    assert report["dates"] == {
        "date": "2026-03-06T08:02:44+00:00",
        "date_raw": "Fri, 6 Mar 2026 09:02:44 +0100",
    }
    assert report["from"] == {
        "name": "Service urbanisme intercommunal",
        "address": "urbanisme@cc-des-exemples.example",
    }
    assert report["subject"] == "Re: Déclaration préalable pour un abri de jardin"
    assert report["new_text"].startswith("Bonjour Madame,")
    assert "a écrit" not in report["new_text"]
    (attachment,) = report["attachments"]
    assert attachment["filename"] == "notice déclaration préalable.pdf"
    assert attachment["size"] > 0 and len(attachment["sha256"]) == 64
    assert report["defects"] == []
    assert "expected" not in report


def test_inspect_bounce_details() -> None:
    _, (report,) = inspect(str(SAMPLES / "bounce-postfix-dsn.eml"))
    assert report["bounce"] == {
        "severity": "soft",
        "status": "4.4.1",
        "recipient": "police@commune-de-lexemple.example",
        "original_message_id": "<20260302101500.5e6f77@temoin-persona.example>",
        "diagnostic": "connect to mx.commune-de-lexemple.example[192.0.2.77]:25: "
        "Connection timed out",
        "dsn": True,
    }


def test_inspect_quarantines_what_is_not_mail(tmp_path: Path) -> None:
    junk = tmp_path / "junk.eml"
    junk.write_bytes(b"Ceci n'est pas un courriel.\n")
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    result, reports = inspect(str(junk), str(empty), str(SAMPLES / "redirect.eml"))
    assert result.exit_code == 0
    assert reports[0] == {
        "file": str(junk),
        "quarantined": True,
        "reason": "no header block: the first line is not a header field",
    }
    assert reports[1]["quarantined"] is True and reports[1]["reason"] == "empty input"
    assert reports[2]["classification"] == "redirect"


def test_inspect_unreadable_file_exits_1_after_the_others(tmp_path: Path) -> None:
    missing = tmp_path / "absent.eml"
    result, reports = inspect(str(missing), str(SAMPLES / "ack-human.eml"))
    assert result.exit_code == 1
    assert "absent.eml" in result.stderr
    assert [report["classification"] for report in reports] == ["acknowledgement"]


def test_inspect_with_scenario_reports_expected_elements() -> None:
    result, (report,) = inspect(
        str(SAMPLES / "answer-threaded.eml"), "--scenario", "email-acte-naissance"
    )
    assert result.exit_code == 0, result.stderr
    scenario = load_catalog().get("email-acte-naissance")
    assert [hit["id"] for hit in report["expected"]] == [
        element.id for element in scenario.expected_elements
    ]
    found = {hit["id"]: hit for hit in report["expected"] if hit["found"]}
    assert found["gratuite"]["pattern"] == "gratuit*"
    assert "informations" in found
    for hit in report["expected"]:
        assert hit["label"]
        assert (hit["pattern"] is None) == (not hit["found"])


def test_quoted_request_does_not_count_as_expected_elements(tmp_path: Path) -> None:
    reply = tmp_path / "reply.eml"
    reply.write_bytes(
        "From: a@m.example\r\nSubject: Re: acte\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "\r\nBonjour, nous regardons.\r\n\r\nLe 2 mars 2026 à 10:00, Claire a écrit :\r\n"
        "> Est-ce gratuit ? Faut-il la date de naissance ?\r\n".encode()
    )
    _, (report,) = inspect(str(reply), "--scenario", "email-acte-naissance")
    assert not any(hit["found"] for hit in report["expected"])


def test_inspect_unknown_scenario() -> None:
    result, reports = inspect(str(SAMPLES / "answer-threaded.eml"), "--scenario", "nope")
    assert result.exit_code == 1
    assert "scénario inconnu «\u202fnope\u202f»" in result.stderr
    assert reports == []
