"""The status machine: forward only, errors from each stage, re-drives explicit."""

import itertools

import pytest

from docflow.core.errors import IllegalTransition
from docflow.core.status import (
    FORWARD_CHAIN,
    CoarseStatus,
    Stage,
    Status,
    can_transition,
    check_transition,
    coarse,
    redrive_target,
    sources_of,
    stage_of,
)

pytestmark = pytest.mark.unit


def test_the_forward_chain_is_allowed_step_by_step():
    # GIVEN the documented chain WHEN each step is checked THEN each is legal
    for current, target in itertools.pairwise(FORWARD_CHAIN):
        check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Status.OCR_COMPLETE, Status.OCR_PROCESSING),  # backwards
        (Status.PENDING, Status.TEXT_PROCESSING),  # skipping stages
        (Status.GRAPH_COMPLETE, Status.OCR_QUEUED),  # leaving a terminal status
        (Status.ERROR_OCR, Status.OCR_PROCESSING),  # leaving an error without a re-drive
        (Status.TEXT_PROCESSING, Status.ERROR_OCR),  # the wrong stage's error
        (Status.OCR_QUEUED, Status.OCR_COMPLETE),  # completing without processing
    ],
)
def test_illegal_transitions_raise(current, target):
    with pytest.raises(IllegalTransition, match="illegal status transition"):
        check_transition(current, target)


def test_each_stage_can_fail_from_entry_and_processing():
    assert can_transition(Status.OCR_QUEUED, Status.ERROR_OCR)
    assert can_transition(Status.OCR_PROCESSING, Status.ERROR_OCR)
    assert can_transition(Status.OCR_COMPLETE, Status.ERROR_TEXT)
    assert can_transition(Status.TEXT_PROCESSING, Status.ERROR_TEXT)
    assert can_transition(Status.ENTITY_PROCESSING, Status.ERROR_ENTITY)
    assert can_transition(Status.GRAPH_PROCESSING, Status.ERROR_GRAPH)


def test_redelivery_reenters_processing():
    # A retry or redelivery after a worker crash starts the same stage again.
    for status in (Status.OCR_PROCESSING, Status.TEXT_PROCESSING, Status.ENTITY_PROCESSING, Status.GRAPH_PROCESSING):
        assert can_transition(status, status)


def test_terminal_statuses_have_no_way_out():
    for status in (Status.GRAPH_COMPLETE, Status.ERROR_OCR, Status.ERROR_TEXT, Status.ERROR_ENTITY, Status.ERROR_GRAPH):
        assert not any(can_transition(status, target) for target in Status)


def test_coarse_status_mirrors_the_fine_one():
    assert coarse(Status.PENDING) is CoarseStatus.PENDING
    assert coarse(Status.OCR_QUEUED) is CoarseStatus.OCR_QUEUED
    assert coarse(Status.ENTITY_PROCESSING) is CoarseStatus.PROCESSING
    assert coarse(Status.GRAPH_COMPLETE) is CoarseStatus.COMPLETED
    assert coarse(Status.ERROR_TEXT) is CoarseStatus.ERROR_TEXT


def test_sources_of_processing_include_entry_and_itself():
    assert sources_of(Status.TEXT_PROCESSING) == {Status.OCR_COMPLETE, Status.TEXT_PROCESSING}


def test_stage_responsible_for_a_status():
    assert stage_of(Status.OCR_QUEUED) is Stage.OCR
    assert stage_of(Status.OCR_COMPLETE) is Stage.TEXT  # waiting for the text stage
    assert stage_of(Status.GRAPH_PROCESSING) is Stage.GRAPH
    assert stage_of(Status.GRAPH_COMPLETE) is None


def test_redrive_restarts_the_current_or_failed_stage():
    assert redrive_target(Status.OCR_PROCESSING) == (Stage.OCR, Status.OCR_QUEUED)
    assert redrive_target(Status.ENTITY_PROCESSING) == (Stage.ENTITY, Status.TEXT_COMPLETE)
    assert redrive_target(Status.ERROR_GRAPH) == (Stage.GRAPH, Status.ENTITY_COMPLETE)
    with pytest.raises(IllegalTransition):
        redrive_target(Status.GRAPH_COMPLETE)
