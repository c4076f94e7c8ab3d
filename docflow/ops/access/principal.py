"""The principal a request acts as: a user, whether they are an admin, and their role per project.

Found from a web session, a personal API token or the legacy single token (the first admin's), each
in one query that also requires the user to be enabled and the credential to be live — so a
disabled user, a revoked or expired token and an ended session are refused on their next request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from docflow.core.accounts import Role
from docflow.core.db import fetch_all
from docflow.core.scope import Projects
from docflow.ops.access.credentials import digest
from docflow.ops.audit import Actor


@dataclass(frozen=True)
class Principal:
    user_id: int
    name: str
    admin: bool
    grants: Mapping[str, Role] = field(default_factory=dict)  # project -> role
    method: str = "session"  # session | token | api-token (the legacy single token)
    address: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(f"user:{self.name}", self.address, self.user_id)

    def role_in(self, project_id: str) -> Role | None:
        return Role.ADMIN if self.admin else self.grants.get(project_id)

    def may(self, role: Role, project_id: str) -> bool:
        held = self.role_in(project_id)
        return held is not None and held.rank >= role.rank

    def projects(self, role: Role = Role.VIEWER) -> Projects:
        """The projects where the user holds ``role`` or more (None: every project, for an admin)."""
        if self.admin:
            return None
        if role is Role.ADMIN:
            return frozenset()
        return frozenset(project for project, held in self.grants.items() if held.rank >= role.rank)


_PRINCIPAL_SQL = """
SELECT u.id, u.name, u.admin,
       coalesce(json_object_agg(g.project_id, g.role) FILTER (WHERE g.id IS NOT NULL), '{{}}'::json)
FROM users u LEFT JOIN project_grants g ON g.user_id = u.id
WHERE u.disabled_at IS NULL AND u.id = ({which})
GROUP BY u.id
"""
_BY_SESSION = _PRINCIPAL_SQL.format(
    which="SELECT user_id FROM user_sessions WHERE session_hash = %(hash)s AND expires_at > now()"
)
_BY_TOKEN = _PRINCIPAL_SQL.format(
    which="SELECT user_id FROM api_tokens WHERE token_hash = %(hash)s AND revoked_at IS NULL AND expires_at > now()"
)
_BY_ID = _PRINCIPAL_SQL.format(which="%(id)s")
_BY_NAME = _PRINCIPAL_SQL.format(which="SELECT id FROM users WHERE name = %(name)s AND admin")


def _principal(rows: list[tuple], *, method: str, address: str | None) -> Principal | None:
    if not rows:
        return None
    user_id, name, admin, grants = rows[0]
    return Principal(int(user_id), name, bool(admin), {p: Role(r) for p, r in (grants or {}).items()}, method, address)


def by_session(session_id: str, *, address: str | None) -> Principal | None:
    return _principal(fetch_all(_BY_SESSION, {"hash": digest(session_id)}), method="session", address=address)


def by_token(token: str, *, address: str | None) -> Principal | None:
    return _principal(fetch_all(_BY_TOKEN, {"hash": digest(token)}), method="token", address=address)


def by_user_id(user_id: int, *, method: str, address: str | None) -> Principal | None:
    return _principal(fetch_all(_BY_ID, {"id": user_id}), method=method, address=address)


def first_admin(name: str, *, address: str | None) -> Principal | None:
    """The first admin (``settings.admin_user``), for the legacy single token: refused once disabled."""
    return _principal(fetch_all(_BY_NAME, {"name": name}), method="api-token", address=address)
