"""Worker machines: Celery nodes on hosts that hold no services and no checkout, one per queue group.

Each node is simulated on this machine the way a worker host runs it: `docflow worker --queues …
--hostname …@%h --autoscale MAX,MIN`, started from a temporary folder outside the repository
(so no `.env`, no `var/`, no checkout on its path) with an environment holding only PATH, HOME
and the DOCFLOW_* URLs and credentials of the shared PostgreSQL, Redis, S3 store and Neo4j.
The interpreter is the project venv's: that an installed wheel runs outside the checkout is
tests/integration/test_wheel.py's business; building one here would spend a minute proving it
again instead of the node topology this file is about.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.support.invariants import check_project
from tests.support.pipeline import submit_all, wait_for_status, wait_terminal

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

DOCFLOW = Path(sys.executable).parent / "docflow"
HOST = socket.gethostname()
OCR_NODE = "ocr-node@%h"
NLP_NODE = "nlp-node@%h"
NLP_QUEUES = "text,entity,graph"


def worker_host_env(settings, home: Path) -> dict[str, str]:
    """Everything a worker machine is given: where the shared services are, and their credentials."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "DOCFLOW_DATABASE_URL": settings.sqlalchemy_url.render_as_string(hide_password=False),
        "DOCFLOW_REDIS_URL": settings.broker_url,
        "DOCFLOW_RESULT_BACKEND_URL": settings.celery_result_backend,
        "DOCFLOW_S3_ENDPOINT": settings.s3_endpoint,
        "DOCFLOW_S3_ACCESS_KEY": settings.s3_access_key,
        "DOCFLOW_S3_SECRET_KEY": settings.s3_secret_key.get_secret_value(),
        "DOCFLOW_S3_BUCKET": settings.s3_bucket,
        "DOCFLOW_NEO4J_URI": settings.neo4j_uri,
        "DOCFLOW_NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
        # The suite's fast retry policy: retries are scheduled by the worker that hit the error.
        "DOCFLOW_RETRY_BACKOFF_BASE_S": str(settings.retry_backoff_base_s),
        "DOCFLOW_RETRY_BACKOFF_MAX_S": str(settings.retry_backoff_max_s),
        # Celery's autoscaler checks and shrinks after this many idle seconds (30 by default):
        # short, so the autoscale test sees a shrink without waiting half a minute.
        "AUTOSCALE_KEEPALIVE": "3",
    }


def node_name(hostname: str) -> str:
    return hostname.replace("%h", HOST)


class WorkerMachine:
    """One `docflow worker` node in a folder of its own, in its own session (its whole process
    tree can be killed at once, like a machine losing power)."""

    def __init__(self, settings, root: Path, *, hostname: str, queues: str, autoscale: str = "2,1"):
        self.hostname, self.queues = hostname, queues
        self.name = node_name(hostname)
        self.home = root / self.name.split("@")[0]
        self.home.mkdir(parents=True, exist_ok=True)
        self.env = worker_host_env(settings, self.home)
        self.log = self.home / "worker.log"
        command = [str(DOCFLOW), "worker", "--queues", queues, "--hostname", hostname, "--autoscale", autoscale]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.home, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, timeout: float = 120) -> None:
        from docflow.core.broker import ping_workers

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"{self.name} exited: {self.log.read_text()[-2000:]}"
            if self.name in ping_workers(timeout_s=1.0):
                return
        raise TimeoutError(f"{self.name} did not answer a ping: {self.log.read_text()[-2000:]}")

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """A docflow command typed on this machine."""
        return subprocess.run(
            [str(DOCFLOW), *args], cwd=self.home, env=self.env, capture_output=True, text=True, timeout=120
        )

    def kill(self) -> None:
        """SIGKILL the worker and its pool children together: the machine is gone."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # warm shutdown: unfinished tasks go back to the queue
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()


class Machines:
    def __init__(self, settings, root: Path):
        self.settings, self.root = settings, root
        self.started: list[WorkerMachine] = []

    def start(self, hostname: str, queues: str) -> WorkerMachine:
        machine = WorkerMachine(self.settings, self.root, hostname=hostname, queues=queues)
        self.started.append(machine)
        machine.wait_ready()
        return machine


@pytest.fixture(scope="module")
def machines(stack, tmp_path_factory) -> Iterator[Machines]:
    """The two worker machines, and no other worker: the session's all-queue worker would take OCR
    work away from the OCR node. It is restarted afterwards for the tests that follow."""
    from docflow.services import workers

    was_running = workers.running(stack)
    workers.stop(stack, timeout=30, echo=lambda _line: None)
    root = tmp_path_factory.mktemp("worker-machines")
    assert not root.resolve().is_relative_to(Path(__file__).resolve().parents[2]), "must run outside the checkout"
    fleet = Machines(stack, root)
    try:
        fleet.start(OCR_NODE, "ocr")
        fleet.start(NLP_NODE, NLP_QUEUES)
        yield fleet
    finally:
        for machine in fleet.started:
            machine.stop()
        if "pytest" in was_running:
            workers.start(stack, name="pytest", echo=lambda _line: None)
            workers.wait_ready(stack, timeout=120)


def _runs_by_node(ids: list[int]) -> dict[str, set[str]]:
    from docflow.core.db import session_scope

    with session_scope() as session:
        rows = session.execute(
            text("SELECT stage, worker_hostname FROM stage_runs WHERE document_id = ANY(:ids)"), {"ids": ids}
        ).all()
    nodes: dict[str, set[str]] = {}
    for stage, hostname in rows:
        nodes.setdefault(hostname, set()).add(stage)
    return nodes


def test_an_ocr_machine_and_an_nlp_machine_share_the_pipeline_and_show_up_everywhere(
    stack, machines, sample_files, project_id
):
    from docflow.ops.reconcile import run_reconcile

    ocr, nlp = machines.started
    good, _bad = sample_files
    # GIVEN an OCR-only machine and a text/entity/graph machine, nothing else consuming
    # WHEN documents are submitted
    ids = submit_all([good[n] for n in ("born_digital.pdf", "field_notes.txt", "partner_email.eml")], project_id)
    statuses = wait_terminal(ids)
    # THEN they complete, each stage on the machine that serves its queue
    assert set(statuses.values()) == {"graph_complete"}, statuses
    assert _runs_by_node(ids) == {ocr.name: {"ocr"}, nlp.name: {"text", "entity", "graph"}}

    # AND `docflow verify`, typed on a worker machine, reaches every service and names both nodes
    # with their queues
    verify = ocr.run("verify", "--require-workers")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"{ocr.name} [ocr]" in verify.stdout, verify.stdout
    assert f"{nlp.name} [entity,graph,text]" in verify.stdout, verify.stdout

    # AND the monitor's worker figures list both nodes and their queues
    monitor = nlp.run("monitor", "--json")
    assert monitor.returncode == 0, monitor.stdout + monitor.stderr
    workers = json.loads(monitor.stdout)["workers"]
    assert workers == {ocr.name: ["ocr"], nlp.name: ["entity", "graph", "text"]}

    # AND reconcile's live-worker view has both, and nothing to repair
    report = run_reconcile(stack, project_id=project_id, grace_period_s=0, inspect_timeout_s=2)
    assert sorted(report.workers) == sorted([ocr.name, nlp.name])
    assert report.worker_queues == {ocr.name: ["ocr"], nlp.name: ["entity", "graph", "text"]}
    assert f"{ocr.name} (ocr)" in report.markdown()
    assert not report.findings, report.markdown()


def _pool_size(name: str) -> int:
    """Pool processes the node runs now (``inspect stats``), 0 when it does not answer."""
    from docflow.core.broker import get_app

    stats = get_app().control.inspect(timeout=1.0, destination=[name]).stats() or {}
    return len(stats.get(name, {}).get("pool", {}).get("processes", []))


def _wait_pool_size(name: str, size: int, timeout: float = 60) -> float:
    """Seconds until the node's pool has ``size`` processes; fails with the last size seen."""
    began = time.monotonic()
    seen = _pool_size(name)
    while seen != size and time.monotonic() - began < timeout:
        time.sleep(0.5)
        seen = _pool_size(name)
    assert seen == size, f"{name}'s pool has {seen} processes after {timeout:.0f}s, expected {size}"
    return time.monotonic() - began


