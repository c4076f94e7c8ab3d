"""A project's entities as a person curates them: reviewed merges and splits, possible duplicates.

What the CLI (``docflow entities ...``), the HTTP API and the web pages offer, written once:

* :func:`merge_entities` — merge one entity into another (recorded with who, when, why);
* :func:`split_entity` — end an entity's merge (it is its own entity again);
* :func:`list_merges` — the project's merges (live, or with the split ones: the history);
* :func:`possible_duplicates` — same-label entities with alike names and shared neighbours, best first;
* :func:`find_entity` — an entity by id, name or ``LABEL:name``.
"""

from docflow.ops.entities.duplicates import DuplicateCandidate, possible_duplicates
from docflow.ops.entities.merges import MergeRecord, MergeResult, list_merges, merge_entities, split_entity
from docflow.ops.entities.records import EntityError, EntityNotFound, EntityRecord, MergeRefused, find_entity

__all__ = [
    "DuplicateCandidate",
    "EntityError",
    "EntityNotFound",
    "EntityRecord",
    "MergeRecord",
    "MergeRefused",
    "MergeResult",
    "find_entity",
    "list_merges",
    "merge_entities",
    "possible_duplicates",
    "split_entity",
]
