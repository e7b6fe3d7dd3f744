"""`temoin personas` commands: add (upsert) a persona's identity and mailbox, list, check.

``add KEY`` creates the persona or changes only the options given; the password is only ever
a reference (``env:VAR`` or ``file:PATH``), and a value that is not one is refused without
being echoed. ``check KEY`` logs in to the persona's SMTP and IMAP accounts the way the worker
will and prints one line per check (``ok``, ``FAIL``, ``warn`` or ``skip``) saying what works
and, when something does not, why: DNS, connection refused, timeout, TLS, authentication,
missing Sent folder. It exits 1 when any check failed.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from temoin.cli.common import (
    AppContext,
    UserError,
    app_context,
    console,
    fail,
    json_text,
    run_with_db,
)
from temoin.cli.words import Words, words

if TYPE_CHECKING:
    from storage import personas as repo
    from storage.db import Database

app = typer.Typer(rich_markup_mode=None, no_args_is_help=True, help="cli.help.personas.about")

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


class ImapSecurity(StrEnum):
    TLS = "tls"
    NONE = "none"


# -- add ---------------------------------------------------------------------------------


@app.command("add", help="cli.help.personas.add.about")
def add(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="cli.help.personas.add.key"),
    name: str | None = typer.Option(None, "--name", help="cli.help.personas.add.name"),
    email: str | None = typer.Option(None, "--email", help="cli.help.personas.add.email"),
    address: str | None = typer.Option(None, "--address", help="cli.help.personas.add.address"),
    postal_code: str | None = typer.Option(
        None, "--postal-code", help="cli.help.personas.add.postal_code"
    ),
    city: str | None = typer.Option(None, "--city", help="cli.help.personas.add.city"),
    smtp_host: str | None = typer.Option(
        None, "--smtp-host", help="cli.help.personas.add.smtp_host"
    ),
    smtp_port: int | None = typer.Option(
        None, "--smtp-port", min=1, max=65535, help="cli.help.personas.add.smtp_port"
    ),
    smtp_security: SmtpSecurity | None = typer.Option(
        None, "--smtp-security", help="cli.help.personas.add.smtp_security"
    ),
    imap_host: str | None = typer.Option(
        None, "--imap-host", help="cli.help.personas.add.imap_host"
    ),
    imap_port: int | None = typer.Option(
        None, "--imap-port", min=1, max=65535, help="cli.help.personas.add.imap_port"
    ),
    imap_security: ImapSecurity | None = typer.Option(
        None, "--imap-security", help="cli.help.personas.add.imap_security"
    ),
    username: str | None = typer.Option(None, "--username", help="cli.help.personas.add.username"),
    password_ref: str | None = typer.Option(
        None, "--password-ref", help="cli.help.personas.add.password_ref"
    ),
    subaddress_separator: str | None = typer.Option(
        None, "--subaddress-separator", help="cli.help.personas.add.subaddress_separator"
    ),
) -> None:
    """Create persona KEY, or change the options given (the others stay as they are)."""
    from email_validator import EmailNotValidError, validate_email

    from runners.secrets import SecretError, resolve_secret
    from storage import personas as repo

    w = words(app_context(ctx))
    if not _KEY.match(key):
        fail(w("cli.personas.bad_key", key=key), 2)
    if password_ref is not None and not repo.is_secret_reference(password_ref):
        # Never echo the value: it is probably the password itself.
        fail(w("cli.personas.bad_password_ref"), 2)
    if email is not None:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            fail(w("cli.personas.bad_email", email=email, reason=exc), 2)
    if subaddress_separator is not None and (
        len(subaddress_separator) != 1 or subaddress_separator not in "+-_=."
    ):
        fail(w("cli.personas.bad_separator"), 2)
    changes: dict[str, Any] = {
        "display_name": name.strip() if name else None,
        "email": email,
        "address": address,
        "postal_code": postal_code,
        "city": city,
        "smtp_host": smtp_host,
        "smtp_port": smtp_port,
        "smtp_security": smtp_security.value if smtp_security else None,
        "imap_host": imap_host,
        "imap_port": imap_port,
        "imap_security": imap_security.value if imap_security else None,
        "username": username,
        "password_ref": password_ref,
        "subaddress_separator": subaddress_separator,
    }

    async def work(database: Database, app: AppContext) -> tuple[repo.PersonaInfo, bool]:
        async with database.session() as session:
            current = await repo.get_persona(session, key)
            _fill_defaults(changes, current)
            _refuse_cleartext(changes, current, w)
            try:
                return await repo.upsert_persona(session, key, changes, app.clock.now())
            except repo.PersonaError as exc:
                raise UserError(_persona_error(exc, w)) from exc

    persona, created = run_with_db(ctx, work)
    said = "cli.personas.created" if created else "cli.personas.updated"
    typer.echo(w(said, key=persona.key, summary=_summary(persona, w)))
    if persona.password_ref:
        try:
            resolve_secret(persona.password_ref)
        except SecretError as exc:
            typer.echo(w("cli.personas.secret_here", reason=exc.said(w.t)), err=True)


def _fill_defaults(changes: dict[str, Any], current: repo.PersonaInfo | None) -> None:
    """Security and ports follow from each other when only one of them is given."""
    from runners import accounts

    for proto, ports, default in (
        ("smtp", accounts.SMTP_PORTS, accounts.SMTP_DEFAULT_SECURITY),
        ("imap", accounts.IMAP_PORTS, accounts.IMAP_DEFAULT_SECURITY),
    ):
        host, port, security = f"{proto}_host", f"{proto}_port", f"{proto}_security"
        had_security = current is not None and getattr(current, security) is not None
        if changes[host] is not None and changes[security] is None and not had_security:
            changes[security] = default
        had_port = current is not None and getattr(current, port) is not None
        security_changed = current is None or changes[security] != getattr(current, security)
        if (
            changes[port] is None
            and changes[security] is not None
            and (not had_port or security_changed)
        ):
            changes[port] = ports[changes[security]]
    if (
        changes["username"] is None
        and changes["email"] is not None
        and (current is None or current.username is None)
    ):
        changes["username"] = changes["email"]


def _refuse_cleartext(changes: dict[str, Any], current: repo.PersonaInfo | None, w: Words) -> None:
    """Security ``none`` with a password is for a loopback server only (channels.cleartext)."""

    def value(name: str) -> Any:
        given = changes.get(name)
        return given if given is not None else getattr(current, name, None)

    from channels.cleartext import cleartext_allowed
    from runners import accounts

    if value("password_ref") is None:
        return
    for proto, ports in (("smtp", accounts.SMTP_PORTS), ("imap", accounts.IMAP_PORTS)):
        host = value(f"{proto}_host")
        if value(f"{proto}_security") == "none" and host and not cleartext_allowed(host):
            port = value(f"{proto}_port") or ports["none"]
            use = w("cli.personas.cleartext_or") if proto == "smtp" else "tls"
            raise UserError(
                w("cli.personas.cleartext", protocol=proto, host=host, port=port, use=use)
            )


def _persona_error(exc: repo.PersonaError, w: Words) -> str:
    code = "bad_password_ref" if exc.code == "password_not_ref" else exc.code
    return w(f"cli.personas.{code}", **exc.params)


def _servers(p: repo.PersonaInfo, w: Words) -> tuple[str, str]:
    smtp = (
        f"{p.smtp_host}:{p.smtp_port} {p.smtp_security}"
        if p.smtp_host
        else w("cli.personas.no_smtp")
    )
    imap = (
        f"{p.imap_host}:{p.imap_port} {p.imap_security}"
        if p.imap_host
        else w("cli.personas.no_imap")
    )
    return smtp, imap


def _summary(p: repo.PersonaInfo, w: Words) -> str:
    smtp, imap = _servers(p, w)
    return f"{p.display_name} <{p.email}>, SMTP {smtp}, IMAP {imap}"


# -- list --------------------------------------------------------------------------------


@app.command("list", help="cli.help.personas.list_command.about")
def list_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="cli.help.personas.list_command.as_json"),
) -> None:
    """List the personas with their mailbox settings (password references, never values)."""
    from storage import personas as repo

    async def work(database: Database, _app: AppContext) -> list[repo.PersonaInfo]:
        async with database.session() as session:
            return await repo.list_personas(session)

    personas = run_with_db(ctx, work)
    w = words(app_context(ctx))
    if as_json:
        typer.echo(json_text([p.as_dict() for p in personas]))
        return
    if not personas:
        typer.echo(w("cli.personas.none_yet"))
        return
    table = Table()
    table.add_column(w("cli.personas.key"), no_wrap=True)
    table.add_column(w("cli.personas.identity"))
    table.add_column("SMTP / IMAP")
    table.add_column(w("cli.personas.login"))
    for p in personas:
        postal = " ".join(x for x in (p.postal_code, p.city) if x)
        identity = "\n".join(x for x in (p.display_name, p.email, p.address, postal) if x)
        servers = "\n".join(_servers(p, w))
        separator = p.subaddress_separator
        login = "\n".join(
            (
                p.username or "-",
                p.password_ref or w("cli.personas.no_password_ref"),
                w("cli.personas.subaddress", separator=separator) if separator else "",
            )
        ).strip()
        inactive = "" if p.active else "\n" + w("cli.personas.inactive")
        table.add_row(p.key + inactive, identity, servers, login)
    console.print(table)


# -- check -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    state: str  # ok | fail | warn | skip
    what: str  # password | smtp | smtp_auth | imap | imap_folders | imap_inbox | imap_sent | …
    detail: str

    def line(self, w: Words) -> str:
        state, what = w(f"cli.personas.state.{self.state}"), w(f"cli.personas.what.{self.what}")
        return f"{state:<6} {what:<17} {self.detail}"


def describe_failure(exc: BaseException, timeout: float, w: Words) -> str:
    """Why a connection failed, from the first telling cause in the exception chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return w("cli.personas.why.dns", reason=seen.strerror or seen)
        if isinstance(seen, ConnectionRefusedError):
            return w("cli.personas.why.refused")
        if isinstance(seen, ssl.SSLCertVerificationError):
            return w("cli.personas.why.certificate", reason=seen.verify_message or seen.reason)
        if isinstance(seen, ssl.SSLError):
            return w("cli.personas.why.tls", reason=seen.reason or seen)
        if isinstance(seen, TimeoutError):
            return w(
                "cli.personas.why.timeout",
                seconds=w.f.number(timeout, 0 if float(timeout).is_integer() else 1),
            )
        seen = seen.__cause__ or seen.__context__
    return str(exc)


