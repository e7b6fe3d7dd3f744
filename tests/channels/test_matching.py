"""Matching, reply effects and content checks: pure code, exact to the second."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from channels.classify import BounceInfo, classify
from channels.content_checks import carry_reviews, check_answer, effective, find_item, review
from channels.matching import ContactRef, MatchIndex, normalise_subject, similar_subjects
from channels.mime import ParsedMessage, parse_message
from runners.effects import Reply, reply_effect, status_after
from scenarios.catalog import load_catalog
from storage.mail import ContactView
from tests.mailworld import reply

SENT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = SENT + timedelta(hours=5)
PERSONA = "claire.mercier@persona.example"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mail"


def ref(id_: int, service: str, collectivity: int, subject: str = "", **kw: Any) -> ContactRef:
    return ContactRef(
        id=id_,
        status=kw.pop("status", "sent"),
        sent_at=kw.pop("sent_at", SENT),
        message_id=kw.pop("message_id", f"<c{id_}@persona.example>"),
        followup_message_id=kw.pop("followup_message_id", None),
        reply_token=kw.pop("reply_token", f"token{id_}"),
        service_id=kw.pop("service_id", id_),
        service_email=service,
        collectivity_id=collectivity,
        subjects=(normalise_subject(subject),) if subject else (),
    )


CONTACTS = [
    ref(1, "etat-civil@mairie-a.example", 10, "Demande de copie intégrale d'acte de naissance"),
    ref(2, "piscine@mairie-a.example", 10, "Horaires et tarifs de la piscine"),
    ref(3, "ccas@ville-b.example", 20, "Demande d'aide pour une facture"),
    ref(4, "ccas@ville-b.example", 20, "Renseignements sur les aides possibles"),
    ref(5, "accueil@orange.fr", 30, "Inscription sur les listes électorales"),
    ref(6, "police@ville-c.example", 40, "Bruit", status="answered"),
]
INDEX = MatchIndex(PERSONA, "+", CONTACTS)


def parsed(**kw: Any) -> ParsedMessage:
    return parse_message(reply(to=kw.pop("to", PERSONA), **kw))


def test_normalise_subject() -> None:
    assert normalise_subject("RE : TR: Relance : Demande d’acte ") == "demande d acte"
    assert normalise_subject("Fwd: [EXTERNE] AW: Réponse   à votre DEMANDE") == (
        "reponse a votre demande"
    )
    assert normalise_subject("Re[2]: Objet") == "objet"
    assert similar_subjects("demande de copie d acte", "demande de copie d acte de naissance")
    assert not similar_subjects("bruit", "bruit de voisinage la nuit")  # too short to contain


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # header and token methods prove the link, whatever the sender
        ({"sender": "x@ailleurs.example", "in_reply_to": "<c3@persona.example>"}, (3, "thread")),
        ({"sender": "x@ailleurs.example", "to": "claire.mercier+token4@persona.example"},
         (4, "reply_token")),
        ({"sender": "x@ailleurs.example", "headers": {"Delivered-To":
          "Claire.Mercier+TOKEN2@persona.example"}}, (2, "reply_token")),
        # the service's own address, one open contact there
        ({"sender": "Piscine <piscine@mairie-a.example>", "subject": "Horaires"},
         (2, "sender_address")),
        # the service's address, two open contacts: the subject decides
        ({"sender": "ccas@ville-b.example",
          "subject": "RE: Renseignements sur les aides possibles"}, (4, "sender_subject")),
        # another agent of a domain with two open contacts: the subject decides
        ({"sender": "jean.dupont@mairie-a.example",
          "subject": "TR: Demande de copie intégrale d'acte de naissance"}, (1, "domain_subject")),
    ],
)  # fmt: skip
def test_match_methods(message: dict[str, Any], expected: tuple[int, str]) -> None:
    result = INDEX.match(parsed(**message), LATER)
    assert (result.contact_id, result.method) == expected
    assert result.confidence is not None and result.confidence >= 0.7


@pytest.mark.parametrize(
    ("message", "why"),
    [
        ({"sender": "ccas@ville-b.example", "subject": "Votre courriel"}, "ambiguous"),
        ({"sender": "jean.dupont@mairie-a.example", "subject": "Votre courriel"}, "ambiguous"),
        # a webmail domain says nothing about the collectivity
        ({"sender": "someone@orange.fr", "subject": "Bonjour"}, "no candidate"),
        ({"sender": "police@ville-c.example", "subject": "Bruit"}, "no candidate"),  # answered
        ({"sender": "x@ailleurs.example", "subject": "Re: Horaires et tarifs de la piscine"},
         "below threshold"),
    ],
)  # fmt: skip
def test_unsure_goes_to_triage(message: dict[str, Any], why: str) -> None:
    result = INDEX.match(parsed(**message), LATER)
    assert result.contact_id is None
    assert why in result.reason


def test_subject_alone_matches_only_under_a_lower_threshold() -> None:
    message = parsed(sender="x@ailleurs.example", subject="Re: Horaires et tarifs de la piscine")
    assert INDEX.match(message, LATER).suggestions[0].contact_id == 2
    low = INDEX.match(message, LATER, threshold=0.6)
    assert (low.contact_id, low.method, low.confidence) == (2, "subject", 0.6)


def test_heuristics_only_after_the_send_time() -> None:
    message = parsed(sender="piscine@mairie-a.example", subject="Horaires")
    assert INDEX.match(message, SENT - timedelta(seconds=1)).contact_id is None
    assert INDEX.match(message, SENT).contact_id == 2
    threaded = parsed(sender="piscine@mairie-a.example", in_reply_to="<c2@persona.example>")
    assert INDEX.match(threaded, SENT - timedelta(minutes=1)).contact_id == 2


def test_own_copy_and_bounces() -> None:
    own = parsed(sender=f"Claire <{PERSONA}>", message_id="<c1@persona.example>")
    result = INDEX.match(own, LATER)
    assert result.own_copy and result.contact_id == 1
    # From the persona but not one of our Message-IDs: not an own copy
    assert not INDEX.match(parsed(sender=PERSONA, message_id="<other@x>"), LATER).own_copy
    bounce_message = parsed(sender="MAILER-DAEMON@mx.example", subject="Undeliverable")
    info = BounceInfo("hard", "5.1.1", "ccas@ville-b.example", "<c4@persona.example>", None, True)
    returned = INDEX.match(bounce_message, LATER, bounce=info)
    assert (returned.contact_id, returned.method) == (4, "bounce_original")
    unknown_original = replace(info, original_message_id=None, recipient="piscine@mairie-a.example")
    by_recipient = INDEX.match(bounce_message, LATER, bounce=unknown_original)
    assert (by_recipient.contact_id, by_recipient.method) == (2, "bounce_recipient")


# -- effects ---------------------------------------------------------------------------------


def view(**kw: Any) -> ContactView:
    base: dict[str, Any] = dict(
        id=1, persona_id=1, status="sent", status_at=SENT, sent_at=SENT, followup_sent_at=None,
        message_id="<c1@p>", followup_message_id=None, reply_token=None, first_ack_at=None,
        first_answer_at=None, outcome_reason=None, checks=None,
        scenario_id="email-acte-naissance", wording=0, service_id=1, service_email="a@b.example",
        service_phone=None, service_name="État civil", service_kind="etat_civil",
        service_city="Riom", collectivity_id=1, collectivity_name="Riom", departement="63",
    )  # fmt: skip
    base.update(kw)
    return ContactView(**base)


def _reply(kind: str, at: datetime, bounce: BounceInfo | None = None) -> Reply:
    return Reply(7, 1, kind, at, at, "thread", 1.0, bounce)


def test_statuses_never_move_backwards_and_earliest_time_wins() -> None:
    scenario = load_catalog().get("email-acte-naissance")
    answered, events = reply_effect(view(), _reply("answer", LATER), scenario=scenario)
    assert (answered.status, answered.first_answer_at) == ("answered", LATER)
    assert events[0].detail["delay_seconds"] == 5 * 3600
    acked, _ = reply_effect(answered, _reply("acknowledgement", SENT + timedelta(hours=1)),
                            scenario=scenario)  # fmt: skip
    assert (acked.status, acked.first_ack_at) == ("answered", SENT + timedelta(hours=1))
    earlier, events = reply_effect(acked, _reply("answer", SENT + timedelta(hours=2)),
                                   scenario=scenario)  # fmt: skip
    assert earlier.first_answer_at == SENT + timedelta(hours=2) and events[0].detail["first"]
    later, events = reply_effect(earlier, _reply("answer", LATER + timedelta(days=1)),
                                 scenario=scenario)  # fmt: skip
    assert later.first_answer_at == SENT + timedelta(hours=2) and "first" not in events[0].detail
    hard = BounceInfo("hard", "5.1.1", None, None, "user unknown", True)
    bounced, _ = reply_effect(later, _reply("bounce", LATER, hard), scenario=scenario)
    assert bounced.status == "answered"  # an answered contact was delivered
    undeliverable, events = reply_effect(view(), _reply("bounce", LATER, hard), scenario=scenario)
    assert undeliverable.status == "undeliverable" and events[0].detail["final"]
    soft = replace(hard, severity="soft", status="4.2.2")
    delayed, events = reply_effect(view(), _reply("bounce", LATER, soft), scenario=scenario)
    assert delayed.status == "sent" and "final" not in events[0].detail
    for kind in ("out_of_office", "read_receipt", "other"):
        same, _ = reply_effect(view(), _reply(kind, LATER), scenario=scenario)
        assert (same.status, same.first_ack_at, same.first_answer_at) == ("sent", None, None)


def test_targets_and_clock_skew() -> None:
    scenario = load_catalog().get("email-acte-naissance")  # answer within 5 business days
    sent = datetime(2026, 4, 30, 14, 0, tzinfo=UTC)  # Thursday; 1 and 8 May are holidays
    in_time = datetime(2026, 5, 11, 21, 59, 59, tzinfo=UTC)  # Monday 11, 23:59:59 in Paris
    _, events = reply_effect(view(sent_at=sent), _reply("answer", in_time), scenario=scenario)
    assert events[0].detail["business_days"] == 5 and events[0].detail["within_target"]
    late = in_time + timedelta(seconds=1)
    _, events = reply_effect(view(sent_at=sent), _reply("answer", late), scenario=scenario)
    assert events[0].detail["within_target"] is False
    _, events = reply_effect(view(sent_at=LATER), _reply("answer", SENT), scenario=scenario)
    assert events[0].detail["delay_seconds"] == 0 and events[0].detail["clock_skew"]


# -- content checks --------------------------------------------------------------------------


def test_content_checks_and_reviews() -> None:
    message = parse_message((EXAMPLES / "answer-threaded.eml").read_bytes())
    assert classify(message).kind == "answer"
    elements = load_catalog().get("email-acte-naissance").expected_elements
    checks = check_answer(message, elements, message=9, computed_at=LATER, redirect=False,
                          persona_email="claire.martin@temoin-persona.example",
                          service_email="etat-civil@mairie-saint-exemple.example",
                          service_phone="+33123456789")  # fmt: skip
    expected = {k: v["auto"] for k, v in checks["expected"].items()}
    assert expected["procedure"] and expected["gratuite"] and expected["informations"]
    form = checks["form"]
    assert form["greeting"]["found"] == "Bonjour Madame,"
    assert form["closing"]["found"] == "Bien cordialement,"
    assert form["agent_name"]["found"] == "Julien Moreau"
    assert form["phone"] == {"auto": True, "found": "01 23 45 67 89", "directory": True}
    assert form["postal_address"]["auto"] and form["right_service"]["auto"]
    assert form["email"]["auto"] is False  # no address written in the reply itself

    reviewed = review(checks, "procedure", False, note="only the website", at=LATER, by="ana")
    entry = reviewed["expected"]["procedure"]
    assert entry["auto"] is True and effective(entry) is False
    assert checks["expected"]["procedure"].get("override") is None  # the original is untouched
    assert find_item(reviewed, "form.greeting") == ("form", "greeting")
    recomputed = carry_reviews(reviewed, checks)
    assert recomputed["expected"]["procedure"]["override"]["note"] == "only the website"


# -- a batch's index kept up to date -----------------------------------------------------------


def test_status_after_is_the_status_reply_effect_leaves() -> None:
    """``status_after`` (what the tracker tells its index) against ``reply_effect`` itself."""
    scenario = load_catalog().get("email-acte-naissance")
    bounces = [None, *(BounceInfo(s, "5.1.1", None, None, "x", True)  # type: ignore[arg-type]
                       for s in ("hard", "soft", "unknown"))]  # fmt: skip
    statuses = ("planned", "sent", "acknowledged", "answered", "undeliverable", "failed")
    kinds = ("acknowledgement", "answer", "redirect", "bounce", "out_of_office",
             "read_receipt", "other")  # fmt: skip
    for status in statuses:
        for kind in kinds:
            for bounce in bounces:
                after, _ = reply_effect(view(status=status), _reply(kind, LATER, bounce),
                                        scenario=scenario)  # fmt: skip
                assert status_after(status, kind, bounce) == after.status, (status, kind, bounce)


def test_an_updated_index_matches_as_a_fresh_one() -> None:
    """``MatchIndex.update`` against an index built anew over the changed contacts."""
    rng = random.Random(3)
    subjects = ["demande d acte", "tarifs piscine", "aide ccas", "inscription cantine"]
    for _round in range(40):
        contacts = [
            ContactRef(
                id=n,
                status=rng.choice(["sent", "acknowledged", "answered"]),
                sent_at=SENT + timedelta(minutes=rng.randrange(60)),
                message_id=f"<c{n}@persona.example>",
                followup_message_id=None,
                reply_token=f"t{n}",
                service_id=n % 3,
                service_email=f"s{n % 3}@mairie{n % 2}.example",
                collectivity_id=n % 2,
                subjects=tuple(rng.sample(subjects, rng.randrange(2))),
            )
            for n in range(8)
        ]
        index = MatchIndex("p@persona.example", "+", contacts)
        changed = list(contacts)
        for _step in range(4):
            n = rng.randrange(len(changed))
            new = replace(changed[n], status=rng.choice(["sent", "answered", "undeliverable"]),
                          subjects=(*changed[n].subjects, rng.choice(subjects)))  # fmt: skip
            changed[n] = new
            index.update(new)
            fresh = MatchIndex("p@persona.example", "+", changed)
            for sender in ("s0@mairie0.example", "s1@mairie1.example", "x@mairie0.example"):
                for subject in (*subjects, "autre chose"):
                    raw = reply(sender=sender, to="p@persona.example", subject=f"Re: {subject}")
                    parsed = parse_message(raw)
                    at = SENT + timedelta(hours=2)
                    assert index.match(parsed, at) == fresh.match(parsed, at)
            assert index.contacts == fresh.contacts
