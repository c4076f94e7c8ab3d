"""Hand-written OpenDocument text and EPUB packages for :mod:`docflow.sample_formats`.

No dependency writes either format; both are small zips of XML whose rules (a stored
``mimetype`` entry first, fixed timestamps for reproducibility) are easy to follow directly.
"""

from __future__ import annotations

import io
import zipfile
from html import escape

__all__ = ["epub_book", "odt_document", "zip_package"]

_ODF = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
)


def zip_package(entries: list[tuple[str, bytes]]) -> bytes:
    """A zip with fixed timestamps; an entry named "mimetype" is stored, as ODF and EPUB require."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buf.getvalue()


def odt_document(*, title: str, paragraphs: list[str], table: list[tuple[str, ...]]) -> bytes:
    """An .odt: a heading, paragraphs, then a table."""
    rows = "".join(
        "<table:table-row>"
        + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{escape(v)}</text:p></table:table-cell>' for v in row
        )
        + "</table:table-row>"
        for row in table
    )
    body = "".join(f"<text:p>{escape(p)}</text:p>" for p in paragraphs)
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF} office:version="1.2">'
        f'<office:body><office:text><text:h text:outline-level="1">{escape(title)}</text:h>{body}'
        f'<table:table table:name="Table1"><table:table-column table:number-columns-repeated="{len(table[0])}"/>'
        f"{rows}</table:table></office:text></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    # pandoc refuses an .odt without styles.xml, though the format makes it optional.
    styles = f'<?xml version="1.0"?><office:document-styles {_ODF}><office:styles/></office:document-styles>'
    return zip_package(
        [
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", content.encode()),
            ("styles.xml", styles.encode()),
            ("META-INF/manifest.xml", manifest.encode()),
        ]
    )


def epub_book(*, title: str, chapters: list[tuple[str, str]]) -> bytes:
    """An EPUB 3 book: one XHTML page per (heading, paragraph) chapter, and its navigation page."""

    def page(heading: str, body: str) -> bytes:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml" '
            'xmlns:epub="http://www.idpf.org/2007/ops">'
            f"<head><title>{escape(heading)}</title></head><body>{body}</body></html>"
        ).encode()

    names = [f"c{number}.xhtml" for number in range(1, len(chapters) + 1)]
    container = (
        '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>"
    )
    items = "".join(
        f'<item id="c{n}" href="{name}" media-type="application/xhtml+xml"/>' for n, name in enumerate(names)
    )
    spine = "".join(f'<itemref idref="c{n}"/>' for n in range(len(names)))
    opf = (
        '<?xml version="1.0" encoding="UTF-8"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
        'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:identifier id="id">docflow-sample</dc:identifier><dc:title>{escape(title)}</dc:title>'
        '<dc:language>en</dc:language></metadata><manifest><item id="nav" href="nav.xhtml" '
        f'media-type="application/xhtml+xml" properties="nav"/>{items}</manifest><spine>{spine}</spine></package>'
    )
    links = "".join(f'<li><a href="{name}">{escape(h)}</a></li>' for name, (h, _) in zip(names, chapters, strict=True))
    entries = [
        ("mimetype", b"application/epub+zip"),
        ("META-INF/container.xml", container.encode()),
        ("OEBPS/content.opf", opf.encode()),
        ("OEBPS/nav.xhtml", page("Contents", f'<nav epub:type="toc"><ol>{links}</ol></nav>')),
    ]
    entries += [
        (f"OEBPS/{name}", page(h, f"<h1>{escape(h)}</h1><p>{escape(p)}</p>"))
        for name, (h, p) in zip(names, chapters, strict=True)
    ]
    return zip_package(entries)
