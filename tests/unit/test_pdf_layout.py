"""PDF text layers: whole paragraphs in columns, line-end hyphenation, table rows, pages and offsets.

Real PDFs built with reportlab through the real extractor (PDFium), plus the layout step on its
own with hand-placed lines where the geometry is the point.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfgen import canvas
from reportlab.platypus import BaseDocTemplate, Frame, FrameBreak, PageBreak, PageTemplate, Paragraph

from tasks.steps.chunking import chunk_elements
from tasks.steps.extract import extract_document
from tasks.steps.extract.pdf_layout import Fragment, TextLine, layout_page
from tasks.steps.extract.types import Collector, ExtractionLimits

pytestmark = pytest.mark.unit

_PARAGRAPH = (
    "Retrieval augmented generation systems first need to select candidate contexts, where traditional "
    "sparse methods like BM25 rank passages by term overlap. Dense retrievers instead embed questions and "
    "passages in one vector space, and Maria Lopez of the University of Lisbon showed that the combination "
    "outperforms either alone on multilingual benchmarks."
)


def _two_column_paper(path: Path, *, pages: int = 1) -> None:
    """A paper's first page: a full-width title and abstract, then two justified columns."""
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=10, leading=12, alignment=4)
    width, height = A4
    margin, gap, top_height = 2 * cm, 0.8 * cm, 5 * cm
    column = (width - 2 * margin - gap) / 2
    frames = [
        Frame(margin, height - margin - top_height, width - 2 * margin, top_height, id="top"),
        Frame(margin, margin, column, height - 2 * margin - top_height, id="left"),
        Frame(margin + column + gap, margin, column, height - 2 * margin - top_height, id="right"),
    ]
    story: list = [
        Paragraph("Dense Retrieval for Multilingual Question Answering", styles["Title"]),
        Paragraph("Abstract. We compare sparse and dense retrievers on questions in twelve languages.", body),
        FrameBreak(),
    ]
    for page in range(pages):
        if page:
            story.append(PageBreak())
        story += [Paragraph(f"{_PARAGRAPH} (Section {page + 1}.{n})", body) for n in range(1, 5)]
    buf = io.BytesIO()
    doc = BaseDocTemplate(buf, pagesize=A4, invariant=1)
    doc.addPageTemplates([PageTemplate(id="paper", frames=frames)])
    doc.build(story)
    path.write_bytes(buf.getvalue())


def _extract(path: Path):
    return extract_document(path=path, file_type="pdf", limits=ExtractionLimits())


def test_two_column_paragraphs_are_whole_not_one_per_visual_line(tmp_path: Path) -> None:
    # GIVEN a two-column paper whose title spans both columns (every column line is far shorter)
    paper = tmp_path / "paper.pdf"
    _two_column_paper(paper)
    # WHEN it is extracted
    texts = [e.text for e in _extract(paper).elements]
    # THEN each column paragraph is one element, with its sentences whole
    paragraphs = [t for t in texts if t.startswith("Retrieval augmented")]
    assert [p.endswith(f"(Section 1.{n})") for n, p in enumerate(paragraphs, start=1)] == [True] * 4
    assert all(_PARAGRAPH in p for p in paragraphs)
    assert texts[0] == "Dense Retrieval for Multilingual Question Answering"


def test_paragraphs_and_pages_keep_offsets_right_for_highlights(tmp_path: Path) -> None:
    # GIVEN a two-page two-column paper
    paper = tmp_path / "paper.pdf"
    _two_column_paper(paper, pages=2)
    extraction = _extract(paper)
    # WHEN it is chunked
    text, chunks = chunk_elements(extraction.elements, max_chars=600, overlap_chars=100)
    # THEN every chunk is exactly its span of the document text, page 2's paragraphs are whole and
    # on page 2, and the chunk holding one of them ends on page 2
    assert all(text[c.char_start : c.char_end] == c.text for c in chunks)
    page_two = [e for e in extraction.elements if "(Section 2." in e.text]
    assert [e.page for e in page_two] == [2, 2, 2, 2] and all(_PARAGRAPH in e.text for e in page_two)
    offset = text.index(page_two[-1].text)
    [holder] = [c for c in chunks if c.char_start <= offset < c.char_end and c.char_end >= offset + 200][:1]
    assert holder.page_end == 2


