"""Turning "a service is down" into one clear line instead of a traceback."""

from __future__ import annotations

import redis.exceptions
import sqlalchemy.exc
from neo4j.exceptions import ServiceUnavailable

from docflow.core.settings import get_settings


def unreachable_service(exc: BaseException) -> str | None:
    """A one-line explanation when ``exc`` means a service is down, else None (a real bug)."""
    settings = get_settings()
    if isinstance(exc, sqlalchemy.exc.OperationalError):
        where, name = f"{settings.db_host}:{settings.db_port}", "PostgreSQL"
    elif isinstance(exc, redis.exceptions.ConnectionError):
        host, port = settings.redis_host_port
        where, name = f"{host}:{port}", "Redis"
    elif isinstance(exc, ServiceUnavailable):
        where, name = settings.neo4j_uri, "Neo4j"
    else:
        return None
    detail = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0][:200]
    return f"{name} is unreachable at {where} ({detail}). Is it running? `docflow up` starts the local services."
