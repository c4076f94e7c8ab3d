"""A document's page: its pages' pictures and text with the entities marked, its entities, the
typed relationships it states (each with its sentence), its history in words, and the operator's
actions (reprocess, delete) behind a confirmation page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from docflow.api.access import Access, OnDocumentId
from docflow.api.deps import SettingsDep
from docflow.api.inputs import DocumentId, FreeText, Identifier, PageNumber
from docflow.api.web import page_images
from docflow.api.web.picture import picture_response
from docflow.api.web.render import back_to_document, missing, render
from docflow.api.web.views import history_in_words
from docflow.core.accounts import Role
from docflow.core.status import Stage
from docflow.ops.lifecycle.delete import delete_documents
from docflow.ops.lifecycle.reading import document_entities, document_pages
from docflow.ops.lifecycle.relations import document_relationships
from docflow.ops.lifecycle.reprocess import reprocess
from docflow.ops.lifecycle.selection import Selection
from docflow.ops.summaries import document_detail

router = APIRouter(prefix="/ui/documents", include_in_schema=False)
Reader = Annotated[Access, Depends(OnDocumentId(Role.VIEWER, page=True, audit="view"))]
# A page picture is fetched by the page's <img>: without a session it is a 401, like the API.
PictureReader = Annotated[Access, Depends(OnDocumentId(Role.VIEWER))]
Operator = Annotated[Access, Depends(OnDocumentId(Role.OPERATOR, page=True))]


def _only(access: Access) -> Selection:
    return Selection(documents=(str(access.document_id),), allowed_projects=access.projects)


@router.get("/{document_id}")
def document(
    request: Request,
    settings: SettingsDep,
    access: Reader,
    document_id: DocumentId,
    page_number: PageNumber = 1,
    q: Annotated[FreeText, Query(max_length=1000)] = "",
) -> HTMLResponse:
    detail = document_detail(str(document_id))
    if detail is None:
        return missing(request, f"document {document_id}")
    pages = document_pages(document_id)
    # An office document's pictures are its laid-out pages, once LibreOffice has laid it out.
    laid_out = page_images.picture_count(settings, sha256=detail["sha256"], file_type=detail["file_type"])
    count = max(len(pages), detail["page_count"] or 0, laid_out or 0, 1)
    current = min(page_number, count)
    return render(
        request,
        "document.html",
        {
            "d": detail,
            "history": history_in_words(detail["history"]),
            "pages": pages,
            "page_count": count,
            "current": current,
            "text": next((p for p in pages if p.number == current), None),
            "entities": document_entities(document_id),
            "relationships": document_relationships(document_id),
            "pictures": page_images.has_pictures(detail["file_type"]),
            "stages": [s.value for s in Stage],
            "q": q,
            "may_operate": access.principal.may(Role.OPERATOR, detail["project_id"]),
        },
    )


@router.get("/{document_id}/pages/{number}.png")
async def page_picture(
    settings: SettingsDep,
    access: PictureReader,
    document_id: DocumentId,
    number: Annotated[int, Path(ge=1, le=100_000)],
) -> Response:
    """One page as a PNG (rendered on first view, then cached); 401 without a session, like the API."""
    return await picture_response(settings, document_id=document_id, number=number)


@router.get("/{document_id}/confirm")
def confirm(
    request: Request,
    settings: SettingsDep,
    access: Operator,
    document_id: DocumentId,
    action: Annotated[Identifier, Query(max_length=16)] = "reprocess",
    stage: Annotated[Identifier, Query(max_length=16)] = "ocr",
    force: Annotated[Identifier, Query(max_length=8)] = "",
) -> HTMLResponse:
    """What an action would do, asked once more: a reprocess's dry run shows its refusal, if any."""
    detail = document_detail(str(document_id))
    if detail is None:
        return missing(request, f"document {document_id}")
    refusal = None
    if action == "reprocess":
        try:
            dry = reprocess(
                _only(access),
                from_stage=Stage(stage),
                settings=settings,
                requested_by=access.principal.actor,
                force=bool(force),
                dry_run=True,
            )
            refusal = dry.outcomes[0].reason if dry.outcomes and dry.outcomes[0].action != "would queue" else None
        except ValueError:
            refusal = f"unknown stage {stage!r}"
    return render(
        request,
        "confirm.html",
        {"d": detail, "action": action, "stage": stage, "force": bool(force), "refusal": refusal},
    )


@router.post("/{document_id}/reprocess")
async def do_reprocess(
    settings: SettingsDep,
    access: Operator,
    document_id: DocumentId,
    stage: Annotated[Identifier, Form(max_length=16)] = "ocr",
    confirm: Annotated[Identifier, Form(max_length=8)] = "",
    force: Annotated[Identifier, Form(max_length=8)] = "",
    reason: Annotated[FreeText, Form(max_length=500)] = "",
) -> Response:
    try:
        from_stage = Stage(stage)
    except ValueError:
        return back_to_document(document_id, f"unknown stage {stage!r}")
    if confirm != "yes":
        return back_to_document(document_id, "reprocessing was not confirmed")
    report = await run_in_threadpool(
        lambda: reprocess(
            _only(access),
            from_stage=from_stage,
            settings=settings,
            requested_by=access.principal.actor,
            reason=reason,
            force=force == "yes",
        )
    )
    outcome = report.outcomes[0]
    if outcome.action == "queued":
        return back_to_document(document_id, f"queued again from {from_stage.value}")
    return back_to_document(document_id, f"not reprocessed: {outcome.reason}")


@router.post("/{document_id}/delete")
async def do_delete(
    settings: SettingsDep,
    access: Operator,
    document_id: DocumentId,
    confirm: Annotated[FreeText, Form(max_length=16)] = "",
    reason: Annotated[FreeText, Form(max_length=500)] = "",
) -> Response:
    if confirm.strip().lower() != "delete":
        return back_to_document(document_id, 'not deleted: type "delete" to confirm')
    report = await run_in_threadpool(
        lambda: delete_documents(
            _only(access), settings=settings, deleted_by=access.principal.actor, reason=reason or None
        )
    )
    outcome = report.outcomes[0]
    if outcome.action != "deleted":
        return back_to_document(document_id, f"not deleted: {outcome.reason}")
    return RedirectResponse(f"/ui/search?{urlencode({'notice': f'deleted {outcome.name}'})}", status_code=303)
