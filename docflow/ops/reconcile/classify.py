"""Classifying a reconcile snapshot: pure, no I/O (rules in :mod:`docflow.ops.reconcile`)."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from docflow.core.status import Status
from docflow.ops.reconcile.messages import HeldTask, Message, gc_paused
from docflow.ops.reconcile.snapshot import PROCESSING_STATUSES, STAGE_BY_STATUS, TERMINAL, DocumentState, Snapshot


class Kind(StrEnum):
    OK = "OK"
    LOST = "LOST"
    STUCK = "STUCK"
    ORPHAN = "ORPHAN"
    DUPLICATE = "DUPLICATE"
    MISMATCH = "MISMATCH"


@dataclass(slots=True)
class Finding:
    kind: str
    document_id: int | None
    document_uuid: str | None
    project_id: str | None
    stage: str | None
    status: str | None
    task_id: str | None  # the row's task id (or the message's, for ORPHANs)
    detail: str
    age_s: float | None = None
    message_task_ids: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()  # where the copies were: waiting:<list>, unacked:<tag>, worker:<host>
    worker: str | None = None


@dataclass
class StageCounts:
    stage: str
    queue: str
    rows_waiting: int = 0
    rows_processing: int = 0
    messages_waiting: int = 0  # decoded messages for this stage, in scope
    messages_unacked: int = 0
    held_by_workers: int = 0
    queue_length: int = 0  # every item in the queue's lists (any project, undecodable included)

    @property
    def balanced(self) -> bool:
        """Rows waiting/processing vs messages waiting/unacked (prefetched messages are unacked)."""
        return self.rows_waiting + self.rows_processing == self.messages_waiting + self.messages_unacked


@dataclass
class Classification:
    findings: list[Finding]  # every finding, but LOST ones only up to the snapshot's listing limit
    recovering: list[Finding]
    stages: list[StageCounts]
    ok: int
    in_flight: int
    undecodable: list[dict]
    foreign_messages: int  # decoded, but not a docflow stage task
    counts: dict[str, int]  # findings by kind, every kind but OK, exact (listed or not)
    unlisted: dict[str, int]  # findings by kind counted but not in ``findings``


# An enum member's ``.value`` is a descriptor call: 1.3 s of 7 s for 200,000 rows, profiled.
_LOST, _ORPHAN = Kind.LOST.value, Kind.ORPHAN.value


def location_of(message: Message) -> str:
    return f"{message.location}:{message.key}"


def classify(snapshot: Snapshot, *, grace_period_s: float, stuck_threshold_s: float) -> Classification:
    """Pure: classify every in-flight row and every message of the snapshot (rules in the module docstring).

    The quiet rows of a snapshot gathered with a grace period come classified by PostgreSQL
    (:class:`~docflow.ops.reconcile.snapshot.QuietRows`): they are counted, and their LOST rows
    listed up to its limit; the LOST findings are then the first ``limit`` by document id.
    """
    quiet = snapshot.quiet
    if quiet is not None and quiet.grace_period_s != grace_period_s:
        # Its LOST count was taken with another grace period: the answer would be silently wrong.
        raise ValueError(
            f"snapshot's quiet rows were classified with a grace period of {quiet.grace_period_s}s, "
            f"not {grace_period_s}s: gather with the grace period you classify with"
        )
    with gc_paused():  # up to a million findings: see gc_paused
        return _classify(snapshot, grace_period_s=grace_period_s, stuck_threshold_s=stuck_threshold_s)


def _classify(snapshot: Snapshot, *, grace_period_s: float, stuck_threshold_s: float) -> Classification:
    by_doc: dict[int, list[Message]] = defaultdict(list)
    held_by_doc: dict[int, list[HeldTask]] = defaultdict(list)
    undecodable: list[dict] = []
    foreign = 0
    for message in snapshot.messages:
        if message.error is not None or message.document_id is None:
            if message.error is None and message.stage is None:
                foreign += 1
                continue
            undecodable.append(
                {
                    "location": message.location,
                    "key": message.key,
                    "queue": message.queue,
                    "task_name": message.task_name,
                    "error": message.error or "no document id",
                }
            )
        elif message.stage is None:
            foreign += 1
        else:
            by_doc[message.document_id].append(message)
    for task in snapshot.held:
        if task.document_id is not None and task.stage is not None:
            held_by_doc[task.document_id].append(task)

    stages = {stage: StageCounts(stage, queue) for stage, queue in snapshot.settings_queues.items()}
    for queue_name, length in snapshot.raw_queue_lengths.items():
        for stage_counts in stages.values():
            if stage_counts.queue == queue_name:
                stage_counts.queue_length = length

    findings: list[Finding] = []
    recovering: list[Finding] = []
    ok = 0
    quiet = snapshot.quiet
    rows_by_id = {row.id: row for row in snapshot.rows}
    per_status = Counter(row.status for row in snapshot.rows)
    if quiet is not None:
        per_status.update(quiet.by_status)
        ok += quiet.total - quiet.lost
        findings.extend(_lost(row) for row in quiet.listed)
    for status, n in per_status.items():
        at_stage = stages.get(STAGE_BY_STATUS[status])
        if at_stage is not None:
            if status in PROCESSING_STATUSES:
                at_stage.rows_processing += n
            else:
                at_stage.rows_waiting += n
    for row in snapshot.rows:
        messages, held = by_doc.get(row.id), held_by_doc.get(row.id)
        if messages is None and held is None:
            # Nothing anywhere for this row (the rule PostgreSQL applies to quiet rows).
            if row.age_s > 0 and row.age_s >= grace_period_s:
                findings.append(_lost(row))
            else:
                ok += 1
            continue
        if held is None and messages is not None and len(messages) == 1 and _waiting_as_it_should(row, messages[0]):
            ok += 1
            continue
        row_findings, note = _classify_row(
            row,
            messages or [],
            held or [],
            grace_period_s=grace_period_s,
            stuck_threshold_s=stuck_threshold_s,
            workers_answered=bool(snapshot.workers),
        )
        findings.extend(row_findings)
        if note is not None:
            recovering.append(note)
        if not row_findings:
            ok += 1

    # Messages for documents that are not in flight: ORPHAN (terminal, pending, unknown).
    for document_id, messages in by_doc.items():
        if document_id in rows_by_id:
            continue
        doc = snapshot.message_docs.get(document_id)
        if doc is None:
            if snapshot.project_id is not None:
                continue  # unknown documents belong to no project: unfiltered runs report them
        elif snapshot.project_id is not None and doc.project_id != snapshot.project_id:
            continue
        elif doc.status not in TERMINAL and doc.status != Status.PENDING.value:
            continue  # in flight but changed during the snapshot (not in the rows): in motion
        elif doc.age_s < grace_period_s:
            continue  # became terminal while we looked (or just now): its message may be the live one
        for message in messages:
            what = "unknown document" if doc is None else f"document is {doc.status}"
            action = "waiting (removable)" if message.location == "waiting" else "unacked (reported only)"
            findings.append(
                Finding(
                    _ORPHAN,
                    document_id,
                    doc.uuid if doc else None,
                    doc.project_id if doc else None,
                    message.stage,
                    doc.status if doc else None,
                    message.task_id,
                    f"{message.task_name} message for a {what}; {action}",
                    age_s=round(doc.age_s, 1) if doc else None,
                    message_task_ids=(message.task_id or "",),
                    locations=(location_of(message),),
                )
            )

    # Per-stage message counts, in scope (messages for the filtered project's documents or, unfiltered, all).
    for document_id, messages in by_doc.items():
        doc = rows_by_id.get(document_id) or snapshot.message_docs.get(document_id)
        if snapshot.project_id is not None and (doc is None or doc.project_id != snapshot.project_id):
            continue
        for message in messages:
            for_stage = stages.get(message.stage or "")
            if for_stage is None:
                continue
            if message.location == "waiting":
                for_stage.messages_waiting += 1
            else:
                for_stage.messages_unacked += 1
    for document_id, tasks in held_by_doc.items():
        doc = rows_by_id.get(document_id) or snapshot.message_docs.get(document_id)
        if snapshot.project_id is not None and (doc is None or doc.project_id != snapshot.project_id):
            continue
        for task in tasks:
            if task.stage in stages:
                stages[task.stage].held_by_workers += 1

    order = {kind.value: position for position, kind in enumerate(Kind)}
    findings.sort(key=lambda f: (order[f.kind], f.document_id or 0))
    counts = {kind.value: 0 for kind in Kind if kind is not Kind.OK}
    for found in findings:
        counts[found.kind] += 1
    unlisted = dict.fromkeys(counts, 0)
    if quiet is not None:
        counts[_LOST] += quiet.lost - len(quiet.listed)
        # The first ``limit`` LOST by document id: the quiet ones PostgreSQL listed are the first of
        # theirs, so cutting the merged, sorted list there keeps that true of all of them.
        listed_lost = [f for f in findings if f.kind == _LOST][: quiet.limit]
        unlisted[_LOST] = counts[_LOST] - len(listed_lost)
        if unlisted[_LOST]:  # LOST sorts first: the list stays in order
            findings = listed_lost + [f for f in findings if f.kind != _LOST]
    return Classification(
        findings,
        recovering,
        list(stages.values()),
        ok,
        snapshot.in_flight,
        undecodable,
        foreign,
        counts,
        unlisted,
    )


def _waiting_as_it_should(row: DocumentState, message: Message) -> bool:
    """The common case at scale, kept cheap: a queued row's one message, its own, waiting.

    What :func:`_classify_row` concludes for it (one copy, no stale task id, not processing: OK),
    without building its lists."""
    return (
        message.location == "waiting"
        and (row.task_id is None or message.task_id == row.task_id)
        and row.status not in PROCESSING_STATUSES
        and message.stage == STAGE_BY_STATUS[row.status]
    )


def _classify_row(
    row: DocumentState,
    messages: list[Message],
    held: list[HeldTask],
    *,
    grace_period_s: float,
    stuck_threshold_s: float,
    workers_answered: bool,
) -> tuple[list[Finding], Finding | None]:
    """Findings for one in-flight row, and a recovery note when its message is being redelivered."""
    stage = row.stage
    if row.age_s <= 0:
        return [], None  # changed while we looked: in motion, judged next run

    def matches(task_id: str | None) -> bool:
        return row.task_id is None or task_id == row.task_id

    def finding(kind: Kind, detail: str, copies: Iterable[Message] = (), tasks: Iterable[HeldTask] = ()) -> Finding:
        copies, tasks = list(copies), list(tasks)
        ids = tuple(sorted({m.task_id or "" for m in copies} | {t.task_id or "" for t in tasks}))
        where = tuple(location_of(m) for m in copies) + tuple(f"worker:{t.worker}({t.state})" for t in tasks)
        return Finding(
            kind.value,
            row.id,
            row.uuid,
            row.project_id,
            stage,
            row.status,
            row.task_id,
            detail,
            round(row.age_s, 1),
            ids,
            where,
            row.worker,
        )

    for_stage = [m for m in messages if m.stage == stage]
    held_for_stage = [t for t in held if t.stage == stage]
    mine = [m for m in for_stage if matches(m.task_id)]
    waiting = [m for m in mine if m.location == "waiting"]
    unacked = [m for m in mine if m.location == "unacked"]
    holding = [t for t in held_for_stage if matches(t.task_id)]
    findings: list[Finding] = []
    still = row.age_s >= grace_period_s

    if still:
        stale = [m for m in messages if not matches(m.task_id)]
        stale_held = [t for t in held if not matches(t.task_id)]
        if stale or stale_held:
            findings.append(
                finding(
                    Kind.MISMATCH,
                    f"row names task {row.task_id}; "
                    f"{len(stale) + len(stale_held)} message(s) carry another task id (stale: no-op "
                    "on delivery)",
                    stale,
                    stale_held,
                )
            )
        # Live copies per task id: Redis copies, or 1 when only a worker's memory has it.
        copies = Counter(m.task_id for m in for_stage)
        for task in held_for_stage:
            copies[task.task_id] = max(copies[task.task_id], 1)
        if sum(copies.values()) > 1:
            findings.append(
                finding(
                    Kind.DUPLICATE,
                    f"{sum(copies.values())} live messages for stage {stage}",
                    for_stage,
                    [t for t in held_for_stage if t.task_id not in {m.task_id for m in for_stage}],
                )
            )

    if holding:
        return findings, None
    processing = row.status in PROCESSING_STATUSES
    if waiting:
        note = None
        if processing:
            note = finding(
                Kind.OK,
                f"{row.status} with its message back in queue {waiting[0].queue}: recovering by redelivery",
                waiting,
            )
        return findings, note
    if unacked:
        if row.age_s >= stuck_threshold_s:
            gone = f"worker {row.worker} no longer holds it" if row.worker else "no responding worker holds it"
            if not workers_answered:
                gone = "no worker answered inspect (cannot tell stuck from busy)"
            findings.append(
                finding(
                    Kind.STUCK,
                    f"{row.status} for {row.age_s:.0f}s; delivered "
                    f"{_ago(unacked[0].delivered_at)} and {gone}; Redis only redelivers it after "
                    "the visibility timeout",
                    unacked,
                )
            )
        return findings, None
    if still:
        findings.append(_lost(row))
    return findings, None


def _lost(row: DocumentState) -> Finding:
    return Finding(
        _LOST,
        row.id,
        row.uuid,
        row.project_id,
        STAGE_BY_STATUS[row.status],
        row.status,
        row.task_id,
        f"{row.status} for {row.age_s:.0f}s and no message for task {row.task_id} anywhere (queue, unacked, workers)",
        round(row.age_s, 1),
        (),
        (),
        row.worker,
    )


def _ago(epoch: float | None) -> str:
    if epoch is None:
        return "at an unknown time"
    return f"{max(time.time() - epoch, 0):.0f}s ago"
