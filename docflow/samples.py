"""Deterministic generator of the bundled sample documents.

One sample per supported input kind, plus a set of deliberately bad files. Guarantees:

* Same inputs, same library versions => byte-identical files (reportlab ``invariant=1``, fixed
  zip timestamps, fixed MIME boundary and dates; PIL rendering is deterministic for a given
  FreeType build).
* No system fonts: scans are rendered with the Vera TrueType fonts that ship inside reportlab.
* Every good sample contains real English sentences naming people, organizations, places,
  dates and amounts; :data:`SAMPLE_FACTS` lists what a correct pipeline should find, and
  :data:`SAMPLE_TEXT` holds the exact source text (used to score OCR word recall).
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import reportlab
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

_FONT_DIR = Path(reportlab.__file__).parent / "fonts"
_SCAN_DPI = 300
_FIXED_DATE = datetime(2025, 3, 3, 9, 15, tzinfo=UTC)
# Zip's epoch; any constant works, this one is what reproducible-build tools use.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

# --- Source text ---------------------------------------------------------------------------------

_BORN_DIGITAL_PAGES: list[tuple[str, list[str]]] = [
    (
        "Quarterly Freight Report",
        [
            "Acme Logistics Inc. signed a freight financing agreement with Northwind Bank on "
            "March 3, 2025. Maria Gonzalez, the chief operating officer of Acme Logistics Inc., "
            "negotiated the terms during a week of meetings in Rotterdam.",
            "The agreement covers container shipments between Rotterdam and Chicago. Northwind "
            "Bank will advance $12,500 for every full container that clears customs in Chicago.",
            "Maria Gonzalez expects the first vessel to sail from the port in Rotterdam in the "
            "second week of April, once the insurance certificates have been countersigned.",
        ],
    ),
    (
        "Audit Plan",
        [
            "Daniel Okafor of Globex Holdings Ltd. will audit the first three shipments at its "
            "office in Nairobi on April 14, 2025.",
            "Globex Holdings Ltd. has budgeted $4,800 for the audit. Daniel Okafor will send his "
            "findings to Northwind Bank and to Acme Logistics Inc. before the end of May.",
        ],
    ),
]

_SCANNED_LETTER_LINES: list[str] = [
    "Globex Holdings Ltd.",
    "Kenyatta Avenue, Nairobi",
    "",
    "March 3, 2025",
    "",
    "Dear Ms. Gonzalez,",
    "",
    "Thank you for meeting with me in Chicago last month. Globex Holdings Ltd. is pleased to "
    "confirm that we will review the freight agreement between Acme Logistics Inc. and "
    "Northwind Bank.",
    "",
    "Our fee for the review is $12,500, payable in two equal installments. The first payment "
    "is due when the audit starts in Nairobi, and the second payment is due when we deliver "
    "the final report.",
    "",
    "Please ask your finance team to contact me if you have any questions about the schedule.",
    "",
    "Sincerely,",
    "",
    "Daniel Okafor",
    "Director of Audit, Globex Holdings Ltd.",
]

_RECEIPT_LINES: list[str] = [
    "Northwind Bank",
    "Payment Receipt",
    "",
    "Date: March 14, 2025",
    "Receipt number: 4471",
    "",
    "Northwind Bank received a payment of $12,500 from Acme Logistics Inc. in Chicago.",
    "",
    "The payment was approved by Sarah Whitfield and settles the first container shipment loaded in Rotterdam.",
    "",
    "Thank you for banking with us.",
]

_MINUTES_TITLE = "Board Meeting Minutes"
_MINUTES_INTRO = (
    "The board of Acme Logistics Inc. met in Chicago on April 2, 2025. Maria Gonzalez chaired "
    "the meeting and Kenji Tanaka recorded the minutes."
)
_MINUTES_ATTENDEES = [
    "Maria Gonzalez, Chief Operating Officer",
    "Kenji Tanaka, Company Secretary",
    "Sarah Whitfield, Northwind Bank",
]
_MINUTES_DECISIONS = (
    "The board approved the freight financing agreement with Northwind Bank. The board also "
    "asked Daniel Okafor of Globex Holdings Ltd. to present the audit results in Nairobi in May."
)
_MINUTES_TABLE = [
    ("Item", "Owner", "Amount"),
    ("Container advance", "Northwind Bank", "$12,500"),
    ("Audit fee", "Globex Holdings Ltd.", "$4,800"),
]

_EMAIL_SUBJECT = "Rotterdam shipment schedule"
_EMAIL_BODY = (
    "Dear Daniel Okafor,\n\n"
    "Northwind Bank approved the advance of $12,500 on March 3, 2025, so the first container "
    "can leave Rotterdam next week.\n\n"
    "I have attached the shipment schedule. Kenji Tanaka will meet your audit team in Nairobi "
    "when the container arrives.\n\n"
    "Best regards,\n"
    "Maria Gonzalez\n"
    "Acme Logistics Inc.\n"
)
_EMAIL_ATTACHMENT_NAME = "shipment_schedule.pdf"
_EMAIL_ATTACHMENT_PARAGRAPHS = [
    "Shipment Schedule",
    "The first container departs the port of Rotterdam, Netherlands on March 10, 2025 and "
    "reaches Chicago on March 24, 2025. Kenji Tanaka of Acme Logistics Inc. is the shipment "
    "coordinator.",
]

_FIELD_NOTES = (
    "Field notes, Nairobi warehouse visit\n\n"
    "On May 12, 2025, Kenji Tanaka inspected the warehouse of Globex Holdings Ltd. in Nairobi. "
    "The loading dock had been repaired and the cold storage room was working again.\n\n"
    "Daniel Okafor explained that Globex Holdings Ltd. spent $3,200 on new shelving. He expects "
    "the next container to arrive in Nairobi from Rotterdam in early June.\n\n"
    "Kenji Tanaka will report the findings to Maria Gonzalez in Chicago."
)


def _joined(lines: list[str]) -> str:
    return "\n".join(lines)


SAMPLE_TEXT: dict[str, str] = {
    "born_digital.pdf": "\n\n".join(title + "\n\n" + "\n\n".join(paras) for title, paras in _BORN_DIGITAL_PAGES),
    "scanned_letter.pdf": _joined(_SCANNED_LETTER_LINES),
    "receipt_scan.png": _joined(_RECEIPT_LINES),
    "board_minutes.docx": "\n\n".join(
        [_MINUTES_TITLE, _MINUTES_INTRO, *_MINUTES_ATTENDEES, _MINUTES_DECISIONS]
        + [" ".join(row) for row in _MINUTES_TABLE]
    ),
    "partner_email.eml": _EMAIL_BODY + "\n\n" + "\n\n".join(_EMAIL_ATTACHMENT_PARAGRAPHS),
    "field_notes.txt": _FIELD_NOTES,
}

SAMPLE_FACTS: dict[str, dict] = {
    "born_digital.pdf": {
        "file_type": "pdf",
        "page_count": 2,
        "people": ["Maria Gonzalez", "Daniel Okafor"],
        "organizations": ["Acme Logistics Inc.", "Northwind Bank", "Globex Holdings Ltd."],
        "places": ["Rotterdam", "Chicago", "Nairobi"],
        "dates": ["March 3, 2025", "April 14, 2025"],
        "amounts": ["$12,500", "$4,800"],
    },
    "scanned_letter.pdf": {
        "file_type": "pdf",
        "page_count": 1,
        "people": ["Daniel Okafor"],
        "organizations": ["Globex Holdings Ltd.", "Acme Logistics Inc.", "Northwind Bank"],
        "places": ["Nairobi", "Chicago"],
        "dates": ["March 3, 2025"],
        "amounts": ["$12,500"],
    },
    "receipt_scan.png": {
        "file_type": "image",
        "page_count": 1,
        "people": ["Sarah Whitfield"],
        "organizations": ["Northwind Bank", "Acme Logistics Inc."],
        "places": ["Chicago", "Rotterdam"],
        "dates": ["March 14, 2025"],
        "amounts": ["$12,500"],
    },
    "board_minutes.docx": {
        "file_type": "docx",
        "page_count": 1,
        "people": ["Maria Gonzalez", "Kenji Tanaka", "Daniel Okafor"],
        "organizations": ["Acme Logistics Inc.", "Northwind Bank", "Globex Holdings Ltd."],
        "places": ["Chicago", "Nairobi"],
        "dates": ["April 2, 2025"],
        "amounts": ["$12,500", "$4,800"],
    },
    "partner_email.eml": {
        "file_type": "eml",
        "page_count": 2,  # the e-mail itself, then its one-page PDF attachment
        "people": ["Maria Gonzalez", "Daniel Okafor", "Kenji Tanaka"],
        "organizations": ["Northwind Bank", "Acme Logistics Inc."],
        "places": ["Rotterdam", "Nairobi", "Chicago"],
        "dates": ["March 3, 2025", "March 10, 2025"],
        "amounts": ["$12,500"],
        "attachments": [_EMAIL_ATTACHMENT_NAME],
    },
    "field_notes.txt": {
        "file_type": "txt",
        "page_count": 1,
        "people": ["Kenji Tanaka", "Daniel Okafor", "Maria Gonzalez"],
        "organizations": ["Globex Holdings Ltd."],
        "places": ["Nairobi", "Rotterdam", "Chicago"],
        "dates": ["May 12, 2025"],
        "amounts": ["$3,200"],
    },
}


# --- Writers -------------------------------------------------------------------------------------


def write_samples(*, directory: Path) -> list[Path]:
    """Write the six good samples into ``directory`` (created if missing); return their paths.

    Files are overwritten, and the returned order is stable (the order of :data:`SAMPLE_FACTS`).
    """
    directory.mkdir(parents=True, exist_ok=True)
    writers = {
        "born_digital.pdf": _born_digital_pdf,
        "scanned_letter.pdf": _scanned_letter_pdf,
        "receipt_scan.png": _receipt_png,
        "board_minutes.docx": _board_minutes_docx,
        "partner_email.eml": _partner_email,
        "field_notes.txt": lambda: _FIELD_NOTES.encode("utf-8"),
    }
    paths = []
    for name in SAMPLE_FACTS:
        path = directory / name
        path.write_bytes(writers[name]())
        paths.append(path)
    return paths


def write_bad_samples(*, directory: Path) -> dict[str, Path]:
    """Write inputs every extractor must reject cleanly; return ``{name: path}``.

    ``corrupt.pdf`` (PDF header, destroyed body), ``empty.txt`` (0 bytes), ``encrypted.pdf``
    (user password ``secret``) and ``not_a_pdf.pdf`` (a DOS/Windows executable stub).
    """
    directory.mkdir(parents=True, exist_ok=True)
    contents = {
        "corrupt.pdf": _corrupt_pdf(),
        "empty.txt": b"",
        "encrypted.pdf": _encrypted_pdf(),
        "not_a_pdf.pdf": _exe_stub(),
    }
    paths = {}
    for name, data in contents.items():
        path = directory / name
        path.write_bytes(data)
        paths[name] = path
    return paths


# --- PDF -----------------------------------------------------------------------------------------


def _platypus_pdf(pages: list[tuple[str, list[str]]], *, title: str) -> bytes:
    buf = io.BytesIO()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("Body", parent=styles["BodyText"], fontSize=11, leading=14, spaceAfter=10)
    story: list = []
    for number, (heading, paragraphs) in enumerate(pages):
        if number:
            story.append(PageBreak())
        story += [Paragraph(heading, styles["Title"]), Spacer(1, 6)]
        story += [Paragraph(text, body) for text in paragraphs]
    doc = SimpleDocTemplate(buf, pagesize=letter, title=title, author="docflow samples", invariant=1)
    doc.build(story)
    return buf.getvalue()


def _born_digital_pdf() -> bytes:
    return _platypus_pdf(_BORN_DIGITAL_PAGES, title="Quarterly Freight Report")


def _attachment_pdf() -> bytes:
    heading, *paragraphs = _EMAIL_ATTACHMENT_PARAGRAPHS
    return _platypus_pdf([(heading, paragraphs)], title=heading)


def _render_scan(lines: list[str], *, width_in: float, height_in: float) -> Image.Image:
    """Typeset ``lines`` like a clean 300 dpi grayscale scan; the first line is set in bold.

    12 pt body text (50 px at 300 dpi) is comfortably inside tesseract's preferred x-height range.
    """

    def px(inches: float) -> int:
        return int(round(inches * _SCAN_DPI))

    size = 50
    body = ImageFont.truetype(str(_FONT_DIR / "Vera.ttf"), size)
    bold = ImageFont.truetype(str(_FONT_DIR / "VeraBd.ttf"), int(size * 1.2))
    image = Image.new("L", (px(width_in), px(height_in)), 255)
    draw = ImageDraw.Draw(image)
    margin = px(0.8)
    max_width = image.width - 2 * margin
    y = margin
    for index, line in enumerate(lines):
        font = bold if index == 0 else body
        if not line:
            y += size // 2
            continue
        for wrapped in wrap_text(line, font=font, max_width=max_width):
            draw.text((margin, y), wrapped, font=font, fill=0)
            y += int(font.size * 1.45)
    if y > image.height - margin // 2:
        raise ValueError("sample text does not fit on the page")  # a bug in this module
    return image


def wrap_text(text: str, *, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Greedy word wrap of ``text`` to ``max_width`` pixels in ``font`` (shared with bench/corpus.py)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and font.getlength(candidate) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return lines + [current] if current else lines


def _scanned_letter_pdf() -> bytes:
    image = _render_scan(_SCANNED_LETTER_LINES, width_in=8.5, height_in=11)
    buf = io.BytesIO()
    # An image-only PDF: one full-page raster, no text layer, exactly like a scanner makes.
    pdf = canvas.Canvas(buf, pagesize=letter, invariant=1)
    pdf.setTitle("Scanned letter")
    pdf.drawImage(ImageReader(image), 0, 0, width=letter[0], height=letter[1])
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _receipt_png() -> bytes:
    image = _render_scan(_RECEIPT_LINES, width_in=5, height_in=5.5)
    buf = io.BytesIO()
    image.save(buf, format="PNG", dpi=(_SCAN_DPI, _SCAN_DPI), optimize=False)
    return buf.getvalue()


def _corrupt_pdf() -> bytes:
    # A real header followed by a body whose bytes were scrambled in transit: no object, xref
    # or trailer survives, so no reader can recover a page from it.
    original = _attachment_pdf()
    scrambled = bytes((b * 73 + 41) % 256 for b in original[9:2048])
    return original[:9] + scrambled


def _encrypted_pdf() -> bytes:
    buf = io.BytesIO()
    # reportlab's RC4 encryption with invariant=1 is deterministic; pypdf's draws random IVs.
    pdf = canvas.Canvas(buf, pagesize=letter, invariant=1, encrypt="secret")
    pdf.setFont("Helvetica", 12)
    pdf.drawString(72, 720, "Confidential: Northwind Bank credit terms for Acme Logistics Inc.")
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _exe_stub() -> bytes:
    header = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(48)
    stub = b"This program cannot be run in DOS mode.\r\r\n$" + bytes(16)
    return header + stub + b"PE\x00\x00" + bytes(200)


# --- DOCX ----------------------------------------------------------------------------------------


def _board_minutes_docx() -> bytes:
    import docx  # python-docx; imported here so the PDF/image samples do not need it

    document = docx.Document()
    document.add_heading(_MINUTES_TITLE, level=0)
    document.add_paragraph(_MINUTES_INTRO)
    document.add_heading("Attendees", level=1)
    for attendee in _MINUTES_ATTENDEES:
        document.add_paragraph(attendee, style="List Bullet")
    document.add_heading("Decisions", level=1)
    document.add_paragraph(_MINUTES_DECISIONS)
    document.add_heading("Budget", level=1)
    table = document.add_table(rows=len(_MINUTES_TABLE), cols=len(_MINUTES_TABLE[0]))
    table.style = "Table Grid"
    for row, values in zip(table.rows, _MINUTES_TABLE, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    props = document.core_properties
    props.title = _MINUTES_TITLE
    props.author = "docflow samples"
    props.last_modified_by = "docflow samples"
    props.revision = 1
    props.created = props.modified = _FIXED_DATE.replace(tzinfo=None)
    buf = io.BytesIO()
    document.save(buf)
    return normalise_zip(buf.getvalue())


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry timestamps: zipfile stamps entries with the wall clock."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_EPOCH)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


# --- EML -----------------------------------------------------------------------------------------


def _partner_email() -> bytes:
    message = EmailMessage()
    message["From"] = "Maria Gonzalez <maria.gonzalez@acme-logistics.example>"
    message["To"] = "Daniel Okafor <daniel.okafor@globex.example>"
    message["Subject"] = _EMAIL_SUBJECT
    message["Date"] = "Mon, 03 Mar 2025 09:15:00 +0000"
    message["Message-ID"] = "<sample-partner-email@acme-logistics.example>"
    message.set_content(_EMAIL_BODY)
    message.add_attachment(_attachment_pdf(), maintype="application", subtype="pdf", filename=_EMAIL_ATTACHMENT_NAME)
    # The generator would otherwise pick a random boundary.
    message.set_boundary("docflow-sample-boundary-0001")
    return message.as_bytes(policy=SMTP)


__all__ = ["SAMPLE_FACTS", "SAMPLE_TEXT", "write_bad_samples", "write_samples"]


def write_scanned_pdf(*, path: Path, pages: int, label: str = "Report") -> Path:
    """A multi-page image-only PDF (each page a 300 dpi scan of the sample letter).

    Long enough OCR work to interrupt mid-task (about a second per page here); pages differ by
    their first line so no two are identical.
    """
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=letter, invariant=1)
    pdf.setTitle(f"{label} ({pages} scanned pages)")
    for number in range(1, pages + 1):
        lines = [f"{label} page {number} of {pages}", *_SCANNED_LETTER_LINES[1:]]
        pdf.drawImage(
            ImageReader(_render_scan(lines, width_in=8.5, height_in=11)), 0, 0, width=letter[0], height=letter[1]
        )
        pdf.showPage()
    pdf.save()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return path
