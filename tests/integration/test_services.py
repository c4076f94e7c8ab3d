"""The four real services, started by the project, answer with the settings' credentials."""

import subprocess
import sys
import uuid

import pytest

pytestmark = [pytest.mark.services]


def test_up_is_idempotent(stack):
    from docflow import services

    # WHEN up runs again on a running stack THEN every service reports already running
    reports = services.up(stack, services.CORE_SERVICES, echo=lambda _line: None)
    assert [r.action for r in reports] == ["already running"] * 4


@pytest.mark.redis
def test_redis_keeps_queued_work_on_disk(stack):
    from docflow.core.broker import redis_client

    client = redis_client(stack)
    assert client.config_get("appendonly")["appendonly"] == "yes"
    assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
    assert client.config_get("bind")["bind"] == "127.0.0.1"


@pytest.mark.s3
def test_object_store_round_trip_with_settings_credentials(stack, tmp_path):
    from minio import Minio
    from minio.error import S3Error

    from docflow.core.storage import ObjectStorage, original_key, sha256_file

    storage = ObjectStorage(stack)
    storage.ensure_bucket()
    path = tmp_path / "x.txt"
    content = f"hello docflow {uuid.uuid4()}".encode()  # new bytes each run: a fresh key
    path.write_bytes(content)
    key = original_key(project_id="../../etc", sha256=sha256_file(path))
    # A hostile project id cannot climb out of the originals/ prefix.
    assert key.split("/")[:2] == ["originals", ".._.._etc"] and len(key.split("/")) == 4
    # WHEN uploaded twice THEN the second is a no-op (content-addressed)
    assert storage.put_file(key=key, path=path) is True
    assert storage.put_file(key=key, path=path) is False
    out = storage.get_to_file(key=key, path=tmp_path / "back")
    assert out.read_bytes() == content
    # AND wrong credentials are refused
    with pytest.raises(S3Error):
        Minio(stack.s3_endpoint, access_key=stack.s3_access_key, secret_key="wrong", secure=False).list_buckets()


@pytest.mark.neo4j
def test_neo4j_driver_reads_and_writes(stack, project_id):
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError

    from docflow.core.graph import GraphStore

    with GraphStore(stack) as graph:
        graph.driver.execute_query(
            "MERGE (n:Probe {id: $id}) SET n.text = $text",
            id=project_id,
            text='it\'s "quoted" }) MATCH (n) DETACH DELETE n //',
        )
        rows = graph.query("MATCH (n:Probe {id: $id}) RETURN n.text AS text", id=project_id)
        graph.driver.execute_query("MATCH (n:Probe {id: $id}) DELETE n", id=project_id)
        assert graph.missing_constraints() == []
    assert rows == [{"text": 'it\'s "quoted" }) MATCH (n) DETACH DELETE n //'}]
    with pytest.raises(AuthError), GraphDatabase.driver(stack.neo4j_uri, auth=("neo4j", "wrong-password")) as driver:
        driver.verify_connectivity()


def test_docflow_verify_passes_on_the_running_stack(stack):
    # WHEN the operator runs `docflow verify` THEN every service line is green and it exits 0
    result = subprocess.run(
        [sys.executable, "-m", "docflow.cli", "verify"], capture_output=True, text=True, timeout=120
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for name in ("database", "redis", "queues", "object store", "neo4j"):
        line = next(line for line in out.splitlines() if line[2:].startswith(name))
        assert line.startswith("✔"), line
    assert "workers" in out
    assert "all checks passed" in out


def test_docflow_verify_fails_when_a_service_is_unreachable(stack):
    import os

    env = {**os.environ, "DOCFLOW_NEO4J_URI": "bolt://127.0.0.1:1", "DOCFLOW_NEO4J_TIMEOUT_S": "2"}
    result = subprocess.run(
        [sys.executable, "-m", "docflow.cli", "verify"], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 1
    assert any(line.startswith("✘ neo4j") for line in result.stdout.splitlines()), result.stdout
    assert "verification FAILED" in result.stdout
