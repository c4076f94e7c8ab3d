"""The entity page's neighbourhood layout: every label reads (no two node boxes overlap), deterministically."""

from __future__ import annotations

import itertools

import pytest

from docflow.ops.lifecycle.layout import neighbourhood_layout, shorten

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("count", [0, 1, 2, 7, 25, 60])
def test_no_two_labels_overlap_however_many_and_long_the_names(count):
    # GIVEN neighbours with long and short names
    neighbours = [
        (f"e{i}", f"Compañía General de Transportes Mediterráneos número {i}" if i % 3 == 0 else f"N{i}")
        for i in range(count)
    ]
    # WHEN laid out around a centre with a long name
    layout = neighbourhood_layout(center=("c", "Consorcio Eólico del Ebro, S.A."), neighbours=neighbours)
    # THEN every node is placed once, the centre at the origin, and no boxes overlap
    assert [n.id for n in layout.nodes] == ["c", *(i for i, _ in neighbours)]
    assert layout.positions()["c"] == {"x": 0.0, "y": 0.0}
    assert not [(a.id, b.id) for a, b in itertools.combinations(layout.nodes, 2) if a.box.overlaps(b.box)]
    assert layout == neighbourhood_layout(center=("c", "Consorcio Eólico del Ebro, S.A."), neighbours=neighbours)


def test_long_labels_are_shortened_at_a_word_and_the_full_name_kept():
    assert shorten("Fundación Bancaria Caixa d'Estalvis i Pensions de Barcelona", 32) == "Fundación Bancaria Caixa…"
    assert shorten("  Acme   Logistics ", 32) == "Acme Logistics"
    layout = neighbourhood_layout(center=("c", "x" * 50), neighbours=[])
    assert layout.nodes[0].label.endswith("…") and layout.nodes[0].name == "x" * 50
