"""The labelled relation set (``bench/data/relations``): loading it and building each document's file.

A document is stored as text (``docs/``) and built into the format the manifest names, so the
pipeline reads it the way it reads a user's file: ``txt``, ``eml`` and ``html`` as they are; ``msg``
from the ``.eml`` through :func:`tests.fixtures.cfb.outlook_message`; ``pdf``, ``pdf-2col``
(two columns, the layout of a paper) and ``docx`` from a small markup (``# `` and ``## `` headings,
``|`` table rows, blank lines between paragraphs, one visual line per source line).
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

DATA = Path(__file__).parent / "data" / "relations"
SPLITS = ("dev", "held_out")


@dataclass(frozen=True)
class GoldRelation:
    doc: str
    kind: str
    source: tuple[str, ...]  # the names the source entity goes by in the document
    target: tuple[str, ...]
    former: bool = False
    date: str | None = None


@dataclass(frozen=True)
class LabelledDocument:
    id: str
    path: Path
    language: str
    render: str
    origin: str
    split: str
    gold: tuple[GoldRelation, ...] = field(default=())


def split_of(ids: list[str]) -> dict[str, str]:
    """The fixed split rule: per language, documents ordered by SHA-256 of their id; every third held out."""
    out: dict[str, str] = {}
    for language in sorted({doc_id.split("-", 1)[0] for doc_id in ids}):
        group = sorted(
            (d for d in ids if d.split("-", 1)[0] == language), key=lambda d: hashlib.sha256(d.encode()).hexdigest()
        )
        for position, doc_id in enumerate(group):
            out[doc_id] = "held_out" if position % 3 == 0 else "dev"
    return out


def parse_gold(line: str) -> GoldRelation:
    row = json.loads(line)
    return GoldRelation(
        doc=row["doc"],
        kind=row["kind"],
        source=tuple(row["source"].split("|")),
        target=tuple(row["target"].split("|")),
        former=bool(row.get("former", False)),
        date=row.get("date"),
    )


def load_set(data: Path = DATA) -> list[LabelledDocument]:
    """Every labelled document with its gold relations and its split (computed by :func:`split_of`)."""
    manifest = json.loads((data / "manifest.json").read_text(encoding="utf-8"))
    gold: dict[str, list[GoldRelation]] = {}
    for line in (data / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            relation = parse_gold(line)
            gold.setdefault(relation.doc, []).append(relation)
    documents = manifest["documents"]
    splits = split_of([d["id"] for d in documents])
    return [
        LabelledDocument(
            id=d["id"],
            path=data / d["file"],
            language=d["language"],
            render=d["render"],
            origin=d["origin"],
            split=splits[d["id"]],
            gold=tuple(gold.get(d["id"], ())),
        )
        for d in documents
    ]


# --- building the files ----------------------------------------------------------------------------

_EXTENSIONS = {
    "txt": "txt",
    "eml": "eml",
    "html": "html",
    "msg": "msg",
    "pdf": "pdf",
    "pdf-2col": "pdf",
    "docx": "docx",
}


def build_file(document: LabelledDocument, directory: Path) -> Path:
    """Write the document in its manifest format into ``directory``; the file's path."""
    target = directory / f"{document.id}.{_EXTENSIONS[document.render]}"
    source = document.path.read_text(encoding="utf-8")
    if document.render in ("txt", "eml", "html"):
        target.write_bytes(document.path.read_bytes())
    elif document.render == "msg":
        target.write_bytes(_msg(source))
    elif document.render == "docx":
        target.write_bytes(_docx(source))
    else:
        target.write_bytes(_pdf(source, columns=2 if document.render == "pdf-2col" else 1))
    return target


@dataclass(frozen=True)
class _Block:
    kind: str  # "h1", "h2", "table", "lines"
    lines: tuple[str, ...]


