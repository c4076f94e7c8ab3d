"""Typed relationships of one document: structure rules and sentence patterns, merged with their evidence. Pure.

:func:`extract_relations` is the relation step of the entity stage. It never changes the mentions
it is given: every relationship joins two entities the recogniser found (by canonical key and
label), and is kept only where the kinds of its two ends fit (a place is where something is
located, a person holds a role, ...). One relationship is one (kind, source, target) per document,
whatever the number of places stating it; each place is one :class:`Evidence`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from docflow.core.relation_kinds import KINDS
from tasks.steps.chunking import ElementLike
from tasks.steps.relations.document import DocumentView, MentionLike, PositionedChunk, build_view
from tasks.steps.relations.model import Evidence, Finding, TypedRelation
from tasks.steps.relations.parser import parse as parse_texts
from tasks.steps.relations.sentences import read_sentence
from tasks.steps.relations.structure import structure_findings

__all__ = ["extract_relations"]

# Which entity roles (tasks.steps.relations.document.ROLE_OF_LABEL) each end of a kind accepts. The
# recognisers mix organisation, person and place labels up, so only what would make a relationship
# absurd is refused: a place that holds a role, a person "located" in a person.
_ENDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "ROLE_AT": (frozenset({"PER"}), frozenset({"ORG", "FAC", "AMB"})),
    "LOCATED_IN": (frozenset({"ORG", "FAC", "PER", "AMB"}), frozenset({"LOC", "AMB"})),
    "OPERATES_IN": (frozenset({"ORG", "FAC", "AMB", "PER"}), frozenset({"LOC", "AMB"})),
    "WROTE_TO": (frozenset({"PER", "ORG", "AMB"}), frozenset({"PER", "ORG", "AMB"})),
    "COPIED": (frozenset({"PER", "ORG", "AMB"}), frozenset({"PER", "ORG", "AMB"})),
    "SIGNED_FOR": (frozenset({"PER"}), frozenset({"ORG", "FAC", "AMB", "PER"})),
}
_ANY = frozenset({"PER", "ORG", "FAC", "AMB"})
_SENTENCE_TEXT_LIMIT = 600  # characters of evidence kept per place; longer spans are cut at a word


def extract_relations(
    *,
    elements: Sequence[ElementLike],
    chunks: Sequence[PositionedChunk],
    mentions: Sequence[MentionLike],
    language: str | None,
    parser: Any = None,
) -> list[TypedRelation]:
    """The typed relationships stated in one document, each with every place that states it.

    ``elements`` are the document's extracted elements (their kinds and pages), ``chunks`` its
    chunks (index and offsets into the document text), ``mentions`` the entity step's output for
    those chunks, ``language`` the document's (ISO 639-1; English patterns for others) and
    ``parser`` the language's parsing pipeline (:func:`tasks.steps.relations.load_parser`); without
    it the patterns that need a parse are skipped. Deterministic for given inputs and models;
    sorted by (kind, source, target).
    """
    view = build_view(elements=elements, chunks=chunks, mentions=mentions)
    if len(view.entities) < 2:
        return []
    parse: Callable[[str], Any] | None = None
    if parser is not None:

        def parse(text: str) -> Any:
            return parse_texts(parser, [text])[0]

    findings = structure_findings(view)
    skip = frozenset({"EmailHeader", "Table"})
    for sentence in view.sentences(skip_kinds=skip):
        if sum(1 for e in sentence.entities if e.role != "DATE") >= 2:
            findings += read_sentence(sentence, language=language or "en", parse=parse)
    return _merge(view, findings)


def _fits(view: DocumentView, finding: Finding) -> bool:
    source, target = view.entities[finding.source], view.entities[finding.target]
    if source.key == target.key or finding.kind not in KINDS:
        return False
    sources, targets = _ENDS.get(finding.kind, (_ANY, _ANY))
    return source.role in sources and target.role in targets


def _evidence(view: DocumentView, finding: Finding) -> Evidence:
    text = view.text[finding.start : finding.end]
    if len(text) > _SENTENCE_TEXT_LIMIT:
        text = text[:_SENTENCE_TEXT_LIMIT].rsplit(" ", 1)[0] + " …"
    return Evidence(
        chunk_index=view.chunk_at(finding.start, finding.end),
        page=view.page_at(finding.start),
        char_start=finding.start,
        char_end=finding.end,
        sentence=text,
        producer=finding.producer,
        confidence=finding.confidence,
        properties=dict(finding.properties),
    )


def _merge(view: DocumentView, findings: Sequence[Finding]) -> list[TypedRelation]:
    grouped: dict[tuple[str, str, str, str, str], dict[tuple[int, int, str], Evidence]] = defaultdict(dict)
    for finding in findings:
        if not _fits(view, finding):
            continue
        source, target = view.entities[finding.source], view.entities[finding.target]
        ends = [(source.key, source.label), (target.key, target.label)]
        if not KINDS[finding.kind].directed:
            ends.sort()
        key = (finding.kind, *ends[0], *ends[1])
        evidence = _evidence(view, finding)
        place = (evidence.char_start, evidence.char_end, evidence.producer)
        kept = grouped[key].get(place)
        if kept is None or kept.confidence < evidence.confidence:
            grouped[key][place] = evidence
    relations = []
    for (kind, source_key, source_label, target_key, target_label), places in sorted(grouped.items()):
        ordered = tuple(sorted(places.values(), key=lambda e: (-e.confidence, e.char_start, e.producer)))
        relations.append(TypedRelation(source_key, source_label, target_key, target_label, kind, ordered))
    return relations
