"""Population strata: the French labels of population bands and their sort order.

``population_stratum(p, bounds)`` with ``bounds = (b_1 < … < b_k)`` gives one of ``k + 1``
French labels; every lower bound is inclusive and every upper bound exclusive:
``p < b_1`` → "moins de 2 000 hab.", ``b_i <= p < b_{i+1}`` → "2 000 à 10 000 hab.",
``p >= b_k`` → "50 000 hab. et plus" (numbers grouped by thousands with a space).
Labels do not sort alphabetically in their natural order: use ``stratum_index`` (or the
order of ``stratum_labels``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

__all__ = ["DEFAULT_STRATA", "population_stratum", "stratum_index", "stratum_labels"]

DEFAULT_STRATA: tuple[int, ...] = (2000, 10000, 50000)


def _check_bounds(bounds: Sequence[int]) -> None:
    if not bounds or any(b <= 0 for b in bounds):
        raise ValueError(f"strata bounds must be positive, got {tuple(bounds)!r}")
    if any(a >= b for a, b in pairwise(bounds)):
        raise ValueError(f"strata bounds must increase strictly, got {tuple(bounds)!r}")


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def stratum_labels(bounds: Sequence[int] = DEFAULT_STRATA) -> tuple[str, ...]:
    """All labels for ``bounds``, smallest population first."""
    return _labels(tuple(bounds))


@lru_cache(maxsize=32)
def _labels(bounds: tuple[int, ...]) -> tuple[str, ...]:
    _check_bounds(bounds)
    labels = [f"moins de {_thousands(bounds[0])} hab."]
    labels += [f"{_thousands(a)} à {_thousands(b)} hab." for a, b in pairwise(bounds)]
    labels.append(f"{_thousands(bounds[-1])} hab. et plus")
    return tuple(labels)


def stratum_index(population: int, bounds: Sequence[int] = DEFAULT_STRATA) -> int:
    """0 for the smallest stratum … ``len(bounds)`` for the largest (the sort key)."""
    if population < 0:
        raise ValueError(f"population must be >= 0, got {population}")
    return bisect_right(bounds, population)


def population_stratum(population: int, bounds: Sequence[int] = DEFAULT_STRATA) -> str:
    """French label of the population stratum (lower bounds inclusive; see module doc)."""
    return _labels(tuple(bounds))[stratum_index(population, bounds)]
