"""Extraction step against the bundled samples: real files, real OCR, real failures."""

from __future__ import annotations

import re
import struct
import zlib
from collections import Counter
from pathlib import Path

import pytest

from docflow.core.errors import PermanentError
from docflow.core.filetypes import detect_file_type
from docflow.samples import SAMPLE_FACTS, SAMPLE_TEXT, write_bad_samples, write_samples
from tasks.steps.extract import Element, Extraction, ExtractionLimits, extract_document

pytestmark = pytest.mark.unit

ENTITY_KEYS = ("people", "organizations", "places", "dates", "amounts")
HEAD = 8192  # what the submit path and the OCR stage pass to detect_file_type


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("samples")
    return {path.name: path for path in write_samples(directory=directory)}


@pytest.fixture(scope="module")
def bad_samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_bad_samples(directory=tmp_path_factory.mktemp("bad_samples"))


@pytest.fixture(scope="module")
def extracted(samples: dict[str, Path]) -> dict[str, Extraction]:
    """Each good sample extracted once (OCR is the slow part; tests only read the results)."""
    results = {}
    for name, path in samples.items():
        file_type, _ = detect_file_type(data_head=path.read_bytes()[:HEAD], filename=name)
        results[name] = extract_document(path=path, file_type=file_type)
    return results


def words(text: str) -> Counter:
    # "$12,500" -> "12,500", "Ltd." -> "ltd": punctuation noise is not what OCR is scored on.
    return Counter(re.findall(r"[a-z0-9]+(?:[.,'][a-z0-9]+)*", text.lower()))


def word_recall(*, expected: str, actual: str) -> float:
    want = words(expected)
    return sum((want & words(actual)).values()) / sum(want.values())


