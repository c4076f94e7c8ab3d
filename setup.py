"""Build step that carries the run-time files outside the Python packages into the wheel.

``alembic.ini``, ``migrations/``, ``infra/`` and ``prefect.yaml`` stay at the top of the repository (where the
design puts them and where a source checkout uses them); a wheel gets copies under
``docflow/_bundled/``, which :mod:`docflow.core.resources` finds when no checkout is around.
Everything else is configured in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED = ("alembic.ini", "migrations", "infra", "prefect.yaml")
# The browser libraries the pages serve, from web/node_modules (installed by scripts/bootstrap.sh).
WEB_ASSETS = (
    "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui-dist/swagger-ui.css",
    "swagger-ui-dist/favicon-32x32.png",
    "swagger-ui-dist/LICENSE",
    "cytoscape/dist/cytoscape.min.js",
    "cytoscape/LICENSE",
    "htmx.org/dist/htmx.min.js",
    "htmx.org/LICENSE",
    "chart.js/dist/chart.umd.min.js",
    "chart.js/LICENSE.md",
)
# Build output and caches are not run-time files.
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "target")


class BuildWithBundledFiles(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install runs from the checkout, which has them
            return
        target = Path(self.build_lib) / "docflow" / "_bundled"
        for name in BUNDLED:
            source = HERE / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=IGNORED, dirs_exist_ok=True)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)
        modules = HERE / "web" / "node_modules"
        for name in WEB_ASSETS:
            if (modules / name).is_file():  # absent without npm: the pages then say what to install
                (target / "web" / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(modules / name, target / "web" / name)


setup(cmdclass={"build_py": BuildWithBundledFiles})
