"""Which projects a reader may see, as the filter every listing and search takes.

``None`` means every project (the CLI on the machine that holds the secrets, a flow, an admin);
a set means only those projects — an empty set, none. Queries apply it in their ``WHERE`` clause
(:func:`in_projects`), so what is outside is never read, rather than read and hidden afterwards.
"""

from __future__ import annotations

from collections.abc import Collection

Projects = frozenset[str] | None


def scope_parameter(projects: Collection[str] | None) -> list[str] | None:
    """The value bound to ``%(projects)s`` in :func:`in_projects` (a sorted list, or NULL)."""
    return None if projects is None else sorted(projects)


def in_projects(column: str) -> str:
    """SQL: ``column`` is one of the bound ``%(projects)s`` (always true when that is NULL)."""
    return f"(%(projects)s::text[] IS NULL OR {column} = ANY(%(projects)s::text[]))"
