"""archive members: a document's parent archive and its path inside it

Revision ID: 5d8e2f1a9c47
Revises: c7a2e5f19d44
Create Date: 2026-12-10 10:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d8e2f1a9c47"
down_revision: str | None = "c7a2e5f19d44"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("source_documents", sa.Column("parent_document_id", sa.Integer(), nullable=True))
    op.add_column("source_documents", sa.Column("member_path", sa.Text(), nullable=True))
    op.create_index(
        op.f("ix_source_documents_parent_document_id"), "source_documents", ["parent_document_id"], unique=False
    )
    op.create_foreign_key(
        op.f("source_documents_parent_document_id_fkey"),
        "source_documents",
        "source_documents",
        ["parent_document_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("source_documents_parent_document_id_fkey"), "source_documents", type_="foreignkey")
    op.drop_index(op.f("ix_source_documents_parent_document_id"), table_name="source_documents")
    op.drop_column("source_documents", "member_path")
    op.drop_column("source_documents", "parent_document_id")
