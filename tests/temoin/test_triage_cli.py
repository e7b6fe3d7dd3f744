"""`temoin triage`, `temoin review` and the `mail` section of `temoin campaign show`, on
SQLite and PostgreSQL, after a real pass of the watcher over the suite's Dovecot."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from typer.testing import CliRunner

import temoin.cli.app
from scenarios.typography import violations
from sim.dovecot import DovecotServer
from storage.models import Contact, Message
from tests.conftest import DbTarget
from tests.mailworld import PASSWORD_ENV, SENT, World, make_world, reply, tracker

runner = CliRunner()


@pytest.fixture(autouse=True)
def _imap_password(monkeypatch: pytest.MonkeyPatch, dovecot_server: DovecotServer) -> None:
    monkeypatch.setenv(PASSWORD_ENV, dovecot_server.password)


def cli(*args: str) -> Any:
    result = runner.invoke(temoin.cli.app.app, list(args))
    return result


def _setup(target: DbTarget, server: DovecotServer, user: str) -> World:
    async def work() -> World:
        database = target.database()
        try:
            world = await make_world(database, server, user)
            at = SENT + timedelta(days=1)
            server.append(
                user,
                reply(
                    sender="ccas@autreville.example",
                    to=world.persona_email,
                    subject="Re: Demande d'aide pour une facture d'électricité",
                ),
                when=at,
            )
            server.append(
                user,
                reply(sender="news@ailleurs.example", to=world.persona_email, subject="Nos offres"),
                when=at,
            )
            server.append(
                user,
                reply(
                    sender=world.services["acte"],
                    to=world.persona_email,
                    in_reply_to=world.message_ids["acte"],
                    body="Bonjour Madame,\nFaites la demande en ligne. C'est gratuit.\n"
                    "Cordialement,\nJulien Moreau\n",
                ),
                when=at,
            )
            assert await tracker(database).sync_all() == {}
            return world
        finally:
            await database.dispose()

    return asyncio.run(work())


def _db(target: DbTarget, query: Any) -> Any:
    async def work() -> Any:
        database = target.database()
        try:
            async with database.session() as s:
                return await query(s)
        finally:
            await database.dispose()

    return asyncio.run(work())


def test_triage_list_match_ignore(
    cli_env: DbTarget,
    dovecot_server: DovecotServer,
    mail_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = _setup(cli_env, dovecot_server, mail_user)
    result = cli("triage", "list", "--json")
    assert result.exit_code == 0, result.output
    pending = json.loads(result.output)
    assert [p["subject"] for p in pending] == [
        "Re: Demande d'aide pour une facture d'électricité",
        "Nos offres",
    ]
    ccas, news = pending
    assert {s["contact"] for s in ccas["suggestions"]} == {
        world.contacts["ccas_a"],
        world.contacts["ccas_b"],
    }
    assert ccas["persona"] and ccas["folder"] == "INBOX"
    assert ccas["suggestions"][0]["about"]["channel"] == "email"
    shown = cli("triage", "list")
    assert shown.exit_code == 0, shown.output
    # Each suggestion described: service, collectivity, scenario by its title, channel and
    # date, why, how sure; an excerpt of the message; no ids to know by heart.
    assert "À trier (2)" in shown.output
    suggestion = next(line for line in shown.output.splitlines()
                      if f"contact {world.contacts['ccas_a']}\u202f:" in line)  # fmt: skip
    assert "courriel du" in suggestion and "même adresse d’expéditeur, 0,45" in suggestion, (
        suggestion
    )
    assert "Extrait\u202f: «\u202f" in shown.output

    # Not the persona's contact? Too early? Refused, nothing changes.
    other = cli("triage", "match", str(news["message"]), "999999")
    assert other.exit_code == 1
    assert other.stderr == "temoin: aucun contact n°\u00a0999999\n"

    done = cli("triage", "match", str(ccas["message"]), str(world.contacts["ccas_b"]))
    assert done.exit_code == 0, done.output
    contact = _db(cli_env, lambda s: s.get(Contact, world.contacts["ccas_b"]))
    assert (contact.status, contact.first_answer_at) == ("answered", SENT + timedelta(days=1))
    again = cli("triage", "match", str(ccas["message"]), str(world.contacts["ccas_a"]))
    assert again.exit_code == 1
    said = again.stderr.removeprefix("temoin: ").rstrip("\n")
    assert said == (
        f"le message n°\u00a0{ccas['message']} n’est plus à trier\u202f: il est déjà rattaché "
        f"au contact {world.contacts['ccas_b']}"
    )
    assert not violations(said), said

    assert cli("triage", "ignore", str(news["message"])).exit_code == 0
    ignored = cli("triage", "ignore", str(news["message"]))
    assert ignored.exit_code == 1
    assert ignored.stderr == (
        f"temoin: le message n°\u00a0{news['message']} n’est pas en attente de tri\n"
    )
    missing = cli("triage", "ignore", "999999")
    assert missing.exit_code == 1 and missing.stderr == "temoin: aucun message n°\u00a0999999\n"
    monkeypatch.setenv("TEMOIN_LOCALE", "en")
    english = cli("triage", "match", str(ccas["message"]), str(world.contacts["ccas_a"]))
    assert english.exit_code == 1
    assert english.stderr == (
        f"temoin: message {ccas['message']} is not in triage any more: it already belongs to "
        f"contact {world.contacts['ccas_b']}\n"
    )
    assert cli("triage", "ignore", "999999").stderr == "temoin: no message 999999\n"
    monkeypatch.delenv("TEMOIN_LOCALE")
    assert json.loads(cli("triage", "list", "--json").output) == []
    everything = json.loads(cli("triage", "list", "--json", "--all").output)
    assert {e["state"] for e in everything} == {"matched", "ignored"}


def test_review_overrides_kept_beside_automatic_values(
    cli_env: DbTarget, dovecot_server: DovecotServer, mail_user: str
) -> None:
    world = _setup(cli_env, dovecot_server, mail_user)
    acte = str(world.contacts["acte"])
    shown = cli("review", acte, "--json")
    assert shown.exit_code == 0, shown.output
    checks = json.loads(shown.output)
    assert checks["expected"]["gratuite"]["auto"] is True
    assert checks["form"]["agent_name"]["found"] == "Julien Moreau"

    result = cli(
        "review",
        acte,
        "--check",
        "gratuite=no",
        "--check",
        "form.email=yes",
        "--note",
        "the price is not given",
    )
    assert result.exit_code == 0, result.output
    assert "gratuite" in result.output
    stored = _db(cli_env, lambda s: s.get(Contact, world.contacts["acte"])).checks
    gratuite = stored["expected"]["gratuite"]
    assert gratuite["auto"] is True
    assert gratuite["override"]["value"] is False
    assert gratuite["override"]["note"] == "the price is not given"
    assert stored["form"]["email"]["override"]["value"] is True

    # The answer's text is shown, what was found in it marked; the labels are whole.
    assert "Texte de la réponse" in result.output and "Faites la demande en ligne" in result.output
    # Re-run without --note: the earlier note stays.
    assert cli("review", acte, "--check", "gratuite=no").exit_code == 0
    stored = _db(cli_env, lambda s: s.get(Contact, world.contacts["acte"])).checks
    assert stored["expected"]["gratuite"]["override"]["note"] == "the price is not given"
    replaced = cli("review", acte, "--check", "gratuite=yes", "--note", "price given, after all")
    assert replaced.exit_code == 0
    stored = _db(cli_env, lambda s: s.get(Contact, world.contacts["acte"])).checks
    assert stored["expected"]["gratuite"]["override"]["note"] == "price given, after all"

    bad = cli("review", acte, "--check", "nonsense=yes")
    assert bad.exit_code == 1
    said = bad.stderr.removeprefix("temoin: ")
    assert said.startswith(
        f"contrôle inconnu «\u202fnonsense\u202f» pour le contact {acte} (connus\u202f: "
    )
    assert "gratuite" in said and not violations(said), said
    assert cli("review", "999999", "--check", "gratuite=yes").stderr == (
        "temoin: aucun contact 999999\n"
    )
    assert cli("review", acte, "--check", "gratuite=maybe").exit_code == 1
    # No answer yet: the scenario's items, no automatic value, an override still possible.
    piscine = cli("review", str(world.contacts["piscine"]), "--check", "greeting=no", "--json")
    assert piscine.exit_code == 0, piscine.output
    data = json.loads(piscine.output)
    assert data["form"]["greeting"]["auto"] is None
    assert data["form"]["greeting"]["override"]["value"] is False


def test_campaign_show_reports_mailboxes_and_gaps(
    cli_env: DbTarget, dovecot_server: DovecotServer, mail_user: str
) -> None:
    world = _setup(cli_env, dovecot_server, mail_user)
    name = f"barometre-{mail_user}"
    data = json.loads(cli("campaign", "show", name, "--json").output)
    mail = data["mail"]
    inbox = next(m for m in mail["mailboxes"] if m["folder"] == "INBOX")
    assert (inbox["server_count"], inbox["stored"], inbox["gap"]) == (3, 3, 0)
    assert mail["triage_pending"] == 2 and mail["gaps"] == 0
    assert mail["matched_by_classification"] == {"answer": 1}

    async def lose_one(s: Any) -> None:  # a row lost: the census figure shows the gap
        lost = await s.scalar(select(Message.id).where(Message.persona_id == world.persona_id))
        await s.execute(delete(Message).where(Message.id == lost))

    _db(cli_env, lose_one)
    result = cli("campaign", "show", name)
    assert result.exit_code == 0, result.output
    assert "1 message(s) présents sur les serveurs ne sont pas enregistrés" in result.output
    assert "Boîtes aux lettres (recensement)" not in result.output  # a detail
    result = cli("campaign", "show", name, "--details")
    assert "Boîtes aux lettres (recensement)" in result.output


def test_contact_and_message_show(
    cli_env: DbTarget, dovecot_server: DovecotServer, mail_user: str
) -> None:
    world = _setup(cli_env, dovecot_server, mail_user)
    acte = world.contacts["acte"]
    shown = cli("contact", "show", str(acte))
    assert shown.exit_code == 0, shown.output
    assert f"Contact {acte}\u202f: Courriel — " in shown.output
    assert "Statut\u202f: répondu" in shown.output and "Messages" in shown.output
    assert "contrôles de la réponse" in shown.output
    data = json.loads(cli("contact", "show", str(acte), "--json").output)
    [answer] = [m for m in data["messages"]]
    message = cli("message", "show", str(answer))
    assert message.exit_code == 0, message.output
    assert "Nature\u202f: réponse" in message.output
    assert f"Contact\u202f: {acte}" in message.output
    assert "Rapprochement\u202f: réponse dans le fil, 1,00" in message.output
    assert "Faites la demande en ligne. C'est gratuit." in message.output
    assert "Indices" in message.output
    unknown = cli("message", "show", "999999")
    assert unknown.exit_code == 1 and "aucun message 999999" in unknown.output
    assert cli("contact", "show", "999999").exit_code == 1


def test_message_show_prints_hostile_text_as_written(
    cli_env: DbTarget, dovecot_server: DovecotServer, mail_user: str
) -> None:
    async def work() -> int:
        database = cli_env.database()
        try:
            world = await make_world(database, dovecot_server, mail_user)
            body = "Voir [link=http://evil.example]ici[/link] [bold red]urgent[/]\n\x1b[2J fin\n"
            dovecot_server.append(
                mail_user,
                reply(sender="x@ailleurs.example", to=world.persona_email, subject="Nos offres",
                      body=body),
                when=SENT + timedelta(days=1),
            )  # fmt: skip
            assert await tracker(database).sync_all() == {}
            async with database.session() as s:
                found = await s.scalar(select(Message.id).where(Message.subject == "Nos offres"))
            assert found is not None
            return int(found)
        finally:
            await database.dispose()

    message = asyncio.run(work())
    shown = cli("message", "show", str(message))
    assert shown.exit_code == 0, shown.output
    assert "[link=http://evil.example]ici[/link] [bold red]urgent[/]" in shown.output
    assert "\x1b" not in shown.output and "\u241b[2J fin" in shown.output
    listed = cli("triage", "list")
    assert "\x1b" not in listed.output and "[bold red]urgent[/]" in listed.output
