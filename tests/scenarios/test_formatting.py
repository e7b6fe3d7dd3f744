"""scenarios/formatting.py and scenarios/typography.py: what readers see, in French and English."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenarios.formatting import Formats
from scenarios.typography import french, violations

N = "\u202f"
FR, EN = Formats("fr"), Formats("en")


def test_numbers_and_percentages() -> None:
    assert FR.number(1_046_000) == f"1{N}046{N}000"
    assert EN.number(1_046_000) == "1,046,000"
    assert FR.number(66.666666, 1) == "66,7" and EN.number(66.666666, 1) == "66.7"
    assert FR.percent(0.6206896551724138) == f"62,1{N}%"
    assert EN.percent(0.6206896551724138) == "62.1%"
    assert FR.percent(None) == "–" and FR.number(float("nan")) == "–"
    assert FR.number(-3, 0) == "\u22123"  # a minus sign, not a hyphen
    assert FR.points(0.032) == f"+3,2{N}pts" and FR.points(-0.01) == f"\u22121,0{N}pt"


def test_dates_times_durations_in_the_display_zone() -> None:
    evening = datetime(2026, 4, 24, 16, 0, tzinfo=UTC)  # 18:00 in Paris (summer time)
    assert FR.date(evening) == "24/04/2026" and FR.datetime(evening) == f"24/04/2026 18{N}h{N}00"
    assert EN.datetime(evening) == "24 Apr 2026 18:00"
    assert FR.long_date(date(2026, 5, 1)) == "1er mai 2026"
    assert Formats("fr", "Pacific/Noumea").time(evening) == f"3{N}h{N}00"  # next day, 03:00
    assert FR.duration(787) == f"13{N}min{N}07{N}s"
    assert FR.duration(timedelta(hours=2, minutes=5)) == f"2{N}h{N}05{N}min"
    assert FR.duration(45) == f"45{N}s" and FR.duration(None) == "–"
    with pytest.raises(ValueError, match="naive"):
        FR.datetime(datetime(2026, 4, 24, 18, 0))


@pytest.mark.parametrize(
    ("plain", "typeset"),
    [
        ("Bonjour ! Avez-vous l'acte ?", f"Bonjour{N}! Avez-vous l\u2019acte{N}?"),
        ("Adresse: 1 place de la Mairie", f"Adresse{N}: 1 place de la Mairie"),
        ("« Réponse »", f"«{N}Réponse{N}»"),
        ("de 10 000 à 50 000 hab.", f"de 10{N}000 à 50{N}000 hab."),
        ("Courrier - Contacts : 3", f"Courrier \u2013 Contacts{N}: 3"),
        ("Quoi ?!", f"Quoi{N}?!"),
    ],
)
def test_french_typography(plain: str, typeset: str) -> None:
    assert violations(plain)
    assert french(plain) == typeset
    assert violations(typeset) == []


@pytest.mark.parametrize(
    "kept", ["à 10:30", "https://temoin.example/a", "01 23 45 67 89", "63000 Riom", "3,5 j"]
)
def test_what_is_not_prose_punctuation_is_left_alone(kept: str) -> None:
    assert french(kept) == kept and violations(kept) == []


def test_three_dots_become_an_ellipsis() -> None:
    assert french("voir...") == "voir\u2026" and french("etc....") == "etc...."


def test_doubled_punctuation_is_reported() -> None:
    assert [v.rule for v in violations(f"ascenseur){N}?{N}: Oui")] == ["doubled punctuation"]


@given(st.text(alphabet="ab 'ç«»:;!?.-0123456789", max_size=40))
def test_french_is_idempotent(text: str) -> None:
    once = french(text)
    assert french(once) == once
