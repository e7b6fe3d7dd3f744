"""Evolution columns: a cell's figures beside the same cell of a previous campaign.

``temoin stats --previous`` and ``temoin export --level stats --previous`` compute the
previous campaign's cells with the same groupings, then match each cell of this campaign
to the previous cell with the same keys (same channel, stratum, collectivity code…); a
cell that did not exist then has no previous value and no change.

Columns (``EVOLUTION_COLUMNS``, after ``reports.cells.COLUMNS``): for each of
``EVOLUTION_METRICS``, ``previous_<metric>`` (the previous campaign's value) and
``change_<metric>`` (this value minus the previous one: a fraction of 1 for rates, i.e.
percentage points once multiplied by 100; points out of 100 for the score). ``None`` where
either value is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from reports.cells import Cell, RowValue

__all__ = [
    "EVOLUTION_COLUMNS",
    "EVOLUTION_METRICS",
    "Previous",
    "evolution_row",
    "previous_cells",
]

EVOLUTION_METRICS: Final = (
    "response_rate",
    "answered_within_target_rate",
    "ack_rate",
    "phone_pickup_rate",
    "score",
)
EVOLUTION_COLUMNS: Final[tuple[str, ...]] = tuple(
    name for metric in EVOLUTION_METRICS for name in (f"previous_{metric}", f"change_{metric}")
)

Key = tuple[tuple[str, str | None], ...]
Previous = dict[tuple[str, ...], dict[Key, Cell]]


def previous_cells(tables: Iterable[tuple[Sequence[str], Sequence[Cell]]]) -> Previous:
    """The previous campaign's cells, per grouping, by their keys."""
    return {tuple(by): {cell.keys: cell for cell in cells} for by, cells in tables}


def _value(row: dict[str, RowValue], metric: str) -> float | None:
    value = row.get(metric)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def evolution_row(cell: Cell, before: Cell | None) -> dict[str, RowValue]:
    """The ``EVOLUTION_COLUMNS`` of ``cell`` against ``before`` (``None``: no such cell)."""
    now = cell.to_row()
    old = before.to_row() if before is not None else {}
    out: dict[str, RowValue] = {}
    for metric in EVOLUTION_METRICS:
        new, previous = _value(now, metric), _value(old, metric)
        out[f"previous_{metric}"] = previous
        out[f"change_{metric}"] = None if new is None or previous is None else new - previous
    return out
