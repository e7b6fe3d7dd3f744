"""A class the rules cannot vouch for never moves a contact on a guess.

The classifier marks ``unsure`` what it cannot vouch for (an answer that replies to nothing, an
automatic message with no known signal). The tracker accepts such a message only when the reply
names our request (our Message-ID, or the reply token of the address we gave); matched by a
guess (sender, domain, subject), it waits in triage with its suggestion, and a coordinator's
decision (``triage match … --as KIND``) records it at its INTERNALDATE, marked as classified by
that person. The messages here are built by tests/mailworld.py (consistency, not real mail).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from sim.dovecot import DovecotServer
from storage.db import Database
from tests.mailworld import (
    PASSWORD_ENV,
    SENT,
    contact,
    events,
    make_world,
    messages,
    reply,
    tracker,
)

# A letter from another agent of the town hall, written as a new message: no thread headers,
# no « Re: », nothing quoted. It reads like an answer, but nothing ties it to our request.
SUBJECT = "Votre demande d'acte de naissance"
BODY = (
    "Madame,\n\nSuite à votre courriel, l'acte demandé vous sera adressé par voie postale "
    "sous huit jours.\n\nBien cordialement,\nMarie Durand\nService état civil\n"
)


@pytest.fixture(autouse=True)
def _imap_password(monkeypatch: pytest.MonkeyPatch, dovecot_server: DovecotServer) -> None:
    monkeypatch.setenv(PASSWORD_ENV, dovecot_server.password)


async def test_unsure_answer_matched_by_a_guess_waits_for_a_person(
    database: Database, dovecot_server: DovecotServer, mail_user: str
) -> None:
    world = await make_world(database, dovecot_server, mail_user)
    at = SENT + timedelta(days=1, hours=3)
    dovecot_server.append(
        mail_user,
        reply(sender="Marie Durand <marie.durand@mairie-saint-exemple.example>",
              to=world.persona_email, subject=SUBJECT, body=BODY),
        when=at,
    )  # fmt: skip
    assert await tracker(database).sync_all() == {}
    [row] = [m for m in await messages(database, world.persona_id) if m.subject == SUBJECT]
    assert row.classification == "answer" and row.triage_state == "pending"
    assert row.contact_id is None
    assert row.evidence is not None and row.evidence["unsure"] is True
    # The guess is kept as a suggestion for the coordinator.
    hint = row.evidence["match"]["suggestions"][0]
    assert hint["contact"] == world.contacts["acte"]
    acte = await contact(database, world.contacts["acte"])
    assert (acte.status, acte.first_answer_at) == ("sent", None)

    # The coordinator reads it and decides: an answer to that contact.
    await tracker(database).match_manually(
        row.id, world.contacts["acte"], actor="coordinatrice", kind="answer"
    )
    acte = await contact(database, world.contacts["acte"])
    assert (acte.status, acte.first_answer_at) == ("answered", at)
    [event] = await events(database, world.contacts["acte"], "mail_answer")
    assert event.at == at and event.detail is not None
    assert event.detail["classified_by"] == "coordinatrice"
    assert event.detail["method"] == "manual"


async def test_unsure_answer_to_our_reply_token_is_accepted(
    database: Database, dovecot_server: DovecotServer, mail_user: str
) -> None:
    world = await make_world(database, dovecot_server, mail_user)
    at = SENT + timedelta(days=2)
    to_token = world.persona_email.replace("@", f"+{world.tokens['acte']}@")
    dovecot_server.append(
        mail_user,
        reply(sender="Marie Durand <marie.durand@mairie-saint-exemple.example>",
              to=to_token, subject=SUBJECT, body=BODY),
        when=at,
    )  # fmt: skip
    assert await tracker(database).sync_all() == {}
    [row] = [m for m in await messages(database, world.persona_id) if m.subject == SUBJECT]
    assert (row.contact_id, row.match_method, row.triage_state) == (
        world.contacts["acte"], "reply_token", None,
    )  # fmt: skip
    assert row.evidence is not None and row.evidence["unsure_confirmed_by"] == "reply_token"
    acte = await contact(database, world.contacts["acte"])
    assert (acte.status, acte.first_answer_at) == ("answered", at)


async def test_a_class_set_in_triage_must_be_known(
    database: Database, dovecot_server: DovecotServer, mail_user: str
) -> None:
    from runners.tracker import TriageError

    world = await make_world(database, dovecot_server, mail_user)
    with pytest.raises(TriageError, match="unknown class 'reponse'"):
        await tracker(database).match_manually(1, world.contacts["acte"], actor="x", kind="reponse")
