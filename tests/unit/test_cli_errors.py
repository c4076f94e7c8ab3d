"""The console entry point turns a service that is down into one clear line, not a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.unit]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.mark.parametrize(
    "entry", [["-c", "from docflow.cli import main; main()"], ["-m", "docflow.cli"]], ids=["console-script", "python-m"]
)
def test_a_command_against_a_stopped_database_says_which_and_how_to_start_it(entry):
    # GIVEN settings that point PostgreSQL at a port nothing listens on
    port = _closed_port()
    env = {**os.environ, "DOCFLOW_DB_PORT": str(port)}
    # WHEN a command that reads the database runs, through the console script's entry or `python -m`
    done = subprocess.run(
        [sys.executable, *entry, "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # THEN it exits 3 with one line naming the service, where it was looked for, and the fix
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert f"PostgreSQL is unreachable at 127.0.0.1:{port}" in done.stderr
    assert "docflow up" in done.stderr


def test_redis_and_neo4j_outages_are_named_and_a_real_bug_is_not_disguised():
    import redis.exceptions
    from neo4j.exceptions import ServiceUnavailable

    from docflow.cli import unreachable_service

    assert unreachable_service(redis.exceptions.ConnectionError("refused")).startswith("Redis is unreachable at ")
    assert unreachable_service(ServiceUnavailable("refused")).startswith("Neo4j is unreachable at bolt://")
    assert unreachable_service(ValueError("a bug")) is None
