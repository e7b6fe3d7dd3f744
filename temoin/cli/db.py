"""`temoin db` commands: bring the configured database's schema up to date, or back.

``upgrade [REVISION]`` (default ``head``), ``downgrade REVISION`` (no default: going back
drops tables, so ``base`` or ``-1`` must be typed), ``current``. They use the settings'
``database_url``/``database_schema`` (plus ``database_password``, resolved when
connecting). A bad revision or an unreachable database prints one line and exits 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import typer

from temoin.cli.common import app_context, console, fail, fail_settings
from temoin.cli.words import Words, words

if TYPE_CHECKING:
    from temoin.settings import Settings

T = TypeVar("T")

app = typer.Typer(
    rich_markup_mode=None,
    no_args_is_help=True,
    help="cli.help.db.about",
)


def _shown(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    where = make_url(settings.database_url).render_as_string(hide_password=True)
    if settings.database_schema:
        where += f" (schema {settings.database_schema})"
    return where


def _label(revision: str | None, w: Words) -> str:
    from storage import migrate

    if revision is None:
        return w("cli.db.empty")
    return w("cli.db.head", revision=revision) if revision == migrate.head() else revision


def _run(ctx: typer.Context, step: Callable[[str, str | None], T]) -> T:
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from runners.secrets import SecretError

    settings = app_context(ctx).settings
    try:
        url = settings.connection_url()
    except SecretError as exc:
        from scenarios.i18n import Translator

        t = Translator(settings.locale)
        fail_settings(t("settings.error.secret", name="database_password", reason=exc.said(t)))
    try:
        return step(url, settings.database_schema)
    except CommandError as exc:
        fail(words(app_context(ctx))("cli.database.failed", database=_shown(settings), reason=exc))
    except (SQLAlchemyError, OSError) as exc:
        # The driver's message may quote the URL; ours never shows the password.
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        reason = f"{type(exc).__name__}: {reason}"
        fail(
            words(app_context(ctx))("cli.database.failed", database=_shown(settings), reason=reason)
        )


@app.command(help="cli.help.db.upgrade.about")
def upgrade(
    ctx: typer.Context,
    revision: str = typer.Argument("head", help="cli.help.db.upgrade.revision"),
) -> None:
    """Apply migrations up to REVISION."""
    from storage import migrate

    def step(url: str, schema: str | None) -> tuple[str | None, str | None]:
        return migrate.current(url, schema), migrate.upgrade(url, schema, revision)

    before, after = _run(ctx, step)
    shown = _shown(app_context(ctx).settings)
    w = words(app_context(ctx))
    if before == after:
        said = w("cli.db.already", database=shown, at=_label(after, w))
    else:
        said = w(
            "cli.db.upgraded", database=shown, before=_label(before, w), after=_label(after, w)
        )
    console.print(said, markup=False, soft_wrap=True)


@app.command(context_settings={"ignore_unknown_options": True}, help="cli.help.db.downgrade.about")
def downgrade(
    ctx: typer.Context,
    revision: str = typer.Argument(..., help="cli.help.db.downgrade.revision"),
) -> None:
    """Revert migrations down to REVISION (required, to avoid accidents)."""
    from storage import migrate

    def step(url: str, schema: str | None) -> tuple[str | None, str | None]:
        return migrate.current(url, schema), migrate.downgrade(url, schema, revision)

    before, after = _run(ctx, step)
    shown = _shown(app_context(ctx).settings)
    w = words(app_context(ctx))
    said = w("cli.db.downgraded", database=shown, before=_label(before, w), after=_label(after, w))
    console.print(said, markup=False, soft_wrap=True)


@app.command(help="cli.help.db.current.about")
def current(ctx: typer.Context) -> None:
    """Show the revision the database is at."""
    from storage import migrate

    at = _run(ctx, migrate.current)
    w = words(app_context(ctx))
    said = w("cli.db.current", database=_shown(app_context(ctx).settings), at=_label(at, w))
    console.print(said, markup=False, soft_wrap=True)
