"""channels.classify: every shipped sample, header edge cases, wording and decision order."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.classify import Classification, classify
from channels.mime import parse_message

SAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mail"

# file -> (kind, evidence that must be among the reasons)
EXPECTED = {
    "answer-threaded.eml": ("answer", "no automatic header"),
    "answer-outlook-html.eml": ("answer", "no automatic header"),
    "answer-attachment.eml": ("answer", "no automatic header"),
    "answer-mislabelled-cp1252.eml": ("answer", "no automatic header"),
    "ack-auto.eml": ("acknowledgement", "header Auto-Submitted: auto-replied"),
    "ack-human.eml": ("acknowledgement", 'text matches "nous avons bien reçu votre demande"'),
    "ooo-exchange.eml": (
        "out_of_office",
        "header X-MS-Exchange-Inbox-Rules-Loop: urbanisme@ville-exempleville.example",
    ),
    "ooo-plain.eml": ("out_of_office", 'text matches "je suis absent(e) jusqu\'au"'),
    "bounce-postfix-dsn.eml": ("bounce", "DSN status 4.4.1"),
    "bounce-exim.eml": ("bounce", 'subject matches "Mail delivery failed"'),
    "bounce-exchange-ndr.eml": ("bounce", 'subject matches "Non remis"'),
    "bounce-gmail.eml": ("bounce", "DSN status 5.1.1"),
    "mdn-read-receipt.eml": (
        "read_receipt",
        "multipart/report; report-type=disposition-notification",
    ),
    "redirect.eml": ("redirect", 'text matches "ne relève pas de notre service"'),
    "other-newsletter.eml": ("other", "header List-Unsubscribe"),
}


def classify_raw(raw: bytes) -> Classification:
    return classify(parse_message(raw))


def message(
    headers: str, body: str = "Bonjour,\n\nVoici la réponse.\n", *, reply: bool = True
) -> bytes:
    """A message replying to our request (In-Reply-To), unless ``reply`` is False."""
    head = headers.strip().replace("\n", "\r\n")
    if reply and "In-Reply-To" not in head:
        head += "\r\nIn-Reply-To: <request.1@temoin-persona.example>"
    if "Content-Type" not in head:
        head += "\r\nContent-Type: text/plain; charset=utf-8"
    return (head + "\r\n\r\n" + body).encode("utf-8")


def test_every_sample_has_an_expected_class() -> None:
    assert sorted(EXPECTED) == sorted(path.name for path in SAMPLES.glob("*.eml"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_classified_with_evidence(name: str) -> None:
    kind, evidence = EXPECTED[name]
    result = classify_raw((SAMPLES / name).read_bytes())
    assert result.kind == kind, result.evidence
    assert evidence in result.evidence
    assert (result.bounce is not None) == (kind == "bounce")


@pytest.mark.parametrize(
    ("name", "severity", "status", "recipient", "original", "dsn"),
    [
        (
            "bounce-postfix-dsn.eml",
            "soft",
            "4.4.1",
            "police@commune-de-lexemple.example",
            "<20260302101500.5e6f77@temoin-persona.example>",
            True,
        ),
        (
            "bounce-exim.eml",
            "hard",
            "5.1.1",
            "ccas@ville-exempleville.example",
            "<20260303091000.c0ffee@temoin-persona.example>",
            False,
        ),
        (
            "bounce-exchange-ndr.eml",
            "hard",
            "5.1.10",
            "sport@mairie-exemple-sur-mer.example",
            "<20260304150000.d15c0a@temoin-persona.example>",
            True,
        ),
        (
            "bounce-gmail.eml",
            "hard",
            "5.1.1",
            "mediatheque@cc-des-exemples.example",
            "<20260305110000.beef42@temoin-persona.example>",
            True,
        ),
    ],
)
def test_bounce_details(
    name: str, severity: str, status: str, recipient: str, original: str, dsn: bool
) -> None:
    bounce = classify_raw((SAMPLES / name).read_bytes()).bounce
    assert bounce is not None
    assert (bounce.severity, bounce.status, bounce.recipient) == (severity, status, recipient)
    assert bounce.original_message_id == original
    assert bounce.dsn is dsn


# -- headers ------------------------------------------------------------------------------


def test_auto_submitted_no_is_a_person() -> None:
    result = classify_raw(message("From: agent@m.example\nAuto-Submitted: no"))
    assert result.kind == "answer"
    assert "header Auto-Submitted: no (sent by a person)" in result.evidence
    # with the same text, any other value makes it automatic
    automatic = classify_raw(message("From: agent@m.example\nAuto-Submitted: auto-replied"))
    assert automatic.kind == "acknowledgement"


@pytest.mark.parametrize(
    ("header", "evidence"),
    [
        ("Auto-Submitted: auto-replied", "header Auto-Submitted: auto-replied"),
        ("Auto-Submitted: Auto-Generated", "header Auto-Submitted: Auto-Generated"),
        ("X-Autoreply: yes", "header X-Autoreply: yes"),
        ("X-Autorespond: Vacation", "header X-Autorespond: Vacation"),
        ("X-Autoresponder: 1", "header X-Autoresponder: 1"),
        ("Precedence: auto_reply", "header Precedence: auto_reply"),
        ("X-Auto-Response-Suppress: All", "header X-Auto-Response-Suppress: All"),
        (
            "X-MS-Exchange-Inbox-Rules-Loop: a@m.example",
            "header X-MS-Exchange-Inbox-Rules-Loop: a@m.example",
        ),
        (
            "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent",
            "header X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent",
        ),
    ],
)
def test_automatic_headers_make_an_acknowledgement(header: str, evidence: str) -> None:
    result = classify_raw(
        message(f"From: accueil@m.example\n{header}", "Merci pour votre envoi.\n")
    )
    assert result.kind == "acknowledgement"
    assert evidence in result.evidence


def test_x_autoreply_no_is_not_automatic() -> None:
    result = classify_raw(message("From: a@m.example\nX-Autoreply: no"))
    assert result.kind == "answer"


def test_automatic_absence_and_redirect() -> None:
    absence = classify_raw(
        message(
            "From: a@m.example\nAuto-Submitted: auto-replied\nSubject: Automatic reply: Question",
            "I am out of the office until 16 March. Please contact accueil@m.example.\n",
        )
    )
    assert absence.kind == "out_of_office"
    assert 'subject matches "Automatic reply"' in absence.evidence
    assert 'text matches "Out of Office"' in absence.evidence
    moved = classify_raw(
        message(
            "From: ancien@m.example\nAuto-Submitted: auto-replied",
            "Cette adresse n'est plus consultée. Merci de vous adresser à contact@m.example.\n",
        )
    )
    assert moved.kind == "redirect"
    assert 'text matches "veuillez vous adresser à"' in moved.evidence


def test_subject_alone_marks_an_automatic_reply_case_and_accents_folded() -> None:
    # « Réponse automatique : » is the prefix of Outlook's automatic-replies assistant, its
    # out-of-office: with nothing else said, an absence, and a guess (unsure).
    result = classify_raw(
        message("From: a@m.example\nSubject: REPONSE AUTOMATIQUE : Votre demande", "Merci.\n")
    )
    assert (result.kind, result.unsure) == ("out_of_office", True)
    assert 'subject matches "Réponse automatique"' in result.evidence
    # Another auto-reply subject with nothing else said is taken for a receipt.
    other = classify_raw(
        message("From: a@m.example\nSubject: Autoreply: Votre demande", "Merci.\n")
    )
    assert (other.kind, other.unsure) == ("acknowledgement", False)
    # Receipt wording decides before the prefix: town halls use the assistant for receipts.
    receipt = classify_raw(
        message(
            "From: a@m.example\nSubject: Réponse automatique : Votre demande",
            "Votre message à destination du service « État civil » a bien été reçu.\n",
        )
    )
    assert receipt.kind == "acknowledgement"


def test_absence_wording_beats_redirect_wording() -> None:
    result = classify_raw(
        message(
            "From: a@m.example\nX-Autoreply: yes",
            "Je suis absente jusqu'au 16 mars. En cas d'urgence, veuillez vous adresser à "
            "l'accueil.\n",
        )
    )
    assert result.kind == "out_of_office"


def test_vacation_without_any_header_is_out_of_office_by_wording() -> None:
    result = classify_raw(
        message(
            "From: biblio@m.example\nSubject: Re: Horaires",
            "Bonjour,\nJE SUIS ABSENTE jusqu’au 13 mars inclus.\nIsabelle\n",
        )
    )
    assert result.kind == "out_of_office"
    assert "no automatic header" in result.evidence


# -- spam and bulk ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "evidence"),
    [
        ("X-Spam-Flag: YES", "header X-Spam-Flag: YES"),
        ("X-Spam-Status: Yes, score=9.1", "header X-Spam-Status: Yes"),
        ("Subject: [SPAM] Gagnez un iPhone", 'subject matches "[SPAM]"'),
        ("List-Id: <infos.m.example>", "header List-Id"),
        ("Precedence: bulk", "header Precedence: bulk"),
    ],
)
def test_spam_and_bulk_are_other(headers: str, evidence: str) -> None:
    result = classify_raw(message(f"From: lettre@m.example\n{headers}", "Les actualités.\n"))
    assert result.kind == "other"
    assert evidence in result.evidence


def test_bulk_with_an_auto_reply_header_is_not_a_newsletter() -> None:
    result = classify_raw(
        message(
            "From: a@m.example\nPrecedence: junk\nAuto-Submitted: auto-replied",
            "Je suis absent du bureau.\n",
        )
    )
    assert result.kind == "out_of_office"


# -- read receipts and bounces ------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject", ["Lu : Demande d'acte", "Read: Question", "Non lu : Demande", "Accusé de lecture"]
)
def test_read_receipt_subjects(subject: str) -> None:
    result = classify_raw(
        message(f"From: a@m.example\nSubject: {subject}", "Votre message a été lu.\n")
    )
    assert result.kind == "read_receipt"


def test_null_return_path_alone_is_not_a_bounce() -> None:
    result = classify_raw(
        message(
            "Return-Path: <>\nFrom: ne-pas-repondre@m.example\nAuto-Submitted: auto-replied",
            "Votre message à destination du service « État civil » a bien été reçu.\n",
        )
    )
    assert result.kind == "acknowledgement"


def test_null_return_path_with_bounce_wording_is_a_bounce() -> None:
    result = classify_raw(
        message(
            "Return-Path: <>\nFrom: relais@fai.example\nSubject: Votre courriel",
            "Votre message n'a pas pu être remis à etat-civil@m.example : destinataire "
            "inconnu (erreur permanente).\n",
        )
    )
    assert result.kind == "bounce"
    assert "null Return-Path <>" in result.evidence
    assert result.bounce is not None
    assert result.bounce.severity == "hard"
    assert result.bounce.recipient == "etat-civil@m.example"
    assert result.bounce.dsn is False


def dsn(action: str, status: str | None) -> bytes:
    status_line = f"Status: {status}\r\n" if status else ""
    return (
        "From: MAILER-DAEMON@mx.example\r\nSubject: Delivery report\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        "--r\r\nContent-Type: text/plain\r\n\r\nDelivery report.\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
        f"Final-Recipient: rfc822; ccas@m.example\r\nAction: {action}\r\n{status_line}\r\n"
        "--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <orig@p.example>\r\n"
        "Subject: Aide\r\n\r\n--r--\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("action", "status", "severity"),
    [("failed", "5.2.2", "hard"), ("delayed", "4.2.2", "soft"), ("delayed", None, "soft")],
)
def test_dsn_severity(action: str, status: str | None, severity: str) -> None:
    result = classify_raw(dsn(action, status))
    assert result.kind == "bounce"
    assert result.bounce is not None
    assert result.bounce.severity == severity
    assert result.bounce.status == status
    assert result.bounce.original_message_id == "<orig@p.example>"
    assert result.bounce.recipient == "ccas@m.example"


def test_successful_delivery_report_is_other() -> None:
    result = classify_raw(dsn("delivered", "2.0.0"))
    assert result.kind == "other"
    assert "DSN action delivered (success)" in result.evidence


def test_mdn_is_a_read_receipt_not_a_bounce() -> None:
    raw = (
        b"Return-Path: <>\r\nFrom: MAILER-DAEMON@m.example\r\nSubject: Disposition\r\n"
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="r"'
        b"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nLu.\r\n"
        b"--r\r\nContent-Type: message/disposition-notification\r\n\r\n"
        b"Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n--r--\r\n"
    )
    result = classify_raw(raw)
    assert result.kind == "read_receipt"
    assert "Disposition: manual-action/MDN-sent-manually; displayed" in result.evidence


# -- people --------------------------------------------------------------------------------


def test_human_acknowledgement_needs_a_short_text() -> None:
    short = classify_raw(
        message(
            "From: agent@m.example",
            "Bonjour,\nVotre demande a bien été reçue, nous revenons vers vous rapidement.\n",
        )
    )
    assert short.kind == "acknowledgement"
    assert 'text matches "votre message a bien été reçu"' in short.evidence

    details = " ".join(["Il faut fournir un justificatif de domicile récent."] * 15)
    long = classify_raw(
        message("From: agent@m.example", f"Nous avons bien reçu votre demande.\n{details}\n")
    )
    assert long.kind == "answer"
    assert (
        'text matches "nous avons bien reçu votre demande", but also says: "il faut fournir un '
        'justificatif de domicile recent."' in long.evidence
    )


def test_a_short_answer_that_opens_with_a_receipt_is_an_answer() -> None:
    result = classify_raw(
        message(
            "From: agent@m.example",
            "Bonjour Madame,\n\nNous avons bien reçu votre demande et vous en remercions.\n\n"
            "La délivrance des actes d'état civil est gratuite. La copie vous sera envoyée par\n"
            "voie postale, en général sous huitaine.\n",
        )
    )
    assert result.kind == "answer"


@pytest.mark.parametrize(
    "body",
    [
        "Bonjour,\n\nBien reçu, je reviens vers vous dès que possible.\n",
        "Bonjour, bien reçu, je reviens vers vous rapidement.\n",
        "Madame,\nJ'accuse réception de votre message, que je transmets à la personne en\n"
        "charge.\n",
        "Bonjour,\nNous avons bien reçu votre demande. Elle a été transmise au service concerné\n"
        "qui vous répondra dans les meilleurs délais.\n",
        "Madame,\nNous accusons bonne réception de votre courriel.\nCordialement\n",
        "Bonjour,\nVotre message a bien été transmis au service concerné.\n",
        "Hello,\nThank you for your request. I have forwarded it to the relevant department.\n",
    ],
)
def test_human_receipts_with_holding_promises(body: str) -> None:
    assert classify_raw(message("From: agent@m.example", body)).kind == "acknowledgement"


def test_ack_wording_in_the_quoted_original_does_not_count() -> None:
    result = classify_raw(
        message(
            "From: agent@m.example",
            "Voici les horaires : du lundi au vendredi, de 9 h à 17 h.\n\n"
            "Le 2 mars 2026 à 10:00, Claire a écrit :\n> Avez-vous bien reçu ma demande ?\n"
            "> Nous avons bien reçu votre demande, disiez-vous.\n",
        )
    )
    assert result.kind == "answer"


@pytest.mark.parametrize(
    "sentence",
    [
        "Nous transmettons votre demande au service compétent.",
        "Ce n'est pas notre service : adressez-vous à la préfecture.",
        "Cette question n'est pas de notre compétence, je vous invite à vous adresser au CCAS.",
        "Votre demande relève de la compétence de la communauté de communes.",
        "Merci de renvoyer votre demande à l'adresse etat-civil@m.example.",
    ],
)
def test_redirect_wording(sentence: str) -> None:
    result = classify_raw(
        message("From: accueil@m.example", f"Bonjour,\n{sentence}\nCordialement\n")
    )
    assert result.kind == "redirect"
