"""Alembic: upgrade on an empty database, downgrade to base, upgrade again, no drift."""

import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

pytestmark = [pytest.mark.postgres, pytest.mark.services]

EXPECTED_TABLES = {
    "source_documents",
    "stage_runs",
    "document_extractions",
    "chunks",
    "intake_files",
    "document_deletions",
    "entity_vocabulary",
    "canonical_entities",
    "entity_mentions",
    "entity_relationships",
    "relationship_evidence",
    "entity_merges",
    "webhooks",
    "webhook_deliveries",
}


@pytest.fixture
def empty_database(stack, monkeypatch):
    """A brand-new database on the project's PostgreSQL, dropped afterwards."""
    from docflow import services
    from docflow.core import db
    from docflow.core.settings import get_settings

    name = f"docflow_mig_{uuid.uuid4().hex[:8]}"
    postgres = services.Postgres(stack)
    postgres.ensure_database(name)
    monkeypatch.setenv("DOCFLOW_DB_NAME", name)
    get_settings.cache_clear()
    db.reset_engine()
    yield get_settings()
    db.reset_engine()
    monkeypatch.undo()
    get_settings.cache_clear()
    postgres.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _tables_and_types(settings):
    engine = create_engine(settings.sqlalchemy_url)
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
        types = set(
            connection.execute(
                text(
                    "SELECT typname FROM pg_type t JOIN pg_namespace n "
                    "ON n.oid = t.typnamespace WHERE n.nspname = 'public' "
                    "AND t.typtype = 'e'"
                )
            ).scalars()
        )
    engine.dispose()
    return tables, types


def test_upgrade_downgrade_upgrade_and_check(empty_database):
    from docflow.core import migrate

    # GIVEN an empty database WHEN upgraded to head THEN every table exists, with no native enum
    migrate.upgrade("head")
    tables, enums = _tables_and_types(empty_database)
    assert tables == EXPECTED_TABLES
    assert enums == set()
    assert migrate.current_revision() == migrate.head_revision()

    # WHEN downgraded to base THEN nothing is left behind (no tables, no types)
    migrate.downgrade("base")
    assert _tables_and_types(empty_database) == (set(), set())
    assert migrate.current_revision() is None

    # WHEN upgraded again THEN the schema is back and matches the models exactly (alembic check)
    migrate.upgrade("head")
    assert _tables_and_types(empty_database)[0] == EXPECTED_TABLES
    migrate.check()


def test_status_columns_are_plain_strings_and_indexed(stack):
    from docflow.core.db import get_engine

    with get_engine().connect() as connection:
        inspector = inspect(connection)
        columns = {c["name"]: c for c in inspector.get_columns("source_documents")}
        indexes = {tuple(i["column_names"]) for i in inspector.get_indexes("source_documents")}
    assert str(columns["celery_status"]["type"]).startswith("VARCHAR")
    assert ("celery_task_id",) in indexes
    assert ("celery_status",) in indexes
