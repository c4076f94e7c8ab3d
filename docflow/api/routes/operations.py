"""What an operator does to many documents at once, over HTTP, with the CLI's rules and refusals:
reprocess a selection, delete a selection (a dry run first), sweep the configured intake source."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, status
from starlette.concurrency import run_in_threadpool

from docflow.api.access import Access, InBodyProject, Listing
from docflow.api.deps import SettingsDep
from docflow.api.schemas import (
    BatchDeleteReport,
    BatchDeleteRequest,
    BatchReprocessReport,
    BatchReprocessRequest,
    SweepResult,
)
from docflow.core.accounts import Role
from docflow.ops import intake
from docflow.ops.lifecycle.delete import delete_documents
from docflow.ops.lifecycle.reprocess import reprocess
from docflow.ops.lifecycle.selection import SelectionError

router = APIRouter(tags=["operations"])

# A selection runs only within the projects where the caller is an operator.
Operator = Annotated[Access, Depends(Listing(Role.OPERATOR))]
Sweeper = Annotated[Access, Depends(InBodyProject(Role.OPERATOR))]


@router.post("/documents/reprocess")
async def reprocess_selection(
    body: BatchReprocessRequest, settings: SettingsDep, access: Operator
) -> BatchReprocessReport:
    """Restart every selected document at a stage, as `docflow reprocess` does: a document in flight
    is refused (with the reason) unless `force`; `dry_run` says what would be queued."""
    try:
        report = await run_in_threadpool(
            lambda: reprocess(
                replace(body.select.selection(), allowed_projects=access.projects),
                from_stage=body.from_stage,
                settings=settings,
                requested_by=access.principal.actor,
                reason=body.reason,
                force=body.force,
                dry_run=body.dry_run,
            )
        )
    except SelectionError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return BatchReprocessReport.model_validate(report.to_dict())


@router.post("/documents/delete")
async def delete_selection(body: BatchDeleteRequest, settings: SettingsDep, access: Operator) -> BatchDeleteReport:
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
                replace(select.selection(), allowed_projects=access.projects),
                settings=settings,
                deleted_by=access.principal.actor,
                reason=body.reason,
                dry_run=body.dry_run,
            )
        )
    except SelectionError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    return BatchDeleteReport.model_validate({**report.to_dict(), "dry_run": body.dry_run})


@router.post("/intake/sweep")
async def sweep_intake(
    settings: SettingsDep,
    access: Sweeper,
    dry_run: Annotated[bool, Body(description="Only report what would be taken.")] = False,
    stable_seconds: Annotated[float, Body(ge=0, le=3600, description="Take files unchanged for this long.")] = 10.0,
) -> SweepResult:
    """Sweep the configured intake folder or S3 prefix once, now (the code of the scheduled
    intake-sweep deployment); every file ends in the report with its outcome and reason. Only the
    configured source: a caller cannot point the server at another folder."""
    options = intake.SweepOptions(
        source=str(settings.intake_dir),
        project_id=access.project,
        stable_seconds=stable_seconds,
        dry_run=dry_run,
    )
    try:
        report = await run_in_threadpool(intake.sweep, options, settings)
    except (FileNotFoundError, NotADirectoryError):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"the configured intake folder {options.source} does not exist (DOCFLOW_INTAKE_DIR): nothing to sweep",
        ) from None
    access.record("intake-sweep", target=options.source, detail={"dry_run": dry_run, **report.counts()})
    return SweepResult.model_validate(report.to_dict())
