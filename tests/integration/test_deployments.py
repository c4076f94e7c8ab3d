"""The Prefect side as operators use it: deployments served, runs triggered through the API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_intake import build_intake_folder

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]


@pytest.fixture
def served(prefect_api, workers, tmp_path):
    """`python -m deployments.serve` running against the Prefect server, as `docflow serve` does."""
    from prefect.client.orchestration import get_client

    intake_dir = tmp_path / "intake"
    intake_dir.mkdir()
    log = open(tmp_path / "serve.log", "wb")
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "DOCFLOW_INTAKE_DIR": str(intake_dir)}
    process = subprocess.Popen([sys.executable, "-m", "deployments.serve"], env=env, stdout=log,
                               stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2])
    deadline = time.monotonic() + 120
    names: set[str] = set()
    wanted = {"intake-sweep", "reconcile", "pipeline-monitor"}
    with get_client(sync_client=True) as client:
        # serve() registers the deployments one after the other: wait for all of them.
        while time.monotonic() < deadline and not wanted <= names:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            names = {d.name for d in client.read_deployments()}
            time.sleep(1)
    assert wanted <= names, names
    yield intake_dir
    process.terminate()
    process.wait(timeout=30)
    log.close()


def _artifacts(flow_run_id) -> dict[str, object]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return {a.key: a for a in found}


def test_intake_sweep_triggered_through_the_api(served, sample_files, project_id, tmp_path):
    from prefect.deployments import run_deployment

    from docflow.progress import wait_for_documents
    from docflow.db import session_scope
    from docflow.models import SourceDocument
    from sqlalchemy import select

    good, _bad = sample_files
    extra = build_intake_folder(served, good, tmp_path / "outside.txt")
    parameters = {"source": str(served), "project_id": project_id, "stable_seconds": 30}

    # WHEN an operator runs the intake-sweep deployment (as the UI's "Run" button does)
    run = run_deployment("intake-sweep/intake-sweep", parameters=parameters, timeout=300)
    # THEN the run completes and its artifacts count every file
    assert run.state.is_completed(), run.state
    artifacts = _artifacts(run.id)
    assert {"intake-sweep-summary", "intake-sweep-files"} <= set(artifacts)
    summary = artifacts["intake-sweep-summary"].data
    assert f"| new | {len(good)} |" in summary and "| duplicate | 1 |" in summary
    assert "| rejected | 3 |" in summary and "empty file: 0 bytes" in summary
    table = artifacts["intake-sweep-files"].data
    assert "still_writing.txt" in str(table) and "still changing" in str(table)

    # AND the documents go all the way through the pipeline
    with session_scope() as session:
        ids = list(session.execute(select(SourceDocument.id).where(SourceDocument.project_id == project_id)).scalars())
    assert len(ids) == len(good)
    assert set(wait_for_documents(ids, timeout_s=300).values()) == {"graph_complete"}

    # WHEN the half-written file has stopped changing and the sweep runs again with wait=True
    past = time.time() - 120
    os.utime(extra["writing"], (past, past))
    second = run_deployment("intake-sweep/intake-sweep", parameters={**parameters, "wait": True}, timeout=300)
    # THEN only that file is new, and the run followed it to graph_complete
    assert second.state.is_completed(), second.state
    summary = _artifacts(second.id)["intake-sweep-summary"].data
    assert "| new | 1 |" in summary
    assert "intake-sweep-progress" in _artifacts(second.id)

    # AND a third sweep submits nothing
    third = run_deployment("intake-sweep/intake-sweep", parameters=parameters, timeout=300)
    assert "| new | 0 |" in _artifacts(third.id)["intake-sweep-summary"].data
