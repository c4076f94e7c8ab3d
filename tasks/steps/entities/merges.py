"""A project's reviewed merges applied to one document's mentions (before relationships are drawn).

A merge says that, in a project, the entity ``(from_key, from_label)`` is the entity
``(into_key, into_label)``: every mention of the first is saved as a mention of the second, under
its display name, so co-occurrence and every other relationship is drawn between the merged
entities, and a re-run of the entity stage (reprocessing) gives the same result. Merges chain
(A into B, B into C: A's mentions go to C); a cycle, which the merge operation refuses, would
stop where it closes. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from tasks.steps.entities.spans import Mention

__all__ = ["MergeTarget", "apply_merges", "resolve_merge"]


@dataclass(frozen=True)
class MergeTarget:
    """The entity a merged entity is saved as: its key, label and display name."""

    key: str
    label: str
    name: str


def resolve_merge(key: str, label: str, merges: Mapping[tuple[str, str], MergeTarget]) -> MergeTarget | None:
    """Where ``(key, label)`` ends up after following the merges (None: it is not merged)."""
    target = None
    seen = {(key, label)}
    while (found := merges.get((key, label))) is not None and (found.key, found.label) not in seen:
        target = found
        key, label = found.key, found.label
        seen.add((key, label))
    return target


def apply_merges(mentions: Iterable[Mention], merges: Mapping[tuple[str, str], MergeTarget]) -> list[Mention]:
    """The mentions in the same order, each merged entity's under the entity it was merged into.

    The surface text and the offsets stay (the document still says what it says); the key, label
    and display name are the target's.
    """
    out = []
    for mention in mentions:
        target = resolve_merge(mention.canonical_key, mention.label, merges) if merges else None
        out.append(
            mention
            if target is None
            else replace(mention, canonical_key=target.key, label=target.label, canonical_name=target.name)
        )
    return out
