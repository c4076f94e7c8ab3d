"""The suite's own stack: every service on its usual port plus a base, its data under ``var/test``.

Read by the root conftest before docflow's settings are first read (it applies :data:`TEST_ENV` to
the process environment), and by tests that start processes of their own with the same services.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Each service on its usual port plus this. Another base gives a second, independent test stack on
# the same machine (its data under var/test-<base>): two checkouts, or two engineers' runs, never
# share services. The default keeps every port below Linux's ephemeral range (32768-60999), where
# any outgoing connection on the machine may hold a port the moment a service wants to bind it
# (seen: S3's volume port taken at start-up with a base of 50,000), and clear of every usual port.
DEFAULT_PORT_BASE = 21000
PORT_BASE = int(os.environ.get("DOCFLOW_TEST_PORT_BASE", str(DEFAULT_PORT_BASE)))
TEST_DATA_DIR = REPO / "var" / ("test" if PORT_BASE == DEFAULT_PORT_BASE else f"test-{PORT_BASE}")


def _port(usual: int) -> str:
    return str(usual + PORT_BASE)


# The environment as the session got it: an operator's own commands on this machine run with it.
ORIGINAL_ENV = dict(os.environ)
# The test environment is configured here, before docflow's settings are first read.
TEST_ENV = {
    "DOCFLOW_DATA_DIR": str(TEST_DATA_DIR),
    "DOCFLOW_DB_PORT": _port(5432),
    "DOCFLOW_DB_NAME": "docflow_test",
    "DOCFLOW_REDIS_URL": f"redis://127.0.0.1:{_port(6379)}/2",
    "DOCFLOW_RESULT_BACKEND_URL": f"redis://127.0.0.1:{_port(6379)}/3",
    "DOCFLOW_S3_ENDPOINT": f"127.0.0.1:{_port(8333)}",
    "DOCFLOW_S3_LOCAL_MASTER_PORT": _port(9333),
    "DOCFLOW_S3_LOCAL_VOLUME_PORT": _port(8380),
    "DOCFLOW_S3_LOCAL_FILER_PORT": _port(8888),
    "DOCFLOW_S3_LOCAL_ADMIN_PORT": _port(3646),
    "DOCFLOW_S3_BUCKET": "docflow-test",
    "DOCFLOW_NEO4J_URI": f"bolt://127.0.0.1:{_port(7687)}",
    "DOCFLOW_PREFECT_API_URL": f"http://127.0.0.1:{_port(4200)}/api",
    "DOCFLOW_API_PORT": _port(8600),
    "DOCFLOW_INTAKE_DIR": str(TEST_DATA_DIR / "intake"),
    # Fast retries so a "service down, then back" test takes seconds, not minutes.
    "DOCFLOW_RETRY_BACKOFF_BASE_S": "5",
    "DOCFLOW_RETRY_BACKOFF_MAX_S": "20",
    # Every test client signs in from 127.0.0.1 into one audit log: the per-address throttle would
    # count the deliberate failures of every test (and of earlier runs on a kept stack) against all
    # the others. It is tested on its own, with addresses of its own (tests/integration/test_accounts.py).
    "DOCFLOW_SIGNIN_FAILURES_PER_ADDRESS": "100000",
    "OMP_THREAD_LIMIT": "1",
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
}
