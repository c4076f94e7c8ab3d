"""Spanish, French and German documents through extraction, language identification and NER.

    python -m bench.multilingual --docs-per-language 12 --seed 7 [--noisy-scans] [--corpus DIR] [--json PATH]

About 80 s with the defaults on 2 cores (one process). Generates a seeded corpus of N one-page
documents per language (es, fr, de): even indexes are born-digital PDFs (a text layer), odd ones
clean 300 dpi scans (an image-only PDF; ``--noisy-scans``: skewed, blurred, speckled and
JPEG-compressed, as :func:`bench.corpus.add_noise` makes them). Text comes
from per-language templates over invented names with accents (people, places, organisations
with their country's legal forms: S.A./S.L., SA/SARL/SAS, GmbH/AG/KG), dates and euro amounts
written the local way ("12.500 €", "8 400 €"); the filler names nothing, so the truth lists every
entity. Each document, like the OCR/text/entity stages do it: ``tasks.work.extract_file`` with the
language's tesseract data (spa, fra, deu), ``identify_language`` on the extracted text, chunks
as the workers cut them, and NER with the model ``ner_model_for`` picks for the identified language
(none for German; no vocabulary, no project prior: a fresh project's document).

Reported per language and kind (born-digital / scan), as a markdown table and as JSON
(``bench/out/multilingual.json`` by default):

* **OCR words**: :func:`bench.quality.ocr_accuracy`, i.e. ``1 - word-level Levenshtein distance /
  truth words`` after NFKC and quote/dash folding; case, accents and punctuation count (for
  born-digital documents it scores the text layer as read).
* **accented chars**: of the truth's non-ASCII letters (é, ñ, ç, ß, ü, ...), the share that an
  optimal character alignment (Levenshtein opcodes over the same normalised text) keeps
  unchanged; "lost accent" counts those read as their bare letter (é -> e).
* **language id**: documents whose identified language is the truth's (undetermined counts wrong).
* **entities**: :func:`bench.entity_quality.scores` (so :func:`bench.quality.entity_scores`):
  recall and precision of (label, canonical key) as stored, GPE/LOC/FAC counting as PLACE, over
  PERSON, ORG, PLACE and MONEY. Dates are in the truth but not scored: the French and Spanish
  models (WikiNER) have no DATE label, so DATE mentions are left out on both sides.
* **scan, eng only**: the same scans read with ``eng`` alone, for what the language setting buys.

Nothing fails on a number. Deterministic corpus: document ``i`` of a language depends only on
``(seed, language, i)``.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

from bench.corpus import Writer, _platypus_pdf, add_noise, images_to_pdf, render_pages
from bench.entity_quality import scores
from bench.quality import ocr_accuracy, ratio, words

OUT_DIR = Path(__file__).resolve().parent / "out"
KINDS = ("born_digital", "scan")
SCORED_LABELS = ("PERSON", "ORG", "PLACE", "MONEY")
ENGLISH_OCR = "eng"

# --- the vocabulary of each language --------------------------------------------------------------


@dataclass(frozen=True)
class Language:
    """Everything that makes a document of one language: names, formats, sentences."""

    code: str  # ISO 639-1, what identify_language answers
    ocr: str  # tesseract data
    people: Sequence[str]
    places: Sequence[str]
    orgs: Sequence[str]
    months: Sequence[str]
    date_format: str  # str.format with day, month, year
    thousands: str  # the thousands separator of "12.500 €"
    templates: Sequence[str]
    filler: Sequence[str]
    titles: Sequence[str]
    headings: Sequence[str]

    def date(self, rng: random.Random) -> str:
        # Day 1 is "1er" in French and "1." in German: left out rather than special-cased.
        return self.date_format.format(
            day=rng.randint(2, 28), month=rng.choice(self.months), year=rng.randint(2023, 2026)
        )

    def amount(self, rng: random.Random) -> str:
        return f"{rng.randint(12, 980) * 100:,} €".replace(",", self.thousands)


SPANISH = Language(
    code="es",
    ocr="spa",
    people=[
        "José Martínez",
        "Lucía Fernández",
        "Álvaro Gómez",
        "Carmen Ruiz",
        "Javier Muñoz",
        "Inés Domínguez",
        "Andrés Jiménez",
        "Raquel Núñez",
        "Sergio Castaño",
        "Begoña Ibáñez",
        "Óscar Peña",
        "Pilar Cortés",
        "Tomás Herrera",
        "Ángela Suárez",
    ],
    places=[
        "Sevilla",
        "Málaga",
        "Córdoba",
        "Cádiz",
        "Valencia",
        "Bilbao",
        "Zaragoza",
        "Alicante",
        "León",
        "Logroño",
        "Almería",
        "Jaén",
        "Ávila",
        "Cáceres",
    ],
    orgs=[
        "Compañía Naviera del Sur S.A.",
        "Transportes Ibéricos S.L.",
        "Construcciones Peñalara S.A.",
        "Banco Mediterráneo S.A.",
        "Logística Cantábrica S.L.",
        "Seguros Atlántico S.A.",
        "Frutas del Ebro S.L.",
        "Energía Solar Andaluza S.A.",
        "Química Levante S.L.",
        "Almacenes Guadalquivir S.A.",
    ],
    months=[
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
    date_format="{day} de {month} de {year}",
    thousands=".",
    templates=[
        "{org} firmó un acuerdo de financiación con {org2} el {date}.",
        "{person}, de {org}, visitará la oficina de {place} el {date}.",
        "El consejo aprobó un pago de {amount} a {org}.",
        "{person} se reunió con {person2} en {place} para revisar el contrato.",
        "El envío de {place} a {place2} se aseguró por {amount}.",
        "Según {person}, la tarifa de auditoría de {amount} vence el {date}.",
        "{org} abrió un almacén en {place} y contrató a {person} como gerente.",
        "La factura de {org} por {amount} fue aprobada por {person} el {date}.",
        "{person} confirmó que {org} transfirió {amount} a {org2} en {place}.",
        "El {date}, {person} firmó el arrendamiento del nuevo depósito en {place}.",
        "{org2} acordó pagar {amount} cuando la mercancía llegue a {place}.",
        "{person2} presentará los resultados a {person} en {place} el {date2}.",
        "El contrato entre {org} y {org2} se prorrogó hasta el {date2}.",
    ],
    filler=[
        "Los documentos se firmaron y se archivaron en el departamento jurídico.",
        "Los detalles se encuentran en el calendario adjunto.",
        "Todas las partes acordaron mantener la confidencialidad de las condiciones.",
        "La inspección no encontró daños en los contenedores ni en su contenido.",
        "Le rogamos que conserve esta carta con su documentación.",
        "La próxima revisión seguirá el procedimiento habitual.",
        "Las preguntas sobre este asunto deben dirigirse al equipo de finanzas.",
        "El personal del almacén completó el inventario sin ningún problema.",
    ],
    titles=[
        "Informe trimestral de fletes",
        "Plan de auditoría",
        "Revisión del envío",
        "Resumen de financiación",
        "Acta de la reunión del consejo",
        "Inspección del almacén",
        "Confirmación de pago",
        "Actualización del contrato",
    ],
    headings=["Antecedentes", "Condiciones", "Pagos", "Logística", "Próximos pasos", "Decisiones", "Conclusiones"],
)

# No place or organisation starts with a vowel or "Le": the templates say "de {place}" and
# "à {place}", which French would elide or contract ("d'Orléans", "au Havre").
FRENCH = Language(
    code="fr",
    ocr="fra",
    people=[
        "François Dubois",
        "Hélène Lefèvre",
        "Jérôme Mercier",
        "Cécile Girard",
        "Amélie Rousseau",
        "Benoît Fournier",
        "Éric Lemaître",
        "Anaïs Bérard",
        "Gaëlle Moreau",
        "Stéphane Caron",
        "Noémie Faure",
        "Loïc Chevalier",
        "Thérèse Bouchard",
        "Raphaël Lévêque",
    ],
    places=[
        "Lyon",
        "Marseille",
        "Besançon",
        "Nîmes",
        "Béziers",
        "Grenoble",
        "Nantes",
        "Périgueux",
        "Saint-Étienne",
        "Sète",
        "Mâcon",
        "Toulouse",
        "Bordeaux",
        "Compiègne",
    ],
    orgs=[
        "Société Lyonnaise de Transport SA",
        "Crédit Rhône-Alpes SA",
        "Dépôts Méridionaux SARL",
        "Céramiques du Limousin SARL",
        "Fromageries Réunies SA",
        "Métallurgie de Franche-Comté SAS",
        "Brasserie Saint-Rémi SAS",
        "Transports Béranger SARL",
        "Banque Générale du Sud SA",
        "Verreries de Provence SAS",
    ],
    months=[
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    date_format="{day} {month} {year}",
    thousands=" ",
    templates=[
        "{org} a signé un accord de financement avec {org2} le {date}.",
        "{person}, de {org}, se rendra au bureau de {place} le {date}.",
        "Le conseil a approuvé un paiement de {amount} à {org}.",
        "{person} a rencontré {person2} à {place} pour examiner le contrat.",
        "La cargaison partie de {place} pour {place2} a été assurée pour {amount}.",
        "Selon {person}, les frais d'audit de {amount} sont dus le {date}.",
        "{org} a ouvert un entrepôt à {place} et a embauché {person} comme gérant.",
        "La facture de {org} d'un montant de {amount} a été approuvée par {person} le {date}.",
        "{person} a confirmé que {org} a viré {amount} à {org2} à {place}.",
        "Le {date}, {person} a signé le bail du nouveau dépôt à {place}.",
        "{org2} a accepté de payer {amount} dès que les marchandises arriveront à {place}.",
        "{person2} présentera les résultats à {person} à {place} le {date2}.",
        "Le contrat entre {org} et {org2} a été prolongé jusqu'au {date2}.",
    ],
    filler=[
        "Les documents ont été signés et transmis au service juridique.",
        "Les détails figurent dans le calendrier ci-joint.",
        "Toutes les parties ont accepté de garder les conditions confidentielles.",
        "L'inspection n'a révélé aucun dégât sur les conteneurs ni sur leur contenu.",
        "Veuillez conserver cette lettre avec vos documents.",
        "La prochaine révision suivra la procédure habituelle.",
        "Les questions à ce sujet doivent être adressées à l'équipe financière.",
        "Le personnel de l'entrepôt a terminé l'inventaire sans difficulté.",
    ],
    titles=[
        "Rapport trimestriel de fret",
        "Plan d'audit",
        "Examen de l'expédition",
        "Résumé du financement",
        "Procès-verbal du conseil",
        "Inspection de l'entrepôt",
        "Confirmation de paiement",
        "Mise à jour du contrat",
    ],
    headings=["Contexte", "Conditions", "Paiements", "Logistique", "Prochaines étapes", "Décisions", "Constatations"],
)

# Organisations are nouns, not adjectives: "mit der Süddeutschen Bank AG" would inflect the name.
GERMAN = Language(
    code="de",
    ocr="deu",
    people=[
        "Jürgen Müller",
        "Günther Schäfer",
        "Sören Köhler",
        "Björn Weiß",
        "Käthe Groß",
        "Jörg Krämer",
        "Dörte Hoffmann",
        "Susanne Fröhlich",
        "Matthias Strauß",
        "Heike Böhm",
        "Lena Schröder",
        "Uwe Jäger",
        "Bärbel Kühn",
    ],
    places=[
        "Hamburg",
        "München",
        "Köln",
        "Düsseldorf",
        "Nürnberg",
        "Lübeck",
        "Würzburg",
        "Göttingen",
        "Osnabrück",
        "Saarbrücken",
        "Bremen",
        "Dresden",
        "Gießen",
        "Fürth",
    ],
    orgs=[
        "Hafenlogistik GmbH",
        "Nordsee Spedition KG",
        "Bäckerei Großmann KG",
        "Maschinenbau Kröger AG",
        "Elbtal Versicherungen AG",
        "Kühltransporte Rhein GmbH",
        "Stahlwerk Gößnitz AG",
        "Brauerei Fürstenhof GmbH",
        "Ostsee Reederei KG",
        "Möbelhaus Brückner GmbH",
    ],
    months=[
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    date_format="{day}. {month} {year}",
    thousands=".",
    templates=[
        "{org} hat am {date} einen Finanzierungsvertrag mit {org2} unterzeichnet.",
        "{person} von {org} besucht am {date} das Büro in {place}.",
        "Der Vorstand genehmigte eine Zahlung von {amount} an {org}.",
        "{person} traf {person2} in {place}, um den Vertrag zu prüfen.",
        "Die Lieferung von {place} nach {place2} wurde für {amount} versichert.",
        "Laut {person} ist die Prüfungsgebühr von {amount} am {date} fällig.",
        "{org} eröffnete ein Lager in {place} und stellte {person} als Leiter ein.",
        "Die Rechnung von {org} über {amount} wurde am {date} von {person} genehmigt.",
        "{person} bestätigte, dass {org} {amount} an {org2} in {place} überwiesen hat.",
        "Am {date} unterschrieb {person} den Mietvertrag für das neue Depot in {place}.",
        "{org2} erklärte sich bereit, {amount} zu zahlen, sobald die Waren {place} erreichen.",
        "{person2} stellt {person} die Ergebnisse am {date2} in {place} vor.",
        "Der Vertrag zwischen {org} und {org2} wurde bis zum {date2} verlängert.",
    ],
    filler=[
        "Die Unterlagen wurden unterschrieben und an die Rechtsabteilung übergeben.",
        "Weitere Einzelheiten finden Sie im beigefügten Zeitplan.",
        "Alle Beteiligten vereinbarten, die Bedingungen vertraulich zu behandeln.",
        "Bei der Prüfung wurden keine Schäden an den Containern festgestellt.",
        "Bitte bewahren Sie dieses Schreiben für Ihre Unterlagen auf.",
        "Die nächste Überprüfung folgt dem üblichen Verfahren.",
        "Über die Größe der nächsten Lieferung wird später entschieden.",
        "Das Lagerpersonal schloss die Inventur ohne Schwierigkeiten ab.",
    ],
    titles=[
        "Quartalsbericht Fracht",
        "Prüfungsplan",
        "Überprüfung der Lieferung",
        "Finanzierungsübersicht",
        "Protokoll der Vorstandssitzung",
        "Lagerinspektion",
        "Zahlungsbestätigung",
        "Vertragsänderung",
    ],
    headings=["Hintergrund", "Bedingungen", "Zahlungen", "Logistik", "Nächste Schritte", "Beschlüsse", "Ergebnisse"],
)

LANGUAGES: dict[str, Language] = {language.code: language for language in (SPANISH, FRENCH, GERMAN)}


# --- the corpus -----------------------------------------------------------------------------------


@dataclass
class LanguageWriter(Writer):
    """:class:`bench.corpus.Writer` (entity bookkeeping, paragraphs) over one language's sentences."""

    language: Language = SPANISH

    @classmethod
    def for_language(cls, rng: random.Random, language: Language) -> LanguageWriter:
        cast = {
            "person": rng.sample(list(language.people), 4),
            "org": rng.sample(list(language.orgs), 3),
            "place": rng.sample(list(language.places), 3),
            "date": [language.date(rng) for _ in range(3)],
            "amount": [language.amount(rng) for _ in range(3)],
        }
        return cls(rng, cast, language=language)

    def sentence(self) -> str:
        # Writer.sentence with this language's templates and filler (it reads the English ones).
        if self.rng.random() < 0.2:
            return self.rng.choice(list(self.language.filler))
        template = self.rng.choice(list(self.language.templates))
        values: dict[str, str] = {}
        for slot in self.cast:
            first, second = self.rng.sample(range(len(self.cast[slot])), 2)
            if "{" + slot + "}" in template:
                values[slot] = self.entity(slot, first)
            if "{" + slot + "2}" in template:
                values[slot + "2"] = self.entity(slot, second)
        return template.format(**values)