async def _resolves(host: str, port: int, w: Words) -> str | None:
    try:
        await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return describe_failure(exc, 0, w)
    return None


async def _check_smtp(
    p: repo.PersonaInfo, password: str | None, wait: float, w: Words
) -> list[Check]:
    from channels.smtp_sender import SendError, SmtpSession
    from runners import accounts

    endpoint = accounts.smtp_endpoint(p)
    bare = accounts.smtp_account(p, None, authenticate=False)
    if endpoint is None or bare is None:
        return [Check("fail", "smtp", w("cli.personas.no_smtp_host"))]
    security = endpoint.security
    where = str(endpoint)
    reason = await _resolves(endpoint.host, endpoint.port, w)
    if reason is not None:
        return [Check("fail", "smtp", f"{where}: {reason}"), Check("skip", "smtp_auth", "")]
    try:
        async with SmtpSession(bare, timeout=wait):
            pass
    except SendError as exc:
        return [
            Check("fail", "smtp", f"{where} ({security}): {describe_failure(exc, wait, w)}"),
            Check("skip", "smtp_auth", w("cli.personas.no_session")),
        ]
    tls = w(f"cli.personas.tls.{security}") if security in ("starttls", "tls", "none") else security
    checks = [Check("ok", "smtp", w("cli.personas.ehlo", where=where, tls=tls))]
    account = accounts.smtp_account(p, password)
    if password is None or account is None:
        return [*checks, Check("skip", "smtp_auth", w("cli.personas.no_password"))]
    login = endpoint.login
    try:
        async with SmtpSession(account, timeout=wait):
            pass
    except SendError as exc:
        return [*checks, Check("fail", "smtp_auth", f"{login}: {describe_failure(exc, wait, w)}")]
    return [*checks, Check("ok", "smtp_auth", w("cli.personas.login_accepted", login=login))]


