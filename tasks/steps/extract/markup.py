"""Markup and e-book formats: HTML, XML, Markdown, reStructuredText, Org, RTF and EPUB.

HTML is read by docflow's own stdlib converter (shaping's, as for HTML in a .txt or an e-mail),
with tables kept as rows and cells: it measured 29-46x faster than unstructured's ``partition_html``
on pages of 6 KiB to 2.3 MiB, which runs spaCy over every block. That converter follows the tags as
written; where they are broken the way only a browser forgives (a ``<head>`` never closed, so the
page's body would count as head), the page is first rebuilt by html5lib, the WHATWG parsing
algorithm browsers implement, and read again. The others go through unstructured: XML by
``partition_xml``, Markdown by ``partition_md``, reStructuredText, Org, RTF and EPUB by pandoc
(inside pypandoc_binary) and ``partition_html``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from docflow.core.errors import PermanentError
from tasks.steps.extract.charsets import decode_any
from tasks.steps.extract.containers import EPUB, check_zip
from tasks.steps.extract.partitioned import TableRows, collect, partition

# _HTMLText is shaping's HTML-to-text walker: prose here reads exactly as HTML in a .txt or an e-mail does.
from tasks.steps.extract.shaping import _HTMLText, paragraph_elements
from tasks.steps.extract.types import Collector, ExtractContext, Extraction

__all__ = [
    "extract_epub",
    "extract_html",
    "extract_md",
    "extract_org",
    "extract_rst",
    "extract_rtf",
    "extract_xml",
    "html_elements",
    "recover_html",
]


def extract_html(path: Path, ctx: ExtractContext) -> Extraction:
    text = decode_any(path.read_bytes())
    if len(text) > 4 * ctx.limits.max_text_chars:  # markup can be 3x its text, hardly more
        raise PermanentError(
            f"too much text: more than {ctx.limits.max_text_chars:,} characters extracted, over the limit"
        )
    out = Collector(ctx.limits)
    html_elements(text, out=out)
    return Extraction("html", 1, out.elements, ocr_pages=0, text_pages=1)


def extract_xml(path: Path, ctx: ExtractContext) -> Extraction:
    return _partitioned(path, ctx, "xml", "unstructured.partition.xml:partition_xml", "XML document")


def extract_md(path: Path, ctx: ExtractContext) -> Extraction:
    return _partitioned(path, ctx, "md", "unstructured.partition.md:partition_md", "Markdown document")


def extract_rst(path: Path, ctx: ExtractContext) -> Extraction:
    return _partitioned(path, ctx, "rst", "unstructured.partition.rst:partition_rst", "reStructuredText document")


def extract_org(path: Path, ctx: ExtractContext) -> Extraction:
    return _partitioned(path, ctx, "org", "unstructured.partition.org:partition_org", "Org document")


def extract_rtf(path: Path, ctx: ExtractContext) -> Extraction:
    import dataclasses

    from tasks.steps.extract import docx
    from tasks.steps.extract.fallback import first_that_reads, resaved

    def by_pandoc() -> Extraction:
        return _partitioned(path, ctx, "rtf", "unstructured.partition.rtf:partition_rtf", "RTF document")

    def by_libreoffice(converted: Path) -> Extraction:
        return dataclasses.replace(docx.extract(converted, ctx), file_type="rtf")

    # pandoc stops at control words it does not know and drops some text; LibreOffice reads what Word writes.
    return first_that_reads(
        "RTF document",
        [
            ("pandoc", by_pandoc),
            (
                "LibreOffice",
                lambda: resaved(path, target="docx:MS Word 2007 XML", noun="RTF document", read=by_libreoffice),
            ),
        ],
    )


def extract_epub(path: Path, ctx: ExtractContext) -> Extraction:
    check_zip(path, ctx.limits, EPUB)
    return _partitioned(path, ctx, "epub", "unstructured.partition.epub:partition_epub", EPUB.noun)


def _partitioned(path: Path, ctx: ExtractContext, file_type: str, function: str, noun: str) -> Extraction:
    out = Collector(ctx.limits)
    pages = max(collect(partition(function, path, noun=noun), out), 1)
    return Extraction(file_type, pages, out.elements, ocr_pages=0, text_pages=pages)


class _Document(HTMLParser):
    """Splits an HTML document into prose and tables (rows of cells).

    Prose goes through shaping's HTML-to-text walker, so an .html page reads exactly as HTML in a
    .txt or an e-mail body does.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = _HTMLText()
        self.table: TableRows | None = None
        self.blocks: list[tuple[str, str]] = []  # ("text", plain text) | ("table", rows)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HTMLText._SKIP or self.text.skipping:  # scripts, styles and <head> stay unread
            self.text.handle_starttag(tag, attrs)
            return
        if tag == "table" and self.table is None:
            self._flush()
            self.table = TableRows()
        (self.table or self.text).handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HTMLText._SKIP or self.text.skipping:
            self.text.handle_endtag(tag)
            return
        if self.table is None:
            self.text.handle_endtag(tag)
            return
        self.table.handle_endtag(tag)
        if tag == "table" and self.table.depth == 0:
            self.blocks.append(("table", self.table.text()))
            self.table = None

    def handle_data(self, data: str) -> None:
        if not self.text.skipping:
            (self.table or self.text).handle_data(data)

    def finish(self) -> list[tuple[str, str]]:
        if self.table is not None:  # an unclosed table at the end of a truncated page
            self.blocks.append(("table", self.table.text()))
            self.table = None
        self._flush()
        return self.blocks

    def _flush(self) -> None:
        text = re.sub(r"\n[ \t]+", "\n", "".join(self.text.parts))
        self.text.parts.clear()
        if text.strip():
            self.blocks.append(("text", text))


def html_elements(markup: str, *, out: Collector) -> None:
    """Add an HTML document's prose paragraphs and tables to ``out``, in reading order (page 1).

    A page whose head, script or style is never closed (everything after it would be skipped) is
    rebuilt as a browser would (:func:`recover_html`) and read again.
    """
    blocks, unclosed = _blocks(markup)
    if unclosed:
        blocks, _ = _blocks(recover_html(markup))
    for kind, text in blocks:
        if kind == "table":
            out.add(text, "Table", 1)
        else:
            paragraph_elements(text, page=1, out=out)


def _blocks(markup: str) -> tuple[list[tuple[str, str]], bool]:
    """The page's blocks as the stdlib walker reads them, and whether a skipped element was left open."""
    parser = _Document()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # html.parser's reaction to some broken markup
        pass
    return parser.finish(), parser.text.skipping > 0


def recover_html(markup: str) -> str:
    """``markup`` rebuilt by html5lib (the WHATWG algorithm: what a browser makes of broken tags),
    serialised again as well-formed HTML."""
    import html5lib  # here: only broken pages need it

    document = html5lib.parse(markup, treebuilder="etree", namespaceHTMLElements=False)
    walker = html5lib.getTreeWalker("etree")
    return str(html5lib.serializer.HTMLSerializer(omit_optional_tags=False).render(walker(document)))
