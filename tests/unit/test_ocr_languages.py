"""Choosing OCR language packs from a first reading, and searching text without spaces (pure)."""

from __future__ import annotations

import pytest

from docflow.core.languages import segment_query, unsegment
from tasks.steps.extract.ocr_languages import choose_languages, script_candidates, with_default

pytestmark = pytest.mark.unit

ALL = frozenset({"eng", "spa", "fra", "deu", "chi_sim", "jpn", "kor", "osd"})
# What English OCR makes of a Spanish letter: the words are Spanish, the accents are gone.
SPANISH_READ_AS_ENGLISH = (
    "Estimado senor Munoz: le escribo desde la oficina de Malaga para confirmar la reunion del proximo "
    "miercoles con la sefiora Nufez y el equipo de Logistica Iberica en la sede de Cordoba."
)
ENGLISH = (
    "Dear Mr Smith, I am writing from the London office to confirm the meeting next Wednesday with "
    "Mrs Jones and the team of Northwind Logistics at the Manchester site."
)


def test_a_spanish_first_reading_chooses_spanish_before_the_default():
    assert choose_languages(default="eng", text=SPANISH_READ_AS_ENGLISH, installed=ALL) == "spa+eng"


def test_an_english_reading_keeps_the_default_and_so_does_a_language_without_a_pack():
    assert choose_languages(default="eng", text=ENGLISH, installed=ALL) == "eng"
    assert choose_languages(default="eng", text=SPANISH_READ_AS_ENGLISH, installed=frozenset({"eng"})) == "eng"
    # A default that already holds the language is not extended.
    assert choose_languages(default="spa+eng", text=SPANISH_READ_AS_ENGLISH, installed=ALL) == "spa+eng"


def test_a_page_with_too_little_text_leaves_the_choice_to_the_next_page():
    assert choose_languages(default="eng", text="Page 2", installed=ALL) is None


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("Han", ["chi_sim", "jpn", "kor"]),  # told apart by reading with each
        ("Japanese", ["chi_sim", "jpn", "kor"]),
        ("Latin", []),
        (None, []),
        ("Cyrillic", []),  # no Russian pack installed
    ],
)
def test_script_candidates_are_the_installed_packs_of_the_script(script, expected):
    assert script_candidates(script, ALL) == expected


def test_with_default_puts_the_chosen_pack_first_once():
    assert with_default("chi_sim", "eng") == "chi_sim+eng"
    assert with_default("eng", "eng") == "eng"
    assert with_default("spa", "fra+eng") == "spa+fra+eng"


def test_chinese_and_japanese_runs_become_phrases_of_characters_in_queries():
    assert segment_query("交通规划") == '"交 通 规 划"'
    assert segment_query('cold "東京 都" storage') == 'cold "東 京 都" storage'
    assert segment_query("서울시는 Rotterdam") == "서울시는 Rotterdam"  # Hangul has spaces already


def test_unsegment_closes_the_spaces_search_added_between_characters_and_marks():
    assert (
        unsegment("\ue000交\ue001  \ue000通\ue001 规 划 and Rotterdam")
        == "\ue000交\ue001\ue000通\ue001规划 and Rotterdam"
    )
