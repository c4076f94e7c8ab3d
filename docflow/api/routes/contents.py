"""Reading documents as a program does: list them with filters and a cursor, and read one's text,
chunks, entities and page pictures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from starlette.concurrency import run_in_threadpool

from docflow.api.deps import ApiCaller, SettingsDep
from docflow.api.inputs import DocumentReference, Identifier, ProjectFilter
from docflow.api.schemas import (
    DocumentChunksView,
    DocumentEntitiesView,
    DocumentEntityView,
    DocumentListingView,
    DocumentTextView,
    PageTextView,
)
from docflow.api.web.picture import picture_response
from docflow.ops.lifecycle.listing import MAX_PAGE, CursorError, DocumentFilters, list_documents
from docflow.ops.lifecycle.reading import document_chunks, document_entities, page_texts
from docflow.ops.lifecycle.selection import SelectionError, document_id_of

router = APIRouter(prefix="/documents", tags=["documents"])


def _document_id(reference: str) -> int:
    try:
        found = document_id_of(reference)
    except SelectionError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {reference}")
    return found


@router.get("")
def list_all(
    caller: ApiCaller,
    project_id: ProjectFilter = None,
    status_: Annotated[
        Identifier | None, Query(alias="status", max_length=32, description="celery_status, e.g. graph_complete.")
    ] = None,
    file_type: Annotated[Identifier | None, Query(max_length=16, description="e.g. pdf, docx, eml.")] = None,
    language: Annotated[Identifier | None, Query(max_length=16, description="ISO 639-1 code.")] = None,
    created_after: Annotated[datetime | None, Query(description="Registered at or after (ISO 8601).")] = None,
    created_before: Annotated[datetime | None, Query(description="Registered before (ISO 8601).")] = None,
    cursor: Annotated[
        Identifier | None, Query(max_length=64, description="The `next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> DocumentListingView:
    """Documents matching every filter given, oldest first, a page at a time (a keyset cursor:
    documents registered meanwhile are neither skipped nor repeated)."""
    filters = DocumentFilters(
        project_id=project_id,
        status=status_,
        file_type=file_type,
        language=language,
        created_after=created_after,
        created_before=created_before,
    )
    try:
        listing = list_documents(filters=filters, cursor=cursor, limit=limit)
    except (CursorError, ValueError) as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return DocumentListingView(documents=listing.documents, next_cursor=listing.next_cursor)


@router.get("/{reference}/text")
def text(reference: DocumentReference, caller: ApiCaller) -> DocumentTextView:
    """The document's extracted text, page by page."""
    document_id = _document_id(reference)
    return DocumentTextView(
        document_id=document_id, pages=[PageTextView(page=n, text=t) for n, t in page_texts(document_id)]
    )


@router.get("/{reference}/chunks")
def chunks(reference: DocumentReference, caller: ApiCaller) -> DocumentChunksView:
    """The document's chunks (the units of search and entity extraction) with their page spans."""
    document_id = _document_id(reference)
    return DocumentChunksView(document_id=document_id, chunks=document_chunks(document_id))


@router.get("/{reference}/entities")
def entities(reference: DocumentReference, caller: ApiCaller) -> DocumentEntitiesView:
    """The entities found in the document, most mentioned first."""
    document_id = _document_id(reference)
    return DocumentEntitiesView(
        document_id=document_id,
        entities=[DocumentEntityView(**row) for row in document_entities(document_id)],
    )


@router.get(
    "/{reference}/pages/{number}.png",
    response_class=Response,
    responses={
        200: {
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The page as a PNG.",
        },
        404: {"description": "No such document or page, or the document has no page pictures."},
        503: {"description": "Not ready yet (an office document being laid out): ask again after Retry-After."},
    },
)
async def page_picture(
    reference: DocumentReference,
    settings: SettingsDep,
    caller: ApiCaller,
    number: Annotated[int, Path(ge=1, le=100_000)],
) -> Response:
    """One page of the document as a PNG, rendered from the stored original (then cached)."""
    document_id = await run_in_threadpool(_document_id, reference)
    return await picture_response(settings, document_id=document_id, number=number)
