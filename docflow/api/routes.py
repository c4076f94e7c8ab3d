"""The HTTP API's routes: documents (upload, status and history, reprocess, delete, export), search
and entity lookup. Each is a thin call into :mod:`docflow.ops`; errors a caller can fix are 4xx
with a plain ``detail``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

from docflow.api.upload import ingest_upload
from docflow.core.names import display_name
from docflow.core.settings import OCR_LANGUAGES_PATTERN, Settings
from docflow.core.status import Stage
from docflow.ops.lifecycle.delete import delete_documents
from docflow.ops.lifecycle.explore import ExploreError, explore_entity
from docflow.ops.lifecycle.export import export_document
from docflow.ops.lifecycle.reprocess import reprocess
from docflow.ops.lifecycle.search import SearchError, SearchFilters, search_chunks
from docflow.ops.lifecycle.selection import Selection, SelectionError, parse_reference
from docflow.ops.summaries import document_detail


class ReprocessRequest(BaseModel):
    from_stage: Stage = Field(Stage.OCR, description="The stage to start again from.")
    force: bool = Field(False, description="Also restart a document in flight (its current work is dropped).")
    reason: str = Field("", max_length=500, description="Recorded in the document's stage history.")


def _reference(reference: str) -> str:
    try:
        parse_reference(reference)
    except SelectionError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return reference


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter()

    @router.post("/documents", status_code=status.HTTP_201_CREATED, tags=["documents"])
    async def upload_document(
        request: Request,
        response: Response,
        filename: Annotated[str, Query(min_length=1, max_length=1024, description="The document's file name.")],
        project_id: Annotated[str | None, Query(max_length=128, description="Project (default from settings).")] = None,
        ocr_languages: Annotated[
            str | None, Query(pattern=OCR_LANGUAGES_PATTERN, description='Tesseract languages, e.g. "spa+eng".')
        ] = None,
    ) -> dict[str, Any]:
        """Upload a document as the raw request body (its own Content-Type), register and submit it.

        201 for a new document, 200 for content already registered in the project (a duplicate);
        413 over the size limit, 415 for a type docflow does not read.
        """
        result = await ingest_upload(
            request, filename=filename, project_id=project_id, settings=settings, ocr_languages=ocr_languages
        )
        if not result.created:
            response.status_code = status.HTTP_200_OK
        sent = result.submitted
        return {
            "document_id": result.document_id,
            "document_uuid": result.document_uuid,
            "name": display_name(filename),
            "created": result.created,
            "status": result.status,
            "task_id": sent.task_id if sent else None,
            "submitted": bool(sent and sent.success),
        }

    @router.get("/documents/{reference}", tags=["documents"])
    def get_document(reference: str) -> dict[str, Any]:
        """A document's status, error, pipeline versions and stage history (retries, errors, workers)."""
        detail = document_detail(_reference(reference))
        if detail is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {reference}")
        return detail

    @router.post("/documents/{reference}/reprocess", status_code=status.HTTP_202_ACCEPTED, tags=["documents"])
    def reprocess_document(reference: str, body: ReprocessRequest) -> dict[str, Any]:
        """Run the document again from a stage; 409 with the reason when that is not safe now."""
        report = reprocess(
            Selection(documents=(_reference(reference),)),
            from_stage=body.from_stage,
            settings=settings,
            requested_by="api",
            reason=body.reason,
            force=body.force,
        )
        (outcome,) = report.outcomes
        if outcome.action == "missing":
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {reference}")
        if outcome.action != "queued":
            raise HTTPException(status.HTTP_409_CONFLICT, outcome.reason or "refused")
        return {
            "document_id": outcome.document_id,
            "from_stage": body.from_stage.value,
            "task_id": outcome.task_id,
            "status": "queued",
            "publish_error": report.publish_error,
        }

    @router.delete("/documents/{reference}", tags=["documents"])
    def delete_document(reference: str, reason: Annotated[str | None, Query(max_length=500)] = None) -> dict[str, Any]:
        """Delete the document and everything derived from it; the deletion is audited."""
        report = delete_documents(
            Selection(documents=(_reference(reference),)), settings=settings, deleted_by="api", reason=reason
        )
        (outcome,) = report.outcomes
        if outcome.action == "missing":
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {reference}")
        if outcome.action != "deleted":
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, outcome.reason or "deletion failed; retry")
        return {
            "document_id": outcome.document_id,
            "document_uuid": outcome.document_uuid,
            "deleted": True,
            "removed": outcome.removed,
        }

    @router.get("/documents/{reference}/export", tags=["documents"])
    def get_export(reference: str) -> dict[str, Any]:
        """The document as one export record: text, chunks with pages, entities, relationships."""
        record = export_document(_reference(reference))
        if record is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {reference}")
        return record

    @router.get("/search", tags=["search"])
    def search(
        q: Annotated[str, Query(description='Words, "a phrase", or, -excluded.')],
        project_id: str | None = None,
        file_type: str | None = None,
        status_: Annotated[str | None, Query(alias="status")] = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 10,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        """Full-text search over chunks: ranked hits with document, page span and a highlighted snippet."""
        try:
            results = search_chunks(
                q, filters=SearchFilters(project_id, file_type, status_, since, until), limit=limit, offset=offset
            )
        except SearchError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
        return results.to_dict()

    @router.get("/entities", tags=["entities"])
    def entity(
        name: Annotated[str, Query(min_length=1, max_length=200)],
        project_id: str | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        """The entity most like ``name``: its documents and pages, and the entities it appears with."""
        try:
            view = explore_entity(name, settings=settings, project_id=project_id, limit=limit)
        except ExploreError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
        if view is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no entity like {name!r}")
        return view.to_dict()

    return router
