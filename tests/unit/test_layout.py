"""The README's Layout table is the map of the code: every package and folder has a row in it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _mapped_folders() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Layout") :]
    section = section[: section.index("\n## ", 1)] if "\n## " in section[1:] else section
    return set(re.findall(r"`([\w./-]+/)`", section))


def _folders() -> set[str]:
    """Every top-level folder in the repository, and every package (a folder with an __init__.py)."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    found = {f"{Path(name).parts[0]}/" for name in tracked if len(Path(name).parts) > 1}
    found |= {f"{Path(name).parent}/" for name in tracked if Path(name).name == "__init__.py"}
    return found


def test_every_package_and_folder_has_a_row_in_the_readme_layout():
    # GIVEN the repository's folders and packages WHEN the README's Layout table is read
    missing = sorted(_folders() - _mapped_folders())
    # THEN each one is named there (add a row for a new one)
    assert missing == []
