"""The translation catalogues stay complete and consistent."""

import pytest

from scenarios.i18n import (
    SUPPORTED,
    MissingMessage,
    Translator,
    load_catalogue,
    pick_locale,
    placeholders,
)


@pytest.mark.parametrize("locale", [loc for loc in SUPPORTED if loc != "fr"])
def test_every_language_has_the_french_keys_and_placeholders(locale: str) -> None:
    reference = load_catalogue("fr")
    other = load_catalogue(locale)
    assert sorted(set(reference) ^ set(other)) == []
    for key, message in reference.items():
        assert placeholders(other[key]) == placeholders(message), key


def test_french_typography_no_plain_space_before_high_punctuation() -> None:
    for key, message in load_catalogue("fr").items():
        for mark in (" :", " ;", " !", " ?", "« ", " »"):
            assert mark not in message, f"{key}: use U+202F instead of a plain space in {mark!r}"


def test_translator_formats_and_falls_back() -> None:
    t = Translator("en")
    assert t("channel.visit") == "Counter visit"
    assert Translator("de").locale == "fr"
    with pytest.raises(MissingMessage):
        t("no.such.key")


def test_pick_locale() -> None:
    assert pick_locale("en-GB") == "en"
    assert pick_locale("fr") == "fr"
    assert pick_locale("es") == "fr"
    assert pick_locale(None) == "fr"
