"""``docflow verify``: the operator's go/no-go checklist.

Each check returns a :class:`Check` (ok, a one-line detail) and never raises: a checklist that
crashes on the first dead service tells the operator nothing about the others. Missing pieces
that are safe to create (the bucket, the Neo4j constraints) are created and said so.
"""

from __future__ import annotations

import io
import json
import shutil
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text

from docflow.core import migrate
from docflow.core.breaker import read_breakers
from docflow.core.broker import ping_workers, queue_lengths, redis_client, workers_online
from docflow.core.db import get_engine
from docflow.core.errors import TransientError
from docflow.core.graph import CONSTRAINTS, GraphStore
from docflow.core.settings import Settings
from docflow.core.storage import ObjectStorage


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # true when not fatal (e.g. no workers yet)

    @property
    def mark(self) -> str:
        return "✔" if self.ok else ("!" if self.warning else "✘")


def _guard(name: str, func: Callable[[], Check]) -> Check:
    try:
        return func()
    except Exception as exc:  # noqa: BLE001 - every failure becomes a red line, not a traceback
        return Check(name, False, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")


def check_database(settings: Settings) -> Check:
    def run() -> Check:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        current, head = migrate.current_revision(), migrate.head_revision()
        if current != head:
            return Check(
                "database",
                False,
                f"{settings.database_url_display}: schema at {current}, head is {head} (run `docflow migrate`)",
            )
        return Check("database", True, f"{settings.database_url_display}: schema at head {head}")

    return _guard("database", run)


def check_redis(settings: Settings) -> Check:
    def run() -> Check:
        client = redis_client(settings)
        client.ping()
        aof = client.config_get("appendonly").get("appendonly")
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
        problems = []
        if aof != "yes":
            problems.append(f"appendonly is {aof!r} (queued work is lost on restart)")
        if policy != "noeviction":
            problems.append(f"maxmemory-policy is {policy!r} (Redis may evict messages)")
        detail = f"{settings.redis_display}: appendonly={aof}, maxmemory-policy={policy}"
        return Check("redis", not problems, detail + ("; " + "; ".join(problems) if problems else ""))

    return _guard("redis", run)


def check_queues(settings: Settings) -> Check:
    def run() -> Check:
        lengths = queue_lengths(redis_client(settings), list(settings.queues.values()))
        total = sum(lengths.values())
        detail = ", ".join(f"{queue}={count}" for queue, count in lengths.items())
        ok = total <= settings.health_queue_threshold
        return Check("queues", ok, f"{detail} (total {total}, threshold {settings.health_queue_threshold})")

    return _guard("queues", run)


VERIFY_PROBE_KEY = "_docflow/verify-probe"
# The size of a small document, not of a few bytes: a full disk still takes a few bytes into the
# last page of a file the store appends to (measured: a 2-byte probe went through at 0 bytes free).
VERIFY_PROBE_BYTES = 64 * 1024


def check_object_store(settings: Settings) -> Check:
    def run() -> Check:
        storage = ObjectStorage(settings, timeout_s=10)
        created = storage.ensure_bucket()
        note = " (created)" if created else ""
        bucket = f"{settings.s3_endpoint} bucket {settings.s3_bucket}"
        state = local_store_state(settings)
        # A store can list and read while refusing every write (a full disk): intake would fail.
        try:
            storage.put_stream(
                key=VERIFY_PROBE_KEY, stream=io.BytesIO(b"\0" * VERIFY_PROBE_BYTES), length=VERIFY_PROBE_BYTES
            )
            storage.remove(key=VERIFY_PROBE_KEY)
        except TransientError as exc:
            return Check("object store", False, f"{bucket} refuses writes: {exc}{state}")
        return Check("object store", True, f"{bucket} present, writable{note}{state}")

    return _guard("object store", run)


def local_store_state(settings: Settings) -> str:
    """What the store docflow runs itself says of its room ("; disk 1.2 GB free of 40 GB, ..."), or "".

    Only for the local SeaweedFS (its data folder is here): the free space of the disk under its
    data, and, from its master, how many of its volumes take writes for the bucket and how many
    more it may create. A store elsewhere (MinIO, S3) gives nothing to add.
    """
    data = settings.data_dir / "s3" / "data"
    if not data.is_dir():
        return ""
    usage = shutil.disk_usage(data)
    parts = [f"disk {_size(usage.free)} free of {_size(usage.total)}"]
    try:
        url = f"http://{settings.s3_host_port[0]}:{settings.s3_local_master_port}/dir/status"
        with urllib.request.urlopen(url, timeout=2) as answer:
            topology = json.load(answer)["Topology"]
        writable = sum(
            len(layout.get("writables") or [])
            for layout in topology.get("Layouts") or []
            if layout.get("collection") == settings.s3_bucket
        )
        parts.append(f"{writable} writable volume(s) for the bucket, {topology['Free']} more may be created")
    except (OSError, ValueError, KeyError):
        pass  # its master is not answering: the disk is still worth saying
    return "; " + ", ".join(parts)


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def check_neo4j(settings: Settings) -> Check:
    def run() -> Check:
        with GraphStore(settings) as graph:
            graph.ping()
            missing = graph.missing_constraints()
            if missing:
                graph.ensure_constraints()
                missing_after = graph.missing_constraints()
                if missing_after:
                    return Check(
                        "neo4j", False, f"{settings.neo4j_uri}: constraints missing: {', '.join(missing_after)}"
                    )
                return Check("neo4j", True, f"{settings.neo4j_uri}: constraints created ({', '.join(missing)})")
        return Check("neo4j", True, f"{settings.neo4j_uri}: {len(CONSTRAINTS)} constraints in place")

    return _guard("neo4j", run)


def check_breakers(settings: Settings) -> Check:
    """The stores' circuit breakers as the workers share them: which is open, since when, who waits."""

    def run() -> Check:
        opened = [b for b in read_breakers(redis_client(settings)).values() if b.is_open]
        if opened:
            return Check("breakers", False, "; ".join(f"{b.describe()} ({b.waits()})" for b in opened))
        return Check("breakers", True, "all closed (the workers reach every store)")

    return _guard("breakers", run)


def check_workers(settings: Settings, *, require: bool = False, timeout: float = 2.0) -> Check:
    def run() -> Check:
        names = ping_workers(timeout_s=timeout)
        if not names:
            return Check(
                "workers",
                False,
                "no Celery workers are running (start them with `docflow workers start`)",
                warning=not require,
            )
        queues = workers_online(timeout_s=timeout, destination=names)
        served = sorted({queue for consumed in queues.values() for queue in consumed})
        missing = sorted(set(settings.queues.values()) - set(served))
        # Each node with its queues: per-queue nodes (an OCR-only machine) show which is which.
        nodes = ", ".join(f"{name} [{','.join(queues.get(name, [])) or '?'}]" for name in names)
        detail = f"{len(names)} responding ({nodes}); queues served: {', '.join(served) or 'none'}"
        if missing:
            return Check("workers", False, detail + f"; no worker for: {', '.join(missing)}", warning=not require)
        return Check("workers", True, detail)

    return _guard("workers", run)


def run_checks(settings: Settings, *, require_workers: bool = False) -> list[Check]:
    return [
        check_database(settings),
        check_redis(settings),
        check_queues(settings),
        check_object_store(settings),
        check_neo4j(settings),
        check_breakers(settings),
        check_workers(settings, require=require_workers),
    ]


def passed(checks: list[Check]) -> bool:
    return all(check.ok or check.warning for check in checks)
