"""Possible duplicates among a project's entities, for a person to review and merge.

Two entities of the same label are a candidate when their names are alike (rapidfuzz's weighted
ratio: "Gonzalez" and "Maria Gonzalez", "Gonzales" and "Gonzalez", "ACME Logistic" and "Acme
Logistics"), or one is the acronym of the other ("IBM", "International Business Machines"); the
entities both co-occur with (shared neighbours in ``entity_relationships``) raise the score.
Candidates are found by blocking (a word, a word's first five letters, or an acronym in common),
never by comparing every pair, so a project of 100,000 entities is read in seconds.

:func:`score_pair` and :func:`candidate_pairs` are pure (tested on their own); :func:`possible_duplicates`
reads the project's entities and relationships from PostgreSQL.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import or_, select

from docflow.core.db import session_scope
from docflow.core.entity_names import VALUE_LABELS
from docflow.core.models import CanonicalEntity, EntityMention, EntityRelationship, table_of
from docflow.core.relation_kinds import CO_OCCURS
from docflow.ops.entities.records import EntityRecord, entity_records

__all__ = ["DuplicateCandidate", "candidate_pairs", "possible_duplicates", "score_pair"]

_ENTITIES = table_of(CanonicalEntity)
_MENTIONS = table_of(EntityMention)
_RELATIONSHIPS = table_of(EntityRelationship)

MIN_SCORE = 0.6
# A word shared by more entities than this says nothing about identity ("bank", "john").
_MAX_BLOCK = 200
_MINOR = frozenset(["of", "the", "and", "for", "de", "la", "du", "des", "del", "y", "et", "in", "on", "at", "to"])
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class DuplicateCandidate:
    """Two entities that may be one: ``score`` in 0..1 (name 70%, shared neighbours 30%)."""

    first: EntityRecord
    second: EntityRecord
    score: float
    name_similarity: float  # 0..100, rapidfuzz WRatio (100 for a defined acronym)
    shared_neighbours: int
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _words(key: str) -> list[str]:
    return [w for w in _WORD.findall(key) if w not in _MINOR]


def _acronym(key: str) -> str | None:
    words = _words(key)
    return "".join(w[0] for w in words) if len(words) >= 2 else None


def _blocks(key: str) -> set[str]:
    words = _words(key)
    blocks = {w for w in words if len(w) >= 3} | {"~" + w[:5] for w in words if len(w) >= 5}
    acronym = _acronym(key)
    if acronym:
        blocks.add("#" + acronym)
    if len(words) == 1 and 2 <= len(words[0]) <= 8:
        blocks.add("#" + words[0])  # an acronym itself meets its long form here
    return blocks


def candidate_pairs(entities: Sequence[tuple[int, str, str]]) -> set[tuple[int, int]]:
    """Pairs ``(id_a, id_b)``, ``id_a < id_b``, of same-label entities sharing a block, over
    ``(id, canonical key, label)`` triples."""
    index: dict[tuple[str, str], list[int]] = defaultdict(list)
    for entity_id, key, label in entities:
        for block in _blocks(key):
            index[(label, block)].append(entity_id)
    pairs: set[tuple[int, int]] = set()
    for ids in index.values():
        if 1 < len(ids) <= _MAX_BLOCK:
            ordered = sorted(set(ids))
            pairs.update((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])
    return pairs


def score_pair(first_key: str, second_key: str, shared_neighbours: int) -> tuple[float, float, tuple[str, ...]]:
    """``(score 0..1, name similarity 0..100, reasons)`` for two canonical keys of one label."""
    reasons = []
    similarity = float(fuzz.WRatio(first_key, second_key))
    first_words, second_words = _words(first_key), _words(second_key)
    if _acronym(first_key) == second_key.replace(".", "") or _acronym(second_key) == first_key.replace(".", ""):
        similarity = 100.0
        reasons.append("acronym")
    elif set(first_words) < set(second_words) or set(second_words) < set(first_words):
        reasons.append("one name is part of the other")
    elif similarity >= 85:
        reasons.append("similar spelling")
    if shared_neighbours:
        reasons.append(f"{shared_neighbours} shared neighbour{'s' if shared_neighbours > 1 else ''}")
    score = 0.7 * similarity / 100 + 0.3 * min(shared_neighbours, 3) / 3
    return round(score, 3), round(similarity, 1), tuple(reasons)


def _neighbours(pairs: Iterable[tuple[int, int]]) -> Mapping[int, set[int]]:
    neighbours: dict[int, set[int]] = defaultdict(set)
    for a, b in pairs:
        neighbours[a].add(b)
        neighbours[b].add(a)
    return neighbours


def possible_duplicates(*, project_id: str, limit: int = 50, min_score: float = MIN_SCORE) -> list[DuplicateCandidate]:
    """The project's likeliest duplicate pairs, best first (entities with at least one mention)."""
    with session_scope() as session:
        records = entity_records(
            session, (_ENTITIES.c.project_id == project_id) & _ENTITIES.c.label.not_in(VALUE_LABELS)
        )
        entities = {e.id: e for e in records if e.mentions}
        ids = list(entities)
        edges = (
            session.execute(
                select(_RELATIONSHIPS.c.source_entity_id, _RELATIONSHIPS.c.target_entity_id)
                .where(or_(_RELATIONSHIPS.c.source_entity_id.in_(ids), _RELATIONSHIPS.c.target_entity_id.in_(ids)))
                .where(_RELATIONSHIPS.c.kind == CO_OCCURS)  # appearing together; typed edges say more
                .distinct()
            ).all()
            if ids
            else []
        )
    neighbours = _neighbours((a, b) for a, b in edges)
    found = []
    for a, b in candidate_pairs([(e.id, e.key, e.label) for e in entities.values()]):
        shared = len((neighbours.get(a, set()) & neighbours.get(b, set())) - {a, b})
        score, similarity, reasons = score_pair(entities[a].key, entities[b].key, shared)
        if score >= min_score and reasons:
            first, second = sorted((entities[a], entities[b]), key=lambda e: (-e.mentions, e.id))
            found.append(DuplicateCandidate(first, second, score, similarity, shared, reasons))
    found.sort(key=lambda c: (-c.score, -(c.first.mentions + c.second.mentions), c.first.id, c.second.id))
    return found[:limit]
