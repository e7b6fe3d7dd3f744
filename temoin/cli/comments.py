"""`temoin comment`: a consultant's comments on a collectivity's barometer, signed and dated.

    temoin comment add CAMPAIGN INSEE --author NAME [--channel email|letter|phone|visit]
                       (--text TEXT | --file FILE)        no --channel: the whole report
    temoin comment list CAMPAIGN [--collectivity INSEE]
    temoin comment remove ID

The comments show in the collectivity's report (``temoin report --collectivity``), per
channel and overall, with the author's name and the date. The storage is
``storage.comments``, which the web back office uses too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from temoin.cli.campaign_tables import unknown_campaign
from temoin.cli.common import (
    AppContext,
    UserError,
    app_context,
    console,
    fail,
    printable,
    run_with_db,
)
from temoin.cli.words import Words, words

if TYPE_CHECKING:
    from storage.comments import CommentInfo
    from storage.db import Database

app = typer.Typer(
    rich_markup_mode=None,
    no_args_is_help=True,
    help="cli.help.comments.about",
)


async def _target(
    database: Database, campaign: str, insee: str | None, w: Words
) -> tuple[int, int | None]:
    from storage.stats import campaign_info, collectivity_info

    async with database.session() as session:
        found = await campaign_info(session, campaign)
        if found is None:
            raise UserError(await unknown_campaign(session, campaign, w))
        if insee is None:
            return found.id, None
        target = await collectivity_info(session, insee)
        if target is None:
            raise UserError(w("cli.collectivity.unknown", insee=insee))
        return found.id, target.id


@app.command("add", help="cli.help.comments.add.about")
def add(
    ctx: typer.Context,
    campaign: str = typer.Argument(..., help="cli.help.comments.add.campaign"),
    collectivity: str = typer.Argument(..., help="cli.help.comments.add.collectivity"),
    author: str = typer.Option(..., "--author", help="cli.help.comments.add.author"),
    channel: str | None = typer.Option(None, "--channel", help="cli.help.comments.add.channel"),
    text: str | None = typer.Option(None, "--text", help="cli.help.comments.add.text"),
    file: Path | None = typer.Option(None, "--file", help="cli.help.comments.add.file"),
) -> None:
    """Add a comment to a collectivity's report (per channel, or on the whole report)."""
    from storage.comments import CommentError, add_comment

    w = words(app_context(ctx))
    if (text is None) == (file is None):
        fail(w("cli.comment.text_or_file"), 2)
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{file}: {exc}") from exc
    assert text is not None

    async def work(database: Database, app: AppContext) -> CommentInfo:
        campaign_id, collectivity_id = await _target(database, campaign, collectivity, w)
        assert collectivity_id is not None
        async with database.session() as session:
            try:
                return await add_comment(
                    session,
                    campaign_id=campaign_id,
                    collectivity_id=collectivity_id,
                    channel=channel,
                    text=text,
                    author=author,
                    now=app.clock.now(),
                )
            except CommentError as exc:
                if not exc.code:
                    raise UserError(str(exc)) from exc
                params = {k: w.f.number(v) if isinstance(v, int) else v
                          for k, v in exc.params.items()}  # fmt: skip
                raise UserError(w(f"cli.comment.error.{exc.code}", **params)) from exc

    comment = run_with_db(ctx, work)
    console.print(w("cli.comment.added", id=comment.id, name=printable(comment.collectivity_name)))


@app.command("list", help="cli.help.comments.list_command.about")
def list_command(
    ctx: typer.Context,
    campaign: str = typer.Argument(..., help="cli.help.comments.list_command.campaign"),
    collectivity: str | None = typer.Option(
        None, "--collectivity", help="cli.help.comments.list_command.collectivity"
    ),
) -> None:
    """List the comments of a campaign, oldest first."""
    from storage.comments import list_comments

    w = words(app_context(ctx))

    async def work(database: Database, _app: AppContext) -> list[CommentInfo]:
        campaign_id, collectivity_id = await _target(database, campaign, collectivity, w)
        async with database.session() as session:
            return await list_comments(
                session, campaign_id=campaign_id, collectivity_id=collectivity_id
            )

    found = run_with_db(ctx, work)
    if not found:
        console.print(w("cli.comment.none"))
        return
    for comment in found:
        where = w.channel(comment.channel) if comment.channel else w("cli.comment.overall")
        console.print(
            w(
                "cli.comment.line",
                id=comment.id,
                code=comment.collectivity_code,
                name=printable(comment.collectivity_name),
                channel=where,
                author=printable(comment.author),
                date=w.f.datetime(comment.created_at),
            )
        )
        console.print("    " + printable(comment.text).replace("\n", "\n    "))


@app.command("remove", help="cli.help.comments.remove.about")
def remove(
    ctx: typer.Context,
    comment_id: int = typer.Argument(..., help="cli.help.comments.remove.comment_id"),
) -> None:
    """Remove one comment (its number is in `temoin comment list`)."""
    from storage.comments import remove_comment

    async def work(database: Database, _app: AppContext) -> bool:
        async with database.session() as session:
            return await remove_comment(session, comment_id)

    done = run_with_db(ctx, work)
    w = words(app_context(ctx))
    if not done:
        fail(w("cli.comment.unknown", id=comment_id))
    console.print(w("cli.comment.removed", id=comment_id))
