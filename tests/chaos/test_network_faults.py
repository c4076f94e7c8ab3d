"""Network faults: a half-open connection to each service in turn, and a worker host that freezes.

A half-open connection is the fault that clean stops and restarts never show: the peer (or the
path to it) stops answering without a FIN or RST, so nothing but the client's own deadlines can
notice. Each scenario points the workers at a :class:`~tests.support.proxy.TcpProxy` in front of one
service of the test stack, black-holes it mid-processing, restores it, and holds the run to the
same invariants as every chaos scenario. The submitter (this process) talks to the services
directly: the fault is between the workers and one service.

The workers run with short client deadlines (the ``FAST_DEADLINES`` below; the defaults are sized
for production round trips) so that a scenario takes seconds; what is measured is the time from
``restore()`` until every document is terminal, and it goes into the row's note.
"""

from __future__ import annotations

import os
import signal
import time
from urllib.parse import urlsplit, urlunsplit

import psutil
import pytest

from tests.support.chaos import settle
from tests.support.pipeline import submit_all, wait_for_status
from tests.support.proxy import TcpProxy
from tests.support.small_disk import fill, small_filesystem

pytestmark = [pytest.mark.chaos, pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

# Long enough for each client to hit its deadline on a silenced connection at least once.
BLACK_HOLE_S = 10.0
# Client deadlines of the workers in these scenarios (environment of the worker processes).
FAST_DEADLINES = {
    "DOCFLOW_DB_STATEMENT_TIMEOUT_MS": "5000",
    "DOCFLOW_DB_READ_TIMEOUT_S": "5",  # raised to statement timeout + 5 s = 10 s by db.read_timeout_s
    "DOCFLOW_DB_KEEPALIVE_S": "5",
    "DOCFLOW_REDIS_SOCKET_TIMEOUT_S": "5",
    "DOCFLOW_S3_TIMEOUT_S": "5",
    "DOCFLOW_NEO4J_TIMEOUT_S": "10",
    "DOCFLOW_NEO4J_TRANSACTION_TIMEOUT_S": "10",
    "DOCFLOW_REDIS_HEALTH_CHECK_S": "5",
}
# Reconcile as its schedule would run it, compressed: a document whose message a half-open
# connection swallowed (Redis popped it into a BRPOP whose reply never arrived) is LOST, and only
# reconcile can re-drive it (PostgreSQL is the truth, Redis a transport).
RECONCILE_EVERY_S = 5.0
RECONCILE_GRACE_S = 5.0


def _wait_with_reconcile(
    settings, project: str, ids: list[int], *, stuck_threshold_s: float = 60
) -> tuple[int, float | None]:
    """Wait until every document is terminal, running a repairing reconcile every few seconds;
    returns (documents re-driven, monotonic time of the first re-drive)."""
    from docflow.core.status import TERMINAL_STATUSES
    from docflow.ops.progress import current_statuses
    from docflow.ops.reconcile import run_reconcile
    from tests.support.pipeline import SCENARIO_TIMEOUT_S

    terminal = {s.value for s in TERMINAL_STATUSES}
    redriven = 0
    first_redrive: float | None = None
    deadline = time.monotonic() + SCENARIO_TIMEOUT_S
    next_reconcile = time.monotonic() + RECONCILE_EVERY_S
    while time.monotonic() < deadline:
        if {status for status, _error in current_statuses(ids).values()} <= terminal:
            break
        if time.monotonic() >= next_reconcile:
            report = run_reconcile(
                settings,
                grace_period_s=RECONCILE_GRACE_S,
                stuck_threshold_s=stuck_threshold_s,
                project_id=project,
                repair_problems=True,
                inspect_timeout_s=2,
            )
            done = sum(1 for a in report.actions if a["action"] == "redrive" and a["ok"])
            if done and first_redrive is None:
                first_redrive = time.monotonic()
            redriven += done
            next_reconcile = time.monotonic() + RECONCILE_EVERY_S
        time.sleep(0.5)
    return redriven, first_redrive


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit(":", 1)[0] if parts.port else parts.netloc
    return urlunsplit(parts._replace(netloc=f"{netloc}:{port}"))


def _redis(settings, proxy: TcpProxy) -> dict[str, str]:
    return {
        "DOCFLOW_REDIS_URL": _with_port(settings.broker_url, proxy.port),
        "DOCFLOW_RESULT_BACKEND_URL": _with_port(os.environ["DOCFLOW_RESULT_BACKEND_URL"], proxy.port),
    }


def _postgres(_settings, proxy: TcpProxy) -> dict[str, str]:
    return {"DOCFLOW_DB_HOST": proxy.host, "DOCFLOW_DB_PORT": str(proxy.port)}


def _s3(_settings, proxy: TcpProxy) -> dict[str, str]:
    return {"DOCFLOW_S3_ENDPOINT": proxy.endpoint}


def _neo4j(settings, proxy: TcpProxy) -> dict[str, str]:
    return {"DOCFLOW_NEO4J_URI": _with_port(settings.neo4j_uri, proxy.port)}


def _upstream(settings, service: str) -> tuple[str, int]:
    if service == "redis":
        parts = urlsplit(settings.broker_url)
        return parts.hostname or "127.0.0.1", parts.port or 6379
    if service == "postgres":
        return settings.db_host, settings.db_port
    if service == "s3":
        host, _, port = settings.s3_endpoint.rpartition(":")
        return host, int(port)
    parts = urlsplit(settings.neo4j_uri)
    return parts.hostname or "127.0.0.1", parts.port or 7687


# service -> (worker env through the proxy, which files go first, the status of the first document
# that triggers the black hole). The rest of the files are submitted while the proxy is silent, so
# their work starts on silenced connections (pooled ones and new ones alike).
SCENARIOS = {
    "redis": (_redis, "scan", "ocr_processing"),
    "postgres": (_postgres, "scan", "ocr_processing"),
    "s3": (_s3, "scan", "ocr_processing"),
    # Silenced once a pooled Bolt connection exists: a graph write in flight has only the server's
    # receive-timeout hint as its read deadline (DOCFLOW_NEO4J_KEEP_ALIVE_S x 3).
    "neo4j": (_neo4j, "small", "graph_complete"),
}
NAMES = {"redis": "Redis", "postgres": "PostgreSQL", "s3": "object store (S3)", "neo4j": "Neo4j"}


@pytest.mark.parametrize("service", list(SCENARIOS))
def test_half_open_connection_to_a_service_times_out_and_recovers(
    stack, chaos_workers, chaos_files, clean_reference, project, service
):
    env_for, first_group, trigger = SCENARIOS[service]
    first = [chaos_files.scan] if first_group == "scan" else chaos_files.small
    rest = chaos_files.small if first_group == "scan" else [chaos_files.scan]
    with TcpProxy(_upstream(stack, service), name=f"chaos-{service}") as proxy:
        # GIVEN workers that reach the service only through the proxy, and work in progress
        chaos_workers.start(concurrency=2, env={**FAST_DEADLINES, **env_for(stack, proxy)})
        ids = submit_all(first, project)
        wait_for_status(ids[0], {trigger}, timeout_s=120)
        # WHEN the path to the service goes silent (no FIN, no RST) while more work arrives
        proxy.black_hole()
        ids += submit_all(rest, project)
        time.sleep(BLACK_HOLE_S)
        silenced = proxy.black_holed
        proxy.restore()
        restored = time.monotonic()
        # THEN the workers' deadlines fire, they reconnect once the path is back, and every
        # document completes exactly as in a clean run
        redriven, _runs = _wait_with_reconcile(stack, project, ids)
        recovery_s = time.monotonic() - restored
        settle(
            f"half-open connection to {NAMES[service]} ({BLACK_HOLE_S:g}s black hole)",
            settings=stack,
            project_id=project,
            ids=ids,
            clean=clean_reference,
            note=(
                f"{silenced} connections silenced; all terminal {recovery_s:.1f}s after restore; "
                f"{redriven} LOST re-driven by reconcile"
            ),
        )
    assert silenced > 0, "the black hole silenced no connection: the scenario tested nothing"


def test_a_frozen_worker_host_with_reserved_tasks_is_recovered_elsewhere(
    stack, chaos_workers, chaos_files, clean_reference, project
):
    # GIVEN one worker OCRing the scan (its message delivered and unacknowledged), and a second
    # worker that only starts once the first one holds it
    chaos_workers.start("chaos-frozen", concurrency=1)
    ids = submit_all(chaos_files.all, project)
    wait_for_status(ids[0], {"ocr_processing"})
    frozen_pid = chaos_workers.pid("chaos-frozen")
    assert frozen_pid
    # WHEN the whole host freezes: every process of the worker stopped at once. Its sockets stay
    # open (Redis and PostgreSQL see a silent client, not a closed one) and it answers nothing
    os.killpg(os.getpgid(frozen_pid), signal.SIGSTOP)
    frozen = time.monotonic()
    try:
        chaos_workers.start("chaos-2", concurrency=2)
        # THEN reconcile (run here as its schedule would, every few seconds) finds the scan STUCK
        # — delivered, held by no responding worker; Redis alone would only hand it out again after
        # the visibility timeout — and re-drives it to the live worker, where everything completes
        redriven, first_redrive = _wait_with_reconcile(stack, project, ids, stuck_threshold_s=5)
        completed_after = time.monotonic() - frozen
        redriven_after = "never" if first_redrive is None else f"{first_redrive - frozen:.1f}s"
        settle(
            "worker host frozen (SIGSTOP) with a reserved task",
            settings=stack,
            project_id=project,
            ids=ids,
            clean=clean_reference,
            note=(
                f"{redriven} STUCK/LOST re-driven by reconcile (first {redriven_after} after the freeze); "
                f"all complete elsewhere {completed_after:.1f}s after the freeze (visibility timeout "
                f"{stack.broker_visibility_timeout_s}s)"
            ),
        )
        assert redriven >= 1, "reconcile never re-drove the frozen worker's document"
    finally:
        # The host never comes back: end it (a frozen process group ignores everything but SIGKILL)
        chaos_workers.kill_all("chaos-frozen")


def test_redis_aof_disk_full_refuses_writes_clearly_and_recovers_when_space_returns(
    stack, chaos_workers, chaos_files, clean_reference, project, tmp_path
):
    from docflow import services
    from docflow.core.broker import redis_client
    from docflow.ops.submit import ingest_file

    redis = services.Redis(stack)
    # GIVEN Redis (AOF on) with its data directory on a small filesystem of its own, and workers
    with small_filesystem(redis, redis.dir, tmp_path / "redis-data", headroom_mb=16) as data:
        filler = data / "filler"
        worker_pid = chaos_workers.start(concurrency=2, env=FAST_DEADLINES)
        # WHEN the filesystem fills up and documents are submitted
        fill(filler)
        results = [ingest_file(path=path, project_id=project) for path in chaos_files.all]
        ids = [r.document_id for r in results]
        refused = [r.submitted for r in results if r.submitted is not None and not r.submitted.success]
        # THEN Redis refuses writes with a clear reason (it cannot persist them), the submitter
        # says so, and the rows stay queued for reconcile
        with pytest.raises(Exception, match="(?i)MISCONF|AOF|no space"):
            redis_client(stack).lpush("docflow-chaos-probe", b"x")
        time.sleep(3)
        # WHEN space returns
        filler.unlink()
        freed = time.monotonic()
        # THEN Redis accepts writes again by itself, reconcile re-drives what was refused or lost,
        # and everything completes as in a clean run
        deadline = time.monotonic() + 30
        while True:
            try:
                redis_client(stack).delete("docflow-chaos-probe")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        writable_s = time.monotonic() - freed
        redriven, _first = _wait_with_reconcile(stack, project, ids)
        recovery_s = time.monotonic() - freed
        settle(
            "disk full under Redis's AOF (tmpfs, 16 MB free)",
            settings=stack,
            project_id=project,
            ids=ids,
            clean=clean_reference,
            note=(
                f"{len(refused)} submissions refused ({(refused[0].error or '')[:60] if refused else '-'}); "
                f"writable {writable_s:.1f}s after space returned; {redriven} re-driven by reconcile; "
                f"all complete {recovery_s:.1f}s after"
            ),
        )
        # AND the worker that had its acks refused is still the one running: it reconnected instead
        # of dying with "Unrecoverable error" (which left nobody to consume once space returned)
        assert chaos_workers.pid() == worker_pid and psutil.pid_exists(worker_pid)
