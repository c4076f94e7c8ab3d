"""What the pages show, put in words and shapes: a stage history an operator can read, a snippet in
pieces, an entity's neighbourhood as the nodes and edges its picture draws."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from docflow.ops.lifecycle.explore import EntityView
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


def neighbourhood_graph(view: EntityView) -> dict[str, list[dict[str, Any]]]:
    """The entity and its neighbours as nodes, and an edge to each, wider the more chunks they share."""
    center = view.entity
    linked = [n for n in view.neighbours if n.get("entity_id")]
    strongest = max((n["weight"] for n in view.neighbours), default=1)

    def node(entity_id: int, name: str, label: str, *, is_center: bool) -> dict[str, Any]:
        return {
            "id": f"e{entity_id}",
            "label": name,
            "kind": label,
            "center": is_center,
            "href": f"/ui/entities/{entity_id}",
        }

    return {
        "nodes": [node(center.entity_id, center.name, center.label, is_center=True)]
        + [node(n["entity_id"], n["name"], n["label"], is_center=False) for n in linked],
        "edges": [
            {
                "source": f"e{center.entity_id}",
                "target": f"e{n['entity_id']}",
                "weight": n["weight"],
                "width": 1 + 7 * math.sqrt(n["weight"] / strongest),
            }
            for n in linked
        ],
    }