def _blocks(markup: str) -> Iterator[_Block]:
    for chunk in markup.replace("\r\n", "\n").split("\n\n"):
        lines = tuple(line.rstrip() for line in chunk.strip("\n").split("\n") if line.strip())
        if not lines:
            continue
        if all(line.startswith("|") for line in lines):
            yield _Block("table", lines)
            continue
        # A heading line opens a block of its own; the lines under it stay one block.
        rest = list(lines)
        while rest and rest[0].startswith("#"):
            level = "h1" if not rest[0].startswith("##") else "h2"
            yield _Block(level, (rest.pop(0).lstrip("#").strip(),))
        if rest:
            yield _Block("lines", tuple(rest))


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _pdf(markup: str, *, columns: int) -> bytes:
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer, Table

    styles = getSampleStyleSheet()
    body = ParagraphStyle("RelBody", parent=styles["BodyText"], fontSize=10, leading=12.5, spaceAfter=0)
    cell = ParagraphStyle("RelCell", parent=body, fontSize=9, leading=11)
    story: list = []
    for block in _blocks(markup):
        if block.kind in ("h1", "h2"):
            story.append(Paragraph(escape(block.lines[0]), styles["Heading1" if block.kind == "h1" else "Heading3"]))
        elif block.kind == "table":
            rows = [[Paragraph(escape(text), cell) for text in _cells(line)] for line in block.lines]
            story += [Table(rows, hAlign="LEFT"), Spacer(1, 8)]
        else:
            # One Paragraph per source line: a letter's address lines stay lines; a long line wraps.
            story += [Paragraph(escape(line), body) for line in block.lines]
            story.append(Spacer(1, 8))
    buf = io.BytesIO()
    width, height = A4
    margin = 2 * cm
    gap = 0.8 * cm
    column_width = (width - 2 * margin - gap * (columns - 1)) / columns
    frames = [
        Frame(margin + i * (column_width + gap), margin, column_width, height - 2 * margin, id=f"c{i}")
        for i in range(columns)
    ]
    doc = BaseDocTemplate(buf, pagesize=A4, title="docflow relations bench", author="docflow bench", invariant=1)
    doc.addPageTemplates([PageTemplate(id="page", frames=frames)])
    doc.build(story)
    return buf.getvalue()


def _docx(markup: str) -> bytes:
    import docx  # python-docx

    from bench.corpus import normalise_zip

    document = docx.Document()
    for block in _blocks(markup):
        if block.kind in ("h1", "h2"):
            document.add_heading(block.lines[0], level=0 if block.kind == "h1" else 1)
        elif block.kind == "table":
            rows = [_cells(line) for line in block.lines]
            table = document.add_table(rows=len(rows), cols=max(len(r) for r in rows))
            for row, values in zip(table.rows, rows, strict=True):
                for target, value in zip(row.cells, values, strict=False):
                    target.text = value
        else:
            for line in block.lines:
                document.add_paragraph(line)
    props = document.core_properties
    props.title, props.author, props.last_modified_by, props.revision = "relations", "docflow bench", "docflow bench", 1
    props.created = props.modified = datetime(2025, 3, 3, 9, 15)
    buf = io.BytesIO()
    document.save(buf)
    return normalise_zip(buf.getvalue())


def _people(value: str | None) -> list[tuple[str, str]]:
    return [(name or address, address) for name, address in email.utils.getaddresses([value or ""]) if address]


def _msg(eml: str) -> bytes:
    from tests.fixtures.cfb import outlook_message  # a test fixture: the bench runs from the repository

    message = email.message_from_bytes(eml.encode("utf-8"), policy=email.policy.default)
    sender = _people(str(message["From"]))[0]
    sent = email.utils.parsedate_to_datetime(str(message["Date"])) if message["Date"] else datetime(2024, 1, 1)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return outlook_message(
        sender=sender,
        to=_people(str(message["To"])),
        cc=_people(str(message["Cc"])) if message["Cc"] else [],
        subject=str(message["Subject"] or ""),
        sent=sent.astimezone(UTC),
        body=text.replace("\n", "\r\n"),
        attachments=[],
    )
