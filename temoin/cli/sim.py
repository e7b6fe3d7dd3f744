"""`temoin sim …`: the simulated mailbox and mail provider, alone, for a rehearsal.

``mailbox`` runs a private Dovecot (IMAP + LMTP, sim/dovecot.py) in the foreground until
Ctrl-C, its mail kept under ``--dir``; any login works with the one password it writes to
``DIR/password`` (0600, a new one at each start), so a persona's ``--password-ref`` is
``file:DIR/password``. It writes ``DIR/mailbox.json`` (host and ports) for ``provider``.

``provider`` runs the simulated provider (aiosmtpd, sim/smtp_provider.py) in the foreground
until Ctrl-C: SMTP submission without TLS, AUTH with the mailbox's password, and for each
``--deliver ADDRESS=LOGIN`` a copy of every message to ADDRESS delivered into that mailbox
over LMTP before it answers 250 (the personas' blind copies). Everything else is accepted and
kept, never delivered: no town hall receives anything. Each message accepted is printed.

Both print where they listen and the persona settings to use; the README's "Rehearse a
campaign" has the whole sequence, with ``temoin worker --as-of``.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from temoin.cli.common import app_context, fail
from temoin.cli.words import Words, words

app = typer.Typer(
    rich_markup_mode=None,
    no_args_is_help=True,
    help="cli.help.sim.about",
)


def _wait_until_stopped(alive: Callable[[], bool], w: Words) -> None:
    """Block until Ctrl-C or SIGTERM (or until ``alive()`` says the server died)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        if not alive():
            fail(w("cli.sim.stopped"))


def _write_private(path: Path, text: str) -> None:
    """Atomically, 0600, never through a symlink."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


@app.command("mailbox", help="cli.help.sim.mailbox.about")
def mailbox(
    ctx: typer.Context,
    directory: Path = typer.Option(Path("var/sim"), "--dir", help="cli.help.sim.mailbox.directory"),
    imap_port: int = typer.Option(
        1143, "--imap-port", min=1, max=65535, help="cli.help.sim.mailbox.imap_port"
    ),
    lmtp_port: int = typer.Option(
        2424, "--lmtp-port", min=1, max=65535, help="cli.help.sim.mailbox.lmtp_port"
    ),
) -> None:
    """Run a simulated mailbox server (Dovecot: IMAP and LMTP) until Ctrl-C."""
    from sim.dovecot import DovecotServer, DovecotUnavailable

    w = words(app_context(ctx))

    root = directory.resolve()
    root.mkdir(parents=True, exist_ok=True)
    closed = _closed_parent(root)
    if closed is not None:
        # Dovecot never touches mail as root: it runs as another user, who must get through.
        fail(w("cli.sim.closed", root=root, closed=closed))
    try:
        server = DovecotServer.start(root / "dovecot", imap_port=imap_port, lmtp_port=lmtp_port)
    except DovecotUnavailable as exc:
        fail(str(exc))
    try:
        password_file = root / "password"
        _write_private(password_file, server.password + "\n")
        state = {"host": server.host, "imap_port": server.imap_port, "lmtp_port": server.lmtp_port}
        _write_private(root / "mailbox.json", json.dumps(state) + "\n")
        typer.echo(
            w("cli.sim.mailbox", host=server.host, imap=server.imap_port,
              lmtp=server.lmtp_port, path=root / "dovecot")
        )  # fmt: skip
        typer.echo(w("cli.sim.any_login", path=password_file))
        typer.echo(w("cli.sim.persona_settings"))
        typer.echo(
            f"  --imap-host {server.host} --imap-port {server.imap_port} "
            f"--imap-security none --username KEY --password-ref file:{password_file}"
        )
        typer.echo(w("cli.sim.ctrl_c"), err=True)
        _wait_until_stopped(lambda: server.process.poll() is None, w)
    finally:
        server.stop()


def _closed_parent(path: Path) -> Path | None:
    """When running as root, the first directory on the way that others cannot enter."""
    if os.geteuid() != 0:
        return None
    for folder in (path, *path.parents):
        if not folder.stat().st_mode & stat.S_IXOTH:
            return folder
    return None


def _parse_deliver(values: list[str], w: Words) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in values:
        address, sep, login = value.partition("=")
        if not sep or "@" not in address or not login:
            fail(w("cli.sim.bad_deliver", value=value), 2)
        mapping[address.strip().lower()] = login.strip()
    return mapping


@app.command("provider", help="cli.help.sim.provider.about")
def provider(
    ctx: typer.Context,
    directory: Path = typer.Option(
        Path("var/sim"), "--dir", help="cli.help.sim.provider.directory"
    ),
    port: int = typer.Option(2525, "--port", min=1, max=65535, help="cli.help.sim.provider.port"),
    deliver: list[str] = typer.Option(
        [],
        "--deliver",
        metavar="ADDRESS=LOGIN",
        help="cli.help.sim.provider.deliver",
    ),
) -> None:
    """Run the simulated mail provider (SMTP submission) until Ctrl-C."""
    from sim.smtp_provider import ReceivedMessage, SmtpProvider

    w = words(app_context(ctx))

    root = directory.resolve()
    try:
        state: dict[str, Any] = json.loads((root / "mailbox.json").read_text())
        password = (root / "password").read_text().strip()
    except (OSError, ValueError) as exc:
        fail(w("cli.sim.no_mailbox", root=root, reason=exc))
    mailboxes = _parse_deliver(deliver, w)
    try:
        server = SmtpProvider.start(
            credentials=dict.fromkeys(mailboxes.values(), password), port=port
        )
    except (OSError, RuntimeError) as exc:
        fail(w("cli.sim.cannot_listen", port=port, reason=exc))
    for address, login in mailboxes.items():
        server.add_local_mailbox(address, login, int(state["lmtp_port"]))

    def accepted(message: ReceivedMessage) -> None:
        to = ", ".join(message.recipients)
        typer.echo(
            w("cli.sim.accepted", at=f"{message.received_at:%H:%M:%S}Z", id=message.message_id,
              sender=message.mail_from, to=to)
        )  # fmt: skip

    server.on_message = accepted
    try:
        typer.echo(w("cli.sim.provider", host=server.host, port=server.port))
        for address, login in mailboxes.items():
            copies = w("cli.sim.copies", address=address, login=login, lmtp=state["lmtp_port"])
            typer.echo(f"  {copies}")
        typer.echo(w("cli.sim.others_kept"))
        typer.echo(w("cli.sim.persona_settings"))
        typer.echo(f"  --smtp-host {server.host} --smtp-port {server.port} --smtp-security none")
        typer.echo(w("cli.sim.ctrl_c"), err=True)
        _wait_until_stopped(lambda: True, w)
    finally:
        server.stop()
