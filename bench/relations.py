"""Typed-relationship precision and recall on the labelled set (``bench/data/relations``).

Each document is built in its format (PDF, DOCX, Outlook message, ...) and read by docflow's own
stage code in-process, exactly as the workers run it: ``extract_file`` → ``chunk_elements`` →
language → ``extract_mentions`` with the language's model → ``extract_relations``. No services.

Scoring (:func:`score`): a gold relation is **found** when a predicted edge of its kind joins two
entities whose canonical keys are among the gold source's names and the gold target's names — in
that direction for a directed kind, either way for ``AGREEMENT_WITH`` and ``PARTNER_OF``.
``CO_OCCURS`` never counts. **Precision** = predicted typed edges (one per document, kind and
entity pair) matching a gold relation / all predicted typed edges; **recall** = gold relations
found / gold relations. Both per kind, per language and overall, for one split at a time: ``dev``
(what the extractor was tuned on) unless ``--held-out``.

Two diagnostics, never the headline: **reachable** counts the gold relations whose two entities the
recogniser found at all (by the same keys), so ``found / reachable`` is the relation step's own
recall; ``--lenient-names`` also accepts an entity whose name contains the gold name, or is contained
in it, as whole words once titles are dropped ("Sr. D. Álvaro Requena" for "Álvaro Requena",
"Winstead Sechrest" for "Winstead Sechrest & Minick P.C."): what better entity spans would give.

    python -m bench.relations [--held-out] [--errors] [--lenient-names] [--json bench/out/relations-dev.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.relations_docs import GoldRelation, LabelledDocument, build_file, load_set
from docflow.core.entity_names import canonical_key
from docflow.core.relation_kinds import CO_OCCURS, TYPED_KINDS, is_directed


@dataclass(frozen=True)
class PredictedEdge:
    kind: str
    source_key: str
    target_key: str
    source_name: str = ""
    target_name: str = ""
    producer: str = ""
    sentence: str = ""


@dataclass
class Counts:
    gold: int = 0
    found: int = 0
    predicted: int = 0
    correct: int = 0
    reachable: int = 0  # gold relations whose two entities were recognised (a diagnostic)

    @property
    def recall(self) -> float | None:
        return self.found / self.gold if self.gold else None

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None

    def add(self, other: Counts) -> None:
        self.gold += other.gold
        self.found += other.found
        self.predicted += other.predicted
        self.correct += other.correct
        self.reachable += other.reachable


@dataclass
class DocumentScore:
    doc: str
    language: str
    by_kind: dict[str, Counts] = field(default_factory=dict)
    missed: list[GoldRelation] = field(default_factory=list)
    wrong: list[PredictedEdge] = field(default_factory=list)


def _keys(names: Iterable[str]) -> set[str]:
    return {canonical_key(name) for name in names}


# Titles and honorifics a lenient comparison drops ("sr. d. álvaro requena" -> "álvaro requena").
_TITLES = re.compile(
    r"^(?:(?:mr|mrs|ms|dr|prof|sr|sra|d|dña|don|doña|m|mme|mlle|madame|monsieur|maître|me)\.?\s+)+", re.IGNORECASE
)


def _words(key: str) -> str:
    return " " + " ".join(_TITLES.sub("", key.split("|")[0]).replace(".", " ").split()) + " "


def _named(names: set[str], key: str, *, lenient: bool) -> bool:
    if key in names:
        return True
    if not lenient:
        return False
    words = _words(key)
    return words.strip() != "" and any(words in _words(name) or _words(name) in words for name in names)


def matches(gold: GoldRelation, edge: PredictedEdge, *, lenient: bool = False) -> bool:
    """Whether ``edge`` is the relation ``gold`` describes (kind, both entities, direction)."""
    if edge.kind != gold.kind or edge.kind == CO_OCCURS:
        return False
    sources, targets = _keys(gold.source), _keys(gold.target)
    if _named(sources, edge.source_key, lenient=lenient) and _named(targets, edge.target_key, lenient=lenient):
        return True
    return (
        not is_directed(gold.kind)
        and _named(targets, edge.source_key, lenient=lenient)
        and _named(sources, edge.target_key, lenient=lenient)
    )


def reachable(gold: GoldRelation, entity_keys: set[str], *, lenient: bool = False) -> bool:
    """Whether the recogniser found both of the relation's entities (under one of their names)."""
    return any(_named(_keys(gold.source), key, lenient=lenient) for key in entity_keys) and any(
        _named(_keys(gold.target), key, lenient=lenient) for key in entity_keys
    )


def score_document(
    document: LabelledDocument,
    edges: Sequence[PredictedEdge],
    *,
    entity_keys: set[str] | None = None,
    lenient: bool = False,
) -> DocumentScore:
    """Per kind: gold relations found, and predicted typed edges that match some gold relation.

    ``entity_keys`` (the canonical keys of every entity recognised in the document) gives the
    ``reachable`` diagnostic; ``lenient`` compares names as :func:`matches` does with it.
    """
    typed = list({(e.kind, e.source_key, e.target_key): e for e in edges if e.kind != CO_OCCURS}.values())
    result = DocumentScore(document.id, document.language)
    for kind in TYPED_KINDS:
        gold = [g for g in document.gold if g.kind == kind]
        predicted = [e for e in typed if e.kind == kind]
        found = [g for g in gold if any(matches(g, e, lenient=lenient) for e in predicted)]
        correct = [e for e in predicted if any(matches(g, e, lenient=lenient) for g in gold)]
        within = [g for g in gold if entity_keys is not None and reachable(g, entity_keys, lenient=lenient)]
        if gold or predicted:
            result.by_kind[kind] = Counts(len(gold), len(found), len(predicted), len(correct), len(within))
        result.missed += [g for g in gold if g not in found]
        result.wrong += [e for e in predicted if e not in correct]
    return result


