"""What the pages show, put in words and shapes: a stage history an operator can read, a snippet in
pieces, an entity's neighbourhood as the nodes and edges its picture draws."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from docflow.ops.lifecycle.explore import EntityView
from docflow.ops.lifecycle.layout import neighbourhood_layout
from docflow.ops.lifecycle.relations import TypedEdge
from docflow.ops.lifecycle.search import MARK_END, MARK_START

STAGE_NAMES = {"ocr": "Reading", "text": "Chunking", "entity": "Finding entities", "graph": "Writing the graph"}


@dataclass(frozen=True)
class HistoryLine:
    stage: str
    what: str  # a sentence
    tone: str  # ok | warn | bad | info
    worker: str | None
    when: str | None


def history_in_words(history: list[dict[str, Any]]) -> list[HistoryLine]:
    """Each stage run as a sentence: done in N s, retried after a passing failure, failed (why)…"""
    lines = []
    for run in history:
        stage = STAGE_NAMES.get(run["stage"], run["stage"])
        outcome, error, seconds = run["outcome"], run["error"], run["seconds"]
        if outcome == "succeeded":
            what, tone = f"done in {seconds:.1f} s" if seconds is not None else "done", "ok"
        elif outcome == "retrying":
            what, tone = f"a service was briefly unavailable, tried again ({error})", "warn"
        elif outcome == "failed":
            what, tone = f"failed: {error}", "bad"
        elif outcome == "redriven":
            what, tone = f"restarted by reconciliation: {error}", "warn"
        elif outcome == "reprocessed":
            what, tone = f"run again on request: {error}", "info"
        elif outcome == "queued":
            what, tone = "waiting for a worker", "info"
        elif outcome == "started":
            what, tone = "running" if run["deliveries"] <= 1 else f"running (delivery {run['deliveries']})", "info"
        else:
            what, tone = outcome, "info"
        if run["attempt"] and run["attempt"] > 0 and outcome not in ("redriven", "reprocessed"):
            what += f" — retry {run['attempt']}"
        lines.append(
            HistoryLine(stage, what, tone, run["worker"], run["finished_at"] or run["started_at"] or run["queued_at"])
        )
    return lines


def snippet_segments(snippet: str) -> list[tuple[str, bool]]:
    """A search snippet as (text, matched) pieces, so a template marks matches without raw HTML."""
    pieces: list[tuple[str, bool]] = []
    rest = snippet
    while rest:
        start = rest.find(MARK_START)
        if start == -1:
            pieces.append((rest, False))
            break
        if start:
            pieces.append((rest[:start], False))
        end = rest.find(MARK_END, start)
        end = len(rest) if end == -1 else end
        pieces.append((rest[start + 1 : end], True))
        rest = rest[end + 1 :]
    return [(text, matched) for text, matched in pieces if text]


# One colour per typed kind, for the picture's lines and the legend beside it (CO_OCCURS: grey).
KIND_COLOURS = {
    "ROLE_AT": "#1f5fa8",
    "LOCATED_IN": "#b35c12",
    "OPERATES_IN": "#c98a1b",
    "ACQUIRED": "#a3261b",
    "OWNS": "#7a4fa3",
    "AGREEMENT_WITH": "#2c7a3f",
    "SUPPLIES": "#0f7c80",
    "PARTNER_OF": "#5c8a1f",
    "ADVISED": "#8a3f6b",
    "WROTE_TO": "#3d4fb8",
    "COPIED": "#6b7fd1",
    "SIGNED_FOR": "#1d2228",
}
CO_OCCURS_COLOUR = "#9aa7b4"


def neighbourhood_graph(view: EntityView, typed: Sequence[TypedEdge] = ()) -> dict[str, Any]:
    """The entity, its neighbours and the entities its typed relationships reach, placed so that no
    two labels overlap (:func:`docflow.ops.lifecycle.layout.neighbourhood_layout`); an edge to each
    neighbour, wider the more chunks they share, and one coloured line per typed kind between them."""
    center = view.entity
    strongest = max((n["weight"] for n in view.neighbours), default=1)
    names: dict[int, tuple[str, str]] = {}  # entity id -> (name, label), strongest first
    for n in view.neighbours:
        if n.get("entity_id") and n["entity_id"] != center.entity_id:
            names.setdefault(n["entity_id"], (n["name"], n["label"]))
    kinds: dict[tuple[int, str], TypedEdge] = {}  # one line per (neighbour, kind)
    for edge in typed:
        other = edge.other
        if other.entity_id != center.entity_id:
            names.setdefault(other.entity_id, (other.name, other.label))
            kinds.setdefault((other.entity_id, edge.kind), edge)
    layout = neighbourhood_layout(
        center=(f"e{center.entity_id}", center.name),
        neighbours=[(f"e{entity_id}", name) for entity_id, (name, _label) in names.items()],
    )
    labels = {center.entity_id: center.label} | {entity_id: label for entity_id, (_n, label) in names.items()}
    nodes = [
        {
            "id": place.id,
            "label": place.label,
            "name": place.name,
            "kind": labels[int(place.id[1:])],
            "center": place.id == f"e{center.entity_id}",
            "href": f"/ui/entities/{place.id[1:]}",
            "position": place.position,
        }
        for place in layout.nodes
    ]
    co_occurs = [
        {
            "source": f"e{center.entity_id}",
            "target": f"e{n['entity_id']}",
            "kind": "CO_OCCURS",
            "label": str(n["weight"]),
            "colour": CO_OCCURS_COLOUR,
            "width": 1 + 7 * math.sqrt(n["weight"] / strongest),
        }
        for n in view.neighbours
        if n.get("entity_id") in names
    ]
    typed_lines = [
        {
            "source": f"e{edge.source.entity_id}",
            "target": f"e{edge.target.entity_id}",
            "kind": kind,
            "label": "",  # the legend names the kind: labels on lines would cross near the centre
            "colour": KIND_COLOURS.get(kind, "#1d2228"),
            "width": 3,
            "directed": edge.directed,
        }
        for (_other, kind), edge in kinds.items()
    ]
    legend = [
        {"kind": kind, "colour": KIND_COLOURS.get(kind, "#1d2228")} for kind in dict.fromkeys(k for _o, k in kinds)
    ]
    return {"nodes": nodes, "edges": co_occurs + typed_lines, "legend": legend}
