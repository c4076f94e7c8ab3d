"""The status machine of ``source_documents.celery_status``, enforced in one place.

Statuses move only forward along the stage chain, or to the stage's error status::

    pending → ocr_queued → ocr_processing → ocr_complete → text_processing → text_complete
      → entity_processing → entity_complete → graph_processing → graph_complete

A stage's *entry* status is the one its task finds when it starts (``ocr_queued`` for OCR, the
previous stage's ``*_complete`` for the others). Re-entering ``*_processing`` from itself is
legal: it is what a retry or a redelivery after a worker crash looks like.

Going backwards is never a normal transition. Only an explicit re-drive (reconcile repair,
operator reprocess) may put a document back at the entry status of a stage, and it goes through
:func:`redrive_target`, not :func:`check_transition`.

This module is also the one place that names the stages: their order (:class:`Stage`), their
statuses, and the Celery task name each stage runs under (:data:`TASK_NAMES`). Queue names are
settings (``DOCFLOW_QUEUE_<STAGE>``), looked up by stage with ``Settings.queue_for``.
"""

from __future__ import annotations

from enum import StrEnum

from docflow.core.errors import IllegalTransition


class Stage(StrEnum):
    OCR = "ocr"
    TEXT = "text"
    ENTITY = "entity"
    GRAPH = "graph"

    @property
    def next(self) -> Stage | None:
        order = list(Stage)
        position = order.index(self)
        return order[position + 1] if position + 1 < len(order) else None

    @property
    def task_name(self) -> str:
        """The stable Celery task name this stage runs under (producers send by name)."""
        return TASK_NAMES[self]


# Explicit, stable task names: messages already queued by an older release must still route.
TASK_NAMES: dict[Stage, str] = {
    Stage.OCR: "ocr.process_document",
    Stage.TEXT: "text.chunk_document",
    Stage.ENTITY: "entity.extract_entities",
    Stage.GRAPH: "graph.build_graph",
}
STAGE_BY_TASK_NAME: dict[str, Stage] = {name: stage for stage, name in TASK_NAMES.items()}


class Status(StrEnum):
    PENDING = "pending"
    OCR_QUEUED = "ocr_queued"
    OCR_PROCESSING = "ocr_processing"
    OCR_COMPLETE = "ocr_complete"
    TEXT_PROCESSING = "text_processing"
    TEXT_COMPLETE = "text_complete"
    ENTITY_PROCESSING = "entity_processing"
    ENTITY_COMPLETE = "entity_complete"
    GRAPH_PROCESSING = "graph_processing"
    GRAPH_COMPLETE = "graph_complete"
    ERROR_OCR = "error_ocr"
    ERROR_TEXT = "error_text_processing"
    ERROR_ENTITY = "error_entity"
    ERROR_GRAPH = "error_graph"


class CoarseStatus(StrEnum):
    """``initial_processing_status``: what an operator needs at a glance."""

    PENDING = "pending"
    OCR_QUEUED = "ocr_queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    ERROR_OCR = "error_ocr"
    ERROR_TEXT = "error_text_processing"
    ERROR_ENTITY = "error_entity"
    ERROR_GRAPH = "error_graph"


FORWARD_CHAIN: tuple[Status, ...] = (
    Status.PENDING,
    Status.OCR_QUEUED,
    Status.OCR_PROCESSING,
    Status.OCR_COMPLETE,
    Status.TEXT_PROCESSING,
    Status.TEXT_COMPLETE,
    Status.ENTITY_PROCESSING,
    Status.ENTITY_COMPLETE,
    Status.GRAPH_PROCESSING,
    Status.GRAPH_COMPLETE,
)

ENTRY = {
    Stage.OCR: Status.OCR_QUEUED,
    Stage.TEXT: Status.OCR_COMPLETE,
    Stage.ENTITY: Status.TEXT_COMPLETE,
    Stage.GRAPH: Status.ENTITY_COMPLETE,
}
PROCESSING = {
    Stage.OCR: Status.OCR_PROCESSING,
    Stage.TEXT: Status.TEXT_PROCESSING,
    Stage.ENTITY: Status.ENTITY_PROCESSING,
    Stage.GRAPH: Status.GRAPH_PROCESSING,
}
COMPLETE = {
    Stage.OCR: Status.OCR_COMPLETE,
    Stage.TEXT: Status.TEXT_COMPLETE,
    Stage.ENTITY: Status.ENTITY_COMPLETE,
    Stage.GRAPH: Status.GRAPH_COMPLETE,
}
ERROR = {
    Stage.OCR: Status.ERROR_OCR,
    Stage.TEXT: Status.ERROR_TEXT,
    Stage.ENTITY: Status.ERROR_ENTITY,
    Stage.GRAPH: Status.ERROR_GRAPH,
}

