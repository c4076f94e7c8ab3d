"""Chaos harness: exclusive control of the workers, a clean reference run, a results table.

Chaos scenarios kill and restart workers and services, so they run last (see the root
conftest) and own the workers while they run: the session's ordinary worker is stopped first.
Each scenario submits a small document set into its own project, injects its fault, recovers,
and is then held to the invariants of :mod:`tests.chaos.invariants` and compared with a clean
run of the same bytes. Every scenario adds a row to the results table printed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tests.chaos.invariants import InvariantReport, check_project, compare_with_clean

RESULTS: list[dict] = []
SCENARIO_TIMEOUT_S = 240


@dataclass
class ChaosFiles:
    scan: Path  # a 6-page scanned PDF: several seconds of OCR to interrupt
    small: list[Path]

    @property
    def all(self) -> list[Path]:
        return [self.scan, *self.small]


@pytest.fixture(scope="session")
def chaos_files(tmp_path_factory, sample_files) -> ChaosFiles:
    from docflow.samples import write_scanned_pdf

    good, _bad = sample_files
    directory = tmp_path_factory.mktemp("chaos")
    scan = write_scanned_pdf(path=directory / "six_page_scan.pdf", pages=6, label="Chaos")
    small = []
    for name in ("field_notes.txt", "born_digital.pdf", "partner_email.eml"):
        small.append(Path(shutil.copy(good[name], directory / name)))
    return ChaosFiles(scan, small)


class WorkerControl:
    """Start, find and kill this suite's own worker processes (never anyone else's)."""

    def __init__(self, settings):
        self.settings = settings
        self.started: list[str] = []

    def start(self, name: str = "chaos", concurrency: int = 1, env: dict | None = None) -> int:
        from docflow.services import workers

        pid = workers.start(self.settings, name=name, concurrency=concurrency, env=env, echo=lambda _l: None)
        self.started.append(name)
        self.wait_ready(name)
        return pid

    def wait_ready(self, name: str, timeout: float = 120) -> None:
        from docflow.services import workers

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            names = workers.wait_ready(self.settings, timeout=max(deadline - time.monotonic(), 1))
            if any(f"docflow-{name}@" in worker for worker in names):
                return
        raise TimeoutError(f"worker {name} did not answer")

    def pid(self, name: str = "chaos") -> int | None:
        from docflow.services import workers

        return workers.running(self.settings).get(name)

    def children(self, name: str = "chaos") -> list[psutil.Process]:
        pid = self.pid(name)
        return psutil.Process(pid).children() if pid else []

    def kill_all(self, name: str = "chaos") -> None:
        """SIGKILL the main process and its pool children: a machine-level crash of the worker."""
        pid = self.pid(name)
        if not pid:
            return
        processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        for process in processes:
            try:
                process.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(processes, timeout=10)

    def stop(self, name: str = "chaos", timeout: float = 60) -> None:
        from docflow.services import workers

        workers.stop(self.settings, name=name, timeout=timeout, echo=lambda _l: None)

    def stop_all(self) -> None:
        for name in set(self.started):
            self.stop(name, timeout=20)


@pytest.fixture
def project() -> str:
    """A project of its own for each scenario: its documents are the only ones it checks."""
    return f"chaos-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def chaos_workers(stack):
    """Exclusive worker control: the session worker is stopped; ours are stopped afterwards."""
    from docflow.services import workers

    workers.stop(stack, name="pytest", timeout=30, echo=lambda _l: None)
    control = WorkerControl(stack)
    yield control
    control.stop_all()


def settled_intake_folder(folder: Path, files: list[Path]) -> Path:
    """``files`` copied into ``folder`` and dated ten minutes back, so a sweep finds them settled
    (past any ``stable_seconds``) and takes them at once."""
    folder.mkdir()
    past = time.time() - 600
    for path in files:
        copy = Path(shutil.copy(path, folder / path.name))
        os.utime(copy, (past, past))
    return folder


def submit_all(files: list[Path], project_id: str) -> list[int]:
    from docflow.ops.submit import ingest_file

    return [ingest_file(path=path, project_id=project_id).document_id for path in files]


def wait_terminal(ids: list[int], timeout_s: float = SCENARIO_TIMEOUT_S) -> dict[int, str]:
    from docflow.ops.progress import wait_for_documents

    return wait_for_documents(ids, timeout_s=timeout_s)


def wait_for_status(document_id: int, statuses: set[str], timeout_s: float = 120) -> str:
    from docflow.ops.progress import current_statuses

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = current_statuses([document_id])[document_id][0]
        if status in statuses:
            return status
        time.sleep(0.1)
    raise TimeoutError(f"document {document_id} never reached {statuses}")


@pytest.fixture(scope="session")
def clean_reference(stack, chaos_files) -> InvariantReport:
    """The same files through an undisturbed pipeline: what every faulted run must equal."""
    from docflow.services import workers

    project = f"clean-{uuid.uuid4().hex[:8]}"
    workers.stop(stack, name="pytest", timeout=30, echo=lambda _l: None)
    control = WorkerControl(stack)
    control.start("chaos-clean", concurrency=2)
    try:
        ids = submit_all(chaos_files.all, project)
        statuses = wait_terminal(ids)
        assert set(statuses.values()) == {"graph_complete"}, statuses
        report = check_project(stack, project, expected_documents=len(ids))
        report.assert_ok()
        return report
    finally:
        control.stop("chaos-clean", timeout=20)


def settle(
    scenario: str,
    *,
    settings,
    project_id: str,
    ids: list[int],
    clean: InvariantReport,
    submitted: int | None = None,
    note: str = "",
) -> InvariantReport:
    """Wait for the documents, add the scenario's table row, then require all ``graph_complete``
    and the invariants (the row is recorded first, so a failing scenario still shows in the table)."""
    statuses = wait_terminal(ids)
    report = record(
        scenario,
        settings=settings,
        project_id=project_id,
        clean=clean,
        submitted=len(ids) if submitted is None else submitted,
        note=note,
    )
    assert set(statuses.values()) == {"graph_complete"}, statuses
    report.assert_ok()
    return report


def record(
    scenario: str,
    *,
    settings,
    project_id: str,
    clean: InvariantReport,
    submitted: int,
    expect_complete: int | None = None,
    note: str = "",
) -> InvariantReport:
    """Check the invariants, compare with the clean run, and add the scenario's table row."""
    report = check_project(settings, project_id, expected_documents=submitted)
    differences = (
        [] if expect_complete is not None and expect_complete < submitted else compare_with_clean(clean, report)
    )
    duplicated = sum(1 for v in report.violations if v.startswith("duplicate"))
    RESULTS.append(
        {
            "scenario": scenario,
            "submitted": submitted,
            "completed": report.completed,
            "duplicated": duplicated,
            "lost": report.lost,
            "errors": sum(d.status.startswith("error") for d in report.documents.values()),
            "matches_clean_run": not differences,
            "note": note,
        }
    )
    report.violations += differences
    return report


def write_results_table() -> list[str]:
    """The results table as markdown lines (also written to var/chaos-results.md and .json: outside
    the suite's own data folder, which is removed when the session ends)."""
    if not RESULTS:
        return []
    lines = [
        "| scenario | submitted | completed | duplicated | lost | errors | equals clean run | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in RESULTS:
        lines.append(
            f"| {row['scenario']} | {row['submitted']} | {row['completed']} | {row['duplicated']} | "
            f"{row['lost']} | {row['errors']} | {'yes' if row['matches_clean_run'] else 'no'} | {row['note']} |"
        )
    out = Path(__file__).resolve().parents[2] / "var" / "chaos-results.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps(RESULTS, indent=2))
    return [f"chaos results ({out})", *lines]
