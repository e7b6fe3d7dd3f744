"""After ``temoin demo``: the web site on the demo's data, ready to open.

Writes a cookie key to ``OUT/web_secret_key`` (0600, replaced each run), creates two accounts
(a coordinator, and the collectivity whose barometer the demo reported on) with random
passwords set directly (no invitation: this is a rehearsal on this machine) and returns the
lines to print: the command that serves the site and the two logins with their passwords,
shown this once and stored only as argon2id hashes.
"""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Sequence
from pathlib import Path

from reports.outputs import open_output
from scenarios.clock import Clock
from storage import demo as repo
from storage import web_accounts
from storage.db import Database
from temoin.cli.words import Words
from web.auth import Passwords

COORDINATOR = "coordination@demo.example"
COLLECTIVITY = "mairie@demo.example"
PORT = 8000


async def demo_web_accounts(
    database: Database, campaign: str, out: Path, clock: Clock
) -> list[tuple[str, str, str]]:
    """(login, password, what it sees) for the coordinator and the busiest collectivity."""
    passwords = Passwords()
    now = clock.now()
    made = []
    async with database.session() as session:
        campaign_id = await repo.campaign_id(session, campaign)
        code = await repo.busiest_collectivity(session, campaign_id) if campaign_id else None
        wanted: list[tuple[str, str, str, str | None]] = [
            (COORDINATOR, "Coordination (démo)", "coordinator", None)
        ]
        if code is not None:
            wanted.append((COLLECTIVITY, f"Mairie {code} (démo)", "collectivity", code))
        for login, name, role, insee in wanted:
            existing = await web_accounts.account_by_login(session, login)
            if existing is None:
                existing = await web_accounts.add_account(
                    session, login=login, name=name, role=role, collectivity_code=insee,
                    now=now,
                )  # fmt: skip
            password = secrets.token_urlsafe(12)
            await web_accounts.set_password_hash(
                session, existing.id, await passwords.hash_async(password), end_sessions=True
            )
            made.append((login, password, existing.collectivity_name or role))
    with open_output(out / "web_secret_key") as stream:
        stream.write(secrets.token_urlsafe(48).encode())
    return made


def web_lines(
    accounts: Sequence[tuple[str, str, str]],
    database_url: str,
    out: Path,
    default_out: bool,
    w: Words,
    schema: str | None = None,
) -> list[str]:
    env = f"TEMOIN_DATABASE_URL={shlex.quote(database_url)} "
    if schema:
        env += f"TEMOIN_DATABASE_SCHEMA={shlex.quote(schema)} "
    env += (
        f"TEMOIN_WEB__SECRET_KEY=file:{shlex.quote(str(out / 'web_secret_key'))} "
        "TEMOIN_WEB__SECURE_COOKIES=false"
    )
    command = "make web" if default_out else f"{env} temoin web --port {PORT}"
    lines = [
        w("cli.demo.web", command=command),
        "  " + w("cli.demo.web_open", url=f"http://127.0.0.1:{PORT}/"),
    ]
    for login, password, what in accounts:
        shown = w("cli.demo.coordination") if what == "coordinator" else what
        lines.append(f"  {login}  {password}  ({shown})")
    return lines
