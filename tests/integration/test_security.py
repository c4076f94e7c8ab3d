"""Security properties of a running stack: loopback only, every service refuses an unauthenticated
client, generated secrets kept 0600 and never shown (logs, artifacts, verify, exception messages),
and no service beyond loopback while a credential is a known default."""

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
        workers.db_password.get_secret_value(),
        workers.redis_password.get_secret_value(),
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


# -- generated secrets and unauthenticated clients ------------------------------------------------


def _secrets(settings) -> list[str]:
    from docflow.core.secrets import prefect_auth_string

    return [
        prefect_auth_string(settings).get_secret_value(),
        settings.db_password.get_secret_value(),
        settings.redis_password.get_secret_value(),
        settings.s3_secret_key.get_secret_value(),
        settings.neo4j_password.get_secret_value(),
    ]


def test_generated_secrets_are_strong_private_files(stack):
    import stat

    from docflow.core.secrets import secrets_dir, weak_secrets

    # GIVEN the suite's stack, started on a fresh data folder with no secret configured
    folder = secrets_dir(stack)
    # THEN each service secret is a file only its owner can read, in a folder only its owner can enter
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("db-password", "redis-password", "s3-access-key", "s3-secret-key", "neo4j-password"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    # AND the settings hold them, none a known default or short
    assert weak_secrets(stack) == []
    assert all(len(secret) >= 32 for secret in _secrets(stack))


def test_postgres_refuses_a_client_without_the_password(stack):
    import psycopg

    url = stack.sqlalchemy_url
    base = {"host": url.host, "port": url.port, "dbname": url.database, "user": url.username, "connect_timeout": 5}
    # WHEN a client connects over TCP without a password, or with a wrong one THEN it is refused
    for password in ("", "docflow", "wrong-password"):
        with pytest.raises(psycopg.OperationalError) as refused:
            psycopg.connect(**base, password=password).close()
        assert "password" in str(refused.value)
        assert url.password not in str(refused.value)
    # AND the right password gets in
    psycopg.connect(**base, password=url.password).close()


def test_redis_refuses_a_client_without_auth(stack):
    import redis

    host, port = stack.redis_host_port
    # WHEN a client sends a command without AUTH THEN Redis refuses it
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host=host, port=port, socket_timeout=3).ping()
    # AND a wrong password is refused, its error naming no secret
    with pytest.raises(redis.AuthenticationError) as refused:
        redis.Redis(host=host, port=port, password="wrong-password", socket_timeout=3).ping()
    assert stack.redis_password.get_secret_value() not in str(refused.value)
    # AND the settings' URL (password included) gets in
    assert redis.Redis.from_url(stack.broker_url, socket_timeout=3).ping()


def test_s3_refuses_anonymous_and_wrong_keys(stack):
    from minio import Minio
    from minio.error import S3Error

    # WHEN an anonymous client and one with a wrong secret list buckets or read the bucket THEN both are refused
    for access, secret in ((None, None), (stack.s3_access_key, "wrong-secret-key"), ("docflow", "docflow-secret-key")):
        client = Minio(stack.s3_endpoint, access_key=access, secret_key=secret, secure=False)
        with pytest.raises(S3Error) as refused:
            list(client.list_objects(stack.s3_bucket))
        assert stack.s3_secret_key.get_secret_value() not in str(refused.value)


