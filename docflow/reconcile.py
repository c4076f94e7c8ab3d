"""Reconciliation: status rows (the truth) against Redis (the transport) and the live workers.

Three views are gathered, each in bulk, never one round trip per document:

1. **Redis**, in one ``MULTI``/``EXEC`` pipeline (an atomic snapshot): every waiting message of
   each stage queue's lists (priority siblings included), the ``unacked`` hash (delivered, not yet
   acknowledged: ``tag -> [message, exchange, routing_key]``) and the ``unacked_index`` delivery
   times. Every message is decoded to (task id, task name, document id); a message that does not
   decode is reported, never fatal.
2. **Workers**, via ``inspect active/reserved/scheduled`` with a timeout, run in a thread while
   Redis is read. When no worker answers, the report says so.
3. **PostgreSQL**, *last*, in one set-based query for the in-flight rows (optionally one project)
   and one for the documents the messages name. Reading the rows last is what makes the three
   snapshots consistent: any row that changed after the Redis snapshot began has an ``updated_at``
   newer than that moment (its "age at snapshot" is <= 0) and is treated as *in motion* (OK) —
   a message consumed or published while we looked can never turn into a false LOST or STUCK.

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

* LOST and STUCK are re-driven through :func:`docflow.submit.redrive_document` (a new task id,
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
"""

from __future__ import annotations

import ast
import base64
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, NamedTuple

from docflow.queues import UNACKED_HASH, UNACKED_INDEX, queue_keys
from docflow.settings import Settings
from docflow.status import ENTRY, PROCESSING, TERMINAL_STATUSES, Status, stage_of
from docflow.submit import TASK_NAMES

STAGE_BY_TASK = {name: stage.value for stage, name in TASK_NAMES.items()}
PROCESSING_STATUSES = frozenset(status.value for status in PROCESSING.values())
ENTRY_STATUSES = frozenset(status.value for status in ENTRY.values())
IN_FLIGHT = tuple(sorted(ENTRY_STATUSES | PROCESSING_STATUSES))
TERMINAL = frozenset(status.value for status in TERMINAL_STATUSES)
STAGE_BY_STATUS = {status: stage_of(status).value for status in IN_FLIGHT}


class Kind(StrEnum):
    OK = "OK"
    LOST = "LOST"
    STUCK = "STUCK"
    ORPHAN = "ORPHAN"
    DUPLICATE = "DUPLICATE"
    MISMATCH = "MISMATCH"


# -- the gathered views ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One broker message, decoded. ``raw`` is the exact list item (kept for LREM, never reported)."""

    location: str  # "waiting" | "unacked"
    key: str  # the Redis list, or the unacked delivery tag
    queue: str | None
    task_id: str | None = None
    task_name: str | None = None
    document_id: int | None = None
    delivered_at: float | None = None  # unacked_index score (epoch seconds)
    error: str | None = None  # why it could not be decoded
    raw: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def stage(self) -> str | None:
        return STAGE_BY_TASK.get(self.task_name or "")


@dataclass(frozen=True)
class HeldTask:
    """A task a live worker holds (``inspect``): running, reserved (prefetched) or scheduled (ETA)."""

    worker: str
    state: str  # "active" | "reserved" | "scheduled"
    task_id: str | None
    task_name: str | None
    document_id: int | None

    @property
    def stage(self) -> str | None:
        return STAGE_BY_TASK.get(self.task_name or "")


class Row(NamedTuple):
    """An in-flight status row. ``age_s`` is its age when the Redis snapshot began.

    A NamedTuple, not a dataclass: 100,000 of them are built per run."""

    id: int
    uuid: str
    project_id: str
    status: str
    task_id: str | None
    age_s: float
    worker: str | None = None  # host of the stage run of ``task_id`` (processing rows)

    @property
    def stage(self) -> str:
        return STAGE_BY_STATUS[self.status]


class DocInfo(NamedTuple):
    """A document a message names that is not among the in-flight rows."""

    id: int
    uuid: str
    project_id: str
    status: str
    task_id: str | None
    age_s: float


