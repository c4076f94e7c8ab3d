"""What the API answers, as types: each route declares one of these, so ``/docs`` and
``/openapi.json`` describe every field and a client generated from the schema knows them.

The operations return plain data (dicts and dataclasses); these models name and check its shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from docflow.api.inputs import FreeText, Identifier
from docflow.core.status import Stage
from docflow.ops.intake.outcomes import FileOutcome
from docflow.ops.lifecycle.delete import DeleteOutcome
from docflow.ops.lifecycle.explore import EntityMatch
from docflow.ops.lifecycle.listing import ListedDocument
from docflow.ops.lifecycle.reading import ChunkText
from docflow.ops.lifecycle.reprocess import ReprocessOutcome
from docflow.ops.lifecycle.search import SearchHit
from docflow.ops.lifecycle.selection import Selection


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


class WebhookRequest(BaseModel):
    url: FreeText = Field(min_length=8, max_length=2000, description="http:// or https:// URL events are posted to.")


class WebhookView(BaseModel):
    project_id: str
    url: str
    enabled: bool
    created_at: datetime | None
    created_by: str


class WebhookSet(WebhookView):
    secret: str = Field(
        description="Shown this once: the receiver checks X-Docflow-Signature, sha256=HMAC-SHA256(secret, body)."
    )


class WebhookDeliveryView(BaseModel):
    id: int
    event: str = Field(description="graph_complete or an error_* status.")
    document_id: int
    document_uuid: str
    reason: str | None
    occurred_at: datetime
    state: str = Field(description="pending, delivered, or failed (after the last attempt).")
    attempts: int
    response_status: int | None
    last_error: str | None
    delivered_at: datetime | None


class WebhookDeliveriesView(BaseModel):
    project_id: str
    deliveries: list[WebhookDeliveryView] = Field(description="Newest first.")


class SelectionRequest(BaseModel):
    """Which documents: every condition given must hold (at least one is required)."""

    documents: list[Annotated[Identifier, Field(max_length=64)]] = Field(
        [], max_length=10_000, description="Ids or uuids."
    )
    statuses: list[Annotated[Identifier, Field(max_length=32)]] = Field([], max_length=20)
    project_id: Identifier | None = Field(None, max_length=128)
    outdated: list[Stage] = Field(
        [], description="Documents whose result for any of these stages an older version made."
    )
    limit: int | None = Field(None, ge=1, le=100_000)

    def selection(self) -> Selection:
        return Selection(
            documents=tuple(self.documents),
            statuses=tuple(self.statuses),
            project_id=self.project_id,
            outdated=tuple(stage.value for stage in self.outdated),
            limit=self.limit,
        )


class BatchReprocessRequest(BaseModel):
    select: SelectionRequest
    from_stage: Stage = Field(Stage.OCR, description="The stage to start again from.")
    force: bool = Field(False, description="Also restart documents in flight (their current work is dropped).")
    dry_run: bool = Field(False, description="Only say what would be reprocessed.")
    reason: FreeText = Field("", max_length=500, description="Recorded in each document's stage history.")


class BatchReprocessReport(BaseModel):
    selection: str
    from_stage: str
    force: bool
    dry_run: bool
    requested_by: str
    counts: dict[str, int]
    documents: list[ReprocessOutcome] = Field(
        description="action: queued, would queue, refused (with the reason), missing."
    )
    publish_error: str | None = Field(description="Set when publishing failed: reconcile re-drives the documents.")


class BatchDeleteRequest(BaseModel):
    select: SelectionRequest
    dry_run: bool = Field(True, description="Only say what would be deleted (the default: look first).")
    confirm: Identifier | None = Field(
        None, max_length=128, description="Deleting by project alone: the project id again, to confirm."
    )
    reason: FreeText | None = Field(None, max_length=500, description="Recorded in the deletion audit.")


class BatchDeleteReport(BaseModel):
    selection: str
    deleted_by: str
    dry_run: bool
    counts: dict[str, int]
    documents: list[DeleteOutcome] = Field(
        description="action: deleted, would delete, missing, failed (with the reason)."
    )


class SweepRequest(BaseModel):
    project_id: Identifier | None = Field(None, max_length=128, description="Project (default from settings).")
    dry_run: bool = Field(False, description="Only report what would be taken.")
    stable_seconds: float = Field(10.0, ge=0, le=3600, description="Take files unchanged for this long.")


class SweepResult(BaseModel):
    source: str
    project_id: str
    dry_run: bool
    counts: dict[str, int] = Field(description="Files by outcome: new, duplicate, skipped, rejected.")
    seconds: float
    files: list[FileOutcome]
