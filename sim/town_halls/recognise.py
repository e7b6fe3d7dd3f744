"""Which email scenario of the catalogue a request was written from, read from its wording.

The demo knows each request's scenario (its resolver); without it, a request is matched to the
wording whose fixed phrases (the lines of its template without template code, folded) it
contains the most of, plus a bonus when its subject is the wording's fixed subject. Below
``THRESHOLD`` the request is of no known scenario.
"""

from __future__ import annotations

import re

from channels.content import fold_words
from scenarios.catalog import Catalog, Scenario
from scenarios.domain import Channel
from sim.town_halls.incoming import REPLY_PREFIX

_TEMPLATE_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


class ScenarioRecogniser:
    """Which email scenario a request was written from, by its wording's fixed phrases."""

    THRESHOLD = 0.5

    def __init__(self, catalog: Catalog) -> None:
        self._wordings: list[tuple[Scenario, str | None, list[str]]] = []
        for scenario in catalog:
            if scenario.channel is not Channel.EMAIL:
                continue
            for wording in scenario.wordings:
                subject = None
                if wording.subject and not _TEMPLATE_CODE.search(wording.subject):
                    subject = fold_words(wording.subject)
                phrases = [
                    folded
                    for chunk in _TEMPLATE_CODE.split(wording.body)
                    for line in chunk.split("\n")
                    if len((folded := fold_words(line)).split()) >= 3
                ]
                self._wordings.append((scenario, subject, phrases))

    def recognise(self, subject: str, body: str) -> Scenario | None:
        text = fold_words(body)
        wanted = fold_words(REPLY_PREFIX.sub("", subject))
        best: Scenario | None = None
        best_score = 0.0
        for scenario, fixed_subject, phrases in self._wordings:
            total = sum(len(p) for p in phrases)
            score = sum(len(p) for p in phrases if p in text) / total if total else 0.0
            if fixed_subject is not None and fixed_subject == wanted:
                score += 0.5
            if score > best_score:
                best, best_score = scenario, score
        return best if best_score >= self.THRESHOLD else None
