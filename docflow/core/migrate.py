"""Schema migrations through Alembic, callable from the CLI, tests and ``docflow verify``."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from docflow.core.db import get_engine
from docflow.core.resources import alembic_ini, migrations_dir


def alembic_config() -> Config:
    config = Config(str(alembic_ini()))
    # Absolute, so the migrations are found whatever the working directory (or install location).
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def upgrade(revision: str = "head") -> None:
    command.upgrade(alembic_config(), revision)


def downgrade(revision: str = "base") -> None:
    command.downgrade(alembic_config(), revision)


def check() -> None:
    """Raise when the SQLModel tables and the migrations disagree (``alembic check``)."""
    command.check(alembic_config())


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision() -> str | None:
    with get_engine().connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
