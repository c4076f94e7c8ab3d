"""The corpus generator is deterministic and its truth is consistent; the scoring is correct."""

from __future__ import annotations

import json

import pytest

from bench import quality
from bench.corpus import generate, make_document

pytestmark = pytest.mark.unit


def test_documents_are_deterministic_and_independent_of_corpus_size(tmp_path):
    # GIVEN the same seed and index THEN the same bytes, whatever else is generated around them
    for index in (0, 3, 4, 5):  # born PDF, DOCX, EML, TXT
        assert make_document(index, 7).data == make_document(index, 7).data
    assert make_document(5, 7).data != make_document(5, 8).data
    small = generate(docs=6, out=tmp_path / "a", seed=7, jobs=1)
    assert [t["kind"] for t in small] == ["born_pdf", "scan_pdf", "png", "docx", "eml", "txt"]
    assert (tmp_path / "a" / "doc-00005-txt.txt").read_bytes() == make_document(5, 7).data


def test_truth_names_only_entities_that_are_in_the_text(tmp_path):
    truths = generate(docs=10, out=tmp_path, seed=3, jobs=1)
    for truth in truths:
        assert truth["entities"], truth["file"]
        for entity in truth["entities"]:
            assert entity["text"] in truth["text"], (truth["file"], entity)
        assert json.loads((tmp_path / f"{truth['name']}.truth.json").read_text()) == truth


def test_word_accuracy_counts_substitutions_insertions_and_deletions():
    assert quality.word_accuracy("a b c d", "a b c d") == (0, 4)
    assert quality.word_accuracy("a b c d", "a x c") == (2, 4)
    assert quality.ocr_accuracy([("one two", "one two"), ("three four", "three")])["accuracy"] == 0.75


def test_entity_scores_match_on_canonical_keys_and_label_kinds():
    truth = [
        {"text": "Acme Logistics Inc.", "label": "ORG"},
        {"text": "Rotterdam", "label": "PLACE"},
        {"text": "Maria Gonzalez", "label": "PERSON"},
    ]
    predicted = [("ORG", "ACME Logistics"), ("LOC", "Rotterdam"), ("ORG", "Maria Gonzalez")]
    scores = quality.entity_scores([(truth, predicted)])
    assert (scores["found"], scores["expected"], scores["correct"], scores["predicted"]) == (2, 3, 2, 3)


def test_chunk_coverage_finds_gaps_and_out_of_bounds_chunks():
    text = "abcdefghij"
    assert quality.chunk_coverage([(text, [(0, 6, "abcdef"), (4, 10, "efghij")])], max_chars=6)["coverage"] == 1.0
    gap = quality.chunk_coverage([(text, [(0, 4, "abcd"), (6, 10, "ghij")])], max_chars=6)
    assert gap["coverage"] == 0.8 and gap["fully_covered_documents"] == 0
    assert quality.chunk_coverage([(text, [(0, 10, text)])], max_chars=6)["in_bounds"] == 0.0
