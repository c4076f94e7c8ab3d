"""Letters and signature blocks: who signed, for which organisation, in what role, to whom. Pure.

The signature block is the few short lines under the closing ("Sincerely,", "Je vous prie
d'agréer…", "Atentamente,"), or, without a closing, the document's last short lines when they start
with a person's name alone. It names the signatory, a title and an organisation: ``ROLE_AT``. In a
letter (a document with a salutation and without a message header) the signatory also
``SIGNED_FOR`` that organisation and ``WROTE_TO`` the addressee: the person of the inside address (the short lines between the date
line and the salutation), else the one greeted by the salutation. The inside address and the
letterhead (the lines above the date) locate their organisations (``LOCATED_IN``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tasks.steps.relations.blocks import entity_by_key, finding
from tasks.steps.relations.document import Block, DocumentView, Entity
from tasks.steps.relations.lexicon import DATE, role_type
from tasks.steps.relations.model import Finding

__all__ = ["letter_findings"]

_SALUTATION = re.compile(
    r"^(?:dear|hi|hello|cher|chère|bonjour|estimad[oa]s?|querid[oa]s?|hola)\b"
    # a title alone opens the inside address too ("Madame Claire Fontaine"): a greeting ends in , or :
    r"|^(?:madame|monsieur|mesdames|messieurs|señor(?:a|es)?|sr\.|sra\.)\b.*[,:!]$"
    r"|^[A-ZÀ-Þ][\w'-]+(?:,\s*[A-ZÀ-Þ][\w'-]+)*\s*[,:]$",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"^(?:sincerely|yours(?: truly| faithfully| sincerely)?|(?:kind|best|warm)(?:est)? regards|regards|best wishes|"
    r"all the best|thanks|thank you|cordialement|bien cordialement|(?:sincères |meilleures )?salutations|"
    r"je vous prie d'agréer|veuillez agréer|bien à vous|atentamente|un (?:cordial )?saludo|saludos|cordialmente|"
    r"reciba un cordial saludo)\b",
    re.IGNORECASE,
)
_CONTACT = re.compile(r"\d{3}|@|\btel\b|\bfax\b|e-mail|www\.", re.IGNORECASE)
_SHORT = 120  # characters: longer blocks are prose, not a signature or an address line


def letter_findings(view: DocumentView) -> list[Finding]:
    blocks = view.blocks
    closing = _closing(view)
    if closing is None:
        return []
    signature = [b for b in blocks[closing : closing + 7] if len(b.text) < _SHORT]
    people = [
        e
        for b in signature
        for e in view.entities_in(b.start, b.end)
        if e.role == "PER" and _after_closing(e, blocks[closing])
    ]
    if not people:
        return []
    signatory = _fullest(people)
    is_message = any(b.kind == "EmailHeader" for b in blocks)
    findings: list[Finding] = []
    organisation, role = _signature_organisation(view, signature, signatory)
    if organisation is not None:
        findings.append(
            finding(
                "ROLE_AT", signatory, organisation, signature, "signature:role", 0.85,
                role=role, role_type=role_type(role), former=False,
            )
        )  # fmt: skip
        if not is_message and _salutation(blocks, closing) is not None:  # a letter, not a note
            findings.append(finding("SIGNED_FOR", signatory, organisation, signature, "signature:letter", 0.8))
        findings += _address_places(view, organisation, signature, "signature:address")
    if not is_message:
        findings += _addressee(view, closing, signatory) or _vocative(view, closing, signatory)
    return findings


def _fullest(people: Sequence[Entity]) -> Entity:
    """The signatory: the first person named, or the fuller name under it ("All the best, Vidal" / "Vidal G. Martinez")."""
    first = people[0]
    return next((p for p in people[1:3] if p.text != first.text and p.text.startswith(first.text + " ")), first)


def _vocative(view: DocumentView, closing: int, signatory: Entity) -> list[Finding]:
    """A note without header or salutation line that opens by naming its reader ("Mark, further to our call")."""
    for block in view.blocks[: min(2, closing)]:
        opening = next(iter(view.entities_in(block.start, block.end)), None)
        if (
            opening is not None
            and opening.role == "PER"
            and opening.start == block.start
            and view.text[opening.end : opening.end + 1] == ","
            and opening.key != signatory.key
        ):
            return [finding("WROTE_TO", signatory, opening, [block, view.blocks[closing]], "letter:vocative", 0.7)]
    return []


def _closing(view: DocumentView) -> int | None:
    """The block of the closing; without one, the first of the last short lines that start with a name alone."""
    blocks = view.blocks
    found = next((i for i, b in enumerate(blocks) if _CLOSING.match(b.text.strip()) and len(b.text) < 160), None)
    if found is not None:
        return found
    for index in range(max(0, len(blocks) - 4), len(blocks)):
        block = blocks[index]
        names = [e for e in view.entities_in(block.start, block.end) if e.role == "PER"]
        tail = blocks[index:]
        if names and len(names[0].text) >= 0.8 * len(block.text.strip()) and all(len(b.text) < _SHORT for b in tail):
            return index
    return None


def _after_closing(entity: Entity, closing: Block) -> bool:
    if not (closing.start <= entity.start < closing.end):
        return True
    match = _CLOSING.match(closing.text.strip())
    return match is None or entity.start - closing.start >= match.end()


def _signature_organisation(
    view: DocumentView, blocks: Sequence[Block], signatory: Entity
) -> tuple[Entity | None, str]:
    """The organisation under the signatory's name, and the title between them (or beside it)."""
    below = [b for b in blocks if b.start >= signatory.end or (b.start <= signatory.end <= b.end)]
    role_parts: list[str] = []
    for block in below:
        start = max(block.start, signatory.end)
        text = view.text[start : block.end].strip(" ,\n")
        here = [e for e in view.entities_in(start, block.end) if e.key != signatory.key]
        organisations = [e for e in here if e.role in ("ORG", "FAC")] or [e for e in here if e.role == "AMB"][-1:]
        if organisations:
            organisation = organisations[0]
            before = view.text[start : organisation.start].strip(" ,–-\n")
            return organisation, " ".join([*role_parts, before]).strip(" ,–-")
        keyed = entity_by_key(view, text) if text else None
        if keyed is not None and keyed.key != signatory.key and keyed.role != "PER":
            return keyed, " ".join(role_parts).strip(" ,")
        if text and not _CONTACT.search(text):
            role_parts.append(text)
        if len(role_parts) > 2:
            break
    return None, ""


