"""A generated corpus of hostile and broken input, each kind with the outcome it must reach.

Everything is built by code, deterministically (fixed seeds, fixed timestamps), in about two
seconds in all; the largest files are a 30 MB one-line text and a 17 MB e-mail. Bombs are small
on disk: the .docx zip bombs are ~2 MB and inflate to ~0.9-1 GB, the PNG bomb is ~28 KB of real
image data over the pixel limit, the "thousands of pages" PDF reuses one page object (16 KB).

Sizes that matter are derived from the limits in :class:`docflow.core.settings.Settings`
(``max_pages``, ``max_pixels``, ``max_text_chars``, ``max_file_bytes``), so the corpus keeps
crossing the limits the workers actually enforce when an operator changes them.

Two families:

* :func:`document_cases` -- files handed to ``docflow.ops.submit.ingest_file``; each ends in a
  document status (``graph_complete`` or ``error_ocr``) with a reason that must match a regex.
  Some are hostile-looking but legitimate (odd encodings, a repairable xref, an owner-password
  PDF): those must be *accepted* and their text must come out right.
* :func:`build_intake_folder` / :func:`build_mid_sweep_folder` -- files and names only a
  filesystem can produce (control characters, 255-byte names, NFC/NFD twins, bytes that are
  not UTF-8, symlinks out of the root, FIFOs, files that vanish or change mid-sweep) for
  ``docflow.ops.intake.sweep``; each ends ``new`` (and then a document status), ``rejected`` or
  ``skipped`` with a reason.
"""

from __future__ import annotations

import io
import os
import random
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from docflow.core.settings import Settings

# A sentence with people, organisations and places, so accepted documents give NER something.
SENTENCE = (
    "Maria Gonzalez of Acme Logistics Inc. met Daniel Okafor of Globex Holdings Ltd. in "
    "Rotterdam on March 3, 2025, and agreed to ship containers to Chicago."
)


@dataclass(frozen=True)
class Expect:
    """Where one input must end up.

    ``status``: ``graph_complete`` / ``error_ocr`` for documents; ``new`` / ``rejected`` /
    ``skipped`` for intake files (a ``new`` file then has to reach ``document_status``).
    ``reason``: regex (``re.search``) the error message / sweep reason must match.
    ``text``: regex the stored chunk text of an accepted document must match.
    ``absent``: regex that must *not* match the stored chunk text (e.g. a raw hostile path).
    """

    status: str
    reason: str | None = None
    text: str | None = None
    absent: str | None = None
    document_status: str | None = None
    document_reason: str | None = None


@dataclass(frozen=True)
class DocumentCase:
    kind: str
    description: str
    filename: str  # the (possibly hostile) name it is submitted under
    data: bytes = field(repr=False)
    expect: Expect


def _n(value: int) -> str:
    """How the extractor prints a number ("2,000")."""
    return f"{value:,}"


# --- PDF building blocks ---------------------------------------------------------------------------


def _pdf(objects: list[bytes], *, trailer: bytes = b"", shift_xref: int = 0) -> bytes:
    """A classic-xref PDF from numbered object bodies (object 1 is the catalog).

    ``shift_xref`` moves every xref offset and ``startxref`` off by that many bytes: a broken
    cross-reference table that readers have to rebuild by scanning.
    """
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    start = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % (offset + shift_xref)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer,
        start + shift_xref,
    )
    return bytes(out)


def _stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(data), entries, data)


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _text_ops(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"BT /F1 11 Tf 40 720 Td (%s) Tj ET" % escaped.encode("latin-1")


def _one_page_pdf(
    content: bytes,
    *,
    media_box: bytes = b"[0 0 612 792]",
    resources: bytes = b"",
    extra_objects: list[bytes] = (),
    shift_xref: int = 0,
    trailer: bytes = b"",
) -> bytes:
    """Catalog 1, Pages 2, Font 3, content stream 4, Page 5, then ``extra_objects`` from 6."""
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
            _FONT,
            _stream(content),
            b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources << /Font << /F1 3 0 R >> %s >> "
            b"/Contents 4 0 R >>" % (media_box, resources),
            *extra_objects,
        ],
        shift_xref=shift_xref,
        trailer=trailer,
    )


def text_pdf(text: str = SENTENCE) -> bytes:
    return _one_page_pdf(_text_ops(text))


def many_pages_pdf(pages: int) -> bytes:
    """``pages`` pages that are all the same page object: a few KB per thousand pages."""
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join([b"5 0 R"] * pages), pages),
            _FONT,
            _stream(_text_ops(SENTENCE)),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents 4 0 R >>",
        ]
    )


