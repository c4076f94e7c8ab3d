"""Documents: upload one, read its status and history, reprocess, delete, export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from docflow.api.deps import ApiCaller, SettingsDep
from docflow.api.inputs import DocumentReference, FreeText, Identifier
from docflow.api.schemas import (
    DeletedDocument,
    DocumentDetail,
    ExportRecord,
    ReprocessAccepted,
    ReprocessRequest,
    UploadedDocument,
)
from docflow.api.upload import ACCEPTED_MEDIA_TYPES, ingest_upload
from docflow.core.settings import OCR_LANGUAGES_PATTERN
from docflow.ops.lifecycle.delete import delete_documents
from docflow.ops.lifecycle.export import export_document
from docflow.ops.lifecycle.reprocess import reprocess
from docflow.ops.lifecycle.selection import Selection, SelectionError, parse_reference
from docflow.ops.summaries import document_detail

router = APIRouter(prefix="/documents", tags=["documents"])


def _reference(reference: str) -> str:
    try:
        parse_reference(reference)
    except SelectionError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return reference


# The body is read as a stream (api/upload.py), so FastAPI cannot infer it: declared here, for /docs
# and generated clients.
_RAW_BODY = {
    "requestBody": {
        "required": True,
        "description": "The document's bytes, sent with its own Content-Type (or application/octet-stream).",
        "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in sorted(ACCEPTED_MEDIA_TYPES)},
    }
}


@router.post("", status_code=status.HTTP_201_CREATED, openapi_extra=_RAW_BODY)
async def upload_document(
    request: Request,
    response: Response,
    settings: SettingsDep,
    caller: ApiCaller,
    filename: Annotated[str, Query(min_length=1, max_length=1024, description="The document's file name.")],
    project_id: Annotated[
        Identifier | None, Query(max_length=128, description="Project (default from settings).")
    ] = None,
    ocr_languages: Annotated[
        str | None, Query(pattern=OCR_LANGUAGES_PATTERN, description='Tesseract languages, e.g. "spa+eng".')
    ] = None,
) -> UploadedDocument:
    """Upload a document as the raw request body (its own Content-Type), register and submit it.

    201 for a new document, 200 for content already registered in the project (a duplicate);
    413 over the size limit, 415 for a type docflow does not read. A path in ``filename`` is
    dropped: the document keeps the file name only.
    """
    result = await ingest_upload(
        request, filename=filename, project_id=project_id, settings=settings, ocr_languages=ocr_languages
    )
    if not result.created:
        response.status_code = status.HTTP_200_OK
    sent = result.submitted
    return UploadedDocument(
        document_id=result.document_id,
        document_uuid=result.document_uuid,
        name=result.name,
        created=result.created,
        status=result.status,
        task_id=sent.task_id if sent else None,
        submitted=bool(sent and sent.success),
    )


@router.get("/{reference}")
def get_document(reference: DocumentReference, caller: ApiCaller) -> DocumentDetail:
    """A document's status, error, pipeline versions and stage history (retries, errors, workers)."""
    detail = document_detail(_reference(reference))
    if detail is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {reference}")
    return DocumentDetail.model_validate(detail)


@router.post("/{reference}/reprocess", status_code=status.HTTP_202_ACCEPTED)
def reprocess_document(
    reference: DocumentReference, body: ReprocessRequest, settings: SettingsDep, caller: ApiCaller
) -> ReprocessAccepted:
    """Run the document again from a stage; 409 with the reason when that is not safe now."""
    report = reprocess(
        Selection(documents=(_reference(reference),)),
        from_stage=body.from_stage,
        settings=settings,
        requested_by=caller.via,
        reason=body.reason,
        force=body.force,
    )
    (outcome,) = report.outcomes
    if outcome.action == "missing":
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {reference}")
    if outcome.action != "queued" or outcome.document_id is None or outcome.task_id is None:
        raise HTTPException(status.HTTP_409_CONFLICT, outcome.reason or "refused")
    return ReprocessAccepted(
        document_id=outcome.document_id,
        from_stage=body.from_stage,
        task_id=outcome.task_id,
        status="queued",
        publish_error=report.publish_error,
    )


@router.delete("/{reference}")
def delete_document(
    reference: DocumentReference,
    settings: SettingsDep,
    caller: ApiCaller,
    reason: Annotated[FreeText | None, Query(max_length=500)] = None,
) -> DeletedDocument:
    """Delete the document and everything derived from it; the deletion is audited."""
    report = delete_documents(
        Selection(documents=(_reference(reference),)), settings=settings, deleted_by=caller.via, reason=reason
    )
    (outcome,) = report.outcomes
    if outcome.action == "missing":
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {reference}")
    if outcome.action != "deleted" or outcome.document_id is None or outcome.document_uuid is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, outcome.reason or "deletion failed; retry")
    return DeletedDocument(
        document_id=outcome.document_id, document_uuid=outcome.document_uuid, deleted=True, removed=outcome.removed
    )


@router.get("/{reference}/export")
def get_export(reference: DocumentReference, caller: ApiCaller) -> ExportRecord:
    """The document as one export record: text, chunks with pages, entities, relationships."""
    record = export_document(_reference(reference))
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {reference}")
    return ExportRecord.model_validate(record)
