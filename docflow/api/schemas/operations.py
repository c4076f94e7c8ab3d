"""What the operations on many documents and the webhook routes take and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from docflow.api.inputs import FreeText, Identifier
from docflow.core.status import Stage
from docflow.ops.intake.outcomes import FileOutcome
from docflow.ops.lifecycle.delete import DeleteOutcome
from docflow.ops.lifecycle.reprocess import ReprocessOutcome
from docflow.ops.lifecycle.selection import Selection


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
