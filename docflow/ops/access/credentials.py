"""Personal API tokens and web sessions: random values handed out once and stored as their SHA-256.

A token is ``dft_`` + 256 random bits, shown to its user once, valid until it expires or is revoked.
A session id is 256 random bits carried in a signed cookie (:mod:`docflow.api.auth`); its row ends
with sign-out, expiry, a changed password or a disabled user — checked on every request, so ending
it takes effect at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update

from docflow.core.accounts import ApiToken, UserSession
from docflow.core.db import session_scope
from docflow.core.models import table_of

TOKEN_PREFIX = "dft_"
_TOKENS = table_of(ApiToken)
_SESSIONS = table_of(UserSession)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > datetime.now(UTC)


def create_token(*, user_id: int, name: str, days: int) -> tuple[str, TokenInfo]:
    """A new token for the user: (the token — shown once, never stored —, what is kept of it)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with session_scope() as session:
        row = session.execute(
            insert(_TOKENS)
            .values(
                user_id=user_id,
                name=name[:128],
                token_hash=digest(token),
                expires_at=datetime.now(UTC) + timedelta(days=days),
            )
            .returning(_TOKENS.c.id, _TOKENS.c.name, _TOKENS.c.created_at, _TOKENS.c.expires_at, _TOKENS.c.revoked_at)
        ).one()
    return token, TokenInfo(*row)


def user_tokens(*, user_id: int) -> list[TokenInfo]:
    with session_scope() as session:
        rows = session.execute(
            select(_TOKENS.c.id, _TOKENS.c.name, _TOKENS.c.created_at, _TOKENS.c.expires_at, _TOKENS.c.revoked_at)
            .where(_TOKENS.c.user_id == user_id)
            .order_by(_TOKENS.c.id.desc())
        ).all()
    return [TokenInfo(*row) for row in rows]


def revoke_token(*, user_id: int, token_id: int) -> TokenInfo | None:
    """Revoke one of the user's tokens (idempotent); None when the user has no such token."""
    with session_scope() as session:
        session.execute(
            update(_TOKENS)
            .where(_TOKENS.c.id == token_id, _TOKENS.c.user_id == user_id, _TOKENS.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        row = session.execute(
            select(
                _TOKENS.c.id, _TOKENS.c.name, _TOKENS.c.created_at, _TOKENS.c.expires_at, _TOKENS.c.revoked_at
            ).where(_TOKENS.c.id == token_id, _TOKENS.c.user_id == user_id)
        ).one_or_none()
    return TokenInfo(*row) if row is not None else None


def start_session(*, user_id: int, method: str, address: str | None, hours: float) -> str:
    """A new session for the user; returns its id (for the cookie). Expired sessions are swept here."""
    session_id = secrets.token_urlsafe(32)
    with session_scope() as session:
        session.execute(delete(_SESSIONS).where(_SESSIONS.c.expires_at < datetime.now(UTC)))
        session.execute(
            insert(_SESSIONS).values(
                user_id=user_id,
                session_hash=digest(session_id),
                method=method,
                address=(address or None) and address[:64],
                expires_at=datetime.now(UTC) + timedelta(hours=hours),
            )
        )
    return session_id


def end_session(session_id: str) -> None:
    with session_scope() as session:
        session.execute(delete(_SESSIONS).where(_SESSIONS.c.session_hash == digest(session_id)))


def end_user_sessions(session: object, *, user_id: int, keep: str | None = None) -> None:
    """Within the caller's transaction: every session of the user ends (but ``keep``, a session id)."""
    condition = _SESSIONS.c.user_id == user_id
    if keep is not None:
        condition &= _SESSIONS.c.session_hash != digest(keep)
    session.execute(delete(_SESSIONS).where(condition))  # type: ignore[attr-defined]  # a sqlmodel Session
