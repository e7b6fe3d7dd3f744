"""Population strata: French labels and their sort order (``reports.strata``)."""

from __future__ import annotations

import pytest

from reports.stats import population_stratum, stratum_index, stratum_labels


def test_population_strata() -> None:
    cases = {
        0: "moins de 2 000 hab.",
        1999: "moins de 2 000 hab.",
        2000: "2 000 à 10 000 hab.",
        9999: "2 000 à 10 000 hab.",
        10000: "10 000 à 50 000 hab.",
        49999: "10 000 à 50 000 hab.",
        50000: "50 000 hab. et plus",
        2_113_705: "50 000 hab. et plus",
    }
    for population, label in cases.items():
        assert population_stratum(population) == label
    labels = stratum_labels()
    assert labels == (
        "moins de 2 000 hab.",
        "2 000 à 10 000 hab.",
        "10 000 à 50 000 hab.",
        "50 000 hab. et plus",
    )
    assert sorted(labels) != list(labels)  # why a separate sort key is needed
    assert [stratum_index(p) for p in (5, 2000, 12000, 10**6)] == [0, 1, 2, 3]
    assert population_stratum(700, (500, 3500)) == "500 à 3 500 hab."
    assert stratum_labels((500, 3500))[-1] == "3 500 hab. et plus"
    for bad in ((), (0, 10), (10, 10), (10, 5)):
        with pytest.raises(ValueError):
            stratum_labels(bad)
    with pytest.raises(ValueError):
        population_stratum(-1)
