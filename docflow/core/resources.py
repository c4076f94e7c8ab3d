"""Where the files docflow needs at run time live: the Alembic migrations and ``alembic.ini``, and
``infra/`` (the Redis configuration, the Neo4j launcher project, examples for operators).

In a source checkout they are the repository's own top-level folders. A wheel carries copies under
``docflow/_bundled/`` (added by ``setup.py``'s build step), so an installed package can run
``docflow up`` and ``docflow migrate`` from any directory.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


@cache
def bundle_root() -> Path:
    """The folder holding ``alembic.ini``, ``migrations/`` and ``infra/``."""
    for candidate in (_PACKAGE.parent, _PACKAGE / "_bundled"):
        if (candidate / "alembic.ini").is_file() and (candidate / "migrations" / "env.py").is_file():
            return candidate
    raise FileNotFoundError(
        f"docflow's migrations and infra files are missing (looked in {_PACKAGE.parent} and {_PACKAGE / '_bundled'}); "
        "reinstall the package from a wheel built by `pip wheel .`"
    )


def alembic_ini() -> Path:
    return bundle_root() / "alembic.ini"


def migrations_dir() -> Path:
    return bundle_root() / "migrations"


def infra_dir() -> Path:
    return bundle_root() / "infra"


def prefect_yaml() -> Path:
    """The deployments of a Prefect work pool (``docflow deploy``, ``prefect deploy --all``)."""
    return bundle_root() / "prefect.yaml"


def web_assets_dir() -> Path | None:
    """The browser libraries installed from npm by the set-up (``web/node_modules``), or None."""
    for candidate in (_PACKAGE.parent / "web" / "node_modules", _PACKAGE / "_bundled" / "web"):
        if candidate.is_dir():
            return candidate
    return None
