"""What the API answers, as types: each route declares one of these, so ``/docs`` and
``/openapi.json`` describe every field and a client generated from the schema knows them.

The operations return plain data (dicts and dataclasses); these models name and check its shape.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from docflow.api.inputs import FreeText, Identifier
from docflow.core.status import Stage
from docflow.ops.lifecycle.explore import EntityMatch
from docflow.ops.lifecycle.search import SearchHit


class Health(BaseModel):
    status: str = Field(description='"ok" while the process answers.')


class UploadedDocument(BaseModel):
    document_id: int | None
    document_uuid: str | None
    name: str = Field(description="The name it is stored under: the file name only, made safe to show.")
    created: bool = Field(description="False when the same bytes were already registered in the project.")
    status: str | None
    task_id: str | None = Field(description="The Celery task now responsible for the document.")
    submitted: bool = Field(description="The message was published; false: reconcile re-drives it from the row.")


class StageRunView(BaseModel):
    stage: str
    attempt: int
    outcome: str = Field(description="started, succeeded, retrying, failed, redriven, reprocessed, queued…")
    task_id: str
    worker: str | None
    deliveries: int
    queued_at: str | None
    started_at: str | None
    finished_at: str | None
    seconds: float | None
    error: str | None


class ArchiveParent(BaseModel):
    id: int
    name: str
    status: str


class ArchiveMember(BaseModel):
    id: int
    name: str
    member_path: str | None
    status: str


class DocumentDetail(BaseModel):
    id: int
    uuid: str
    name: str
    project_id: str
    status: str = Field(description="celery_status: where the document is in the stage chain.")
    coarse_status: str
    task_id: str | None
    error: str | None
    sha256: str
    size_bytes: int
    file_type: str | None
    mime_type: str | None
    page_count: int | None
    language: str | None
    pipeline_versions: dict[str, str] = Field(description="Per stage, what produced its result.")
    created_at: str | None
    updated_at: str | None
    chunks: int
    entities: int
    history: list[StageRunView]
    parent: ArchiveParent | None = Field(description="The archive this document came out of, if any.")
    member_path: str | None = Field(description="Where in its archive the document sat.")
    members: list[ArchiveMember] = Field(description="The documents this archive gave (at most 500).")


class ReprocessRequest(BaseModel):
    from_stage: Stage = Field(Stage.OCR, description="The stage to start again from.")
    force: bool = Field(False, description="Also restart a document in flight (its current work is dropped).")
    reason: FreeText = Field("", max_length=500, description="Recorded in the document's stage history.")


class ReprocessAccepted(BaseModel):
    document_id: int
    from_stage: Stage
    task_id: str
    status: str = Field(description='"queued".')
    publish_error: str | None = Field(description="Set when publishing failed: reconcile re-drives the document.")


class DeletedDocument(BaseModel):
    document_id: int
    document_uuid: str
    deleted: bool
    removed: dict[str, int | bool] = Field(description="What went: rows per table, graph nodes, the stored original.")


class ExportedParent(BaseModel):
    id: int
    uuid: str
    name: str
    member_path: str | None


class ExportedDocument(BaseModel):
    id: int
    uuid: str
    project_id: str
    name: str
    sha256: str
    size_bytes: int
    file_type: str | None
    mime_type: str | None
    page_count: int | None
    language: str | None
    status: str
    created_at: str | None
    pipeline_versions: dict[str, str]
    parent: ExportedParent | None = Field(description="The archive it came out of, if any.")


class ExportedChunk(BaseModel):
    index: int
    text: str
    page_start: int
    page_end: int
    char_start: int
    char_end: int


class ExportedMention(BaseModel):
    chunk_index: int
    text: str
    char_start: int
    char_end: int


class ExportedEntity(BaseModel):
    key: str = Field(description="project|label|canonical key: the entity's key in the graph.")
    name: str
    label: str
    mentions: list[ExportedMention]


class ExportRecord(BaseModel):
    format: str = Field(description="The export format and its version.")
    document: ExportedDocument
    text: str
    chunks: list[ExportedChunk]
    entities: list[ExportedEntity]
    relationships: list[dict[str, Any]]


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
