"""Reconciliation: status rows (the truth) against Redis (the transport) and the live workers.

Three views are gathered, each in bulk, never one round trip per document:

1. **Redis**, in one ``MULTI``/``EXEC`` pipeline (an atomic snapshot): every waiting message of
   each stage queue's lists (priority siblings included), the ``unacked`` hash (delivered, not yet
   acknowledged: ``tag -> [message, exchange, routing_key]``) and the ``unacked_index`` delivery
   times. Every message is decoded to (task id, task name, document id); a message that does not
   decode is reported, never fatal.
2. **Workers**, via ``inspect active/reserved/scheduled`` with a timeout, run in a thread while
   Redis is read. When no worker answers, the report says so.
3. **PostgreSQL**, *last*, in one read-only transaction (one database snapshot): the documents the
   messages and held tasks name, in full, and the in-flight rows (optionally one project) that
   nothing names — *quiet* rows — classified set-based by the LOST rule below: counted per status,
   with the first ``lost_limit`` LOST rows by document id returned in full. Reading the rows last
   is what makes the three snapshots consistent: any row that changed after the Redis snapshot
   began has an ``updated_at`` newer than that moment (its "age at snapshot" is <= 0) and is
   treated as *in motion* (OK) — a message consumed or published while we looked can never turn
   into a false LOST or STUCK.

Classification (every rule about absence also requires the row to have been still for the grace
period, which covers commit-then-publish and retry windows):

* **LOST** — in flight (queued or processing), no copy of the row's task anywhere (waiting,
  unacked, or held by a worker), older than the grace period. Repair re-drives it.
* **STUCK** — beyond the stuck threshold, no responding worker holds it, and its only copy is an
  ``unacked`` delivery (the worker that took it is gone; Redis would only hand it out again after
  the visibility timeout). Repair re-drives it — only when at least one worker answered
  ``inspect``: with no answers at all, "stuck" and "busy" cannot be told apart.
* **ORPHAN** — a message for a document that is terminal (``graph_complete``/``error_*``),
  ``pending`` or unknown. Delivering it would be a no-op.
* **DUPLICATE** — more than one live copy of messages for one document and stage.
* **MISMATCH** — a message for an in-flight document whose task id is not the row's
  ``celery_task_id`` (a stale message; the runner ignores it on delivery).
* A processing row whose message is back in its waiting list (a worker child was killed and
  ``task_reject_on_worker_lost`` requeued it) is OK and listed under *recovering by redelivery*.

Repair choices:

* LOST and STUCK are re-driven through :func:`docflow.ops.submit.redrive_document` (a new task id,
  recorded as ``redriven`` in ``stage_runs``; commit-then-publish), at most ``max_repairs`` per run.
  The rows are re-read (one query) just before re-driving; a document that moved on since the
  snapshot is skipped (its status or task id no longer matches what was classified).
* ORPHAN messages **waiting** in a list are removed with ``LREM key 1 <exact raw item>`` — they can
  only ever be no-ops, and leaving them makes queue lengths lie. The document is re-read first and
  the message is kept if the document is no longer terminal/unknown (a re-drive raced us).
  ORPHAN messages in the **unacked** hash are never touched: they belong to a live (or pending
  restore) delivery, and removing them behind kombu's back corrupts its bookkeeping. They are
  reported only; delivery makes them no-ops.
* DUPLICATE and MISMATCH are reported only: every stage is idempotent and stale task ids are
  no-ops, so acting on them has no benefit and some risk.

With a project filter, messages for documents of other projects are ignored, and messages for
unknown documents (which belong to no project) are only reported by unfiltered runs.

Counts are always exact; LOST findings are *listed* up to ``lost_limit`` (the first by document id,
at least ``max_repairs``), the rest counted as unlisted: a wiped Redis leaves hundreds of thousands,
which no operator reads one by one and which cost more to build than all the rest of reconcile.
Repair re-drives from the listed ones; the unlisted wait for the next run.
"""

from __future__ import annotations

import time

from docflow.core.settings import Settings
from docflow.ops.metrics import record_reconcile
from docflow.ops.reconcile.classify import Classification, Finding, Kind, StageCounts, classify
from docflow.ops.reconcile.messages import HeldTask, Message, decode_envelope, inspect_workers, read_broker
from docflow.ops.reconcile.repair import Action, repair
from docflow.ops.reconcile.report import ReconcileReport, build_report
from docflow.ops.reconcile.snapshot import LOST_LISTED, DocumentState, QuietRows, Snapshot, gather, read_rows


def run_reconcile(
    settings: Settings,
    *,
    grace_period_s: float = 120.0,
    stuck_threshold_s: float = 300.0,
    project_id: str | None = None,
    repair_problems: bool = False,
    max_repairs: int = 100,
    inspect_timeout_s: float = 1.5,
) -> ReconcileReport:
    """Gather, classify and (optionally) repair in one call: what ``docflow reconcile`` runs.

    The ``reconcile`` flow runs the same three steps as Prefect tasks.
    """
    snapshot = gather(
        settings,
        project_id=project_id,
        inspect_timeout_s=inspect_timeout_s,
        grace_period_s=grace_period_s,
        lost_limit=lost_limit(max_repairs),
    )
    began = time.monotonic()
    classification = classify(snapshot, grace_period_s=grace_period_s, stuck_threshold_s=stuck_threshold_s)
    snapshot.timings["classify_s"] = time.monotonic() - began
    actions = repair(snapshot, classification, settings=settings, max_repairs=max_repairs) if repair_problems else []
    report = build_report(
        snapshot,
        classification,
        parameters=parameters(
            grace_period_s=grace_period_s,
            stuck_threshold_s=stuck_threshold_s,
            project_id=project_id,
            repair=repair_problems,
            max_repairs=max_repairs,
            inspect_timeout_s=inspect_timeout_s,
        ),
        actions=actions,
    )
    if project_id is None:  # the whole pipeline's findings: what the metrics report
        record_reconcile(settings, report.counts)
    return report


def lost_limit(max_repairs: int) -> int:
    """How many LOST findings a run lists: enough for every re-drive it may make."""
    return max(LOST_LISTED, max_repairs)


def parameters(
    *,
    grace_period_s: float,
    stuck_threshold_s: float,
    project_id: str | None,
    repair: bool,
    max_repairs: int,
    inspect_timeout_s: float,
) -> dict[str, object]:
    """The parameters a report records (the same keys from the CLI and the flow)."""
    return {
        "grace_period_s": grace_period_s,
        "stuck_threshold_s": stuck_threshold_s,
        "project_id": project_id,
        "repair": repair,
        "max_repairs": max_repairs,
        "inspect_timeout_s": inspect_timeout_s,
    }


__all__ = [
    "Action",
    "Classification",
    "DocumentState",
    "Finding",
    "HeldTask",
    "Kind",
    "LOST_LISTED",
    "Message",
    "QuietRows",
    "ReconcileReport",
    "Snapshot",
    "StageCounts",
    "build_report",
    "classify",
    "decode_envelope",
    "gather",
    "inspect_workers",
    "lost_limit",
    "parameters",
    "read_broker",
    "read_rows",
    "repair",
    "run_reconcile",
]