@dataclass
class Snapshot:
    settings_queues: dict[str, str]  # stage -> queue
    messages: list[Message]
    held: list[HeldTask]
    workers: list[str]  # hostnames that answered inspect
    inspect_error: str | None
    rows: list[Row]
    message_docs: dict[int, DocInfo]
    project_id: str | None
    raw_queue_lengths: dict[str, int]  # queue -> waiting items (decodable or not)
    timings: dict[str, float] = field(default_factory=dict)


# -- decoding ----------------------------------------------------------------------------------------


def decode_envelope(envelope: dict) -> tuple[str | None, str | None, int | None]:
    """(task id, task name, document id) of a kombu envelope carrying a Celery task (protocol 1 or 2)."""
    headers = envelope.get("headers") or {}
    properties = envelope.get("properties") or {}
    body = envelope.get("body")
    if properties.get("body_encoding") == "base64" and isinstance(body, str):
        body = base64.b64decode(body)
    payload = json.loads(body) if isinstance(body, (str, bytes, bytearray)) else body
    if isinstance(payload, list):  # protocol 2: [args, kwargs, embed]; id and name in the headers
        args = payload[0] if payload else []
        task_id, task_name = headers.get("id"), headers.get("task")
    elif isinstance(payload, dict):  # protocol 1: everything in the body
        args = payload.get("args") or []
        task_id, task_name = payload.get("id", headers.get("id")), payload.get("task", headers.get("task"))
    else:
        raise ValueError(f"unexpected body type {type(payload).__name__}")
    document_id = _document_id(args)
    return task_id, task_name, document_id


def _document_id(args: Any) -> int | None:
    if isinstance(args, str):  # older workers report args as a repr
        try:
            args = ast.literal_eval(args)
        except (ValueError, SyntaxError):
            return None
    if isinstance(args, (list, tuple)) and args:
        try:
            return int(args[0])
        except (TypeError, ValueError):
            return None
    return None


def decode_waiting(raw: bytes, *, key: str, queue: str) -> Message:
    try:
        task_id, task_name, document_id = decode_envelope(json.loads(raw))
        return Message("waiting", key, queue, task_id, task_name, document_id, raw=raw)
    except Exception as exc:  # noqa: BLE001 - an undecodable message is reported, never fatal
        return Message("waiting", key, queue, error=f"{type(exc).__name__}: {exc}"[:200], raw=raw)


def decode_unacked(tag: str, raw: bytes, *, delivered_at: float | None) -> Message:
    try:
        envelope, _exchange, routing_key = json.loads(raw)
        task_id, task_name, document_id = decode_envelope(envelope)
        return Message("unacked", tag, routing_key, task_id, task_name, document_id, delivered_at)
    except Exception as exc:  # noqa: BLE001
        return Message("unacked", tag, None, delivered_at=delivered_at, error=f"{type(exc).__name__}: {exc}"[:200])


# -- gathering -----------------------------------------------------------------------------------------


