"""Where to draw an entity's neighbourhood so that every label reads: positions, not pictures.

The entity page draws the entity in the middle and its neighbours around it, each with its name
under its dot. A force or concentric layout spaces the dots, not the names, so long names overlap.
:func:`neighbourhood_layout` places each node (dot and label together, as one box measured from
the label's length) on a ring around the centre, at evenly spread angles, the strongest neighbours
first and nearest; a box that would overlap one already placed moves outwards until it does not.
Labels longer than ``max_label`` characters are shortened with "…" (the full name stays in the
data for a tooltip). The positions suit Cytoscape's ``preset`` layout (``{"x": .., "y": ..}``,
y downwards). Pure and deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Box", "NodePlace", "NeighbourhoodLayout", "neighbourhood_layout", "shorten"]

CHAR_WIDTH = 0.62  # of the font size: a generous average glyph width for a sans-serif font
LINE_HEIGHT = 1.3
LABEL_GAP = 4.0  # between the dot and its label (Cytoscape's text-margin-y)
PADDING = 6.0  # kept free around each box


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: Box) -> bool:
        return (
            self.left < other.right and other.left < self.right and self.top < other.bottom and other.top < self.bottom
        )


@dataclass(frozen=True)
class NodePlace:
    id: str
    x: float  # the dot's centre
    y: float
    label: str  # what to draw (maybe shortened)
    name: str  # the full name
    box: Box  # dot and label, padded: no two boxes of one layout overlap

    @property
    def position(self) -> dict[str, float]:
        return {"x": self.x, "y": self.y}


@dataclass(frozen=True)
class NeighbourhoodLayout:
    nodes: tuple[NodePlace, ...]  # the centre first, then the neighbours in the order given
    width: float
    height: float

    def positions(self) -> dict[str, dict[str, float]]:
        """Node id -> ``{"x", "y"}``: Cytoscape's ``preset`` layout ``positions``."""
        return {node.id: node.position for node in self.nodes}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def shorten(name: str, max_label: int) -> str:
    name = " ".join(name.split())
    if len(name) <= max_label:
        return name
    cut = name[: max_label - 1].rsplit(" ", 1)[0] if " " in name[: max_label - 1] else name[: max_label - 1]
    return cut.rstrip(" ,;-") + "…"


def neighbourhood_layout(
    *,
    center: tuple[str, str],
    neighbours: Sequence[tuple[str, str]],
    font_size: float = 12.0,
    node_size: float = 18.0,
    center_size: float = 30.0,
    max_label: int = 32,
) -> NeighbourhoodLayout:
    """Positions for ``center`` (id, name) at (0, 0) and ``neighbours`` (id, name; strongest first) around it.

    Guarantees: no two nodes' boxes (dot plus label plus padding) overlap; the same input gives
    the same positions; every neighbour is placed (the picture grows instead).
    """
    placed: list[NodePlace] = [_place(center, 0.0, 0.0, font_size, center_size, max_label)]
    count = len(neighbours)
    ring = _first_ring(placed[0].box, font_size, node_size)
    step = font_size * LINE_HEIGHT
    for position, neighbour in enumerate(neighbours):
        # Even angles starting at the top; every other neighbour a little further out, so that
        # neighbours side by side on a crowded ring alternate between two radii before moving out.
        angle = -math.pi / 2 + 2 * math.pi * position / max(count, 1)
        radius = ring + (step * 1.5 if count > 8 and position % 2 else 0.0)
        while True:
            node = _place(
                neighbour, radius * math.cos(angle), radius * math.sin(angle), font_size, node_size, max_label
            )
            if not any(node.box.overlaps(other.box) for other in placed):
                break
            radius += step
        placed.append(node)
    left = min(n.box.left for n in placed)
    right = max(n.box.right for n in placed)
    top = min(n.box.top for n in placed)
    bottom = max(n.box.bottom for n in placed)
    return NeighbourhoodLayout(tuple(placed), round(right - left, 1), round(bottom - top, 1))


def _first_ring(center: Box, font_size: float, node_size: float) -> float:
    return max(center.right - center.left, center.bottom - center.top) / 2 + node_size + 3 * font_size


def _place(node: tuple[str, str], x: float, y: float, font_size: float, size: float, max_label: int) -> NodePlace:
    node_id, name = node
    label = shorten(name, max_label)
    half_width = max(size, len(label) * font_size * CHAR_WIDTH) / 2 + PADDING
    box = Box(
        left=x - half_width,
        top=y - size / 2 - PADDING,
        right=x + half_width,
        bottom=y + size / 2 + LABEL_GAP + font_size * LINE_HEIGHT + PADDING,
    )
    return NodePlace(node_id, round(x, 1), round(y, 1), label, name, box)