def kind_of(index: int) -> str:
    return KINDS[index % 2]


def make_document(language: Language, index: int, seed: int, *, noisy: bool = False) -> tuple[bytes, dict]:
    """Document ``index`` of ``language`` for ``seed``: its PDF bytes and its truth.

    ``noisy`` degrades scans like :func:`bench.corpus.add_noise` (skew, blur, sensor noise, specks)
    and embeds them as JPEG; born-digital documents are the same either way.
    """
    rng = random.Random(f"docflow-multilingual:{seed}:{language.code}:{index}")
    kind = kind_of(index)
    writer = LanguageWriter.for_language(rng, language)
    title = rng.choice(list(language.titles))
    if kind == "born_digital":
        headings = rng.sample(list(language.headings), 2)
        sections = [(heading, [writer.paragraph((3, 4)) for _ in range(2)]) for heading in headings]
        data = _platypus_pdf(title, sections)
        blocks = [title, *(part for heading, paragraphs in sections for part in (heading, *paragraphs))]
    else:
        # Five paragraphs of three or four sentences fill one page at 12 pt.
        blocks = [title, *(writer.paragraph((3, 4)) for _ in range(5))]
        pages = render_pages(blocks)
        if noisy:
            data = images_to_pdf([add_noise(page, rng) for page in pages], jpeg_quality=75)
        else:
            data = images_to_pdf(pages)
    name = f"{language.code}-{index:03d}-{kind.replace('_', '-')}"
    truth = {
        "name": name,
        "file": f"{name}.pdf",
        "language": language.code,
        "ocr_languages": language.ocr,
        "kind": kind,
        "scan": ("noisy" if noisy else "clean") if kind == "scan" else None,
        "text": "\n\n".join(blocks),
        "entities": writer.entities(),
        "people": [e["text"] for e in writer.entities() if e["label"] == "PERSON"],
        "places": [e["text"] for e in writer.entities() if e["label"] == "PLACE"],
        "orgs": [e["text"] for e in writer.entities() if e["label"] == "ORG"],
    }
    return data, truth


