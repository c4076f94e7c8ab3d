"""The worker's Celery app with round trips counted: ``celery -A bench.counted_worker worker ...``.

For ``bench.small_docs --stagewise``: every process of the worker (the consumer and its pool
children) counts, from the client libraries' own entry points,

* ``pg_statements`` (psycopg ``execute``/``executemany``, the pool's pre-ping included),
  ``pg_commits``, ``pg_rollbacks``;
* ``redis_round_trips`` (one per packed send: a pipeline is one) and ``redis_commands``;
* ``neo4j_round_trips`` (one per flush of Bolt messages to the server);
* ``s3_requests`` (urllib3 requests of the minio client);

and writes them every half second to ``$DOCFLOW_BENCH_COUNTERS/<pid>.json`` (the directory comes from
the harness; a benchmark-only tool may read its environment). The harness sums the files between two
moments, so a stage run alone gives that stage's counts. Nothing here is imported by docflow itself.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

COUNTS: Counter[str] = Counter()
_lock = threading.Lock()


def _counting(owner: Any, name: str, counter: str) -> None:
    original = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        COUNTS[counter] += 1
        return original(*args, **kwargs)

    setattr(owner, name, counted)


def _install() -> None:
    import psycopg
    import redis.connection
    import urllib3
    from neo4j._sync.io._bolt import _base as bolt

    _counting(psycopg.Cursor, "execute", "pg_statements")
    _counting(psycopg.Cursor, "executemany", "pg_statements")
    _counting(psycopg.Connection, "commit", "pg_commits")
    _counting(psycopg.Connection, "rollback", "pg_rollbacks")
    _counting(redis.connection.AbstractConnection, "send_packed_command", "redis_round_trips")
    _counting(redis.connection.AbstractConnection, "pack_command", "redis_commands")
    _counting(bolt.Bolt, "_send_all", "neo4j_round_trips")
    _counting(urllib3.HTTPConnectionPool, "urlopen", "s3_requests")


def _dump(directory: Path) -> None:
    with _lock:
        data = dict(COUNTS)
    target = directory / f"{os.getpid()}.json"
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(data))
    temporary.replace(target)


def _start_dumping() -> None:
    directory = Path(os.environ.get("DOCFLOW_BENCH_COUNTERS", "bench/out/counters"))
    directory.mkdir(parents=True, exist_ok=True)
    COUNTS.clear()  # a forked child starts from zero (its parent's counts are the parent's file)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.5):
            _dump(directory)

    threading.Thread(target=loop, name="bench-counters", daemon=True).start()
    atexit.register(lambda: _dump(directory))


_install()
_start_dumping()
os.register_at_fork(after_in_child=_start_dumping)

from tasks.celery_app import app  # noqa: E402 - the counters are installed before the worker's imports

__all__ = ["app"]