def enormous_image_pdf(side: int) -> bytes:
    """One page showing one image XObject that declares ``side`` x ``side`` pixels.

    The image stream is a few bytes: the danger is the declared size, which a renderer that
    trusts it would allocate before reading a single pixel.
    """
    image = zlib.compress(bytes(4096), 9)
    return _one_page_pdf(
        b"q 612 0 0 792 0 0 cm /Im1 Do Q",
        resources=b"/XObject << /Im1 6 0 R >>",
        extra_objects=[
            _stream(
                image,
                b"/Type /XObject /Subtype /Image /Width %d /Height %d "
                b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode " % (side, side),
            )
        ],
    )


def flate_bomb_pdf(inflated: int) -> bytes:
    """A text page whose first content stream is ``inflated`` bytes of spaces, deflated.

    Readers inflate a content stream whole before interpreting it: PDFium allocates all of it
    (~2 GB for a 2 MB file), and aborts the process when the allocation fails.
    """
    raw, _crc = _deflated_zeros(inflated, fill=b" ")
    adler, block = 1, b" " * (1 << 20)
    for _ in range(inflated >> 20):
        adler = zlib.adler32(block, adler)
    zlib_stream = b"\x78\xda" + raw + struct.pack(">I", adler)  # FlateDecode wants the zlib wrapper
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
            _FONT,
            _stream(zlib_stream, b"/Filter /FlateDecode "),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents [4 0 R 6 0 R] >>",
            _stream(_text_ops(SENTENCE)),
        ]
    )


def page_tree_cycle_pdf() -> bytes:
    """The page tree lists itself as its own kid: a reader that recurses blindly never ends."""
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [2 0 R 5 0 R] /Count 2 >>",
            _FONT,
            _stream(_text_ops(SENTENCE)),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents 4 0 R >>",
        ]
    )


def encrypted_pdf(*, user_password: str) -> bytes:
    """reportlab's RC4 encryption (deterministic with invariant=1); empty user password = owner-only."""
    from reportlab.lib import pdfencrypt
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    pdf = canvas.Canvas(
        buf,
        pagesize=letter,
        invariant=1,
        encrypt=pdfencrypt.StandardEncryption(user_password, ownerPassword="owner-secret", canPrint=0, canCopy=0),
    )
    pdf.setFont("Helvetica", 11)
    pdf.drawString(40, 720, SENTENCE[:90])
    pdf.drawString(40, 704, SENTENCE[90:])
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


