"""entity merges: reviewed merges of a project's entities (who, when, why; split keeps the history)

Revision ID: b4e1c7d92a30
Revises: 7e2d4c9a1f55
Create Date: 2026-12-07 12:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "b4e1c7d92a30"
down_revision: str | None = "7e2d4c9a1f55"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entity_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("from_key", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("from_label", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("into_key", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("into_label", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("merged_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("split_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("split_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_entity_merges_project_id"), "entity_merges", ["project_id"], unique=False)
    op.create_index(
        "uq_entity_merges_live_source",
        "entity_merges",
        ["project_id", "from_key", "from_label"],
        unique=True,
        postgresql_where=sa.text("split_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_entity_merges_live_source", table_name="entity_merges", postgresql_where=sa.text("split_at IS NULL")
    )
    op.drop_index(op.f("ix_entity_merges_project_id"), table_name="entity_merges")
    op.drop_table("entity_merges")
