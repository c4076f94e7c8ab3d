"""The production path for flows: `docflow deploy` puts prefect.yaml's deployments on a process work
pool, and a Prefect worker started elsewhere (another directory, only the environment) runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

POOL = "docflow"
WANTED = {
    "intake-sweep/intake-sweep",
    "reconcile/reconcile",
    "pipeline-monitor/pipeline-monitor",
    "reprocess/reprocess",
}


def _docflow(*args: str, cwd, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docflow.cli", *args],
        cwd=cwd,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_deploy_registers_the_pool_deployments_and_a_pool_worker_runs_intake_sweep(
    prefect_api, workers, sample_files, tmp_path
):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.deployments import run_deployment

    from docflow.core.db import session_scope
    from docflow.core.models import SourceDocument

    elsewhere = tmp_path / "worker-home"  # not the checkout: the worker needs only the installed package
    elsewhere.mkdir()
    # GIVEN `docflow deploy`, run outside the checkout
    deployed = _docflow("deploy", "--json", cwd=elsewhere, timeout=300)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    result = json.loads(deployed.stdout.strip().splitlines()[-1])
    # THEN the process pool exists and holds every deployment of prefect.yaml
    assert result["pool"] == POOL and set(result["deployments"]) >= WANTED
    with get_client(sync_client=True) as client:
        assert client.read_work_pool(POOL).type == "process"
        deployment = client.read_deployment_by_name("intake-sweep/intake-sweep")
    assert deployment.work_pool_name == POOL and deployment.pull_steps == []
    assert deployment.entrypoint == "flows.intake.intake_sweep"

    # WHEN an intake-sweep run is requested for a folder of samples
    good, _bad = sample_files
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("field_notes.txt", "born_digital.pdf"):
        (inbox / name).write_bytes(good[name].read_bytes())
    project = f"pool-{uuid.uuid4().hex[:8]}"
    flow_run = run_deployment(
        "intake-sweep/intake-sweep",
        parameters={
            "source": str(inbox),
            "project_id": project,
            "stable_seconds": 0,
            "wait": True,
            "wait_timeout_s": 240,
        },
        timeout=0,  # only schedule it: the pool's worker runs it
    )
    # AND a Prefect worker for the pool polls once, from another directory, with only the environment
    worker = _docflow("flow-worker", "--pool", POOL, "--run-once", cwd=elsewhere, timeout=420)
    assert worker.returncode == 0, worker.stdout[-3000:] + worker.stderr[-3000:]

    # THEN the run completed through the worker, and the samples reached graph_complete
    with get_client(sync_client=True) as client:
        finished = client.read_flow_run(flow_run.id)
    assert finished.state is not None and finished.state.type == StateType.COMPLETED, finished.state
    with session_scope() as session:
        statuses = sorted(
            document.celery_status
            for document in session.query(SourceDocument).filter(SourceDocument.project_id == project)
        )
    assert statuses == ["graph_complete", "graph_complete"]
