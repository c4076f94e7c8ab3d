"""Prefect flow ``reconcile``: status rows vs Redis vs live workers, reported in the UI, optionally repaired.

The flow only orchestrates; the logic is :mod:`docflow.ops.reconcile`. Three coarse tasks (gather,
classify, repair) — never one Prefect task per document, which would cost more than the work at
100,000 documents. Every run publishes a markdown artifact under the key ``reconcile-report`` and a
table artifact under ``reconcile-problems`` (stable keys: the UI shows their history), and returns
the report as a plain dict.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from docflow.core.settings import get_settings
from docflow.ops import reconcile as logic
from docflow.ops.metrics import record_reconcile

REPORT_KEY = "reconcile-report"
PROBLEMS_KEY = "reconcile-problems"


# Snapshots hold every queued message: never hash them for caching, never persist them.
@task(name="gather", cache_policy=NO_CACHE, persist_result=False)
def gather_task(
    project_id: str | None, inspect_timeout_s: float, grace_period_s: float, max_repairs: int
) -> logic.Snapshot:
    # The grace period goes in here: PostgreSQL classifies the rows no message names (LOST or not).
    return logic.gather(
        get_settings(),
        project_id=project_id,
        inspect_timeout_s=inspect_timeout_s,
        grace_period_s=grace_period_s,
        lost_limit=logic.lost_limit(max_repairs),
    )


@task(name="classify", cache_policy=NO_CACHE, persist_result=False)
def classify_task(snapshot: logic.Snapshot, grace_period_s: float, stuck_threshold_s: float) -> logic.Classification:
    return logic.classify(snapshot, grace_period_s=grace_period_s, stuck_threshold_s=stuck_threshold_s)


@task(name="repair", cache_policy=NO_CACHE, persist_result=False)
def repair_task(snapshot: logic.Snapshot, classification: logic.Classification, max_repairs: int) -> list[logic.Action]:
    return logic.repair(snapshot, classification, settings=get_settings(), max_repairs=max_repairs)


@flow(name="reconcile", log_prints=False)
def reconcile_flow(
    grace_period_s: float = 120.0,
    stuck_threshold_s: float = 300.0,
    project_id: str | None = None,
    repair: bool = False,
    max_repairs: int = 100,
    inspect_timeout_s: float = 1.5,
) -> dict:
    """Find every lost, stuck, orphaned, duplicated or mismatched document and (optionally) repair it.

    Args:
        grace_period_s: Seconds a row must have been unchanged before a missing message counts as LOST
            (covers the gap between committing a row and publishing its message).
        stuck_threshold_s: Seconds after which a delivered document that no live worker holds counts as STUCK.
        project_id: Only reconcile this project's documents (empty: all projects, and unknown documents too).
        repair: Re-drive LOST and STUCK documents and remove waiting ORPHAN messages. Off: report only.
        max_repairs: At most this many documents are re-driven in one run.
        inspect_timeout_s: Seconds to wait for live workers to answer `inspect` (active/reserved/scheduled).
    """
    logger = get_run_logger()
    snapshot = gather_task(project_id, inspect_timeout_s, grace_period_s, max_repairs)
    classification = classify_task(snapshot, grace_period_s, stuck_threshold_s)
    actions = repair_task(snapshot, classification, max_repairs) if repair else []
    parameters = logic.parameters(
        grace_period_s=grace_period_s,
        stuck_threshold_s=stuck_threshold_s,
        project_id=project_id,
        repair=repair,
        max_repairs=max_repairs,
        inspect_timeout_s=inspect_timeout_s,
    )
    report = logic.build_report(snapshot, classification, parameters=parameters, actions=actions)
    if not project_id:  # the whole pipeline's findings: what the metrics report
        record_reconcile(get_settings(), report.counts)
    counts = ", ".join(f"{kind}={n}" for kind, n in report.counts.items() if n) or "none"
    logger.info(
        "%d in flight, %d OK; problems: %s; %d action(s)", report.in_flight, report.ok, counts, len(report.actions)
    )
    create_markdown_artifact(
        markdown=report.markdown(),
        key=REPORT_KEY,
        description="Reconcile: PostgreSQL vs Redis vs workers, problems and actions",
    )
    create_table_artifact(
        table=report.table_rows() or [{"kind": "OK", "document_id": None, "detail": "no problems"}],
        key=PROBLEMS_KEY,
        description="Reconcile problems, one row per document or message",
    )
    return report.to_dict()


if __name__ == "__main__":  # pragma: no cover - `python -m flows.reconcile` runs it once
    reconcile_flow()
