"""typed relationships: confidence and properties on entity_relationships, their evidence

Revision ID: 5d8e1b7c4a20
Revises: e3a9c1f07b52
Create Date: 2026-12-07 12:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5d8e1b7c4a20"
down_revision: str | None = "e3a9c1f07b52"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("entity_relationships", sa.Column("confidence", sa.Float(), nullable=True))
    op.add_column(
        "entity_relationships",
        sa.Column(
            "properties", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
    )
    op.create_table(
        "relationship_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("chunk_index", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("char_start", sa.Integer(), nullable=False),
        sa.Column("char_end", sa.Integer(), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("producer", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column(
            "properties", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.ForeignKeyConstraint(["document_id"], ["source_documents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["relationship_id"], ["entity_relationships.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "relationship_id", "char_start", "char_end", "producer", name="uq_relationship_evidence_place"
        ),
    )
    op.create_index(
        op.f("ix_relationship_evidence_document_id"), "relationship_evidence", ["document_id"], unique=False
    )
    op.create_index(
        op.f("ix_relationship_evidence_relationship_id"), "relationship_evidence", ["relationship_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_relationship_evidence_relationship_id"), table_name="relationship_evidence")
    op.drop_index(op.f("ix_relationship_evidence_document_id"), table_name="relationship_evidence")
    op.drop_table("relationship_evidence")
    op.drop_column("entity_relationships", "properties")
    op.drop_column("entity_relationships", "confidence")
