"""Build step that carries the run-time files outside the Python packages into the wheel.

``alembic.ini``, ``migrations/`` and ``infra/`` stay at the top of the repository (where the
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
BUNDLED = ("alembic.ini", "migrations", "infra")
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


setup(cmdclass={"build_py": BuildWithBundledFiles})