def test_prefect_server_refuses_a_client_without_the_auth_string(prefect_api, stack):
    import base64
    import json
    import urllib.error
    import urllib.request

    from docflow.core.secrets import prefect_auth_string

    def call(path: str, auth: str | None) -> int:
        headers = {"Content-Type": "application/json"}
        if auth is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
        body = json.dumps({"limit": 1}).encode() if path != "/health" else None
        request = urllib.request.Request(f"{prefect_api}{path}", data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as refused:
            assert prefect_auth_string(stack).get_secret_value() not in refused.read().decode(errors="replace")
            return refused.code

    # GIVEN the Prefect server docflow started WHEN a client reads deployments without the auth string,
    # or with a wrong one THEN it is refused
    assert call("/deployments/filter", None) == 401
    assert call("/deployments/filter", "docflow:wrong") == 401
    # AND the health probe stays open (for load balancers), and the generated auth string gets in
    assert call("/health", None) == 200
    assert call("/deployments/filter", prefect_auth_string(stack).get_secret_value()) == 200


@pytest.mark.neo4j
def test_neo4j_refuses_a_wrong_password(stack):
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError

    # WHEN a driver connects with the old default password or none THEN Neo4j refuses it
    for password in ("docflow-neo4j", ""):
        driver = GraphDatabase.driver(stack.neo4j_uri, auth=(stack.neo4j_user, password))
        with driver, pytest.raises(AuthError) as refused:
            driver.verify_connectivity()
        assert stack.neo4j_password.get_secret_value() not in str(refused.value)


def test_docflow_verify_shows_no_secret(stack):
    import subprocess
    import sys

    # WHEN the operator runs `docflow verify` on the running stack
    result = subprocess.run(
        [sys.executable, "-m", "docflow.cli", "verify"], capture_output=True, text=True, timeout=120
    )
    # THEN no secret value is in what it prints
    output = result.stdout + result.stderr
    assert output.strip()
    for secret in _secrets(stack):
        assert secret not in output


def test_service_logs_hold_no_secret(stack):
    from docflow.services import Paths

    # GIVEN the logs of the services the suite started THEN none holds a secret value
    logs = {path.name: path.read_text(errors="replace") for path in Paths(stack).log.glob("*.log")}
    assert logs
    for secret in _secrets(stack):
        assert not [name for name, text in logs.items() if secret in text]


# -- non-loopback binds ------------------------------------------------------------------------------


@pytest.mark.parametrize("service", ["postgres", "redis", "s3", "neo4j", "prefect"])
def test_a_service_beyond_loopback_refuses_default_credentials(stack, tmp_path, service):
    from pydantic import SecretStr

    from docflow import services

    # GIVEN settings asking for a non-loopback bind while the credentials are the old fixed defaults
    exposed = stack.model_copy(
        update={
            "bind_host": "0.0.0.0",
            "data_dir": tmp_path,
            "db_password": SecretStr("docflow"),
            "redis_password": None,
            "s3_access_key": "docflow",
            "s3_secret_key": SecretStr("docflow-secret-key"),
            "neo4j_password": SecretStr("docflow-neo4j"),
            "prefect_auth_string": SecretStr("admin:pass"),
        }
    )
    # WHEN the service is started THEN it refuses, naming what to set and no value
    with pytest.raises(services.ServiceError, match="beyond loopback") as refused:
        services.SERVICE_CLASSES[service](exposed).start()
    message = str(refused.value)
    assert "docflow-neo4j" not in message and "docflow-secret-key" not in message and "admin:pass" not in message
    if service == "prefect":
        assert "DOCFLOW_PREFECT_AUTH_STRING" in message
    else:
        assert "DOCFLOW_NEO4J_PASSWORD" in message and "DOCFLOW_REDIS_PASSWORD" in message


def test_an_existing_data_folder_keeps_the_secrets_its_services_were_initialised_with(tmp_path):
    from docflow.core.secrets import ensure_secrets, secrets_dir
    from docflow.core.settings import Settings

    # GIVEN a data folder from before secrets were generated: PostgreSQL and Neo4j initialised, no Redis yet
    (tmp_path / "postgres" / "data").mkdir(parents=True)
    (tmp_path / "postgres" / "data" / "PG_VERSION").write_text("17\n")
    (tmp_path / "neo4j").mkdir()
    settings = Settings(_env_file=None, data_dir=tmp_path)
    # WHEN its secrets are first resolved
    weak = ensure_secrets(settings)
    # THEN the initialised services keep their old passwords (recorded, reported as weak), the others get strong ones
    assert sorted(weak) == ["db_password", "neo4j_password"]
    assert settings.neo4j_password.get_secret_value() == "docflow-neo4j"
    assert len(settings.redis_password.get_secret_value()) >= 32
    # AND once an operator deletes a kept secret (stack stopped), the next start generates a strong one
    (secrets_dir(settings) / "neo4j-password").unlink()
    again = Settings(_env_file=None, data_dir=tmp_path)
    assert ensure_secrets(again) == ["db_password"]
    assert len(again.neo4j_password.get_secret_value()) >= 32
