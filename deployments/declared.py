"""docflow's deployments, declared once: the bundled ``prefect.yaml``.

A work pool registers them from that file (``docflow deploy`` runs ``prefect deploy --all`` on it),
and ``docflow serve`` builds its served deployments from the same entries (:mod:`deployments.serve`),
so the two paths cannot drift: same names, entrypoints, descriptions, tags and schedules.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from docflow.core.resources import prefect_yaml

if TYPE_CHECKING:
    from prefect import Flow


@dataclass(frozen=True)
class DeclaredDeployment:
    name: str
    entrypoint: str  # "module.function": a module path into the installed package
    description: str
    tags: tuple[str, ...]
    interval_s: int | None  # None: no schedule (run from the UI's form)

    def flow(self) -> Flow[..., Any]:
        """The flow the entrypoint names (importing it imports Prefect)."""
        module, _, name = self.entrypoint.rpartition(".")
        found: Flow[..., Any] = getattr(importlib.import_module(module), name)
        return found


def declared_deployments() -> list[DeclaredDeployment]:
    """Every deployment of the bundled ``prefect.yaml``, in its order."""
    spec = yaml.safe_load(prefect_yaml().read_text())
    declared = []
    for entry in spec["deployments"]:
        intervals = [schedule["interval"] for schedule in entry.get("schedules") or [] if "interval" in schedule]
        declared.append(
            DeclaredDeployment(
                name=entry["name"],
                entrypoint=entry["entrypoint"],
                description=entry["description"],
                tags=tuple(entry.get("tags") or ()),
                interval_s=int(intervals[0]) if intervals else None,
            )
        )
    return declared
