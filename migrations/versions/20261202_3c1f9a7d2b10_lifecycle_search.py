"""lifecycle and search: document language and pipeline versions, chunk full-text search, entity
name trigrams, deletion audit

Revision ID: 3c1f9a7d2b10
Revises: 6b28b3daa34e
Create Date: 2026-12-02 12:45:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "3c1f9a7d2b10"
down_revision: str | None = "6b28b3daa34e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # pg_trgm is a trusted extension: the database owner may create it (no superuser needed).
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # btree_gin (trusted too) lets one GIN index hold the chunk's text-search configuration next to
    # its lexemes: a search matches each configuration's query only against chunks of that
    # configuration, and the index answers both conditions at once.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.add_column("source_documents", sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    op.add_column(
        "source_documents",
        sa.Column("pipeline_versions", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
    )
    op.add_column(
        "chunks",
        sa.Column("ts_config", postgresql.REGCONFIG(), server_default=sa.text("'simple'::regconfig"), nullable=False),
    )
    # Generated and stored: written by PostgreSQL itself, so it can never disagree with the text.
    op.add_column(
        "chunks",
        sa.Column(
            "tsv", postgresql.TSVECTOR(), sa.Computed("to_tsvector(ts_config, text)", persisted=True), nullable=True
        ),
    )
    op.create_index(
        "ix_chunks_config_tsv", "chunks", [sa.text("(ts_config::oid)"), "tsv"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_canonical_entities_name_trgm",
        "canonical_entities",
        ["display_name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"display_name": "gin_trgm_ops"},
    )
    op.create_table(
        "document_deletions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_uuid", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("original_file_name", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status_at_deletion", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("deleted_by", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("removed", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_document_deletions_document_uuid"), "document_deletions", ["document_uuid"], unique=False)
    op.create_index(op.f("ix_document_deletions_project_id"), "document_deletions", ["project_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_document_deletions_project_id"), table_name="document_deletions")
    op.drop_index(op.f("ix_document_deletions_document_uuid"), table_name="document_deletions")
    op.drop_table("document_deletions")
    op.drop_index("ix_canonical_entities_name_trgm", table_name="canonical_entities")
    op.drop_index("ix_chunks_config_tsv", table_name="chunks")
    op.drop_column("chunks", "tsv")
    op.drop_column("chunks", "ts_config")
    op.drop_column("source_documents", "pipeline_versions")
    op.drop_column("source_documents", "language")
    # RESTRICT (the default): refused, loudly, if something else in the database came to use it.
    op.execute("DROP EXTENSION IF EXISTS btree_gin")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
