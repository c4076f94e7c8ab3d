"""Test harness: the suite starts the real services it needs; nothing is skipped for want of one.

The suite runs a stack of its own: PostgreSQL, Redis, the S3 store, Neo4j and (when a test needs
it) Prefect, on ports of their own (``5xxxx``: the usual port plus 50,000) with their data under
``var/test``, started at the beginning of the session and stopped — data removed — at its end. An
operator's stack on the same machine (``docflow up``: documents, graph, deployments) is never
touched, stopped or restarted, even by the chaos scenarios. ``DOCFLOW_TEST_KEEP_STACK=1`` keeps
the test stack running between sessions (faster local iteration).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_DATA_DIR = REPO / "var" / "test"
# The test environment is configured here, before docflow's settings are first read.
TEST_ENV = {
    "DOCFLOW_DATA_DIR": str(TEST_DATA_DIR),
    "DOCFLOW_DB_PORT": "55432",
    "DOCFLOW_DB_NAME": "docflow_test",
    "DOCFLOW_REDIS_URL": "redis://127.0.0.1:56379/2",
    "DOCFLOW_RESULT_BACKEND_URL": "redis://127.0.0.1:56379/3",
    "DOCFLOW_S3_ENDPOINT": "127.0.0.1:58333",
    "DOCFLOW_S3_LOCAL_MASTER_PORT": "59333",
    "DOCFLOW_S3_LOCAL_VOLUME_PORT": "58380",
    "DOCFLOW_S3_LOCAL_FILER_PORT": "58888",
    "DOCFLOW_S3_LOCAL_ADMIN_PORT": "53646",
    "DOCFLOW_S3_BUCKET": "docflow-test",
    "DOCFLOW_NEO4J_URI": "bolt://127.0.0.1:57687",
    "DOCFLOW_PREFECT_API_URL": "http://127.0.0.1:54200/api",
    "DOCFLOW_API_PORT": "58600",
    "DOCFLOW_INTAKE_DIR": str(TEST_DATA_DIR / "intake"),
    # Fast retries so a "service down, then back" test takes seconds, not minutes.
    "DOCFLOW_RETRY_BACKOFF_BASE_S": "5",
    "DOCFLOW_RETRY_BACKOFF_MAX_S": "20",
    "OMP_THREAD_LIMIT": "1",
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
}
for _key, _value in TEST_ENV.items():
    os.environ[_key] = _value


def pytest_collection_modifyitems(config, items):
    # Chaos scenarios stop and kill workers and restart services: they run after everything else.
    items.sort(key=lambda item: item.get_closest_marker("chaos") is not None)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    import sys

    chaos = sys.modules.get("tests.chaos.conftest")
    for line in chaos.write_results_table() if chaos else []:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def settings():
    from docflow.core.settings import get_settings

    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(scope="session")
def stack(settings):
    """The suite's own PostgreSQL, Redis, S3 and Neo4j (started if needed), the test schema at head.

    Stopped at the end of the session with everything else the suite started under ``var/test``
    (Prefect, workers), and its data removed, unless ``DOCFLOW_TEST_KEEP_STACK`` is set.
    """
    from docflow import services
    from docflow.core import migrate

    services.up(settings, services.CORE_SERVICES, echo=lambda line: print("stack:", line))
    services.Postgres(settings).ensure_database()
    migrate.upgrade()
    yield settings
    if os.environ.get("DOCFLOW_TEST_KEEP_STACK"):
        return
    from docflow.core.db import reset_engine
    from docflow.services import workers

    workers.stop(settings, timeout=20, echo=lambda line: print("teardown:", line))
    reset_engine()
    services.down(settings, [*services.CORE_SERVICES, "prefect", "api"], echo=lambda line: print("teardown:", line))
    shutil.rmtree(TEST_DATA_DIR, ignore_errors=True)


@pytest.fixture
def project_id() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def workers(stack):
    """Real Celery worker processes (all four queues), stopped at the end of the session."""
    from docflow.services import workers as worker_processes

    worker_processes.start(stack, name="pytest", echo=lambda line: print("workers:", line))
    worker_processes.wait_ready(stack, timeout=120)
    yield stack
    worker_processes.stop(stack, name="pytest", timeout=30, echo=lambda line: print("workers:", line))


@pytest.fixture(scope="session")
def sample_files(tmp_path_factory):
    from docflow.samples import write_bad_samples, write_samples

    directory = tmp_path_factory.mktemp("samples")
    good = {path.name: path for path in write_samples(directory=directory / "good")}
    bad = write_bad_samples(directory=directory / "bad")
    return good, bad


@pytest.fixture(scope="session")
def prefect_api(stack):
    """A real Prefect 3 server (the one `docflow up` starts), and this process pointed at it."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from docflow import services

    services.up(stack, ["prefect"], echo=lambda line: print("stack:", line))
    with temporary_settings(updates={PREFECT_API_URL: stack.prefect_api_url}):
        yield stack.prefect_api_url
