"""Who wrote to whom: the sender, To and Cc of a message's header (and of a header quoted in its body). Pure.

The sender ``WROTE_TO`` each To recipient and ``COPIED`` each Cc recipient, dated by the header's
Date. A name the recogniser missed in the header is taken from the rest of the document when the
header's display name is the same name ("From: Lorena Vidal <…>" and a signature "Lorena Vidal").
A header quoted in a body without a From line (Lotus Notes: "Name@Domain", a date, "To: …") has
the person named just above it as its sender. A name glued to its Lotus Notes routing
("John Arnold/HOU/ECT@ECT"), or an Exchange display name written last name first ("Arnold, John
</O=ENRON/...>"), is the person the document names plainly.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterator, Sequence

from tasks.steps.relations.blocks import entity_by_key, finding, parties
from tasks.steps.relations.document import Block, DocumentView, Entity
from tasks.steps.relations.model import Finding

__all__ = ["header_findings"]

_FIELD = re.compile(r"^\s*(from|to|cc|date|sent|de|à|a|para|envoyé|enviado|fecha)\s*:", re.IGNORECASE)
_RECIPIENT_FIELDS = {"to": "WROTE_TO", "à": "WROTE_TO", "a": "WROTE_TO", "para": "WROTE_TO", "cc": "COPIED"}
_SENDER_FIELDS = ("from", "de")
_DATE_FIELDS = ("date", "sent", "envoyé", "enviado", "fecha")


def header_findings(view: DocumentView) -> list[Finding]:
    findings = []
    for number, block in enumerate(view.blocks):
        lines = list(_lines(view, block))
        if not {name for name, _, _ in lines} & set(_RECIPIENT_FIELDS):
            continue
        quoted = block.kind != "EmailHeader"
        sender = _sender(view, number, lines)
        if sender is None:
            continue
        date = next((view.text[s:e].split(":", 1)[1].strip() for name, s, e in lines if name in _DATE_FIELDS), "")
        properties = {"date": date} if date else {}
        for name, start, end in lines:
            kind = _RECIPIENT_FIELDS.get(name)
            if kind is None:
                continue
            evidence = Block(start, end, block.page, block.kind, view.text[start:end])
            producer = f"header:{'quoted-' if quoted else ''}{'cc' if kind == 'COPIED' else 'to'}"
            for recipient in _people(view, start, end):
                if recipient.key != sender.key:
                    confidence = 0.8 if quoted else 0.95
                    findings.append(finding(kind, sender, recipient, [evidence], producer, confidence, **properties))
    return findings


def _lines(view: DocumentView, block: Block) -> Iterator[tuple[str, int, int]]:
    position = block.start
    for line in block.text.split("\n"):
        match = _FIELD.match(line)
        if match:
            yield match.group(1).casefold(), position, position + len(line)
        position += len(line) + 1


# A Lotus Notes address: the name, then its routing ("John Arnold/HOU/ECT@ECT", "Mike Maggi/Corp/Enron@ENRON").
_ROUTED = re.compile(r"^\s*(?P<name>[^/,;<>@\"]+?)\s*/[\w .&-]+(?:/[\w .&-]+)*@[\w.-]+\s*$")


# An Exchange display name written last name first: "Shankman, Jeffrey A. </O=ENRON/OU=NA/CN=...>".
_INVERTED = re.compile(
    r"(?:^|[;:]|>,?)\s*\"?(?P<last>[A-Z][\w'-]+),\s+(?P<first>[A-Z][\w'-]+)(?:\s+(?P<middle>[A-Z]\.?))?\"?\s*(?=<|;|$)"
)


def _unrouted(view: DocumentView, entity: Entity) -> Entity:
    """The person a name glued to its Notes routing stands for ("Mike Maggi/Corp"), where the document names them."""
    if "/" not in entity.text:
        return entity
    return entity_by_key(view, entity.text.split("/", 1)[0]) or entity


def _people(view: DocumentView, start: int, end: int) -> list[Entity]:
    """The entities named on a header line, and the display names the recogniser missed there."""
    found = list({e.key: e for e in (_unrouted(view, e) for e in parties(view.entities_in(start, end)))}.values())
    value = view.text[start:end].split(":", 1)[-1]
    names = [name for name, _address in email.utils.getaddresses([value])]
    names += [routed.group("name") for item in re.split(r"[,;]", value) if (routed := _ROUTED.match(item))]
    for inverted in _INVERTED.finditer(value):  # "Arnold, John </O=ENRON/...>": John Arnold
        first, middle, last = inverted.group("first", "middle", "last")
        names += [f"{first} {middle} {last}", f"{first} {last}"] if middle else [f"{first} {last}"]
    for name in names:
        entity = entity_by_key(view, name) if name else None
        if entity is not None and all(entity.key != e.key for e in found):
            found.append(entity)
    return found


def _sender(view: DocumentView, number: int, lines: Sequence[tuple[str, int, int]]) -> Entity | None:
    for name, start, end in lines:
        if name in _SENDER_FIELDS:
            people = _people(view, start, end)
            return people[0] if people else None
    for block in reversed(view.blocks[max(0, number - 3) : number]):
        people = [e for e in view.entities_in(block.start, block.end) if e.role == "PER"]
        if people:
            return _unrouted(view, people[-1])  # "John Arnold/HOU/ECT@ECT" over a quoted Notes header
    return None