ERROR_STATUSES = frozenset(ERROR.values())
TERMINAL_STATUSES = frozenset({Status.GRAPH_COMPLETE, *ERROR_STATUSES})
IN_FLIGHT_STATUSES = frozenset(set(FORWARD_CHAIN) - {Status.PENDING, Status.GRAPH_COMPLETE})


def _build_transitions() -> dict[Status, frozenset[Status]]:
    allowed: dict[Status, set[Status]] = {status: set() for status in Status}
    allowed[Status.PENDING].update({Status.OCR_QUEUED, Status.ERROR_OCR})
    for stage in Stage:
        entry, processing, complete, error = ENTRY[stage], PROCESSING[stage], COMPLETE[stage], ERROR[stage]
        allowed[entry].update({processing, error})
        # A retry or a redelivery after a crash re-enters the processing status.
        allowed[processing].update({processing, complete, error})
    return {status: frozenset(targets) for status, targets in allowed.items()}


TRANSITIONS: dict[Status, frozenset[Status]] = _build_transitions()


def can_transition(current: Status | str, target: Status | str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


def check_transition(current: Status | str, target: Status | str) -> None:
    """Raise :class:`IllegalTransition` unless ``current → target`` is allowed."""
    if not can_transition(current, target):
        raise IllegalTransition(f"illegal status transition {Status(current)} → {Status(target)}")


def sources_of(target: Status | str) -> frozenset[Status]:
    """Every status from which ``target`` may be reached (for compare-and-set updates)."""
    target = Status(target)
    return frozenset(source for source, targets in TRANSITIONS.items() if target in targets)


def coarse(status: Status | str) -> CoarseStatus:
    """The ``initial_processing_status`` that mirrors a fine-grained status."""
    status = Status(status)
    if status is Status.PENDING:
        return CoarseStatus.PENDING
    if status is Status.OCR_QUEUED:
        return CoarseStatus.OCR_QUEUED
    if status is Status.GRAPH_COMPLETE:
        return CoarseStatus.COMPLETED
    if status in ERROR_STATUSES:
        return CoarseStatus(status.value)
    return CoarseStatus.PROCESSING


def is_terminal(status: Status | str) -> bool:
    return Status(status) in TERMINAL_STATUSES


def stage_of(status: Status | str) -> Stage | None:
    """The stage a document in ``status`` is waiting for or running (None when terminal/pending).

    ``ocr_complete`` means "waiting for the text stage": the stage responsible is the next one.
    """
    status = Status(status)
    if status in TERMINAL_STATUSES or status is Status.PENDING:
        return None
    for stage in Stage:
        if status in (ENTRY[stage], PROCESSING[stage]):
            return stage
    raise AssertionError(f"unclassified status {status}")  # pragma: no cover


def stage_of_error(status: Status | str) -> Stage | None:
    status = Status(status)
    for stage, error in ERROR.items():
        if status is error:
            return stage
    return None


def position(status: Status | str) -> int:
    """Position along the forward chain; error statuses rank at their stage's processing slot."""
    status = Status(status)
    failed = stage_of_error(status)
    if failed is not None:
        return FORWARD_CHAIN.index(PROCESSING[failed])
    return FORWARD_CHAIN.index(status)


def redrive_target(status: Status | str) -> tuple[Stage, Status]:
    """Where a re-drive restarts a document: its current (or failed) stage, at that stage's entry.

    Raises :class:`IllegalTransition` for ``graph_complete`` (nothing to re-drive) and ``pending``
    (never submitted; submit it instead).
    """
    status = Status(status)
    stage = stage_of(status) or stage_of_error(status)
    if stage is None:
        raise IllegalTransition(f"a document in {status} cannot be re-driven")
    return stage, ENTRY[stage]
