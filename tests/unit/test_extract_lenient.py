"""Lenient readers (issue 26): what a browser, a spreadsheet application or Word opens, docflow reads.

HTML rebuilt the way a browser recovers it, CSV rows of uneven length, a Word table python-docx
cannot walk, an office file the fast reader rejects read by LibreOffice next, JSON read by key
path, pictures inside documents OCR'd by size. Real files through the real registry.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest

from docflow.core.errors import PermanentError
from tasks.steps.extract import Extraction, extract_document
from tasks.steps.extract.fallback import first_that_reads
from tasks.steps.extract.pictures import worth_reading
from tasks.steps.extract.structured import json_lines
from tests.fixtures.everyday import EVERYDAY_WRITERS

pytestmark = pytest.mark.unit

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- HTML ----------------------------------------------------------------------------------------


def test_a_page_whose_head_is_never_closed_shows_its_body(tmp_path: Path) -> None:
    # GIVEN a page with a stray end tag in its head and no </head> (a browser shows its body)
    path = _write(tmp_path, "page.html", EVERYDAY_WRITERS["broken_head.html"]())
    # WHEN extracted THEN its heading and paragraphs are read, the title in the head is not
    elements = extract_document(path=path, file_type="html").elements
    assert [e.kind for e in elements][:2] == ["Title", "NarrativeText"]
    assert elements[0].text == "Partner Update"
    assert "Partner update" not in [e.text for e in elements]


def test_a_well_formed_page_never_needs_the_browser_parser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a well-formed page and a browser parser that must not be called
    import tasks.steps.extract.markup as markup

    def refuse(_markup: str) -> str:
        raise AssertionError("html5lib was used for a well-formed page")

    monkeypatch.setattr(markup, "recover_html", refuse)
    path = _write(tmp_path, "ok.html", b"<html><head><title>t</title></head><body><p>Rotterdam</p></body></html>")
    # WHEN extracted THEN the fast reader alone reads it
    assert extract_document(path=path, file_type="html").text() == "Rotterdam"


# --- CSV -----------------------------------------------------------------------------------------


def test_a_csv_row_with_a_cell_too_many_is_kept(tmp_path: Path) -> None:
    # GIVEN a CSV whose ninth row has more cells than the others (pandas: ParserError)
    path = _write(tmp_path, "ledger.csv", EVERYDAY_WRITERS["uneven_ledger.csv"]())
    # WHEN extracted THEN every row is a line of the table, the long one whole
    (table,) = extract_document(path=path, file_type="csv").elements
    lines = table.text.splitlines()
    assert len(lines) == 9
    assert lines[0] == "Name | City | Date"
    assert lines[-1] == "Daniel Okafor | Nairobi | April 14 | 2025 | $4 | 800"


def test_a_csv_neither_reader_can_read_names_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a CSV pandas refuses (uneven rows) and a csv module that refuses it too
    import csv

    import tasks.steps.extract.tabular as tabular

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise csv.Error("field larger than field limit (131072)")

    monkeypatch.setattr(tabular.csv, "reader", refuse)
    path = _write(tmp_path, "broken.csv", b"a,b\n1,2\n3,4,5\n")
    # WHEN extracted THEN it is corrupt, and the message says what each reader said
    with pytest.raises(
        PermanentError,
        match=r"^corrupt CSV file: unstructured/pandas: .+; Python's csv reader: Error: field larger",
    ):
        extract_document(path=path, file_type="csv")


# --- Word and other office files ---------------------------------------------------------------


def test_a_word_table_python_docx_cannot_walk_is_read_cell_by_cell(tmp_path: Path) -> None:
    # GIVEN a valid .docx whose table has a cell merged down under a row spanning the grid
    import docx

    path = _write(tmp_path, "merged.docx", EVERYDAY_WRITERS["merged_ledger.docx"]())
    with pytest.raises(ValueError, match="no `tc` element at grid_offset=1"):
        [cell.text for row in docx.Document(str(path)).tables[0].rows for cell in row.cells]
    # WHEN extracted THEN each row reads as its cells, the spanning one once
    table = next(e for e in extract_document(path=path, file_type="docx").elements if e.kind == "Table")
    assert table.text.splitlines() == ["Shipment ledger", "Daniel Okafor | Nairobi | $4,800"]


def _without(data: bytes, part: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != part:
                target.writestr(info, source.read(info))
    return out.getvalue()


@needs_soffice
def test_a_word_file_python_docx_rejects_is_read_by_libreoffice(tmp_path: Path) -> None:
    # GIVEN a .docx without its styles part: python-docx cannot open it, LibreOffice can
    path = _write(tmp_path, "nostyles.docx", _without(EVERYDAY_WRITERS["merged_ledger.docx"](), "word/styles.xml"))
    # WHEN extracted THEN its text comes through LibreOffice's re-saved copy
    result = extract_document(path=path, file_type="docx")
    assert result.file_type == "docx"
    assert "Maria Gonzalez of Acme Logistics Inc." in result.text()


@needs_soffice
def test_when_every_reader_fails_the_error_names_each(tmp_path: Path) -> None:
    # GIVEN a .docx whose document XML is cut off before any text (no reader takes it)
    data = EVERYDAY_WRITERS["merged_ledger.docx"]()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = source.read(info)
            if info.filename == "word/document.xml":
                part = part[: part.index(b"<w:body>")]
            target.writestr(info, part)
    path = _write(tmp_path, "bad.docx", out.getvalue())
    # WHEN extracted THEN it is corrupt, with each reader and its reason
    with pytest.raises(PermanentError) as caught:
        extract_document(path=path, file_type="docx")
    assert str(caught.value).startswith(
        "corrupt Word document: no reader could read it (python-docx: the document XML is malformed; "
        "every text run: no text; LibreOffice: could not convert it"
    )


def _extraction(text: str) -> Extraction:
    from tasks.steps.extract.types import Element

    return Extraction("docx", 1, [Element(text, "NarrativeText", 1)], ocr_pages=0, text_pages=1)


def test_readers_in_turn_stop_at_a_refusal_that_is_not_corruption() -> None:
    calls: list[str] = []

    def corrupt() -> Extraction:
        calls.append("fast")
        raise PermanentError("corrupt Word document: the document XML is malformed")

    def over_limit() -> Extraction:
        calls.append("next")
        raise PermanentError("too much text: more than 10 characters extracted, over the limit")

    # GIVEN a fast reader that calls the file corrupt and a next one that reads it
    assert first_that_reads("Word document", [("a", corrupt), ("b", lambda: _extraction("ok"))]).text() == "ok"
    # GIVEN a next reader that hits a limit WHEN tried THEN the limit is the answer, no third reader runs
    with pytest.raises(PermanentError, match="^too much text"):
        first_that_reads("Word document", [("a", corrupt), ("b", over_limit), ("c", lambda: _extraction("never"))])
    assert calls == ["fast", "fast", "next"]


# --- JSON, pictures ------------------------------------------------------------------------------


def test_json_values_carry_their_key_paths() -> None:
    value = {"customer": {"name": "Maria", "tags": ["a", ""], "age": 41, "vip": False, "note": None}}
    assert list(json_lines(value)) == [
        "customer.name: Maria",
        "customer.tags[0]: a",
        "customer.age: 41",
        "customer.vip: false",
    ]


def test_a_json_file_that_is_not_json_is_read_as_text(tmp_path: Path) -> None:
    path = _write(tmp_path, "notes.json", b"{ Maria Gonzalez met Northwind Bank in Rotterdam }")
    assert "Northwind Bank" in extract_document(path=path, file_type="json").text()


@pytest.mark.parametrize(
    ("size", "worth"),
    [((16, 16), False), ((128, 128), False), ((1200, 30), False), ((300, 150), True), ((2480, 3508), True)],
)
def test_icons_and_logos_are_skipped_by_size(size: tuple[int, int], worth: bool) -> None:
    assert worth_reading(size) is worth


def test_a_slide_that_is_one_picture_is_read(tmp_path: Path) -> None:
    # GIVEN a presentation whose only slide is a picture of text
    path = _write(tmp_path, "slide.pptx", EVERYDAY_WRITERS["harbour_slide.pptx"]())
    # WHEN extracted THEN the picture's words are the slide's text
    result = extract_document(path=path, file_type="pptx")
    assert result.page_count == 1
    assert "Northwind Bank" in result.text() and all(e.page == 1 for e in result.elements)


def test_text_only_in_headers_text_boxes_or_smartart_is_read(tmp_path: Path) -> None:
    # GIVEN a Word file whose only words are in its header (python-docx reads the body only)
    import docx

    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Northwind Bank, Rotterdam"
    buf = io.BytesIO()
    document.save(buf)
    path = _write(tmp_path, "header.docx", buf.getvalue())
    # WHEN extracted THEN the header's words are the document's text, not "no text"
    assert extract_document(path=path, file_type="docx").text() == "Northwind Bank, Rotterdam"