def png_declaring(*, width: int, height: int) -> bytes:
    """A valid 1-bit PNG whose pixels compress to ~150 KB however large it claims to be."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# --- detection -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SAMPLE_FACTS))
def test_detects_each_sample_type_from_content(samples: dict[str, Path], name: str) -> None:
    # GIVEN a sample WHEN its head is sniffed THEN the type matches what the sample is
    file_type, mime = detect_file_type(data_head=samples[name].read_bytes()[:HEAD], filename=name)
    assert file_type == SAMPLE_FACTS[name]["file_type"]
    assert "/" in mime


def test_wrong_extension_is_ignored_in_favour_of_content(samples: dict[str, Path], tmp_path: Path) -> None:
    # GIVEN a PDF saved as .txt and a PNG saved as .pdf
    renamed_pdf = tmp_path / "report.txt"
    renamed_pdf.write_bytes(samples["born_digital.pdf"].read_bytes())
    renamed_png = tmp_path / "scan.pdf"
    renamed_png.write_bytes(samples["receipt_scan.png"].read_bytes())
    # WHEN they are sniffed THEN the content decides, and extraction works on that basis
    assert detect_file_type(data_head=renamed_pdf.read_bytes(), filename=renamed_pdf.name) == (
        "pdf",
        "application/pdf",
    )
    assert detect_file_type(data_head=renamed_png.read_bytes(), filename=renamed_png.name) == (
        "image",
        "image/png",
    )
    result = extract_document(path=renamed_pdf, file_type="pdf")
    assert "Northwind Bank" in result.text()


@pytest.mark.parametrize(
    ("head", "filename", "message"),
    [
        (b"MZ\x90\x00" + bytes(60), "invoice.pdf", r"looks like a Windows executable, not a PDF$"),
        (b"\x1f\x8b\x08" + bytes(40), "notes.txt", r"looks like a gzip archive, not a text file$"),
        (b"PK\x03\x04" + bytes(26) + b"xl/workbook.xml", "minutes.docx", r"Excel workbook"),
        (bytes(range(256)) * 8, "blob.bin", r"^unsupported file type: looks like unrecognised"),
        (b"", "empty.pdf", r"^empty file: 0 bytes$"),
    ],
)
def test_unsupported_content_is_rejected_with_a_specific_message(head: bytes, filename: str, message: str) -> None:
    # GIVEN content that is not a supported document WHEN sniffed THEN it is refused by name
    with pytest.raises(PermanentError, match=message):
        detect_file_type(data_head=head, filename=filename)


# --- good samples --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SAMPLE_FACTS))
def test_each_sample_yields_its_key_entities(extracted: dict[str, Extraction], name: str) -> None:
    # GIVEN a sample WHEN extracted THEN every entity it was written with is in the text
    text = extracted[name].text()
    for key in ENTITY_KEYS:
        for entity in SAMPLE_FACTS[name][key]:
            assert entity in text, f"{name}: {key} {entity!r} missing"
    assert all(isinstance(e, Element) and e.text == e.text.strip() and e.text for e in extracted[name].elements)


def test_born_digital_pdf_reads_the_text_layer_without_ocr(
    extracted: dict[str, Extraction],
) -> None:
    # GIVEN a 2-page PDF with a text layer WHEN extracted THEN tesseract is never used
    result = extracted["born_digital.pdf"]
    assert (result.file_type, result.page_count) == ("pdf", 2)
    assert (result.ocr_pages, result.text_pages) == (0, 2)
    assert result.elements[0] == Element("Quarterly Freight Report", "Title", 1)
    assert {e.page for e in result.elements} == {1, 2}
    # Paragraphs stay separate (no two samples' paragraphs fused into one element)
    assert any(e.text.startswith("Globex Holdings Ltd. has budgeted") for e in result.elements)


@pytest.mark.parametrize("name", ["scanned_letter.pdf", "receipt_scan.png"])
def test_scans_are_ocred_with_high_word_recall(extracted: dict[str, Extraction], name: str) -> None:
    # GIVEN an image-only document WHEN extracted THEN every page is OCRed, once
    result = extracted[name]
    assert result.ocr_pages == result.page_count == SAMPLE_FACTS[name]["page_count"]
    assert result.text_pages == 0
    # AND the words of the source text come back
    recall = word_recall(expected=SAMPLE_TEXT[name], actual=result.text())
    assert recall >= 0.95, f"{name}: word recall {recall:.3f}"


def test_docx_keeps_headings_lists_and_table_text(extracted: dict[str, Extraction]) -> None:
    # GIVEN Word minutes with headings, bullets and a table WHEN extracted THEN structure survives
    result = extracted["board_minutes.docx"]
    kinds = Counter(e.kind for e in result.elements)
    assert kinds["Title"] >= 2 and kinds["ListItem"] == 3 and kinds["Table"] == 1
    table = next(e for e in result.elements if e.kind == "Table")
    assert "Container advance | Northwind Bank | $12,500" in table.text
    assert (result.page_count, result.ocr_pages, result.text_pages) == (1, 0, 1)


def test_eml_has_headers_body_and_extracted_attachment(extracted: dict[str, Extraction]) -> None:
    # GIVEN an e-mail with a PDF attachment WHEN extracted
    result = extracted["partner_email.eml"]
    header, *rest = result.elements
    # THEN headers come first, the body follows, and the attachment is announced then extracted
    assert header.kind == "EmailHeader" and "Subject: Rotterdam shipment schedule" in header.text
    assert "From: Maria Gonzalez" in header.text
    announce = [i for i, e in enumerate(result.elements) if e.kind == "Attachment"]
    assert [result.elements[i].text for i in announce] == ["Attachment: shipment_schedule.pdf"]
    after = result.elements[announce[0] + 1 :]
    assert after[0] == Element("Shipment Schedule", "Title", 2)
    assert any("Kenji Tanaka of Acme Logistics Inc." in e.text for e in after)
    # AND attachment pages follow the e-mail's own page
    assert result.page_count == 2 and max(e.page for e in result.elements) == 2


def test_txt_splits_paragraphs(extracted: dict[str, Extraction]) -> None:
    result = extracted["field_notes.txt"]
    assert [e.kind for e in result.elements] == ["Title"] + ["NarrativeText"] * 3
    assert result.text() == SAMPLE_TEXT["field_notes.txt"]


@pytest.mark.parametrize("name", list(SAMPLE_FACTS))
def test_json_round_trip(extracted: dict[str, Extraction], name: str) -> None:
    # GIVEN an extraction WHEN serialised and parsed back THEN nothing changes
    original = extracted[name]
    restored = Extraction.from_json(original.to_json())
    assert restored == original
    assert restored.text() == original.text()


def test_samples_are_deterministic(samples: dict[str, Path], tmp_path: Path) -> None:
    # GIVEN the generator WHEN run again elsewhere THEN every file is byte-identical
    again = {path.name: path.read_bytes() for path in write_samples(directory=tmp_path)}
    assert again == {name: path.read_bytes() for name, path in samples.items()}


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "file_type", "message"),
    [
        ("corrupt.pdf", "pdf", r"^corrupt PDF: the file structure is damaged or truncated$"),
        ("encrypted.pdf", "pdf", r"^encrypted PDF: a password is required to read it$"),
        ("empty.txt", "txt", r"^empty file: 0 bytes$"),
        ("not_a_pdf.pdf", "pdf", r"^corrupt PDF: "),
    ],
)
def test_bad_samples_fail_permanently_with_specific_messages(
    bad_samples: dict[str, Path], name: str, file_type: str, message: str
) -> None:
    # GIVEN a broken file that a caller insists is of file_type WHEN extracted THEN it is refused
    with pytest.raises(PermanentError, match=message):
        extract_document(path=bad_samples[name], file_type=file_type)


def test_bad_samples_are_caught_at_detection_where_possible(bad_samples: dict[str, Path]) -> None:
    with pytest.raises(PermanentError, match=r"^empty file: 0 bytes$"):
        detect_file_type(data_head=bad_samples["empty.txt"].read_bytes(), filename="empty.txt")
    with pytest.raises(PermanentError, match=r"looks like a Windows executable, not a PDF$"):
        detect_file_type(data_head=bad_samples["not_a_pdf.pdf"].read_bytes(), filename="not_a_pdf.pdf")
    # Encrypted and corrupt PDFs still *look* like PDFs; extraction is where they fail.
    for name in ("encrypted.pdf", "corrupt.pdf"):
        assert detect_file_type(data_head=bad_samples[name].read_bytes(), filename=name)[0] == "pdf"


def test_decompression_bomb_png_is_refused_before_decoding(tmp_path: Path) -> None:
    # GIVEN a ~150 KB PNG declaring 30000 x 30000 pixels (900 MP)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_declaring(width=30000, height=30000))
    assert detect_file_type(data_head=bomb.read_bytes()[:HEAD], filename="bomb.png")[0] == "image"
    # WHEN extracted THEN it is refused as a possible bomb, without allocating the pixels
    with pytest.raises(PermanentError, match=r"^image too large: .*possible decompression bomb"):
        extract_document(path=bomb, file_type="image")


def test_image_over_the_pixel_limit_names_its_size(samples: dict[str, Path]) -> None:
    limits = ExtractionLimits(max_pixels=1_000_000)
    with pytest.raises(PermanentError, match=r"1,500 x 1,650 pixels exceeds the 1,000,000 pixel limit"):
        extract_document(path=samples["receipt_scan.png"], file_type="image", limits=limits)


def test_oversized_pdf_page_is_rendered_at_a_lower_dpi(samples: dict[str, Path]) -> None:
    # GIVEN a pixel limit that a Letter page asked for at 600 dpi only meets at ~450 dpi (above the
    # scan's own 300 dpi: an embedded image over max_pixels is refused before rendering)
    # WHEN OCRed THEN it still reads
    limits = ExtractionLimits(ocr_dpi=600, max_pixels=int(8.5 * 11 * 450 * 450))
    result = extract_document(path=samples["scanned_letter.pdf"], file_type="pdf", limits=limits)
    assert result.ocr_pages == 1 and "Daniel Okafor" in result.text()
    # AND a limit no sane DPI can meet is a clear error
    with pytest.raises(PermanentError, match=r"^page too large: page 1 .* even at 72 dpi"):
        extract_document(
            path=samples["scanned_letter.pdf"],
            file_type="pdf",
            limits=ExtractionLimits(max_pixels=10_000),
        )


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (
            ExtractionLimits(max_pages=1),
            r"^too many pages: the PDF has 2 pages, over the limit of 1$",
        ),
        (
            ExtractionLimits(max_bytes=1000),
            r"^file too large: [\d,]+ bytes exceeds the 1,000 bytes limit$",
        ),
        (ExtractionLimits(max_text_chars=200), r"^too much text: more than 200 characters"),
    ],
)
def test_limits_are_enforced(samples: dict[str, Path], limits: ExtractionLimits, message: str) -> None:
    with pytest.raises(PermanentError, match=message):
        extract_document(path=samples["born_digital.pdf"], file_type="pdf", limits=limits)


def test_broken_attachment_is_noted_not_fatal(
    samples: dict[str, Path], bad_samples: dict[str, Path], tmp_path: Path
) -> None:
    # GIVEN an e-mail whose attachment is a corrupt PDF
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "Sarah Whitfield <sarah@northwind.example>"
    message["Subject"] = "Statement"
    message.set_content("The statement from Northwind Bank is attached.")
    message.add_attachment(
        bad_samples["corrupt.pdf"].read_bytes(),
        maintype="application",
        subtype="pdf",
        filename="../statement.pdf",
    )
    path = tmp_path / "statement.eml"
    path.write_bytes(message.as_bytes())
    # WHEN extracted THEN the body survives and the attachment is named, with why it was skipped
    result = extract_document(path=path, file_type="eml")
    assert "The statement from Northwind Bank is attached." in result.text()
    assert result.elements[-1] == Element(
        "Attachment: statement.pdf (not extracted: corrupt PDF: the file structure is damaged or truncated)",
        "Attachment",
        1,
    )
