"""Test harness: the suite starts the real services it needs; nothing is skipped for want of one.

The suite runs a stack of its own: PostgreSQL, Redis, the S3 store, Neo4j and (when a test needs
it) Prefect, on ports of their own (the usual port plus ``DOCFLOW_TEST_PORT_BASE``, 21,000 by
default) with their data under ``var/test``, started at the beginning of the session and stopped — data removed — at its end. An
operator's stack on the same machine (``docflow up``: documents, graph, deployments) is never
touched, stopped or restarted, even by the chaos scenarios. ``DOCFLOW_TEST_KEEP_STACK=1`` keeps
the test stack running between sessions (faster local iteration).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.support.stack import ORIGINAL_ENV, TEST_DATA_DIR, TEST_ENV

# The test environment is applied here, before docflow's settings are first read.
os.environ.update(TEST_ENV)

# The chaos results table is printed at the end of every session that ran a scenario.
pytest_plugins = ["tests.support.chaos_results"]

OPERATOR_GUARD = "test_the_suite_left_the_operator_stack_as_it_found_it"


def pytest_collection_modifyitems(config, items):
    # Chaos scenarios stop and kill workers and restart services: they run after everything else.
    items.sort(key=lambda item: item.get_closest_marker("chaos") is not None)
    # The operator-stack guard compares after everything (chaos included) with a fingerprint taken
    # before the first test.
    guards = [item for item in items if item.name == OPERATOR_GUARD]
    if guards and len(items) > 1:
        items.remove(guards[0])
        items.append(guards[0])
        items[0].fixturenames.insert(0, "operator_stack")


@pytest.fixture(scope="session")
def operator_stack():
    """The operator's stack on this machine and its fingerprint, taken before the first test.

    The running one when there is (read only); otherwise the README's main job run as a user would,
    on the usual ports with data in a temporary folder, left running through the session as the
    README leaves it, and stopped at the end.
    """
    from tests.support.operator_stack import fingerprint, is_running, operator_env, operator_settings, run_main_job

    env = operator_env(ORIGINAL_ENV)
    settings = operator_settings(env)
    scratch = None
    if not is_running(settings):
        # Not under pytest's temporary root: every new pytest session on the machine resets that
        # root to 0700, and PostgreSQL runs as its own user, which must reach its data folder.
        scratch = Path(tempfile.mkdtemp(prefix="docflow-operator-"))
        env = operator_env(ORIGINAL_ENV, data_dir=scratch / "var")
        print(run_main_job(env, scratch / "samples"))
        # Read after the main job: its first start generated the secrets the settings pick up.
        settings = operator_settings(env)
    yield settings, fingerprint(settings), scratch is not None
    if scratch is not None:
        from tests.support.operator_stack import stop_everything

        stop_everything(env)
        shutil.rmtree(scratch, ignore_errors=True)


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

    try:
        services.up(settings, services.CORE_SERVICES, echo=lambda line: print("stack:", line))
        services.Postgres(settings).ensure_database()
        migrate.upgrade()
    except BaseException:
        # Whatever did start is stopped: a failed start must not leave servers behind.
        services.down(settings, services.CORE_SERVICES, echo=lambda line: print("stack (failed start):", line))
        raise
    yield settings
    if os.environ.get("DOCFLOW_TEST_KEEP_STACK"):
        return
    from docflow.core.db import reset_engine
    from docflow.services import workers

    workers.stop(settings, timeout=20, echo=lambda line: print("teardown:", line))
    reset_engine()
    services.down(
        settings, [*services.CORE_SERVICES, "prefect", "api", "deployments"], echo=lambda line: print("teardown:", line)
    )
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
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    from docflow import services
    from docflow.core.secrets import prefect_auth_string

    services.up(stack, ["prefect"], echo=lambda line: print("stack:", line))
    auth = prefect_auth_string(stack).get_secret_value()  # the server requires it (docflow generated it)
    with temporary_settings(updates={PREFECT_API_URL: stack.prefect_api_url, PREFECT_API_AUTH_STRING: auth}):
        yield stack.prefect_api_url
