"""The Prefect side as operators use it: deployments served, runs triggered through the API."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.intake import build_mixed_intake_folder

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]


@pytest.fixture
def served(prefect_api, workers, tmp_path):
    """`python -m deployments.serve` running against the Prefect server, as `docflow serve` does."""
    from prefect.client.orchestration import get_client

    intake_dir = tmp_path / "intake"
    intake_dir.mkdir()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - the server process writes it until the test ends
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "DOCFLOW_INTAKE_DIR": str(intake_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "deployments.serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )
    deadline = time.monotonic() + 120
    names: set[str] = set()
    wanted = {"intake-sweep", "reconcile", "pipeline-monitor", "reprocess"}
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
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key: a for a in found}


def test_intake_sweep_triggered_through_the_api(served, sample_files, project_id, tmp_path):
    from prefect.deployments import run_deployment
    from sqlalchemy import select

    from docflow.core.db import session_scope
    from docflow.core.models import SourceDocument
    from docflow.ops.progress import wait_for_documents

    good, _bad = sample_files
    extra = build_mixed_intake_folder(served, good, tmp_path / "outside.txt")
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


def test_the_reprocess_deployment_is_audited_as_the_deployment(served, project_id, tmp_path):
    from prefect.deployments import run_deployment

    from docflow.ops.audit import events
    from docflow.ops.submit import ingest_file

    # GIVEN a registered document
    note = tmp_path / "note.txt"
    note.write_text("A note for the reprocess deployment.")
    document_id = ingest_file(path=note, project_id=project_id, submit=False).document_id
    # WHEN an operator runs the reprocess deployment on it (dry run unticked)
    parameters = {"document_ids": [str(document_id)], "dry_run": False, "reason": "audit test"}
    run = run_deployment("reprocess/reprocess", parameters=parameters, timeout=300)
    assert run.state.is_completed(), run.state
    # THEN the audit log says the deployment did it, in which project, to which document
    (event,) = [e for e in events(actor="deployment:reprocess", action="reprocess") if e.project_id == project_id]
    assert event.outcome == "ok" and event.detail["documents"] == [document_id]


def _table(artifact) -> list[dict]:
    import json

    return json.loads(artifact.data) if isinstance(artifact.data, str) else list(artifact.data)


def test_the_flow_and_the_cli_run_one_sweep_engine_with_identical_outcomes(prefect_api, sample_files, tmp_path):
    """The `intake-sweep` flow and `docflow intake` report the same outcomes for the same folder,
    names made safe the same way (a control character and a bidi override in a file name)."""
    import shutil
    import uuid

    from typer.testing import CliRunner

    from docflow.cli import app
    from flows.intake import FILES_KEY, intake_sweep

    good, _bad = sample_files
    tricky = "memo\x1b[31m \u202etxt.exe.txt"  # shows as "memoexe.txt" in a terminal if left raw

    def folder(name: str):
        root = build_mixed_intake_folder(tmp_path / name, good, tmp_path / f"{name}-outside.txt")["writing"].parent
        shutil.copy(good["field_notes.txt"], root / tricky)
        (root / tricky).write_text("Maria Gonzalez wrote from Rotterdam. " * 3)
        past = time.time() - 3600
        os.utime(root / tricky, (past, past))
        return root

    def outcomes(rows: list[dict]) -> list[tuple[str, str, str]]:
        # A "still changing" reason says how many seconds ago the file changed: not an outcome.
        def reason(row: dict) -> str:
            return re.sub(r"modified [0-9.]+s ago", "modified Ns ago", row["reason"] or "")

        return sorted((row["file"], row["outcome"], reason(row)) for row in rows)

    # GIVEN two identical folders, each swept into a project of its own
    first, second = folder("via-flow"), folder("via-cli")
    flow_project, cli_project = f"flow-{uuid.uuid4().hex[:8]}", f"cli-{uuid.uuid4().hex[:8]}"
    # WHEN one is swept by the Prefect flow and the other by the CLI (dry runs first, then real ones)
    for dry_run in (True, False):
        state = intake_sweep(
            source=str(first),
            project_id=flow_project,
            stable_seconds=30,
            batch_size=3,
            dry_run=dry_run,
            return_state=True,
        )
        assert state.is_completed(), state
        by_flow = outcomes(_table(_artifacts(state.state_details.flow_run_id)[FILES_KEY]))
        args = [
            "intake",
            str(second),
            "--project",
            cli_project,
            "--stable-seconds",
            "30",
            "--batch-size",
            "3",
            "--json",
        ]
        result = CliRunner().invoke(app, [*args, "--dry-run"] if dry_run else args)
        assert result.exit_code == 0, result.output
        report = json.loads(result.output[result.output.index("{") :])
        by_cli = outcomes(
            [{"file": f["name"], "outcome": f["outcome"], "reason": f["reason"]} for f in report["files"]]
        )
        # THEN every file has the same outcome and reason in both
        assert by_flow == by_cli
        # AND the tricky name is shown with its control and bidi characters replaced, in both
        shown = [name for name, _outcome, _reason in by_flow if name.startswith("memo")]
        assert shown == ["memo\ufffd[31m \ufffdtxt.exe.txt"]
        assert not any("\x1b" in name or "\u202e" in name for name, _o, _r in by_flow + by_cli)
    assert {outcome for _name, outcome, _reason in by_flow} == {"new", "duplicate", "skipped", "rejected"}
