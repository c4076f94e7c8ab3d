"""The audit log: who signed in, viewed, searched, exported, reprocessed, deleted, merged or split
what, when and from where — from the web pages, the API, the CLI and the Prefect deployments.

An event names its actor (``user:NAME`` for a person signed in or holding a token, ``os:NAME`` for
the CLI run by an operating-system user, ``deployment:NAME`` for a Prefect flow run), an action,
its outcome, the project and target (a document id, a query's words, a user's name) and the
address it came from. Callers pass ids and names only: no document content, password or token is
ever given to :func:`record` (``tests`` check the table for them).
"""

from __future__ import annotations

import getpass
import re
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from docflow.core.accounts import AuditEvent
from docflow.core.db import fetch_all, session_scope
from docflow.core.models import table_of

_EVENTS = table_of(AuditEvent)
TARGET_CHARS = 200


@dataclass(frozen=True)
class Actor:
    """Who does something, as the audit names them, and from where."""

    name: str  # user:NAME | os:NAME | deployment:NAME
    address: str | None = None
    user_id: int | None = None


def os_actor() -> Actor:
    """The operating-system user running the CLI on this host (the CLI is trusted: it runs where the
    secrets are), e.g. ``os:maria`` from ``host-1``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = "unknown"
    return Actor(f"os:{user}", socket.gethostname()[:255])


def deployment_actor(name: str) -> Actor:
    return Actor(f"deployment:{name}", socket.gethostname()[:255])


# Stored as escapes (\x00, \x1b, \ud800): PostgreSQL cannot store NUL or a lone surrogate, and a
# terminal showing `docflow audit` must not obey an escape sequence someone put in a URL or a query.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(value: Any) -> Any:
    """``value`` with every control character and lone surrogate of its strings written as an escape."""
    if isinstance(value, str):
        return _UNPRINTABLE.sub(
            lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}", value
        )
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable(v) for v in value]
    return value


def record(
    actor: Actor,
    action: str,
    *,
    outcome: str = "ok",
    project_id: str | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event (its own short transaction: an audit row is written even when the action failed).
    Any text is kept :func:`printable`: what a caller typed cannot make the event fail or mislead."""
    with session_scope() as session:
        session.execute(
            insert(_EVENTS).values(
                actor=printable(actor.name)[:255],
                user_id=actor.user_id,
                action=action[:32],
                outcome=outcome[:16],
                project_id=printable(project_id),
                target=printable(target)[:TARGET_CHARS] if target else None,
                address=printable(actor.address)[:255] if actor.address else None,
                detail=printable(detail or {}),
            )
        )


_EVENTS_SQL = """
SELECT id, at, actor, action, outcome, project_id, target, address, detail FROM audit_events
WHERE (%(actor)s::text IS NULL OR actor = %(actor)s::text)
  AND (%(action)s::text IS NULL OR action = %(action)s::text)
  AND (%(project)s::text IS NULL OR project_id = %(project)s::text)
  AND (%(since)s::timestamptz IS NULL OR at >= %(since)s::timestamptz)
  AND (%(before)s::bigint IS NULL OR id < %(before)s::bigint)
ORDER BY id DESC LIMIT %(limit)s
"""


@dataclass(frozen=True)
class Event:
    id: int
    at: datetime
    actor: str
    action: str
    outcome: str
    project_id: str | None
    target: str | None
    address: str | None
    detail: dict[str, Any]

    def line(self) -> str:
        where = f" from {self.address}" if self.address else ""
        on = " ".join(part for part in (self.project_id and f"[{self.project_id}]", self.target) if part)
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.outcome} {on}{where}".rstrip()


def events(
    *,
    actor: str | None = None,
    action: str | None = None,
    project_id: str | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[Event]:
    """The newest events first (``before_id``: the next page after the last id shown)."""
    rows = fetch_all(
        _EVENTS_SQL,
        {
            "actor": actor,
            "action": action,
            "project": project_id,
            "since": since,
            "before": before_id,
            "limit": limit,
        },
    )
    return [Event(*row) for row in rows]


_FAILURES_SQL = """
SELECT count(*) FILTER (WHERE user_id = %(user_id)s), count(*) FILTER (WHERE address = %(address)s)
FROM audit_events
WHERE action = 'sign-in' AND outcome = 'failed' AND at > now() - make_interval(secs => %(window)s)
"""


def recent_sign_in_failures(*, user_id: int | None, address: str | None, window_s: int) -> tuple[int, int]:
    """Failed sign-ins within the window: (for this user, from this address)."""
    ((by_user, by_address),) = fetch_all(_FAILURES_SQL, {"user_id": user_id, "address": address, "window": window_s})
    return int(by_user), int(by_address)
