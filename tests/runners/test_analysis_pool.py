"""Parsing in worker processes (runners/analysis_pool.py): the same analyses as in this
process, over real mail of the corpus; a worker that dies costs one message a quarantine,
never the batch; the tracker's whole pipeline with parser processes, batches recorded while
the next are parsed."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from channels.analysis import Analysis, analyse
from channels.content_checks import read_answer
from runners.analysis_pool import Analysed, AnalysisPool, chunks, default_workers
from sim.dovecot import DovecotServer
from storage.db import Database
from tests.corpus.loader import load_corpus
from tests.mailworld import PASSWORD_ENV, contact, make_world, messages, reply, tracker

KILL = b"X-Test-Kill-Parser: yes\r\n"


def here(raw: bytes) -> Analysed:
    """What a worker sends back, computed in this process."""
    analysis = analyse(raw)
    kind = analysis.classification.kind if analysis.classification else None
    answer = (
        read_answer(analysis.parsed) if analysis.parsed and kind in ("answer", "redirect") else None
    )
    return Analysed(analysis, answer)


def dies_on_marker(raw: bytes) -> Analysis:
    """A parser that crashes its process on one message, as a crash in C code would."""
    if raw.startswith(KILL):
        os._exit(70)
    return analyse(raw)


@pytest.fixture
def corpus_raws() -> list[bytes]:
    return [message.raw() for message in load_corpus()[::9]]


@pytest.fixture
def pool() -> Iterator[AnalysisPool]:
    made = AnalysisPool(2)
    yield made
    made.close()


def test_default_workers_keep_a_core_for_the_event_loop() -> None:
    assert [default_workers(n) for n in (1, 2, 3, 4, 16)] == [0, 1, 2, 3, 4]


def test_chunks_keep_order_and_every_message() -> None:
    raws = [bytes([n]) * size for n, size in enumerate((10, 500, 20, 20, 900, 5, 70))]
    parts = chunks(raws, 4)
    assert [raw for part in parts for raw in part] == raws
    assert 1 < len(parts) <= len(raws)
    same = [b"x" * 100] * 8
    assert [len(part) for part in chunks(same, 4)] == [2, 2, 2, 2]


async def test_workers_give_the_analyses_of_this_process(
    pool: AnalysisPool, corpus_raws: list[bytes]
) -> None:
    assert len(corpus_raws) > 30
    got = await pool.analyse(corpus_raws)
    assert got == [here(raw) for raw in corpus_raws]
    assert sum(1 for a in got if a.answer is not None) > 5  # answers' own words read there


async def test_a_dying_worker_quarantines_that_message_only(corpus_raws: list[bytes]) -> None:
    pool = AnalysisPool(2, dies_on_marker)
    try:
        raws = [*corpus_raws[:6], KILL + corpus_raws[6], *corpus_raws[7:12]]
        got = await pool.analyse(raws)
        assert got[6] == Analysed(Analysis(None, None, "parser process died on this message"))
        assert got[:6] + got[7:] == [here(raw) for raw in raws[:6] + raws[7:]]
        assert pool.restarts >= 2  # the batch broke the pool, then the message alone did
        assert await pool.analyse(corpus_raws[:3]) == [here(r) for r in corpus_raws[:3]]
    finally:
        pool.close()


async def test_tracker_with_parser_processes(
    database: Database,
    dovecot_server: DovecotServer,
    mail_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, dovecot_server.password)
    world = await make_world(database, dovecot_server, mail_user)
    body = "Bonjour Madame,\n\nLa demande se fait en ligne.\n\nCordialement,\nJulien Moreau\n"
    raws = [
        reply(sender=world.services[key], to=world.persona_email,
              in_reply_to=world.message_ids[key], body=body)
        for key in ("acte", "piscine", "ccas_a", "ccas_b")
    ]  # fmt: skip
    raws.append(b"\x00\x01 not a mail at all")
    for raw in raws:
        dovecot_server.append(mail_user, raw)
    watcher = tracker(database, parse_workers=1, fetch_batch=2)
    try:
        assert await watcher.sync_all() == {}
    finally:
        watcher.close()
    rows = await messages(database, world.persona_id)
    assert len(rows) == len(raws)
    by_uid = {row.uid: row for row in rows}
    for uid, raw in enumerate(raws, 1):
        expected = analyse(raw)
        row = by_uid[uid]
        if expected.classification is None:
            assert (row.classification, row.quarantine_reason) == (
                "quarantined",
                expected.quarantine_reason,
            )
        else:
            assert row.classification == expected.classification.kind
    for key in ("acte", "piscine", "ccas_a", "ccas_b"):
        assert (await contact(database, world.contacts[key])).status in ("answered", "acknowledged")


def test_settings_choose_the_parser_processes() -> None:
    from temoin.settings import Settings
    from temoin.worker import tracking_config

    assert tracking_config(Settings()).parse_workers == default_workers()
    chosen = Settings.model_validate({"tracking": {"parse_workers": 0}})
    assert tracking_config(chosen).parse_workers == 0
