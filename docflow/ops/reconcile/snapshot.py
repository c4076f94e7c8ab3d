"""Gathering reconcile's three views — Redis, the live workers, PostgreSQL — consistently.

Redis is read first, with worker inspection running in a thread meanwhile; the rows are read
*last*, in one read-only ``REPEATABLE READ`` transaction (one database snapshot for every
statement). Reading the rows last is what makes the snapshots consistent: any row that changed
after the Redis snapshot began has an ``updated_at`` newer than that moment (its "age at
snapshot" is <= 0) and is treated as *in motion*.

At scale, almost every in-flight row is *quiet*: no message names it and no worker holds it (a
wiped Redis leaves a million of them). The rule for a quiet row needs nothing but its age — LOST
once still for the grace period, OK before — so, given the grace period, PostgreSQL applies it:
the document ids of the messages and held tasks go in as one array, and only the rows they name
come back in full; quiet rows come back as counts per status plus the first ``lost_limit`` LOST
rows by document id (:class:`QuietRows`). No Python object is built per quiet row.
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
from docflow.core.db import get_engine
from docflow.core.settings import Settings
from docflow.core.status import ENTRY, PROCESSING, TERMINAL_STATUSES, stage_of
from docflow.ops.reconcile.messages import HeldTask, Message, gc_paused, inspect_workers, read_broker

PROCESSING_STATUSES = frozenset(status.value for status in PROCESSING.values())
ENTRY_STATUSES = frozenset(status.value for status in ENTRY.values())
IN_FLIGHT = tuple(sorted(ENTRY_STATUSES | PROCESSING_STATUSES))
TERMINAL = frozenset(status.value for status in TERMINAL_STATUSES)
STAGE_BY_STATUS = {status: stage.value for status in IN_FLIGHT if (stage := stage_of(status)) is not None}
# LOST rows listed in full per run; the counts stay exact. No operator reads a million findings one
# by one, and building them cost more than everything else together (bench/README.md).
LOST_LISTED = 1000


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
class QuietRows:
    """The in-flight rows no message and no held task names, classified by PostgreSQL.

    ``lost`` of them have been still for ``grace_period_s`` (LOST); the others are OK (young, or
    in motion). ``listed`` holds the first ``limit`` LOST rows by document id, in full."""

    grace_period_s: float
    limit: int
    by_status: dict[str, int]  # every quiet row, by status (the per-stage counts need them)
    lost: int
    listed: list[DocumentState]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass
class Snapshot:
    settings_queues: dict[str, str]  # stage -> queue
    messages: list[Message]
    held: list[HeldTask]
    workers: list[str]  # hostnames that answered inspect
    inspect_error: str | None
    rows: list[DocumentState]  # the in-flight documents (with ``quiet``: those a message or worker names)
    message_docs: dict[int, DocumentState]  # the other documents messages name (not in flight, or out of scope)
    project_id: str | None
    raw_queue_lengths: dict[str, int]  # queue -> waiting items (decodable or not)
    timings: dict[str, float] = field(default_factory=dict)
    worker_queues: dict[str, list[str]] = field(default_factory=dict)  # hostname -> queues it consumes
    quiet: QuietRows | None = None  # None: every in-flight row is in ``rows``

    @property
    def in_flight(self) -> int:
        return len(self.rows) + (self.quiet.total if self.quiet else 0)


# Every statement runs in one REPEATABLE READ transaction, so ``now()`` is one moment and the
# snapshot is one snapshot for all of them. ``%(elapsed)s`` is the time since the Redis snapshot
# began: ``now() - elapsed`` is that moment on the server's clock (no clock of ours is compared with
# the server's), and a row updated after it has a negative "age at snapshot".
_COLUMNS = (
    "d.id, d.document_uuid::text, d.project_id, d.celery_status, d.celery_task_id, "
    "EXTRACT(EPOCH FROM now() - d.updated_at)::float8 - %(elapsed)s, r.worker_hostname"
)
_WORKER = """LEFT JOIN LATERAL (
    SELECT s.worker_hostname FROM stage_runs s
    WHERE d.celery_status = ANY(%(processing)s) AND s.celery_task_id = d.celery_task_id
    ORDER BY s.attempt DESC LIMIT 1
) r ON true"""
# Quiet: not among the named ids. ``<> ALL`` of a constant array is a hashed lookup per row
# (PostgreSQL 15+); it needs no join, so no plan hangs on row estimates (stale right after a bulk load).
_QUIET = (
    "d.celery_status = ANY(%(in_flight)s) AND (%(project)s::text IS NULL OR d.project_id = %(project)s::text) "
    "AND d.id <> ALL(%(ids)s::int[])"
)
# Still for the grace period (age > 0 and age >= grace), written on updated_at, not on a computed age.
_STILL = (
    "d.updated_at < now() - make_interval(secs => %(elapsed)s) "
    "AND d.updated_at <= now() - make_interval(secs => %(elapsed)s + %(grace)s)"
)

# The documents the messages and held tasks name, whatever their status or project.
_NAMED_SQL = f"SELECT {_COLUMNS} FROM source_documents d {_WORKER} WHERE d.id = ANY(%(ids)s::int[])"
# One aggregate row, a count per status: a GROUP BY's plan (an external sort of a million rows, seen
# with stale statistics) depends on estimates; this one does not.
_QUIET_COUNTS_SQL = (
    "SELECT "
    + ", ".join(f"count(*) FILTER (WHERE d.celery_status = %(status_{n})s)" for n in range(len(IN_FLIGHT)))
    + f", count(*) FILTER (WHERE {_STILL}) FROM source_documents d WHERE {_QUIET}"
)
# The first LOST rows by id; the stage run's worker is looked up for those only.
_QUIET_LOST_SQL = f"""
SELECT {_COLUMNS} FROM (
    SELECT d.id, d.document_uuid, d.project_id, d.celery_status, d.celery_task_id, d.updated_at
    FROM source_documents d WHERE {_QUIET} AND {_STILL} ORDER BY d.id LIMIT %(limit)s
) d {_WORKER}
ORDER BY d.id
"""
# Without a grace period (a caller classifying with a grace of its own): every quiet row, in full.
_QUIET_ALL_SQL = f"SELECT {_COLUMNS} FROM source_documents d {_WORKER} WHERE {_QUIET}"


def read_rows(
    *,
    project_id: str | None,
    message_ids: Iterable[int],
    elapsed_s: float,
    grace_period_s: float | None = None,
    lost_limit: int = LOST_LISTED,
    engine: Engine | None = None,
) -> tuple[list[DocumentState], dict[int, DocumentState], QuietRows | None]:
    """(in-flight rows the messages name, other documents they name, the quiet rows): set-based.

    With ``grace_period_s``, the quiet rows are classified in PostgreSQL (:class:`QuietRows`);
    without, they are returned in full among the rows, and the summary is None. Ages read "age at
    snapshot": ``elapsed_s`` is the time since the broker snapshot began.
    """
    params: dict[str, Any] = {
        # Only an int4 can be a document id; a message naming anything else is an unknown document.
        # Sent as one array literal, written once: psycopg would adapt the list anew for each statement.
        "ids": "{" + ",".join(map(str, sorted({i for i in message_ids if _INT4_MIN <= i <= _INT4_MAX}))) + "}",
        "elapsed": elapsed_s,
        "grace": grace_period_s,
        "limit": lost_limit,
        "processing": sorted(PROCESSING_STATUSES),
        "in_flight": list(IN_FLIGHT),
        "project": project_id,
        **{f"status_{n}": status for n, status in enumerate(IN_FLIGHT)},
    }
    with gc_paused(), (engine or get_engine()).connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]  # psycopg's own
        try:
            cursor.execute("SET TRANSACTION READ ONLY")
            named = _fetch(cursor, _NAMED_SQL, params) if params["ids"] != "{}" else []
            if grace_period_s is None:
                quiet, everything = None, _fetch(cursor, _QUIET_ALL_SQL, params)
            else:
                *per_status, lost = _fetch(cursor, _QUIET_COUNTS_SQL, params)[0]
                listed = _fetch(cursor, _QUIET_LOST_SQL, params) if lost and lost_limit > 0 else []
                quiet = QuietRows(
                    grace_period_s,
                    lost_limit,
                    {status: n for status, n in zip(IN_FLIGHT, per_status, strict=True) if n},
                    lost,
                    [DocumentState(*row) for row in listed],
                )
                everything = []
        finally:
            cursor.close()
            connection.connection.driver_connection.rollback()  # type: ignore[union-attr]  # nothing to commit
    rows = [DocumentState(*row) for row in everything]
    docs: dict[int, DocumentState] = {}
    for i, u, p, s, t, a, w in named:
        if s in STAGE_BY_STATUS and (project_id is None or p == project_id):
            rows.append(DocumentState(i, u, p, s, t, a, w))
        else:
            docs[i] = DocumentState(i, u, p, s, t, a)
    return rows, docs, quiet


_INT4_MIN, _INT4_MAX = -(2**31), 2**31 - 1


def _fetch(cursor: Any, sql: str, params: dict[str, Any]) -> list[tuple]:
    cursor.execute(sql, params)
    return list(cursor.fetchall())


def gather(
    settings: Settings,
    *,
    project_id: str | None = None,
    inspect_timeout_s: float = 1.5,
    grace_period_s: float | None = None,
    lost_limit: int = LOST_LISTED,
    client: redis.Redis | None = None,
    engine: Engine | None = None,
    app: Any = None,
    inspect: bool = True,
) -> Snapshot:
    """Redis snapshot and worker inspection (concurrently), then the rows: see the module docstring.

    Pass the ``grace_period_s`` the snapshot will be classified with: the quiet rows are then
    classified in PostgreSQL. Without it every in-flight row is read in full (any grace works)."""
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
    rows, docs, quiet = read_rows(
        project_id=project_id,
        message_ids=ids,
        elapsed_s=db_began - began,
        grace_period_s=grace_period_s,
        lost_limit=lost_limit,
        engine=engine,
    )
    timings["db_s"] = time.monotonic() - db_began
    timings["gather_s"] = time.monotonic() - began
    return Snapshot(
        queues, messages, held, workers, inspect_error, rows, docs, project_id, lengths, timings, worker_queues, quiet
    )
