"""The entity page's picture: the neighbours and the entities typed relationships reach, placed by
the layout (no two labels overlap), grey co-occurrence lines and one coloured line per typed kind."""

from __future__ import annotations

import pytest

from docflow.api.web.views import CO_OCCURS_COLOUR, KIND_COLOURS, neighbourhood_graph
from docflow.ops.lifecycle.explore import EntityMatch, EntityView
from docflow.ops.lifecycle.layout import neighbourhood_layout
from docflow.ops.lifecycle.relations import EdgeEnd, EvidenceView, TypedEdge

pytestmark = pytest.mark.unit


def _end(entity_id: int, name: str, label: str) -> EdgeEnd:
    return EdgeEnd(entity_id, f"p|{label}|{name.lower()}", name, label)


def _edge(kind: str, source: EdgeEnd, target: EdgeEnd, *, focus: int) -> TypedEdge:
    sentence = f"{source.name}, chief financial officer of {target.name}"
    place = EvidenceView(sentence, 2, 0, 10, 10 + len(sentence), "pattern:role-apposition", 0.9)
    return TypedEdge(
        relationship_id=1,
        kind=kind,
        meaning="",
        directed=True,
        source=source,
        target=target,
        document_id=7,
        document_uuid="u",
        document_name="memo.txt",
        weight=1,
        confidence=0.9,
        producer=place.producer,
        properties={"role": "chief financial officer"},
        evidence=[place],
        focus_entity_id=focus,
    )


def test_typed_edges_join_the_picture_placed_without_overlap_with_a_legend():
    # GIVEN Jane Doe, who appears with Acme Corp and Lisbon, and holds a ROLE_AT Acme Corp and
    # signed for Globex (named in another chunk: no co-occurrence)
    jane = EntityMatch(1, "p", "PERSON", "p|PERSON|jane doe", "Jane Doe", 1.0, 1)
    view = EntityView(
        entity=jane,
        neighbours=[
            {"key": "k2", "name": "Acme Corp", "label": "ORG", "weight": 4, "documents": 1, "entity_id": 2},
            {"key": "k3", "name": "Lisbon", "label": "GPE", "weight": 1, "documents": 1, "entity_id": 3},
            {"key": "k9", "name": "Nobody Linked", "label": "ORG", "weight": 1, "documents": 1, "entity_id": None},
        ],
    )
    me, acme, globex = _end(1, "Jane Doe", "PERSON"), _end(2, "Acme Corp", "ORG"), _end(4, "Globex", "ORG")
    typed = [_edge("ROLE_AT", me, acme, focus=1), _edge("SIGNED_FOR", me, globex, focus=1)]
    # WHEN the picture is made
    graph = neighbourhood_graph(view, typed)
    # THEN the nodes are the entity, its linked neighbours strongest first, then Globex, at the
    # layout's positions (whose boxes never overlap)
    assert [n["name"] for n in graph["nodes"]] == ["Jane Doe", "Acme Corp", "Lisbon", "Globex"]
    expected = neighbourhood_layout(
        center=("e1", "Jane Doe"), neighbours=[("e2", "Acme Corp"), ("e3", "Lisbon"), ("e4", "Globex")]
    )
    assert {n["id"]: n["position"] for n in graph["nodes"]} == expected.positions()
    assert graph["nodes"][0]["center"] and graph["nodes"][3]["href"] == "/ui/entities/4"
    # AND grey co-occurrence lines to the neighbours, a coloured line per typed kind, and a legend
    lines = {(e["target"], e["kind"]): e for e in graph["edges"]}
    assert set(lines) == {("e2", "CO_OCCURS"), ("e3", "CO_OCCURS"), ("e2", "ROLE_AT"), ("e4", "SIGNED_FOR")}
    assert lines[("e2", "CO_OCCURS")]["colour"] == CO_OCCURS_COLOUR and lines[("e2", "CO_OCCURS")]["width"] == 8
    assert lines[("e2", "ROLE_AT")]["colour"] == KIND_COLOURS["ROLE_AT"] and lines[("e2", "ROLE_AT")]["directed"]
    assert graph["legend"] == [
        {"kind": "ROLE_AT", "colour": KIND_COLOURS["ROLE_AT"]},
        {"kind": "SIGNED_FOR", "colour": KIND_COLOURS["SIGNED_FOR"]},
    ]


def test_without_typed_edges_the_picture_is_the_neighbourhood():
    view = EntityView(entity=EntityMatch(1, "p", "ORG", "p|ORG|acme", "Acme", 1.0, 1))
    graph = neighbourhood_graph(view)
    assert [n["id"] for n in graph["nodes"]] == ["e1"] and graph["edges"] == [] and graph["legend"] == []