def read_broker(client, *, queues: dict[str, str]) -> tuple[list[Message], dict[str, int]]:
    """Every waiting and unacked message, decoded, from one atomic pipeline (MULTI/EXEC)."""
    pipe = client.pipeline(transaction=True)
    keys: list[tuple[str, str]] = []
    for queue in queues.values():
        for key in queue_keys(queue):
            keys.append((queue, key))
            pipe.lrange(key, 0, -1)
    pipe.hgetall(UNACKED_HASH)
    pipe.zrange(UNACKED_INDEX, 0, -1, withscores=True)
    results = pipe.execute()
    messages: list[Message] = []
    lengths: dict[str, int] = dict.fromkeys(queues.values(), 0)
    for (queue, key), items in zip(keys, results[: len(keys)]):
        lengths[queue] += len(items)
        messages.extend(decode_waiting(item, key=key, queue=queue) for item in items)
    unacked, index = results[len(keys)], results[len(keys) + 1]
    delivered = {_text(tag): score for tag, score in index}
    for tag, raw in unacked.items():
        tag = _text(tag)
        messages.append(decode_unacked(tag, raw, delivered_at=delivered.get(tag)))
    return messages, lengths


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def inspect_workers(*, timeout_s: float, app=None) -> tuple[list[str], list[HeldTask], str | None]:
    """(responding workers, tasks they hold, error). Costs about ``timeout_s``: the first call
    waits for every worker; the next two go only to the workers that answered and return as
    soon as all of them have."""
    if app is None:
        from tasks.celery_app import app
    try:
        active = app.control.inspect(timeout=timeout_s).active() or {}
        workers = sorted(active)
        if not workers:
            return [], [], "no worker answered inspect within %.1fs" % timeout_s
        targeted = app.control.inspect(timeout=timeout_s, destination=workers)
        reserved = targeted.reserved() or {}
        scheduled = targeted.scheduled() or {}
    except Exception as exc:  # noqa: BLE001 - an unreachable broker is reported, not raised
        return [], [], f"inspect failed: {type(exc).__name__}: {exc}"
    held = []
    for state, replies in (("active", active), ("reserved", reserved), ("scheduled", scheduled)):
        for worker, tasks in replies.items():
            for task in tasks or []:
                request = task.get("request", task) if state == "scheduled" else task
                held.append(HeldTask(worker, state, request.get("id"), request.get("name") or request.get("type"),
                                     _document_id(request.get("args"))))
    return workers, held, None


_ROWS_SQL = """
SELECT d.id, d.document_uuid::text, d.project_id, d.celery_status, d.celery_task_id,
       EXTRACT(EPOCH FROM clock_timestamp() - d.updated_at)::float8 AS age_s, r.worker_hostname
FROM source_documents d
LEFT JOIN LATERAL (
    SELECT s.worker_hostname FROM stage_runs s
    WHERE d.celery_status = ANY(%(processing)s) AND s.celery_task_id = d.celery_task_id
    ORDER BY s.attempt DESC LIMIT 1
) r ON true
WHERE d.celery_status = ANY(%(in_flight)s) AND (%(project)s::text IS NULL OR d.project_id = %(project)s::text)
"""

_DOCS_SQL = """
SELECT id, document_uuid::text, project_id, celery_status, celery_task_id,
       EXTRACT(EPOCH FROM clock_timestamp() - updated_at)::float8
FROM source_documents WHERE id = ANY(%(ids)s)
"""


def read_rows(*, project_id: str | None, message_ids: Iterable[int], elapsed_s: float,
              engine=None) -> tuple[list[Row], dict[int, DocInfo]]:
    """The in-flight rows and the documents the messages name: two set-based queries.

    Ages are shifted by ``elapsed_s`` (time since the broker snapshot began) so that they read
    "age at snapshot": negative means the row changed while we were looking.
    """
    if engine is None:
        from docflow.db import get_engine

        engine = get_engine()
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()
        cursor.execute(_ROWS_SQL, {"processing": sorted(PROCESSING_STATUSES), "in_flight": list(IN_FLIGHT),
                                   "project": project_id})
        rows = [Row(i, u, p, s, t, a - elapsed_s, w) for i, u, p, s, t, a, w in cursor.fetchall()]
        known = {row.id for row in rows}
        wanted = sorted(set(message_ids) - known)
        docs: dict[int, DocInfo] = {}
        if wanted:
            cursor.execute(_DOCS_SQL, {"ids": wanted})
            docs = {i: DocInfo(i, u, p, s, t, a - elapsed_s) for i, u, p, s, t, a in cursor.fetchall()}
        cursor.close()
        connection.rollback()
    return rows, docs


