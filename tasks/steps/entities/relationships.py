"""Co-occurrence edges between the entities of one document. Pure."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tasks.steps.entities.mentions import Mention

__all__ = ["COOCCURRENCE_LABELS", "Relationship", "cooccurrence_relationships"]

COOCCURRENCE_LABELS: tuple[str, ...] = ("PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT")


@dataclass(frozen=True)
class Relationship:
    """Two distinct entities seen in the same chunks; source sorts before target."""

    source_key: str
    source_label: str
    target_key: str
    target_label: str
    kind: str
    weight: int
    chunk_indexes: tuple[int, ...]


def cooccurrence_relationships(
    mentions: Iterable[Mention], *, labels: Sequence[str] = COOCCURRENCE_LABELS
) -> list[Relationship]:
    """Undirected ``CO_OCCURS`` edges between entities sharing a chunk.

    Guarantees: one edge per unordered pair, oriented so ``(source_key, source_label) <
    (target_key, target_label)``; ``weight == len(chunk_indexes)`` = distinct shared
    chunks, indexes ascending; no pair of two entities with the same key (a key seen under
    two labels is almost always one thing the model labelled inconsistently); sorted by
    (source, target).
    """
    wanted = frozenset(labels)
    per_chunk: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for m in mentions:
        if m.label in wanted:
            per_chunk[m.chunk_index].add((m.canonical_key, m.label))

    shared: dict[tuple[tuple[str, str], tuple[str, str]], set[int]] = defaultdict(set)
    for chunk_index, entities in per_chunk.items():
        for a, b in itertools.combinations(sorted(entities), 2):
            if a[0] != b[0]:
                shared[(a, b)].add(chunk_index)

    return [
        Relationship(
            source_key=a[0],
            source_label=a[1],
            target_key=b[0],
            target_label=b[1],
            kind="CO_OCCURS",
            weight=len(indexes),
            chunk_indexes=tuple(sorted(indexes)),
        )
        for (a, b), indexes in sorted(shared.items())
    ]
