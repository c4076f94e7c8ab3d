"""What an operator does to many documents at once, over HTTP, with the CLI's rules and refusals:
reprocess a selection, delete a selection (a dry run first), sweep the configured intake source."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from starlette.concurrency import run_in_threadpool

from docflow.api.deps import ApiCaller, SettingsDep
from docflow.api.schemas import (
    BatchDeleteReport,
    BatchDeleteRequest,
    BatchReprocessReport,
    BatchReprocessRequest,
    SweepRequest,
    SweepResult,
)
from docflow.ops import intake
from docflow.ops.lifecycle.delete import delete_documents
from docflow.ops.lifecycle.reprocess import reprocess
from docflow.ops.lifecycle.selection import SelectionError

router = APIRouter(tags=["operations"])


@router.post("/documents/reprocess")
async def reprocess_selection(
    body: BatchReprocessRequest, settings: SettingsDep, caller: ApiCaller
) -> BatchReprocessReport:
    """Restart every selected document at a stage, as `docflow reprocess` does: a document in flight
    is refused (with the reason) unless `force`; `dry_run` says what would be queued."""
    try:
        report = await run_in_threadpool(
            lambda: reprocess(
                body.select.selection(),
                from_stage=body.from_stage,
                settings=settings,
                requested_by=caller.via,
                reason=body.reason,
                force=body.force,
                dry_run=body.dry_run,
            )
        )
    except SelectionError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return BatchReprocessReport.model_validate(report.to_dict())


@router.post("/documents/delete")
async def delete_selection(body: BatchDeleteRequest, settings: SettingsDep, caller: ApiCaller) -> BatchDeleteReport:
    """Delete every selected document and what was derived from it, as `docflow delete` does.

    A dry run by default: it lists what would go. Deleting by project alone asks for the project
    id again in `confirm` (409 otherwise), as the CLI does.
    """
    select = body.select
    if not body.dry_run and select.project_id and not select.documents and body.confirm != select.project_id:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"deleting every document of project {select.project_id!r}: send confirm={select.project_id!r} to go ahead",
        )
    try:
        report = await run_in_threadpool(
            lambda: delete_documents(
                select.selection(), settings=settings, deleted_by=caller.via, reason=body.reason, dry_run=body.dry_run
            )
        )
    except SelectionError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return BatchDeleteReport.model_validate({**report.to_dict(), "dry_run": body.dry_run})


@router.post("/intake/sweep")
async def sweep_intake(body: SweepRequest, settings: SettingsDep, caller: ApiCaller) -> SweepResult:
    """Sweep the configured intake folder or S3 prefix once, now (the code of the scheduled
    intake-sweep deployment); every file ends in the report with its outcome and reason. Only the
    configured source: a caller cannot point the server at another folder."""
    options = intake.SweepOptions(
        source=str(settings.intake_dir),
        project_id=body.project_id or settings.project_id,
        stable_seconds=body.stable_seconds,
        dry_run=body.dry_run,
    )
    report = await run_in_threadpool(intake.sweep, options, settings)
    return SweepResult.model_validate(report.to_dict())
