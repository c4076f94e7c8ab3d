"""A PDF page's text-layer lines into paragraphs and tables, from the lines' positions. Pure.

The lines come from PDFium (:mod:`tasks.steps.extract.pdf`), one per *visual* line, each split
into fragments where the gap between two glyphs is wider than :data:`CELL_GAP` font sizes. Here:

* **columns**: when a vertical gutter separates the page's lines into two columns, a line is
  "short" (it ends a paragraph) relative to the widest line of its own column, not of the page:
  compared with a title spanning both columns, every line of a column looked short, and each one
  became a paragraph of its own;
* **paragraphs**: a paragraph ends at a wider gap than the page's line pitch, a change of font
  size, a short line, a bullet, or a move up the page (a new column); lines are joined with
  :func:`~tasks.steps.extract.shaping.join_lines`, which undoes line-end hyphenation, and a line
  that PDFium printed glued to the previous one (a break after a dash) is joined without a space;
* **tables**: two or more consecutive rows whose cells start at the same positions become one
  ``Table`` element, one row per line, cells joined by ``" | "`` (as DOCX tables are); cells
  wrapped over several lines inside a row (row gaps wider than the line pitch) are joined back.

Every element keeps the page it is on; nothing here crosses a page.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from tasks.steps.extract.shaping import BULLET, SHORT_LINE, classify, join_lines
from tasks.steps.extract.types import Collector

__all__ = ["CELL_GAP", "Fragment", "TextLine", "layout_page"]

# A gap between two glyphs of one line wider than this many font sizes separates two cells. Word
# spaces are ~0.25-0.35 em and stretch to ~1 em in narrow justified columns; a table's cell padding
# alone is about 1.3 em. A line with such gaps is a table row only if the next row's cells start at
# the same positions (justified prose does not line its gaps up from one line to the next).
CELL_GAP = 1.2
_ALIGN = 0.6  # cell starts within this many font sizes are one column


@dataclass
class Fragment:
    text: str
    x0: float
    x1: float


@dataclass
class TextLine:
    """One visual line: its baseline, font size (of its first glyph) and its fragments, left to right."""

    fragments: list[Fragment]
    y: float  # baseline, PDF units (y grows upwards)
    size: float
    glued: bool = False  # PDFium printed it on the previous line with no break: join without a space
    word_gaps: int = 0  # spaces between words narrower than a cell gap

    @property
    def row_like(self) -> bool:
        """Cells, not a justified line whose every space stretched past a cell gap."""
        return len(self.fragments) >= 2 and (self.word_gaps > 0 or len(self.fragments) <= 3)

    @property
    def text(self) -> str:
        return " ".join(f.text for f in self.fragments)

    @property
    def x0(self) -> float:
        return self.fragments[0].x0

    @property
    def x1(self) -> float:
        return max(f.x1 for f in self.fragments)

    @property
    def width(self) -> float:
        return self.x1 - self.x0


@dataclass
class _Table:
    lines: list[TextLine] = field(default_factory=list)


def layout_page(lines: Sequence[TextLine], *, page: int, out: Collector) -> None:
    """Add the page's paragraphs, headings, list items and tables to ``out``, in reading order."""
    lines = [line for line in lines if line.fragments]
    if not lines:
        return
    lines = _merge_side_by_side(_reorder_cells(lines))
    sizes = [line.size for line in lines if line.size > 0]
    body_size = statistics.median(sizes) if sizes else 0.0
    leading = _normal_leading(lines)
    reference = _reference_widths(lines)
    tables = _table_runs(lines, leading)

    groups: list[list[TextLine] | _Table] = []
    index = 0
    while index < len(lines):
        if index in tables:
            end = tables[index]
            groups.append(_Table(list(lines[index:end])))
            index = end
            continue
        line = lines[index]
        current = groups[-1] if groups and not isinstance(groups[-1], _Table) else None
        if current is None or _starts_paragraph(current[-1], line, leading, reference):
            groups.append([line])
        else:
            current.append(line)
        index += 1

    first = True
    for group in groups:
        if isinstance(group, _Table):
            out.add(_table_text(group.lines, leading), "Table", page)
        else:
            _emit_paragraph(group, page=page, first=first, body_size=body_size, out=out)
        first = False


def _starts_paragraph(prev: TextLine, line: TextLine, leading: float, reference: dict[int, float]) -> bool:
    pitch = prev.y - line.y
    size = max(prev.size, line.size, 1.0)
    return (
        pitch <= 0  # moved up: a new column or out-of-order content
        or pitch > 1.3 * leading * size
        or abs(prev.size - line.size) > 0.15 * size
        or prev.width < SHORT_LINE * reference[id(prev)]
        or bool(BULLET.match(line.text))
    )


