"""SQLModel tables of who may do what, and of what they did: users, their grants per project,
their personal API tokens and web sessions, and the audit log.

Secrets are never stored: a password is kept as its argon2 hash, a token and a session id as the
SHA-256 of a 256-bit random value (random enough that a fast hash cannot be reversed, and a lookup
by hash stays one index probe). The audit log holds who, what, when and from where — never a
document's content — and keeps no foreign key to ``users``, so it outlives the accounts it names.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, UniqueConstraint, func
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from docflow.core.models import utcnow


class Role(StrEnum):
    """What a grant allows in a project, each role including the ones before it.

    viewer: read, search and export; operator: also intake, reprocess, delete, entity merge and
    split; admin (a user's flag, never a grant): users, grants and every project.
    """

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


GRANTABLE = (Role.VIEWER, Role.OPERATOR)


def _moment(*, nullable: bool = True, default_now: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable, server_default=func.now() if default_now else None)


def _user_fk() -> Column:
    return Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)


class User(SQLModel, table=True):
    """A person (or program) who signs in. ``name`` is the natural key."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    # argon2id hash (None: signs in through OIDC only).
    password_hash: str | None = Field(default=None, max_length=256)
    admin: bool = Field(default=False)
    disabled_at: datetime | None = Field(default=None, sa_column=_moment())
    created_at: datetime | None = Field(default_factory=utcnow, sa_column=_moment(nullable=False, default_now=True))
    created_by: str = Field(max_length=255)
    password_changed_at: datetime | None = Field(default=None, sa_column=_moment())


class ProjectGrant(SQLModel, table=True):
    """A user's role in one project; ``(user_id, project_id)`` is the natural key."""

    __tablename__ = "project_grants"
    __table_args__ = (UniqueConstraint("user_id", "project_id", name="uq_project_grants_user_project"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_user_fk())
    project_id: str = Field(max_length=128, index=True)
    role: str = Field(max_length=16)  # a GRANTABLE role
    granted_by: str = Field(max_length=255)
    granted_at: datetime | None = Field(default_factory=utcnow, sa_column=_moment(nullable=False, default_now=True))


class ApiToken(SQLModel, table=True):
    """A personal API token: shown once when created, kept as its SHA-256, valid until it expires
    or is revoked (or its user is disabled)."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_user_fk())
    name: str = Field(max_length=128)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime | None = Field(default_factory=utcnow, sa_column=_moment(nullable=False, default_now=True))
    expires_at: datetime = Field(sa_column=_moment(nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=_moment())


class UserSession(SQLModel, table=True):
    """A signed-in browser: its cookie carries the session id, this row holds its hash. Deleting the
    row (sign-out, a disabled user, a changed password) ends the session on the next request."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_expires_at", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_user_fk())
    session_hash: str = Field(max_length=64, unique=True)
    method: str = Field(max_length=16)  # password | oidc
    address: str | None = Field(default=None, max_length=64)
    created_at: datetime | None = Field(default_factory=utcnow, sa_column=_moment(nullable=False, default_now=True))
    expires_at: datetime = Field(sa_column=_moment(nullable=False))


class AuditEvent(SQLModel, table=True):
    """One thing someone did: who (``actor``: ``user:NAME``, ``os:NAME``, ``deployment:NAME``), what
    (``action``), on what (``project_id``, ``target``: an id, a query's words — never content), how
    it ended (``outcome``), when and from where (an address, the host of a CLI)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_action_at", "action", "at"), Index("ix_audit_events_at", "at"))

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    at: datetime | None = Field(default_factory=utcnow, sa_column=_moment(nullable=False, default_now=True))
    actor: str = Field(max_length=255, index=True)
    user_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=32)
    outcome: str = Field(default="ok", max_length=16)  # ok | refused | failed
    project_id: str | None = Field(default=None, max_length=128, index=True)
    target: str | None = Field(default=None, max_length=255)
    address: str | None = Field(default=None, max_length=255)
    detail: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=sql_text("'{}'::jsonb"))
    )


ACCOUNT_TABLES = (User, ProjectGrant, ApiToken, UserSession, AuditEvent)
