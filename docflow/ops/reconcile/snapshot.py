"""Gathering reconcile's three views — Redis, the live workers, PostgreSQL — consistently.

Redis is read first, with worker inspection running in a thread meanwhile; the rows are read
*last*, in one set-based query for the in-flight rows (optionally one project) and one for the
documents the messages name. Reading the rows last is what makes the snapshots consistent: any row
that changed after the Redis snapshot began has an ``updated_at`` newer than that moment (its "age
at snapshot" is <= 0) and is treated as *in motion*.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import redis
from sqlalchemy import Engine

from docflow.core.broker import redis_client
from docflow.core.db import fetch_all
from docflow.core.settings import Settings
from docflow.core.status import ENTRY, PROCESSING, TERMINAL_STATUSES, stage_of
from docflow.ops.reconcile.messages import HeldTask, Message, gc_paused, inspect_workers, read_broker

PROCESSING_STATUSES = frozenset(status.value for status in PROCESSING.values())
ENTRY_STATUSES = frozenset(status.value for status in ENTRY.values())
IN_FLIGHT = tuple(sorted(ENTRY_STATUSES | PROCESSING_STATUSES))
TERMINAL = frozenset(status.value for status in TERMINAL_STATUSES)
STAGE_BY_STATUS = {status: stage.value for status in IN_FLIGHT if (stage := stage_of(status)) is not None}


class DocumentState(NamedTuple):
    """A document's row as reconcile sees it. ``age_s`` is its age when the Redis snapshot began
    (negative: it changed while we were looking).

    A NamedTuple, not a dataclass: 100,000 of them are built per run."""

    id: int
    uuid: str
    project_id: str
    status: str
    task_id: str | None
    age_s: float
    worker: str | None = None  # host of the stage run of ``task_id`` (processing rows only)

    @property
    def stage(self) -> str:
        """The stage an in-flight document waits for or runs."""
        return STAGE_BY_STATUS[self.status]


@dataclass
class Snapshot:
    settings_queues: dict[str, str]  # stage -> queue
    messages: list[Message]
    held: list[HeldTask]
    workers: list[str]  # hostnames that answered inspect
    inspect_error: str | None
    rows: list[DocumentState]  # the in-flight documents
    message_docs: dict[int, DocumentState]  # documents messages name that are not in flight
    project_id: str | None
    raw_queue_lengths: dict[str, int]  # queue -> waiting items (decodable or not)
    timings: dict[str, float] = field(default_factory=dict)
    worker_queues: dict[str, list[str]] = field(default_factory=dict)  # hostname -> queues it consumes


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


def read_rows(
    *, project_id: str | None, message_ids: Iterable[int], elapsed_s: float, engine: Engine | None = None
) -> tuple[list[DocumentState], dict[int, DocumentState]]:
    """The in-flight rows and the documents the messages name: two set-based queries.

    Ages are shifted by ``elapsed_s`` (time since the broker snapshot began) so that they read
    "age at snapshot": negative means the row changed while we were looking.
    """
    with gc_paused():
        rows = [
            DocumentState(i, u, p, s, t, a - elapsed_s, w)
            for i, u, p, s, t, a, w in fetch_all(
                _ROWS_SQL,
                {"processing": sorted(PROCESSING_STATUSES), "in_flight": list(IN_FLIGHT), "project": project_id},
                engine=engine,
            )
        ]
    wanted = sorted(set(message_ids) - {row.id for row in rows})
    docs = (
        {
            i: DocumentState(i, u, p, s, t, a - elapsed_s)
            for i, u, p, s, t, a in fetch_all(_DOCS_SQL, {"ids": wanted}, engine=engine)
        }
        if wanted
        else {}
    )
    return rows, docs


def gather(
    settings: Settings,
    *,
    project_id: str | None = None,
    inspect_timeout_s: float = 1.5,
    client: redis.Redis | None = None,
    engine: Engine | None = None,
    app: Any = None,
    inspect: bool = True,
) -> Snapshot:
    """Redis snapshot and worker inspection (concurrently), then the rows: see the module docstring."""
    client = client or redis_client(settings)
    queues = settings.queues
    timings: dict[str, float] = {}
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        inspection = pool.submit(inspect_workers, timeout_s=inspect_timeout_s, app=app) if inspect else None
        messages, lengths = read_broker(client, queues=queues)
        timings["redis_s"] = time.monotonic() - began
        workers, held, inspect_error, worker_queues = (
            inspection.result() if inspection else ([], [], "inspect skipped", {})
        )
        timings["inspect_s"] = time.monotonic() - began
    ids = {m.document_id for m in messages if m.document_id is not None}
    ids.update(h.document_id for h in held if h.document_id is not None)
    db_began = time.monotonic()
    rows, docs = read_rows(project_id=project_id, message_ids=ids, elapsed_s=db_began - began, engine=engine)
    timings["db_s"] = time.monotonic() - db_began
    timings["gather_s"] = time.monotonic() - began
    return Snapshot(
        queues, messages, held, workers, inspect_error, rows, docs, project_id, lengths, timings, worker_queues
    )
