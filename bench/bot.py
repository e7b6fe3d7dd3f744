"""Benchmark: 200 scripted auditors completing phone tasks at once, through the local Bot API.

    .venv/bin/python bench/bot.py [--auditors 200] [--backends sqlite,postgresql] [--webhook]

For each backend (SQLite in a temporary file; PostgreSQL in a temporary schema of
``--pg-url``, dropped afterwards):

1. not timed: create the tables, one campaign, one service, N auditors bound to Telegram
   users and one phone task each (scenario ``phone-listes-electorales``);
2. timed: the real bot (``bot.app.build_application``, PTB's HTTP stack, long polling) against
   ``sim.botapi.LocalBotApi``; every auditor, concurrently, opens the task, presses « Appel
   lancé », « Décroché », « Raccroché », answers the 13 grid questions (buttons and typed
   answers) and validates: 16 updates each, each sent once the previous reply has arrived;
3. timed, the baseline: the same scripted traffic against a bot that only answers each update
   with a one-button message (no database): what PTB and the local server cost by themselves.

Latency is the local server's measure: from an update being available to the bot's first
request for that chat (the reply), so it includes PTB fetching the update. Prints updates per
second and p50 / p99 latency per backend with the ratio to the baseline; the target is a p99
under 100 ms. Also per update, steadier than latencies on a shared machine: the bot's SQL
statements, commits, pool checkouts and CPU time, and the baseline's CPU time.

Stamping error (issue 14, presses timed at arrival): for every press whose time is stored
(« Appel lancé », « Décroché », « Raccroché »: the call's events), the stored time minus the
moment the local Bot API made that update available (the server records it, wall clock; the
bot runs on the same machine with the system clock). Printed at p50 / p99 / max beside the
handling latency; the target is a p99 under 50 ms whatever the handling latency. The bot
polls in a thread of its own (``bot.polling``) and stamps each batch as it is read; the
baseline keeps PTB's own Updater. With ``--webhook`` the bot serves a webhook instead
(``bot.webhook``, stamping in its server's threads) and the local Bot API posts each update
to it, as Telegram does (it calls webhooks on the loopback only); the part « in the local
Bot API » is then from availability to the moment the update is posted.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import json
import multiprocessing
import random
import secrets
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Run as ``python bench/bot.py``, this file's folder comes first on sys.path and its name
# would hide the ``bot`` package: drop that folder before importing it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from sqlalchemy import event, select, text  # noqa: E402
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update  # noqa: E402
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.app import App, BotConfig, PerUserUpdateProcessor, run, serve  # noqa: E402
from scenarios import events as ev  # noqa: E402
from sim.botapi import Availability, LocalBotApi, SimulatedUser  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import (  # noqa: E402
    Auditor,
    Base,
    Campaign,
    Collectivity,
    Contact,
    ContactEvent,
    Service,
)

NOW = datetime.now(UTC)
SCENARIO = "phone-listes-electorales"
USER_BASE = 900_000


async def seed(database: Database, n: int) -> list[int]:
    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with database.session() as s:
        camp = Campaign(name="bench", window_start=NOW.date(), window_end=NOW.date(), seed=1,
                        spec={}, created_at=NOW, planned_at=NOW)  # fmt: skip
        coll = Collectivity(insee_code="63300", name="Riom", kind="commune", population=19000,
                            departement="63", created_at=NOW, updated_at=NOW)  # fmt: skip
        s.add_all([camp, coll])
        await s.flush()
        svc = Service(collectivity_id=coll.id, kind="accueil_mairie", name="Accueil",
                      phone="+33473000000", opening_hours="lu-ve 08:30-12:00,13:30-17:30",
                      created_at=NOW, updated_at=NOW)  # fmt: skip
        s.add(svc)
        await s.flush()
        contacts: list[Contact] = []
        for i in range(n):
            auditor = Auditor(
                key=f"a{i}",
                name=f"Auditeur {i}",
                telegram_user_id=USER_BASE + i,
                role="auditor",
                language="fr",
                active=True,
                created_at=NOW,
            )
            s.add(auditor)
            await s.flush()
            contact = Contact(campaign_id=camp.id, service_id=svc.id, collectivity_id=coll.id,
                              scenario_id=SCENARIO, channel="phone", wording=i,
                              auditor_id=auditor.id, planned_at=NOW, status="assigned",
                              status_at=NOW, attempts=0)  # fmt: skip
            s.add(contact)
            contacts.append(contact)
        await s.flush()
        return [c.id for c in contacts]


async def reset(database: Database) -> None:
    """Every task back to « assigned », nothing answered: the next mode starts afresh."""
    async with database.session() as s:
        for table in ("observation", "contact_event", "bot_state"):
            await s.execute(text(f"DELETE FROM {table}"))
        await s.execute(text("UPDATE contact SET status = 'assigned', closed_at = NULL"))
    await database.dispose()


def has_buttons(message: dict[str, Any]) -> bool:
    return bool((message.get("reply_markup") or {}).get("inline_keyboard"))


Step = Callable[[SimulatedUser, dict[str, Any]], Any]


def script(contact_id: int) -> list[Step]:
    """The auditor's 16 updates; each step acts on the previous bot message."""

    def press(label: str) -> Step:
        return lambda user, last: user.press(label, message_id=last["message_id"])

    def typed(answer: str) -> Step:
        return lambda user, last: user.send_text(answer)

    return [
        lambda user, last: user.press_data(f"o:{contact_id}", 1),
        press("📞 Appel lancé"),
        press("✅ Décroché"),
        press("📴 Raccroché"),
        press("Oui"),  # picked up
        typed("3"),  # rings
        typed("1 min 30"),  # wait before a human
        press("Oui"),  # service named
        press("Non"),  # transferred
        typed("2"),  # courtesy: « Aimable »
        press("Oui"),
        press("Oui"),
        press("Non"),
        press("Oui, une réponse complète"),
        # the call's duration: measured by the presses, no longer asked (issue 15, item 6)
        typed("RAS"),  # comments
        press("✅ Valider"),
    ]


