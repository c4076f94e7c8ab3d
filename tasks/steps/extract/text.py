"""Plain-text extractor (an HTML document saved as text is reduced to its visible text)."""

from __future__ import annotations

import re
from pathlib import Path

from docflow.core.errors import PermanentError
from tasks.steps.extract.charsets import decode_any
from tasks.steps.extract.shaping import html_to_text, paragraph_elements
from tasks.steps.extract.types import Collector, ExtractContext, Extraction

__all__ = ["extract"]


def extract(path: Path, ctx: ExtractContext) -> Extraction:
    limits = ctx.limits
    text = decode_any(path.read_bytes())
    # Elements keep every non-space character, so this count is a lower bound on their size:
    # refusing here spares building paragraphs for a file that must fail anyway.
    visible = len(text) - sum(text.count(ws) for ws in " \t\n\r\f\v")
    if visible > limits.max_text_chars:
        raise PermanentError(f"too much text: more than {limits.max_text_chars:,} characters extracted, over the limit")
    out = Collector(limits)
    if re.match(r"\s*<(?:!doctype\s+html|html[\s>])", text[:1024], re.IGNORECASE):
        text = html_to_text(text)
    paragraph_elements(text, page=1, out=out)
    return Extraction("txt", 1, out.elements, ocr_pages=0, text_pages=1)