async def _check_imap(
    p: repo.PersonaInfo, password: str | None, wait: float, w: Words
) -> list[Check]:
    from channels.imap_session import ImapAuthError, ImapError, ImapSession
    from runners import accounts

    endpoint = accounts.imap_endpoint(p)
    if endpoint is None:
        return [Check("fail", "imap", w("cli.personas.no_imap_host"))]
    security = endpoint.security
    where = str(endpoint)
    reason = await _resolves(endpoint.host, endpoint.port, w)
    if reason is not None:
        return [Check("fail", "imap", f"{where}: {reason}"), Check("skip", "imap_folders", "")]
    account = accounts.imap_account(p, password)
    if account is None:
        return [Check("skip", "imap", w("cli.personas.no_password"))]
    login = endpoint.login
    checks: list[Check] = []
    try:
        async with ImapSession(account, timeout=wait) as imap:
            accepted = w("cli.personas.login_accepted", login=login)
            checks.append(Check("ok", "imap", f"{where} ({security}): {accepted}"))
            names = {name for name, _flags in await imap.folders()}
            roles = await imap.special_folders()
    except ImapAuthError as exc:
        return [Check("fail", "imap", f"{where}: {exc}"), Check("skip", "imap_folders", "")]
    except ImapError as exc:
        if checks:
            return [*checks, Check("fail", "imap_folders", describe_failure(exc, wait, w))]
        return [
            Check("fail", "imap", f"{where} ({security}): {describe_failure(exc, wait, w)}"),
            Check("skip", "imap_folders", w("cli.personas.no_session")),
        ]
    if not any(name.upper() == "INBOX" for name in names):
        checks.append(Check("fail", "imap_inbox", w("cli.personas.no_inbox")))
    else:
        checks.append(Check("ok", "imap_inbox", "INBOX"))
    if "sent" in roles:
        checks.append(Check("ok", "imap_sent", f"{roles['sent']!r}"))
    else:
        checks.append(Check("fail", "imap_sent", w("cli.personas.no_sent")))
    if "junk" in roles:
        checks.append(Check("ok", "imap_junk", f"{roles['junk']!r}"))
    else:
        checks.append(Check("warn", "imap_junk", w("cli.personas.no_junk")))
    return checks