async def drive(user: SimulatedUser, steps: list[Step], think: float) -> None:
    """Play the steps, each once the previous reply is there; ``think``: mean pause (s)."""
    rng = random.Random(user.id)
    last: dict[str, Any] = {"message_id": 1}
    if think:
        await asyncio.sleep(rng.uniform(0, think))  # people do not all start at once
    for step in steps:
        step(user, last)
        last = await user.wait_for_message(has_buttons, timeout=300)
        if think:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


async def echo_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer()
    assert update.effective_user is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Suivant", callback_data="next")]])
    await context.bot.send_message(update.effective_user.id, "ok", reply_markup=keyboard)


def baseline_app(api: LocalBotApi) -> App:
    app: App = (
        Application.builder().token(api.token).base_url(api.base_url)
        .base_file_url(api.base_file_url).concurrent_updates(PerUserUpdateProcessor(256))
        .connection_pool_size(16).pool_timeout(30).build()
    )  # fmt: skip
    app.add_handler(CallbackQueryHandler(echo_callback))
    app.add_handler(MessageHandler(filters.ALL, echo_callback))
    return app


def baseline_script(n_steps: int) -> list[Step]:
    steps: list[Step] = [lambda user, last: user.send_text("début")]
    steps += [lambda user, last: user.press("Suivant", message_id=last["message_id"])] * (
        n_steps - 1
    )
    return steps


def bot_process(
    conf: BotConfig, url: str, schema: str | None, stats: str, profile: bool = False
) -> None:
    """The bot under test, in its own process (its own GIL), until SIGTERM.

    Counts its SQL statements, transactions and pool checkouts and its CPU time, written to
    ``STATS.json``; with ``profile``, also a cProfile of the whole run in ``STATS.prof``."""
    database = Database(url, schema=schema)
    counts: dict[str, Any] = {"statements": 0, "commits": 0, "checkouts": 0}
    watch_database(database, counts)
    profiler = cProfile.Profile() if profile else None
    cpu = time.process_time()

    async def main() -> None:
        try:
            await run(conf, database)
        finally:
            await database.dispose()

    if profiler is not None:
        profiler.enable()
    serve(main())
    counts["cpu_s"] = time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(f"{stats}.prof")
    Path(f"{stats}.json").write_text(json.dumps(counts))


