"""Deterministic samples of the formats docflow reads through unstructured, good and hostile.

Built by code at test time, like :mod:`docflow.samples`, and naming the same people, organisations,
places, dates and amounts. :data:`FORMAT_FACTS` lists what a correct extraction finds in each;
spreadsheet-like samples list ``rows``: table rows as they must read (cells joined by " | ").
Legacy .doc/.ppt/.xls are converted from the new-format samples by LibreOffice, so they are only
written where ``soffice`` is installed (and are not byte-identical from run to run).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from docflow.sample_cfb import outlook_message
from docflow.sample_hostile import hostile_format_samples
from docflow.sample_packages import epub_book, odt_document
from docflow.samples import _attachment_pdf, _board_minutes_docx, _exe_stub, normalise_zip

__all__ = ["FORMAT_FACTS", "LEGACY_SAMPLES", "write_format_samples", "write_hostile_format_samples"]

Table = list[tuple[str, ...]]

_PEOPLE = {"Maria Gonzalez", "Daniel Okafor", "Kenji Tanaka", "Sarah Whitfield"}
_ORGS = ("Acme Logistics Inc.", "Northwind Bank", "Globex Holdings Ltd.")
_LEDGER: Table = [
    ("Container", "Origin", "Destination", "Departure", "Amount"),
    ("C-101", "Rotterdam", "Chicago", "March 10, 2025", "$12,500"),
    ("C-102", "Rotterdam", "Nairobi", "April 14, 2025", "$4,800"),
]
_CONTACTS: Table = [
    ("Name", "Organisation", "City"),
    ("Maria Gonzalez", "Acme Logistics Inc.", "Chicago"),
    ("Daniel Okafor", "Globex Holdings Ltd.", "Nairobi"),
    ("Sarah Whitfield", "Northwind Bank", "Rotterdam"),
]
_BUDGET: Table = [("Item", "Owner", "Amount"), ("Container advance", "Northwind Bank", "$12,500")]
_BUDGET.append(("Audit fee", "Globex Holdings Ltd.", "$4,800"))
_AGREEMENT = (
    "Maria Gonzalez of Acme Logistics Inc. signed the freight financing agreement with Northwind Bank "
    "on March 3, 2025. Each container that clears customs in Chicago earns an advance of $12,500."
)
_AUDIT = (
    "Daniel Okafor of Globex Holdings Ltd. will audit the first shipments in Nairobi on April 14, 2025. "
    "The audit fee is $4,800, payable to Globex Holdings Ltd."
)
_NOTES = "Kenji Tanaka coordinates the containers leaving Rotterdam for Chicago."


def _rows(table: Table) -> list[str]:
    return [" | ".join(row) for row in table]


def _facts(file_type: str, pages: int, text: str, **extra: object) -> dict:
    return {
        "file_type": file_type,
        "page_count": pages,
        "people": sorted(p for p in _PEOPLE if p in text),
        "organizations": [o for o in _ORGS if o in text],
        "places": [p for p in ("Rotterdam", "Chicago", "Nairobi") if p in text],
        "dates": [d for d in ("March 3, 2025", "March 10, 2025", "April 14, 2025") if d in text],
        "amounts": [a for a in ("$12,500", "$4,800") if a in text],
        **extra,
    }


_ALL = f"{_AGREEMENT} {_AUDIT} {_NOTES}"
FORMAT_FACTS: dict[str, dict] = {
    "freight_review.pptx": _facts("pptx", 3, _ALL, rows=_rows(_BUDGET), page_of={"Budget": 3, _NOTES: 2}),
    "shipment_ledger.xlsx": _facts("xlsx", 2, str(_LEDGER + _CONTACTS), rows=_rows(_LEDGER + _CONTACTS[1:])),
    "shipment_ledger.csv": _facts("csv", 1, str(_LEDGER), rows=_rows(_LEDGER)),
    "audit_contacts.tsv": _facts("tsv", 1, str(_CONTACTS), rows=_rows(_CONTACTS)),
    "audit_plan.odt": _facts("odt", 1, f"{_AUDIT} {_NOTES}", rows=_rows(_BUDGET)),
    "partner_update.html": _facts("html", 1, f"{_AGREEMENT} {_AUDIT}", rows=_rows(_BUDGET), absent=["hidden()"]),
    "customs_manifest.xml": _facts("xml", 1, str(_LEDGER + _CONTACTS)),
    "meeting_notes.md": _facts("md", 1, f"{_AGREEMENT} {_NOTES}", rows=_rows(_BUDGET)),
    "engagement_letter.rtf": _facts("rtf", 1, f"{_AUDIT} Sarah Whitfield Northwind Bank"),
    "freight_handbook.epub": _facts("epub", 1, f"{_AGREEMENT} {_AUDIT}"),
    # The message, then its PDF attachment (one page) and its CSV attachment (one page).
    "partner_message.msg": _facts(
        "msg", 3, f"{_AGREEMENT} {_NOTES} Kenji Tanaka Daniel Okafor", attachments=["schedule.pdf", "ledger.csv"]
    ),
    "board_minutes.doc": _facts(
        "doc", 1, "Maria Gonzalez Kenji Tanaka Daniel Okafor Acme Logistics Inc. Chicago", rows=_rows(_BUDGET)
    ),
    "freight_review.ppt": _facts("ppt", 3, _ALL, rows=_rows(_BUDGET)),
    "shipment_ledger.xls": _facts("xls", 2, str(_LEDGER + _CONTACTS), rows=_rows(_LEDGER + _CONTACTS[1:])),
}
# Converted by LibreOffice from (source sample, target format).
LEGACY_SAMPLES = {
    "board_minutes.doc": ("board_minutes.docx", "doc"),
    "freight_review.ppt": ("freight_review.pptx", "ppt"),
    "shipment_ledger.xls": ("shipment_ledger.xlsx", "xls"),
}


# --- writers ----------------------------------------------------------------------------------------


def write_format_samples(*, directory: Path, legacy: bool | None = None) -> dict[str, Path]:
    """Write the good samples into ``directory``; return ``{name: path}``.

    ``legacy``: also convert the .doc/.ppt/.xls samples (None: when ``soffice`` is on PATH).
    """
    directory.mkdir(parents=True, exist_ok=True)
    writers: dict[str, Callable[[], bytes]] = {
        "freight_review.pptx": _pptx,
        "shipment_ledger.xlsx": _xlsx,
        "shipment_ledger.csv": lambda: _delimited(_LEDGER, ","),
        "audit_contacts.tsv": lambda: _delimited(_CONTACTS, "\t"),
        "audit_plan.odt": _odt,
        "partner_update.html": lambda: _html().encode(),
        "customs_manifest.xml": _xml,
        "meeting_notes.md": _markdown,
        "engagement_letter.rtf": _rtf,
        "freight_handbook.epub": _epub,
        "partner_message.msg": _msg,
    }
    paths = {}
    for name, writer in writers.items():
        paths[name] = directory / name
        paths[name].write_bytes(writer())
    if legacy or (legacy is None and shutil.which("soffice")):
        (directory / "board_minutes.docx").write_bytes(_minutes_for_doc())
        for name, (source, target) in LEGACY_SAMPLES.items():
            paths[name] = _soffice_convert(directory / source, target, directory)
    return paths


def _minutes_for_doc() -> bytes:
    """The board minutes .docx with a closing line: LibreOffice drops a table that ends a .doc."""
    import docx

    document = docx.Document(io.BytesIO(_board_minutes_docx()))
    document.add_paragraph("Minutes recorded by Kenji Tanaka.")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _soffice_convert(source: Path, target: str, directory: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="docflow-samples-") as profile:
        subprocess.run(
            ["soffice", "--headless", "--norestore", f"-env:UserInstallation={Path(profile).as_uri()}",
             "--convert-to", target, "--outdir", str(directory), str(source)],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    return directory / f"{source.stem}.{target}"


def _pptx() -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    title = deck.slides.add_slide(deck.slide_layouts[0])
    title.shapes.title.text = "Freight Review 2025"
    title.placeholders[1].text = "Acme Logistics Inc. and Northwind Bank"
    agreement = deck.slides.add_slide(deck.slide_layouts[1])
    agreement.shapes.title.text = "Rotterdam to Chicago"
    agreement.placeholders[1].text = "\n".join([_AGREEMENT, _AUDIT])
    agreement.notes_slide.notes_text_frame.text = _NOTES
    budget = deck.slides.add_slide(deck.slide_layouts[5])
    budget.shapes.title.text = "Budget"
    table = budget.shapes.add_table(len(_BUDGET), 3, Inches(0.5), Inches(2), Inches(9), Inches(1.5)).table
    for r, row in enumerate(_BUDGET):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    deck.core_properties.created = deck.core_properties.modified = datetime(2025, 3, 3, 9, 15)
    deck.core_properties.last_modified_by = deck.core_properties.author = "docflow samples"
    buf = io.BytesIO()
    deck.save(buf)
    return normalise_zip(buf.getvalue())


def _xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    book = Workbook()
    book.active.title = "Shipments"
    for row in _LEDGER:
        book.active.append(row)
    contacts = book.create_sheet("Contacts")
    for row in _CONTACTS:
        contacts.append(row)
    book.properties.created = book.properties.modified = datetime(2025, 3, 3, 9, 15)
    buf = io.BytesIO()
    # ExcelWriter directly: Workbook.save stamps "modified" with the wall clock.
    ExcelWriter(book, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)).save()
    return normalise_zip(buf.getvalue())


def _delimited(table: Table, sep: str) -> bytes:
    quote = (lambda v: f'"{v}"' if sep in v else v) if sep == "," else (lambda v: v)
    return "".join(sep.join(quote(v) for v in row) + "\r\n" for row in table).encode()


def _odt() -> bytes:
    return odt_document(title="Audit Plan", paragraphs=[_AUDIT, _NOTES], table=_BUDGET)


def _html_table(table: Table) -> str:
    head, *body = table
    header = "".join(f"<th>{v}</th>" for v in head)
    return (
        f"<table><tr>{header}</tr>"
        + "".join("<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>" for r in body)
        + "</table>"
    )


def _html() -> str:
    return (
        "<!DOCTYPE html>\n<html><head><title>Partner update</title><style>td { padding: 2px }</style>"
        "<script>hidden()</script></head><body><h1>Partner Update</h1>"
        f"<p>{_AGREEMENT}</p><ul><li>{_AUDIT}</li></ul><h2>Budget</h2>{_html_table(_BUDGET)}"
        "<p>Questions go to Acme Logistics Inc. in Chicago.</p></body></html>\n"
    )


def _xml() -> bytes:
    items = "".join(
        f'<shipment id="{c}"><origin>{o}</origin><destination>{d}</destination><departure>{t}</departure>'
        f"<amount>{a}</amount></shipment>"
        for c, o, d, t, a in _LEDGER[1:]
    )
    parties = "".join(
        f"<party><name>{n}</name><organisation>{o}</organisation><city>{c}</city></party>" for n, o, c in _CONTACTS[1:]
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<manifest>{items}{parties}</manifest>\n'.encode()


def _markdown() -> bytes:
    table = "\n".join("| " + " | ".join(row) + " |" for row in _BUDGET[:1] + [("---",) * 3] + _BUDGET[1:])
    return f"# Meeting Notes\n\n{_AGREEMENT}\n\n## Actions\n\n- {_NOTES}\n- Send the ledger to Northwind Bank.\n\n## Budget\n\n{table}\n".encode()


def _rtf() -> bytes:
    letter = [
        "Globex Holdings Ltd., Kenyatta Avenue, Nairobi",
        "Dear Sarah Whitfield,",
        _AUDIT,
        "We will send the findings to Northwind Bank and to Acme Logistics Inc. in Chicago before the end of May.",
        "Sincerely, Daniel Okafor",
    ]
    body = "".join(f"\\pard {line}\\par\n" for line in letter)
    return (
        "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Times New Roman;}}\n{\\pard\\b Engagement Letter\\b0\\par}\n"
        + body
        + "}\n"
    ).encode()


def _epub() -> bytes:
    return epub_book(title="Freight Handbook", chapters=[("Financing", _AGREEMENT), ("Audit", _AUDIT)])


def _msg() -> bytes:
    return outlook_message(
        sender=("Maria Gonzalez", "maria.gonzalez@acme-logistics.example"),
        to=[("Daniel Okafor", "daniel.okafor@globex.example")],
        cc=[("Kenji Tanaka", "kenji.tanaka@acme-logistics.example")],
        subject="Rotterdam shipment schedule",
        sent=datetime(2025, 3, 3, 9, 15, tzinfo=UTC),
        body=f"Dear Daniel Okafor,\r\n\r\n{_AGREEMENT}\r\n\r\n{_NOTES}\r\n\r\nBest regards,\r\nMaria Gonzalez\r\n",
        attachments=[
            ("schedule.pdf", "application/pdf", _attachment_pdf()),
            ("ledger.csv", "text/csv", _delimited(_LEDGER, ",")),
        ],
    )


# --- hostile ----------------------------------------------------------------------------------------


def write_hostile_format_samples(*, directory: Path) -> dict[str, tuple[Path, str]]:
    """Write inputs that must end in a clean PermanentError; return ``{name: (path, regex)}``.

    The regex matches the message that detecting the file (head and name) and then extracting
    it as the detected type must raise.
    """
    directory.mkdir(parents=True, exist_ok=True)
    good = {name: writer() for name, writer in (("pptx", _pptx), ("xlsx", _xlsx), ("odt", _odt), ("epub", _epub))}
    good["msg"] = _msg()
    good["docx"] = _board_minutes_docx()
    good["exe"] = _exe_stub()
    out = {}
    for name, (data, pattern) in hostile_format_samples(good).items():
        path = directory / name
        path.write_bytes(data)
        out[name] = (path, pattern)
    return out
