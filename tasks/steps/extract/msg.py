"""Outlook .msg extractor: headers, the body, then each attachment, like an .eml.

Read with python-oxmsg (the library under unstructured's ``partition_msg``) directly: it hands over
the attachments' bytes, which then go back through the registry under the same rules and budget as
an e-mail's (:mod:`tasks.steps.extract.attachments`), and no spaCy pass is needed for a message.
"""

from __future__ import annotations

import email.utils
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from docflow.core.errors import PermanentError
from tasks.steps.extract.attachments import Attachments, extract_bytes, sanitise_filename
from tasks.steps.extract.containers import check_ole
from tasks.steps.extract.partitioned import describe
from tasks.steps.extract.shaping import html_to_text, paragraph_elements
from tasks.steps.extract.types import Collector, ExtractContext, Extraction, ExtractionLimits

__all__ = ["extract"]

_NOUN = "Outlook message"
_T = TypeVar("_T")
_D = TypeVar("_D")
# MS-OXMSG recipient types.
_TO, _CC = 1, 2
_PID_RECIPIENT_TYPE = 0x0C15
_PID_ATTACH_METHOD = 0x3705
_ATTACH_BY_VALUE = 1


def extract(path: Path, ctx: ExtractContext) -> Extraction:
    check_ole(path, "msg", noun=_NOUN)  # an Outlook message, not a .doc or .xls named .msg
    try:
        from oxmsg import Message  # the formats extra; imported here so other types never load it
    except ImportError as exc:
        raise PermanentError(
            "unsupported file type: reading this Outlook message needs docflow's 'formats' extra "
            f"(pip install 'docflow[formats]'), which is not installed on this worker ({describe(exc)})"
        ) from exc
    try:
        # oxmsg reads every stream up front, so damage shows here or in the header/body reads.
        message = Message.load(str(path))
        header = _header(message)
        body = _body(message)
        attachments = list(message.attachments)
    except MemoryError:
        raise
    except Exception as exc:  # library edge: olefile/oxmsg raise many kinds on damage
        raise PermanentError(f"corrupt {_NOUN}: {describe(exc)}") from exc
    out = Collector(ctx.limits)
    out.add(header, "EmailHeader", 1)
    paragraph_elements(body, page=1, out=out)
    result = Attachments(ctx, out)
    with tempfile.TemporaryDirectory(prefix="docflow-msg-") as tmp:
        for number, attachment in enumerate(attachments, start=1):
            raw_name = _attribute(attachment, "file_name") or ""
            name = sanitise_filename(raw_name, fallback=f"attachment-{number}")
            scratch = Path(tmp) / f"part{number}"
            result.add(name, partial(_extract_attachment, attachment, raw_name, scratch, ctx=ctx))
    return result.result("msg")


def _extract_attachment(
    attachment: Any, filename: str, scratch: Path, limits: ExtractionLimits, *, ctx: ExtractContext
) -> Extraction:
    method = _safe(lambda: attachment.properties.int_prop_value(_PID_ATTACH_METHOD), None)
    if method is not None and method != _ATTACH_BY_VALUE:
        # Embedded Outlook items and OLE objects keep their content in storages, not in bytes.
        raise PermanentError("embedded Outlook items and linked files are not read")
    data = _attribute(attachment, "file_bytes")
    return extract_bytes(data, filename=filename, scratch=scratch, limits=limits, ctx=ctx)


def _header(message: Any) -> str:
    """From/To/Cc/Subject/Date as in an .eml: the transport headers, else the message's properties."""
    transport = {name.lower(): value for name, value in _safe(lambda: message.message_headers, {}).items()}
    recipients = _safe(lambda: message.recipients, ())
    sent = _safe(lambda: message.sent_date, None)
    values = {
        "From": transport.get("from") or _safe(lambda: message.sender, None),
        "To": transport.get("to") or _people(recipients, _TO),
        "Cc": transport.get("cc") or _people(recipients, _CC),
        "Subject": transport.get("subject") or _safe(lambda: message.subject, None),
        "Date": transport.get("date") or (email.utils.format_datetime(sent) if sent else None),
    }
    return "\n".join(f"{name}: {' '.join(str(value).split())}" for name, value in values.items() if value)


def _people(recipients: tuple[Any, ...], kind: int) -> str:
    people = []
    for recipient in recipients:
        properties = _attribute(recipient, "properties")
        if _safe(partial(properties.int_prop_value, _PID_RECIPIENT_TYPE), None) != kind:
            continue
        name = _attribute(recipient, "name") or ""
        address = _attribute(recipient, "email_address") or ""
        people.append(f"{name} <{address}>" if name and address else name or address)
    return ", ".join(person for person in people if person)


def _body(message: Any) -> str:
    plain = _safe(lambda: message.body, None)
    if plain and plain.strip():
        return str(plain)
    html = _safe(lambda: message.html_body, None)
    return html_to_text(html) if html else ""


def _attribute(obj: Any, name: str) -> Any:
    """``obj.name``, or None when oxmsg cannot read it (its properties are computed on access)."""
    return _safe(partial(getattr, obj, name), None)


def _safe(call: Callable[[], _T], default: _D) -> _T | _D:
    """One property read from oxmsg, which raises odd errors on malformed messages."""
    try:
        return call()
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 -- library edge: malformed input, never our own bug
        return default
