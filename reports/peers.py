"""Which collectivities each figure is computed over: the count behind withholding peer cells.

A collectivity's report shows, beside its own figures, the same figures over the other
collectivities (nationally, and of its population stratum). Such a figure is published only
when at least ``min_peers`` *other* collectivities contribute to it, figure by figure: a
stratum with six members of which one alone was visited must not show « its » visit
waiting time, which would be that one neighbour's. Counting collectivities with any contact
on any channel (what the report did) let exactly that through.

    PeerCounter.add(facts) for every contact of the campaign (one pass, with the report's)
        --Aggregator by (collectivity, channel) and by collectivity-->
    contributors() -> {(channel or None, metric): collectivity codes whose own cell has a
                       sample for that metric}

A collectivity contributes to a metric when its own cell of that channel has something in
the metric's denominator, with ``reports.aggregate``'s own rules (delivered contacts only):

- ``response``, ``ack``: written requests delivered; ``km``: those with an answer or a
  censoring instant (Kaplan–Meier's sample); ``within``: those whose deadline flag is known;
- ``pickup``: calls placed whose outcome is known; ``waiting``: visits with a waiting time;
- ``score``: contacts with at least one assessed criterion (channel), or any (overall).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Final

from reports.aggregate import Aggregator
from reports.cells import Cell
from reports.facts import ContactFacts
from reports.strata import DEFAULT_STRATA

__all__ = ["METRICS", "PeerCounter", "has_sample"]

METRICS: Final = ("response", "within", "ack", "km", "pickup", "waiting", "score")


def has_sample(cell: Cell, metric: str) -> bool:
    """Whether ``cell`` holds at least one contact in the sample of ``metric``."""
    if metric in ("response", "ack"):
        return cell.written_delivered > 0
    if metric == "km":
        return cell.answer_bdays.observed + cell.answer_bdays.censored > 0
    if metric == "within":
        return cell.answered_within_target.n > 0
    if metric == "pickup":
        return cell.phone.calls > 0
    if metric == "waiting":
        return cell.visit.waiting_seconds_median is not None
    if metric == "score":
        return cell.score is not None
    raise ValueError(f"unknown metric {metric!r}")


class PeerCounter:
    """Fed every contact of a campaign; says who contributes to each (channel, metric)."""

    def __init__(self, strata: Sequence[int] = DEFAULT_STRATA) -> None:
        self._by_channel = Aggregator(("collectivity", "channel"), strata=strata)
        self._overall = Aggregator(("collectivity",), strata=strata)

    def add(self, facts: ContactFacts) -> None:
        self._by_channel.add(facts)
        self._overall.add(facts)

    def contributors(self) -> dict[tuple[str | None, str], frozenset[str]]:
        """(channel, metric) -> the codes of the collectivities behind that figure; channel
        ``None`` is the overall cell. Pairs nobody contributes to are absent."""
        found: dict[tuple[str | None, str], set[str]] = defaultdict(set)
        for cells, channel_of in (
            (self._by_channel.cells(), lambda c: c.key("channel")),
            (self._overall.cells(), lambda c: None),
        ):
            for cell in cells:
                code = cell.key("collectivity")
                if code is None:
                    continue
                channel = channel_of(cell)
                for metric in METRICS:
                    if has_sample(cell, metric):
                        found[(channel, metric)].add(code)
        return {key: frozenset(codes) for key, codes in found.items()}
