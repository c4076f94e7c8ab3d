"""Helpers the layout rules share: findings over blocks, and names found through their canonical key. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from docflow.core.entity_names import canonical_key
from tasks.steps.relations.document import Block, DocumentView, Entity
from tasks.steps.relations.model import Finding

__all__ = ["PARTY_ROLES", "entity_by_key", "finding", "parties"]

# What can be a party (a sender, a signatory's organisation, a recipient): not places, not dates.
PARTY_ROLES = ("PER", "ORG", "FAC", "AMB")


def finding(
    kind: str,
    source: Entity,
    target: Entity,
    blocks: Sequence[Block],
    producer: str,
    confidence: float,
    **properties: str | bool,
) -> Finding:
    """A finding whose evidence runs from the first block's start to the last block's end."""
    return Finding(kind, source.index, target.index, blocks[0].start, blocks[-1].end, producer, confidence, properties)


def parties(entities: Sequence[Entity]) -> list[Entity]:
    return [e for e in entities if e.role in PARTY_ROLES]


def entity_by_key(view: DocumentView, text: str) -> Entity | None:
    """The document's entity whose canonical key is the key of ``text``.

    A name the recogniser missed or mislabelled in one place (a letterhead in capitals, a header's
    display name) but read elsewhere in the document: "HALVORSEN MARINE AS" is the "Halvorsen
    Marine AS" of the preamble.
    """
    key = canonical_key(text)
    if not key:
        return None
    return next((e for e in view.entities if e.key == key and e.role in PARTY_ROLES), None)
