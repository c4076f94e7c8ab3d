"""Settings: one object, DOCFLOW_ prefix, .env support, secrets never printed."""

import pytest
from pydantic import ValidationError

from docflow.core.settings import Settings

pytestmark = pytest.mark.unit


def test_defaults_point_at_local_services(monkeypatch, tmp_path):
    # GIVEN no docflow environment at all, in a folder without a data folder (no generated secrets)
    monkeypatch.chdir(tmp_path)
    for key in list(__import__("os").environ):
        if key.startswith("DOCFLOW_"):
            monkeypatch.delenv(key)
    # WHEN settings are read
    settings = Settings(_env_file=None)
    # THEN every service is on loopback and the policy defaults are the documented ones
    assert settings.sqlalchemy_url.host == "127.0.0.1"
    assert settings.broker_url.startswith("redis://127.0.0.1:6379")
    assert settings.s3_endpoint.startswith("127.0.0.1:")
    assert settings.neo4j_uri == "bolt://127.0.0.1:7687"
    assert settings.retry_max_retries == 3
    assert [settings.retry_backoff_s(n) for n in range(3)] == [60, 120, 240]
    assert settings.health_queue_threshold == 1000
    assert settings.queues == {"ocr": "ocr", "text": "text", "entity": "entity", "graph": "graph"}


def test_env_prefix_and_dotenv(tmp_path, monkeypatch):
    # GIVEN a .env file and an environment variable with the DOCFLOW_ prefix
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("DOCFLOW_PROJECT_ID=from-dotenv\nDOCFLOW_RETRY_MAX_RETRIES=5\n")
    monkeypatch.setenv("DOCFLOW_HEALTH_QUEUE_THRESHOLD", "42")
    # WHEN settings are read
    settings = Settings()
    # THEN both sources are honoured
    assert settings.project_id == "from-dotenv"
    assert settings.retry_max_retries == 5
    assert settings.health_queue_threshold == 42


def test_secrets_are_never_printed(monkeypatch):
    # GIVEN secrets with recognisable values
    monkeypatch.setenv("DOCFLOW_DB_PASSWORD", "pg-Secret-123")
    monkeypatch.setenv("DOCFLOW_S3_SECRET_KEY", "s3-Secret-456")
    monkeypatch.setenv("DOCFLOW_NEO4J_PASSWORD", "neo-Secret-789")
    monkeypatch.setenv("DOCFLOW_REDIS_URL", "redis://:redis-Secret-0@127.0.0.1:6379/0")
    settings = Settings(_env_file=None)
    # WHEN the settings are rendered every way an operator might see them
    rendered = " ".join(
        [
            repr(settings),
            str(settings),
            settings.model_dump_json(),
            settings.database_url_display,
            settings.redis_display,
        ]
    )
    # THEN no secret appears, but the connection still gets it
    for secret in ("pg-Secret-123", "s3-Secret-456", "neo-Secret-789", "redis-Secret-0"):
        assert secret not in rendered
    assert settings.sqlalchemy_url.password == "pg-Secret-123"
    assert "redis-Secret-0" in settings.broker_url


def test_visibility_timeout_must_exceed_every_hard_limit():
    # GIVEN a visibility timeout shorter than the OCR hard limit
    # WHEN settings are built THEN they are refused with the reason
    with pytest.raises(ValidationError, match="visibility_timeout_s"):
        Settings(_env_file=None, ocr_time_limit_s=1000, ocr_soft_time_limit_s=900, visibility_timeout_s=999)


def test_soft_limit_must_be_below_hard_limit():
    with pytest.raises(ValidationError, match="soft time limit"):
        Settings(_env_file=None, text_soft_time_limit_s=200, text_time_limit_s=150)


def test_default_visibility_timeout_is_derived_from_limits():
    settings = Settings(_env_file=None)
    longest = max(settings.time_limits(stage)[1] for stage in ("ocr", "text", "entity", "graph"))
    assert settings.broker_visibility_timeout_s > longest


def test_retry_countdowns_are_jittered_around_the_backoff_and_bounded():
    # GIVEN the documented policy (60·2^n s, ±25 %, at most 3600 s)
    policy = {"retry_backoff_base_s": 60, "retry_backoff_factor": 2, "retry_backoff_max_s": 3600, "retry_jitter": 0.25}
    settings = Settings(_env_file=None, **policy)
    # WHEN the countdowns are drawn with the random spread at its extremes and in between
    lowest = [settings.retry_countdown(n, uniform=lambda low, high: low) for n in range(3)]
    highest = [settings.retry_countdown(n, uniform=lambda low, high: high) for n in range(3)]
    drawn = {round(settings.retry_countdown(0), 3) for _ in range(200)}
    # THEN each stays within ±25 % of its backoff, and real draws spread (no thundering herd)
    assert lowest == [45.0, 90.0, 180.0] and highest == [75.0, 150.0, 300.0]
    assert all(45.0 <= value <= 75.0 for value in drawn) and len(drawn) > 100
    # AND a long backoff never exceeds the configured maximum, with or without jitter
    capped = Settings(_env_file=None, **{**policy, "retry_backoff_max_s": 100})
    assert capped.retry_countdown(5, uniform=lambda low, high: high) == 100
    # AND jitter 0 gives the plain backoff
    assert Settings(_env_file=None, **{**policy, "retry_jitter": 0}).retry_countdown(1) == 120


def test_a_tls_ca_turns_every_redis_and_postgres_connection_to_verified_tls(tmp_path):
    from docflow.core.broker import celery_config

    # GIVEN settings with a CA file WHEN the connection settings are derived
    ca = tmp_path / "ca.pem"
    settings = Settings(_env_file=None, data_dir=tmp_path, tls_ca_file=ca, redis_url="redis://127.0.0.1:6390/0")
    # THEN Redis URLs are rediss:// with the certificate required and checked against the CA
    assert settings.broker_url.startswith("rediss://") and settings.celery_result_backend.startswith("rediss://")
    assert settings.redis_tls_options == {"ssl_cert_reqs": "required", "ssl_ca_certs": str(ca)}
    config = celery_config(settings)
    assert config["broker_use_ssl"]["ssl_ca_certs"] == str(ca)
    assert config["redis_backend_use_ssl"] == config["broker_use_ssl"]
    # AND PostgreSQL connections require TLS with the server's name verified
    assert settings.db_tls_options == {"sslmode": "verify-full", "sslrootcert": str(ca)}
    # AND without a CA nothing changes
    plain = Settings(_env_file=None, data_dir=tmp_path, redis_url="redis://127.0.0.1:6390/0")
    assert (
        plain.broker_url.startswith("redis://")
        and plain.db_tls_options == {}
        and "broker_use_ssl" not in celery_config(plain)
    )
