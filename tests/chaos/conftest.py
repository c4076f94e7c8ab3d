"""Chaos fixtures: the files every scenario submits, exclusive control of the workers, a clean reference run.

Chaos scenarios kill and restart workers and services, so they run last (see the root
conftest) and own the workers while they run: the session's ordinary worker is stopped first.
Each scenario submits a small document set into its own project, injects its fault, recovers,
and is then held to the invariants of :mod:`tests.support.invariants` and compared with a clean
run of the same bytes. Every scenario adds a row to the results table printed at the end
(:mod:`tests.support.chaos_results`); the helpers scenarios call are in :mod:`tests.support.chaos`.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.chaos import WorkerControl
from tests.support.invariants import InvariantReport, check_project
from tests.support.pipeline import submit_all, wait_terminal


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