async def check_persona(p: repo.PersonaInfo, wait: float, w: Words) -> list[Check]:
    from runners import accounts
    from runners.secrets import SecretError

    checks: list[Check] = []
    password: str | None = None
    if not p.password_ref:
        checks.append(Check("fail", "password", w("cli.personas.no_password_ref_given")))
    else:
        try:
            password = accounts.password(p)
        except SecretError as exc:
            said = w("secret.ref_failed", ref=p.password_ref, reason=exc.said(w.t))
            checks.append(Check("fail", "password", said))
        else:
            checks.append(Check("ok", "password", w("cli.personas.readable", ref=p.password_ref)))
    smtp, imap = await asyncio.gather(
        _check_smtp(p, password, wait, w), _check_imap(p, password, wait, w)
    )
    return [*checks, *smtp, *imap]


@app.command("check", help="cli.help.personas.check.about")
def check(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="cli.help.personas.check.key"),
    timeout: float = typer.Option(
        15.0, "--timeout", min=0.1, help="cli.help.personas.check.timeout"
    ),
) -> None:
    """Log in to the persona's SMTP and IMAP accounts; one line per check; exit 1 on failure."""
    from storage import personas as repo

    w = words(app_context(ctx))

    async def work(database: Database, _app: AppContext) -> list[Check]:
        async with database.session() as session:
            persona = await repo.get_persona(session, key)
        if persona is None:
            raise UserError(w("cli.personas.unknown", key=key))
        return await check_persona(persona, timeout, w)

    checks = run_with_db(ctx, work)
    for item in checks:
        typer.echo(item.line(w))
    failed = sum(1 for c in checks if c.state == "fail")
    if failed:
        fail(w("cli.personas.failed", key=key, checks=w.count("cli.personas.checks", failed)))
    typer.echo(w("cli.personas.ready", key=key))
