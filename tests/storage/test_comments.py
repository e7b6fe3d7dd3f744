"""The consultant's comments (``storage.comments``) and ``temoin comment add/list/remove``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

import temoin.cli.app
from scenarios.typography import violations
from storage.comments import CommentError, add_comment, list_comments, remove_comment
from storage.db import Database
from tests import factories as f
from tests.conftest import DbTarget

NOW = datetime(2026, 4, 3, 9, 30, tzinfo=UTC)


async def test_add_list_remove(database: Database) -> None:
    async with database.session() as s:
        camp = await f.campaign(s, NOW, name="barometre-2026")
        other_camp = await f.campaign(s, NOW, name="barometre-2025")
        mine = await f.collectivity(s, NOW, name="Riom", insee_code="63300")
        theirs = await f.collectivity(s, NOW, name="Thiers", insee_code="63430")
        ids = (camp.id, mine.id, theirs.id, other_camp.id)
    async with database.session() as s:
        first = await add_comment(
            s, campaign_id=ids[0], collectivity_id=ids[1], channel="phone",
            text="  Un accueil téléphonique à revoir.\n", author="Anne  Martin", now=NOW,
        )  # fmt: skip
        overall = await add_comment(
            s, campaign_id=ids[0], collectivity_id=ids[1], channel=None,
            text="Des progrès nets.", author="Anne Martin", now=NOW + timedelta(hours=1),
        )  # fmt: skip
        await add_comment(
            s, campaign_id=ids[0], collectivity_id=ids[2], channel="email",
            text="Autre commune.", author="Paul", now=NOW,
        )  # fmt: skip
        await add_comment(
            s, campaign_id=ids[3], collectivity_id=ids[1], channel="email",
            text="Autre campagne.", author="Paul", now=NOW,
        )  # fmt: skip
    assert first.text == "Un accueil téléphonique à revoir." and first.author == "Anne Martin"
    assert first.collectivity_code == "63300" and first.campaign_name == "barometre-2026"
    assert first.created_at == NOW and first.created_at.tzinfo is not None
    async with database.session() as s:
        found = await list_comments(s, campaign_id=ids[0], collectivity_id=ids[1])
        everyone = await list_comments(s, campaign_id=ids[0])
    assert [(c.id, c.channel) for c in found] == [(first.id, "phone"), (overall.id, None)]
    assert {c.collectivity_code for c in everyone} == {"63300", "63430"}
    async with database.session() as s:
        assert await remove_comment(s, first.id)
        assert not await remove_comment(s, first.id)
        left = await list_comments(s, campaign_id=ids[0], collectivity_id=ids[1])
    assert [c.id for c in left] == [overall.id]


@pytest.mark.parametrize(
    ("channel", "text", "author", "reason"),
    [
        ("fax", "Texte", "Anne", "unknown channel"),
        ("email", "   ", "Anne", "empty"),
        ("email", "x" * 4001, "Anne", "at most 4000"),
        ("email", "Texte", " ", "signed"),
    ],
)
async def test_refused_comments_write_nothing(
    database: Database, channel: str, text: str, author: str, reason: str
) -> None:
    async with database.session() as s:
        camp = await f.campaign(s, NOW)
        coll = await f.collectivity(s, NOW)
        ids = (camp.id, coll.id)
    with pytest.raises(CommentError, match=reason):
        async with database.session() as s:
            await add_comment(
                s, campaign_id=ids[0], collectivity_id=ids[1], channel=channel,
                text=text, author=author, now=NOW,
            )  # fmt: skip
    async with database.session() as s:
        assert await list_comments(s, campaign_id=ids[0]) == []


def test_comment_cli(cli_env: DbTarget, tmp_path: object) -> None:
    async def build() -> None:
        db = cli_env.database()
        try:
            async with db.session() as s:
                await f.campaign(s, NOW, name="barometre-2026")
                await f.collectivity(s, NOW, name="Riom", insee_code="63300")
        finally:
            await db.dispose()

    asyncio.run(build())
    runner = CliRunner()
    app = temoin.cli.app.app
    result = runner.invoke(
        app,
        ["comment", "add", "barometre-2026", "63300", "--channel", "visit",
         "--author", "Anne Martin", "--text", "Un accueil chaleureux ; un affichage à revoir."],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Commentaire n°\u00a01 ajouté au rapport de Riom." in result.output
    result = runner.invoke(app, ["comment", "list", "barometre-2026"])
    assert result.exit_code == 0, result.output
    assert "Accueil physique" in result.output and "Anne Martin" in result.output
    assert "un affichage à revoir" in result.output
    result = runner.invoke(
        app, ["comment", "add", "barometre-2026", "99999", "--author", "A", "--text", "T"]
    )
    assert result.exit_code == 1 and "aucune collectivité de code INSEE" in result.output
    result = runner.invoke(
        app, ["comment", "add", "barometre-2026", "63300", "--author", "A", "--text", " "]
    )
    assert result.exit_code == 1
    assert result.stderr == "temoin: le commentaire est vide\n"
    result = runner.invoke(
        app, ["comment", "add", "barometre-2026", "63300", "--author", "A", "--text", "T",
              "--channel", "fax"],
    )  # fmt: skip
    assert result.exit_code == 1
    said = result.stderr.removeprefix("temoin: ")
    assert said.startswith("canal inconnu «\u202ffax\u202f»\u202f: l’un de email, letter")
    assert not violations(said), said
    result = runner.invoke(app, ["comment", "add", "barometre-2026", "63300", "--author", "A"])
    assert result.exit_code == 2
    assert "donnez le commentaire avec --text ou --file" in result.output
    result = runner.invoke(app, ["comment", "remove", "1"])
    assert result.exit_code == 0 and "supprimé" in result.output
    result = runner.invoke(app, ["comment", "remove", "1"])
    assert result.exit_code == 1 and "Aucun commentaire n°\u00a01." in result.output
    result = runner.invoke(app, ["comment", "list", "barometre-2026"])
    assert "Aucun commentaire." in result.output
