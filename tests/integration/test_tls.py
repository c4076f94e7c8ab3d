"""TLS for Redis and PostgreSQL with a self-signed CA: with certificate paths configured, the servers
`docflow up` starts serve TLS only, and docflow's clients (SQLAlchemy engine, redis-py, Celery)
verify the server's certificate against the CA. A client without TLS, or trusting another CA, is
refused. The stack here is its own (a temporary data folder, free ports), not the suite's."""

from __future__ import annotations

import datetime
import ipaddress
import socket
from pathlib import Path

import pytest

from tests.support.ports import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def _seaweed_port() -> int:
    """A free port whose +10000 sibling (SeaweedFS's gRPC port) is free and valid too."""
    import random

    while True:
        port = random.randint(20000, 29999)
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port


def _authority(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1/localhost it signed: (ca.pem, server.pem, server.key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    paths[2].chmod(0o600)
    return paths


@pytest.fixture(scope="module")
def tls_stack(tmp_path_factory):
    """PostgreSQL and Redis started by docflow with a certificate from a throwaway CA."""
    from docflow.core.settings import Settings
    from docflow.services.postgres import Postgres
    from docflow.services.redis_server import Redis

    root = tmp_path_factory.mktemp("tls")
    ca, cert, key = _authority(root / "pki", "docflow")
    redis_port = free_port()
    settings = Settings(
        _env_file=None,
        data_dir=root / "var",
        db_port=free_port(),
        db_name="docflow_tls",
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
        result_backend_url=f"redis://127.0.0.1:{redis_port}/1",
        tls_ca_file=ca,
        tls_cert_file=cert,
        tls_key_file=key,
    )
    from docflow.services import Paths

    Paths(settings).ensure()
    servers = [Postgres(settings), Redis(settings)]
    try:
        for server in servers:
            server.start()
        yield settings
    finally:
        for server in servers:
            try:
                server.stop()
            except Exception as failed:
                print("tls stack stop:", failed)


def test_postgres_serves_tls_only_and_docflow_verifies_its_certificate(tls_stack, tmp_path):
    import psycopg
    from sqlalchemy import text

    from docflow.core.db import make_engine

    url = tls_stack.sqlalchemy_url
    base = {
        "host": url.host,
        "port": url.port,
        "dbname": url.database,
        "user": url.username,
        "password": url.password,
        "connect_timeout": 5,
    }
    # WHEN docflow's own engine connects THEN the session is encrypted (the certificate verified against the CA)
    engine = make_engine(tls_stack)
    try:
        with engine.connect() as connection:
            encrypted = connection.execute(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar()
        assert encrypted is True
    finally:
        engine.dispose()
    # AND a client without TLS is turned away, even with the right password
    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect(**base, sslmode="disable").close()
    assert "no encryption" in str(refused.value)
    # AND a client that trusts another CA refuses the server's certificate
    other_ca, _, _ = _authority(tmp_path / "other", "other")
    with pytest.raises(psycopg.OperationalError) as untrusted:
        psycopg.connect(**base, sslmode="verify-full", sslrootcert=str(other_ca)).close()
    assert "certificate verify failed" in str(untrusted.value)
    assert url.password not in str(untrusted.value)


def test_redis_serves_tls_only_and_docflow_verifies_its_certificate(tls_stack, tmp_path):
    import redis

    from docflow.core.broker import create_app, redis_client

    host, port = tls_stack.redis_host_port
    password = tls_stack.redis_password.get_secret_value()
    # WHEN docflow's redis client and its Celery app (broker and result backend) connect THEN both work over TLS
    client = redis_client(tls_stack)
    assert client.ping()
    assert client.connection_pool.connection_class.__name__ == "SSLConnection"
    app = create_app(tls_stack)
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        assert connection.transport.driver_name == "redis"
    app.backend.client.ping()
    # AND a plain client is refused, even with the password
    with pytest.raises(redis.ConnectionError):
        redis.Redis(host=host, port=port, password=password, socket_timeout=3).ping()
    # AND a TLS client that trusts another CA refuses the server's certificate
    other_ca, _, _ = _authority(tmp_path / "other", "other")
    untrusted = redis.Redis(
        host=host, port=port, password=password, ssl=True, ssl_ca_certs=str(other_ca), socket_timeout=3
    )
    with pytest.raises(redis.ConnectionError) as refused:
        untrusted.ping()
    assert "certificate verify failed" in str(refused.value)
    assert password not in str(refused.value)


def test_tls_without_a_key_is_refused_clearly(tls_stack, tmp_path):
    from docflow import services

    # GIVEN a certificate configured without its key WHEN Redis or PostgreSQL is started THEN it says what is missing
    port = free_port()
    half = tls_stack.model_copy(
        update={
            "tls_key_file": None,
            "data_dir": tmp_path,
            "db_port": free_port(),
            "redis_url": tls_stack.redis_url.__class__(f"redis://127.0.0.1:{port}/0"),
        }
    )
    services.Paths(half).ensure()
    for name in ("redis", "postgres"):
        with pytest.raises(services.ServiceError, match="DOCFLOW_TLS_KEY_FILE"):
            services.SERVICE_CLASSES[name](half).start()


@pytest.mark.s3
def test_s3_serves_https_and_docflow_verifies_its_certificate(tls_stack, tmp_path):
    from minio import Minio

    from docflow.core.storage import ObjectStorage
    from docflow.services import Paths
    from docflow.services.object_store import ObjectStore

    # GIVEN the object store started by docflow with the same certificate, on HTTPS
    secure = tls_stack.model_copy(
        update={
            "data_dir": tmp_path / "var",
            "s3_secure": True,
            "s3_endpoint": f"127.0.0.1:{_seaweed_port()}",
            "s3_local_master_port": _seaweed_port(),
            "s3_local_volume_port": _seaweed_port(),
            "s3_local_filer_port": _seaweed_port(),
            "s3_local_admin_port": _seaweed_port(),
            "s3_bucket": "docflow-tls",
        }
    )
    Paths(secure).ensure()
    store = ObjectStore(secure)
    try:
        store.start()
        # WHEN docflow's storage client writes and reads an object THEN it works over verified HTTPS
        storage = ObjectStorage(secure)
        storage.client.put_object(secure.s3_bucket, "tls-probe", __import__("io").BytesIO(b"over tls"), 8)
        assert storage.client.get_object(secure.s3_bucket, "tls-probe").read() == b"over tls"
        # AND a client that speaks plain HTTP, or trusts another CA, gets nothing
        plain = Minio(secure.s3_endpoint, secure.s3_access_key, secure.s3_secret_key.get_secret_value(), secure=False)
        with pytest.raises(Exception) as refused:
            plain.get_object(secure.s3_bucket, "tls-probe").read()
        assert b"over tls" not in str(refused.value).encode()
        other_ca, _, _ = _authority(tmp_path / "other", "other")
        untrusted = ObjectStorage(secure.model_copy(update={"tls_ca_file": other_ca}), timeout_s=5)
        with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            untrusted.client.get_object(secure.s3_bucket, "tls-probe").read()
    finally:
        store.stop()