def watch_database(database: Database, counts: dict[str, Any]) -> None:
    """Count statements, commits and pool checkouts of ``database``'s engine, and time them:
    each statement (the driver's execute: a round trip, and a prepare on a cache miss), each
    commit (to the connection's return to the pool, which follows it) and the pool's
    occupancy at each checkout (a checkout waits only when all connections are out)."""
    engine = database.engine.sync_engine
    started: dict[int, tuple[str, float]] = {}
    timings: dict[str, list[float]] = counts.setdefault("timings", {})

    def on_statement(conn: Any, _cursor: object, statement: str, *_: object) -> None:
        counts["statements"] += 1
        kind = "sql: " + " ".join(statement.split()[:6])[:90]
        counts[kind] = counts.get(kind, 0) + 1
        started[id(conn)] = (kind, time.perf_counter())

    def after_statement(conn: Any, *_: object) -> None:
        kind, at = started.pop(id(conn), ("?", time.perf_counter()))
        timings.setdefault(kind, []).append(time.perf_counter() - at)

    def on_commit(conn: Any) -> None:
        counts["commits"] += 1
        started[id(conn.connection.dbapi_connection)] = ("commit", time.perf_counter())

    def on_checkout(*_: object) -> None:
        counts["checkouts"] += 1
        out = engine.pool.checkedout()  # type: ignore[attr-defined]
        counts["max_checked_out"] = max(counts.get("max_checked_out", 0), out)

    def on_connect(*_: object) -> None:
        counts["connects"] = counts.get("connects", 0) + 1

    def on_checkin(dbapi: Any, *_: object) -> None:
        kind, at = started.pop(id(dbapi), ("", 0.0))
        if kind == "commit":
            timings.setdefault("commit (to check-in)", []).append(time.perf_counter() - at)

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "after_cursor_execute", after_statement)
    event.listen(engine, "commit", on_commit)
    event.listen(engine.pool, "checkout", on_checkout)
    event.listen(engine.pool, "checkin", on_checkin)
    event.listen(engine.pool, "connect", on_connect)


def print_timings(found: dict[str, Any]) -> None:
    """p50 / p99 / max of each statement kind and of the commits, in ms."""
    print(
        f"  pool: at most {found.get('max_checked_out', 0)} connections out at once, "
        f"{found.get('connects', 0)} opened"
    )
    for kind, values in sorted(found.get("timings", {}).items(), key=lambda kv: -len(kv[1])):
        if len(values) < 20:
            continue
        ms = sorted(v * 1000 for v in values)
        print(
            f"    {len(ms):>6} x {kind[:70]:<70} p50 {ms[len(ms) // 2]:6.2f} ms, "
            f"p99 {ms[int(len(ms) * 0.99)]:7.2f} ms, max {ms[-1]:7.1f} ms"
        )


def baseline_process(conf: BotConfig, stats: str) -> None:
    """The baseline bot: a one-button reply to every update, no database; its CPU time goes
    to ``STATS.json``."""
    cpu = time.process_time()

    async def main() -> None:
        app = baseline_app(conf)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=10)
            await stop.wait()
            await app.updater.stop()
            await app.stop()

    asyncio.run(main())
    Path(f"{stats}.json").write_text(json.dumps({"cpu_s": time.process_time() - cpu}))


async def measure(
    api: LocalBotApi,
    process: Any,
    scripts: list[list[Step]],
    think: float,
    *,
    webhook: bool = False,
) -> tuple[float, int, list[float], list[Availability], dict[int, float]]:
    process.start()
    try:
        # The bot is ready once it polls, or once it has set its webhook (it listens first).
        ready = (lambda: api.webhook is not None) if webhook else (lambda: api.active_polls > 0)
        await api.wait_until(ready, timeout=60)
        users = [api.user(USER_BASE + i, f"Auditeur{i}", started=True) for i in range(len(scripts))]
        api.metrics.reset()
        started = time.perf_counter()
        await asyncio.gather(*(drive(u, s, think) for u, s in zip(users, scripts, strict=True)))
        elapsed = time.perf_counter() - started
    finally:
        process.terminate()
        await asyncio.to_thread(process.join, 30)
    latencies = [sample.seconds for sample in api.metrics.latencies()]
    metrics = api.metrics
    return (
        elapsed,
        metrics.updates_created,
        latencies,
        metrics.availabilities(),
        metrics.deliveries(),
    )


