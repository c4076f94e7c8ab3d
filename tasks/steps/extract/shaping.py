"""Shared text shaping: decoding, HTML to text, paragraphs and their kinds."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from html.parser import HTMLParser

from tasks.steps.extract.types import Collector

__all__ = [
    "BULLET",
    "SHORT_LINE",
    "classify",
    "decode_text",
    "html_to_text",
    "join_lines",
    "ocr_paragraphs",
    "paragraph_elements",
]

BULLET = re.compile(r"^\s*(?:[\u2022\u25e6\u25aa\u2023\u2043\u00b7*\u2013-])\s+")
_TERMINAL = tuple(".!?:;,")

# A line shorter than this share of the page's longest line ended before the margin: whatever
# follows it (an address line, a signature, a new paragraph) is not a layout wrap.
SHORT_LINE = 0.6


def join_lines(lines: Iterable[str]) -> str:
    """Join layout-wrapped lines into one paragraph, undoing end-of-line hyphenation."""
    out = ""
    for line in lines:
        line = " ".join(line.split())
        if not line:
            continue
        if out.endswith(("-", "\u00ad")) and line[:1].islower() and out[-2:-1].isalpha():
            out = out[:-1] + line
        else:
            out = f"{out} {line}" if out else line
    return out


def classify(text: str, *, first_on_page: bool, single_line: bool) -> str:
    """The kind of one paragraph: "ListItem", "Title" or "NarrativeText"."""
    if BULLET.match(text):
        return "ListItem"
    # A short, unpunctuated opening line is a heading far more often than it is prose.
    if first_on_page and single_line and len(text.split()) <= 10 and not text.endswith(_TERMINAL):
        return "Title"
    return "NarrativeText"


def paragraph_elements(text: str, *, page: int, out: Collector) -> None:
    """Split plain text into paragraphs and classify each.

    Paragraphs end at blank lines, before bulleted lines and after lines too short to have been
    wrapped by layout; the remaining line breaks are joined as wraps.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    longest = max((len(line.strip()) for line in text.split("\n")), default=0)
    groups: list[list[str]] = []
    for block in re.split(r"\n[ \t]*\n", text):
        group: list[str] = []
        for line in block.split("\n"):
            if not line.strip():
                continue
            if group and (BULLET.match(line) or len(group[-1].strip()) < SHORT_LINE * longest):
                groups.append(group)
                group = []
            group.append(line)
        if group:
            groups.append(group)
    for index, group in enumerate(groups):
        _emit(group, page=page, first=index == 0, out=out)


def _emit(lines: list[str], *, page: int, first: bool, out: Collector) -> None:
    text = join_lines(lines)
    kind = classify(text, first_on_page=first, single_line=len(lines) == 1)
    out.add(BULLET.sub("", text) if kind == "ListItem" else text, kind, page)


def ocr_paragraphs(text: str) -> str:
    # Tesseract separates blocks with blank lines; stray form feeds end its pages.
    return text.replace("\f", "")


def decode_text(data: bytes) -> str:
    """Decode bytes of unknown encoding: BOM, then UTF-8, then cp1252, then Latin-1 (total)."""
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            text = data.decode(codec, errors="replace")
            break
    else:
        for codec in ("utf-8", "cp1252", "latin-1"):
            try:
                text = data.decode(codec)
                break
            except UnicodeDecodeError:
                continue
    # NULs come from BOM-less UTF-16 and binary junk; nothing downstream wants them.
    return text.replace("\x00", "")


class _HTMLText(HTMLParser):
    _BLOCK = {
        "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
        "blockquote", "pre", "section", "article", "header", "footer", "hr", "title",
    }  # fmt: skip
    _SKIP = {"script", "style", "head", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n\n- ")
        elif tag in self._BLOCK:
            self.parts.append("\n\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def html_to_text(markup: str) -> str:
    """Visible text of an HTML document, with blank lines between blocks."""
    parser = _HTMLText()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # html.parser's reaction to some broken markup
        pass
    # Entities are already decoded (convert_charrefs); unescaping again would corrupt "&amp;lt;".
    return re.sub(r"\n[ \t]+", "\n", "".join(parser.parts))