def _canvas_pdf(path: Path, draw) -> None:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=1)
    draw(pdf)
    pdf.showPage()
    pdf.save()
    path.write_bytes(buf.getvalue())


def test_line_end_hyphenation_is_undone_where_pdfium_runs_lines_on(tmp_path: Path) -> None:
    # GIVEN lines ending in a hyphenated word (PDFium gives them as one line, with U+FFFE for the break)
    def draw(pdf: canvas.Canvas) -> None:
        text = pdf.beginText(72, 700)
        text.setFont("Helvetica", 11)
        for line in (
            "Dense retrievers embed questions and passages in one vec-",
            "tor space; sparse retrievers such as BM25 rank by term over-",
            "lap, and the two are combined by Franco-",
            "German teams.",
        ):
            text.textLine(line)
        pdf.drawText(text)

    path = tmp_path / "hyphens.pdf"
    _canvas_pdf(path, draw)
    # WHEN it is extracted
    [paragraph] = _extract(path).elements
    # THEN the broken words are whole, no marker is left, and a real hyphen before a capital stays
    assert paragraph.text == (
        "Dense retrievers embed questions and passages in one vector space; sparse retrievers such as "
        "BM25 rank by term overlap, and the two are combined by Franco- German teams."
    )
    assert "\ufffe" not in paragraph.text and "\u00ad" not in paragraph.text


def test_table_rows_keep_their_cells(tmp_path: Path) -> None:
    # GIVEN a table drawn as rows of cells at fixed positions, between two paragraphs
    rows = [
        ("Name", "Role", "Organisation"),
        ("Ingrid Solberg", "Chair", "Norwegian University of Science and Technology"),
        ("Tomas Lindqvist", "Work package lead", "University of Aberdeen"),
    ]

    def draw(pdf: canvas.Canvas) -> None:
        pdf.setFont("Helvetica", 10)
        pdf.drawString(72, 720, "The steering committee met twice in 2023.")
        y = 690
        for row in rows:
            for x, cell in zip((72, 200, 320), row, strict=True):
                pdf.drawString(x, y, cell)
            y -= 13
        pdf.drawString(72, 630, "Minutes are kept by the secretariat.")

    path = tmp_path / "table.pdf"
    _canvas_pdf(path, draw)
    # WHEN it is extracted
    elements = _extract(path).elements
    # THEN the rows are one Table element, a row per line, cells separated, prose around it untouched
    assert [(e.kind, e.text) for e in elements] == [
        ("NarrativeText", "The steering committee met twice in 2023."),
        ("Table", "\n".join(" | ".join(row) for row in rows)),
        ("NarrativeText", "Minutes are kept by the secretariat."),
    ]


def _line(y: float, *cells: tuple[float, str], size: float = 9.0, word_gaps: int = 1) -> TextLine:
    fragments = [Fragment(text, x, x + 5.0 * len(text)) for x, text in cells]
    return TextLine(fragments, y=y, size=size, word_gaps=word_gaps)