def gather(settings: Settings, *, project_id: str | None = None, inspect_timeout_s: float = 1.5,
           client=None, engine=None, app=None, inspect: bool = True) -> Snapshot:
    """Redis snapshot and worker inspection (concurrently), then the rows: see the module docstring."""
    from docflow.queues import redis_client

    client = client or redis_client(settings)
    queues = settings.queues
    timings: dict[str, float] = {}
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        inspection = pool.submit(inspect_workers, timeout_s=inspect_timeout_s, app=app) if inspect else None
        messages, lengths = read_broker(client, queues=queues)
        timings["redis_s"] = time.monotonic() - began
        workers, held, inspect_error = inspection.result() if inspection else ([], [], "inspect skipped")
        timings["inspect_s"] = time.monotonic() - began
    ids = {m.document_id for m in messages if m.document_id is not None}
    ids.update(h.document_id for h in held if h.document_id is not None)
    db_began = time.monotonic()
    rows, docs = read_rows(project_id=project_id, message_ids=ids, elapsed_s=db_began - began, engine=engine)
    timings["db_s"] = time.monotonic() - db_began
    timings["gather_s"] = time.monotonic() - began
    return Snapshot(queues, messages, held, workers, inspect_error, rows, docs, project_id, lengths, timings)


# -- classification --------------------------------------------------------------------------------------


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
    findings: list[Finding]
    recovering: list[Finding]
    stages: list[StageCounts]
    ok: int
    in_flight: int
    undecodable: list[dict]
    foreign_messages: int  # decoded, but not a docflow stage task


def _where(message: Message) -> str:
    return f"{message.location}:{message.key}"


def classify(snapshot: Snapshot, *, grace_period_s: float, stuck_threshold_s: float) -> Classification:
    """Pure: classify every in-flight row and every message of the snapshot (rules in the module docstring)."""
    by_doc: dict[int, list[Message]] = defaultdict(list)
    held_by_doc: dict[int, list[HeldTask]] = defaultdict(list)
    undecodable: list[dict] = []
    foreign = 0
    for message in snapshot.messages:
        if message.error is not None or message.document_id is None:
            if message.error is None and message.stage is None:
                foreign += 1
                continue
            undecodable.append({"location": message.location, "key": message.key, "queue": message.queue,
                                "task_name": message.task_name, "error": message.error or "no document id"})
        elif message.stage is None:
            foreign += 1
        else:
            by_doc[message.document_id].append(message)
    for task in snapshot.held:
        if task.document_id is not None and task.stage is not None:
            held_by_doc[task.document_id].append(task)

    stages = {stage: StageCounts(stage, queue) for stage, queue in snapshot.settings_queues.items()}
    for queue_name, length in snapshot.raw_queue_lengths.items():
        for counts in stages.values():
            if counts.queue == queue_name:
                counts.queue_length = length

    findings: list[Finding] = []
    recovering: list[Finding] = []
    ok = 0
    rows_by_id = {row.id: row for row in snapshot.rows}
    per_status = Counter(row.status for row in snapshot.rows)
    for status, n in per_status.items():
        counts = stages.get(STAGE_BY_STATUS[status])
        if counts is not None:
            if status in PROCESSING_STATUSES:
                counts.rows_processing += n
            else:
                counts.rows_waiting += n
    for row in snapshot.rows:
        if row.id not in by_doc and row.id not in held_by_doc:
            # The common case at scale, kept cheap: nothing anywhere for this row.
            if row.age_s > 0 and row.age_s >= grace_period_s:
                findings.append(_lost(row))
            else:
                ok += 1
            continue
        row_findings, note = _classify_row(row, by_doc.get(row.id, []), held_by_doc.get(row.id, []),
                                           grace_period_s=grace_period_s, stuck_threshold_s=stuck_threshold_s,
                                           workers_answered=bool(snapshot.workers))
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
            findings.append(Finding(
                Kind.ORPHAN.value, document_id, doc.uuid if doc else None, doc.project_id if doc else None,
                message.stage, doc.status if doc else None, message.task_id,
                f"{message.task_name} message for a {what}; {action}",
                age_s=round(doc.age_s, 1) if doc else None, message_task_ids=(message.task_id or "",),
                locations=(_where(message),),
            ))

    # Per-stage message counts, in scope (messages for the filtered project's documents or, unfiltered, all).
    for document_id, messages in by_doc.items():
        doc = rows_by_id.get(document_id) or snapshot.message_docs.get(document_id)
        if snapshot.project_id is not None and (doc is None or doc.project_id != snapshot.project_id):
            continue
        for message in messages:
            counts = stages.get(message.stage or "")
            if counts is None:
                continue
            if message.location == "waiting":
                counts.messages_waiting += 1
            else:
                counts.messages_unacked += 1
    for document_id, tasks in held_by_doc.items():
        doc = rows_by_id.get(document_id) or snapshot.message_docs.get(document_id)
        if snapshot.project_id is not None and (doc is None or doc.project_id != snapshot.project_id):
            continue
        for task in tasks:
            if task.stage in stages:
                stages[task.stage].held_by_workers += 1

    order = {kind.value: position for position, kind in enumerate(Kind)}
    findings.sort(key=lambda f: (order[f.kind], f.document_id or 0))
    return Classification(findings, recovering, list(stages.values()), ok, len(snapshot.rows), undecodable, foreign)


