"""Hostile mail is cut to size before the expensive steps, and says so.

``<p>`` and 2 million ``&amp;`` (10 MB) took nh3 40 s; 500 KB of HTML nested 190 levels
deep spelled tens of megabytes of quote markers; a plain body cut before its line ends were
normalised was not reported as cut. Each now comes back with ``truncated`` set and the cut
named in the defects (``bench/hostile_mail.py`` measures the time; tests never do).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import temoin.cli.app
from channels import html_text, mime
from channels.html_text import html_to_text, sanitise_html
from channels.mime import parse_message

HEAD = (
    "From: Mairie <accueil@mairie.example>\r\nTo: claire@persona.example\r\n"
    "Subject: Re: Demande\r\nMessage-ID: <bomb@mairie.example>\r\nMIME-Version: 1.0\r\n"
)


def _mail(body: str, ctype: str = "text/html") -> bytes:
    return (HEAD + f"Content-Type: {ctype}; charset=utf-8\r\n\r\n" + body).encode()


AMPERSANDS = _mail("<p>" + "&amp;" * 2_000_000)


@pytest.mark.timeout(60)  # 40 s and more before the cap
def test_ten_megabytes_of_entities_are_cut_and_said(tmp_path: Path) -> None:
    assert len(AMPERSANDS) > 10_000_000
    parsed = parse_message(AMPERSANDS)
    assert parsed.truncated
    assert f"HTML truncated to {html_text.MAX_HTML_CHARS} characters" in parsed.defects
    assert parsed.text.startswith("&&&") and len(parsed.text) < html_text.MAX_HTML_CHARS
    assert parsed.html is not None and len(parsed.html) < html_text.MAX_HTML_CHARS + 100

    path = tmp_path / "bomb.eml"
    path.write_bytes(AMPERSANDS)
    result = CliRunner().invoke(temoin.cli.app.app, ["mail", "inspect", str(path)])
    assert result.exit_code == 0, result.output[-2000:]
    report = json.loads(result.output)
    assert report["truncated"] is True
    assert any("HTML truncated" in defect for defect in report["defects"])


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "body",
    [
        "<blockquote>" * 190 + "a<br>" * 100_000,  # "> " * 190 before every line
        "<ul>" * 190 + "<li>a" * 80_000,  # two spaces of indent per level
    ],
    ids=["blockquotes", "lists"],
)
def test_deep_nesting_cannot_spell_megabytes_of_text(body: str) -> None:
    parsed = parse_message(_mail(body))
    assert parsed.truncated
    assert f"text truncated to {mime.MAX_TEXT_CHARS} characters" in parsed.defects
    assert len(parsed.text) == mime.MAX_TEXT_CHARS


def test_a_plain_body_cut_is_said_even_when_its_line_ends_shrink_it() -> None:
    # 9 bytes, 8 characters per line with CRLF; 7 once the line ends are normalised
    parsed = parse_message(_mail("> cité\r\n" * 1_000_000, "text/plain"))
    assert parsed.truncated
    assert f"text truncated to {mime.MAX_TEXT_CHARS} characters" in parsed.defects


def test_ordinary_mail_is_not_truncated() -> None:
    parsed = parse_message(_mail("<p>Bonjour,</p><p>Voici la réponse &amp; les pièces.</p>"))
    assert not parsed.truncated and parsed.defects == ()
    assert parsed.text == "Bonjour,\n\nVoici la réponse & les pièces."


def test_the_sanitiser_and_the_text_reader_cap_on_their_own() -> None:
    defects: list[str] = []
    clean = sanitise_html("<p>" + "x" * (html_text.MAX_HTML_CHARS + 10), defects)
    assert defects == [f"HTML truncated to {html_text.MAX_HTML_CHARS} characters"]
    assert len(clean) <= html_text.MAX_HTML_CHARS + len("</p>")
    text = html_to_text("<blockquote>" * 50 + "a<br>" * 10_000, limit=1000)
    assert 1000 < len(text) < 1200
