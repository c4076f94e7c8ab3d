"""Security properties of a running stack: loopback only, no secret in any log or artifact."""

from __future__ import annotations

import psutil
import pytest

pytestmark = [pytest.mark.services, pytest.mark.workers]


def _our_pids(settings) -> list[int]:
    from docflow.services import Paths

    pids = []
    for pidfile in Paths(settings).run.glob("*.pid"):
        try:
            pid = int(pidfile.read_text().split()[0])
            process = psutil.Process(pid)
            pids += [pid, *(child.pid for child in process.children(recursive=True))]
        except (ValueError, OSError, psutil.Error):
            continue
    return pids


def _loopback(ip: str) -> bool:
    import ipaddress

    address = ipaddress.ip_address(ip)
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is loopback too
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def test_every_service_listens_on_loopback_only(workers, prefect_api):
    # GIVEN the stack docflow started WHEN its listening sockets are listed
    pids = set(_our_pids(workers))
    listening = [c for c in psutil.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN and c.pid in pids]
    # THEN there are some, and none is bound to a non-loopback address
    assert listening
    exposed = [(c.pid, c.laddr) for c in listening if not _loopback(c.laddr.ip)]
    assert not exposed, f"listening beyond loopback: {exposed}"


def test_no_secret_appears_in_logs_or_prefect_artifacts(workers, prefect_api):
    from prefect.client.orchestration import get_client

    from docflow.services import Paths

    secrets = [
        workers.s3_secret_key.get_secret_value(),
        workers.neo4j_password.get_secret_value(),
        f":{workers.db_password.get_secret_value()}@",
    ]
    # GIVEN everything the services and workers logged so far (the suite ran the pipeline through them)
    logs = {path.name: path.read_text(errors="replace") for path in Paths(workers).log.glob("*.log")}
    assert any(name.startswith("worker-") for name in logs)
    with get_client(sync_client=True) as client:
        artifacts = [str(a.data) for a in client.read_artifacts(limit=200)]
    # THEN no secret is in any of them
    for secret in secrets:
        leaks = [name for name, text in logs.items() if secret in text]
        assert not leaks, f"a secret leaked into {leaks}"
        assert not any(secret in data for data in artifacts)
