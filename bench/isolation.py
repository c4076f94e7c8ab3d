"""Where a benchmark keeps its data: a database, Redis databases and a bucket of its own, on the
services the current settings name (an operator's ``docflow up`` stack, or the test suite's)."""

from __future__ import annotations

from urllib.parse import urlsplit


def bench_env(*, database: str, broker_db: int, results_db: int, bucket: str) -> dict[str, str]:
    """``DOCFLOW_*`` overrides that isolate a benchmark's data without moving it to other servers."""
    from docflow.core.settings import Settings

    broker = urlsplit(Settings().broker_url)
    return {
        "DOCFLOW_DB_NAME": database,
        "DOCFLOW_REDIS_URL": broker._replace(path=f"/{broker_db}").geturl(),
        "DOCFLOW_RESULT_BACKEND_URL": broker._replace(path=f"/{results_db}").geturl(),
        "DOCFLOW_S3_BUCKET": bucket,
    }
