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

from temoin.cli.common import AppContext, UserError, console, fail, json_text, run_with_db

if TYPE_CHECKING:
    from storage import personas as repo
    from storage.db import Database

app = typer.Typer(
    rich_markup_mode=None, no_args_is_help=True, help="Personas: identities and mailbox accounts."
)

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


class ImapSecurity(StrEnum):
    TLS = "tls"
    NONE = "none"


# -- add ---------------------------------------------------------------------------------


@app.command("add")
def add(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Persona key (lower case, digits, - and _)."),
    name: str | None = typer.Option(None, "--name", help="Display name, e.g. 'Claire Martin'."),
    email: str | None = typer.Option(None, "--email", help="The persona's email address."),
    address: str | None = typer.Option(None, "--address", help="Street address (letters)."),
    postal_code: str | None = typer.Option(None, "--postal-code", help="Postal code."),
    city: str | None = typer.Option(None, "--city", help="City."),
    smtp_host: str | None = typer.Option(None, "--smtp-host", help="SMTP submission host."),
    smtp_port: int | None = typer.Option(
        None, "--smtp-port", min=1, max=65535, help="Default: 587 starttls, 465 tls, 25 none."
    ),
    smtp_security: SmtpSecurity | None = typer.Option(
        None, "--smtp-security", help="starttls (default), tls or none."
    ),
    imap_host: str | None = typer.Option(None, "--imap-host", help="IMAP host."),
    imap_port: int | None = typer.Option(
        None, "--imap-port", min=1, max=65535, help="Default: 993 tls, 143 none."
    ),
    imap_security: ImapSecurity | None = typer.Option(
        None, "--imap-security", help="tls (default) or none."
    ),
    username: str | None = typer.Option(None, "--username", help="Login (default: the email)."),
    password_ref: str | None = typer.Option(
        None, "--password-ref", help="Where the password is: env:VARIABLE or file:/path."
    ),
    subaddress_separator: str | None = typer.Option(
        None, "--subaddress-separator", help="e.g. '+' when the provider has sub-addresses."
    ),
) -> None:
    """Create persona KEY, or change the options given (the others stay as they are)."""
    from email_validator import EmailNotValidError, validate_email

    from runners.secrets import SecretError, resolve_secret
    from storage import personas as repo

    if not _KEY.match(key):
        fail(f"persona key {key!r}: use lower-case letters, digits, '-' and '_' (max 60)", 2)
    if password_ref is not None and not repo.is_secret_reference(password_ref):
        # Never echo the value: it is probably the password itself.
        fail(
            "--password-ref must say where the password is, as env:VARIABLE or file:/path; "
            "the password itself is never given to temoin nor stored in its database",
            2,
        )
    if email is not None:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            fail(f"--email {email!r}: {exc}", 2)
    if subaddress_separator is not None and (
        len(subaddress_separator) != 1 or subaddress_separator not in "+-_=."
    ):
        fail("--subaddress-separator: one of + - _ = .", 2)
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
            _refuse_cleartext(changes, current)
            try:
                return await repo.upsert_persona(session, key, changes, app.clock.now())
            except repo.PersonaError as exc:
                raise UserError(str(exc)) from exc

    persona, created = run_with_db(ctx, work)
    typer.echo(f"persona {persona.key} {'created' if created else 'updated'}: {_summary(persona)}")
    if persona.password_ref:
        try:
            resolve_secret(persona.password_ref)
        except SecretError as exc:
            typer.echo(f"note: {exc} in this shell; the worker must have it", err=True)


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


def _refuse_cleartext(changes: dict[str, Any], current: repo.PersonaInfo | None) -> None:
    """Security ``none`` with a password is for a loopback server only (channels.cleartext)."""

    def value(name: str) -> Any:
        given = changes.get(name)
        return given if given is not None else getattr(current, name, None)

    from channels.cleartext import cleartext_allowed, cleartext_refusal
    from runners import accounts

    if value("password_ref") is None:
        return
    for proto, ports in (("smtp", accounts.SMTP_PORTS), ("imap", accounts.IMAP_PORTS)):
        host = value(f"{proto}_host")
        if value(f"{proto}_security") == "none" and host and not cleartext_allowed(host):
            port = value(f"{proto}_port") or ports["none"]
            raise UserError(cleartext_refusal(proto, host, port))


