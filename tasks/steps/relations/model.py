"""What the relation extractor produces: typed relationships, each with its evidence. Plain data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Evidence", "Finding", "TypedRelation"]

Properties = Mapping[str, "str | bool"]


@dataclass(frozen=True)
class Evidence:
    """Where the text states a relationship, and what read it there.

    ``char_start``/``char_end`` delimit the evidence (a sentence, a header line, a table row, a
    signature block) in the document text that chunk offsets refer to; ``sentence`` is that text.
    ``producer`` names the rule or pattern (``"header:to"``, ``"pattern:role-apposition"``, ...).
    """

    chunk_index: int
    page: int
    char_start: int
    char_end: int
    sentence: str
    producer: str
    confidence: float
    properties: Properties = field(default_factory=dict)  # role, role_type, former, date, detail


@dataclass(frozen=True)
class Finding:
    """One reading of one relationship in one place, before findings are merged per pair."""

    kind: str
    source: int  # index of the source entity in the document view
    target: int
    start: int  # evidence span in the document text
    end: int
    producer: str
    confidence: float
    properties: Properties = field(default_factory=dict)


@dataclass(frozen=True)
class TypedRelation:
    """A stated relationship between two of the document's entities, with all its evidence.

    Shaped like :class:`tasks.steps.entities.Relationship` (the co-occurrence edge), so both are
    stored the same way; ``weight`` is the number of places that state it. An undirected kind is
    oriented so ``(source_key, source_label) < (target_key, target_label)``. ``evidence`` is
    ordered by confidence, then position; the first is the one shown first.
    """

    source_key: str
    source_label: str
    target_key: str
    target_label: str
    kind: str
    evidence: tuple[Evidence, ...]

    @property
    def weight(self) -> int:
        return len(self.evidence)

    @property
    def confidence(self) -> float:
        return max(e.confidence for e in self.evidence)

    @property
    def properties(self) -> Properties:
        """The first evidence's properties, completed by the others' (a date stated in another place)."""
        merged = dict(self.evidence[0].properties)
        for evidence in self.evidence[1:]:
            for name, value in evidence.properties.items():
                merged.setdefault(name, value)
        return merged

    @property
    def chunk_indexes(self) -> tuple[int, ...]:
        return tuple(sorted({e.chunk_index for e in self.evidence}))