@dataclass
class Scores:
    split: str
    documents: int
    by_kind: dict[str, Counts]
    by_language: dict[str, Counts]
    overall: Counts


def score(results: Sequence[DocumentScore], *, split: str) -> Scores:
    by_kind: dict[str, Counts] = defaultdict(Counts)
    by_language: dict[str, Counts] = defaultdict(Counts)
    overall = Counts()
    for result in results:
        for kind, counts in result.by_kind.items():
            by_kind[kind].add(counts)
            by_language[result.language].add(counts)
            overall.add(counts)
    return Scores(split, len(results), dict(sorted(by_kind.items())), dict(sorted(by_language.items())), overall)


# --- running the pipeline's own steps --------------------------------------------------------------


def predict(document: LabelledDocument, directory: Path) -> tuple[list[PredictedEdge], set[str]]:
    """The typed relationships docflow's entity stage would store for ``document``, and its entities' keys."""
    from docflow.core.settings import get_settings
    from tasks.steps.chunking import chunk_elements
    from tasks.steps.entities import extract_mentions, load_nlp, ner_model_for
    from tasks.steps.language import identify_language
    from tasks.steps.relations import extract_relations, load_parser
    from tasks.work import extract_file

    settings = get_settings()
    path = build_file(document, directory)
    extraction = extract_file(path=path, filename=path.name, settings=settings)
    _text, chunks = chunk_elements(
        extraction.elements, max_chars=settings.chunk_max_chars, overlap_chars=settings.chunk_overlap_chars
    )
    language = identify_language(extraction.text()).language
    model = ner_model_for(language, settings.ner_models, settings.ner_model)
    if model is None:
        return [], set()
    mentions = extract_mentions(chunks, nlp=load_nlp(model))
    relations = extract_relations(
        elements=extraction.elements, chunks=chunks, mentions=mentions, language=language, parser=load_parser(model)
    )
    names = {m.canonical_key: m.canonical_name for m in mentions}
    edges = [
        PredictedEdge(
            r.kind,
            r.source_key,
            r.target_key,
            names.get(r.source_key, r.source_key),
            names.get(r.target_key, r.target_key),
            r.evidence[0].producer,
            r.evidence[0].sentence,
        )
        for r in relations
    ]
    return edges, set(names)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:5.1f}%"


def table(scores: Scores) -> str:
    lines = [
        f"split {scores.split}: {scores.documents} documents",
        f"{'':16} {'gold':>5} {'found':>6} {'recall':>7}   {'pred':>5} {'right':>6} {'precision':>9}"
        f"   {'reach':>5} {'found/reach':>11}",
    ]
    rows = [*scores.by_kind.items(), ("", None), *((f"language {k}", v) for k, v in scores.by_language.items())]
    rows.append(("ALL", scores.overall))
    for name, counts in rows:
        if counts is None:
            lines.append("")
            continue
        lines.append(
            f"{name:16} {counts.gold:5} {counts.found:6} {_percent(counts.recall):>7}   "
            f"{counts.predicted:5} {counts.correct:6} {_percent(counts.precision):>9}"
            f"   {counts.reachable:5} {_percent(counts.found / counts.reachable if counts.reachable else None):>11}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--held-out", action="store_true", help="score the held-out third (once, at the end)")
    parser.add_argument("--errors", action="store_true", help="print each missed gold relation and wrong edge")
    parser.add_argument("--only", action="append", default=[], help="only these document ids")
    parser.add_argument(
        "--lenient-names", action="store_true", help="diagnostic: forgive entity spans (titles, partial names)"
    )
    parser.add_argument("--json", type=Path, help="write the scores here")
    args = parser.parse_args(argv)
    split = "held_out" if args.held_out else "dev"
    print("entity names compared leniently (a diagnostic)" if args.lenient_names else "entity names compared exactly")
    documents = [d for d in load_set() if d.split == split and (not args.only or d.id in args.only)]
    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="docflow-relations-") as tmp:
        for document in documents:
            edges, entity_keys = predict(document, Path(tmp))
            result = score_document(document, edges, entity_keys=entity_keys, lenient=args.lenient_names)
            results.append(result)
            if args.errors:
                for gold in result.missed:
                    print(f"MISS  {document.id}: {gold.kind} {gold.source[0]} -> {gold.target[0]}")
                for edge in result.wrong:
                    print(
                        f"WRONG {document.id}: {edge.kind} {edge.source_name} -> {edge.target_name} "
                        f"[{edge.producer}] {edge.sentence[:140]!r}"
                    )
    scores = score(results, split=split)
    print(table(scores))
    print(f"({time.perf_counter() - started:.1f} s)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {**asdict(scores), "documents_scored": [r.doc for r in results]}
        args.json.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
