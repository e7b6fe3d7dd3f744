"""channels.classify on real mail: each failure issue 14 lists, on a message of that kind.

Every message here is a file of the evaluation corpus (tests/corpus/), kept byte for byte as
its public repository holds it; the source (repository, path) is named at each test and in
tests/corpus/MANIFEST.toml. The one exception is the French redirect wording, for which no
real French message was found: that test rewrites the shipped fictional sample and says so
(the corpus's one real redirect, in English, is tested in test_classify_evidence.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.classify import Classification, classify
from channels.mime import parse_message
from tests.corpus.loader import CORPUS_DIR, load_corpus

SAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mail"
_MANIFEST = {message.path: message for message in load_corpus()}


def corpus(path: str) -> Classification:
    """Classify one corpus file (its sha256 checked against the manifest on the way)."""
    return classify(parse_message(_MANIFEST[path].raw(CORPUS_DIR)))


def test_empty_x_autoreply_is_no_signal_on_a_human_answer() -> None:
    # okfde/froide froide/foirequest/tests/testdata/test_mail_05.txt: a public transport
    # company's answer to a FOI request, carrying an empty "X-Autoreply:" header.
    result = corpus("froide/test_mail_05.txt")
    assert result.kind == "answer", result.evidence
    assert not any("X-Autoreply" in item for item in result.evidence)
    # It threads to nothing (no In-Reply-To, no quote): an answer only the match can confirm.
    assert result.unsure


@pytest.mark.parametrize(
    ("path", "sender"),
    [
        # sisimai/rb-sisimai set-of-emails/maildir/bsd/lhost-x6-02.eml: "From: mailer-daemon"
        ("sisimai/lhost-x6-02.eml", "sender mailer-daemon"),
        # sisimai/rb-sisimai set-of-emails/maildir/bsd/email-apachejames-01.eml (Verizon)
        ("sisimai/email-apachejames-01.eml", "sender post_master@vtext.example.com"),
    ],
)
def test_bouncer_senders_without_a_domain_or_with_an_underscore(path: str, sender: str) -> None:
    result = corpus(path)
    assert result.kind == "bounce", result.evidence
    assert sender in result.evidence
    assert result.bounce is not None and result.bounce.severity == "hard"


def test_null_return_path_bounce_with_a_meaningless_subject() -> None:
    # sisimai/rb-sisimai set-of-emails/maildir/bsd/email-exchange2003-03.eml: Exchange 2003,
    # "Return-Path: <>", subject "E", an ISO-2022-JP notice.
    result = corpus("sisimai/email-exchange2003-03.eml")
    assert result.kind == "bounce", result.evidence
    assert result.bounce is not None and result.bounce.recipient == "kijitora@example.jp"


def test_null_return_path_alone_is_not_a_bounce() -> None:
    # rjbs/Mail-DeliveryStatus-BounceParser t/corpus/autoreply.msg: "Return-Path: <>",
    # « Thank you for your e-mail. I will endeavour to reply as soon as possible. »
    result = corpus("bounceparser/autoreply.msg")
    assert result.kind == "acknowledgement", result.evidence
    assert result.bounce is None


@pytest.mark.parametrize(
    "path",
    [
        # sisimai/rb-sisimai set-of-emails/maildir/bsd/email-ezweb-06.eml: au (KDDI) bounce,
        # Japanese text in ISO-2022-JP
        "sisimai/email-ezweb-06.eml",
        # sisimai/p5-sisimai eg/maildir-as-a-sample/new/jp-kddi-01.eml: Japanese subject
        # « メールエラー通知 » from a no-reply address, no DSN
        "sisimai-p5/jp-kddi-01.eml",
    ],
)
def test_japanese_bounces(path: str) -> None:
    result = corpus(path)
    assert result.kind == "bounce", result.evidence
    assert result.bounce is not None and not result.bounce.dsn


def test_deliverable_2xx_delivery_report_is_not_a_bounce() -> None:
    # sisimai/rb-sisimai set-of-emails/maildir/bsd/rfc3464-28.eml: Postfix "Mail Delivery
    # Status Report" from MAILER-DAEMON, "Action: deliverable", "Status: 2.1.5".
    result = corpus("sisimai/rfc3464-28.eml")
    assert result.kind == "other", result.evidence
    assert "DSN action deliverable (success)" in result.evidence
    assert result.bounce is None


@pytest.mark.parametrize(
    "path",
    [
        # sisimai/rb-sisimai eg/maildir-as-a-sample/new/arf-01.eml and
        # set-of-emails/maildir/bsd/arf-11.eml: RFC 5965 abuse reports
        "sisimai/arf-01.eml",
        "sisimai/arf-11.eml",
    ],
)
def test_arf_feedback_report_is_not_an_answer(path: str) -> None:
    result = corpus(path)
    assert result.kind == "other", result.evidence
    assert result.evidence[0].startswith("ARF feedback report")


def test_amazon_ses_notification_is_not_an_answer() -> None:
    # sisimai/rb-sisimai set-of-emails/maildir/bsd/email-amazonses-12.eml: "AWS Notification
    # Message" from no-reply@sns.amazonaws.com, a JSON delivery notification.
    result = corpus("sisimai/email-amazonses-12.eml")
    assert result.kind == "other", result.evidence
    assert result.bounce is None


def test_notification_from_a_no_reply_sender_is_not_an_answer() -> None:
    # apache/spamassassin t/data/spam/spf1: a Google News Alert from
    # newsalerts-noreply@…, no thread headers.
    result = corpus("spamassassin/spam-spf1")
    assert result.kind == "other", result.evidence
    assert "a notification: no reply wording" in result.evidence


@pytest.mark.parametrize(
    ("path", "language"),
    [
        # rjbs/Mail-DeliveryStatus-BounceParser t/corpus/autoreply.msg (English)
        ("bounceparser/autoreply.msg", "en"),
        # okfde/froide froide/foirequest/tests/testdata/test_mail_09.txt: « E-Mail
        # Empfangsbestätigung », from no_reply@vbg.de (German)
        ("froide/test_mail_09.txt", "de"),
        # rjbs/Mail-DeliveryStatus-BounceParser t/corpus/polish-autoreply.msg:
        # « [Automatyczna odpowiedź] test » (Polish)
        ("bounceparser/polish-autoreply.msg", "pl"),
    ],
)
def test_acknowledgements_in_other_languages(path: str, language: str) -> None:
    assert _MANIFEST[path].language == language
    result = corpus(path)
    assert result.kind == "acknowledgement", result.evidence


def test_headerless_out_of_office() -> None:
    # mysociety/alaveteli spec/fixtures/files/track-response-generic-oof.eml: no
    # Auto-Submitted nor any X-Auto* header, « I am out of the office till the 12th … »
    result = corpus("alaveteli/track-response-generic-oof.eml")
    assert result.kind == "out_of_office", result.evidence
    assert not any(item.startswith("header ") for item in result.evidence)


@pytest.mark.parametrize(
    "path",
    [
        # apache/spamassassin t/data/spam/010: a marketing mailing, "Fw:" subject, opt-out
        # footer, no list header
        "spamassassin/spam-010",
        # apache/spamassassin t/data/spam/001: « This mailing is done by an independent
        # marketing co. … To be removed please reply »
        "spamassassin/spam-001",
        # deltachat/deltachat-core-rust test-data/message/mailinglist_ttline.eml: a ferry
        # company's German newsletter from newsletter@, no list header
        "deltachat-reports/mailinglist_ttline.eml",
        # deltachat/deltachat-core-rust test-data/message/mailinglist_xt_local_spiegel.eml:
        # a German magazine's offers, with List-Id and List-Unsubscribe
        "deltachat-reports/mailinglist_xt_local_spiegel.eml",
    ],
)
def test_mailings_without_thread_headers_are_not_answers(path: str) -> None:
    result = corpus(path)
    assert result.kind == "other", result.evidence


def test_french_redirect_wording_adresser_votre_demande() -> None:
    # No real French message with this wording was found in public fixtures: the shipped
    # fictional sample (examples/mail/redirect.eml) is rewritten with the wording issue 14
    # quotes, to check the pattern, not to stand for real mail.
    raw = (SAMPLES / "redirect.eml").read_bytes()
    original = "Veuillez vous adresser à l'Agence".encode()
    assert original in raw
    rewritten = raw.replace(
        original, "Nous vous invitons à adresser votre demande directement à l'Agence".encode()
    )
    result = classify(parse_message(rewritten))
    assert result.kind == "redirect", result.evidence
    assert 'text matches "nous vous invitons à adresser votre demande à"' in result.evidence or (
        'text matches "ne relève pas de notre service"' in result.evidence
    )
