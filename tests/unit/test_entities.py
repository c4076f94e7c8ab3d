"""Entities: canonical identity, NER on realistic text, co-occurrence edges."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tasks.steps.entities import (
    DEFAULT_MODEL,
    KEPT_LABELS,
    Mention,
    Relationship,
    canonical_key,
    canonical_name,
    cooccurrence_relationships,
    extract_mentions,
    load_nlp,
    read_documents,
)

pytestmark = pytest.mark.unit

MEETING = (
    "Maria Gonzalez, chief financial officer of Acme Logistics Inc., met Daniel Okafor of "
    "Northwind Bank in Rotterdam on March 3, 2025 to sign a $12,500 contract."
)


@dataclass(frozen=True)
class C:
    index: int
    text: str


def mention(chunk: int, key: str, label: str = "ORG") -> Mention:
    return Mention(chunk, key, label, 0, len(key), key, key)


@pytest.fixture(scope="module")
def nlp():
    return load_nlp()


# --- canonicalisation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label", "key", "name"),
    [
        ("Acme Logistics Inc.", "ORG", "acme logistics", "Acme Logistics Inc."),
        ("ACME  Logistics", "ORG", "acme logistics", "ACME Logistics"),
        ("acme logistics, inc", "ORG", "acme logistics", "acme logistics, inc"),
        ("“Acme Logistics, Inc.”", "ORG", "acme logistics", "Acme Logistics, Inc."),
        ("the Acme Logistics's", "ORG", "acme logistics", "Acme Logistics"),
        ("Acme Logistics Co., Ltd.", "ORG", "acme logistics", "Acme Logistics Co., Ltd."),
        ("Umbrella Holdings GmbH", "ORG", "umbrella holdings", "Umbrella Holdings GmbH"),
        ("Globex Corporation", "ORG", "globex", "Globex Corporation"),
        ("Initech LLC", "ORG", "initech", "Initech LLC"),
        ("Contoso Ltd", "ORG", "contoso", "Contoso Ltd"),
        ("Baz plc", "ORG", "baz", "Baz plc"),
        ("Rio S.A.", "ORG", "rio", "Rio S.A."),
        ("Corporation", "ORG", "corporation", "Corporation"),  # never reduced to nothing
        ("Northwind Bank", "ORG", "northwind bank", "Northwind Bank"),  # "Bank" is the name
        ("Ｍaria\u00a0 Gonzalez", "PERSON", "maria gonzalez", "Maria Gonzalez"),  # NFKC
        ("Daniel Okafor's", "PERSON", "daniel okafor", "Daniel Okafor"),
        # Trademark signs are marks on the name, not part of it (NFKC alone makes "™" "TM").
        ("DB2®", "PRODUCT", "db2", "DB2"),
        ("IBM® Redpaper™", "ORG", "ibm redpaper", "IBM Redpaper"),
        # The key no longer depends on the label (it did: "smith inc" for PERSON): the vote can
        # only merge a name the model labelled ORG in one chunk and PERSON in another if both
        # readings have the same key.
        ("Smith Inc.", "PERSON", "smith", "Smith Inc."),
        ("the Port of Rotterdam", "LOC", "port of rotterdam", "Port of Rotterdam"),
        ("The Hague", "GPE", "hague", "The Hague"),
        ("U.S.", "GPE", "u.s", "U.S."),
        ("(Rotterdam)", "GPE", "rotterdam", "Rotterdam"),
        ("$12,500", "MONEY", "$12,500", "$12,500"),
        ("March 3, 2025.", "DATE", "march 3, 2025", "March 3, 2025"),
        ("  ", "ORG", "", ""),
    ],
)
def test_canonical_forms(text: str, label: str, key: str, name: str) -> None:
    # GIVEN a surface form WHEN canonicalised THEN key and display name are as expected
    assert canonical_key(text, label) == key
    assert canonical_name(text, label) == name
    # AND canonicalising is stable (the key of a key is itself)
    assert canonical_key(key, label) == key


@pytest.mark.parametrize(
    "variants",
    [
        ["Acme Logistics Inc.", "ACME  Logistics", "Acme Logistics, Inc", "acme logistics", "Acme Logistics’s"],
        ["Northwind Bank", "NORTHWIND BANK", "the Northwind Bank", "Northwind Bank plc"],
    ],
)
def test_variants_of_one_org_share_one_key(variants: list[str]) -> None:
    # GIVEN case, whitespace, punctuation and legal-suffix variants of one organisation
    # WHEN keyed THEN exactly one key results
    assert len({canonical_key(v, "ORG") for v in variants}) == 1


# --- model ------------------------------------------------------------------------------


def test_load_nlp_is_trimmed_cached_and_has_ruler_before_ner(nlp) -> None:
    # GIVEN the default model WHEN loaded THEN only the ruler and ner run, and a second
    # call returns the same object
    assert nlp.pipe_names == ["entity_ruler", "ner"]
    assert load_nlp() is nlp
    assert load_nlp(DEFAULT_MODEL) is nlp


def test_trimmed_pipeline_predicts_same_entities_as_full_model(nlp) -> None:
    # GIVEN the full shipped pipeline and the trimmed one without the ruler
    import warnings

    import spacy

    with warnings.catch_warnings():  # W095: measured compatible (tasks/steps/entities/model.py)
        warnings.filterwarnings("ignore", message=r"\[W095\]")
        full = spacy.load(DEFAULT_MODEL)
    texts = [
        MEETING,
        "Hans Müller of Deutsche Bank flew from Frankfurt to Singapore on Tuesday.",
        "The European Commission fined Microsoft under the Digital Markets Act in 2024.",
        "Priya Raman said Fabrikam would open an office in Toronto next spring.",
    ]
    # WHEN both annotate the same texts (ruler disabled to compare the statistical part)
    with nlp.select_pipes(disable=["entity_ruler"]):
        trimmed = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in nlp.pipe(texts)]
    reference = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in full.pipe(texts)]
    # THEN dropping tok2vec/tagger/parser/lemmatizer/attribute_ruler changed nothing
    assert trimmed == reference


def test_the_recognizer_computes_with_numpy_blas_on_one_thread_and_reads_as_with_blis(nlp) -> None:
    # GIVEN the workers' pipeline, and the same model built with thinc's default (BLIS) operations
    import warnings

    import spacy
    from thinc.api import NumpyOps, use_ops
    from threadpoolctl import threadpool_info

    with warnings.catch_warnings(), use_ops("numpy", use_blis=True):
        warnings.filterwarnings("ignore", message=r"\[W095\]")
        with_blis = spacy.load(DEFAULT_MODEL, exclude=["tagger", "parser", "lemmatizer", "attribute_ruler"])
    # THEN the workers' recognizer multiplies with numpy's BLAS, on one thread
    ops = nlp.get_pipe("ner").model.ops
    assert isinstance(ops, NumpyOps) and not ops.use_blis
    assert with_blis.get_pipe("ner").model.ops.use_blis
    assert {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"} == {1}
    # AND it reads the same entities
    texts = [MEETING, "Hans Müller of Deutsche Bank flew from Frankfurt to Singapore on Tuesday."]
    with nlp.select_pipes(disable=["entity_ruler"]):
        ours = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in nlp.pipe(texts)]
    assert ours == [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in with_blis.pipe(texts)]


# --- extraction -------------------------------------------------------------------------


def test_documents_read_together_give_each_the_mentions_it_has_alone(nlp) -> None:
    # GIVEN three documents of several chunks: a letter, a heading in capitals, a table's cells
    documents = [
        [C(0, MEETING), C(1, "Maria Gonzalez will report to the board in June.")],
        [
            C(0, "QUARTERLY REVIEW OF NORTHWIND BANK\n\nNorthwind Bank opened an office in Lagos."),
            C(1, "Ms. Adeyemi leads it."),
        ],
        [C(0, "City,Contact\nNairobi,Kenji Tanaka\nOslo,Ingrid Berg")],
    ]
    # WHEN they are read in one pass, then each goes through the mention rules
    read = read_documents(documents, nlp=nlp)
    together = [extract_mentions(chunks, nlp=nlp, read=r) for chunks, r in zip(documents, read, strict=True)]
    # THEN each document has exactly the mentions it has when read alone, and its own units
    assert together == [extract_mentions(chunks, nlp=nlp) for chunks in documents]
    assert [len(r.units) == len(r.docs) for r in read] == [True, True, True]
    assert all(together) and {"Kenji Tanaka", "Ingrid Berg"} <= {m.canonical_name for m in together[2]}


def test_meeting_sentence_entities_and_offsets(nlp) -> None:
    # GIVEN a realistic business sentence in chunk 7
    chunk = C(7, MEETING)
    # WHEN mentions are extracted
    mentions = extract_mentions([chunk], nlp=nlp)
    # THEN the expected entities are found, with offsets into the chunk text
    found = {(m.text, m.label) for m in mentions}
    assert {
        ("Maria Gonzalez", "PERSON"),
        ("Acme Logistics Inc.", "ORG"),
        ("Daniel Okafor", "PERSON"),
        ("Northwind Bank", "ORG"),
        ("Rotterdam", "GPE"),
        ("March 3, 2025", "DATE"),
        ("$12,500", "MONEY"),
    } <= found
    for m in mentions:
        assert m.chunk_index == 7
        assert chunk.text[m.char_start : m.char_end] == m.text
        assert m.label in KEPT_LABELS
        assert m.canonical_key == canonical_key(m.text, m.label)
        assert m.canonical_name == canonical_name(m.text, m.label)
    acme = next(m for m in mentions if m.text == "Acme Logistics Inc.")
    assert (acme.canonical_key, acme.canonical_name) == ("acme logistics", "Acme Logistics Inc.")
    # AND mentions come in text order
    assert [m.char_start for m in mentions] == sorted(m.char_start for m in mentions)


def test_org_spelled_differently_in_two_chunks_gets_one_key(nlp) -> None:
    # GIVEN the same company written two ways in two chunks
    chunks = [
        C(0, MEETING),
        C(1, "ACME Logistics reported revenue of EUR 3,000 in Q2."),
    ]
    # WHEN mentions are extracted
    orgs = [m for m in extract_mentions(chunks, nlp=nlp) if m.label == "ORG"]
    # THEN both surface forms map to one key
    acme = {m.text: m.canonical_key for m in orgs if "cme" in m.text.casefold()}
    assert set(acme) == {"Acme Logistics Inc.", "ACME Logistics"}
    assert len(set(acme.values())) == 1


@pytest.mark.parametrize(
    ("text", "entity", "label"),
    [
        # Each of these is wrong without the entity ruler (EUR -> ORG, Corporation -> PERSON,
        # "$" left out of the amount).
        ("ACME Logistics reported revenue of EUR 3,000 in Q2.", "EUR 3,000", "MONEY"),
        ("The invoice from Globex Corporation was forwarded to Hans Müller.", "Globex Corporation", "ORG"),
        ("Blue Harbor Shipping Corp. paid €2,300 to Northwind Bank.", "€2,300", "MONEY"),
        ("The board approved $4.5 million for the Lyon office.", "$4.5 million", "MONEY"),
        ("Contoso Ltd. and Initech LLC signed the agreement.", "Initech LLC", "ORG"),
    ],
)
def test_domain_patterns_fix_known_model_misses(nlp, text: str, entity: str, label: str) -> None:
    # GIVEN text with a money amount or a suffixed company name WHEN extracted THEN it is found whole
    mentions = extract_mentions([C(0, text)], nlp=nlp)
    assert (entity, label) in {(m.text, m.label) for m in mentions}


def test_unkept_labels_are_dropped(nlp) -> None:
    # GIVEN text with percentages, cardinals and ordinals (labels not kept)
    chunks = [C(0, "Revenue grew 12% to 3,000 units in the third quarter, said Maria Gonzalez.")]
    # WHEN extracted THEN only kept labels remain, and only with a meaningful key
    mentions = extract_mentions(chunks, nlp=nlp)
    assert mentions and all(m.label in KEPT_LABELS for m in mentions)
    assert not any(m.label in {"PERCENT", "CARDINAL", "ORDINAL", "QUANTITY"} for m in mentions)


def test_letterless_mentions_are_dropped_except_dates_and_money() -> None:
    # GIVEN a stub pipeline that tags one number as ORG and another as MONEY
    import spacy
    from spacy.tokens import Span

    blank = spacy.blank("en")

    class NumbersAsEntities:
        def pipe(self, texts, batch_size):
            for text in texts:
                doc = blank.make_doc(text)
                doc.ents = [Span(doc, 0, 1, label="ORG"), Span(doc, 2, 3, label="MONEY")]
                yield doc

    # WHEN extracted
    mentions = extract_mentions([C(0, "2,300 and 4,000")], nlp=NumbersAsEntities())
    # THEN the digits-only ORG is dropped and the MONEY kept
    assert [(m.text, m.label) for m in mentions] == [("4,000", "MONEY")]


def test_extraction_is_deterministic_and_batched(nlp) -> None:
    # GIVEN more chunks than one batch holds
    chunks = [C(i, MEETING if i % 2 else "Hans Müller of Deutsche Bank flew to Frankfurt.") for i in range(9)]
    # WHEN extracted with tiny batches and with one big batch
    small = extract_mentions(chunks, nlp=nlp, batch_size=2)
    big = extract_mentions(chunks, nlp=nlp, batch_size=64)
    # THEN the results are identical and ordered by chunk
    assert small == big
    assert [m.chunk_index for m in small] == sorted(m.chunk_index for m in small)
    assert extract_mentions([], nlp=nlp) == []
    with pytest.raises(ValueError):
        extract_mentions(chunks, nlp=nlp, batch_size=0)


# --- relationships ----------------------------------------------------------------------


def test_cooccurrence_is_symmetric_weighted_and_without_self_pairs() -> None:
    # GIVEN mentions where the same pair co-occurs in two chunks, in both orders, and an
    # entity repeats within a chunk
    mentions = [
        mention(0, "acme"),
        mention(0, "northwind"),
        mention(0, "acme"),
        mention(3, "northwind"),
        mention(3, "acme"),
        mention(5, "acme"),
        mention(5, "maria", "PERSON"),
        mention(6, "acme"),  # alone: no edge
    ]
    # WHEN relationships are built
    rels = cooccurrence_relationships(mentions)
    # THEN (a, b) and (b, a) are one edge, weighted by distinct chunks, and no self-pair exists
    assert rels == [
        Relationship("acme", "ORG", "maria", "PERSON", "CO_OCCURS", 1, (5,)),
        Relationship("acme", "ORG", "northwind", "ORG", "CO_OCCURS", 2, (0, 3)),
    ]
    assert all(r.source_key != r.target_key for r in rels)


def test_cooccurrence_is_independent_of_mention_order() -> None:
    # GIVEN the same mentions in two different orders
    mentions = [mention(c, k) for c in range(4) for k in ("b", "a", "c") if (c + ord(k)) % 3]
    # WHEN related THEN the output is identical
    assert cooccurrence_relationships(mentions) == cooccurrence_relationships(list(reversed(mentions)))


def test_cooccurrence_respects_labels_and_same_key_under_two_labels() -> None:
    # GIVEN a date (not related by default) and one name labelled two ways in a chunk
    mentions = [
        mention(0, "globex", "ORG"),
        mention(0, "globex", "PERSON"),
        mention(0, "march 3, 2025", "DATE"),
        mention(0, "rotterdam", "GPE"),
    ]
    # WHEN related with default labels
    rels = cooccurrence_relationships(mentions)
    # THEN dates are ignored and the two labels of "globex" are not paired with each other
    assert {(r.source_key, r.source_label, r.target_key, r.target_label) for r in rels} == {
        ("globex", "ORG", "rotterdam", "GPE"),
        ("globex", "PERSON", "rotterdam", "GPE"),
    }
    # AND asking for DATE includes it
    with_dates = cooccurrence_relationships(mentions, labels=("ORG", "DATE"))
    assert [(r.source_key, r.target_key) for r in with_dates] == [("globex", "march 3, 2025")]


def test_end_to_end_chunks_to_relationships(nlp) -> None:
    # GIVEN two chunks naming the same people and companies
    chunks = [C(0, MEETING), C(1, "Daniel Okafor later told Maria Gonzalez that Northwind Bank approved it.")]
    # WHEN mentions and relationships are derived
    rels = cooccurrence_relationships(extract_mentions(chunks, nlp=nlp))
    by_pair = {(r.source_key, r.target_key): r for r in rels}
    # THEN the pair seen in both chunks weighs 2 and keys are canonical
    assert by_pair[("daniel okafor", "maria gonzalez")].weight == 2
    assert by_pair[("daniel okafor", "maria gonzalez")].chunk_indexes == (0, 1)
    assert ("acme logistics", "maria gonzalez") in by_pair
