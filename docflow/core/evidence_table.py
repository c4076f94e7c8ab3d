"""The ``relationship_evidence`` table: every place in a document that states a typed relationship.

Its data functions are in :mod:`docflow.core.relationship_evidence`; :mod:`docflow.core.models`
lists it with the other tables.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from docflow.core.columns import document_fk

__all__ = ["RelationshipEvidence"]


class RelationshipEvidence(SQLModel, table=True):
    """One place in a document that states a typed relationship: the sentence, where it is, what read it.

    ``char_start``/``char_end`` are offsets into the document text chunk offsets refer to (so a page
    can highlight the sentence); ``producer`` is the rule or pattern that read it.
    """

    __tablename__ = "relationship_evidence"
    __table_args__ = (
        UniqueConstraint(
            "relationship_id", "char_start", "char_end", "producer", name="uq_relationship_evidence_place"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    relationship_id: int = Field(
        sa_column=Column(Integer, ForeignKey("entity_relationships.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    document_id: int = Field(sa_column=document_fk())
    chunk_index: int
    page: int
    char_start: int
    char_end: int
    sentence: str = Field(sa_column=Column(Text, nullable=False))
    producer: str = Field(max_length=64)
    confidence: float
    properties: dict[str, str | bool] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=sql_text("'{}'::jsonb"))
    )
