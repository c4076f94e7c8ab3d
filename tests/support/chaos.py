"""What the chaos scenarios share: control of their own worker processes, and the step that ends a
scenario (wait, check the invariants, compare with the clean run, add the table row)."""

from __future__ import annotations

import signal
import time

import psutil

from tests.support.chaos_results import RESULTS
from tests.support.invariants import InvariantReport, check_project, compare_with_clean
from tests.support.pipeline import wait_terminal


class WorkerControl:
    """Start, find and kill this suite's own worker processes (never anyone else's)."""

    def __init__(self, settings):
        self.settings = settings
        self.started: list[str] = []

    def start(
        self, name: str = "chaos", concurrency: int = 1, env: dict | None = None, queues: list[str] | None = None
    ) -> int:
        from docflow.services import workers

        pid = workers.start(
            self.settings, name=name, queues=queues, concurrency=concurrency, env=env, echo=lambda _l: None
        )
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


def subset(reference: InvariantReport, paths) -> InvariantReport:
    """The clean run's outcome for only these files (a scenario that submitted some of them)."""
    from docflow.core.storage import sha256_file

    wanted = {sha256_file(path) for path in paths}
    return InvariantReport(documents={sha: d for sha, d in reference.documents.items() if sha in wanted})
