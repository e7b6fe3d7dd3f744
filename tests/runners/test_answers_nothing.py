"""Mail that answers nothing is never tied to a contact by a guess, and never moves a figure.

A town's mailing sent from a service's own address looks, to the heuristics, like that
service writing back (the sender is the address we wrote to). Classified ``other``, it waits in
triage with the guess as a suggestion; only a match that names our request (the reply token
of the address we gave, our Message-ID) ties it to the contact, and then it is recorded
without moving the contact's status. The messages here are built by tests/mailworld.py
(consistency, not real mail: the classifier is judged on tests/corpus/).
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

MAILING = {
    "List-Unsubscribe": "<https://mairie-saint-exemple.example/desinscription?u=1>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}
BODY = (
    "Piscine municipale : fermeture technique du bassin sportif lundi et mardi.\n\n"
    "Se désinscrire : https://mairie-saint-exemple.example/desinscription?u=1\n"
)


@pytest.fixture(autouse=True)
def _imap_password(monkeypatch: pytest.MonkeyPatch, dovecot_server: DovecotServer) -> None:
    monkeypatch.setenv(PASSWORD_ENV, dovecot_server.password)


async def test_a_mailing_from_the_address_we_wrote_to_waits_in_triage(
    database: Database, dovecot_server: DovecotServer, mail_user: str
) -> None:
    world = await make_world(database, dovecot_server, mail_user)
    dovecot_server.append(
        mail_user,
        reply(sender=f"Piscine municipale <{world.services['piscine']}>", to=world.persona_email,
              subject="Fermeture technique", body=BODY, headers=MAILING),
        when=SENT + timedelta(days=1),
    )  # fmt: skip
    assert await tracker(database).sync_all() == {}
    [row] = [m for m in await messages(database, world.persona_id) if m.direction == "in"]
    assert row.classification == "other"
    assert (row.contact_id, row.triage_state) == (None, "pending")
    assert row.evidence is not None
    [guess, *_] = row.evidence["match"]["suggestions"]
    assert (guess["contact"], guess["method"]) == (world.contacts["piscine"], "sender_address")
    piscine = await contact(database, world.contacts["piscine"])
    assert (piscine.status, piscine.first_ack_at, piscine.first_answer_at) == ("sent", None, None)
    assert await events(database, world.contacts["piscine"], "mail_other") == []


async def test_a_mailing_that_names_our_request_is_recorded_and_moves_nothing(
    database: Database, dovecot_server: DovecotServer, mail_user: str
) -> None:
    world = await make_world(database, dovecot_server, mail_user)
    at = SENT + timedelta(days=1)
    to_token = world.persona_email.replace("@", f"+{world.tokens['piscine']}@")
    dovecot_server.append(
        mail_user,
        reply(sender=f"Piscine municipale <{world.services['piscine']}>", to=to_token,
              subject="Fermeture technique", body=BODY, headers=MAILING),
        when=at,
    )  # fmt: skip
    assert await tracker(database).sync_all() == {}
    [row] = [m for m in await messages(database, world.persona_id) if m.direction == "in"]
    assert (row.classification, row.contact_id, row.match_method, row.triage_state) == (
        "other", world.contacts["piscine"], "reply_token", None,
    )  # fmt: skip
    piscine = await contact(database, world.contacts["piscine"])
    assert (piscine.status, piscine.first_ack_at, piscine.first_answer_at) == ("sent", None, None)
    [event] = await events(database, world.contacts["piscine"], "mail_other")
    assert event.at == at