# The presses whose time the bot stores, by their callback data's last part.
TIMED_PRESSES = {"start": ev.CALL_STARTED, "up": ev.CALL_PICKED_UP, "hang": ev.CALL_HUNG_UP}


async def stamping_errors(
    database: Database, available: list[Availability], delivered: dict[int, float]
) -> tuple[list[float], list[float]]:
    """For every timed press of the run, in seconds: the stored time minus its availability,
    and the part of it spent in the local Bot API (availability to the getUpdates answer)."""
    when: dict[tuple[int, str], float] = {}
    in_server: list[float] = []
    for item in available:
        parts = (item.data or "").split(":")
        if item.kind == "callback_query" and len(parts) == 3 and parts[2] in TIMED_PRESSES:
            when[(int(parts[1]), TIMED_PRESSES[parts[2]])] = item.at
            in_server.append(delivered.get(item.update_id, item.at) - item.at)
    async with database.session() as s:
        rows = await s.execute(
            select(ContactEvent.contact_id, ContactEvent.kind, ContactEvent.at).where(
                ContactEvent.kind.in_(sorted(TIMED_PRESSES.values()))
            )
        )
        stored = [(cid, kind, at) for cid, kind, at in rows]
    await database.dispose()
    errors = [at.timestamp() - when[(cid, kind)] for cid, kind, at in stored]
    if len(errors) != len(when):
        print(f"  warning: {len(when)} timed presses, {len(errors)} stored times")
    return errors, in_server


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


