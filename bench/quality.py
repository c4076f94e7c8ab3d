"""Extraction quality against the corpus's ground truth: OCR words, entities, chunk coverage.

Pure functions over plain data (truth dicts from :mod:`bench.corpus`, extracted text, mentions as
``(label, text)`` pairs, chunks as ``(char_start, char_end, text)``), so the same scoring applies to
the pipeline's stored results, the raw floor's in-memory ones, or a test's.

Definitions (also in bench/README.md):

* **OCR word accuracy** = ``1 - word_edit_distance(truth, ocr) / len(truth_words)`` over whitespace-
  separated words after Unicode NFKC and quote/dash folding; case and punctuation count.
* **Entity recall** = truth entities (distinct per document) found by a mention whose label fits
  (PLACE = GPE/LOC/FAC) and whose canonical key equals the truth's; **precision** = distinct
  predicted (label, key) pairs per document that match a truth entity. Both micro-averaged.
* **Chunk coverage** = characters of the canonical document text inside at least one chunk,
  over all characters; a chunk is **in bounds** when ``1 <= len <= max_chars`` and its text equals
  the document text at its offsets.
"""

from __future__ import annotations

import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence

from rapidfuzz.distance import Levenshtein

# Truth label -> model labels that count as the same kind of thing.
LABEL_MATCH = {
    "PERSON": {"PERSON"},
    "ORG": {"ORG"},
    "PLACE": {"GPE", "LOC", "FAC"},
    "DATE": {"DATE"},
    "MONEY": {"MONEY"},
}
_MODEL_TO_TRUTH = {model: truth for truth, models in LABEL_MATCH.items() for model in models}
_FOLD = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u00ad": None}
)


def words(text: str) -> list[str]:
    return unicodedata.normalize("NFKC", text).translate(_FOLD).split()


def word_accuracy(truth: str, extracted: str) -> tuple[int, int]:
    """``(errors, truth_word_count)``: word-level Levenshtein distance (substitutions, insertions, deletions)."""
    reference = words(truth)
    return Levenshtein.distance(reference, words(extracted)), len(reference)


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def ocr_accuracy(pairs: Iterable[tuple[str, str]]) -> dict:
    """Micro-averaged word accuracy over ``(truth_text, extracted_text)`` pairs."""
    errors = total = documents = 0
    worst = 1.0
    for truth, extracted in pairs:
        e, n = word_accuracy(truth, extracted)
        errors, total, documents = errors + e, total + n, documents + 1
        if n:
            worst = min(worst, 1 - e / n)
    accuracy = ratio(total - errors, total)
    return {
        "documents": documents,
        "words": total,
        "errors": errors,
        "accuracy": None if accuracy is None else max(accuracy, 0.0),
        "worst_document": worst if documents else None,
    }


def entity_scores(items: Iterable[tuple[Sequence[dict], Iterable[tuple[str, str]]]]) -> dict:
    """Micro recall/precision over ``(truth_entities, predicted (label, text) pairs)`` per document.

    Predictions with labels outside :data:`LABEL_MATCH` (NORP, PRODUCT, EVENT, LAW) count as
    false positives: the corpus text names nothing of those kinds.
    """
    from tasks.steps.entities import canonical_key

    found = expected = correct = predicted = 0
    per_label: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # label -> [found, expected]
    missed: dict[str, int] = defaultdict(int)
    wrong: dict[str, int] = defaultdict(int)
    for truth_entities, mentions in items:
        truth_keys = {
            (e["label"], canonical_key(e["text"], _model_label(e["label"]))): e["text"] for e in truth_entities
        }
        predictions = {
            (_MODEL_TO_TRUTH.get(label, label), canonical_key(text, label)): text for label, text in mentions
        }
        for key, text in truth_keys.items():
            hit = key in predictions
            found += hit
            per_label[key[0]][0] += hit
            per_label[key[0]][1] += 1
            if not hit:
                missed[f"{key[0]}:{text}"] += 1
        expected += len(truth_keys)
        for key, text in predictions.items():
            ok = key in truth_keys
            correct += ok
            if not ok:
                wrong[f"{key[0]}:{text}"] += 1
        predicted += len(predictions)
    return {
        "recall": ratio(found, expected),
        "precision": ratio(correct, predicted),
        "found": found,
        "expected": expected,
        "correct": correct,
        "predicted": predicted,
        "recall_by_label": {label: ratio(f, n) for label, (f, n) in sorted(per_label.items())},
        "most_missed": sorted(missed.items(), key=lambda kv: -kv[1])[:8],
        "most_spurious": sorted(wrong.items(), key=lambda kv: -kv[1])[:8],
    }


def _model_label(truth_label: str) -> str:
    # canonical_key only treats ORG specially (legal-form suffixes); any label of the kind works.
    return "GPE" if truth_label == "PLACE" else truth_label


def chunk_coverage(items: Iterable[tuple[str, Sequence[tuple[int, int, str]]]], *, max_chars: int) -> dict:
    """Coverage and bounds over ``(document_text, [(char_start, char_end, text), ...])`` per document."""
    covered = total = chunks = in_bounds = 0
    sizes: list[int] = []
    documents = fully_covered = 0
    for text, spans in items:
        documents += 1
        mask = bytearray(len(text))
        for start, end, chunk_text in spans:
            chunks += 1
            sizes.append(len(chunk_text))
            exact = text[start:end] == chunk_text
            in_bounds += exact and 1 <= len(chunk_text) <= max_chars
            lo, hi = max(start, 0), min(end, len(text))
            if hi > lo:
                mask[lo:hi] = b"\x01" * (hi - lo)
        hit = sum(mask)
        covered, total = covered + hit, total + len(text)
        fully_covered += hit == len(text)
    return {
        "coverage": ratio(covered, total),
        "documents": documents,
        "fully_covered_documents": fully_covered,
        "chunks": chunks,
        "in_bounds": ratio(in_bounds, chunks),
        "max_chars": max_chars,
        "size_min": min(sizes) if sizes else None,
        "size_median": statistics.median(sizes) if sizes else None,
        "size_max": max(sizes) if sizes else None,
    }
