"""The last reader of a Word, PowerPoint or Excel package: every run of text in its XML parts.

The structured readers follow the document's main flow: python-docx reads the body's paragraphs
and tables, python-pptx the slides' shapes, openpyxl the cells. Text elsewhere is real text a
person sees in Word or PowerPoint: headers and footers, text boxes, SmartArt, chart titles and
labels, a master slide's words, a text box drawn over a sheet. When the structured reader finds no
text at all, this reader takes every text run (``<w:t>``, ``<a:t>``, a cell's inline string) of the
package's content parts, paragraph by paragraph, so a document whose only words are in those places
is read instead of ending "no text". Parsed with lxml's recovering parser, part by part, within the
text limit; styles, themes, settings and fonts are not content.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from docflow.core.errors import PermanentError
from tasks.steps.extract.types import Collector, ExtractContext, Extraction

__all__ = ["package_text"]

_CONTENT = re.compile(
    r"(?:word/(?:document|header\d*|footer\d*|footnotes|endnotes|comments|charts/chart\d+|diagrams/data\d+)"
    r"|ppt/(?:slides/slide\d+|slideLayouts/slideLayout\d+|notesSlides/notesSlide\d+|diagrams/data\d+|charts/chart\d+|slideMasters/slideMaster\d+)"
    r"|xl/(?:drawings/drawing\d+|charts/chart\d+|diagrams/data\d+|sharedStrings|comments\d*))\.xml"
)
_PARAGRAPH = {"p", "si", "title"}  # w:p, a:p; a shared string; a chart title
_TEXT = {"t"}  # w:t, a:t, the t of a shared string
_MAX_PART_BYTES = 64 * 1024 * 1024


def package_text(path: Path, ctx: ExtractContext, *, file_type: str, noun: str) -> Extraction:
    """Every paragraph of text in the package's content parts, on page 1 (slides: their page)."""
    from lxml import etree

    out = Collector(ctx.limits)
    pages = 1
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PermanentError(f"corrupt {noun}: not a valid zip file") from exc
    with archive:
        parts = sorted((i for i in archive.infolist() if _CONTENT.fullmatch(i.filename)), key=_part_order)
        # An "altChunk": a Word file whose body is an HTML page it carries (Word shows the page).
        for info in archive.infolist():
            if re.fullmatch(r"word/[^/]+\.x?html?", info.filename) and info.file_size <= _MAX_PART_BYTES:
                from tasks.steps.extract.charsets import decode_any
                from tasks.steps.extract.shaping import html_to_text, paragraph_elements

                paragraph_elements(html_to_text(decode_any(archive.read(info))), page=1, out=out)
        for info in parts:
            if info.file_size > _MAX_PART_BYTES:
                continue
            slide = re.fullmatch(r"ppt/slides/slide(\d+)\.xml", info.filename)
            page = int(slide.group(1)) if slide else 1
            pages = max(pages, page)
            try:
                root = etree.fromstring(
                    archive.read(info), etree.XMLParser(recover=True, resolve_entities=False, huge_tree=False)
                )
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, etree.XMLSyntaxError):
                continue
            if root is None:
                continue
            # Each run belongs to its nearest paragraph: a text box's paragraphs sit inside another's.
            if "slideMaster" in info.filename or "slideLayout" in info.filename:  # placeholders there: prompts
                for shape in [sp for sp in root.iter("{*}sp") if sp.find(".//{*}ph") is not None]:
                    shape.getparent().remove(shape)
            paragraphs: dict[object, list[str]] = {}  # keyed by the element: held, so never a reused id
            for node in root.iter():
                if not isinstance(node.tag, str) or etree.QName(node).localname not in _TEXT:
                    continue
                owner = node.getparent()
                while owner is not None and etree.QName(owner).localname not in _PARAGRAPH:
                    owner = owner.getparent()
                paragraphs.setdefault(owner, []).append(node.text or "")
            for runs in paragraphs.values():
                out.add(" ".join("".join(runs).split()), "NarrativeText", page)
    out.elements.sort(key=lambda element: element.page)
    return Extraction(file_type, pages, out.elements, ocr_pages=0, text_pages=pages)


def _part_order(info: zipfile.ZipInfo) -> tuple[str, int]:
    number = re.search(r"(\d+)\.xml$", info.filename)
    return (re.sub(r"\d+\.xml$", "", info.filename), int(number.group(1)) if number else 0)
