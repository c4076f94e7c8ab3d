"""The vocabulary of relationship kinds between entities: what each means, and whether it has a direction.

One place for the kinds: the extractor (``tasks/steps/relations``) produces them, PostgreSQL stores
them (``entity_relationships.kind``), the graph writer turns each into a Neo4j relationship type of
the same name, the export carries them and the API serves them. ``CO_OCCURS`` is the weak edge
(two names in one chunk); every other kind is stated by the text and carries its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CO_OCCURS", "KINDS", "TYPED_KINDS", "RelationKind", "is_directed", "kind_of"]

CO_OCCURS = "CO_OCCURS"


@dataclass(frozen=True)
class RelationKind:
    name: str
    directed: bool
    source: str  # what the source end is, in words
    target: str
    meaning: str


KINDS: dict[str, RelationKind] = {
    kind.name: kind
    for kind in (
        RelationKind(
            "ROLE_AT",
            True,
            "person",
            "organisation",
            "holds or held a position there: officer, director, employee, founder, member, counsel, chair "
            "(properties: role, role_type, former)",
        ),
        RelationKind(
            "LOCATED_IN", True, "organisation or person", "place", "headquartered, based, registered or located there"
        ),
        RelationKind("OPERATES_IN", True, "organisation", "place", "operates, is present or trades there"),
        RelationKind(
            "ACQUIRED", True, "acquirer", "acquired", "bought, took control of, or agreed to acquire (or its assets)"
        ),
        RelationKind("OWNS", True, "owner", "owned", "parent company, controlling or stake-holding owner"),
        RelationKind("AGREEMENT_WITH", False, "party", "party", "an agreement, contract or transaction between them"),
        RelationKind("SUPPLIES", True, "supplier", "customer", "supplies goods or services to"),
        RelationKind("PARTNER_OF", False, "partner", "partner", "partnership, alliance or joint venture"),
        RelationKind("ADVISED", True, "adviser", "client", "acts as financial or legal adviser or counsel to"),
        RelationKind(
            "WROTE_TO",
            True,
            "sender",
            "recipient",
            "a message's sender to each To recipient; a letter's signatory to its addressee",
        ),
        RelationKind("COPIED", True, "sender", "copied recipient", "a message's sender to each Cc recipient"),
        RelationKind("SIGNED_FOR", True, "signatory", "organisation", "signed a letter or agreement on its behalf"),
        RelationKind(
            CO_OCCURS, False, "entity", "entity", "named in the same chunk (the weak edge; no evidence sentence)"
        ),
    )
}
TYPED_KINDS: tuple[str, ...] = tuple(name for name in KINDS if name != CO_OCCURS)


def kind_of(name: str) -> RelationKind:
    """The kind called ``name``; ``KeyError`` for a name outside the vocabulary."""
    return KINDS[name]


def is_directed(name: str) -> bool:
    return KINDS[name].directed