def test_an_autoscaled_ocr_machine_grows_under_load_and_shrinks_when_idle(stack, machines, project_id, tmp_path):
    from docflow.samples import write_scanned_pdf

    ocr = machines.started[0]
    # GIVEN the OCR machine started with --autoscale 2,1, idle: its pool at the minimum
    _wait_pool_size(ocr.name, 1)
    # WHEN several scans arrive at once
    scans = [write_scanned_pdf(path=tmp_path / f"scan_{n}.pdf", pages=3, label=f"Autoscale {n}") for n in range(4)]
    ids = submit_all(scans, project_id)
    # THEN the node grows to its maximum while the queue holds work, and every scan completes once
    _wait_pool_size(ocr.name, 2)
    statuses = wait_terminal(ids)
    assert set(statuses.values()) == {"graph_complete"}, statuses
    check_project(stack, project_id, expected_documents=len(ids)).assert_ok()
    # AND back at the minimum once idle
    _wait_pool_size(ocr.name, 1)


def test_an_ocr_machine_killed_mid_task_loses_nothing(stack, machines, sample_files, project_id, tmp_path):
    from docflow.ops.reconcile import run_reconcile
    from docflow.samples import write_scanned_pdf

    ocr = machines.started[0]
    good, _bad = sample_files
    scan = write_scanned_pdf(path=tmp_path / "four_page_scan.pdf", pages=4, label="Machines")
    # GIVEN the OCR machine working on a multi-page scan, with more documents behind it
    ids = submit_all([scan, good["born_digital.pdf"], good["field_notes.txt"]], project_id)
    wait_for_status(ids[0], {"ocr_processing"})
    # WHEN the OCR machine dies (worker and pool children SIGKILLed) and a replacement joins
    ocr.kill()
    replacement = machines.start("ocr-node-2@%h", "ocr")
    # The dead node's deliveries sit unacked until the visibility timeout (far away on purpose):
    # reconcile calls them STUCK once they are older than its threshold.
    time.sleep(2.5)
    report = run_reconcile(
        stack,
        project_id=project_id,
        grace_period_s=0,
        stuck_threshold_s=2,
        inspect_timeout_s=2,
        repair_problems=True,
    )
    # THEN reconcile sees the replacement, not the dead node, and re-drives the scan
    assert replacement.name in report.workers and ocr.name not in report.workers
    stuck = {f["document_id"] for f in report.of_kind("STUCK")}
    assert ids[0] in stuck and stuck <= set(ids), report.markdown()
    assert any(a["action"] == "redrive" and a["ok"] for a in report.actions), report.markdown()
    # AND every document completes exactly once: nothing lost, nothing duplicated
    statuses = wait_terminal(ids)
    assert set(statuses.values()) == {"graph_complete"}, statuses
    invariants = check_project(stack, project_id, expected_documents=len(ids))
    invariants.assert_ok()
    assert max(d.attempts["ocr"] for d in invariants.documents.values()) >= 2  # the scan's OCR really ran twice
    assert replacement.name in _runs_by_node(ids)
