"""E-mail (.eml) extractor: headers, the body, then each attachment extracted in turn.

Attachments go back through the registry via :meth:`ExtractContext.extract`, so this module
never imports the registry (which imports this module lazily). Pictures shown in the body (the
images of a ``multipart/related`` body) are OCR'd onto the body's page when large enough to hold
text (:mod:`~tasks.steps.extract.pictures`); logos and icons are skipped by size.
"""

from __future__ import annotations

import email
import email.policy
import tempfile
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from docflow.core.errors import PermanentError
from tasks.steps.extract.attachments import Attachments, extract_bytes, sanitise_filename
from tasks.steps.extract.pictures import MAX_PICTURES, image_text
from tasks.steps.extract.shaping import decode_text, html_to_text, paragraph_elements
from tasks.steps.extract.types import Collector, ExtractContext, Extraction, ExtractionLimits

__all__ = ["extract"]

# Real mail nests a handful of multiparts; thousands of levels only exist to exhaust recursion in
# the parser and in every walk over the tree.
_MAX_MIME_DEPTH = 50

_T = TypeVar("_T")
_D = TypeVar("_D")
# The parts' classes follow the parsing policy (always EmailMessage here: policy.default), which the
# e-mail package's type stubs cannot express; parts are typed loosely and checked where it matters.
Part = Any


def extract(path: Path, ctx: ExtractContext) -> Extraction:
    too_deep = f"malformed e-mail: MIME parts are nested more than {_MAX_MIME_DEPTH} levels deep"
    with path.open("rb") as fh:
        try:
            message = email.message_from_binary_file(fh, policy=email.policy.default)
        except RecursionError:
            # The stdlib parser recurses once per nesting level (~1000 levels exhaust the stack);
            # the limit below is far lower, so this input is over it too.
            raise PermanentError(too_deep) from None
    # Checked without recursion before get_body/_leaves recurse over the tree.
    stack: list[tuple[Part, int]] = [(message, 0)]
    while stack:
        part, level = stack.pop()
        if level > _MAX_MIME_DEPTH:
            raise PermanentError(too_deep)
        if part.is_multipart():
            payload: list[Part] | Part = _safe(part.get_payload, [])
            stack.extend((sub, level + 1) for sub in payload if isinstance(sub, email.message.Message))
    return _extract_message(message, ctx)


def _extract_message(message: Part, ctx: ExtractContext) -> Extraction:
    limits = ctx.limits
    out = Collector(limits)
    header = "\n".join(
        f"{name}: {value}" for name in ("From", "To", "Cc", "Subject", "Date") if (value := _header(message, name))
    )
    out.add(header, "EmailHeader", 1)

    body = _safe(lambda: message.get_body(preferencelist=("plain", "html")), None)
    if body is not None:
        paragraph_elements(_part_text(body), page=1, out=out)
    for picture in _body_pictures(message)[:MAX_PICTURES]:
        data = _safe(lambda: picture.get_payload(decode=True), None)  # noqa: B023 - called right here
        if isinstance(data, bytes) and data:
            image_text(data, ctx, out, page=1)

    attachments = Attachments(ctx, out)
    with tempfile.TemporaryDirectory(prefix="docflow-eml-") as tmp:
        for number, (part, name) in enumerate(_attachments(message, body), start=1):
            scratch = Path(tmp) / f"part{number}"
            attachments.add(name, partial(_extract_attachment, part, scratch, ctx=ctx))
    return attachments.result("eml")


def _safe(call: Callable[[], _T], default: _D) -> _T | _D:
    """Run one call into the e-mail package, which raises odd errors on malformed messages."""
    try:
        return call()
    except Exception:  # noqa: BLE001 -- library edge: malformed input, never our own bug
        return default


def _header(message: Part, name: str) -> str:
    value = _safe(lambda: message.get(name), None)
    if value is None:
        return ""
    return " ".join(_safe(lambda: str(value), "").split())


def _part_text(part: Part) -> str:
    content = _safe(part.get_content, None)
    if not isinstance(content, str):  # unknown charset or broken transfer encoding
        payload = _safe(lambda: part.get_payload(decode=True), b"")
        content = decode_text(payload if isinstance(payload, bytes) else b"")
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    return content


def _attachments(message: Part, body: Part) -> Iterator[tuple[Part, str]]:
    """Leaf parts that are attachments (not the body or its alternatives), with safe names."""
    number = 0
    for leaf, parent_type in _leaves(message, parent_type=""):
        if leaf is body:
            continue
        filename = _safe(leaf.get_filename, None)
        disposition = _safe(leaf.get_content_disposition, None)
        ctype = leaf.get_content_type()
        inline = not filename and disposition != "attachment"
        if inline and ctype.startswith("text/") and (parent_type == "multipart/alternative" or ctype == "text/html"):
            continue  # another rendering of the body
        if disposition != "attachment" and parent_type == "multipart/related":
            continue  # logos and images embedded in the HTML body, not documents
        number += 1
        if not filename and ctype == "message/rfc822":
            inner = _safe(partial(leaf.get_payload, 0), None)
            subject = _header(inner, "Subject") if isinstance(inner, EmailMessage) else ""
            filename = f"forwarded e-mail {subject!r}" if subject else "forwarded e-mail"
        yield leaf, sanitise_filename(filename, fallback=f"attachment-{number}")


def _body_pictures(message: Part) -> list[Part]:
    """The images a ``multipart/related`` body shows (not attachments: those are pages of their own)."""
    return [
        leaf
        for leaf, parent_type in _leaves(message, parent_type="")
        if parent_type == "multipart/related"
        and leaf.get_content_maintype() == "image"
        and _safe(leaf.get_content_disposition, None) != "attachment"
    ]


def _leaves(part: Part, *, parent_type: str) -> Iterator[tuple[Part, str]]:
    ctype = part.get_content_type()
    if part.is_multipart() and ctype != "message/rfc822":
        for sub in _safe(lambda: list(part.iter_parts()), []):
            yield from _leaves(sub, parent_type=ctype)
    else:  # a forwarded e-mail (message/rfc822) is one attachment, not its parts
        yield part, parent_type


def _extract_attachment(part: Part, scratch: Path, limits: ExtractionLimits, *, ctx: ExtractContext) -> Extraction:
    """Extract one attachment (already admitted by :class:`Attachments`) under ``limits``.

    ``limits`` is what is left of the file's allowance; ``ctx`` is the containing message's.
    """
    if part.get_content_type() == "message/rfc822":
        inner = _safe(lambda: part.get_payload(0), None)
        if not isinstance(inner, EmailMessage):
            raise PermanentError("the attached e-mail could not be parsed")
        return _extract_message(inner, ctx.child(limits))
    data = _safe(lambda: part.get_payload(decode=True), None)
    filename = _safe(part.get_filename, "") or ""
    return extract_bytes(data, filename=filename, scratch=scratch, limits=limits, ctx=ctx)
