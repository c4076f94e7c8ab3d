"""Names that are only names, text units, and one entity per real thing within a document.

The span rules (:mod:`tasks.steps.entities.names`) are tested on the tokenizer's tokens alone
(deterministic); the document-level resolution through :func:`extract_mentions` with the default
model, on sentences shaped like the real documents that showed each problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tasks.steps.entities import extract_mentions, load_nlp
from tasks.steps.entities.names import (
    follows_rank,
    is_acronym_person,
    is_common_words,
    is_plausible_name,
    is_reference_or_heading,
    name_spans,
    trim_text,
)
from tasks.steps.entities.references import (
    is_cited_author,
    is_cited_title,
    is_inverted_person,
    is_journal,
    reference_authors,
)
from tasks.steps.entities.units import (
    casing_evidence,
    has_broken_layer,
    is_capitals,
    is_code_in_capitals,
    is_letter_spaced,
    language_list,
    restore_capital_runs,
    restore_case,
    text_units,
)

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class C:
    index: int
    text: str


@pytest.fixture(scope="module")
def nlp():
    return load_nlp()


def _names(nlp, text: str, label: str) -> list[str]:
    doc = nlp.make_doc(text)
    return [doc[a:b].text for a, b in name_spans(doc[:], label)]


# --- what a span keeps ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("span", "label", "names"),
    [
        ("the United States", "GPE", ["United States"]),
        ("The Hague", "GPE", ["The Hague"]),  # a capital "The" before one word is part of the name
        ("The New York Times", "ORG", ["New York Times"]),
        ("Mr. Smith", "PERSON", ["Smith"]),
        ("Chief Executive Officer Maria Gonzalez", "PERSON", ["Maria Gonzalez"]),
        ("defender Hassan Abbas", "PERSON", ["Hassan Abbas"]),
        ("American Dennis Mitchell", "PERSON", ["Dennis Mitchell"]),
        ("American Airlines", "ORG", ["American Airlines"]),  # an organisation keeps its nationality
        ("Secretary of State George Shultz", "PERSON", ["George Shultz"]),
        ("Charles de Gaulle", "PERSON", ["Charles de Gaulle"]),
        ("Durham 114", "ORG", ["Durham"]),  # a table row's numbers
        ("J. Ratcliffe 63", "PERSON", ["J. Ratcliffe"]),
        ("2 - Rodney Eyles", "PERSON", ["Rodney Eyles"]),
        ("Apollo 11", "PRODUCT", ["Apollo 11"]),  # a product may end in a number
        ("Romania - Cosmin Contra", "PERSON", ["Cosmin Contra"]),  # a heading glued on
        ("Scott Draper (Australia", "PERSON", ["Scott Draper"]),
        ("Grace Road, Leicestershire", "FAC", ["Grace Road", "Leicestershire"]),
        ("VP of Internal Audit for Genting Americas", "ORG", ["Genting Americas"]),
        ("Cameron Street Ste.", "FAC", ["Cameron Street"]),
        ("Amara Nwosu of", "PERSON", ["Amara Nwosu"]),
    ],
)
def test_a_span_keeps_only_the_name(nlp, span, label, names):
    assert _names(nlp, span, label) == names


@pytest.mark.parametrize(
    ("span", "label"),
    [
        ("Item 12", "LAW"),
        ("CHAPTER VII", "LAW"),
        ("Fig", "PERSON"),
        ("XXII", "ORG"),
        ("Supplementary Financial Information", "ORG"),
        ("Amended and Restated Bylaws", "ORG"),
        ("Board of Directors", "ORG"),
        ("toboggans", "NORP"),  # no capital: no name
        ("Mr.", "PERSON"),  # a title alone
        ("114", "ORG"),
    ],
)
def test_spans_that_are_no_name_give_nothing(nlp, span, label):
    assert _names(nlp, span, label) == []


def test_a_named_law_is_a_name_but_a_reference_to_a_section_is_not(nlp):
    law = nlp.make_doc("Federal Indian Gaming Regulatory Act")
    assert not is_reference_or_heading(law[:], "LAW")
    assert is_reference_or_heading(nlp.make_doc("Section 12(b")[:], "LAW")


@pytest.mark.parametrize(
    ("text", "plausible"),
    [
        ("Maria Gonzalez", True),
        ("McDonald", True),  # one case flip is a name
        ("HSBC", True),  # an acronym has no vowel to show
        ("Summit Freight GmbH", True),
        ("Smith et al.", False),  # a citation fragment
        ("x_1 = 2", False),  # a formula
        ("New York Commodities Desk +1 212 555 0100", False),  # a phone number
        ("rnWsqt", False),  # OCR garbage
        ("tHeRe Co", False),
        ("1.2.3 A", False),  # mostly not letters
    ],
)
def test_plausible_names(text, plausible):
    assert is_plausible_name(text, "ORG") is plausible


def test_trim_text_cuts_unclosed_footnote_markers():
    assert trim_text("Mark A. Lipparelli(1") == "Mark A. Lipparelli"
    assert trim_text("League Two.[63") == "League Two."
    assert trim_text("Bank of America (BofA)") == "Bank of America (BofA)"


def test_trim_text_cuts_a_footnote_number_glued_to_a_name_but_not_a_product_number():
    assert trim_text("Identity Theft Resource Center1", "ORG") == "Identity Theft Resource Center"
    assert trim_text("Maria Gonzalez12", "PERSON") == "Maria Gonzalez"
    # Digits that are the name: a product, a model number, an acronym with its number.
    assert trim_text("Office365", "PRODUCT") == "Office365"
    assert trim_text("Airbus A320", "ORG") == "Airbus A320"
    assert trim_text("Query/400", "ORG") == "Query/400"
    assert trim_text("Stand 1900", "ORG") == "Stand 1900"
    assert trim_text("DESeq2", "ORG") == "DESeq2" and trim_text("Big Chr4", "ORG") == "Big Chr4"


def test_inverted_bibliography_names_and_common_words():
    assert is_inverted_person("Foster, Richard") and is_inverted_person("Ross, James M.")
    assert not is_inverted_person("Paris, France Inc")
    evidence = casing_evidence(["The figures were diluted by the board of directors. We met in Paris."])
    assert is_common_words("Diluted", evidence) and is_common_words("Board of Directors", evidence)
    assert not is_common_words("Paris", evidence) and not is_common_words("Acme Board", evidence)


# --- text units ---------------------------------------------------------------------------


def test_capitals_are_restored_from_the_document_and_keep_their_length():
    evidence = casing_evidence(["Japan beat Syria in the surprise match, and China lost to Uzbekistan on Sunday."])
    headline = "SOCCER - JAPAN GET LUCKY WIN, CHINA IN SURPRISE DEFEAT."
    assert is_capitals(headline) and not is_capitals("IBM and NYSE opened lower")
    restored = restore_case(headline, evidence)
    assert restored == "Soccer - Japan Get Lucky Win, China in surprise Defeat."
    assert len(restored) == len(headline)
    mixed = "ITEM 9. CHANGES IN AND DISAGREEMENTS WITH ACCOUNTANTS None. Shares of IBM rose."
    assert restore_capital_runs(mixed, evidence) == (
        "ITEM 9. Changes in and disagreements with accountants None. Shares of IBM rose."
    )


def test_table_rows_are_read_cell_by_cell_with_their_offsets():
    text = "Contacts\n\nCity | Contact\nRotterdam | Maria Gonzalez"
    units = list(text_units(3, text, {}))
    assert [(u.text, u.in_table) for u in units] == [
        ("Contacts", False),
        ("City", True),
        ("Contact", True),
        ("Rotterdam", True),
        ("Maria Gonzalez", True),
    ]
    assert all(text[u.offset : u.offset + len(u.text)] == u.text and u.chunk_index == 3 for u in units)


# --- one entity per real thing in a document --------------------------------------------


def _mentions(nlp, *texts: str):
    return extract_mentions([C(i, t) for i, t in enumerate(texts)], nlp=nlp)


def _keys(mentions, surface: str) -> set[str]:
    return {m.canonical_key for m in mentions if m.text == surface}


def test_a_surname_alone_joins_the_full_name_of_the_same_document(nlp):
    mentions = _mentions(
        nlp,
        "The board met on Monday. Maria Gonzalez presented the budget for the Rotterdam warehouse.",
        "After the vote, Gonzalez thanked the staff and closed the meeting.",
    )
    assert _keys(mentions, "Gonzalez") == {"maria gonzalez"}
    assert {m.canonical_name for m in mentions if m.canonical_key == "maria gonzalez"} == {"Maria Gonzalez"}


def test_a_surname_two_people_share_stays_apart(nlp):
    mentions = _mentions(nlp, "John Baker met Sarah Baker in London on Monday. Later, Baker signed the lease.")
    assert _keys(mentions, "Baker") <= {"baker"}


def test_capitals_and_title_case_are_one_entity_with_the_well_formed_display_name(nlp):
    mentions = _mentions(
        nlp, "LONDON MEETING WITH MARIA GONZALEZ\n\nMaria Gonzalez opened the London office of Harbour Bank plc."
    )
    assert _keys(mentions, "MARIA GONZALEZ") == {"maria gonzalez"}
    assert {m.canonical_name for m in mentions if m.canonical_key == "maria gonzalez"} == {"Maria Gonzalez"}


def test_a_defined_acronym_joins_its_long_form(nlp):
    mentions = _mentions(
        nlp,
        "International Business Machines (IBM) opened a research centre in Dublin last year. "
        "IBM hired 200 engineers there, and IBM plans to double that.",
    )
    assert _keys(mentions, "IBM") == {"international business machines"}


def test_a_contract_alias_joins_its_party_and_a_defined_term_is_no_name(nlp):
    mentions = _mentions(
        nlp,
        "This Credit Agreement is made between Acme Holdings Ltd. (the “Borrower”) and Northwind Bank plc "
        "(the “Lender”). The Borrower shall repay the Loan to the Lender in London.",
        "“Loan Documents” means this Agreement and each note. The Loan Documents bind the Borrower.",
    )
    assert _keys(mentions, "Borrower") == {"acme holdings"}
    assert _keys(mentions, "Lender") == {"northwind bank"}
    assert not any(m.canonical_key == "loan documents" for m in mentions)


def test_the_display_name_keeps_the_legal_form_and_the_key_ignores_it(nlp):
    mentions = _mentions(nlp, "Harbour Bank plc lent the money to the port. Later, Harbour Bank raised its rates.")
    bank = [m for m in mentions if m.canonical_key == "harbour bank"]
    assert {m.text for m in bank} == {"Harbour Bank plc", "Harbour Bank"}
    assert {m.canonical_name for m in bank} == {"Harbour Bank plc"}


def test_neighbouring_table_cells_never_become_one_name(nlp):
    mentions = _mentions(
        nlp, "Maria Gonzalez runs the Rotterdam office.\n\nCity | Contact\nRotterdam | Maria Gonzalez | 2024"
    )
    assert all("|" not in m.text for m in mentions)
    assert not any(m.text == "Rotterdam Maria Gonzalez" for m in mentions)


def test_a_name_in_a_headline_in_capitals_is_found_and_is_the_same_entity(nlp):
    mentions = _mentions(
        nlp,
        "SOCCER - JAPAN GET LUCKY WIN, CHINA IN SURPRISE DEFEAT.\n\n"
        "Japan began the defence of their Asian Cup title with a lucky 2-1 win against Syria on Friday. "
        "China were beaten 2-0 by Uzbekistan in the other match.",
    )
    assert _keys(mentions, "JAPAN") == {"japan"} and _keys(mentions, "CHINA") == {"china"}


def test_reference_list_authors_are_one_person_each_and_cited_authors_are_people(nlp):
    mentions = _mentions(
        nlp,
        "Carboneras, Carlos (1992). del Hoyo, Josep; Elliott, Andrew; Sargatal, Jordi (eds.). "
        "Handbook of the Birds of the World. Barcelona: Lynx Edicions.",
        "Such clusters evolved recently (Semba et al., 2013; Hancks and Kazazian, 2016).",
    )
    people = {m.text for m in mentions if m.label == "PERSON"}
    assert {"Carboneras, Carlos", "Elliott, Andrew", "Sargatal, Jordi"} <= people
    assert not any(m.text in ("Andrew", "Jordi", "Carlos") for m in mentions)
    assert {m.label for m in mentions if m.text in ("Semba", "Kazazian")} <= {"PERSON"}


def test_an_abbreviation_of_lower_case_words_is_a_term_not_a_name(nlp):
    mentions = _mentions(
        nlp,
        "Transposable elements, especially long terminal repeat (LTR) retrotransposons, are bound by KAP1. "
        "Most LTR families are silenced, and the LTR copies in the IBM cluster were mapped.",
    )
    assert not any(m.text == "LTR" for m in mentions)


@pytest.mark.parametrize(
    ("text", "label"),
    [("H3K4me1", "ORG"), ("C2H2", "ORG"), ("Chr13.1-cl KO", "ORG"), ("ZFP617", "PERSON"), ("RLTR4", "PERSON")],
)
def test_gene_protein_and_strain_identifiers_are_no_names(text, label):
    assert not is_plausible_name(text, label)


def test_a_product_or_organisation_may_carry_digits():
    assert is_plausible_name("DB2", "PRODUCT") and is_plausible_name("Airbus A320", "PRODUCT")
    assert is_plausible_name("7-Eleven", "ORG")


# --- issue 28, second round: the error groups of the real-document sample ------------------


def test_words_broken_into_letters_are_no_unit_and_give_no_names(nlp):
    # GIVEN a PDF text layer laid out letter by letter next to a clean sentence
    broken = "R o w a n d C o l u m n Ac c e s s C o n t r o l by Kent M i l l igan"
    assert is_letter_spaced(broken) and is_letter_spaced("the Create defau lt pu bl ic authority system val ue")
    assert not is_letter_spaced("He was one of a handful of rescuers who raced to the scene in a helicopter.")
    assert not is_letter_spaced("^ a b c d Carboneras 1992, p. 536.")  # an encyclopaedia's back-links
    # WHEN the document is read
    mentions = _mentions(nlp, f"{broken}\n\nJim Bainbridge wrote the guide for IBM in Rochester.")
    # THEN the clean paragraph's names are found and nothing comes from the broken one
    assert {"Jim Bainbridge", "IBM"} <= {m.text for m in mentions}
    assert all(m.char_start > len(broken) for m in mentions)


@pytest.mark.parametrize(
    ("text", "label"),
    [("ChIP", "ORG"), ("ETnI", "PERSON"), ("CoE", "ORG"), ("KRAB-ZFP ChIP", "ORG"), ("MuLV", "ORG"), ("SvJ", "PERSON")],
)
def test_method_gene_and_abbreviation_shapes_are_no_names(text, label):
    # GIVEN a word whose capital follows a small letter and ends it or runs on in capitals: THEN no name
    assert not is_plausible_name(text, label)


def test_names_with_a_capital_inside_a_word_are_still_names():
    # GIVEN the usual inner capitals of names, and a legal form or a product: THEN names
    for text, label in [("McDonald", "PERSON"), ("PowerPoint", "PRODUCT"), ("DiCaprio", "PERSON"), ("iOS", "PRODUCT")]:
        assert is_plausible_name(text, label)
    assert is_plausible_name("TableMAX Gaming, Inc.", "ORG")


def test_a_biological_family_is_no_name_and_a_person_cut_after_an_initial_is_none():
    assert not is_plausible_name("Anserinae", "PERSON") and not is_plausible_name("Muroidea", "ORG")
    assert not is_plausible_name("Kathryn L.", "PERSON") and not is_plausible_name("Thomas J", "PERSON")
    # an inverted reference-list name may end in an initial; a name with one inside is whole
    assert is_plausible_name("Hugman, Barry J.", "PERSON") and is_plausible_name("John F. Kennedy", "PERSON")


def test_one_word_in_capitals_is_a_person_only_in_a_line_written_in_capitals(nlp):
    assert is_acronym_person("JOE", restored=False) and not is_acronym_person("JOE", restored=True)
    assert not is_acronym_person("Joe", restored=False) and not is_acronym_person("JOE SMITH", restored=False)
    # GIVEN user ids in a manual's running text, WHEN read, THEN none is a person
    mentions = _mentions(nlp, "The procedure is owned by user profile JOE, and STEVE calls it after Maria Gonzalez.")
    assert not any(m.label == "PERSON" and m.text in ("JOE", "STEVE") for m in mentions)


def test_reference_list_authors_in_both_styles():
    # surname first, with a month in the date and a "Mc" surname
    text = 'Madsen, Cort S.; McHugh, Kevin P.; de Kloet, Siwo R. (July 1988). "Title".'
    assert [name for _, name, _ in reference_authors(text)] == [
        "Madsen, Cort S.",
        "McHugh, Kevin P.",
        "de Kloet, Siwo R.",
    ]
    # initials after the surname (PubMed), three or more in a row, on one line or one per paragraph
    vancouver = "Brodziak A Ziółko E Muc-Wierzgoń M Nowakowska-Zajdel E Kokot T 2012 The role"
    assert [name for _, name, _ in reference_authors(vancouver)] == [
        "Brodziak A",
        "Ziółko E",
        "Muc-Wierzgoń M",
        "Nowakowska-Zajdel E",
        "Kokot T",
    ]
    assert [name for _, name, _ in reference_authors("Dall-Orsoletta\n\nAC\n\nAlmeida\n\nJGR\n\nCarvalho\n\nPCF")] == [
        "Dall-Orsoletta",
        "Almeida",
        "Carvalho",
    ]
    assert list(reference_authors("offices in Washington DC and Paris")) == []


def test_a_reference_list_author_read_as_an_organisation_becomes_the_person(nlp):
    # GIVEN a PubMed-style reference list the model reads in pieces
    mentions = _mentions(
        nlp,
        "References\n\nBrodziak A Ziółko E Muc-Wierzgoń M Nowakowska-Zajdel E Kokot T 2012 The role of retroviruses.",
    )
    # THEN whatever the model found inside an author is that author, a person
    inside = [m for m in mentions if m.char_start < 70]
    assert all(m.label == "PERSON" for m in inside)
    assert not any(m.text in ("Nowakowska", "Zajdel") for m in mentions)


def test_cited_titles_journals_and_authors():
    assert is_cited_title("Thorpe, I. J. (1996). The ") and is_cited_title(
        'Boyd, W. Sean (2000). "Long-Term Pair Bonds in '
    )
    assert is_cited_title("Kokot T Klakla K 2012 ") and not is_cited_title("as Smith showed (Smith 1996). The ")
    assert is_journal(" 2007 6 12 10.1186/x") and is_journal(" 2016;6: 452") and not is_journal(" 2012 The role")
    assert is_cited_author(", 2012 Supplementary file 4") and is_cited_author(" and Heidmann, 2013 Thomas and")


def test_a_cited_work_is_no_organisation_and_an_abbreviated_journal_no_person(nlp):
    mentions = _mentions(
        nlp,
        "Thorpe, I. J. (1996). The Origins of Agriculture in Europe. New York: Routledge.",
        "Kyelem D Biswas G Bockarie MJ 2008 Determinants of success in national programs Filaria J 2007 6 12",
    )
    assert not any(m.text == "Origins of Agriculture in Europe" for m in mentions)
    assert {m.label for m in mentions if m.text == "Filaria J"} <= {"ORG"}


def test_an_abbreviation_of_lower_case_words_or_a_glossary_entry_is_a_term(nlp):
    mentions = _mentions(
        nlp,
        "Greenhouse gas (GHG) emissions from livestock were measured at the Embrapa station. "
        "GHG totals rose. Abbreviations: DEC = diethylcarbamazine; ALB = albendazole. ALB was given.",
    )
    assert not any(m.text in ("GHG", "ALB", "DEC") for m in mentions)


def test_user_ids_in_a_query_written_in_capitals_are_no_people(nlp):
    # GIVEN a technical manual: user profiles in running text and in a query line in capitals
    manual = (
        "The examples use the VERIFY_GROUP_FOR_USER function: 1. There are user profiles for MGR, JANE,"
        " JUDY, and TONY. 2. The user profile JANE specifies a group profile of MGR.\n\n"
        "VERIFY_GROUP_FOR_USER (CURRENT_USER, 'JANE', 'MGR', 'STEVE')\n\n"
        "A user connects using the user profile ALICE.\n\nUSER = ALICE\n\nCURRENT USER = ALICE\n\n"
        "Kent Milligan wrote the guide.\n\nMARIA GONZALEZ JOINS ACME BOARD"
    )
    assert is_code_in_capitals("VERIFY_GROUP_FOR_USER (CURRENT_USER, 'JANE', 'MGR', 'STEVE')")
    assert is_code_in_capitals("CURRENT USER = JOE") and is_code_in_capitals("SET OPTION USRPRF=*OWNER")
    assert not is_code_in_capitals("MARIA GONZALEZ JOINS ACME BOARD")
    assert not is_code_in_capitals("the CURRENT_USER register")  # not in capitals
    # WHEN it is read
    found = {(m.label, m.text) for m in _mentions(nlp, manual)}
    # THEN the query's user ids are not read as people, nor their mentions elsewhere;
    # a heading in capitals and a name in running text still are
    assert not {text for label, text in found if label == "PERSON"} & {"JANE", "JUDY", "TONY", "STEVE", "MGR", "ALICE"}
    assert {("PERSON", "Kent Milligan"), ("PERSON", "MARIA GONZALEZ")} <= found


def test_in_a_document_whose_layer_is_broken_one_piece_of_a_word_is_enough():
    # GIVEN a document where many paragraphs are letter-spaced
    broken = [
        "R o w a n d C o l u m n Ac c e s s",
        "S u p p o rt i n I B M D B 2 f o r i",
        "Kent M i l l igan w r o t e",
    ]
    document = ["\n\n".join([*broken, "3. 6 . 3 Demonstrati ng data access", "SET O PTI O N USR", "IBM wrote it."])]
    # THEN it is known as such, and a paragraph with one piece of a word is not read there
    assert has_broken_layer(document)
    assert is_letter_spaced("3. 6 . 3 Demonstrati ng data access", broken_layer=True)
    assert is_letter_spaced("SET O PTI O N USR", broken_layer=True) and not is_letter_spaced("SET O PTI O N USR")
    assert not is_letter_spaced("IBM wrote it.", broken_layer=True)
    # a few formulas in a sound layer do not make it broken
    sound = ["Given a question q, the task is to find a span w (i) s , w (i) e from the passage."] + [
        "A sentence."
    ] * 30
    assert not has_broken_layer(["\n\n".join(sound)])


def test_a_taxon_after_its_rank_and_a_species_are_no_names(nlp):
    assert follows_rank("The perching ducks make up the tribe ") and follows_rank("in the genus ")
    assert not follows_rank("the family of ")
    assert not is_plausible_name("Wuchereria bancrofti", "PERSON")
    assert is_plausible_name("Vincent van Gogh", "PERSON") and is_plausible_name("do Nascimento Lampert", "PERSON")
    # GIVEN an encyclopaedia's taxonomy, WHEN read, THEN the tribes and genera are no names
    mentions = _mentions(nlp, "The tribe Oxyurini contains the stifftails. Species in the genus Anas live in Europe.")
    assert not any(m.text in ("Oxyurini", "Anas") for m in mentions)


def test_an_encyclopaedias_list_of_languages_is_not_read(nlp):
    # GIVEN the links to an article in other languages, one short paragraph each, in many scripts
    languages = ["Aymar aru", "Беларуская", "Basa Bali", "বাংলা", "Tiếng Việt", "العربية", "Dansk"]
    assert language_list(["Duck", "136 languages", *languages, "Ducks are birds of the family Anatidae."]) == set(
        range(9)
    )
    # a list of short paragraphs in one script is no such list (a journal's authors, a table)
    assert language_list(["Dall-Orsoletta", "AC", "Almeida", "JGR", "Carvalho", "PCF"]) == set()
    # WHEN the document is read, THEN no language of the list is a name, and the sentence still is read
    text = "\n\n".join([*languages, "Jim Bainbridge wrote the guide for IBM in Rochester."])
    mentions = _mentions(nlp, text)
    assert not any(m.text in languages for m in mentions) and "Jim Bainbridge" in {m.text for m in mentions}


def test_a_class_of_shares_or_a_standards_update_is_no_organisation(nlp):
    for span in ("Series A Preferred Stock", "B Preferred", "Accounting Standards Update"):
        assert _names(nlp, span, "ORG") == []