# --- images ------------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, *, idat: bytes, bit_depth: int = 1, color_type: int = 0) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def png_bomb(width: int, height: int) -> bytes:
    """A real 1-bit PNG of ``width`` x ``height`` black pixels: tiny compressed, huge decoded."""
    row = b"\x00" + bytes((width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return png(width, height, idat=idat)


# --- DOCX / zip ----------------------------------------------------------------------------------------

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    b"</Types>"
)


def _deflated_zeros(total: int, *, fill: bytes = b"\x00") -> tuple[bytes, int]:
    """(raw deflate stream, crc32) of ``total`` bytes of ``fill``, built from one repeated segment.

    After a full flush the compressor starts afresh, so every 1 MiB segment compresses to the
    same bytes: a 1 GiB bomb costs one 1 MiB compression and ~0.4 s of CRC.
    """
    size = 1 << 20
    if total % size:
        raise ValueError("total must be a whole number of MiB")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = fill * size
    segment = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    if segment != again:  # pragma: no cover - would mean zlib changed its output format
        raise RuntimeError("deflate segments are not repeatable")
    stream = segment * (total // size) + compressor.flush()
    crc = 0
    for _ in range(total // size):
        crc = zlib.crc32(block, crc)
    return stream, crc


def _zip(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip from (name, stored bytes, method, crc, declared uncompressed size) -- no zip64."""
    out = bytearray()
    central = bytearray()
    for name, data, method, crc, size in members:
        encoded = name.encode()
        offset = len(out)
        out += (
            struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size, len(encoded), 0)
            + encoded
            + data
        )
        central += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0o644 << 16,
                offset,
            )
            + encoded
        )
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    return bytes(out + central + end)


def docx_zip_bomb(inflated: int, *, lie_about_size: bool) -> bytes:
    """A real .docx whose word/document.xml is replaced by ``inflated`` bytes of deflated zeros.

    Honest: the central directory declares the real size (caught before inflating). Lying: it
    declares 4 KB, so only a bounded read and the CRC check at its end can notice.
    """
    stream, crc = _deflated_zeros(inflated)
    members = []
    with zipfile.ZipFile(io.BytesIO(real_docx())) as source:
        for info in source.infolist():
            if info.filename == "word/document.xml":
                members.append((info.filename, stream, 8, crc, 4096 if lie_about_size else inflated))
            else:
                data = source.read(info.filename)
                members.append((info.filename, data, 0, zlib.crc32(data), len(data)))
    return _zip(members)


def real_docx(text: str = SENTENCE) -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    out = io.BytesIO()
    # Fixed timestamps: python-docx stamps entries with the wall clock.
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


# --- EML -----------------------------------------------------------------------------------------------


def _email(subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Maria Gonzalez <maria@acme.example>"
    message["To"] = "Daniel Okafor <daniel@globex.example>"
    message["Subject"] = subject
    message["Date"] = "Mon, 03 Mar 2025 09:15:00 +0000"
    message.set_content(body)
    return message


def _as_bytes(message: EmailMessage, boundary_seed: str) -> bytes:
    for number, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"docflow-hostile-{boundary_seed}-{number}")
    return message.as_bytes(policy=SMTP)


def nested_mime_eml(depth: int) -> bytes:
    """``depth`` multipart/mixed levels, the text at the bottom (written by hand: fast at any depth)."""
    head = [
        b"From: Maria Gonzalez <maria@acme.example>",
        b"To: Daniel Okafor <daniel@globex.example>",
        b"Subject: nested MIME",
        b"Date: Mon, 03 Mar 2025 09:15:00 +0000",
        b"MIME-Version: 1.0",
    ]
    lines = list(head)
    for level in range(depth):
        lines += [b'Content-Type: multipart/mixed; boundary="b%d"' % level, b"", b"--b%d" % level]
    lines += [b"Content-Type: text/plain", b"", SENTENCE.encode(), b""]
    for level in reversed(range(depth)):
        lines += [b"--b%d--" % level, b""]
    return b"\r\n".join(lines)


def huge_attachment_eml(size: int) -> bytes:
    message = _email("Scans attached", SENTENCE)
    noise = random.Random(7).randbytes(size)
    message.add_attachment(noise, maintype="application", subtype="pdf", filename="huge-scan.pdf")
    return _as_bytes(message, "huge")


MALICIOUS_ATTACHMENT_NAMES = [
    "../../etc/passwd",
    "/etc/shadow",
    "..\\..\\windows\\win.ini",
    "C:\\Windows\\System32\\drivers\\etc\\hosts",
    "evil\u202etxt.exe",
]


def malicious_names_eml() -> bytes:
    message = _email("Attached files", SENTENCE)
    for number, name in enumerate(MALICIOUS_ATTACHMENT_NAMES):
        message.add_attachment(f"Attachment number {number} was read safely by Northwind Bank.\n", filename=name)
    return _as_bytes(message, "names")


def nul_body_eml() -> bytes:
    # base64 keeps the NULs intact in transit; the decoded body is text with NULs in it.
    message = _email("NUL\x00 in the subject", "")
    message.set_content(SENTENCE.replace(" of ", " of\x00 "), cte="base64")
    return _as_bytes(message, "nul")


def png_bomb_attachment_eml(png_data: bytes) -> bytes:
    message = _email("Scan attached", SENTENCE)
    message.add_attachment(png_data, maintype="image", subtype="png", filename="scan.png")
    return _as_bytes(message, "bomb")


# --- text ----------------------------------------------------------------------------------------------


def giant_line(chars: int) -> bytes:
    """One line of ``chars`` bytes, mostly non-space (so it is that much text, not whitespace)."""
    word = b"Rotterdam,Chicago,Nairobi;"
    return (word * (chars // len(word) + 1))[:chars]


ENTITY_TEXT = (
    "Patrick O'Brien signed the lease for O'Brien & \"Sons\" Ltd. in Dublin on March 3, 2025.\n\n"
    "The clerk recorded Robert'); DROP TABLE chunks;-- as the tenant and sent $4,800 to Northwind Bank.\n\n"
    'Acme"}) MATCH (n) DETACH DELETE n // Corp. wired $12,500 to Globex Holdings Ltd. in Nairobi.\n'
)
# Strings that must come back byte for byte from PostgreSQL and Neo4j.
ENTITY_PROBES = ['O\'Brien & "Sons" Ltd.', "Robert'); DROP TABLE chunks;--", 'Acme"}) MATCH (n) DETACH DELETE n //']
# What a caller of ingest_file (or the CLI, from a filesystem name) may pass: PostgreSQL refuses
# NUL and lone surrogates outright; ESC and RLO would garble a terminal or the Prefect UI.
HOSTILE_SUBMIT_NAME = "nul\x00-esc\x1b[2J-rlo\u202e-" + os.fsdecode(b"caf\xe9") + ".txt"
ENTITY_FILENAME = "../../etc/O'Brien \"}) MATCH (n) DETACH DELETE n; DROP TABLE source_documents;--.txt"


# The kinds, in order, known without generating anything (tests parametrize on these).
DOCUMENT_KINDS = (
    "zero_byte",
    "truncated_pdf",
    "broken_xref_pdf",
    "encrypted_pdf",
    "owner_password_pdf",
    "thousands_of_pages_pdf",
    "enormous_page_image_pdf",
    "enormous_page_pdf",
    "page_tree_cycle_pdf",
    "decompression_bomb_png",
    "absurd_dimensions_png",
    "truncated_png",
    "exe_named_pdf",
    "elf_named_docx",
    "binary_garbage",
    "utf16_bom_text",
    "utf16_no_bom_text",
    "latin1_text",
    "mixed_encoding_text",
    "text_with_nul_bytes",
    "nul_padded_text",
    "gigantic_single_line_text",
    "docx_zip_bomb",
    "docx_lying_zip_bomb",
    "docx_not_a_zip",
    "docx_truncated_zip",
    "eml_deeply_nested_mime",
    "eml_huge_attachment",
    "eml_malicious_attachment_names",
    "eml_nul_bytes",
    "eml_bomb_attachment",
    "hostile_name_via_submit",
    "hostile_name_and_entity_text",
)


def document_cases(settings: Settings) -> list[DocumentCase]:
    """The document kinds, with limits taken from ``settings`` (what the workers enforce)."""
    rng = random.Random(20250303)
    too_many_pages = settings.max_pages + 500
    # The smallest square over the pixel limit, and PIL's own guard at twice the limit.
    bomb_side = int(settings.max_pixels**0.5) + 1000
    born_text = text_pdf()
    docx_ok = real_docx()
    zip_inflated = ((4 * settings.max_file_bytes) // (1 << 20) + 64) << 20
    exe = (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
        + bytes(48)
        + b"This program cannot be run in DOS mode.\r\r\n$"
        + bytes(16)
        + b"PE\x00\x00"
        + bytes(200)
    )
    latin = (
        "Fran\u00e7ois M\u00fcller of Soci\u00e9t\u00e9 G\u00e9n\u00e9rale met Z\u00f6e "
        "Andr\u00e9 in Montr\u00e9al on March 3, 2025 \u2014 the fee was \u20ac4,800."
    )
    cases = [
        DocumentCase(
            "zero_byte",
            "an empty file named like a PDF",
            "empty.pdf",
            b"",
            Expect("error_ocr", r"^empty file: 0 bytes$"),
        ),
        DocumentCase(
            "truncated_pdf",
            "a text PDF cut off after 60% of its bytes",
            "truncated.pdf",
            born_text[: int(len(born_text) * 0.6)],
            Expect("error_ocr", r"^corrupt PDF: the file structure is damaged or truncated$"),
        ),
        DocumentCase(
            "broken_xref_pdf",
            "every xref offset and startxref wrong (readers rebuild it)",
            "broken-xref.pdf",
            _one_page_pdf(_text_ops(SENTENCE), shift_xref=7),
            Expect("graph_complete", text=r"Maria Gonzalez of Acme Logistics Inc\."),
        ),
        DocumentCase(
            "encrypted_pdf",
            "RC4-encrypted with a user password",
            "locked.pdf",
            encrypted_pdf(user_password="secret"),
            Expect("error_ocr", r"^encrypted PDF: a password is required to read it$"),
        ),
        DocumentCase(
            "owner_password_pdf",
            "encrypted with an owner password only (opens without one)",
            "owner-only.pdf",
            encrypted_pdf(user_password=""),
            Expect("graph_complete", text=r"Maria Gonzalez of Acme Logistics Inc\."),
        ),
        DocumentCase(
            "thousands_of_pages_pdf",
            f"{too_many_pages:,} pages reusing one page object",
            "many-pages.pdf",
            many_pages_pdf(too_many_pages),
            Expect(
                "error_ocr",
                rf"^too many pages: the PDF has {_n(too_many_pages)} pages, over the "
                rf"limit of {_n(settings.max_pages)}$",
            ),
        ),
        DocumentCase(
            "enormous_page_image_pdf",
            "a page image declaring 200,000 x 200,000 pixels",
            "enormous-image.pdf",
            enormous_image_pdf(200_000),
            Expect(
                "error_ocr",
                rf"^image too large: page 1 holds a 200,000 x 200,000 pixel image, "
                rf"over the {_n(settings.max_pixels)} pixel limit \(possible "
                rf"decompression bomb\)$",
            ),
        ),
        DocumentCase(
            "enormous_page_pdf",
            "a 200 x 200 inch page with nothing but an empty content stream",
            "enormous-page.pdf",
            _one_page_pdf(b"", media_box=b"[0 0 14400 14400]"),
            Expect(
                "error_ocr",
                r"^page too large: page 1 is 200 x 200 inches; even at 72 dpi it "
                rf"exceeds the {_n(settings.max_pixels)} pixel limit$",
            ),
        ),
        DocumentCase(
            "page_tree_cycle_pdf",
            "the page tree contains itself",
            "cycle.pdf",
            page_tree_cycle_pdf(),
            Expect("error_ocr", r"^corrupt PDF: page 2 could not be read$"),
        ),
        DocumentCase(
            "decompression_bomb_png",
            f"a real {bomb_side:,} x {bomb_side:,} 1-bit PNG, a few KB",
            "bomb.png",
            png_bomb(bomb_side, bomb_side),
            Expect(
                "error_ocr",
                rf"^image too large: {_n(bomb_side)} x {_n(bomb_side)} pixels exceeds "
                rf"the {_n(settings.max_pixels)} pixel limit \(possible decompression "
                r"bomb\)$",
            ),
        ),
        DocumentCase(
            "absurd_dimensions_png",
            "a PNG header declaring 2,147,483,647 x 2,147,483,647 pixels",
            "absurd.png",
            png(2**31 - 1, 2**31 - 1, idat=zlib.compress(b"\x00\x00")),
            Expect("error_ocr", r"^image too large: .*pixel.*limit \(possible decompression bomb\)$"),
        ),
        DocumentCase(
            "truncated_png",
            "a PNG cut off inside its image data",
            "cut.png",
            png_bomb(2000, 2000)[:300],
            Expect("error_ocr", r"^corrupt image: the file is truncated or damaged"),
        ),
        DocumentCase(
            "exe_named_pdf",
            "a Windows executable named .pdf",
            "invoice.pdf",
            exe,
            Expect("error_ocr", r"^unsupported file type: looks like a Windows executable, not a PDF$"),
        ),
        DocumentCase(
            "elf_named_docx",
            "a Linux executable named .docx",
            "report.docx",
            b"\x7fELF\x02\x01\x01" + bytes(9) + rng.randbytes(4000),
            Expect(
                "error_ocr",
                r"^unsupported file type: looks like a Linux executable, not a Word "
                r"\.docx document$",
            ),
        ),
        DocumentCase(
            "binary_garbage",
            "64 KB of random bytes named .txt",
            "notes.txt",
            rng.randbytes(65536),
            Expect(
                "error_ocr",
                r"^unsupported file type: looks like unrecognised binary data, not a "
                r"text file$",
            ),
        ),
        DocumentCase(
            "utf16_bom_text",
            "UTF-16LE with a BOM",
            "utf16.txt",
            ("\ufeff" + latin).encode("utf-16-le"),
            Expect("graph_complete", text=r"Fran\u00e7ois M\u00fcller of Soci\u00e9t\u00e9 G\u00e9n\u00e9rale"),
        ),
        DocumentCase(
            "utf16_no_bom_text",
            "UTF-16LE without a BOM (every other byte NUL)",
            "utf16-nobom.txt",
            SENTENCE.encode("utf-16-le"),
            Expect("graph_complete", text=r"Maria Gonzalez of Acme Logistics Inc\.", absent="\x00"),
        ),
        DocumentCase(
            "latin1_text",
            "Windows-1252 / Latin-1 text",
            "latin1.txt",
            latin.encode("cp1252"),
            Expect("graph_complete", text=r"Soci\u00e9t\u00e9 G\u00e9n\u00e9rale met Z\u00f6e"),
        ),
        DocumentCase(
            "mixed_encoding_text",
            "UTF-8 paragraphs with one Latin-1 paragraph in between",
            "mixed.txt",
            SENTENCE.encode()
            + b"\n\nCaf\xe9 cr\xe8me at the port.\n\n"
            + "Z\u00fcrich office of Acme Logistics Inc.".encode(),
            # No single codec decodes it: cp1252 is applied to all of it (mojibake in the
            # UTF-8 part, never a failure).
            Expect("graph_complete", text=r"Caf\u00e9 cr\u00e8me at the port"),
        ),
        DocumentCase(
            "text_with_nul_bytes",
            "text with a few NUL bytes scattered in it",
            "nuls.txt",
            (SENTENCE + "\n\n").replace(" met ", " met\x00 ").encode() * 20,
            Expect("graph_complete", text=r"Acme Logistics Inc\. met Daniel Okafor", absent="\x00"),
        ),
        DocumentCase(
            "nul_padded_text",
            "text with a NUL after every few characters",
            "padded.txt",
            b"\x00".join(SENTENCE.encode()[i : i + 4] for i in range(0, len(SENTENCE), 4)),
            Expect(
                "error_ocr",
                r"^unsupported file type: looks like unrecognised binary data, not a "
                r"text file$",
            ),
        ),
        DocumentCase(
            "gigantic_single_line_text",
            f"{settings.max_text_chars * 3 // 2:,} characters on one line",
            "one-line.txt",
            giant_line(settings.max_text_chars * 3 // 2),
            Expect(
                "error_ocr",
                rf"^too much text: more than {_n(settings.max_text_chars)} characters "
                r"extracted, over the limit$",
            ),
        ),
        DocumentCase(
            "docx_zip_bomb",
            f"word/document.xml inflates to {zip_inflated >> 20:,} MB (declared)",
            "bomb.docx",
            docx_zip_bomb(zip_inflated, lie_about_size=False),
            Expect(
                "error_ocr",
                r"^Word document too large: it unpacks to [\d.]+ MB, over the [\d.]+ MB "
                r"limit \(possible zip bomb\)$",
            ),
        ),
        DocumentCase(
            "docx_lying_zip_bomb",
            "inflates to 1 GB but declares 4 KB",
            "liar.docx",
            docx_zip_bomb(1 << 30, lie_about_size=True),
            Expect(
                "error_ocr",
                r"^corrupt Word document: the zip container is damaged \(Bad CRC-32 for file "
                r"'word/document\.xml'\)$",
            ),
        ),
        DocumentCase(
            "docx_not_a_zip",
            "random bytes named .docx",
            "contract.docx",
            rng.randbytes(8192),
            Expect(
                "error_ocr",
                r"^unsupported file type: looks like unrecognised binary data, not a "
                r"Word \.docx document$",
            ),
        ),
        DocumentCase(
            "docx_truncated_zip",
            "a real .docx cut in half (no central directory)",
            "half.docx",
            docx_ok[: len(docx_ok) // 2],
            Expect("error_ocr", r"^corrupt Word document: not a valid \.docx \(zip\) file$"),
        ),
        DocumentCase(
            "eml_deeply_nested_mime",
            "5,000 nested multipart/mixed levels",
            "nested.eml",
            nested_mime_eml(5000),
            Expect("error_ocr", r"^malformed e-mail: MIME parts are nested more than [\d,]+ levels deep$"),
        ),
        DocumentCase(
            "eml_huge_attachment",
            "a 12 MB attachment of random bytes claiming to be a PDF",
            "huge.eml",
            huge_attachment_eml(12 * 1024 * 1024),
            Expect(
                "graph_complete",
                text=r"Attachment: huge-scan\.pdf \(not extracted: unsupported file "
                r"type: looks like unrecognised binary data, not a PDF\)",
            ),
        ),
        DocumentCase(
            "eml_malicious_attachment_names",
            "attachments named ../../etc/passwd, /etc/shadow, ...",
            "names.eml",
            malicious_names_eml(),
            Expect(
                "graph_complete",
                text=r"Attachment: passwd\b.*Attachment: shadow\b.*Attachment: win\.ini"
                r".*Attachment: hosts\b.*Attachment: eviltxt\.exe",
                absent=r"\.\./|/etc/|\\|C:|\u202e",
            ),
        ),
        DocumentCase(
            "eml_nul_bytes",
            "base64 body and encoded subject carrying NUL bytes",
            "nul.eml",
            nul_body_eml(),
            Expect("graph_complete", text=r"Maria Gonzalez of Acme Logistics", absent="\x00"),
        ),
        DocumentCase(
            "eml_bomb_attachment",
            "an e-mail carrying a decompression-bomb PNG",
            "bomb.eml",
            png_bomb_attachment_eml(png_bomb(bomb_side, bomb_side)),
            Expect("graph_complete", text=r"Attachment: scan\.png \(not extracted: image too large"),
        ),
        DocumentCase(
            "hostile_name_via_submit",
            "NUL, ESC, RLO and a non-UTF-8 byte in the submitted name",
            HOSTILE_SUBMIT_NAME,
            f"hostile_name_via_submit: {SENTENCE}".encode(),
            Expect("graph_complete", text=r"hostile_name_via_submit: Maria Gonzalez"),
        ),
        DocumentCase(
            "hostile_name_and_entity_text",
            "Cypher/SQL syntax and quotes in the text and the name",
            ENTITY_FILENAME,
            ENTITY_TEXT.encode(),
            Expect("graph_complete", text=re.escape("Robert'); DROP TABLE chunks;--")),
        ),
    ]
    assert tuple(case.kind for case in cases) == DOCUMENT_KINDS, "update DOCUMENT_KINDS"
    return cases


# --- intake folders ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeEntry:
    kind: str
    description: str
    report_name: str  # how the sweep report names it (display-safe)
    expect: Expect


def _content(kind: str) -> bytes:
    # Different bytes per file: the intake dedupes by content.
    return f"{kind}: {SENTENCE}\n".encode()


def _aged(path: Path, *, seconds: float = 3600) -> None:
    """Make a file look long finished (older than any stable delay), without following symlinks."""
    when = 1_700_000_000.0 - seconds  # a fixed instant: deterministic mtimes
    os.utime(path, (when, when), follow_symlinks=False)


def _write(root: Path, name: str | bytes, data: bytes) -> Path:
    path = Path(os.fsdecode(os.path.join(os.fsencode(root), os.fsencode(name))))
    path.write_bytes(data)
    _aged(path)
    return path


def display(name: str) -> str:
    from docflow.core.names import display_name

    return display_name(name)


def build_intake_folder(root: Path, outside: Path) -> list[IntakeEntry]:
    """Populate ``root`` with hostile names and entries; ``outside`` is a folder beyond the fence."""
    root.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    secret = outside / "secret.txt"
    secret.write_bytes(b"TOP SECRET outside the intake root: Northwind Bank vault codes.\n")
    entries: list[IntakeEntry] = []

    def new(
        kind: str, name: str | bytes, description: str, report: str | None = None, data: bytes | None = None
    ) -> None:
        _write(root, name, data if data is not None else _content(kind))
        shown = report if report is not None else display(os.fsdecode(name))
        entries.append(
            IntakeEntry(kind, description, shown, Expect("new", document_status="graph_complete", text=re.escape(kind)))
        )

    new(
        "windows_traversal_name",
        "reports\\..\\..\\windows\\system32\\evil.txt",
        "backslash path traversal inside a name",
    )
    # A name starting with "." is a hidden file to the intake, traversal-looking or not.
    _write(root, "..\\..\\etc\\passwd.txt", _content("dot_traversal_name"))
    entries.append(
        IntakeEntry(
            "dot_traversal_name",
            "'..\\..\\etc\\passwd.txt' (leading dot)",
            "..\\..\\etc\\passwd.txt",
            Expect("skipped", r"^hidden, temporary or OS metadata file$"),
        )
    )
    new("absolute_looking_name", "C:\\etc\\passwd.txt", "a name that looks like an absolute path")
    new("leading_dash_name", "-rf --no-preserve-root.txt", "a name that looks like command-line options")
    new(
        "control_character_name",
        "ctrl\x1b[2J\x07\r\nname\t.txt",
        "ESC, BEL, CR, LF and TAB in the name",
        report="ctrl\ufffd[2J\ufffd\ufffd\ufffdname\ufffd.txt",
    )
    long_name = "\u00e9" * 125 + "a.txt"  # 125 two-byte letters (250 bytes) + 5 = 255 bytes
    assert len(long_name.encode()) == 255, len(long_name.encode())
    new("name_of_255_bytes", long_name, "the longest name the filesystem allows")
    nfc = unicodedata.normalize("NFC", "caf\u00e9-twin.txt")
    nfd = unicodedata.normalize("NFD", "caf\u00e9-twin.txt")
    # Same size, same mtime, different bytes: only the exact name tells them apart.
    new("unicode_nfc_name", nfc, "NFC spelling of a name", data=b"unicode_nfc_name: " + SENTENCE.encode())
    new(
        "unicode_nfd_name",
        nfd,
        "NFD spelling of the same name (a different file on Linux)",
        data=b"unicode_nfd_name: " + SENTENCE.encode(),
    )
    new(
        "rtl_override_name",
        "report\u202efdp.txt",
        "RIGHT-TO-LEFT OVERRIDE: shows as 'reporttxt.pdf'",
        report="report\ufffdfdp.txt",
    )
    new(
        "non_utf8_name",
        b"caf\xe9-latin1-name.txt",
        "a name whose bytes are not UTF-8",
        report="caf\\xe9-latin1-name.txt",
    )
    deep = root / ("d" * 130) / "middle-one" / ("e" * 130)
    deep_twin = root / ("d" * 130) / "middle-two" / ("e" * 130)
    deep.mkdir(parents=True)
    deep_twin.mkdir(parents=True)
    for folder, kind in ((deep, "deep_path_one"), (deep_twin, "deep_path_two")):
        # Two >255-character paths that differ only in the middle: display names get shortened,
        # file identities must not be.
        path = _write(folder, "same-name.txt", _content(kind))
        entries.append(
            IntakeEntry(
                kind,
                "a path over 255 characters differing only in the middle",
                display(str(path.relative_to(root))),
                Expect("new", document_status="graph_complete", text=kind),
            )
        )

    _write(root, "setup.pdf", b"MZ\x90\x00" + bytes(60) + b"This program cannot be run in DOS mode.")
    entries.append(
        IntakeEntry(
            "exe_named_pdf_in_intake",
            "an executable named .pdf",
            "setup.pdf",
            Expect(
                "rejected",
                r"^unsupported file type: looks like a Windows executable, "
                r"not a PDF$",
            ),
        )
    )
    _write(root, "invoice\u202etxt.exe", b"MZ\x90\x00")
    entries.append(
        IntakeEntry(
            "rtl_override_exe",
            "'invoice<RLO>txt.exe' shows as 'invoiceexe.txt'",
            "invoice\ufffdtxt.exe",
            Expect("rejected", r"^unsupported file type: extension '\.exe'"),
        )
    )
    _write(root, "empty.txt", b"")
    entries.append(
        IntakeEntry("zero_byte_in_intake", "an empty file", "empty.txt", Expect("rejected", r"^empty file: 0 bytes$"))
    )

    def link(name: str, target: str | Path, kind: str, description: str, expect: Expect) -> None:
        os.symlink(target, root / name)
        entries.append(IntakeEntry(kind, description, name, expect))

    outside_rejected = Expect("rejected", r"^symlink pointing outside the intake folder$")
    link("secret.txt", secret, "symlink_to_outside_file", "absolute symlink to a file outside", outside_rejected)
    link(
        "passwd.txt",
        "../" * 12 + "etc/passwd",
        "symlink_relative_escape",
        "relative ../../ symlink to /etc/passwd",
        outside_rejected,
    )
    link("outside-folder", outside, "symlink_to_outside_folder", "symlink to a folder outside", outside_rejected)
    link("loop.txt", "loop.txt", "symlink_loop", "a symlink pointing at itself", Expect("rejected", r"^symlink loop$"))
    link(
        "dangling.txt",
        outside / "missing.txt",
        "dangling_symlink",
        "a symlink to a file that does not exist",
        Expect("rejected", r"^(broken symlink|symlink pointing outside the intake folder)"),
    )
    os.mkfifo(root / "pipe.txt")
    entries.append(
        IntakeEntry(
            "fifo",
            "a named pipe (reading it would block the sweep)",
            "pipe.txt",
            Expect("rejected", r"^not a regular file \(device, socket or FIFO\)$"),
        )
    )
    return entries


@dataclass(frozen=True)
class MidSweepEntry:
    kind: str
    description: str
    report_name: str
    expect: Expect
    mutate: Callable[[], None] = field(repr=False)
    # "first_batch": after the sweep's first batch (discovered, not yet read);
    # "hashed": right after this file was hashed, before it is uploaded.
    when: str = "first_batch"


def build_mid_sweep_folder(root: Path, outside: Path) -> list[MidSweepEntry]:
    """Files that are fine when discovered and then vanish, change or turn into a symlink.

    ``mutate`` of each entry is to be called at its ``when`` (sweep with ``batch_size=1``; the
    first file, ``a-first.txt``, is an ordinary one that gets registered).
    """
    root.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    _write(root, "a-first.txt", _content("mid_sweep_first"))
    gone = _write(root, "m-disappears.txt", _content("mid_sweep_disappears"))
    changes = _write(root, "m-changes.txt", _content("mid_sweep_changes"))
    swapped = _write(root, "m-swapped.txt", b"x" * 64)
    # The attacker's decoy has the secret's size and mtime, so size/mtime checks alone cannot
    # tell the swap happened: only refusing to follow the link can.
    secret = outside / "swap-secret.txt"
    secret.write_bytes(b"S" * 64)
    _aged(secret)

    rewritten = _write(root, "m-rewritten.txt", b"A" * 64)
    truncated = _write(root, "m-truncated.txt", _content("mid_sweep_truncated") * 4)

    def rewrite() -> None:
        # Same size, same mtime, other bytes: invisible to stat, visible to the upload's re-hash.
        before = rewritten.stat()
        rewritten.write_bytes(b"B" * 64)
        os.utime(rewritten, ns=(before.st_atime_ns, before.st_mtime_ns))

    def truncate() -> None:
        os.truncate(truncated, 10)

    def change() -> None:
        changes.write_bytes(_content("mid_sweep_changes") + b"appended by a writer still at work\n")

    def swap() -> None:
        swapped.unlink()
        os.symlink(secret, swapped)

    return [
        MidSweepEntry(
            "disappears_mid_sweep",
            "deleted between discovery and reading",
            "m-disappears.txt",
            Expect("skipped", r"^disappeared during the sweep$"),
            gone.unlink,
        ),
        MidSweepEntry(
            "changes_mid_sweep",
            "appended to between discovery and reading",
            "m-changes.txt",
            Expect("skipped", r"^changed while being read; taken by a later sweep$"),
            change,
        ),
        MidSweepEntry(
            "swapped_for_outside_symlink",
            "replaced by a symlink to an outside file of the same size and mtime",
            "m-swapped.txt",
            Expect("rejected", r"^symlink pointing outside the intake folder$"),
            swap,
        ),
        MidSweepEntry(
            "rewritten_after_hashing",
            "rewritten in place (same size and mtime) between hash and upload",
            "m-rewritten.txt",
            Expect("skipped", r"^changed while being read; taken by a later sweep$"),
            rewrite,
            when="hashed",
        ),
        MidSweepEntry(
            "truncated_after_hashing",
            "truncated between hash and upload",
            "m-truncated.txt",
            Expect("skipped", r"^changed while being read; taken by a later sweep$"),
            truncate,
            when="hashed",
        ),
    ]


__all__ = [
    "DOCUMENT_KINDS",
    "ENTITY_FILENAME",
    "ENTITY_PROBES",
    "ENTITY_TEXT",
    "HOSTILE_SUBMIT_NAME",
    "DocumentCase",
    "Expect",
    "IntakeEntry",
    "MidSweepEntry",
    "build_intake_folder",
    "build_mid_sweep_folder",
    "document_cases",
]