def _join(lines: Sequence[TextLine]) -> str:
    pieces: list[str] = []
    for line in lines:
        if line.glued and pieces:
            pieces[-1] += line.text.lstrip()
        else:
            pieces.append(line.text)
    return join_lines(pieces)


def _emit_paragraph(para: list[TextLine], *, page: int, first: bool, body_size: float, out: Collector) -> None:
    text = _join(para)
    is_big = body_size > 0 and para[0].size >= 1.2 * body_size
    if is_big and len(para) <= 3 and len(text) <= 200:
        kind = "Title"
    else:
        kind = classify(text, first_on_page=first, single_line=len(para) == 1)
    out.add(BULLET.sub("", text) if kind == "ListItem" else text, kind, page)


def _normal_leading(lines: Sequence[TextLine]) -> float:
    """Typical line pitch within a paragraph, as a multiple of the font size.

    The tightest cluster of pitches is the in-paragraph spacing; wider ones are paragraph gaps.
    Pitches under 0.8x the font size are sub/superscripts or overlapping runs, not lines.
    """
    ratios = [
        (a.y - b.y) / a.size
        for a, b in zip(lines, lines[1:], strict=False)
        if a.size > 0 and abs(a.size - b.size) <= 0.15 * a.size and a.y - b.y >= 0.8 * a.size
    ]
    if not ratios:
        return 1.25
    tightest = min(ratios)
    return statistics.median(r for r in ratios if r <= 1.25 * tightest)


# --- columns ---------------------------------------------------------------------------------------


def _reference_widths(lines: Sequence[TextLine]) -> dict[int, float]:
    """For each line (by id), the width a full line of its column has: the widest line of its column.

    Two columns are recognised when some vertical gutter near the middle of the text is crossed
    by at most 60% of the lines and at least six full lines of one width lie wholly on one side of it; lines
    crossing it (a title, an abstract, a full-width figure caption) form a third group of their own.
    """
    left = min(line.x0 for line in lines)
    right = max(line.x1 for line in lines)
    widest = max(line.width for line in lines)
    gutter = _gutter(lines, left, right)
    if gutter is None:
        return {id(line): widest for line in lines}
    groups: dict[str, list[TextLine]] = {"left": [], "right": [], "both": []}
    for line in lines:
        side = "left" if line.x1 <= gutter else "right" if line.x0 >= gutter else "both"
        groups[side].append(line)
    width = {side: max((line.width for line in members), default=widest) for side, members in groups.items()}
    return {id(line): width[side] for side, members in groups.items() for line in members}


def _gutter(lines: Sequence[TextLine], left: float, right: float) -> float | None:
    span = right - left
    if span <= 0:
        return None
    steps = 40
    candidates = sorted(
        (sum(1 for line in lines if line.x0 < x < line.x1), x)
        for x in (left + span * (0.3 + 0.4 * step / steps) for step in range(steps + 1))
    )
    for crossing, x in candidates:
        if crossing > 0.6 * len(lines):
            return None
        # A column is a run of full lines of one width (justified or filled text), narrower than
        # the text area; a few short lines on one side (an address block, a signature) are not a
        # column. One populated column is enough: a first page's text may not reach the second.
        for side in ([line for line in lines if line.x1 <= x], [line for line in lines if line.x0 >= x]):
            widest = max((line.width for line in side), default=0.0)
            full = sum(1 for line in side if line.width >= 0.9 * widest)
            if full >= 6 and widest < 0.75 * span:
                return x
    return None


# --- tables ----------------------------------------------------------------------------------------


def _merge_side_by_side(lines: Sequence[TextLine]) -> list[TextLine]:
    """Lines PDFium gave one after the other on the same baseline, not overlapping, as one line.

    Table cells often come out of PDFium one cell at a time; on the page they are one row.
    """
    out: list[TextLine] = []
    for line in lines:
        prev = out[-1] if out else None
        if (
            prev is not None
            and abs(prev.y - line.y) < 0.3 * max(prev.size, line.size, 1.0)
            and not any(f.x0 < g.x1 and g.x0 < f.x1 for f in prev.fragments for g in line.fragments)
        ):
            merged = sorted([*prev.fragments, *line.fragments], key=lambda f: f.x0)
            out[-1] = TextLine(merged, y=prev.y, size=prev.size, glued=prev.glued, word_gaps=prev.word_gaps + 1)
        else:
            out.append(line)
    return out


