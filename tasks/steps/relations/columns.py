"""What a table's column headers say about the names in their columns. Pure.

A table whose first row names its columns ("Name | Role | Organisation", "Nom | Fonction |
Organisme", "Nombre | Cargo | Entidad") says what each cell holds better than a recogniser reading a
lone cell: a name in the name column is a person's, one in the organisation column an
organisation's, whatever label the recogniser gave it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["NAME_COLUMN", "ORGANISATION_COLUMN", "ROLE_COLUMN", "column_roles", "header_columns"]

NAME_COLUMN = re.compile(r"^(?:name|nom|nombre|person|personne|persona|member|membre|miembro)$", re.IGNORECASE)
ROLE_COLUMN = re.compile(r"^(?:role|rôle|title|position|fonction|poste|cargo|función)$", re.IGNORECASE)
ORGANISATION_COLUMN = re.compile(
    r"^(?:organi[sz]ation|organisme|company|firm|employer|entreprise|société|structure|empresa|entidad|"
    r"institución|organización|compañía|affiliation)$",
    re.IGNORECASE,
)


def header_columns(table: str) -> tuple[int | None, int | None, int | None]:
    """The positions of the name, role and organisation columns named by the table's first row."""
    header = [cell.strip() for cell in table.split("\n", 1)[0].split("|")]

    def find(pattern: re.Pattern[str]) -> int | None:
        return next((i for i, cell in enumerate(header) if pattern.match(cell)), None)

    return find(NAME_COLUMN), find(ROLE_COLUMN), find(ORGANISATION_COLUMN)


def column_roles(table: str, start: int, entities: Iterable[tuple[int, int, int, str]]) -> dict[int, str]:
    """Entity index -> the role its column gives it, for ``entities`` (index, start, end, role) in the table.

    ``table`` is the table's text ("a | b" cells, one row per line) and ``start`` its offset in the
    document. Only a name or organisation column named by a header changes a role; a date, a
    stand-in ("the Board") stays what it is.
    """
    name_column, _role_column, organisation_column = header_columns(table)
    if name_column is None and organisation_column is None:
        return {}
    cells: list[tuple[int, int, int]] = []  # (start, end, column) below the header
    position = start
    for number, row in enumerate(table.split("\n")):
        column_start = position
        for column, cell in enumerate(row.split("|")):
            if number:
                cells.append((column_start, column_start + len(cell), column))
            column_start += len(cell) + 1
        position += len(row) + 1
    roles: dict[int, str] = {}
    for index, entity_start, entity_end, role in entities:
        found = next((c for s, e, c in cells if s <= entity_start and entity_end <= e), None)
        if found is None:
            continue
        if found == name_column and role in ("ORG", "AMB", "LOC"):
            roles[index] = "PER"
        elif found == organisation_column and role in ("PER", "AMB", "LOC"):
            roles[index] = "ORG"
    return roles
