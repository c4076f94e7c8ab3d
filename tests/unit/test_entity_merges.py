"""Reviewed merges applied to mentions, and how possible duplicates are found and scored (pure)."""

from __future__ import annotations

import pytest

from docflow.ops.entities.duplicates import candidate_pairs, score_pair
from tasks.steps.entities import Mention, MergeTarget, apply_merges, cooccurrence_relationships, resolve_merge

pytestmark = pytest.mark.unit


def _mention(text: str, key: str, label: str, start: int = 0) -> Mention:
    return Mention(0, text, label, start, start + len(text), key, text)


def test_a_merged_entity_is_saved_as_its_target_and_edges_join_the_targets():
    # GIVEN a document naming a misspelt person beside a company, and a merge of the misspelling
    mentions = [
        _mention("Maria Gonzales", "maria gonzales", "PERSON"),
        _mention("Harbour Freight", "harbour freight", "ORG", 20),
        _mention("Maria Gonzalez", "maria gonzalez", "PERSON", 40),
    ]
    merges = {("maria gonzales", "PERSON"): MergeTarget("maria gonzalez", "PERSON", "Maria Gonzalez")}
    # WHEN applied
    merged = apply_merges(mentions, merges)
    # THEN the misspelling's mention keeps its text and offsets under the target's identity
    assert [(m.text, m.canonical_key, m.canonical_name) for m in merged] == [
        ("Maria Gonzales", "maria gonzalez", "Maria Gonzalez"),
        ("Harbour Freight", "harbour freight", "Harbour Freight"),
        ("Maria Gonzalez", "maria gonzalez", "Maria Gonzalez"),
    ]
    assert merged[0].char_start == 0 and merged[0].char_end == 14
    # AND co-occurrence is one edge between the person and the company, no edge to itself
    edges = cooccurrence_relationships(merged)
    assert [(e.source_key, e.target_key) for e in edges] == [("harbour freight", "maria gonzalez")]


def test_merges_chain_and_a_cycle_stops_where_it_closes():
    chain = {
        ("a", "ORG"): MergeTarget("b", "ORG", "B"),
        ("b", "ORG"): MergeTarget("c", "ORG", "C"),
    }
    assert resolve_merge("a", "ORG", chain) == MergeTarget("c", "ORG", "C")
    assert resolve_merge("c", "ORG", chain) is None
    assert resolve_merge("a", "PERSON", chain) is None  # another label is another entity
    cycle = {("a", "ORG"): MergeTarget("b", "ORG", "B"), ("b", "ORG"): MergeTarget("a", "ORG", "A")}
    assert resolve_merge("a", "ORG", cycle) == MergeTarget("b", "ORG", "B")


def test_duplicate_candidates_come_from_shared_words_prefixes_and_acronyms_within_a_label():
    entities = [
        (1, "maria gonzalez", "PERSON"),
        (2, "gonzalez", "PERSON"),
        (3, "maria gonzales", "PERSON"),
        (4, "international business machines", "ORG"),
        (5, "ibm", "ORG"),
        (6, "gonzalez", "ORG"),  # another label: never paired with the people
        (7, "rotterdam", "GPE"),
    ]
    pairs = candidate_pairs(entities)
    assert {(1, 2), (1, 3), (2, 3), (4, 5)} <= pairs
    assert not any(6 in pair for pair in pairs) and not any(7 in pair for pair in pairs)


@pytest.mark.parametrize(
    ("first", "second", "shared", "reason", "at_least"),
    [
        ("maria gonzalez", "maria gonzales", 2, "similar spelling", 0.8),
        ("maria gonzalez", "gonzalez", 0, "one name is part of the other", 0.6),
        ("international business machines", "ibm", 0, "acronym", 0.7),
    ],
)
def test_scores_weigh_the_names_and_the_shared_neighbours(first, second, shared, reason, at_least):
    score, similarity, reasons = score_pair(first, second, shared)
    assert reason in reasons and score >= at_least and 0 <= similarity <= 100
    if shared:
        assert f"{shared} shared neighbours" in reasons


def test_unrelated_names_score_low():
    score, _similarity, _reasons = score_pair("maria gonzalez", "daniel okafor", 0)
    assert score < 0.6
