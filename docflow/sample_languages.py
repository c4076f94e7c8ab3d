"""Deterministic one-page samples in Spanish, French and German, with their truth.

Like :mod:`docflow.samples`, built by code and byte-identical from run to run (reportlab
``invariant=1``; PIL rendering is deterministic for a given FreeType build), and typeset with the
Vera fonts that ship inside reportlab (no system fonts; Vera has every accented letter used here,
ß and € included). Three kinds of input, one per language:

* ``carta_es.pdf``: a born-digital Spanish business letter (text layer, no OCR);
* ``lettre_fr_scan.png``: a scanned French letter, a 300 dpi grayscale image;
* ``brief_de.pdf``: a scanned German letter, an image-only PDF (one 300 dpi page, no text layer).

:data:`LANGUAGE_SAMPLES` gives, per file name, what a correct pipeline finds: ``language`` (ISO
639-1), ``ocr_languages`` (the tesseract data to read it with), ``kind`` ("born_digital" or
"scan"), ``file_type``, ``text`` (the exact source text, lines joined by newlines), ``people``,
``places``, ``orgs``, ``dates``, ``amounts`` (display names as the text writes them) and
``phrases``: accented passages that the extracted text must contain verbatim once its whitespace
is collapsed to single spaces (OCR breaks lines where the page does).
"""

from __future__ import annotations

import io
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

# The scan renderer of the English samples: same fonts, size and layout, so the two sets of
# scans are read under the same conditions.
from docflow.samples import _SCAN_DPI, _render_scan

__all__ = ["LANGUAGE_SAMPLES", "write_language_samples"]

_A4_INCHES = (8.27, 11.69)

# --- Source text ---------------------------------------------------------------------------------

_CARTA_ES_TITLE = "Compañía Naviera del Sur S.A."
_CARTA_ES_PARAGRAPHS: list[str] = [
    "Avenida de la Constitución 18, 41001 Sevilla",
    "Sevilla, 14 de marzo de 2025",
    "Estimados señores:",
    "Les escribimos para confirmar que la Compañía Naviera del Sur S.A. ha aprobado el contrato de "
    "transporte con Transportes Ibéricos S.L. para la ruta marítima entre Sevilla y Valencia.",
    "El importe total del servicio asciende a 12.500 €, que se abonará en dos plazos iguales. El "
    "primer pago vence el 31 de marzo de 2025 y el segundo, a la entrega del informe final.",
    "Lucía Fernández, directora de operaciones, coordinará la carga en el puerto de Sevilla. Si "
    "tienen alguna pregunta sobre el calendario, no duden en ponerse en contacto con ella.",
    "Atentamente,",
    "José Martínez",
    "Director general, Compañía Naviera del Sur S.A.",
]

_LETTRE_FR_LINES: list[str] = [
    "Société Lyonnaise de Transport SA",
    "12, quai Saint-Antoine, 69002 Lyon",
    "",
    "Lyon, le 3 mars 2025",
    "",
    "Madame, Monsieur,",
    "",
    "Nous avons bien reçu votre commande du 24 février 2025 et nous vous remercions de votre "
    "confiance. La Société Lyonnaise de Transport SA assurera l'acheminement des marchandises de "
    "Lyon à Marseille à partir du 17 mars.",
    "",
    "Le montant total de la prestation est de 8 400 €, payable à trente jours. Les marchandises "
    "seront stockées dans l'entrepôt de Dépôts Méridionaux SARL à Marseille, où Hélène Lefèvre "
    "vérifiera la livraison dès son arrivée.",
    "",
    "Nous restons à votre disposition pour toute question concernant le calendrier.",
    "",
    "Veuillez agréer, Madame, Monsieur, nos salutations distinguées.",
    "",
    "François Dubois",
    "Directeur commercial, Société Lyonnaise de Transport SA",
]

_BRIEF_DE_LINES: list[str] = [
    "Hafenlogistik GmbH",
    "Große Elbstraße 145, 22767 Hamburg",
    "",
    "Hamburg, den 17. März 2025",
    "",
    "Sehr geehrte Damen und Herren,",
    "",
    "wir bestätigen Ihnen gern den Auftrag über die Lagerung von zwölf Containern in unserem "
    "Terminal in Hamburg. Die Hafenlogistik GmbH übernimmt außerdem den Weitertransport nach München.",
    "",
    "Für die gesamte Leistung berechnen wir 7.800 €. Der Betrag ist bis zum 30. April 2025 fällig. "
    "Käthe Groß hat die Zahlung im Namen der Nordsee Spedition KG bereits freigegeben.",
    "",
    "Bei Fragen zur Größe der Lieferung oder zu den Öffnungszeiten erreichen Sie uns jederzeit.",
    "",
    "Mit freundlichen Grüßen",
    "",
    "Jürgen Müller",
    "Geschäftsführer, Hafenlogistik GmbH",
]

