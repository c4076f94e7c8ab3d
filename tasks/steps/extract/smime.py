"""S/MIME and PKCS #7 files (.p7m, .p7s): the signed content read, the signature recorded.

A signed-only ``.p7m`` carries its content inside the signature structure (CMS ``SignedData``): that
content, usually a MIME message, is read like an ``.eml`` (or as whatever document it is: a signed
XML invoice is XML), after one line that records the signature (who signed, when; docflow does
not verify it). What cannot be read says so plainly: an encrypted ``.p7m`` (``EnvelopedData``) is
encrypted for its recipients' keys; a ``.p7s`` alone is a detached signature whose message travels
beside it; a ``.p7c``/``.p7b`` holds certificates and no document. Parsed by asn1crypto (pure
Python, no OpenSSL), within the file-size limit.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from docflow.core.errors import PermanentError
from docflow.core.filetypes import HEAD_BYTES, detect_file_type
from tasks.steps.extract.types import Collector, ExtractContext, Extraction

__all__ = ["extract"]

_MIME_ENTITY = re.compile(rb"\s*(?:content-type|mime-version|content-transfer-encoding)\s*:", re.IGNORECASE)
_ENCRYPTED = {"enveloped_data", "encrypted_data", "authenticated_enveloped_data"}


def extract(path: Path, ctx: ExtractContext) -> Extraction:
    from asn1crypto import cms  # here: only PKCS #7 files need it

    try:
        info = cms.ContentInfo.load(path.read_bytes())
        kind = info["content_type"].native
        signed = info["content"] if kind == "signed_data" else None
        content = signed["encap_content_info"]["content"].native if signed is not None else None
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        if _is_key_store(path.read_bytes()):
            raise PermanentError(
                "unsupported file type: looks like a PKCS #12 key store (certificates and keys), not a message"
            ) from None
        raise PermanentError(f"corrupt S/MIME message: the PKCS #7 structure cannot be read ({exc})") from exc
    if kind in _ENCRYPTED:
        raise PermanentError(
            "encrypted S/MIME message: its content is encrypted for its recipients' keys, which docflow does not hold"
        )
    if kind != "signed_data" or signed is None:
        raise PermanentError(
            f"unsupported file type: looks like a PKCS #7 structure of a kind docflow does not read ({kind})"
        )
    signers = list(signed["signer_infos"])
    if not content:
        if not signers:
            raise PermanentError(
                "unsupported file type: looks like a certificate bundle (.p7c/.p7b): it holds no document"
            )
        raise PermanentError(
            "detached S/MIME signature (.p7s): it holds only the signature of a message that travels beside it, no content"
        )
    out = Collector(ctx.limits)
    out.add(_signature_line(signed, signers), "EmailHeader", 1)
    with tempfile.TemporaryDirectory(prefix="docflow-p7m-") as tmp:
        inner = Path(tmp) / "content"
        inner.write_bytes(content)
        file_type = (
            "eml"
            if _MIME_ENTITY.match(content[:200])
            else detect_file_type(data_head=content[:HEAD_BYTES], filename="")[0]
        )
        nested = ctx.child(ctx.limits).extract(inner, file_type)
    out.extend(nested.elements)
    return Extraction("p7m", nested.page_count, out.elements, ocr_pages=nested.ocr_pages, text_pages=nested.text_pages)


def _signature_line(signed: Any, signers: list[Any]) -> str:
    """ "Signed (S/MIME, not verified) by <subject> on <time>" for each signer that names itself."""
    certificates = {}
    for choice in signed["certificates"] or []:
        if choice.name == "certificate":
            certificate = choice.chosen
            certificates[(certificate.issuer.dump(), certificate.serial_number)] = certificate
    names = []
    for signer in signers:
        who = signer["sid"]
        certificate = None
        if who.name == "issuer_and_serial_number":
            key = (who.chosen["issuer"].dump(), who.chosen["serial_number"].native)
            certificate = certificates.get(key)
        subject = certificate.subject.human_friendly if certificate is not None else "an unnamed signer"
        when = next(
            (
                attribute["values"][0].native
                for attribute in signer["signed_attrs"] or []
                if attribute["type"].native == "signing_time"
            ),
            None,
        )
        names.append(f"{subject}{f' on {when:%Y-%m-%d %H:%M} UTC' if when else ''}")
    return "Signed (S/MIME signature, not verified) by " + "; ".join(names)


def _is_key_store(data: bytes) -> bool:
    """A .p12/.pfx file: a PKCS #12 PFX (version 3) wraps a PKCS #7 structure, so it sniffs like one."""
    from asn1crypto import pkcs12

    try:
        pfx = pkcs12.Pfx.load(data)
        return bool(pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native)
    except (ValueError, TypeError, KeyError, OverflowError):
        return False
