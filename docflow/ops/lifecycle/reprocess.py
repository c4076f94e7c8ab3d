"""Reprocess documents from a chosen stage, through the same stage tasks and guarantees.

A reprocessed document goes back to the entry of the stage it restarts from under a new task id
(compare-and-set on the status it was seen in), its restart is logged in ``stage_runs`` (outcome
``reprocessed``, who asked and why), and the stage's message is published after the commit. From
there it is ordinary in-flight work: reconcile sees it like any other, a message for its old task
id is a no-op, and each stage replaces its previous result.

Refused, each with its reason: a document in flight (unless forced — its current delivery's work
is then dropped, never written), a start stage whose input does not exist (reprocessing the
entity stage needs a text result), and a document that was never stored.

**An archive's members come along.** Reprocessing a ZIP's document reprocesses the documents its
files became (and theirs) from the same stage, each under the same rules; the archive's own re-run
finds them registered and does not submit them a second time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Row

from docflow.core import documents
from docflow.core.broker import new_task_id, publish_many
from docflow.core.db import session_scope
from docflow.core.errors import IllegalTransition, TransientError
from docflow.core.settings import Settings
from docflow.core.status import ENTRY, PROCESSING, Stage, Status
from docflow.ops.lifecycle.selection import Selection, members_of, select_documents

IN_FLIGHT = frozenset({*ENTRY.values(), *PROCESSING.values()})


@dataclass
class ReprocessOutcome:
    document_id: int | None
    document_uuid: str | None
    name: str
    status_before: str | None
    action: str  # queued | would queue | refused | missing
    reason: str | None = None
    task_id: str | None = None


@dataclass
class ReprocessReport:
    selection: str
    from_stage: str
    force: bool
    dry_run: bool
    requested_by: str
    outcomes: list[ReprocessOutcome] = field(default_factory=list)
    publish_error: str | None = None

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for outcome in self.outcomes:
            counts[outcome.action] += 1
        return dict(counts)

    @property
    def queued_ids(self) -> list[int]:
        return [o.document_id for o in self.outcomes if o.action == "queued" and o.document_id is not None]

    def to_dict(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in asdict(self).items() if k != "outcomes"},
            "counts": self.counts(),
            "documents": [asdict(o) for o in self.outcomes],
        }

    def table(self) -> list[dict[str, Any]]:
        return [
            {
                "document_id": o.document_id,
                "name": o.name,
                "status_before": o.status_before or "",
                "action": o.action,
                "reason": o.reason or "",
                "task_id": o.task_id or "",
            }
            for o in self.outcomes
        ]

    def markdown(self) -> str:
        counts = ", ".join(f"{action}: {n}" for action, n in sorted(self.counts().items())) or "nothing selected"
        mode = " (dry run: nothing changed)" if self.dry_run else ""
        lines = [
            f"# Reprocess from `{self.from_stage}`{mode}",
            "",
            f"Selection: {self.selection}. Requested by {self.requested_by}"
            f"{', forced' if self.force else ''}. **{counts}**.",
            "",
        ]
        if self.publish_error:
            lines += [f"Publishing failed ({self.publish_error}): the rows say queued, reconcile re-drives them.", ""]
        if self.outcomes:
            lines += ["| document | name | was | action | reason |", "|---:|---|---|---|---|"]
            for o in self.outcomes[:500]:
                name = o.name.replace("|", "\\|")
                lines.append(
                    f"| {o.document_id or '—'} | {name} | {o.status_before or '—'} | {o.action} | "
                    f"{(o.reason or '').replace('|', '/')} |"
                )
        return "\n".join(lines) + "\n"


def refusal(row: Row[Any], stage: Stage, *, force: bool) -> str | None:
    """Why ``row`` cannot be reprocessed from ``stage`` now, or None when it can."""
    status = Status(row.celery_status)
    if not row.object_key:
        return "the document has no stored original"
    if status is Status.PENDING and stage is not Stage.OCR:
        return "never processed: it can only start from ocr"
    if status in IN_FLIGHT and not force:
        return f"in flight ({status.value}): wait for it to finish, or force it (its current work is dropped)"
    order = list(Stage)
    previous = order[order.index(stage) - 1] if stage is not Stage.OCR else None
    if previous is not None and getattr(row, f"{previous.value}_completed_at") is None:
        return f"no {previous.value} result to start from: reprocess from {previous.value} or earlier"
    return None


def reprocess(
    selection: Selection,
    *,
    from_stage: Stage,
    settings: Settings,
    requested_by: str,
    reason: str = "",
    force: bool = False,
    dry_run: bool = False,
) -> ReprocessReport:
    """Restart every selected document at ``from_stage`` (see the module docstring for the rules)."""
    selected = select_documents(selection, settings)
    report = ReprocessReport(selection.describe(), from_stage.value, force, dry_run, requested_by)
    report.outcomes += [
        ReprocessOutcome(None, None, ref, None, "missing", "no such document") for ref in selected.missing
    ]
    why = f"reprocess from {from_stage.value} requested by {requested_by}" + (f": {reason}" if reason else "")
    task_ids: dict[int, str] = {}
    selected_ids = {row.id for row in selected.rows}
    members = [row for row in members_of(selected_ids) if row.id not in selected_ids]
    for row in [*selected.rows, *members]:
        outcome = ReprocessOutcome(row.id, str(row.document_uuid), row.original_file_name, row.celery_status, "refused")
        report.outcomes.append(outcome)
        if (refused := refusal(row, from_stage, force=force)) is not None:
            outcome.reason = refused
            continue
        if dry_run:
            outcome.action = "would queue"
            continue
        task_id = new_task_id()
        try:
            with session_scope() as session:
                # The decision is taken again on the row as it is now, under its lock: a stage may
                # have moved it since it was selected (a forced run never loses that race, and an
                # unforced one is refused for the status it has now, not the one it had).
                locked = documents.lock_document(session, document_id=row.id)
                if locked is None:
                    outcome.reason = "deleted meanwhile"
                    continue
                outcome.status_before = locked.celery_status
                if (refused := refusal(locked, from_stage, force=force)) is not None:
                    outcome.reason = refused
                    continue
                documents.restart(
                    session, document=locked, stage=from_stage, task_id=task_id, reason=why, outcome="reprocessed"
                )
        except IllegalTransition as exc:
            outcome.reason = str(exc)
            continue
        outcome.action, outcome.task_id = "queued", task_id
        task_ids[row.id] = task_id
    try:
        publish_many(stage=from_stage, task_ids=task_ids, settings=settings)
    except TransientError as exc:
        report.publish_error = str(exc)
    return report
