"""A deterministic, seeded corpus of mixed documents with their ground truth.

    python -m bench.corpus --docs 200 --out /tmp/corpus --seed 7

Every document is written as ``<name>.<ext>`` with ``<name>.truth.json`` beside it::

    {"name", "file", "kind", "file_type", "pages", "ocr_pages", "scan": "clean"|"noisy"|null,
     "text": the exact source text, paragraphs joined by blank lines,
     "entities": [{"text": ..., "label": "PERSON"|"ORG"|"PLACE"|"DATE"|"MONEY"}, ...]}

Guarantees:

* **Deterministic.** Document ``i`` depends only on ``(seed, i)`` (its own ``random.Random``), so a
  corpus of N documents is the prefix of a corpus of N+1, and the same arguments give the same
  bytes with the same library versions (reportlab ``invariant=1``, fixed zip timestamps, fixed
  MIME boundaries and dates, seeded noise).
* **Every kind early.** Kinds follow a fixed 10-slot cycle whose first six slots are a born-digital
  PDF, a clean scanned PDF, a PNG scan, a DOCX, an EML and a TXT; over the full cycle: 20% born-digital
  multi-page PDFs, 20% clean scanned PDFs, 10% mildly noisy scanned PDFs, 10% PNG and 10% JPEG scans,
  10% DOCX (headings, bullets, a table), 10% EML (with a PDF or TXT attachment), 10% TXT.
* **Known vocabulary only.** Every named entity in the text comes from :data:`PEOPLE`,
  :data:`ORGS`, :data:`PLACES` or is a generated date ("March 3, 2025") or amount ("$12,500",
  "EUR 3,000"); the filler text names nothing, so the truth lists every entity a reader would mark.
* **Scans like a scanner makes.** Page images are typeset at 300 dpi with reportlab's bundled
  Vera fonts (no system fonts); PDFs of scans are image-only (no text layer).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import json
import random
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import reportlab
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

from docflow.samples import normalise_zip, wrap_text

# --- the known vocabulary --------------------------------------------------------------------------

PEOPLE = [
    "Maria Gonzalez",
    "Daniel Okafor",
    "Kenji Tanaka",
    "Sarah Whitfield",
    "Priya Raman",
    "Lukas Becker",
    "Amara Nwosu",
    "Thomas Moreau",
    "Elena Petrova",
    "James Carter",
    "Aisha Rahman",
    "Oliver Bennett",
    "Sofia Lindqvist",
    "Rafael Costa",
    "Hannah Schmidt",
    "David Cohen",
    "Grace Mitchell",
    "Ahmed Hassan",
    "Laura Jensen",
    "Michael Evans",
]
ORGS = [
    "Acme Logistics Inc.",
    "Northwind Bank",
    "Globex Holdings Ltd.",
    "Initech Corporation",
    "Blue Harbor Shipping Ltd.",
    "Meridian Insurance Group",
    "Contoso Pharmaceuticals Inc.",
    "Fabrikam Corp.",
    "Helios Energy AG",
    "Tessera Capital LLC",
    "Vandelay Industries",
    "Oakridge Construction Ltd.",
    "Pinnacle Foods Inc.",
    "Summit Freight GmbH",
    "Crestview Hospital",
]
PLACES = [
    "Rotterdam",
    "Chicago",
    "Nairobi",
    "Singapore",
    "Hamburg",
    "Toronto",
    "Lagos",
    "Mumbai",
    "Sydney",
    "Marseille",
    "Osaka",
    "Denver",
    "Lisbon",
    "Dublin",
    "Vancouver",
    "Cairo",
    "Seoul",
    "Melbourne",
    "Johannesburg",
    "Boston",
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
LABELS = ("PERSON", "ORG", "PLACE", "DATE", "MONEY")

# Slot names in templates: person/person2, org/org2, place/place2, date/date2, amount/amount2.
_SLOT_LABEL = {"person": "PERSON", "org": "ORG", "place": "PLACE", "date": "DATE", "amount": "MONEY"}

TEMPLATES = [
    "{org} signed a financing agreement with {org2} on {date}.",
    "{person} of {org} will visit the office in {place} on {date}.",
    "The board approved a payment of {amount} to {org}.",
    "{person} met {person2} in {place} to review the contract.",
    "The shipment from {place} to {place2} was insured for {amount}.",
    "According to {person}, the audit fee of {amount} is due on {date}.",
    "{org} opened a warehouse in {place} and hired {person} as its manager.",
    "The invoice from {org} for {amount} was approved by {person} on {date}.",
    "{person} confirmed that {org} transferred {amount} to {org2} in {place}.",
    "On {date}, {person} signed the lease for the new depot in {place}.",
    "{org2} agreed to pay {amount} once the goods reach {place}.",
    "{person2} will present the results to {person} in {place} on {date2}.",
    "The contract between {org} and {org2} was extended until {date2}.",
    "{person} asked {org} to send the revised offer of {amount} before {date}.",
]
FILLER = [
    "The documents were signed and filed with the legal department.",
    "Further details are listed in the attached schedule.",
    "All parties agreed to keep the terms confidential.",
    "The inspection found no damage to the containers or their contents.",
    "Please keep this letter with your records.",
    "The next review will follow the usual procedure.",
    "Questions about this matter should be sent to the finance team.",
    "The warehouse staff completed the inventory without any problems.",
]
TITLES = [
    "Quarterly Freight Report",
    "Audit Plan",
    "Shipment Review",
    "Financing Summary",
    "Board Meeting Minutes",
    "Warehouse Inspection",
    "Payment Confirmation",
    "Contract Update",
]
SECTION_HEADINGS = ["Background", "Terms", "Payments", "Logistics", "Next Steps", "Decisions", "Findings"]

# The 10-slot kind cycle (module docstring): the first six cover every input format.
KIND_CYCLE = ["born_pdf", "scan_pdf", "png", "docx", "eml", "txt", "scan_pdf_noisy", "jpeg", "born_pdf", "scan_pdf"]
EXTENSIONS = {
    "born_pdf": "pdf",
    "scan_pdf": "pdf",
    "scan_pdf_noisy": "pdf",
    "png": "png",
    "jpeg": "jpg",
    "docx": "docx",
    "eml": "eml",
    "txt": "txt",
}
FILE_TYPES = {
    "born_pdf": "pdf",
    "scan_pdf": "pdf",
    "scan_pdf_noisy": "pdf",
    "png": "image",
    "jpeg": "image",
    "docx": "docx",
    "eml": "eml",
    "txt": "txt",
}
DOCUMENT_GLOBS = ("*.pdf", "*.png", "*.jpg", "*.docx", "*.eml", "*.txt")

_FONT_DIR = Path(reportlab.__file__).parent / "fonts"
SCAN_DPI = 300


# --- text with tracked entities --------------------------------------------------------------------


@dataclass
class Writer:
    """Builds sentences from a per-document cast and records every entity it writes."""

    rng: random.Random
    cast: dict[str, list[str]]
    used: dict[tuple[str, str], None] = field(default_factory=dict)  # ordered set of (label, text)

    @classmethod
    def for_document(cls, rng: random.Random) -> Writer:
        cast = {
            "person": rng.sample(PEOPLE, 4),
            "org": rng.sample(ORGS, 3),
            "place": rng.sample(PLACES, 3),
            "date": [_date(rng) for _ in range(3)],
            "amount": [_amount(rng) for _ in range(3)],
        }
        return cls(rng, cast)

    def entity(self, slot: str, index: int | None = None) -> str:
        values = self.cast[slot]
        value = values[index] if index is not None else self.rng.choice(values)
        self.used[(_SLOT_LABEL[slot], value)] = None
        return value

    def sentence(self) -> str:
        if self.rng.random() < 0.2:
            return self.rng.choice(FILLER)
        template = self.rng.choice(TEMPLATES)
        values: dict[str, str] = {}
        for slot in _SLOT_LABEL:
            first, second = self.rng.sample(range(len(self.cast[slot])), 2)
            if "{" + slot + "}" in template:
                values[slot] = self.entity(slot, first)
            if "{" + slot + "2}" in template:
                values[slot + "2"] = self.entity(slot, second)
        return template.format(**values)

    def paragraph(self, sentences: tuple[int, int] = (3, 5)) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(*sentences)))

    def entities(self) -> list[dict]:
        return [{"text": text, "label": label} for label, text in self.used]


def _date(rng: random.Random) -> str:
    return f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.randint(2023, 2026)}"


def _amount(rng: random.Random) -> str:
    value = rng.randint(12, 980) * 100
    return f"EUR {value:,}" if rng.random() < 0.25 else f"${value:,}"


# --- one document ---------------------------------------------------------------------------------


@dataclass
class Document:
    name: str
    kind: str
    data: bytes
    text: str
    entities: list[dict]
    pages: int
    ocr_pages: int

    @property
    def file(self) -> str:
        return f"{self.name}.{EXTENSIONS[self.kind]}"

    def truth(self) -> dict:
        scan = (
            "noisy" if self.kind == "scan_pdf_noisy" else ("clean" if self.ocr_pages and self.kind != "eml" else None)
        )
        return {
            "name": self.name,
            "file": self.file,
            "kind": self.kind,
            "file_type": FILE_TYPES[self.kind],
            "pages": self.pages,
            "ocr_pages": self.ocr_pages,
            "scan": scan,
            "text": self.text,
            "entities": self.entities,
        }


def kind_of(index: int) -> str:
    return KIND_CYCLE[index % len(KIND_CYCLE)]


def make_document(index: int, seed: int) -> Document:
    """Document ``index`` of the corpus for ``seed`` (depends on nothing else)."""
    rng = random.Random(f"docflow-bench:{seed}:{index}")
    kind = kind_of(index)
    name = f"doc-{index:05d}-{kind.replace('_', '-')}"
    writer = Writer.for_document(rng)
    builder = _BUILDERS[kind]
    data, text, pages, ocr_pages = builder(writer, rng)
    return Document(name, kind, data, text, writer.entities(), pages, ocr_pages)


def _sections(
    writer: Writer, rng: random.Random, count: int, paragraphs: tuple[int, int]
) -> list[tuple[str, list[str]]]:
    headings = rng.sample(SECTION_HEADINGS, count)
    return [(heading, [writer.paragraph() for _ in range(rng.randint(*paragraphs))]) for heading in headings]


def _joined_sections(title: str, sections: list[tuple[str, list[str]]]) -> str:
    parts = [title]
    for heading, paragraphs in sections:
        parts += [heading, *paragraphs]
    return "\n\n".join(parts)


# --- born-digital PDF -------------------------------------------------------------------------------


def _born_pdf(writer: Writer, rng: random.Random) -> tuple[bytes, str, int, int]:
    title = rng.choice(TITLES)
    sections = _sections(writer, rng, rng.randint(2, 4), (3, 4))
    return _platypus_pdf(title, sections), _joined_sections(title, sections), len(sections), 0


def _platypus_pdf(title: str, sections: list[tuple[str, list[str]]]) -> bytes:
    """One section per page: a page break before every section but the first."""
    buf = io.BytesIO()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("Body", parent=styles["BodyText"], fontSize=11, leading=14, spaceAfter=10)
    story: list = [Paragraph(title, styles["Title"]), Spacer(1, 6)]
    for number, (heading, paragraphs) in enumerate(sections):
        if number:
            story.append(PageBreak())
        story.append(Paragraph(heading, styles["Heading2"]))
        story += [Paragraph(text, body) for text in paragraphs]
    SimpleDocTemplate(buf, pagesize=letter, title=title, author="docflow bench", invariant=1).build(story)
    return buf.getvalue()


# --- scans ------------------------------------------------------------------------------------------

_BODY_PX = 50  # 12 pt at 300 dpi: well inside tesseract's preferred x-height range


def _fonts() -> tuple[ImageFont.FreeTypeFont, ImageFont.FreeTypeFont]:
    return (
        ImageFont.truetype(str(_FONT_DIR / "Vera.ttf"), _BODY_PX),
        ImageFont.truetype(str(_FONT_DIR / "VeraBd.ttf"), int(_BODY_PX * 1.2)),
    )


def render_pages(blocks: list[str], *, width_in: float = 8.5, height_in: float = 11.0) -> list[Image.Image]:
    """Typeset paragraphs onto as many 300 dpi grayscale pages as they need; block 0 is bold."""
    body, bold = _fonts()

    def px(inches: float) -> int:
        return int(round(inches * SCAN_DPI))

    width, height, margin = px(width_in), px(height_in), px(0.8)
    pages: list[Image.Image] = []
    page = draw = None
    y = 0

    def new_page() -> None:
        nonlocal page, draw, y
        page = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(page)
        pages.append(page)
        y = margin

    new_page()
    for index, block in enumerate(blocks):
        font = bold if index == 0 else body
        for line in wrap_text(block, font=font, max_width=width - 2 * margin):
            step = int(font.size * 1.45)
            if y + step > height - margin:
                new_page()
            draw.text((margin, y), line, font=font, fill=0)
            y += step
        y += _BODY_PX // 2  # paragraph gap
    return pages


def add_noise(page: Image.Image, rng: random.Random) -> Image.Image:
    """A mildly noisy scan: a small skew, a little blur, sensor noise and a few specks."""
    import numpy as np

    skewed = page.rotate(rng.uniform(-0.8, 0.8), resample=Image.BICUBIC, expand=False, fillcolor=255)
    blurred = skewed.filter(ImageFilter.GaussianBlur(radius=0.7))
    generator = np.random.default_rng(rng.randrange(2**32))
    pixels = np.asarray(blurred, dtype=np.float32)
    pixels += generator.normal(0.0, 10.0, pixels.shape)
    specks = generator.random(pixels.shape) < 0.0004
    pixels[specks] = 0.0
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8), "L")


def _scan_blocks(writer: Writer, rng: random.Random, pages: int) -> list[str]:
    # About 7 paragraphs per page keeps every page well filled without overflowing into another.
    title = rng.choice(TITLES)
    return [title, *(writer.paragraph((3, 4)) for _ in range(7 * pages - 1))]


def images_to_pdf(images: list[Image.Image], *, jpeg_quality: int | None = None) -> bytes:
    """An image-only PDF, one full-page raster per letter page, exactly like a scanner makes.

    Lossless (Flate) by default; with ``jpeg_quality`` the pages are embedded as JPEG (DCT), as
    scanners do for photographic or noisy pages -- noise does not deflate.
    """
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=letter, invariant=1)
    for image in images:
        if jpeg_quality:
            encoded = io.BytesIO()
            image.save(encoded, format="JPEG", quality=jpeg_quality, dpi=(SCAN_DPI, SCAN_DPI))
            encoded.seek(0)
            source = ImageReader(encoded)  # a JPEG stream is passed through, not re-encoded
        else:
            source = ImageReader(image)
        pdf.drawImage(source, 0, 0, width=letter[0], height=letter[1])
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _scan_pdf(writer: Writer, rng: random.Random, *, noisy: bool = False) -> tuple[bytes, str, int, int]:
    blocks = _scan_blocks(writer, rng, rng.randint(1, 2) if noisy else rng.randint(1, 3))
    images = render_pages(blocks)
    if noisy:
        images = [add_noise(image, rng) for image in images]
        return images_to_pdf(images, jpeg_quality=75), "\n\n".join(blocks), len(images), len(images)
    return images_to_pdf(images), "\n\n".join(blocks), len(images), len(images)


def _image_scan(writer: Writer, rng: random.Random, *, fmt: str) -> tuple[bytes, str, int, int]:
    # A half-letter page (a receipt, a memo): one image is one page.
    blocks = [rng.choice(TITLES), writer.paragraph((3, 4)), writer.paragraph((3, 4))]
    [image] = render_pages(blocks, width_in=6.0, height_in=8.0)
    buf = io.BytesIO()
    if fmt == "PNG":
        image.save(buf, format="PNG", dpi=(SCAN_DPI, SCAN_DPI))
    else:
        image.save(buf, format="JPEG", dpi=(SCAN_DPI, SCAN_DPI), quality=85)
    return buf.getvalue(), "\n\n".join(blocks), 1, 1


# --- DOCX, EML, TXT ---------------------------------------------------------------------------------


def _docx(writer: Writer, rng: random.Random) -> tuple[bytes, str, int, int]:
    import docx  # python-docx

    title = rng.choice(TITLES)
    document = docx.Document()
    document.add_heading(title, level=0)
    parts = [title]
    for heading, paragraphs in _sections(writer, rng, 2, (1, 2)):
        document.add_heading(heading, level=1)
        parts.append(heading)
        for text in paragraphs:
            document.add_paragraph(text)
            parts.append(text)
    document.add_heading("Participants", level=1)
    parts.append("Participants")
    for index in range(3):
        item = f"{writer.entity('person', index)} of {writer.entity('org', index)}"
        document.add_paragraph(item, style="List Bullet")
        parts.append(item)
    document.add_heading("Budget", level=1)
    parts.append("Budget")
    rows = [("Item", "Owner", "Amount", "Due")]
    for item in ("Container advance", "Audit fee", "Insurance"):
        rows.append((item, writer.entity("org"), writer.entity("amount"), writer.entity("date")))
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    parts += [" ".join(row) for row in rows]
    props = document.core_properties
    props.title, props.author, props.last_modified_by, props.revision = title, "docflow bench", "docflow bench", 1
    from datetime import datetime

    props.created = props.modified = datetime(2025, 3, 3, 9, 15)
    buf = io.BytesIO()
    document.save(buf)
    return normalise_zip(buf.getvalue()), "\n\n".join(parts), 1, 0


def _address(person: str) -> str:
    return person.lower().replace(" ", ".") + "@example.com"


def _eml(writer: Writer, rng: random.Random) -> tuple[bytes, str, int, int]:
    sender, recipient = writer.entity("person", 0), writer.entity("person", 1)
    org, place = writer.entity("org", 0), writer.entity("place", 0)
    subject = f"{org} shipment to {place}"
    body = "\n\n".join(
        [f"Dear {recipient},", writer.paragraph(), writer.paragraph(), f"Best regards,\n{sender}\n{org}"]
    )
    message = EmailMessage()
    message["From"] = f"{sender} <{_address(sender)}>"
    message["To"] = f"{recipient} <{_address(recipient)}>"
    message["Subject"] = subject
    message["Date"] = "Mon, 03 Mar 2025 09:15:00 +0000"
    message["Message-ID"] = f"<bench-{rng.randrange(10**9)}@example.com>"
    message.set_content(body + "\n")
    attachment_title = rng.choice(TITLES)
    attachment_paragraphs = [writer.paragraph()]
    if rng.random() < 0.7:
        data = _platypus_pdf(attachment_title, [("Summary", attachment_paragraphs)])
        message.add_attachment(data, maintype="application", subtype="pdf", filename="schedule.pdf")
        attachment_text = _joined_sections(attachment_title, [("Summary", attachment_paragraphs)])
    else:
        attachment_text = "\n\n".join([attachment_title, *attachment_paragraphs])
        message.add_attachment(attachment_text + "\n", subtype="plain", filename="notes.txt")
    message.set_boundary(f"docflow-bench-boundary-{rng.randrange(10**9):09d}")
    text = "\n\n".join([f"From: {sender}", f"To: {recipient}", f"Subject: {subject}", body, attachment_text])
    return message.as_bytes(policy=SMTP), text, 2, 0


def _txt(writer: Writer, rng: random.Random) -> tuple[bytes, str, int, int]:
    blocks = [rng.choice(TITLES), *(writer.paragraph() for _ in range(rng.randint(3, 5)))]
    text = "\n\n".join(blocks)
    return (text + "\n").encode("utf-8"), text, 1, 0


_BUILDERS = {
    "born_pdf": _born_pdf,
    "scan_pdf": _scan_pdf,
    "scan_pdf_noisy": lambda w, r: _scan_pdf(w, r, noisy=True),
    "png": lambda w, r: _image_scan(w, r, fmt="PNG"),
    "jpeg": lambda w, r: _image_scan(w, r, fmt="JPEG"),
    "docx": _docx,
    "eml": _eml,
    "txt": _txt,
}


# --- the corpus -------------------------------------------------------------------------------------


def write_document(index: int, seed: int, out: Path) -> dict:
    document = make_document(index, seed)
    (out / document.file).write_bytes(document.data)
    truth = document.truth()
    (out / f"{document.name}.truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False))
    return truth


def generate(*, docs: int, out: Path, seed: int = 7, jobs: int = 2) -> list[dict]:
    """Write documents ``0..docs-1`` and their truth into ``out``; return the truths in order.

    Also writes ``manifest.json`` (seed, count, files). Files of a previous corpus in ``out`` with
    the same names are overwritten; nothing else in ``out`` is touched.
    """
    out.mkdir(parents=True, exist_ok=True)
    if jobs > 1 and docs > 4:
        with concurrent.futures.ProcessPoolExecutor(jobs) as pool:
            truths = list(pool.map(write_document, range(docs), [seed] * docs, [out] * docs, chunksize=4))
    else:
        truths = [write_document(index, seed, out) for index in range(docs)]
    manifest = {
        "seed": seed,
        "docs": docs,
        "files": [t["file"] for t in truths],
        "pages": sum(t["pages"] for t in truths),
        "ocr_pages": sum(t["ocr_pages"] for t in truths),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return truths


def load_truths(corpus: Path) -> list[dict]:
    """The truths of a corpus written by :func:`generate`, in manifest order."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    return [json.loads((corpus / f"{Path(name).stem}.truth.json").read_text()) for name in manifest["files"]]