def _address_places(view: DocumentView, organisation: Entity, blocks: Sequence[Block], producer: str) -> list[Finding]:
    """Places on the (up to four) address lines right under an organisation's name."""
    findings = []
    for block in [b for b in blocks if b.start >= organisation.end][:4]:
        for place in view.entities_in(block.start, block.end):
            if place.role in ("LOC", "AMB") and place.key != organisation.key:
                findings.append(finding("LOCATED_IN", organisation, place, [block], producer, 0.75))
    return findings


def _is_date_line(block: Block) -> bool:
    return len(block.text) < 60 and any(pattern.search(block.text) for pattern in DATE.values())


def _salutation(blocks: Sequence[Block], closing: int) -> int | None:
    return next(
        (i for i, b in enumerate(blocks[:closing]) if _SALUTATION.match(b.text.strip()) and len(b.text) < 80), None
    )


def _addressee(view: DocumentView, closing: int, signatory: Entity) -> list[Finding]:
    blocks = view.blocks
    salutation = _salutation(blocks, closing)
    if salutation is None:
        return []
    findings: list[Finding] = []
    dated = [i for i in range(salutation) if _is_date_line(blocks[i])]
    first = dated[-1] + 1 if dated else max(0, salutation - 8)
    inside = [b for b in blocks[first:salutation] if len(b.text) < 90]
    people = [e for b in inside for e in view.entities_in(b.start, b.end) if e.role == "PER" and e.key != signatory.key]
    if people:
        addressee = people[0]
        below = [b for b in inside if b.start >= addressee.end]
        organisation = next(
            (e for b in below for e in view.entities_in(b.start, b.end) if e.role in ("ORG", "FAC", "AMB")), None
        ) or next((o for b in below if (o := entity_by_key(view, b.text)) is not None and o.role != "PER"), None)
        if organisation is not None:
            title = " ".join(b.text for b in below if b.end <= organisation.start).strip()
            findings.append(
                finding(
                    "ROLE_AT", addressee, organisation, inside, "letter:inside-address", 0.8,
                    role=title, role_type=role_type(title), former=False,
                )
            )  # fmt: skip
            findings += _address_places(view, organisation, inside, "letter:inside-address")
    else:
        greeted = [e for e in view.entities_in(blocks[salutation].start, blocks[salutation].end) if e.role == "PER"]
        if not greeted:
            return findings
        addressee = greeted[0]
    if dated:
        findings += _letterhead(view, blocks[: dated[-1]][:4])
    findings.append(
        finding("WROTE_TO", signatory, addressee, [blocks[salutation], blocks[closing]], "letter:addressee", 0.8)
    )
    return findings


def _letterhead(view: DocumentView, blocks: Sequence[Block]) -> list[Finding]:
    if not blocks:
        return []
    first = blocks[0]
    organisation = next(
        (e for e in view.entities_in(first.start, first.end) if e.role in ("ORG", "FAC", "AMB")), None
    ) or entity_by_key(view, first.text)
    if organisation is None:
        return []
    return _address_places(view, organisation, blocks[1:], "letter:letterhead")
