"""Enrolment: invite codes (valid, reused, expired, unknown), unknown users, the guess limit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from sim.botapi import LocalBotApi
from storage.db import Database
from storage.models import Auditor, BotState, InviteCode
from tests.bot.support import NOW, Bot, invite, seed, text_of


async def test_valid_code_binds_the_user_and_shows_the_menu(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    await seed(database)
    await invite(database, "paul", "K7QX3MPD2AZZ")
    paul = api.user(5001, "Paul", language_code="fr")
    paul.send_command("/start", "k7qx3mpd2azz")  # case does not matter
    welcome = await paul.wait_for_message()
    assert text_of(welcome).startswith("Bienvenue Paul Durand\u202f!")
    assert paul.reply_keyboard == [["📋 Mes tâches"], ["📊 Avancement", "❓ Aide"]]
    async with database.session() as s:
        auditor = await s.scalar(select(Auditor).where(Auditor.key == "paul"))
        assert auditor is not None and auditor.telegram_user_id == 5001
        stored = (await s.scalars(select(InviteCode))).one()
        assert stored.used_by == 5001 and stored.used_at == NOW
        assert "K7QX3MPD2AZZ" not in stored.code_hash  # only the hash is kept
    # The same code again, by someone else: already used.
    other = api.user(5002, "Intrus")
    other.send_command("/start", "K7QX3MPD2AZZ")
    assert "déjà servi" in text_of(await other.wait_for_message())
    # An enrolled user sending /start again is welcomed back, in English if that is theirs.
    paul.send_command("/start")
    assert text_of(await paul.wait_for_message()).startswith("Bonjour Paul Durand")


async def test_expired_and_unknown_codes_are_refused_clearly(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    await seed(database)
    await invite(database, "lea", "OLDCODE23456", expires=timedelta(hours=1),
                 now=NOW - timedelta(hours=2))  # fmt: skip
    lea = api.user(5003, "Léa")
    lea.send_command("/start", "OLDCODE23456")
    assert "a expiré" in text_of(await lea.wait_for_message())
    lea.send_command("/start", "NOPE")
    assert "n’est pas reconnu" in text_of(await lea.wait_for_message())
    ann = api.user(5004, "Ann", language_code="en-GB")
    ann.send_command("/start", "NOPE")
    assert "not recognised" in text_of(await ann.wait_for_message())


async def test_unknown_users_get_one_refusal_and_nothing_more(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    stranger = api.user(5005, "Curieux")
    stranger.send_text("Bonjour, c’est quoi ce bot ?")
    refusal = await stranger.wait_for_message()
    assert "réservé aux enquêteurs" in text_of(refusal)
    stranger.send_command("/taches")
    stranger.send_command("/avancement")
    stranger.press_data("o:1", refusal["message_id"])
    stranger.send_text("encore moi")
    await running.idle()
    await stranger.wait_for_callback_answer()
    assert len(stranger.messages) == 1
    async with database.session() as s:  # remembered in memory: no row for a stranger
        assert await s.get(BotState, 5005) is None


async def test_wrong_codes_are_limited_per_user_in_the_database(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    await seed(database)
    await invite(database, "paul", "GOODCODE2345")
    guesser = api.user(5006, "Devin")
    for attempt in range(5):
        guesser.send_command("/start", f"GUESS{attempt}")
        assert "n’est pas reconnu" in text_of(await guesser.wait_for_message())
    guesser.send_command("/start", "GOODCODE2345")  # even the right code: too many tries
    assert "Trop d’essais" in text_of(await guesser.wait_for_message())
    guesser.send_command("/start", "GOODCODE2345")
    await running.idle()
    async with database.session() as s:
        state = await s.get(BotState, 5006)
        assert state is not None and state.failed_codes == 7
    # A restarted bot keeps the count (it is in the database) ...
    await running.restart()
    guesser.send_command("/start", "GOODCODE2345")
    await running.idle()
    assert len(guesser.messages) == 6
    # ... until the hour has passed.
    running.clock.advance(timedelta(hours=1, minutes=1))
    guesser.send_command("/start", "GOODCODE2345")
    assert text_of(await guesser.wait_for_message()).startswith("Bienvenue Paul Durand")


async def test_a_stored_strangers_refusal_is_kept_in_the_database(
    api: LocalBotApi, database: Database, running: Bot
) -> None:
    await seed(database)
    guesser = api.user(5007, "Devin")
    guesser.send_command("/start", "WRONGCODE1")  # the wrong code is counted: a row
    assert "n’est pas reconnu" in text_of(await guesser.wait_for_message())
    guesser.send_text("Bonjour ?")
    assert "réservé aux enquêteurs" in text_of(await guesser.wait_for_message())
    await running.idle()
    async with database.session() as s:
        state = await s.get(BotState, 5007)
        assert state is not None and state.refused_at == NOW and state.failed_codes == 1
    # A restarted bot (nothing in memory) does not refuse them again.
    await running.restart()
    guesser.send_text("encore moi")
    await running.idle()
    assert len(guesser.messages) == 2