def _classify_row(row: Row, messages: list[Message], held: list[HeldTask], *, grace_period_s: float,
                  stuck_threshold_s: float, workers_answered: bool) -> tuple[list[Finding], Finding | None]:
    """Findings for one in-flight row, and a recovery note when its message is being redelivered."""
    stage = row.stage
    if row.age_s <= 0:
        return [], None  # changed while we looked: in motion, judged next run

    def matches(task_id: str | None) -> bool:
        return row.task_id is None or task_id == row.task_id

    def finding(kind: Kind, detail: str, copies: Iterable[Message] = (), tasks: Iterable[HeldTask] = ()) -> Finding:
        copies, tasks = list(copies), list(tasks)
        ids = tuple(sorted({m.task_id or "" for m in copies} | {t.task_id or "" for t in tasks}))
        where = tuple(_where(m) for m in copies) + tuple(f"worker:{t.worker}({t.state})" for t in tasks)
        return Finding(kind.value, row.id, row.uuid, row.project_id, stage, row.status, row.task_id, detail,
                       round(row.age_s, 1), ids, where, row.worker)

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
            findings.append(finding(Kind.MISMATCH, f"row names task {row.task_id}; "
                                    f"{len(stale) + len(stale_held)} message(s) carry another task id (stale: no-op "
                                    "on delivery)", stale, stale_held))
        # Live copies per task id: Redis copies, or 1 when only a worker's memory has it.
        copies = Counter(m.task_id for m in for_stage)
        for task in held_for_stage:
            copies[task.task_id] = max(copies[task.task_id], 1)
        if sum(copies.values()) > 1:
            findings.append(finding(Kind.DUPLICATE, f"{sum(copies.values())} live messages for stage {stage}",
                                    for_stage, [t for t in held_for_stage if t.task_id not in
                                                {m.task_id for m in for_stage}]))

    if holding:
        return findings, None
    processing = row.status in PROCESSING_STATUSES
    if waiting:
        note = None
        if processing:
            note = finding(Kind.OK, f"{row.status} with its message back in queue {waiting[0].queue}: "
                                    "recovering by redelivery", waiting)
        return findings, note
    if unacked:
        if row.age_s >= stuck_threshold_s:
            gone = f"worker {row.worker} no longer holds it" if row.worker else "no responding worker holds it"
            if not workers_answered:
                gone = "no worker answered inspect (cannot tell stuck from busy)"
            findings.append(finding(Kind.STUCK, f"{row.status} for {row.age_s:.0f}s; delivered "
                                    f"{_ago(unacked[0].delivered_at)} and {gone}; Redis only redelivers it after "
                                    "the visibility timeout", unacked))
        return findings, None
    if still:
        findings.append(_lost(row))
    return findings, None


def _lost(row: Row) -> Finding:
    return Finding(Kind.LOST.value, row.id, row.uuid, row.project_id, STAGE_BY_STATUS[row.status], row.status,
                   row.task_id, f"{row.status} for {row.age_s:.0f}s and no message for task {row.task_id} "
                   "anywhere (queue, unacked, workers)", round(row.age_s, 1), (), (), row.worker)


def _ago(epoch: float | None) -> str:
    if epoch is None:
        return "at an unknown time"
    return f"{max(time.time() - epoch, 0):.0f}s ago"


