"""Entity quality alone: the corpus's truth text -> chunks -> mentions -> recall/precision.

    python -m bench.entity_quality --corpus /tmp/bench-corpus/c200 [--docs 200 --seed 7] [--vocabulary]

No OCR and no services: each document's text is its truth file's ``text`` (the source text,
paragraphs joined by blank lines), laid out as one element per paragraph (the first a
``Title``) and chunked like the workers chunk (``tasks.steps.chunking.chunk_elements`` with
the settings' sizes). Documents are processed in corpus order and, as the worker does "across
the project", each document's voted labels are added to a project prior that the next
documents vote with (``--no-prior`` turns that off).

``--vocabulary`` loads a vocabulary built from the corpus's known names (``PEOPLE`` as PERSON,
``ORGS`` as ORG, ``PLACES`` as GPE) with a few aliases, to show that feature.

Scored with :func:`bench.quality.entity_scores` over the entities the mentions are stored
under, ``(label, canonical_name)``: that is what the graph and the API show, and what an alias
resolves to. The same figure over each mention's surface text (what ``bench.pipeline`` reads
back from ``entity_mentions.text``) is printed too.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.corpus import ORGS, PEOPLE, PLACES, generate, load_truths
from bench.quality import LABEL_MATCH, entity_scores
from tasks.steps.chunking import chunk_elements
from tasks.steps.entities import DEFAULT_MODEL, Mention, VocabularyEntry, extract_mentions, load_nlp

# A few aliases, to show them working (the corpus text itself never uses them).
ALIASES: dict[str, tuple[str, ...]] = {
    "Northwind Bank": ("Northwind", "NWB"),
    "Acme Logistics Inc.": ("ACME",),
    "Meridian Insurance Group": ("Meridian Insurance",),
    "Johannesburg": ("Joburg",),
}


@dataclass(frozen=True)
class Paragraph:
    text: str
    kind: str
    page: int = 1


def corpus_vocabulary() -> list[VocabularyEntry]:
    """The corpus's known names as a project vocabulary."""
    groups = ((PEOPLE, "PERSON"), (ORGS, "ORG"), (PLACES, "GPE"))
    return [VocabularyEntry(name, label, ALIASES.get(name, ())) for names, label in groups for name in names]


def paragraphs(text: str) -> list[Paragraph]:
    parts = [p for p in text.split("\n\n") if p.strip()]
    return [Paragraph(p, "Title" if i == 0 else "NarrativeText") for i, p in enumerate(parts)]


def _truths(corpus: Path, docs: int, seed: int) -> list[dict]:
    if not (corpus / "manifest.json").exists():
        print(f"generating {docs} documents (seed {seed}) into {corpus} ...", flush=True)
        generate(docs=docs, out=corpus, seed=seed)
    return load_truths(corpus)[:docs]


def _chunk_sizes() -> tuple[int, int]:
    try:
        from docflow.core.settings import get_settings

        settings = get_settings()
        return settings.chunk_max_chars, settings.chunk_overlap_chars
    except Exception:  # settings need an environment; without one the defaults do
        return 1500, 200


def run(
    truths: Sequence[dict], *, model: str, vocabulary: list[VocabularyEntry] | None, prior: bool
) -> tuple[list[list[Mention]], float]:
    """Mentions per document, in order, with the project prior accumulated as the worker would."""
    nlp = load_nlp(model)
    max_chars, overlap = _chunk_sizes()
    project: dict[str, Counter[str]] = defaultdict(Counter)
    results: list[list[Mention]] = []
    began = time.perf_counter()
    for truth in truths:
        _text, chunks = chunk_elements(paragraphs(truth["text"]), max_chars=max_chars, overlap_chars=overlap)
        mentions = extract_mentions(chunks, nlp=nlp, vocabulary=vocabulary, prior=project if prior else None)
        for m in mentions:
            project[m.canonical_key][m.label] += 1
        results.append(mentions)
    return results, time.perf_counter() - began


def scores(truths: Sequence[dict], results: Sequence[Sequence[Mention]], *, surface: bool = False) -> dict:
    """``entity_scores`` overall and per truth label (precision per label: predictions of that kind)."""

    def pairs(mentions: Sequence[Mention]) -> list[tuple[str, str]]:
        return [(m.label, m.text if surface else m.canonical_name) for m in mentions]

    overall = entity_scores([(t["entities"], pairs(r)) for t, r in zip(truths, results, strict=True)])
    per_label = {}
    for label, model_labels in LABEL_MATCH.items():
        per_label[label] = entity_scores(
            [
                ([e for e in t["entities"] if e["label"] == label], [p for p in pairs(r) if p[0] in model_labels])
                for t, r in zip(truths, results, strict=True)
            ]
        )
    other = Counter(m.label for r in results for m in r if not any(m.label in v for v in LABEL_MATCH.values()))
    return {"overall": overall, "per_label": per_label, "other_labels": dict(other)}


def _pct(value: float | None) -> str:
    return "  n/a " if value is None else f"{100 * value:5.1f}%"


def report(result: dict, *, title: str) -> None:
    overall = result["overall"]
    print(f"\n== {title}")
    print(
        f"recall {_pct(overall['recall'])} ({overall['found']}/{overall['expected']})   "
        f"precision {_pct(overall['precision'])} ({overall['correct']}/{overall['predicted']})"
    )
    print(f"{'label':8} {'recall':>7} {'precision':>9} {'expected':>8} {'predicted':>9}")
    for label, s in result["per_label"].items():
        print(f"{label:8} {_pct(s['recall']):>7} {_pct(s['precision']):>9} {s['expected']:8} {s['predicted']:9}")
    if result["other_labels"]:
        print("mentions under labels the corpus never uses (count as spurious):", result["other_labels"])
    print("most missed:  ", ", ".join(f"{k} ({n})" for k, n in overall["most_missed"]) or "-")
    print("most spurious:", ", ".join(f"{k!r} ({n})" for k, n in overall["most_spurious"]) or "-")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Entity recall/precision on the bench corpus's text.")
    parser.add_argument("--corpus", type=Path, required=True, help="corpus folder (generated there if empty)")
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--vocabulary", action="store_true", help="load the corpus's names as a vocabulary")
    parser.add_argument("--no-prior", action="store_true", help="vote within each document only")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    truths = _truths(args.corpus, args.docs, args.seed)
    vocabulary = corpus_vocabulary() if args.vocabulary else None
    results, seconds = run(truths, model=args.model, vocabulary=vocabulary, prior=not args.no_prior)
    by_entity = scores(truths, results)
    by_surface = scores(truths, results, surface=True)
    setup = (
        f"{len(truths)} documents, model {args.model}, vocabulary {'on' if vocabulary else 'off'}, "
        f"project prior {'off' if args.no_prior else 'on'}, {seconds:.1f} s"
    )
    report(by_entity, title=f"entities as stored (label, canonical name) -- {setup}")
    surface = by_surface["overall"]
    print(
        f"\n(by mention surface text, as bench.pipeline scores: recall {_pct(surface['recall'])}, "
        f"precision {_pct(surface['precision'])})"
    )
    if args.json:
        args.json.write_text(json.dumps({"setup": setup, "entities": by_entity, "surface": by_surface}, indent=1))


if __name__ == "__main__":
    main()
