"""languages and vocabularies: per-document OCR languages, per-project known names

Revision ID: 7e2d4c9a1f55
Revises: 3c1f9a7d2b10
Create Date: 2026-12-02 14:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7e2d4c9a1f55"
down_revision: str | None = "3c1f9a7d2b10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "source_documents", sa.Column("ocr_languages", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
    )
    op.create_table(
        "entity_vocabulary",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column(
            "aliases", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "name", "label", name="uq_entity_vocabulary_project_name_label"),
    )
    op.create_index(op.f("ix_entity_vocabulary_project_id"), "entity_vocabulary", ["project_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_entity_vocabulary_project_id"), table_name="entity_vocabulary")
    op.drop_table("entity_vocabulary")
    op.drop_column("source_documents", "ocr_languages")