# -- repair ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    action: str  # "redrive" | "remove_message" | "skip"
    kind: str  # the finding it answers
    document_id: int | None
    ok: bool
    detail: str
    new_task_id: str | None = None


def repair(snapshot: Snapshot, classification: Classification, *, settings: Settings, max_repairs: int,
           client=None, engine=None) -> list[Action]:
    """Re-drive LOST/STUCK documents (at most ``max_repairs``) and remove waiting ORPHAN messages."""
    from docflow.queues import redis_client
    from docflow.submit import redrive_document

    actions: list[Action] = []
    redrives = [f for f in classification.findings if f.kind in (Kind.LOST.value, Kind.STUCK.value)]
    seen: set[int] = set()
    redriven = deferred = 0
    current = _current_rows({f.document_id for f in redrives} | {f.document_id for f in classification.findings
                                                                 if f.kind == Kind.ORPHAN.value and f.document_id},
                            engine=engine)
    for found in redrives:
        if found.document_id in seen:
            continue
        seen.add(found.document_id)
        if found.kind == Kind.STUCK.value and not snapshot.workers:
            actions.append(Action("skip", found.kind, found.document_id, False,
                                  "no worker answered inspect: cannot tell stuck from busy"))
            continue
        if redriven >= max_repairs:
            deferred += 1
            continue
        now = current.get(found.document_id)
        if now is None or now[0] != found.status or now[1] != found.task_id:
            actions.append(Action("skip", found.kind, found.document_id, False,
                                  f"moved on since the snapshot (now {now[0] if now else 'gone'})"))
            continue
        result = redrive_document(document_id=found.document_id, settings=settings, expected_task_id=found.task_id,
                                  reason=f"reconcile: {found.kind}: {found.detail}"[:500])
        redriven += 1
        actions.append(Action("redrive", found.kind, found.document_id, result.success,
                              f"re-driven from {found.status}" if result.success else (result.error or "failed"),
                              result.task_id))
    if deferred:
        actions.append(Action("skip", "LOST/STUCK", None, False,
                              f"max_repairs ({max_repairs}) reached: {deferred} more left for the next run"))

    orphans = [f for f in classification.findings if f.kind == Kind.ORPHAN.value]
    if orphans:
        client = client or redis_client(settings)
        raw_by_location = {_where(m): m for m in snapshot.messages if m.location == "waiting"}
        for found in orphans:
            where = found.locations[0]
            message = raw_by_location.get(where) if where.startswith("waiting:") else None
            if message is None:
                actions.append(Action("skip", found.kind, found.document_id, True,
                                      "unacked: belongs to a delivery; reported only"))
                continue
            now = current.get(found.document_id) if found.document_id is not None else None
            if now is not None and now[0] not in TERMINAL and now[0] != Status.PENDING.value:
                actions.append(Action("skip", found.kind, found.document_id, False,
                                      f"document is {now[0]} now; message kept"))
                continue
            removed = int(client.lrem(message.key, 1, message.raw))
            actions.append(Action("remove_message", found.kind, found.document_id, removed == 1,
                                  f"removed task {message.task_id} from {message.key!r}" if removed
                                  else f"task {message.task_id} was no longer in {message.key!r}"))
    return actions


def _current_rows(ids: set[int | None], *, engine=None) -> dict[int, tuple[str, str | None]]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    if engine is None:
        from docflow.db import get_engine

        engine = get_engine()
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()
        cursor.execute("SELECT id, celery_status, celery_task_id FROM source_documents WHERE id = ANY(%(ids)s)",
                       {"ids": sorted(ids)})
        result = {i: (s, t) for i, s, t in cursor.fetchall()}
        cursor.close()
        connection.rollback()
    return result


# -- the report --------------------------------------------------------------------------------------------


