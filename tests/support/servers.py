"""Processes a test starts and talks to over HTTP: the API's uvicorn, `docflow metrics`.

Each is started as `docflow up` starts it (a separate process, the suite's environment plus the
test's own values), waited for by polling a URL until it answers (a deadline, never a sleep), and
stopped at the end. A process that dies while starting fails the test with its log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.ports import free_port

START_TIMEOUT_S = 60


@dataclass(frozen=True)
class Server:
    url: str  # http://127.0.0.1:<port>
    log: Path


@contextmanager
def serving(
    arguments: Sequence[str], *, port: int, probe: str, log: Path, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """``python -m <arguments>`` running until the block ends, once ``probe`` (a path) answers."""
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", *arguments], env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                httpx.get(url + probe, timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"python -m {' '.join(arguments)} did not start:\n{log.read_text()}") from None
                time.sleep(0.3)
        yield Server(url, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def api_server(*, log: Path, env: dict[str, str] | None = None) -> Iterator[Server]:
    """`python -m uvicorn docflow.api:create_app --factory`, as `docflow up` runs it, on a free port."""
    port = free_port()
    arguments = ["uvicorn", "docflow.api:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port)]
    with serving(
        arguments, port=port, probe="/health", log=log, env={"DOCFLOW_API_PORT": str(port), **(env or {})}
    ) as server:
        yield server


@contextmanager
def metrics_exporter(*, log: Path) -> Iterator[Server]:
    """`docflow metrics --port N` on a free port."""
    port = free_port()
    with serving(["docflow.cli", "metrics", "--port", str(port)], port=port, probe="/metrics", log=log) as server:
        yield server
