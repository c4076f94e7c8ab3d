"""What the document routes answer: a document, its history, contents, export and listing."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from docflow.api.inputs import FreeText
from docflow.core.status import Stage
from docflow.ops.lifecycle.listing import ListedDocument
from docflow.ops.lifecycle.reading import ChunkText


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


class DocumentListingView(BaseModel):
    documents: list[ListedDocument] = Field(description="Oldest first (by id).")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class PageTextView(BaseModel):
    page: int
    text: str = Field(description="The page's extracted text, its paragraphs separated by a blank line.")


class DocumentTextView(BaseModel):
    document_id: int
    pages: list[PageTextView] = Field(description="Empty until extraction has run.")


class DocumentChunksView(BaseModel):
    document_id: int
    chunks: list[ChunkText] = Field(description="In order; page and character spans are within the text.")


class DocumentEntityView(BaseModel):
    entity_id: int
    name: str
    label: str
    mentions: int


class DocumentEntitiesView(BaseModel):
    document_id: int
    entities: list[DocumentEntityView] = Field(description="Most mentioned first.")