def _summary(p: repo.PersonaInfo) -> str:
    smtp = f"{p.smtp_host}:{p.smtp_port} {p.smtp_security}" if p.smtp_host else "no SMTP"
    imap = f"{p.imap_host}:{p.imap_port} {p.imap_security}" if p.imap_host else "no IMAP"
    return f"{p.display_name} <{p.email}>, SMTP {smtp}, IMAP {imap}"


# -- list --------------------------------------------------------------------------------


@app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the personas with their mailbox settings (password references, never values)."""
    from storage import personas as repo

    async def work(database: Database, _app: AppContext) -> list[repo.PersonaInfo]:
        async with database.session() as session:
            return await repo.list_personas(session)

    personas = run_with_db(ctx, work)
    if as_json:
        typer.echo(json_text([p.as_dict() for p in personas]))
        return
    if not personas:
        typer.echo("no personas yet: temoin personas add KEY --name ... --email ...")
        return
    table = Table()
    table.add_column("key", no_wrap=True)
    table.add_column("identity")
    table.add_column("SMTP / IMAP")
    table.add_column("login / password")
    for p in personas:
        postal = " ".join(x for x in (p.postal_code, p.city) if x)
        identity = "\n".join(x for x in (p.display_name, p.email, p.address, postal) if x)
        servers = "\n".join(
            (
                f"{p.smtp_host}:{p.smtp_port} {p.smtp_security}" if p.smtp_host else "no SMTP",
                f"{p.imap_host}:{p.imap_port} {p.imap_security}" if p.imap_host else "no IMAP",
            )
        )
        login = "\n".join(
            (
                p.username or "-",
                p.password_ref or "no password reference",
                f"sub-address {p.subaddress_separator}" if p.subaddress_separator else "",
            )
        ).strip()
        table.add_row(p.key + ("" if p.active else "\n(inactive)"), identity, servers, login)
    console.print(table)


# -- check -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    state: str  # ok | FAIL | warn | skip
    what: str
    detail: str

    def line(self) -> str:
        return f"{self.state:<5} {self.what:<13} {self.detail}"


def describe_failure(exc: BaseException, timeout: float) -> str:
    """Why a connection failed, from the first telling cause in the exception chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return f"DNS: the name does not resolve ({seen.strerror or seen})"
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused (nothing listens on that port, or a firewall)"
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"TLS: certificate not trusted ({seen.verify_message or seen.reason})"
        if isinstance(seen, ssl.SSLError):
            return f"TLS failed ({seen.reason or seen}): is the security setting right?"
        if isinstance(seen, TimeoutError):
            return f"no answer within {timeout:g} s"
        seen = seen.__cause__ or seen.__context__
    return str(exc)


async def _resolves(host: str, port: int) -> str | None:
    try:
        await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return describe_failure(exc, 0)
    return None


async def _check_smtp(p: repo.PersonaInfo, password: str | None, wait: float) -> list[Check]:
    from channels.smtp_sender import SendError, SmtpSession
    from runners import accounts

    endpoint = accounts.smtp_endpoint(p)
    bare = accounts.smtp_account(p, None, authenticate=False)
    if endpoint is None or bare is None:
        return [Check("FAIL", "smtp", "no SMTP host (temoin personas add KEY --smtp-host ...)")]
    security = endpoint.security
    where = str(endpoint)
    reason = await _resolves(endpoint.host, endpoint.port)
    if reason is not None:
        return [Check("FAIL", "smtp", f"{where}: {reason}"), Check("skip", "smtp auth", "")]
    try:
        async with SmtpSession(bare, timeout=wait):
            pass
    except SendError as exc:
        return [
            Check("FAIL", "smtp", f"{where} ({security}): {describe_failure(exc, wait)}"),
            Check("skip", "smtp auth", "no session"),
        ]
    tls = {"starttls": "STARTTLS", "tls": "implicit TLS", "none": "no TLS"}.get(security, security)
    checks = [Check("ok", "smtp", f"{where} answers EHLO, {tls}")]
    account = accounts.smtp_account(p, password)
    if password is None or account is None:
        return [*checks, Check("skip", "smtp auth", "no password to try")]
    login = endpoint.login
    try:
        async with SmtpSession(account, timeout=wait):
            pass
    except SendError as exc:
        return [*checks, Check("FAIL", "smtp auth", f"{login}: {describe_failure(exc, wait)}")]
    return [*checks, Check("ok", "smtp auth", f"login accepted for {login}")]