@dataclass
class ReconcileReport:
    generated_at: str
    parameters: dict
    workers: list[str]
    inspect_error: str | None
    in_flight: int
    ok: int
    counts: dict[str, int]
    stages: list[dict]
    findings: list[dict]
    recovering: list[dict]
    undecodable: list[dict]
    foreign_messages: int
    actions: list[dict]
    timings: dict[str, float]

    @property
    def problems(self) -> list[dict]:
        return self.findings

    @property
    def healthy(self) -> bool:
        return not self.findings and not self.undecodable

    def of_kind(self, kind: Kind | str) -> list[dict]:
        return [f for f in self.findings if f["kind"] == str(kind)]

    def to_dict(self) -> dict:
        """Plain JSON types only (the flow's return value and ``docflow reconcile --json``)."""
        # Shallow: the fields already hold plain dicts/lists (asdict would deep-copy 100,000 findings).
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["healthy"] = self.healthy
        return data

    def table_rows(self, *, limit: int = 1000) -> list[dict]:
        """One row per problem (the first ``limit``), for a Prefect table artifact."""
        rows = [{"kind": f["kind"], "document_id": f["document_id"], "document_uuid": f["document_uuid"] or "",
                 "project_id": f["project_id"] or "", "stage": f["stage"] or "", "status": f["status"] or "",
                 "task_id": f["task_id"] or "", "detail": f["detail"]} for f in self.findings]
        rows += [{"kind": "UNDECODABLE", "document_id": None, "document_uuid": "", "project_id": "",
                  "stage": "", "status": "", "task_id": "", "detail": f"{u['location']}:{u['key']}: {u['error']}"}
                 for u in self.undecodable]
        if len(rows) > limit:
            more = len(rows) - limit
            rows = rows[:limit] + [{**dict.fromkeys(rows[0], ""), "kind": "…", "document_id": None,
                                    "detail": f"{more} more problem(s): see the flow's return value or --json"}]
        return rows

    def markdown(self, *, max_listed: int = 200) -> str:
        """Summary, per-stage table, the first ``max_listed`` problems, recoveries and actions."""
        lines = [f"# Reconcile report — {self.generated_at}", ""]
        verdict = "all OK" if self.healthy else f"{len(self.findings)} problem(s)"
        scope = self.parameters.get("project_id") or "all projects"
        lines += [f"**{verdict}** · {self.in_flight} in-flight documents ({self.ok} OK) · scope: {scope} · "
                  f"workers: {', '.join(self.workers) or 'none answered'}"
                  + (f" ({self.inspect_error})" if self.inspect_error else ""), ""]
        counts = ", ".join(f"{kind}: {n}" for kind, n in self.counts.items() if n) or "none"
        lines += [f"Problems by kind: {counts}. Parameters: "
                  + ", ".join(f"`{k}={v}`" for k, v in self.parameters.items()), ""]
        lines += ["## Per stage: PostgreSQL vs Redis vs workers", "",
                  "| stage | queue | rows waiting | rows processing | waiting msgs | unacked msgs | held by workers "
                  "| queue length | balanced |", "|---|---|---:|---:|---:|---:|---:|---:|:---:|"]
        for s in self.stages:
            balanced = "✔" if s["rows_waiting"] + s["rows_processing"] == s["messages_waiting"] + s["messages_unacked"] \
                else "≠"
            lines.append(f"| {s['stage']} | `{s['queue']}` | {s['rows_waiting']} | {s['rows_processing']} | "
                         f"{s['messages_waiting']} | {s['messages_unacked']} | {s['held_by_workers']} | "
                         f"{s['queue_length']} | {balanced} |")
        lines += ["", "## Problems", ""]
        if not self.findings and not self.undecodable:
            lines.append("None.")
        else:
            lines += ["| kind | document | uuid | stage | status | detail |", "|---|---:|---|---|---|---|"]
            for f in self.findings[:max_listed]:
                lines.append(f"| {f['kind']} | {f['document_id'] if f['document_id'] is not None else '—'} | "
                             f"`{f['document_uuid'] or '—'}` | {f['stage'] or '—'} | {f['status'] or '—'} | "
                             f"{_md(f['detail'])} |")
            if len(self.findings) > max_listed:
                lines.append(f"| … | | | | | {len(self.findings) - max_listed} more: see the JSON report |")
            for u in self.undecodable[:max_listed]:
                lines.append(f"| UNDECODABLE | — | — | — | — | {_md(u['location'] + ':' + u['key'] + ': ' + u['error'])} |")
        if self.recovering:
            lines += ["", "## Recovering by redelivery", ""]
            lines += [f"- document {f['document_id']} (`{f['document_uuid']}`): {f['detail']}"
                      for f in self.recovering[:max_listed]]
        lines += ["", "## Actions", ""]
        if not self.actions:
            lines.append("None (report only)." if not self.parameters.get("repair") else "None needed.")
        for a in self.actions:
            mark = "✔" if a["ok"] else "✘"
            task = f" → task `{a['new_task_id']}`" if a.get("new_task_id") else ""
            lines.append(f"- {mark} {a['action']} ({a['kind']}) document {a['document_id']}: {_md(a['detail'])}{task}")
        lines += ["", f"_gather {self.timings.get('gather_s', 0):.2f}s (redis {self.timings.get('redis_s', 0):.2f}s, "
                      f"inspect {self.timings.get('inspect_s', 0):.2f}s, db {self.timings.get('db_s', 0):.2f}s), "
                      f"classify {self.timings.get('classify_s', 0):.2f}s_"]
        return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def build_report(snapshot: Snapshot, classification: Classification, *, parameters: dict,
                 actions: list[Action] | None = None) -> ReconcileReport:
    counts = {kind.value: 0 for kind in Kind if kind is not Kind.OK}
    for found in classification.findings:
        counts[found.kind] += 1
    return ReconcileReport(
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        parameters=parameters,
        workers=snapshot.workers,
        inspect_error=snapshot.inspect_error,
        in_flight=classification.in_flight,
        ok=classification.ok,
        counts=counts,
        stages=[{**asdict(s), "balanced": s.balanced} for s in classification.stages],
        findings=[_finding_dict(f) for f in classification.findings],
        recovering=[_finding_dict(f) for f in classification.recovering],
        undecodable=classification.undecodable,
        foreign_messages=classification.foreign_messages,
        actions=[asdict(a) for a in actions or []],
        timings={k: round(v, 4) for k, v in snapshot.timings.items()},
    )