def generate(*, docs_per_language: int, out: Path, seed: int, noisy: bool = False) -> list[dict]:
    """Write every language's documents and ``<name>.truth.json`` into ``out``; truths in order."""
    out.mkdir(parents=True, exist_ok=True)
    truths = []
    for language in LANGUAGES.values():
        for index in range(docs_per_language):
            data, truth = make_document(language, index, seed, noisy=noisy)
            (out / truth["file"]).write_bytes(data)
            (out / f"{truth['name']}.truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False))
            truths.append(truth)
    return truths


# --- accented characters --------------------------------------------------------------------------


@dataclass
class AccentTally:
    """Truth letters outside ASCII, and what an optimal alignment made of each."""

    total: Counter[str] = field(default_factory=Counter)
    kept: Counter[str] = field(default_factory=Counter)
    bare: Counter[str] = field(default_factory=Counter)  # read as its letter without the accent

    def add(self, other: AccentTally) -> None:
        self.total.update(other.total)
        self.kept.update(other.kept)
        self.bare.update(other.bare)

    def figures(self) -> dict[str, Any]:
        total, kept = sum(self.total.values()), sum(self.kept.values())
        return {
            "accuracy": ratio(kept, total),
            "accented": total,
            "kept": kept,
            "lost_accent": sum(self.bare.values()),
            "by_char": {ch: {"kept": self.kept[ch], "total": n} for ch, n in self.total.most_common()},
        }


def _bare(ch: str) -> str:
    return unicodedata.normalize("NFD", ch)[0]


def _accented(ch: str) -> bool:
    return ch.isalpha() and not ch.isascii()


def accent_tally(truth: str, extracted: str) -> AccentTally:
    """Accented letters of ``truth`` kept by ``extracted``, over the same normalisation as OCR words."""
    reference, hypothesis = " ".join(words(truth)), " ".join(words(extracted))
    tally = AccentTally()
    for ch in reference:
        if _accented(ch):
            tally.total[ch] += 1
    for op in Levenshtein.opcodes(reference, hypothesis):
        if op.tag == "equal":
            for ch in reference[op.src_start : op.src_end]:
                if _accented(ch):
                    tally.kept[ch] += 1
        elif op.tag == "replace" and op.src_end - op.src_start == op.dest_end - op.dest_start:
            pairs = zip(reference[op.src_start : op.src_end], hypothesis[op.dest_start : op.dest_end], strict=True)
            for want, got in pairs:
                if _accented(want) and got == _bare(want):
                    tally.bare[want] += 1
    return tally


# --- one document ---------------------------------------------------------------------------------


@dataclass
class Reading:
    """One extraction of one document and what came of it."""

    extracted: str
    language: str | None
    confidence: float
    seconds: float
    model: str | None = None
    mentions: list[Any] = field(default_factory=list)  # tasks.steps.entities.Mention


def read(path: Path, *, ocr_languages: str, with_entities: bool) -> Reading:
    """Extract, identify the language and (if asked) find entities, as the workers' stages do."""
    from docflow.core.settings import get_settings
    from tasks.steps.chunking import chunk_elements
    from tasks.steps.entities import extract_mentions, load_nlp, ner_model_for
    from tasks.steps.language import identify_language
    from tasks.work import extract_file

    settings = get_settings()
    began = time.perf_counter()
    extraction = extract_file(path=path, filename=path.name, settings=settings, ocr_languages=ocr_languages)
    seconds = time.perf_counter() - began
    text = extraction.text()
    guess = identify_language(text)
    reading = Reading(text, guess.language, guess.confidence, seconds)
    if with_entities:
        reading.model = ner_model_for(guess.language, settings.ner_models, settings.ner_model)
        if reading.model:
            _text, chunks = chunk_elements(
                extraction.elements, max_chars=settings.chunk_max_chars, overlap_chars=settings.chunk_overlap_chars
            )
            reading.mentions = extract_mentions(chunks, nlp=load_nlp(reading.model))
    return reading


# --- figures --------------------------------------------------------------------------------------


def _scored_truth(truth: dict) -> dict:
    return {**truth, "entities": [e for e in truth["entities"] if e["label"] in SCORED_LABELS]}


def _scored_mentions(mentions: Sequence[Any]) -> list[Any]:
    return [m for m in mentions if m.label != "DATE"]


def group_figures(truths: Sequence[dict], readings: Sequence[Reading], *, entities: bool = True) -> dict:
    """Every measure over one group of documents (a language, a kind, or both)."""
    accents = AccentTally()
    for truth, reading in zip(truths, readings, strict=True):
        accents.add(accent_tally(truth["text"], reading.extracted))
    identified = Counter(str(r.language) for r in readings)
    figures: dict[str, Any] = {
        "documents": len(truths),
        "scans": sorted({t["scan"] for t in truths if t["scan"]}),
        "ocr": ocr_accuracy((t["text"], r.extracted) for t, r in zip(truths, readings, strict=True)),
        "accents": accents.figures(),
        "language_id": {
            "accuracy": ratio(
                sum(r.language == t["language"] for t, r in zip(truths, readings, strict=True)), len(truths)
            ),
            "identified": dict(identified.most_common()),
        },
        "seconds": sum(r.seconds for r in readings),
    }
    if entities:
        modelled = [(t, r) for t, r in zip(truths, readings, strict=True) if r.model]
        figures["models"] = dict(Counter(str(r.model) for r in readings).most_common())
        figures["entities"] = (
            scores([_scored_truth(t) for t, _ in modelled], [_scored_mentions(r.mentions) for _, r in modelled])
            if modelled
            else None
        )
    return figures


def run(truths: Sequence[dict], corpus: Path, *, log: bool = True) -> dict:
    """Read every document (and every scan again with ``eng``); the figures per group, in JSON shape."""
    readings: dict[str, Reading] = {}
    english: dict[str, Reading] = {}
    began = time.perf_counter()
    for code in LANGUAGES:
        own = [t for t in truths if t["language"] == code]
        # One language at a time, then its scans with eng: tesseract reloads its data on every change.
        for truth in own:
            readings[truth["name"]] = read(
                corpus / truth["file"], ocr_languages=truth["ocr_languages"], with_entities=True
            )
        for truth in own:
            if truth["kind"] == "scan":
                english[truth["name"]] = read(corpus / truth["file"], ocr_languages=ENGLISH_OCR, with_entities=False)
        if log:
            print(f"  {code}: {len(own)} documents read ({time.perf_counter() - began:.0f} s)", flush=True)

    groups: list[dict] = []
    for code in LANGUAGES:
        for kind in (*KINDS, "all"):
            members = [t for t in truths if t["language"] == code and kind in (t["kind"], "all")]
            if not members:
                continue
            groups.append(
                {
                    "language": code,
                    "kind": kind,
                    "ocr_languages": LANGUAGES[code].ocr,
                    **group_figures(members, [readings[t["name"]] for t in members]),
                }
            )
        scans = [t for t in truths if t["language"] == code and t["kind"] == "scan"]
        if scans:
            groups.append(
                {
                    "language": code,
                    "kind": "scan",
                    "ocr_languages": ENGLISH_OCR,
                    **group_figures(scans, [english[t["name"]] for t in scans], entities=False),
                }
            )
    documents = [
        {
            "name": t["name"],
            "language": t["language"],
            "kind": t["kind"],
            "identified": readings[t["name"]].language,
            "confidence": round(readings[t["name"]].confidence, 4),
            "model": readings[t["name"]].model,
            "ocr_accuracy": ocr_accuracy([(t["text"], readings[t["name"]].extracted)])["accuracy"],
            "accents": accent_tally(t["text"], readings[t["name"]].extracted).figures()["accuracy"],
            "eng_ocr_accuracy": (
                ocr_accuracy([(t["text"], english[t["name"]].extracted)])["accuracy"] if t["name"] in english else None
            ),
            "eng_identified": english[t["name"]].language if t["name"] in english else None,
        }
        for t in truths
    ]
    return {"groups": groups, "documents": documents, "seconds": time.perf_counter() - began}


# --- the report -----------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _kind_label(group: dict) -> str:
    label = {"born_digital": "born-digital", "scan": "scan", "all": "all"}[group["kind"]]
    if group["kind"] == "scan" and "noisy" in group["scans"]:
        label += " (noisy)"
    return f"{label}, `eng` only" if group["ocr_languages"] == ENGLISH_OCR else label


def summary_table(result: dict) -> list[str]:
    lines = [
        "| language | kind | OCR | docs | OCR words | accented chars (lost accent) | language id | NER model | entity recall | entity precision |",
        "|---|---|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for g in result["groups"]:
        accents = g["accents"]
        language_id = f"{_pct(g['language_id']['accuracy'])}" + (
            ""
            if g["language_id"]["accuracy"] == 1
            else f" ({', '.join(f'{k}={v}' for k, v in g['language_id']['identified'].items())})"
        )
        if "entities" not in g:
            model = recall = precision = "-"
        elif g["entities"] is None:
            model, recall, precision = "no model", "no model", "no model"
        else:
            e = g["entities"]["overall"]
            model = ", ".join(m for m in g["models"] if m != "None") or "no model"
            recall = f"{_pct(e['recall'])} ({e['found']}/{e['expected']})"
            precision = f"{_pct(e['precision'])} ({e['correct']}/{e['predicted']})"
        lines.append(
            f"| {g['language']} | {_kind_label(g)} | {g['ocr_languages']} | {g['documents']} "
            f"| {_pct(g['ocr']['accuracy'])} | {_pct(accents['accuracy'])} ({accents['lost_accent']}) "
            f"| {language_id} | {model} | {recall} | {precision} |"
        )
    return lines


def label_table(result: dict) -> list[str]:
    lines = [
        "| language | NER model | label | recall | precision | expected | predicted |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for g in result["groups"]:
        if g["kind"] != "all":
            continue
        if g["entities"] is None:
            lines.append(f"| {g['language']} | no model | all | no model | no model | - | - |")
            continue
        model = ", ".join(m for m in g["models"] if m != "None")
        for label in SCORED_LABELS:
            s = g["entities"]["per_label"][label]
            lines.append(
                f"| {g['language']} | {model} | {label} | {_pct(s['recall'])} | {_pct(s['precision'])} "
                f"| {s['expected']} | {s['predicted']} |"
            )
    return lines


def notes(result: dict) -> list[str]:
    lines = []
    for g in result["groups"]:
        if g["kind"] != "all" and g["ocr_languages"] != ENGLISH_OCR:
            continue
        lost = [f"{ch} {c['kept']}/{c['total']}" for ch, c in g["accents"]["by_char"].items() if c["kept"] < c["total"]]
        lines.append(f"- {g['language']} {_kind_label(g)}: accented letters not all kept: {', '.join(lost) or 'none'}")
        if g.get("entities"):
            overall = g["entities"]["overall"]
            lines.append(f"  most missed: {', '.join(f'{k} ({n})' for k, n in overall['most_missed']) or '-'}")
            lines.append(f"  most spurious: {', '.join(f'{k} ({n})' for k, n in overall['most_spurious']) or '-'}")
    return lines


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="OCR, language id and entity quality in Spanish, French and German.")
    parser.add_argument("--docs-per-language", type=int, default=12, help="half born-digital, half scans")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--corpus", type=Path, help="write (and keep) the corpus here; a temporary folder otherwise")
    parser.add_argument("--noisy-scans", action="store_true", help="skewed, blurred, speckled JPEG scans")
    parser.add_argument("--json", type=Path, default=OUT_DIR / "multilingual.json")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="docflow-multilingual-") as scratch:
        corpus = args.corpus or Path(scratch)
        truths = generate(docs_per_language=args.docs_per_language, out=corpus, seed=args.seed, noisy=args.noisy_scans)
        print(f"{len(truths)} documents (seed {args.seed}) in {corpus}; reading ...", flush=True)
        result = run(truths, corpus)
    result["setup"] = {
        "docs_per_language": args.docs_per_language,
        "seed": args.seed,
        "scans": "noisy" if args.noisy_scans else "clean",
        "languages": {code: language.ocr for code, language in LANGUAGES.items()},
        "command": f"python -m bench.multilingual --docs-per-language {args.docs_per_language} --seed {args.seed}"
        + (" --noisy-scans" if args.noisy_scans else ""),
    }
    print()
    print("\n".join(summary_table(result)))
    print()
    print("\n".join(label_table(result)))
    print()
    print("\n".join(notes(result)))
    print(f"\n{len(truths)} documents read in {result['seconds']:.0f} s; figures in {args.json}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
