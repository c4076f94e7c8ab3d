"""users, project grants, personal API tokens, web sessions and the audit log

Revision ID: b4e7c2a9d3f1
Revises: 5d8e1b7c4a20
Create Date: 2026-12-07 13:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b4e7c2a9d3f1"
down_revision: str | None = "5d8e1b7c4a20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def _string(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _user_id() -> sa.Column:
    return sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _string(64), nullable=False),
        sa.Column("password_hash", _string(256), nullable=True),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("disabled_at", _TS, nullable=True),
        sa.Column("created_at", _TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", _string(255), nullable=False),
        sa.Column("password_changed_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "project_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        _user_id(),
        sa.Column("project_id", _string(128), nullable=False),
        sa.Column("role", _string(16), nullable=False),
        sa.Column("granted_by", _string(255), nullable=False),
        sa.Column("granted_at", _TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "project_id", name="uq_project_grants_user_project"),
    )
    op.create_index(op.f("ix_project_grants_user_id"), "project_grants", ["user_id"])
    op.create_index(op.f("ix_project_grants_project_id"), "project_grants", ["project_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        _user_id(),
        sa.Column("name", _string(128), nullable=False),
        sa.Column("token_hash", _string(64), nullable=False),
        sa.Column("created_at", _TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"])
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        _user_id(),
        sa.Column("session_hash", _string(64), nullable=False),
        sa.Column("method", _string(16), nullable=False),
        sa.Column("address", _string(64), nullable=True),
        sa.Column("created_at", _TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_hash"),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"])
    op.create_index("ix_user_sessions_expires_at", "user_sessions", ["expires_at"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("at", _TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", _string(255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", _string(32), nullable=False),
        sa.Column("outcome", _string(16), nullable=False),
        sa.Column("project_id", _string(128), nullable=True),
        sa.Column("target", _string(255), nullable=True),
        sa.Column("address", _string(255), nullable=True),
        sa.Column(
            "detail", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_events_action_at", "audit_events", ["action", "at"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index(op.f("ix_audit_events_actor"), "audit_events", ["actor"])
    op.create_index(op.f("ix_audit_events_user_id"), "audit_events", ["user_id"])
    op.create_index(op.f("ix_audit_events_project_id"), "audit_events", ["project_id"])


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("user_sessions")
    op.drop_table("api_tokens")
    op.drop_table("project_grants")
    op.drop_table("users")