_FINDING_FIELDS = tuple(Finding.__dataclass_fields__)


def _finding_dict(found: Finding) -> dict:
    # Not dataclasses.asdict: it deep-copies, and there can be 100,000 findings.
    data = {name: getattr(found, name) for name in _FINDING_FIELDS}
    data["message_task_ids"] = list(found.message_task_ids)
    data["locations"] = list(found.locations)
    return data


def reconcile(settings: Settings, *, grace_period_s: float = 120.0, stuck_threshold_s: float = 300.0,
              project_id: str | None = None, repair_problems: bool = False, max_repairs: int = 100,
              inspect_timeout_s: float = 1.5) -> ReconcileReport:
    """Gather, classify and (optionally) repair in one call: what the CLI and the flow run."""
    snapshot = gather(settings, project_id=project_id, inspect_timeout_s=inspect_timeout_s)
    began = time.monotonic()
    classification = classify(snapshot, grace_period_s=grace_period_s, stuck_threshold_s=stuck_threshold_s)
    snapshot.timings["classify_s"] = time.monotonic() - began
    actions = repair(snapshot, classification, settings=settings, max_repairs=max_repairs) if repair_problems else []
    parameters = {"grace_period_s": grace_period_s, "stuck_threshold_s": stuck_threshold_s, "project_id": project_id,
                  "repair": repair_problems, "max_repairs": max_repairs, "inspect_timeout_s": inspect_timeout_s}
    return build_report(snapshot, classification, parameters=parameters, actions=actions)


__all__ = ["Kind", "Message", "HeldTask", "Row", "DocInfo", "Snapshot", "Finding", "StageCounts", "Classification",
           "Action", "ReconcileReport", "decode_envelope", "read_broker", "inspect_workers", "read_rows", "gather",
           "classify", "repair", "build_report", "reconcile"]