LANGUAGE_SAMPLES: dict[str, dict] = {
    "carta_es.pdf": {
        "language": "es",
        "ocr_languages": "spa",
        "kind": "born_digital",
        "file_type": "pdf",
        "text": "\n".join([_CARTA_ES_TITLE, *_CARTA_ES_PARAGRAPHS]),
        "people": ["José Martínez", "Lucía Fernández"],
        "places": ["Sevilla", "Valencia"],
        "orgs": ["Compañía Naviera del Sur S.A.", "Transportes Ibéricos S.L."],
        "dates": ["14 de marzo de 2025", "31 de marzo de 2025"],
        "amounts": ["12.500 €"],
        "phrases": [
            "Compañía Naviera del Sur S.A.",
            "Avenida de la Constitución 18",
            "Transportes Ibéricos S.L.",
            "ruta marítima entre Sevilla y Valencia",
            "asciende a 12.500 €, que se abonará",
            "Lucía Fernández, directora de operaciones, coordinará",
            "José Martínez",
        ],
    },
    "lettre_fr_scan.png": {
        "language": "fr",
        "ocr_languages": "fra",
        "kind": "scan",
        "file_type": "image",
        "text": "\n".join(_LETTRE_FR_LINES),
        "people": ["François Dubois", "Hélène Lefèvre"],
        "places": ["Lyon", "Marseille"],
        "orgs": ["Société Lyonnaise de Transport SA", "Dépôts Méridionaux SARL"],
        "dates": ["3 mars 2025", "24 février 2025"],
        "amounts": ["8 400 €"],
        "phrases": [
            "Société Lyonnaise de Transport SA",
            "Nous avons bien reçu votre commande du 24 février 2025",
            "de Lyon à Marseille à partir du 17 mars",
            "Dépôts Méridionaux SARL",
            "Hélène Lefèvre vérifiera la livraison dès son arrivée",
            "nos salutations distinguées",
            "François Dubois",
        ],
    },
    "brief_de.pdf": {
        "language": "de",
        "ocr_languages": "deu",
        "kind": "scan",
        "file_type": "pdf",
        "text": "\n".join(_BRIEF_DE_LINES),
        "people": ["Jürgen Müller", "Käthe Groß"],
        "places": ["Hamburg", "München"],
        "orgs": ["Hafenlogistik GmbH", "Nordsee Spedition KG"],
        "dates": ["17. März 2025", "30. April 2025"],
        "amounts": ["7.800 €"],
        "phrases": [
            "Große Elbstraße 145",
            "wir bestätigen Ihnen gern den Auftrag über die Lagerung von zwölf Containern",
            "übernimmt außerdem den Weitertransport nach München",
            "Der Betrag ist bis zum 30. April 2025 fällig",
            "Käthe Groß",
            "Bei Fragen zur Größe der Lieferung oder zu den Öffnungszeiten",
            "Mit freundlichen Grüßen",
            "Jürgen Müller",
            "Geschäftsführer",
        ],
    },
}


# --- Writers -------------------------------------------------------------------------------------


def write_language_samples(*, directory: Path) -> dict[str, Path]:
    """Write the three samples into ``directory`` (created if missing); return ``{name: path}``.

    Files are overwritten; the order is that of :data:`LANGUAGE_SAMPLES`, and the same library
    versions give the same bytes on every run.
    """
    directory.mkdir(parents=True, exist_ok=True)
    writers = {
        "carta_es.pdf": _carta_es_pdf,
        "lettre_fr_scan.png": _lettre_fr_png,
        "brief_de.pdf": _brief_de_pdf,
    }
    paths = {}
    for name in LANGUAGE_SAMPLES:
        path = directory / name
        path.write_bytes(writers[name]())
        paths[name] = path
    return paths


def _carta_es_pdf() -> bytes:
    # Helvetica's WinAnsi encoding covers Latin-1 and €, so the text layer keeps every accent.
    styles = getSampleStyleSheet()
    body = ParagraphStyle("Body", parent=styles["BodyText"], fontSize=11, leading=14, spaceAfter=10)
    story: list = [Paragraph(_CARTA_ES_TITLE, styles["Title"]), Spacer(1, 6)]
    story += [Paragraph(text, body) for text in _CARTA_ES_PARAGRAPHS]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title="Carta", author="docflow samples", invariant=1)
    doc.build(story)
    return buf.getvalue()


def _lettre_fr_png() -> bytes:
    image = _render_scan(_LETTRE_FR_LINES, width_in=_A4_INCHES[0], height_in=_A4_INCHES[1])
    buf = io.BytesIO()
    image.save(buf, format="PNG", dpi=(_SCAN_DPI, _SCAN_DPI), optimize=False)
    return buf.getvalue()


def _brief_de_pdf() -> bytes:
    image = _render_scan(_BRIEF_DE_LINES, width_in=_A4_INCHES[0], height_in=_A4_INCHES[1])
    buf = io.BytesIO()
    # Image-only, as a scanner makes it: no text layer, so every letter comes from OCR.
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=1)
    pdf.setTitle("Brief")
    pdf.drawImage(ImageReader(image), 0, 0, width=A4[0], height=A4[1])
    pdf.showPage()
    pdf.save()
    return buf.getvalue()
