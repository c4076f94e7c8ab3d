"""The relation scorer: what counts as found, as right and as reachable; the labelled set and its fixed split."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.relations import PredictedEdge, matches, score, score_document
from bench.relations_docs import GoldRelation, LabelledDocument, load_set, split_of
from docflow.core.relation_kinds import TYPED_KINDS

pytestmark = pytest.mark.unit


def gold(kind: str, source: str, target: str) -> GoldRelation:
    return GoldRelation("doc", kind, tuple(source.split("|")), tuple(target.split("|")))


def document(*relations: GoldRelation, language: str = "en") -> LabelledDocument:
    return LabelledDocument("doc", Path("doc.txt"), language, "txt", "written", "dev", relations)


def test_a_directed_kind_counts_only_in_its_direction():
    acquired = gold("ACQUIRED", "Globex Corporation|Globex", "Initech Inc.")
    assert matches(acquired, PredictedEdge("ACQUIRED", "globex", "initech"))
    assert not matches(acquired, PredictedEdge("ACQUIRED", "initech", "globex"))
    assert not matches(acquired, PredictedEdge("OWNS", "globex", "initech"))


def test_an_undirected_kind_counts_either_way_and_co_occurrence_never():
    agreement = gold("AGREEMENT_WITH", "Acme", "Contoso")
    assert matches(agreement, PredictedEdge("AGREEMENT_WITH", "contoso", "acme"))
    assert not matches(gold("CO_OCCURS", "Acme", "Contoso"), PredictedEdge("CO_OCCURS", "acme", "contoso"))


def test_lenient_names_forgive_titles_and_partial_spans_as_whole_words_only():
    role = gold("ROLE_AT", "Álvaro Requena", "Winstead Sechrest & Minick P.C.")
    edge = PredictedEdge("ROLE_AT", "sr. d. álvaro requena", "winstead sechrest")
    assert not matches(role, edge)
    assert matches(role, edge, lenient=True)
    assert not matches(
        gold("ROLE_AT", "Ana Gil", "Acme"), PredictedEdge("ROLE_AT", "ana gilberto", "acme"), lenient=True
    )


def test_a_document_score_counts_found_right_and_reachable_per_kind():
    # GIVEN three gold relations, two predicted edges (one right, one wrong) and the recognised entities
    doc = document(
        gold("ROLE_AT", "Jane Roe", "Acme"),
        gold("ROLE_AT", "John Smith", "Globex"),
        gold("LOCATED_IN", "Acme", "Rotterdam"),
    )
    edges = [
        PredictedEdge("ROLE_AT", "jane roe", "acme"),
        PredictedEdge("ROLE_AT", "jane roe", "globex"),
        PredictedEdge("ROLE_AT", "jane roe", "acme"),  # the same edge twice counts once
        PredictedEdge("CO_OCCURS", "acme", "rotterdam"),
    ]
    result = score_document(doc, edges, entity_keys={"jane roe", "acme", "globex", "rotterdam"})
    # THEN per kind: gold, found, predicted, right, reachable (John Smith was never recognised)
    role, located = result.by_kind["ROLE_AT"], result.by_kind["LOCATED_IN"]
    assert (role.gold, role.found, role.predicted, role.correct, role.reachable) == (2, 1, 2, 1, 1)
    assert (located.gold, located.found, located.predicted, located.correct, located.reachable) == (1, 0, 0, 0, 1)
    assert [g.source[0] for g in result.missed] == ["John Smith", "Acme"]
    assert [(e.source_key, e.target_key) for e in result.wrong] == [("jane roe", "globex")]
    total = score([result], split="dev").overall
    assert (total.recall, total.precision) == (1 / 3, 1 / 2)


def test_the_split_is_a_fixed_third_per_language():
    ids = [f"{language}-doc-{n}" for language in ("en", "fr", "es") for n in range(9)]
    first, again = split_of(ids), split_of(list(reversed(ids)))
    assert first == again
    for language in ("en", "fr", "es"):
        assert sum(1 for d, s in first.items() if d.startswith(language) and s == "held_out") == 3


def test_the_labelled_set_is_consistent():
    documents = load_set()
    assert len(documents) >= 40
    assert all(d.path.is_file() for d in documents)
    assert {d.language for d in documents} == {"en", "fr", "es"}
    assert sum(d.origin == "public" for d in documents) * 2 >= len(documents)
    assert {g.kind for d in documents for g in d.gold} <= set(TYPED_KINDS)
    splits = Counter(d.split for d in documents)
    assert splits["held_out"] * 3 >= len(documents) - 3
