"""Submitting documents and waiting for them, as tests do it: through docflow's own entry points,
always with a deadline on a condition (a status reached), never a fixed sleep."""

from __future__ import annotations

import time
from pathlib import Path

# How long a scenario's documents may take to end (a 6-page scan on a loaded 2-core machine).
SCENARIO_TIMEOUT_S = 240


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