def test_a_table_given_cell_by_cell_with_wrapped_cells_is_put_back_in_rows() -> None:
    # GIVEN the lines of a table the way PDFium gives reportlab's: one cell at a time, each cell's
    # wrapped lines in turn, rows separated by padding, cells aligned at the row's bottom
    lines = [
        _line(350.7, (69.4, "Name"), (141.6, "Role"), (214.4, "Organisation")),
        _line(300.7, (69.5, "Ingrid Solberg")),
        _line(311.7, (141.6, "Chair, steering")),
        _line(300.7, (141.6, "committee")),
        _line(333.7, (214.4, "Norwegian")),
        _line(322.7, (214.5, "University of")),
        _line(311.7, (214.2, "Science and")),
        _line(300.7, (213.9, "Technology")),
        _line(283.7, (69.5, "Tomas")),
        _line(272.7, (69.4, "Lindqvist"), (141.6, "Treasurer")),
        _line(283.7, (214.5, "University of")),
        _line(272.7, (214.5, "Aberdeen")),
    ]
    out = Collector(ExtractionLimits())
    # WHEN the page is laid out
    layout_page(lines, page=3, out=out)
    # THEN it is one table on that page, a line per row, each cell whole
    assert [(e.kind, e.page) for e in out.elements] == [("Table", 3)]
    assert out.elements[0].text.split("\n") == [
        "Name | Role | Organisation",
        "Ingrid Solberg | Chair, steering committee | Norwegian University of Science and Technology",
        "Tomas Lindqvist | Treasurer | University of Aberdeen",
    ]


def test_justified_lines_with_stretched_spaces_are_prose_not_a_table() -> None:
    # GIVEN a paragraph whose last two lines are so stretched that every space is wider than a cell gap
    lines = [
        _line(600.0, (63.0, "Dense retrievers embed questions and passages in one"), word_gaps=8),
        _line(588.0, (63.0, "of"), (90.0, "Lisbon"), (140.0, "showed"), (190.0, "that"), (230.0, "the"), word_gaps=0),
        _line(576.0, (63.0, "outperforms"), (140.0, "either"), (190.0, "alone"), (230.0, "on"), word_gaps=0),
        _line(564.0, (63.0, "benchmarks."), word_gaps=0),
    ]
    out = Collector(ExtractionLimits())
    layout_page(lines, page=1, out=out)
    # THEN it stays one paragraph
    assert [(e.kind, e.text) for e in out.elements] == [
        (
            "NarrativeText",
            "Dense retrievers embed questions and passages in one of Lisbon showed that the "
            "outperforms either alone on benchmarks.",
        )
    ]


def _scaled_text_pdf(path: Path) -> None:
    """A cover page as many producers write it: font size 1, the text matrix scaled to the real
    size, and a letter-spaced title (character spacing), then body lines at 10 pt the same way."""
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    title = pdf.beginText()
    title.setTextTransform(24, 0, 0, 24, 2 * cm, A4[1] - 4 * cm)
    title.setFont("Helvetica-Bold", 1)
    title.setCharSpace(0.06)  # 1.4 pt between letters at 24 pt: wider than a "cell gap" of 1.2 x 1 pt
    title.textOut("Row and Column Access Control Support")
    pdf.drawText(title)
    lines = ("Kent Milligan wrote this paper with the", "help of the DB2 for i Center of Excellence.")
    for n, line in enumerate(lines):
        body = pdf.beginText()
        body.setTextTransform(10, 0, 0, 10, 2 * cm, A4[1] - 6 * cm - n * 12)
        body.setFont("Helvetica", 1)
        body.textOut(line)
        pdf.drawText(body)
    pdf.showPage()
    pdf.save()


def test_text_sized_by_its_matrix_reads_as_words_not_letters(tmp_path: Path) -> None:
    # GIVEN a PDF whose text has font size 1 and a scaled text matrix (IBM's Redbooks, most LaTeX),
    # with a letter-spaced title
    path = tmp_path / "cover.pdf"
    _scaled_text_pdf(path)
    # WHEN its text layer is read
    texts = [e.text for e in extract_document(path=path, file_type="pdf").elements]
    # THEN the title is words, not letters, and the body's words are words too, apart from the title
    assert texts[0] == "Row and Column Access Control Support"
    assert " ".join(texts[1:]) == "Kent Milligan wrote this paper with the help of the DB2 for i Center of Excellence."
