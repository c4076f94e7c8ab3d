"""The chaos results table, as a pytest plugin: every scenario adds a row (:data:`RESULTS`), and the
table is printed at the end of the session and written to ``var/chaos-results.md`` (and ``.json``).

Registered by the root conftest (``pytest_plugins``), so the table is printed whichever tests ran.
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS: list[dict] = []


def write_results_table() -> list[str]:
    """The results table as markdown lines (also written to var/chaos-results.md and .json: outside
    the suite's own data folder, which is removed when the session ends)."""
    if not RESULTS:
        return []
    lines = [
        "| scenario | submitted | completed | duplicated | lost | errors | equals clean run | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in RESULTS:
        lines.append(
            f"| {row['scenario']} | {row['submitted']} | {row['completed']} | {row['duplicated']} | "
            f"{row['lost']} | {row['errors']} | {'yes' if row['matches_clean_run'] else 'no'} | {row['note']} |"
        )
    out = Path(__file__).resolve().parents[2] / "var" / "chaos-results.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps(RESULTS, indent=2))
    return [f"chaos results ({out})", *lines]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for line in write_results_table():
        terminalreporter.write_line(line)
