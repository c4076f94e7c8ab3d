"""Agreements and statutes: signatories, parties and a company's seat. Pure.

* signature lines — "By: …" under the party's name (and "Title: …" under it), "Pour X : …",
  "Por X: …", "For and on behalf of X: …" — give ``SIGNED_FOR`` and, with a title, ``ROLE_AT``;
* the parties introduced by "ENTRE LES SOUSSIGNÉS" / "REUNIDOS" (the first organisation of each
  party's paragraph), else the organisations signed for, have an ``AGREEMENT_WITH`` each other,
  dated by "Fait à …, le …" / "En …, a …" where the document says so;
* in statutes, a "Siège social :" line (or "le siège social est fixé à …") locates the company the
  document is about: the organisation of its first lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tasks.steps.relations.blocks import entity_by_key, finding
from tasks.steps.relations.document import Block, DocumentView, Entity
from tasks.steps.relations.lexicon import role_type
from tasks.steps.relations.model import Finding

__all__ = ["agreement_findings", "seat_findings"]

_SIGNATURE_LINE = re.compile(
    r"^\s*(?:pour|por|for(?: and on behalf of)?|on behalf of)\s+(?P<org>.+?)\s*:\s*", re.IGNORECASE
)
_BY_LINE = re.compile(r"^\s*(?:by|par|por|signed|signé|firmado)\s*:", re.IGNORECASE)
_TITLE_LINE = re.compile(r"^\s*(?:title|titre|cargo|fonction|qualité|position)\s*:\s*(?P<role>.+)$", re.IGNORECASE)
_PARTY_INTRO = re.compile(r"^\s*(?:entre les soussignés|reunidos|between|by and between)\b", re.IGNORECASE)
_PARTY_BLOCK = re.compile(
    r"^\s*(?:la société|le groupe|l'association|de una parte|de otra parte|y de otra|la sociedad|et\b|and\b)",
    re.IGNORECASE,
)
_DATE_PLACE = re.compile(
    r"\b(?:fait à|en)\s+[\w' -]+,\s+(?:le|a)\s+(?P<date>\d{1,2}(?:er)?\s+(?:de\s+)?[a-zéû]+\s+(?:de\s+)?\d{4})",
    re.IGNORECASE,
)
_SEAT = re.compile(r"^\s*(?:siège social|siège|registered office|domicilio social|sede social)\s*:", re.IGNORECASE)
_SEAT_SENTENCE = re.compile(
    r"\b(?:le siège social est fixé|the registered office is|el domicilio social)\b", re.IGNORECASE
)


def agreement_findings(view: DocumentView) -> list[Finding]:
    blocks = view.blocks
    findings: list[Finding] = []
    signed: list[Entity] = []
    for block in blocks:
        text = block.text.strip()
        line = _SIGNATURE_LINE.match(text)
        if line is not None:
            organisation = entity_by_key(view, line.group("org")) or next(
                (e for e in view.entities_in(block.start, block.start + line.end()) if e.role != "PER"), None
            )
            people = [e for e in view.entities_in(block.start + line.end(), block.end) if e.role == "PER"]
            if organisation is not None and people:
                signed.append(organisation)
                findings.append(finding("SIGNED_FOR", people[0], organisation, [block], "signature:agreement", 0.85))
                role = view.text[people[0].end : block.end].strip(" ,–-")
                if role:
                    findings.append(
                        finding(
                            "ROLE_AT", people[0], organisation, [block], "signature:agreement", 0.8,
                            role=role, role_type=role_type(role), former=False,
                        )
                    )  # fmt: skip
    lines = _lines(blocks)
    for number, line_block in enumerate(lines):
        if not (_BY_LINE.match(line_block.text) and number > 0):
            continue
        people = [e for e in view.entities_in(line_block.start, line_block.end) if e.role == "PER"]
        above = lines[number - 1]
        organisation = entity_by_key(view, above.text) or next(
            (e for e in view.entities_in(above.start, above.end) if e.role != "PER"), None
        )
        if not people or organisation is None:
            continue
        signed.append(organisation)
        findings.append(
            finding("SIGNED_FOR", people[0], organisation, [above, line_block], "signature:agreement", 0.85)
        )
        # "Title: …" under the "By:" line, maybe after a "Name: …" line.
        titled = next(((b, m) for b in lines[number + 1 : number + 3] if (m := _TITLE_LINE.match(b.text))), None)
        if titled is not None:
            title_line, title = titled
            role = title.group("role").strip()
            findings.append(
                finding(
                    "ROLE_AT", people[0], organisation, [above, line_block, title_line], "signature:agreement", 0.8,
                    role=role, role_type=role_type(role), former=False,
                )
            )  # fmt: skip
    parties = _introduced_parties(view) or list({o.key: o for o in signed}.values())
    if len(parties) >= 2:
        date = _agreement_date(view)
        properties = {"date": date} if date else {}
        evidence = [b for b in blocks if any(b.start <= p.start < b.end for p in parties)]
        for i, first in enumerate(parties):
            for second in parties[i + 1 :]:
                if first.key != second.key:
                    findings.append(
                        finding("AGREEMENT_WITH", first, second, evidence, "agreement:parties", 0.8, **properties)
                    )
    return findings


def _lines(blocks: Sequence[Block]) -> list[Block]:
    """Every line of every block as a block of its own: a signature block is one paragraph or several."""
    lines = []
    for block in blocks:
        position = block.start
        for text in block.text.split("\n"):
            if text.strip():
                lines.append(Block(position, position + len(text), block.page, block.kind, text))
            position += len(text) + 1
    return lines


def _introduced_parties(view: DocumentView) -> list[Entity]:
    blocks = view.blocks
    intro = next((i for i, b in enumerate(blocks[:8]) if _PARTY_INTRO.match(b.text)), None)
    if intro is None:
        return []
    parties: list[Entity] = []
    for block in blocks[intro : intro + 10]:
        if block is not blocks[intro] and not _PARTY_BLOCK.match(block.text):
            continue
        first = next((e for e in view.entities_in(block.start, block.end) if e.role in ("ORG", "FAC", "AMB")), None)
        if first is not None and all(first.key != p.key for p in parties):
            parties.append(first)
    return parties


def _agreement_date(view: DocumentView) -> str:
    for block in view.blocks:
        match = _DATE_PLACE.search(block.text)
        if match:
            return match.group("date")
    return ""


def seat_findings(view: DocumentView) -> list[Finding]:
    findings: list[Finding] = []
    main = _main_organisation(view)
    if main is None:
        return findings
    for number, block in enumerate(view.blocks):
        labelled = _SEAT.match(block.text) is not None
        if not labelled and not _SEAT_SENTENCE.search(block.text):
            continue
        if not labelled and any(e.role in ("ORG", "FAC") for e in view.entities_in(block.start, block.end)):
            continue  # the sentence names its own company: the sentence patterns read it
        for candidate in view.blocks[number : number + 3]:
            places = [e for e in view.entities_in(candidate.start, candidate.end) if e.role in ("LOC", "AMB")]
            if places:
                evidence = [block, candidate] if candidate is not block else [block]
                findings.append(finding("LOCATED_IN", main, places[0], evidence, "statute:seat", 0.75))
                break
    return findings


def _main_organisation(view: DocumentView) -> Entity | None:
    """The organisation a document is about: named alone on one of its first lines, else the first one there."""
    for block in view.blocks[:3]:
        entity = entity_by_key(view, block.text.split(":")[-1].split("(")[0])
        if entity is not None and entity.role != "PER":
            return entity
        organisations = [e for e in view.entities_in(block.start, block.end) if e.role in ("ORG", "AMB")]
        if organisations:
            return organisations[-1]
    return None
