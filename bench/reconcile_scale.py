"""Reconcile at scale: 100,000 in-flight status rows and 10,000 queued messages, gather + classify timed.

    .venv/bin/python bench/reconcile_scale.py [--rows 100000] [--messages 10000] [--runs 3]

Needs the services running (``docflow up``). Everything it creates is its own and removed at the
end, even on failure: the rows live in a dedicated project (``bench-<random>``, inserted with
COPY), the messages in dedicated queues (``bench-<random>-<stage>``, a settings override), so the
real queues and documents are untouched. Well-formed Celery protocol-2 envelopes are written
with pipelined LPUSH: 9,800 of them for queued rows (OK), 200 for unknown documents (ORPHAN); the
in-flight rows without a message are LOST, by design, so every classification path runs.

Prints the timing of each part (Redis snapshot, worker inspection, the SQL reads, classify)
per run, with worker inspection on (its cost is the inspect timeout, spent in parallel with the
Redis read) and off, and the classification counts.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from docflow.core.broker import queue_keys, redis_client
from docflow.core.db import get_engine
from docflow.core.settings import get_settings
from docflow.core.status import (
    ENTRY,
    PROCESSING,
    TASK_NAMES,
    Stage,
    coarse,
)
from docflow.ops import reconcile as rc


def envelope(*, task_id: str, task_name: str, document_id: int, queue: str) -> bytes:
    """A Celery protocol-2 message as kombu's Redis transport stores it."""
    body = json.dumps([[document_id], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}])
    return json.dumps(
        {
            "body": base64.b64encode(body.encode()).decode(),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {
                "lang": "py",
                "task": task_name,
                "id": task_id,
                "root_id": task_id,
                "parent_id": None,
                "group": None,
                "retries": 0,
                "eta": None,
                "expires": None,
                "argsrepr": f"[{document_id}]",
                "kwargsrepr": "{}",
                "origin": "bench@reconcile",
            },
            "properties": {
                "correlation_id": task_id,
                "reply_to": str(uuid.uuid4()),
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": queue},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
    ).encode()


def insert_rows(*, project_id: str, rows: int) -> list[tuple[int, str, str]]:
    """COPY ``rows`` in-flight documents (cycling through every in-flight status); return (id, status, task id)."""
    statuses = [s.value for stage in Stage for s in (ENTRY[stage], PROCESSING[stage])]
    # Old enough to be judged (past any grace period), as a real backlog would be.
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    with get_engine().connect() as connection:
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor:
            # Setup, not the measured part: a million rows outlast the 60 s statement timeout on a
            # busy machine, so it is lifted for this transaction and the rows go in 100k-row COPYs.
            cursor.execute("SET LOCAL statement_timeout = 0")
            for start in range(0, rows, 100_000):
                buffer = io.StringIO()
                for i in range(start, min(start + 100_000, rows)):
                    status = statuses[i % len(statuses)]
                    buffer.write(
                        f"{uuid.uuid4()}\t{project_id}\tbench-{i}.pdf\t{i:064x}\t1000\t{status}\t"
                        f"{coarse(status).value}\t{uuid.uuid4()}\t{an_hour_ago}\t{an_hour_ago}\t0\t0\t0\t0\t0\n"
                    )
                with cursor.copy(
                    "COPY source_documents (document_uuid, project_id, original_file_name, sha256, "
                    "size_bytes, celery_status, initial_processing_status, celery_task_id, created_at, updated_at, "
                    "ocr_attempts, text_attempts, entity_attempts, graph_attempts, redrive_count) "
                    "FROM STDIN"
                ) as copy:
                    copy.write(buffer.getvalue())
            cursor.execute(
                "SELECT id, celery_status, celery_task_id FROM source_documents WHERE project_id = %s", (project_id,)
            )
            result = cursor.fetchall()
        raw.commit()
    return result


def relation_bytes() -> int:
    """Bytes of ``source_documents`` with its indexes and TOAST (heap pages are only ever added here)."""
    with get_engine().connect() as connection:
        return int(connection.exec_driver_sql("SELECT pg_total_relation_size('source_documents')").scalar_one())


def push_messages(client, settings, *, rows, messages: int, orphans: int) -> None:
    entry = {s.value: stage for stage, s in ENTRY.items()}
    queued = [(i, status, task) for i, status, task in rows if status in entry][: messages - orphans]
    pipe = client.pipeline(transaction=False)
    for n, (document_id, status, task_id) in enumerate(queued):
        stage = entry[status]
        queue = settings.queue_for(stage.value)
        pipe.lpush(queue, envelope(task_id=task_id, task_name=TASK_NAMES[stage], document_id=document_id, queue=queue))
        if n % 1000 == 999:
            pipe.execute()
    top = max(i for i, _, _ in rows)
    for n in range(orphans):
        queue = settings.queue_for("ocr")
        pipe.lpush(
            queue,
            envelope(
                task_id=str(uuid.uuid4()), task_name=TASK_NAMES[Stage.OCR], document_id=top + 1_000_000 + n, queue=queue
            ),
        )
    pipe.execute()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--orphans", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--inspect-timeout", type=float, default=1.0)
    args = parser.parse_args()

    tag = f"bench-{uuid.uuid4().hex[:8]}"
    base = get_settings()
    settings = base.model_copy(update={f"queue_{stage}": f"{tag}-{stage}" for stage in base.queues})
    client = redis_client(settings)
    print(
        f"reconcile bench: {args.rows} rows (project {tag}), {args.messages} messages (queues {tag}-*), "
        f"database {settings.database_url_display}"
    )
    try:
        began = time.monotonic()
        table_before = relation_bytes()
        rows = insert_rows(project_id=tag, rows=args.rows)
        table_after = relation_bytes()
        redis_before = int(client.info("memory")["used_memory"])
        push_messages(client, settings, rows=rows, messages=args.messages, orphans=args.orphans)
        redis_after = int(client.info("memory")["used_memory"])
        print(f"setup: {time.monotonic() - began:.1f}s")
        # Capacity figures (bench/README.md): what one status row and one queued message cost.
        print(
            f"storage: source_documents + indexes {(table_after - table_before) / args.rows:.0f} B per status row "
            f"(pg_total_relation_size growth); Redis used_memory {(redis_after - redis_before) / args.messages:.0f} B "
            "per queued message"
        )
        for inspect in (True, False):
            totals = []
            for run in range(args.runs):
                began = time.monotonic()
                # As run_reconcile gathers: with the grace period, so PostgreSQL classifies the quiet rows.
                snapshot = rc.gather(
                    settings,
                    project_id=None,
                    inspect_timeout_s=args.inspect_timeout,
                    inspect=inspect,
                    grace_period_s=120,
                    lost_limit=rc.LOST_LISTED,
                )
                classified = rc.classify(snapshot, grace_period_s=120, stuck_threshold_s=300)
                total = time.monotonic() - began
                totals.append(total)
                t = snapshot.timings
                counts = dict(classified.counts)
                listed = len(classified.findings)
                print(
                    f"  inspect={'on ' if inspect else 'off'} run {run + 1}: gather+classify {total:.2f}s "
                    f"(redis {t['redis_s']:.2f}s, inspect-wait {t['inspect_s']:.2f}s, db {t['db_s']:.2f}s, "
                    f"classify {total - t['gather_s']:.2f}s) in-flight rows={classified.in_flight} "
                    f"(read in full {len(snapshot.rows)}) messages={len(snapshot.messages)} ok={classified.ok} "
                    f"{counts} findings listed={listed}"
                )
            began = time.monotonic()
            report = rc.build_report(snapshot, classified, parameters={"bench": True})
            rendered = len(json.dumps(report.to_dict())) + len(report.markdown()) + len(report.table_rows())
            print(
                f"  report (dict + JSON + markdown + table rows, {len(report.findings)} findings listed of "
                f"{report.problem_count}): "
                f"{time.monotonic() - began:.2f}s, {rendered // 1024} KiB"
            )
            print(
                f"inspect={'on' if inspect else 'off'}: median {statistics.median(totals):.2f}s, "
                f"best {min(totals):.2f}s over {args.runs} runs (goal <= 10 s)"
            )
    finally:
        for queue in settings.queues.values():
            client.delete(*queue_keys(queue))
        # In slices, each its own transaction: one DELETE of a million rows outlasted the client's
        # 70 s deadline on a busy machine and was rolled back.
        while True:
            with get_engine().begin() as connection:
                raw = connection.connection.driver_connection
                with raw.cursor() as cursor:
                    cursor.execute(
                        "DELETE FROM source_documents WHERE id IN "
                        "(SELECT id FROM source_documents WHERE project_id = %s LIMIT 100000)",
                        (tag,),
                    )
                    deleted = cursor.rowcount
            if not deleted:
                break
        print(f"cleaned up project {tag} and queues {tag}-*")
    return 0


if __name__ == "__main__":
    sys.exit(main())
