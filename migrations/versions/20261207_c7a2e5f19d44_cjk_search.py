"""cjk search: Chinese and Japanese characters indexed one by one in the chunks' search vector

Revision ID: c7a2e5f19d44
Revises: b4e1c7d92a30
Create Date: 2026-12-07 13:10:00

The generated column is dropped and added again with the new expression: PostgreSQL recomputes it
for every chunk (a table rewrite), and the GIN index is rebuilt.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c7a2e5f19d44"
down_revision: str | None = "b4e1c7d92a30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out (not imported): a migration must keep meaning what it meant when it was written.
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
NEW_VECTOR = rf"to_tsvector(ts_config, regexp_replace(text, '([{_CJK}])', ' \1 ', 'g'))"
OLD_VECTOR = "to_tsvector(ts_config, text)"


def _rebuild(expression: str) -> None:
    op.drop_index("ix_chunks_config_tsv", table_name="chunks")
    op.drop_column("chunks", "tsv")
    op.add_column(
        "chunks", sa.Column("tsv", postgresql.TSVECTOR(), sa.Computed(expression, persisted=True), nullable=True)
    )
    op.create_index(
        "ix_chunks_config_tsv", "chunks", [sa.text("(ts_config::oid)"), "tsv"], unique=False, postgresql_using="gin"
    )


def upgrade() -> None:
    _rebuild(NEW_VECTOR)


def downgrade() -> None:
    _rebuild(OLD_VECTOR)
