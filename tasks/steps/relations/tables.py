"""Table rows: a person and an organisation in one row hold a ``ROLE_AT`` (the role from the role column). Pure.

With a header row naming the columns ("Name | Role | Organisation", "Nom | Fonction | Organisme",
"Nombre | Cargo | Entidad"), the person must be in the name column; without one, in the first.
"""

from __future__ import annotations

from tasks.steps.relations.blocks import finding
from tasks.steps.relations.columns import header_columns
from tasks.steps.relations.document import Block, DocumentView
from tasks.steps.relations.lexicon import role_type
from tasks.steps.relations.model import Finding

__all__ = ["table_findings"]


def table_findings(view: DocumentView) -> list[Finding]:
    findings: list[Finding] = []
    for block in view.blocks:
        if block.kind != "Table":
            continue
        rows = block.text.split("\n")
        name_column, role_column, _organisation_column = header_columns(block.text)
        has_header = name_column is not None or role_column is not None
        position = block.start
        for number, row in enumerate(rows):
            start, end = position, position + len(row)
            position = end + 1
            if number == 0 and has_header:
                continue
            cells = _cells(row, start)
            person_cell = cells[name_column if name_column is not None else 0]
            entities = [e for e in view.entities if start <= e.start < end]
            people = [e for e in entities if e.role == "PER" and person_cell[0] <= e.start < person_cell[1]]
            organisations = [e for e in entities if e.role in ("ORG", "FAC", "AMB") and e.start >= person_cell[1]]
            if not people or not organisations:
                continue
            role = cells[role_column][2] if role_column is not None and role_column < len(cells) else ""
            evidence = Block(start, end, block.page, "Table", view.text[start:end])
            findings.append(
                finding(
                    "ROLE_AT", people[0], organisations[-1], [evidence], "table:row", 0.8 if has_header else 0.65,
                    role=role, role_type=role_type(role), former=False,
                )
            )  # fmt: skip
    return findings


def _cells(row: str, start: int) -> list[tuple[int, int, str]]:
    cells, position = [], start
    for cell in row.split("|"):
        cells.append((position, position + len(cell), cell.strip()))
        position += len(cell) + 1
    return cells
