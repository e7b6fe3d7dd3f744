"""French typography in the texts we ship: the catalogue, the scenarios' prose, the examples.

``scenarios.typography.violations`` on every message of ``scenarios/locale/fr.toml``, on the
prose of every scenario file (titles, descriptions, grid labels, hints and choice labels,
expected elements' labels, improvement tips) and on the texts of the example campaign files:
no straight apostrophe between letters, a no-break space (U+202F) before ; : ! ? and inside
« », no-break thousands, dashes. Left out on purpose: what a persona sends (``wordings``,
``followup``: a citizen's keyboard typography, or the mystery citizen shows) and the
matching ``patterns``. ``tools/typeset_catalog.py`` fixes the scenario files in place.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from scenarios.i18n import load_catalogue
from scenarios.typography import violations

ROOT = Path(__file__).resolve().parents[2]
PROSE = frozenset({"title", "description", "label", "hint", "improvement_tips"})


def _prose(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _prose(v, str(k))
    elif isinstance(node, list):
        for v in node:
            yield from _prose(v, key)
    elif isinstance(node, str) and key in PROSE:
        yield key, node


def _strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v, path)
    elif isinstance(node, str):
        yield path, node


def _report(found: list[str]) -> str:
    return f"{len(found)} violation(s), first ones:\n" + "\n".join(found[:20])


def test_the_french_catalogue_has_french_typography() -> None:
    found = [f"fr.toml {key}: {v}" for key, text in load_catalogue("fr").items()
             for v in violations(text)]  # fmt: skip
    assert not found, _report(found)


SCENARIO_FILES = sorted((ROOT / "scenarios" / "catalog").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_scenario_prose_has_french_typography(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    texts = list(_prose(data))
    assert texts, "the scenario has no prose: the scan would prove nothing"
    found = [f"{path.name} {key}: {v}" for key, text in texts for v in violations(text)]
    assert not found, _report(found)


def test_example_campaign_texts_have_french_typography() -> None:
    found = []
    for path in sorted((ROOT / "examples").glob("*.toml")):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        found += [f"{path.name} {key}: {v}" for key, text in _strings(data)
                  for v in violations(text)]  # fmt: skip
    assert not found, _report(found)


def test_the_scan_finds_what_it_looks_for() -> None:
    # The rules the scan relies on, on the very faults the issue found in these files.
    rules = {v.rule for v in violations("Avez-vous été transféré ? Amabilité de l'agent")}
    assert rules == {"space before ; ! ? must be U+202F", "straight apostrophe between letters"}
    assert [v.rule for v in violations("10 000 à 50 000 hab.")] == [
        "thousands need a no-break space",
        "thousands need a no-break space",
    ]
