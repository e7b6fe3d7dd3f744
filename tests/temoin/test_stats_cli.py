"""`temoin stats` in words: French figures, ranks only among cells of one channel, the
small-cell note only when a cell is small, the close rather than "as of now"."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

import temoin.cli.app
from tests.conftest import DbTarget
from tests.reports.statsworld import Fixture, build_campaign

runner = CliRunner()


def _build(target: DbTarget, *, closed: bool = True) -> Fixture:
    async def work() -> Fixture:
        db = target.database()
        try:
            return await build_campaign(db, closed=closed)
        finally:
            await db.dispose()

    return asyncio.run(work())


def _stats(*args: str) -> str:
    result = runner.invoke(temoin.cli.app.app, ["stats", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _rows(output: str, first: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in output.splitlines()
        if line.startswith("│") and line.split("│")[1].strip().startswith(first)
    ]


def test_stats_rank_within_a_channel_and_speak_french(
    cli_env: DbTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")  # a channel × stratum table does not fit in 80
    fx = _build(cli_env)
    out = _stats(fx.campaign.name, "--by", "channel,stratum", "--by", "", "--min-cell", "1")
    assert out.startswith("Campagne barometre-2026, close le 31/03/2026 20\u202fh\u202f00.")
    assert "as of" not in out and "Faible effectif" not in out  # nothing is small here
    emails = _rows(out, "Courriel")
    assert len(emails) == 2  # below 2 000 and 2 000 to 10 000
    # Two email cells: ranked 1 and 2 between themselves; the one letter, phone and visit
    # cells have nobody of their channel to be ranked against.
    assert sorted(row[-1] for row in emails) == ["1", "2"]
    for channel in ("Courrier", "Téléphone", "Accueil"):
        assert all(row[-1] == "–" for row in _rows(out, channel)), out
    assert "Rang\u202f: parmi les cellules du même canal" in out
    # The overall table has no rank column at all (no "rank 1" of one).
    overall = out.split("Ensemble", 1)[1]
    assert "rang" not in overall
    assert "66,7\u202f%" in out  # the overall response rate, in French
    assert "2\u202f000 à 10\u202f000 hab." in out  # never split inside a number


def test_stats_of_an_open_campaign_and_small_cells(
    cli_env: DbTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    fx = _build(cli_env, closed=False)
    out = _stats(fx.campaign.name, "--by", "channel")
    assert "encore ouverte\u202f: situation au" in out
    assert "Faible effectif\u202f: moins de 5 contacts parvenus" in out  # letter, phone, visit
    monkeypatch.setenv("TEMOIN_LOCALE", "en")
    out = _stats(fx.campaign.name, "--by", "channel")
    assert "still open: as of" in out and "62.5%" in out
