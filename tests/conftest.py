"""Test harness: the suite starts the real services it needs; nothing is skipped for want of one.

Tests share the local services (the same ones ``docflow up`` starts) but not their data: they use
their own PostgreSQL database, Redis databases, bucket and per-test project ids, so running the
suite never touches what an operator processed on the same machine.
"""

from __future__ import annotations

import os
import uuid

import pytest

# The test environment is configured here, before docflow's settings are first read.
TEST_ENV = {
    "DOCFLOW_DB_NAME": "docflow_test",
    "DOCFLOW_REDIS_URL": "redis://127.0.0.1:6379/2",
    "DOCFLOW_RESULT_BACKEND_URL": "redis://127.0.0.1:6379/3",
    "DOCFLOW_S3_BUCKET": "docflow-test",
    # Fast retries so a "service down, then back" test takes seconds, not minutes.
    "DOCFLOW_RETRY_BACKOFF_BASE_S": "2",
    "DOCFLOW_RETRY_BACKOFF_MAX_S": "10",
    "OMP_THREAD_LIMIT": "1",
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
}
for _key, _value in TEST_ENV.items():
    os.environ[_key] = _value


@pytest.fixture(scope="session")
def settings():
    from docflow.settings import get_settings

    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(scope="session")
def stack(settings):
    """PostgreSQL, Redis, S3 and Neo4j running (started if needed), the test schema at head."""
    from docflow import migrate, services

    services.up(settings, echo=lambda line: print("stack:", line))
    services.Postgres(settings).ensure_database()
    migrate.upgrade()
    return settings


@pytest.fixture
def project_id() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