async def _check_imap(p: repo.PersonaInfo, password: str | None, wait: float) -> list[Check]:
    from channels.imap_session import ImapAuthError, ImapError, ImapSession
    from runners import accounts

    endpoint = accounts.imap_endpoint(p)
    if endpoint is None:
        return [Check("FAIL", "imap", "no IMAP host (temoin personas add KEY --imap-host ...)")]
    security = endpoint.security
    where = str(endpoint)
    reason = await _resolves(endpoint.host, endpoint.port)
    if reason is not None:
        return [Check("FAIL", "imap", f"{where}: {reason}"), Check("skip", "imap folders", "")]
    account = accounts.imap_account(p, password)
    if account is None:
        return [Check("skip", "imap", "no password to log in with")]
    login = endpoint.login
    checks: list[Check] = []
    try:
        async with ImapSession(account, timeout=wait) as imap:
            checks.append(Check("ok", "imap", f"{where} ({security}): login accepted for {login}"))
            names = {name for name, _flags in await imap.folders()}
            roles = await imap.special_folders()
    except ImapAuthError as exc:
        return [Check("FAIL", "imap", f"{where}: {exc}"), Check("skip", "imap folders", "")]
    except ImapError as exc:
        if checks:
            return [*checks, Check("FAIL", "imap folders", describe_failure(exc, wait))]
        return [
            Check("FAIL", "imap", f"{where} ({security}): {describe_failure(exc, wait)}"),
            Check("skip", "imap folders", "no session"),
        ]
    if not any(name.upper() == "INBOX" for name in names):
        checks.append(Check("FAIL", "imap inbox", "no INBOX folder"))
    else:
        checks.append(Check("ok", "imap inbox", "INBOX"))
    if "sent" in roles:
        checks.append(Check("ok", "imap sent", f"{roles['sent']!r}"))
    else:
        checks.append(Check("FAIL", "imap sent", "no Sent folder (no \\Sent flag, no usual "
                            "name): sent copies and send verification need one"))  # fmt: skip
    if "junk" in roles:
        checks.append(Check("ok", "imap junk", f"{roles['junk']!r}"))
    else:
        checks.append(Check("warn", "imap junk", "no Junk folder found: replies filed as spam "
                            "elsewhere would be missed"))  # fmt: skip
    return checks


async def check_persona(p: repo.PersonaInfo, wait: float) -> list[Check]:
    from runners import accounts
    from runners.secrets import SecretError

    checks: list[Check] = []
    password: str | None = None
    if not p.password_ref:
        checks.append(Check("FAIL", "password", "no password reference (--password-ref)"))
    else:
        try:
            password = accounts.password(p)
        except SecretError as exc:
            checks.append(Check("FAIL", "password", f"{p.password_ref}: {exc}"))
        else:
            checks.append(Check("ok", "password", f"{p.password_ref} is readable"))
    smtp, imap = await asyncio.gather(
        _check_smtp(p, password, wait), _check_imap(p, password, wait)
    )
    return [*checks, *smtp, *imap]


@app.command("check")
def check(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Persona key."),
    timeout: float = typer.Option(15.0, "--timeout", min=0.1, help="Seconds per connection."),
) -> None:
    """Log in to the persona's SMTP and IMAP accounts; one line per check; exit 1 on failure."""
    from storage import personas as repo

    async def work(database: Database, _app: AppContext) -> list[Check]:
        async with database.session() as session:
            persona = await repo.get_persona(session, key)
        if persona is None:
            raise UserError(f"no persona {key!r} (temoin personas list)")
        return await check_persona(persona, timeout)

    checks = run_with_db(ctx, work)
    for item in checks:
        typer.echo(item.line())
    failed = sum(1 for c in checks if c.state == "FAIL")
    if failed:
        fail(f"persona {key}: {failed} check{'s' if failed > 1 else ''} failed")
    typer.echo(f"persona {key}: ready to send and watch")
