"""Users and their grants: add, list, disable (and enable), set a password, grant and revoke a
project role — each change audited, each write keyed by the user's name (and the project).

Disabling a user ends their sessions and revokes their tokens in the same transaction, and every
credential check also requires an enabled user, so a disabled user is refused on the very next
request. The first admin is created on a new installation, with a generated password kept like the
other secrets (``<data_dir>/secrets/admin-password``, 0600).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from docflow.core.accounts import GRANTABLE, ApiToken, ProjectGrant, Role, User
from docflow.core.db import session_scope
from docflow.core.models import table_of
from docflow.core.secrets import generated_secret, secrets_dir
from docflow.core.settings import Settings
from docflow.ops.access.credentials import end_user_sessions
from docflow.ops.access.passwords import hash_password, verify_password
from docflow.ops.audit import Actor, record

_USERS = table_of(User)
_GRANTS = table_of(ProjectGrant)
_TOKENS = table_of(ApiToken)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
ADMIN_PASSWORD_FILE = "admin-password"


class AccountError(ValueError):
    """A change to accounts that cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class UserView:
    id: int
    name: str
    admin: bool
    disabled: bool
    has_password: bool
    created_at: datetime
    grants: dict[str, str]


def _user_id(session: object, name: str) -> int:
    found = session.scalar(select(_USERS.c.id).where(_USERS.c.name == name))  # type: ignore[attr-defined]  # a sqlmodel Session
    if found is None:
        raise AccountError(f"no user {name!r}")
    return int(found)


def add_user(name: str, *, password: str | None, admin: bool, by: Actor) -> int:
    """Create a user (a password, or none for OIDC-only sign-in); refused when the name is taken."""
    if not NAME_PATTERN.fullmatch(name):
        raise AccountError("a user name is 1-64 letters, digits and . _ @ -")
    hashed = hash_password(password) if password is not None else None
    with session_scope() as session:
        created = session.execute(
            insert(_USERS)
            .values(
                name=name,
                password_hash=hashed,
                admin=admin,
                created_by=by.name[:255],
                password_changed_at=func.now() if hashed else None,
            )  # fmt: skip
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(_USERS.c.id)
        ).scalar()
    if created is None:
        raise AccountError(f"user {name!r} exists already")
    record(by, "user-add", target=name, detail={"admin": admin})
    return int(created)


def users() -> list[UserView]:
    with session_scope() as session:
        rows = session.execute(select(_USERS).order_by(_USERS.c.name)).all()
        grants = session.execute(select(_GRANTS.c.user_id, _GRANTS.c.project_id, _GRANTS.c.role)).all()
    by_user: dict[int, dict[str, str]] = {}
    for user_id, project, role in grants:
        by_user.setdefault(user_id, {})[project] = role
    return [
        UserView(
            r.id,
            r.name,
            r.admin,
            r.disabled_at is not None,
            r.password_hash is not None,
            r.created_at,
            dict(sorted(by_user.get(r.id, {}).items())),
        )  # fmt: skip
        for r in rows
    ]


def set_disabled(name: str, *, disabled: bool, by: Actor) -> None:
    """Disable a user — their sessions end and their tokens are revoked at once — or enable them again."""
    with session_scope() as session:
        user_id = _user_id(session, name)
        session.execute(
            update(_USERS).where(_USERS.c.id == user_id).values(disabled_at=datetime.now(UTC) if disabled else None)
        )
        if disabled:
            end_user_sessions(session, user_id=user_id)
            session.execute(
                update(_TOKENS)
                .where(_TOKENS.c.user_id == user_id, _TOKENS.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
    record(by, "user-disable" if disabled else "user-enable", target=name)


def set_password(name: str, password: str, *, by: Actor, keep_session: str | None = None) -> None:
    """A new password; every session of the user ends but ``keep_session`` (the one changing it)."""
    hashed = hash_password(password)
    with session_scope() as session:
        user_id = _user_id(session, name)
        session.execute(
            update(_USERS).where(_USERS.c.id == user_id).values(password_hash=hashed, password_changed_at=func.now())
        )
        end_user_sessions(session, user_id=user_id, keep=keep_session)
    record(by, "password-set", target=name)


def grant(name: str, project_id: str, role: Role, *, by: Actor) -> None:
    """Give the user ``role`` in the project (replacing the role they had there)."""
    if role not in GRANTABLE:
        raise AccountError(f"a project grant is {' or '.join(GRANTABLE)}; an admin is made with `users add --admin`")
    if not project_id or len(project_id) > 128:
        raise AccountError("a project id is 1-128 characters")
    with session_scope() as session:
        user_id = _user_id(session, name)
        statement = insert(_GRANTS).values(user_id=user_id, project_id=project_id, role=role.value, granted_by=by.name)
        session.execute(
            statement.on_conflict_do_update(
                constraint="uq_project_grants_user_project",
                set_={"role": statement.excluded.role, "granted_by": statement.excluded.granted_by,
                      "granted_at": func.now()},
            )
        )  # fmt: skip
    record(by, "grant", project_id=project_id, target=name, detail={"role": role.value})


def revoke(name: str, project_id: str, *, by: Actor) -> bool:
    """Take the user's grant in the project away; False when they had none."""
    with session_scope() as session:
        user_id = _user_id(session, name)
        gone = session.execute(
            delete(_GRANTS)
            .where(_GRANTS.c.user_id == user_id, _GRANTS.c.project_id == project_id)
            .returning(_GRANTS.c.id)
        ).first()
    record(by, "revoke", project_id=project_id, target=name, detail={"had_grant": gone is not None})
    return gone is not None


def ensure_first_admin(settings: Settings, *, by: Actor) -> str | None:
    """Make sure the first admin (``settings.admin_user``, the legacy single token's user) exists:
    on a new installation it is created with a generated password (``<data_dir>/secrets/admin-password``,
    0600). Returns that file's path when the admin was created now, else None (it existed — perhaps
    disabled, which also refuses the legacy token). Safe to run from several processes at once."""
    with session_scope() as session:
        if session.scalar(select(_USERS.c.id).where(_USERS.c.name == settings.admin_user)) is not None:
            return None
    secret = generated_secret(settings, ADMIN_PASSWORD_FILE)
    assert secret is not None  # created when missing
    try:
        add_user(settings.admin_user, password=secret.get_secret_value(), admin=True, by=by)
    except AccountError:
        return None  # another process created it meanwhile
    return str(secrets_dir(settings) / ADMIN_PASSWORD_FILE)


def enabled_user_id(name: str) -> int | None:
    """The id of the enabled user of that name (an OIDC sign-in's match), else None."""
    with session_scope() as session:
        found = session.scalar(select(_USERS.c.id).where(_USERS.c.name == name[:64], _USERS.c.disabled_at.is_(None)))
    return int(found) if found is not None else None


def password_matches(user_id: int, password: str) -> bool:
    """Whether ``password`` is the user's (to confirm a change of their own password)."""
    with session_scope() as session:
        stored = session.scalar(select(_USERS.c.password_hash).where(_USERS.c.id == user_id))
    return verify_password(stored, password)