def big_scanned_pdf(path: Path, *, pages: int, seed: int = 7) -> dict:
    """A ``pages``-page image-only PDF at 300 dpi (for the flat-memory check); returns its truth.

    Page images are rendered from a small pool of distinct pages, each a title and one sentence:
    the point is the page count (what must be streamed), not variety or OCR time.
    """
    rng = random.Random(f"docflow-bench-big:{seed}")
    writer = Writer.for_document(rng)
    pool = [render_pages([rng.choice(TITLES), writer.sentence()])[0] for _ in range(4)]
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=letter, invariant=1)
    readers = [ImageReader(image) for image in pool]
    for number in range(pages):
        pdf.drawImage(readers[number % len(readers)], 0, 0, width=letter[0], height=letter[1])
        pdf.showPage()
    pdf.save()
    path.write_bytes(buf.getvalue())
    return {"file": path.name, "pages": pages, "ocr_pages": pages}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a deterministic mixed corpus with ground truth.")
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2, help="generator processes")
    args = parser.parse_args(argv)
    truths = generate(docs=args.docs, out=args.out, seed=args.seed, jobs=args.jobs)
    kinds: dict[str, int] = {}
    for truth in truths:
        kinds[truth["kind"]] = kinds.get(truth["kind"], 0) + 1
    print(
        f"{len(truths)} documents, {sum(t['pages'] for t in truths)} pages "
        f"({sum(t['ocr_pages'] for t in truths)} to OCR) in {args.out}: "
        + ", ".join(f"{k}={v}" for k, v in sorted(kinds.items()))
    )


if __name__ == "__main__":
    main()