def report(
    name: str, elapsed: float, updates: int, latencies: list[float], *_: object
) -> tuple[float, float]:
    p50, p99 = quantile(latencies, 0.50) * 1000, quantile(latencies, 0.99) * 1000
    print(
        f"{name:<22} {updates:>6} updates in {elapsed:6.2f} s: {updates / elapsed:7.0f} updates/s,"
        f" p50 {p50:6.1f} ms, p99 {p99:6.1f} ms"
    )
    return p50, p99


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run_backend(
    backend: str,
    n: int,
    pg_url: str,
    thinks: list[float],
    concurrency: int,
    webhook: bool = False,
    profile: Path | None = None,
    baseline: bool = True,
) -> bool:
    schema = None
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        else:
            url = pg_url
            schema = f"bench_{secrets.token_hex(4)}"
            admin = Database(pg_url)
            async with admin.engine.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            await admin.dispose()
        database = Database(url, schema=schema)
        try:
            contacts = await seed(database, n)
            await database.dispose()  # the bot process opens its own connections
            spawn = multiprocessing.get_context("spawn")
            done_total = 0
            for think in thinks:
                mode = f"think {think:g} s" if think else "no think time"
                await reset(database)
                if webhook:
                    mode += ", webhook"
                with LocalBotApi() as api:
                    conf = BotConfig(token=api.token, base_url=api.base_url,
                                     base_file_url=api.base_file_url, reminders=False,
                                     concurrent_updates=concurrency)  # fmt: skip
                    if webhook:
                        port = free_port()
                        conf = dataclasses.replace(
                            conf, webhook_url=f"http://127.0.0.1:{port}/hook", port=port,
                            webhook_secret=secrets.token_urlsafe(24),
                        )  # fmt: skip
                    folder = profile if profile is not None else Path(tmp)
                    prefix = str(folder / f"{backend}-think{think:g}")
                    process = spawn.Process(
                        target=bot_process, args=(conf, url, schema, prefix, profile is not None)
                    )
                    scripts = [script(c) for c in contacts]
                    result = await measure(api, process, scripts, think, webhook=webhook)
                    _, p99 = report(f"{backend}, {mode}: bot", *result)
                found = json.loads(await asyncio.to_thread(Path(f"{prefix}.json").read_text))
                per = max(result[1], 1)
                profiled = f"cProfile on; {prefix}.prof" if profile is not None else "no cProfile"
                print(
                    f"  per update: {found['statements'] / per:.1f} SQL statements, "
                    f"{found['commits'] / per:.2f} commits, {found['checkouts'] / per:.2f} "
                    f"pool checkouts, bot CPU {found['cpu_s'] / per * 1000:.1f} ms ({profiled})"
                )
                print_timings(found)
                errors, in_server = await stamping_errors(database, result[3], result[4])
                s_p50, s_p99 = quantile(errors, 0.50) * 1000, quantile(errors, 0.99) * 1000
                s_verdict = "met" if s_p99 < 50 else "MISSED"
                print(
                    f"  stamping error of {len(errors)} timed presses: p50 {s_p50:.1f} ms, "
                    f"p99 {s_p99:.1f} ms, max {max(errors) * 1000:.1f} ms, "
                    f"min {min(errors) * 1000:.1f} ms (handling p99 {p99:.0f} ms); "
                    f"target p99 < 50 ms: {s_verdict}"
                )
                i_p50, i_p99 = quantile(in_server, 0.50) * 1000, quantile(in_server, 0.99) * 1000
                handed = "the POST to the webhook" if webhook else "getUpdates answer"
                print(
                    f"    of which in the local Bot API (available to {handed}): "
                    f"p50 {i_p50:.1f} ms, p99 {i_p99:.1f} ms, max {max(in_server) * 1000:.1f} ms"
                )
                bot_rate = result[1] / result[0]
                comparison = ""
                if baseline:
                    with LocalBotApi() as api:
                        conf = BotConfig(token=api.token, base_url=api.base_url,
                                         base_file_url=api.base_file_url)  # fmt: skip
                        b_prefix = str(Path(tmp) / f"baseline-think{think:g}")
                        process = spawn.Process(target=baseline_process, args=(conf, b_prefix))
                        scripts = [baseline_script(len(script(0))) for _ in contacts]
                        result = await measure(api, process, scripts, think)
                        _, b_p99 = report(f"{backend}, {mode}: baseline", *result)
                    b_found = json.loads(
                        await asyncio.to_thread(Path(f"{b_prefix}.json").read_text)
                    )
                    b_cpu = b_found["cpu_s"] / max(result[1], 1) * 1000
                    cpu = found["cpu_s"] / per * 1000
                    print(
                        f"  baseline CPU {b_cpu:.1f} ms per update; CPU bot / baseline "
                        f"{cpu / b_cpu:.2f}"
                    )
                    comparison = (
                        f"p99 bot / baseline {p99 / b_p99:.1f}, throughput bot / baseline "
                        f"{bot_rate / (result[1] / result[0]):.2f} (target >= 0.8 without "
                        "pauses); "
                    )
                verdict = "met" if p99 < 100 else "MISSED"
                async with database.session() as s:
                    done = await s.scalar(
                        text("SELECT count(*) FROM contact WHERE status = 'done'")
                    )
                done_total += int(done or 0)
                print(f"  {done}/{n} tasks done; {comparison}target p99 < 100 ms: {verdict}")
            return done_total == n * len(thinks)
        finally:
            await database.dispose()
            if schema is not None:
                admin = Database(pg_url)
                async with admin.engine.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                await admin.dispose()


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--auditors", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument(
        "--think", default="0,2", help="mean pauses between an auditor's steps, in s (0: none)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=64, help="updates the bot handles at once"
    )
    parser.add_argument(
        "--webhook", action="store_true", help="the bot serves a webhook instead of polling"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="folder: keep a cProfile of the bot process there (slows the bot; statements, "
        "commits, pool checkouts and CPU per update are printed with or without it)",
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the echo bot (profiling runs)"
    )
    args = parser.parse_args(argv)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    thinks = [float(x) for x in args.think.split(",")]
    # The local server's threads and the simulated users share this process: a short switch
    # interval keeps them from queueing behind one another for the GIL (the bot has its own).
    sys.setswitchinterval(0.0005)
    ok = True
    for backend in args.backends.split(","):
        done = await run_backend(
            backend.strip(), args.auditors, args.pg_url, thinks, args.concurrency,
            webhook=args.webhook, profile=args.profile, baseline=not args.no_baseline,
        )  # fmt: skip
        ok = done and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
