"""Relationships the document's structure states, rather than a sentence. Pure.

Message headers (:mod:`.headers`), letters and signature blocks (:mod:`.letters`), agreements and
statutes (:mod:`.agreements`), tables (:mod:`.tables`). Organisation names written in capitals in a
letterhead or a signature line are found through the canonical key of the line
(:func:`tasks.steps.relations.blocks.entity_by_key`).
"""

from __future__ import annotations

from tasks.steps.relations.agreements import agreement_findings, seat_findings
from tasks.steps.relations.document import DocumentView
from tasks.steps.relations.headers import header_findings
from tasks.steps.relations.letters import letter_findings
from tasks.steps.relations.model import Finding
from tasks.steps.relations.tables import table_findings

__all__ = ["structure_findings"]


def structure_findings(view: DocumentView) -> list[Finding]:
    """Every relationship the document's layout states."""
    return [
        *header_findings(view),
        *letter_findings(view),
        *agreement_findings(view),
        *table_findings(view),
        *seat_findings(view),
    ]
