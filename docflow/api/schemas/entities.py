"""What the search, entity and relationship routes answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from docflow.api.inputs import FreeText, Identifier
from docflow.ops.lifecycle.explore import EntityMatch
from docflow.ops.lifecycle.relations import EdgeEnd, EvidenceView
from docflow.ops.lifecycle.search import SearchHit


class SearchResultsView(BaseModel):
    query: str
    filters: dict[str, str | None]
    limit: int
    offset: int
    hits: list[SearchHit] = Field(description="Snippets hold the matched words between « and ».")
    has_more: bool
    capped: bool = Field(description="More chunks matched than are ranked: the best of the first ones are shown.")


class EntityDocumentView(BaseModel):
    document_uuid: str
    document_id: int | None = None
    name: str
    mentions: int
    pages: list[int]


class NeighbourView(BaseModel):
    key: str
    name: str
    label: str
    weight: int = Field(description="How many chunks the two share, summed over documents.")
    documents: int
    entity_id: int | None = None


class EntityViewModel(BaseModel):
    entity: EntityMatch
    documents: list[EntityDocumentView]
    neighbours: list[NeighbourView]
    source: str = Field(description='"neo4j", or "postgresql (Neo4j unavailable: …)".')
    other_matches: list[EntityMatch]


class MergeRequest(BaseModel):
    project_id: Identifier = Field(max_length=128)
    source: FreeText = Field(
        min_length=1, max_length=300, description="The entity merged away: id, name or LABEL:name."
    )
    target: FreeText = Field(min_length=1, max_length=300, description="The entity it is merged into.")
    reason: FreeText | None = Field(None, max_length=500, description="Recorded with the merge.")


class SplitRequest(BaseModel):
    project_id: Identifier = Field(max_length=128)
    source: FreeText = Field(min_length=1, max_length=300, description="The merged-away entity to make its own again.")


class TypedRelationship(BaseModel):
    """One document's statement of a typed relationship between two entities, with its evidence."""

    relationship_id: int
    kind: str = Field(description="ROLE_AT, LOCATED_IN, OPERATES_IN, ACQUIRED, OWNS, AGREEMENT_WITH, SUPPLIES, …")
    meaning: str = Field(description="What the kind means.")
    directed: bool = Field(description="False: the kind has no direction (AGREEMENT_WITH, PARTNER_OF).")
    source: EdgeEnd
    target: EdgeEnd
    other: EdgeEnd = Field(description="The far end seen from the entity asked about (a document's edge: target).")
    direction: Literal["out", "in", "both"] = Field(description="Seen from the entity asked about.")
    document_id: int
    document_uuid: str
    document_name: str
    weight: int = Field(description="How many places in the document state it.")
    confidence: float = Field(description="0..1, of the most confident place.")
    producer: str = Field(description='The rule or pattern that read it ("header:to", "pattern:role-apposition", …).')
    properties: dict[str, Any] = Field(description="role, role_type, former, date, detail (those stated).")
    role: str | None = Field(description='A ROLE_AT\'s title as written ("chief financial officer").')
    role_type: str | None = Field(description="officer, director, employee, founder, member, counsel or chair.")
    former: bool = Field(description="The role or tie is stated as past.")
    date: str | None = Field(description="A date stated in the same clause or header.")
    statement: str = Field(description="The edge in words.")
    evidence: list[EvidenceView] = Field(
        description="Every place stating it, most confident first: the sentence, page, chunk and character span."
    )


class EntityRelationshipsView(BaseModel):
    entity: EdgeEnd
    edges: list[TypedRelationship] = Field(description="By kind, then confidence, then document.")
    counts: dict[str, int] = Field(
        description="Kind -> the entity's edges of that kind (all, not only those returned)."
    )


class DocumentRelationshipsView(BaseModel):
    document_id: int
    document_uuid: str
    document_name: str
    edges: list[TypedRelationship] = Field(description="By kind, then source and target name.")
    counts: dict[str, int] = Field(description="Kind -> edges in the document; CO_OCCURS included, for scale.")
