"""The README's main job, as a new user runs it: the samples go in through the intake-sweep
deployment, a reconcile run follows, and the links to both runs and their reports are printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]


@pytest.fixture
def deployment_server(stack):
    """The background `docflow serve` the main job leaves running, stopped after the test: other
    tests serve the same deployments with their own intake folder, never two servers at once.
    The worker the main job starts is stopped too: left running, it would take the work of every
    later test, whose assertions name the suite's own worker (and the chaos scenarios stop only that)."""
    from docflow.services import DeploymentServer
    from docflow.services import workers as worker_processes

    server = DeploymentServer(stack)
    server.stop()
    already = set(worker_processes.running(stack))
    yield server
    server.stop()
    for name in set(worker_processes.running(stack)) - already:
        worker_processes.stop(stack, name=name, timeout=30, echo=lambda _line: None)


def test_the_main_job_runs_the_samples_through_the_intake_sweep_deployment_and_prints_the_links(
    prefect_api, stack, deployment_server, tmp_path
):
    from prefect.client.orchestration import get_client

    # GIVEN a stack (the suite's own) WHEN the main job runs
    finished = subprocess.run(
        [sys.executable, "-m", "docflow.cli", "demo", "--directory", str(tmp_path / "samples"), "--timeout", "300"],
        # As under a service manager or in a container: no XDG_RUNTIME_DIR, Python's warnings shown.
        env={k: v for k, v in os.environ.items() if k not in ("XDG_RUNTIME_DIR", "PYTHONWARNINGS")},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = finished.stdout
    # THEN every sample reaches graph_complete and it exits 0
    assert finished.returncode == 0, output[-4000:] + finished.stderr[-4000:]
    assert output.count("graph_complete") >= 6
    # AND it prints no warning a user can do nothing about (issue 26: RuntimeDirWarning from a library)
    assert "Warning" not in output + finished.stderr, (output + finished.stderr)[-3000:]
    # AND the samples went in through a completed intake-sweep run, then a reconcile run reported
    assert re.search(r"intake-sweep run '[^']+': Completed", output), output[-3000:]
    links = re.findall(rf"{re.escape(stack.prefect_ui_url)}/runs/flow-run/[0-9a-f-]{{36}}", output)
    assert len(links) == 2, output[-3000:]
    assert "reconcile/reconcile run" in output and "artifact reconcile-report" in output, output[-3000:]
    assert f"{stack.api_url}/ui" in output
    # AND the deployments stay registered and served for the UI the user opens next
    assert deployment_server.running()
    with get_client(sync_client=True) as client:
        names = {d.name for d in client.read_deployments()}
    assert {"intake-sweep", "reconcile", "pipeline-monitor", "reprocess"} <= names
