"""The demo's world: every server and process of a simulated campaign, started and stopped.

    World.start():
        Dovecot (IMAP + LMTP) under OUT/dovecot           the personas' mailboxes
        SmtpProvider (aiosmtpd)                             the personas' provider, the sink
          + SimulatedCollectivities attached                the services answering
        LocalBotApi + the real bot Application              Telegram, on loopback
        SimulatedAuditors (enrolled with invite codes)      the auditors
        N × `temoin worker --clock-file OUT/clock`          with --workers N (else in-process)
    World.stop(): everything above, in reverse order, whatever happened (also after Ctrl-C)

Secrets are references: the mail password (Dovecot's shared one) and the bot token live in
environment variables this process sets for itself and its workers
(``TEMOIN_DEMO_MAIL_PASSWORD``, ``TEMOIN_DEMO_BOT_TOKEN``); the database only holds
``env:TEMOIN_DEMO_MAIL_PASSWORD``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from bot.app import App, BotConfig, build_application
from bot.invites import new_code
from runners.secrets import resolve_secret
from scenarios.campaign_file import CampaignSpec
from scenarios.catalog import Catalog
from scenarios.clock import SteppedClock
from scenarios.directory import ImportResult
from sim.auditors.simulator import SimulatedAuditors
from sim.auditors.tasks import Identity, LetterModel
from sim.botapi import LocalBotApi
from sim.dovecot import DovecotServer, DovecotUnavailable, find_dovecot
from sim.profiles import ServiceEntry, simulated_services
from sim.smtp_provider import ReceivedMessage, SmtpProvider
from sim.town_halls.simulator import ContactInfo, SimulatedCollectivities
from sim.truth.journal import Truth
from storage import auditors as auditor_repo
from storage import personas as persona_repo
from storage.db import Database

log = logging.getLogger("temoin.demo")

MAIL_PASSWORD_ENV = "TEMOIN_DEMO_MAIL_PASSWORD"
BOT_TOKEN_ENV = "TEMOIN_DEMO_BOT_TOKEN"
DEBIAN_PACKAGES = "dovecot-imapd dovecot-lmtpd"
_FIRST_USER_ID = 710_000_001
_INVITE_VALIDITY = timedelta(days=7)


class DemoError(Exception):
    """A demo step failed; the message says which and why."""


@dataclass(frozen=True)
class DemoPaths:
    out: Path

    @property
    def dovecot(self) -> Path:
        return self.out / "dovecot"

    @property
    def letters(self) -> Path:
        return self.out / "letters"

    @property
    def reports(self) -> Path:
        return self.out / "reports"

    @property
    def exports(self) -> Path:
        return self.out / "exports"

    @property
    def truth(self) -> Path:
        return self.out / "truth.jsonl"

    @property
    def clock(self) -> Path:
        return self.out / "clock"

    @property
    def check(self) -> Path:
        return self.out / "check.json"

    @property
    def logs(self) -> Path:
        return self.out / "logs"

    def reset(self) -> None:
        """Remove what an earlier demo left (its database is handled by the caller)."""
        self.out.mkdir(parents=True, exist_ok=True)
        for directory in (self.dovecot, self.letters, self.reports, self.exports, self.logs):
            shutil.rmtree(directory, ignore_errors=True)
        for stale in (self.truth, self.clock, self.check):
            stale.unlink(missing_ok=True)
        self.logs.mkdir()


def require_dovecot() -> None:
    if find_dovecot() is None:
        raise DemoError(
            "Dovecot is not installed: the demo runs a private one for the personas' mailboxes. "
            f"Install the Debian packages {DEBIAN_PACKAGES} (`sudo apt-get install -y "
            f"{DEBIAN_PACKAGES}`; `make demo` does it when run as root), then run it again."
        )


@dataclass
class World:
    """Start with ``await World(...).start()``; always ``await world.stop()``."""

    paths: DemoPaths
    timezone: str  # the display zone of the simulated people (Europe/Paris)
    database_url: str  # the one the worker processes open too
    database_schema: str | None
    database: Database
    clock: SteppedClock
    catalog: Catalog
    spec: CampaignSpec
    directory: ImportResult
    campaign_id: int
    workers: int = 0
    dovecot: DovecotServer | None = None
    provider: SmtpProvider | None = None
    simulator: SimulatedCollectivities | None = None
    api: LocalBotApi | None = None
    app: App | None = None
    auditors: SimulatedAuditors | None = None
    truth: Truth = field(init=False)
    requests: dict[str, ContactInfo] = field(default_factory=dict)
    persona_users: dict[str, str] = field(default_factory=dict)  # persona email -> mail user
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    _logs: list[IO[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.truth = Truth(self.paths.truth)

    # -- start -----------------------------------------------------------------------------

    async def start(self, *, close_at: datetime | None = None) -> World:
        try:
            await self._start(close_at)
        except BaseException:
            await self.stop()
            raise
        return self

    async def _start(self, close_at: datetime | None) -> None:
        require_dovecot()
        root = self.paths.dovecot
        if not _traversable_by_others(root.parent):
            # As root, Dovecot handles mail as ``nobody``, who must be able to walk down to the
            # mail directory (a 0700 parent, like pytest's, forbids it): use a temp dir then.
            root = Path(tempfile.mkdtemp(prefix="temoin-demo-dovecot-"))
            self._stack.callback(shutil.rmtree, root, True)
            log.info("Dovecot runs under %s (%s is not open to its mail user)", root,
                     self.paths.dovecot)  # fmt: skip
        try:
            dovecot = DovecotServer.start(root)
        except DovecotUnavailable as exc:
            raise DemoError(f"Dovecot does not start: {exc}") from exc
        self.dovecot = dovecot
        self._stack.callback(dovecot.stop)
        os.environ[MAIL_PASSWORD_ENV] = dovecot.password
        provider = SmtpProvider.start()
        self.provider = provider
        self._stack.callback(provider.stop)
        await self._personas(dovecot, provider)
        for email, user in self.persona_users.items():
            provider.add_account(user, dovecot.password)
            provider.add_local_mailbox(email, user, dovecot.lmtp_port)
        provider.on_message = self._accepted  # the sink, before the services listen
        entries = [
            ServiceEntry(s.email, c.departement, c.name, s.name, s.kind)
            for s in self.directory.services
            if s.email
            for c in self.directory.collectivities
            if c.insee_code == s.insee_code
        ]
        simulator = SimulatedCollectivities(
            provider,
            dovecot,
            self.clock,
            simulated_services(entries, self.spec.seed),
            self.persona_users,
            self.catalog,
            self.spec.seed,
            resolve=self.requests.get,
            truth=self.truth,
        )
        self.simulator = simulator
        self._stack.callback(simulator.detach)

        token = f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(26)}"
        os.environ[BOT_TOKEN_ENV] = token
        clock = self.clock
        api = LocalBotApi(
            token, clock=lambda: clock.now().timestamp(), bot_username="temoin_demo_bot"
        )
        api.start()
        self.api = api
        self._stack.callback(api.stop)
        await self._start_bot(api)
        self.auditors = SimulatedAuditors(
            api,
            self.clock,
            self.catalog,
            self.truth,
            self.spec.seed,
            settle=self.settle,
            tz=ZoneInfo(self.timezone),
            letters=LetterModel(),
            close_at=close_at,
        )
        await self._enrol(self.auditors)
        if self.workers:
            self._start_workers(self.workers)

    async def _personas(self, dovecot: DovecotServer, provider: SmtpProvider) -> None:
        """Mailboxes on the local servers; the password as a reference, never a value."""
        async with self.database.session() as session:
            for persona in self.spec.personas:
                user = persona.email.split("@", 1)[0].lower()
                dovecot.add_user(user)
                self.persona_users[persona.email.lower()] = user
                await persona_repo.upsert_persona(
                    session,
                    persona.key,
                    {
                        "smtp_host": provider.host,
                        "smtp_port": provider.port,
                        "smtp_security": "none",
                        "imap_host": dovecot.host,
                        "imap_port": dovecot.imap_port,
                        "imap_security": "none",
                        "username": user,
                        "password_ref": f"env:{MAIL_PASSWORD_ENV}",
                        "subaddress_separator": "+",
                    },
                    self.clock.now(),
                )

    async def _start_bot(self, api: LocalBotApi) -> None:
        token_ref = f"env:{BOT_TOKEN_ENV}"
        config = BotConfig(
            token=resolve_secret(token_ref),
            timezone=self.timezone,
            base_url=api.base_url,
            base_file_url=api.base_file_url,
            reminders=False,  # reminders would interleave with the scripted conversations
        )
        app = build_application(config, self.database, clock=self.clock, catalog=self.catalog)
        await app.initialize()
        self._stack.push_async_callback(app.shutdown)
        await app.start()
        self._stack.push_async_callback(_stop_app, app)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=5)
        self.app = app

    async def _enrol(self, auditors: SimulatedAuditors) -> None:
        """An invite code per auditor of the campaign file, redeemed with ``/start CODE``."""
        now = self.clock.now()
        identities: list[Identity] = []
        async with self.database.session() as session:
            for index, spec in enumerate(self.spec.auditors):
                code = new_code()
                await auditor_repo.create_invite(
                    session, key=spec.key, name=spec.name, role="auditor",
                    code_hash=auditor_repo.hash_code(code), now=now,
                    expires_at=now + _INVITE_VALIDITY,
                )  # fmt: skip
                identities.append(Identity(spec.key, spec.name, _FIRST_USER_ID + index, code))
        for identity in identities:
            await auditors.enrol(identity)

    def _start_workers(self, count: int) -> None:
        env = dict(os.environ)
        env["TEMOIN_DATABASE_URL"] = self.database_url
        if self.database_schema:
            env["TEMOIN_DATABASE_SCHEMA"] = self.database_schema
        env["TEMOIN_TRACKING__ENABLED"] = "false"  # the demo syncs the mailboxes itself
        for index in range(count):
            stderr = (self.paths.logs / f"worker-{index + 1}.log").open("wb")
            self._logs.append(stderr)
            command = [sys.executable, "-m", "temoin", "worker", "--clock-file",
                       str(self.paths.clock), "--interval", "0.05",
                       "--log-level", "warning"]  # fmt: skip
            process = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=stderr,
                start_new_session=True,
            )  # fmt: skip
            self.processes.append(process)

    # -- running ---------------------------------------------------------------------------

    def _accepted(self, item: ReceivedMessage) -> None:
        """The provider accepted a message (its thread): the sink, in simulated time."""
        self.truth.record_acceptance(item.message_id, item.recipients, self.clock.now())

    async def settle(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has fetched and fully handled every update sent so far."""
        app, api = self.app, self.api
        assert app is not None and api is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (
            api.pending_update_count == 0
            and app.update_queue.empty()
            and app.update_processor.current_concurrent_updates == 0
        ):
            if loop.time() > deadline:
                raise DemoError(f"the bot did not answer within {timeout:.0f} s")
            await asyncio.sleep(0.002)

    def check_workers(self) -> None:
        for index, process in enumerate(self.processes, 1):
            code = process.poll()
            if code is not None:
                tail = (self.paths.logs / f"worker-{index}.log").read_text(errors="replace")
                raise DemoError(f"worker {index} exited with code {code}: {tail[-1500:]}")

    # -- stop ------------------------------------------------------------------------------

    async def stop(self) -> None:
        """Stop every process and server started, in reverse order; never raises."""
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                await asyncio.to_thread(process.wait, 15)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait, 5)
        self.processes.clear()
        for stream in self._logs:
            stream.close()
        self._logs.clear()
        try:
            await self._stack.aclose()
        except Exception:  # stopping must go on: what failed is logged
            log.exception("stopping the demo's servers")
        for name in (MAIL_PASSWORD_ENV, BOT_TOKEN_ENV):
            os.environ.pop(name, None)
        # Dovecot's configuration holds the run's mail password: gone with the server.
        if self.dovecot is not None:
            (self.dovecot.root / "dovecot.conf").unlink(missing_ok=True)


def _traversable_by_others(directory: Path) -> bool:
    """Whether Dovecot's mail user can reach ``directory`` (always, when we are not root)."""
    if os.geteuid() != 0:
        return True
    for part in (directory.resolve(), *directory.resolve().parents):
        try:
            if not part.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


async def _stop_app(app: App) -> None:
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