def _reorder_cells(lines: Sequence[TextLine]) -> list[TextLine]:
    """Lines of a table PDFium gave cell by cell, sorted top to bottom and left to right.

    A run of short lines (under three quarters of their column's width) that moves back up the page within
    a few lines' height is a grid read one cell at a time: each cell's wrapped lines, then the next
    cell's. Sorted by position, the lines of one row sit side by side again.
    """
    reference = _reference_widths(lines)
    out: list[TextLine] = []
    index = 0
    while index < len(lines):
        end = index
        while (
            end < len(lines)
            and lines[end].width < 0.75 * reference[id(lines[end])]
            and (end == index or abs(lines[end - 1].y - lines[end].y) < 5 * max(lines[end].size, 1.0))
        ):
            end += 1
        if end == index:
            out.append(lines[index])
            index += 1
            continue
        run = lines[index:end]
        moves_up = any(b.y - a.y > 0.3 * max(b.size, 1.0) for a, b in zip(run, run[1:], strict=False))
        out.extend(sorted(run, key=lambda line: (-round(line.y, 1), line.x0)) if len(run) >= 3 and moves_up else run)
        index = end
    return out


def _aligned(a: TextLine, b: TextLine) -> bool:
    """Two rows of one table: at least two cell starts in common (within the tolerance)."""
    tolerance = _ALIGN * max(a.size, b.size, 1.0)
    starts_b = [f.x0 for f in b.fragments]
    common = sum(1 for f in a.fragments if any(abs(f.x0 - x) <= tolerance for x in starts_b))
    return common >= 2


def _table_runs(lines: Sequence[TextLine], leading: float) -> dict[int, int]:
    """Start index -> end index (exclusive) of every table found among ``lines``.

    A run starts at a line with two cells or more whose cells line up with a later row's; it takes
    every following row with cells aligned to the run's columns, and the single-cell lines between
    two such rows that sit inside a column (a cell's wrapped text).
    """
    runs: dict[int, int] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.row_like:
            index += 1
            continue
        end = index + 1
        last_row = index
        while end < len(lines):
            candidate = lines[end]
            pitch = lines[end - 1].y - candidate.y
            size = max(candidate.size, 1.0)
            if pitch <= -0.3 * size or pitch > 3 * leading * size:
                break
            if candidate.row_like and _aligned(lines[last_row], candidate):
                last_row = end
                end += 1
                continue
            if len(candidate.fragments) == 1 and _inside_column(candidate, line):
                end += 1
                continue
            break
        end = last_row + 1  # a run ends at its last aligned row, and the wrapped text right under it
        while (
            end < len(lines)
            and len(lines[end].fragments) == 1
            and _inside_column(lines[end], line)
            and lines[end - 1].y - lines[end].y <= 1.15 * leading * max(lines[end].size, 1.0)
        ):
            end += 1
        if last_row > index:
            runs[index] = end
            index = end
        else:
            index += 1
    return runs


def _inside_column(line: TextLine, row: TextLine) -> bool:
    tolerance = _ALIGN * max(line.size, 1.0)
    return any(abs(line.x0 - f.x0) <= tolerance for f in row.fragments[1:]) or (
        abs(line.x0 - row.fragments[0].x0) <= tolerance and line.x1 < row.fragments[1].x0
    )


def _table_text(lines: Sequence[TextLine], leading: float) -> str:
    """The table's rows as lines of cells joined by " | "."""
    starts = _column_starts(lines)
    padded = any((a.y - b.y) > 1.15 * leading * max(b.size, 1.0) for a, b in zip(lines, lines[1:], strict=False))
    rows: list[list[list[str]]] = []
    prev: TextLine | None = None
    for line in lines:
        size = max(line.size, 1.0)
        cells: list[list[str]] = [[] for _ in starts]
        for fragment in line.fragments:
            cells[_column_of(fragment.x0, starts, size)].append(fragment.text)
        filled = sum(1 for cell in cells if cell)
        current = rows[-1] if rows else None
        # Where rows have padding (a gap wider than the page's line pitch somewhere in the table),
        # only such a gap opens a row: a cell's wrapped text has none. Without padding, every line
        # with two cells or more after a row with two cells or more is a row of its own.
        new_row = (
            current is None
            or prev is None
            or (prev.y - line.y) > 1.15 * leading * size
            or (
                not padded and filled >= 2 and bool(cells[0]) and bool(current[0]) and sum(1 for c in current if c) >= 2
            )
        )
        if new_row:
            rows.append([[] for _ in starts])
        for column, texts in enumerate(cells):
            rows[-1][column].extend(texts)
        prev = line
    return "\n".join(" | ".join(join_lines(cell) for cell in row) for row in rows)


def _column_starts(lines: Sequence[TextLine]) -> list[float]:
    tolerance = _ALIGN * max((line.size for line in lines), default=1.0)
    starts: list[float] = []
    for x in sorted(f.x0 for line in lines for f in line.fragments):
        if not starts or x - starts[-1] > tolerance:
            starts.append(x)
    return starts


def _column_of(x: float, starts: Sequence[float], size: float) -> int:
    column = 0
    for number, start in enumerate(starts):
        if x >= start - _ALIGN * size:
            column = number
    return column
