"""JSON and NDJSON (JSON Lines): every text value with the path of keys that leads to it.

A value reads ``customer.address.city: Rotterdam``; list items carry their index
(``shipments[2].origin: Chicago``), so a chunk still says what a value is. Each member of the root
(a key of the root object, an item of the root list) is one paragraph. Numbers and booleans are
kept beside their key too (an amount is a value a reader looks for); nulls and empty strings are
dropped. Each top-level object of an NDJSON file is one paragraph, its line number first.

Lenient: a file that does not parse as JSON (a log with one broken line, a ``.json`` that is really
prose) is not refused: NDJSON keeps the lines that parse and reads the others as text, and a JSON
document that does not parse at all is read as the text it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from docflow.core.errors import PermanentError
from tasks.steps.extract.shaping import decode_text, paragraph_elements
from tasks.steps.extract.types import Collector, ExtractContext, Extraction

__all__ = ["extract_json", "extract_ndjson", "json_lines"]

# JSON nested deeper than this is machine-made noise (and recursion would run out first).
_MAX_DEPTH = 64


def extract_json(path: Path, ctx: ExtractContext) -> Extraction:
    text = _read(path, ctx)
    out = Collector(ctx.limits)
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        paragraph_elements(text, page=1, out=out)  # not JSON after all: its text is still worth reading
        return Extraction("json", 1, out.elements, ocr_pages=0, text_pages=1)
    # One paragraph per top-level member (a key of the root object, an item of the root list).
    members = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else None
    if members is None:
        out.add("\n".join(json_lines(value)), "NarrativeText", 1)
    for key, item in members or ():
        where = f"[{key}]" if isinstance(key, int) else str(key)
        out.add("\n".join(json_lines(item, where)), "NarrativeText", 1)
    return Extraction("json", 1, out.elements, ocr_pages=0, text_pages=1)


def extract_ndjson(path: Path, ctx: ExtractContext) -> Extraction:
    out = Collector(ctx.limits)
    for number, line in enumerate(_read(path, ctx).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            lines = list(json_lines(json.loads(line)))
        except (json.JSONDecodeError, RecursionError):
            lines = [line.strip()]
        if lines:
            out.add(f"Record {number}\n" + "\n".join(lines), "NarrativeText", 1)
    return Extraction("ndjson", 1, out.elements, ocr_pages=0, text_pages=1)


def json_lines(value: Any, path: str = "", depth: int = 0) -> Iterator[str]:
    """``key.path: value`` for every scalar under ``value``, in document order."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from json_lines(item, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from json_lines(item, f"{path}[{index}]", depth + 1)
    elif value is not None and value != "":
        text = " ".join(str(value).split()) if isinstance(value, str) else json.dumps(value)
        if text:
            yield f"{path}: {text}" if path else text


def _read(path: Path, ctx: ExtractContext) -> str:
    text = decode_text(path.read_bytes())
    if len(text) > 4 * ctx.limits.max_text_chars:  # keys and quotes can be 3x the values, hardly more
        raise PermanentError(
            f"too much text: more than {ctx.limits.max_text_chars:,} characters extracted, over the limit"
        )
    return text
