"""The stage runner's guarantees, decided without a worker, a broker or a database.

The runner reaches the world only through its ports (``tasks.runner.StagePorts``). Here the
records are an in-memory table that applies the real status machine (``docflow.core.status``)
the way ``docflow.core.documents.transition`` does — compare-and-set on the allowed sources —
and the task is a stand-in with a Celery-shaped ``request`` and ``retry``. The same guarantees
are exercised end to end through real workers by ``tests/integration`` and ``tests/chaos``.
"""

from __future__ import annotations

import copy
import dataclasses
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import psycopg.errors
import pytest
import redis.exceptions
import sqlalchemy.exc
from celery.exceptions import Retry, SoftTimeLimitExceeded

from docflow.core.breaker import CLOSED, HALF_OPEN, OPEN, BreakerState, Store
from docflow.core.db import NoAnswer
from docflow.core.errors import IllegalTransition, PermanentError, StoreUnavailable, TransientError
from docflow.core.settings import get_settings
from docflow.core.status import COMPLETE, ENTRY, PROCESSING, Stage, Status, sources_of
from tasks.deferral import countdown
from tasks.failures import classify, store_failure
from tasks.ports import NotStarted, StageContext, StageOutput, StagePorts, StageWork
from tasks.runner import Delivery, run_deliveries, run_stage

pytestmark = pytest.mark.unit


# -- stand-ins ---------------------------------------------------------------------------------------


class Retried(Exception):
    """What ``task.retry`` raises here (Celery raises its own ``Retry``)."""

    def __init__(self, exc: BaseException, countdown: float, max_retries: int):
        super().__init__(str(exc))
        self.exc, self.countdown, self.max_retries = exc, countdown, max_retries


@dataclass
class FakeTask:
    name: str
    request: SimpleNamespace
    sent: list[dict[str, Any]] = field(default_factory=list)  # messages sent again (deferrals)

    def retry(self, *, exc: BaseException, countdown: float, max_retries: int, **_message: Any) -> None:
        raise Retried(exc, countdown, max_retries)

    def signature_from_request(self, request: SimpleNamespace, **options: Any) -> SimpleNamespace:
        return SimpleNamespace(apply_async=lambda: self.sent.append({"task_id": request.id, **options}))


def delivery(stage: Stage, task_id: str, *, retries: int = 0) -> FakeTask:
    return FakeTask(
        stage.task_name, SimpleNamespace(id=task_id, retries=retries, hostname="worker@test", args=[1], kwargs={})
    )


@dataclass
class MemoryRecords:
    """``source_documents`` and ``stage_runs`` in memory, with the real compare-and-set rule."""

    rows: dict[int, SimpleNamespace] = field(default_factory=dict)
    runs: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    queued: list[tuple[int, Stage, str]] = field(default_factory=list)
    published: list[tuple[Stage, int, str]] = field(default_factory=list)
    saved: list[int] = field(default_factory=list)  # documents whose results were written
    stamped: list[int] = field(default_factory=list)  # rows whose updated_at was set at the commit
    fail_next_lock: BaseException | None = None
    fail_next_complete: BaseException | None = None
    fail_publish: BaseException | None = None
    session: Any = None
    transactions: int = 0

    def add(self, status: Status, *, task_id: str | None) -> int:
        document_id = len(self.rows) + 1
        self.rows[document_id] = SimpleNamespace(
            id=document_id,
            document_uuid=uuid.uuid4(),
            project_id="p",
            celery_status=status.value,
            celery_task_id=task_id,
            error_message=None,
            **{f"{stage.value}_attempts": 0 for stage in Stage},
        )
        return document_id

    # the Records port
    def lock_many(self, *, document_ids: Sequence[int]) -> dict[int, SimpleNamespace]:
        if self.fail_next_lock is not None:
            error, self.fail_next_lock = self.fail_next_lock, None
            raise error
        return {i: self.rows[i] for i in document_ids if i in self.rows}

    def record_deliveries(
        self, *, stage: Stage, deliveries: Sequence[tuple[int, str, int, str | None]]
    ) -> dict[tuple[str, int], int]:
        counts = {}
        for _document_id, task_id, attempt, _host in deliveries:
            run = self.runs.setdefault((task_id, attempt), {"stage": stage, "deliveries": 0, "outcome": "started"})
            run["deliveries"] += 1
            run["outcome"] = "started"
            counts[(task_id, attempt)] = int(run["deliveries"])
        return counts

    def claim_many(self, *, stage: Stage, claims: Sequence[tuple[int, str]]) -> dict[int, SimpleNamespace]:
        moved = {}
        for document_id, task_id in claims:
            row = self.rows[document_id]
            attempts = f"{stage.value}_attempts"
            moved[document_id] = self.transition(
                document_id=document_id,
                to=PROCESSING[stage],
                task_id=task_id,
                extra={attempts: getattr(row, attempts) + 1},
            )
        return moved

    def complete_many(self, *, stage: Stage, completions: Sequence[tuple[int, str, str]]) -> set[int]:
        if self.fail_next_complete is not None:
            error, self.fail_next_complete = self.fail_next_complete, None
            raise error
        moved = set()
        for document_id, expected, following in completions:
            try:
                self.transition(
                    document_id=document_id, to=COMPLETE[stage], task_id=following, expected_task_id=expected
                )
                moved.add(document_id)
            except IllegalTransition:
                continue
        return moved

    def transition(
        self,
        *,
        document_id: int,
        to: Status,
        task_id: str | None = None,
        error_message: str | None = None,
        extra: dict[str, Any] | None = None,
        expected_task_id: str | None = None,
    ) -> SimpleNamespace:
        row = self.rows[document_id]
        if Status(row.celery_status) not in sources_of(to):
            raise IllegalTransition(f"illegal status transition {row.celery_status} → {to.value}")
        if expected_task_id is not None and row.celery_task_id != expected_task_id:
            raise IllegalTransition(f"document {document_id} is now handled by task {row.celery_task_id}")
        row.celery_status, row.error_message = to.value, error_message
        if task_id is not None:
            row.celery_task_id = task_id
        for name, value in (extra or {}).items():
            setattr(row, name, value)
        return SimpleNamespace(**vars(row))

    def finish_run(self, *, task_id: str, attempt: int, outcome: str, error: str | None = None) -> None:
        self.runs.setdefault((task_id, attempt), {"deliveries": 0}).update(outcome=outcome, error=error)

    def finish_runs(self, *, runs: Sequence[tuple[str, int]], outcome: str) -> None:
        for task_id, attempt in runs:
            self.finish_run(task_id=task_id, attempt=attempt, outcome=outcome)

    def record_queued_many(self, *, stage: Stage, task_ids: dict[int, str]) -> None:
        self.queued += [(document_id, stage, task_id) for document_id, task_id in task_ids.items()]

    def stamp_updated(self, *, document_ids: Sequence[int]) -> None:
        self.stamped += list(document_ids)

    # the ports around it
    def ports(self) -> StagePorts:
        @contextmanager
        def unit_of_work() -> Iterator[MemoryRecords]:
            # A transaction: what it changed is undone when it raises (as PostgreSQL rolls back).
            self.transactions += 1
            rows = {i: SimpleNamespace(**vars(row)) for i, row in self.rows.items()}
            runs, queued, saved = copy.deepcopy(self.runs), list(self.queued), list(self.saved)
            try:
                yield self
            except BaseException:
                self.rows, self.runs, self.queued, self.saved = rows, runs, queued, saved
                raise

        def publish(*, stage: Stage, task_ids: dict[int, str]) -> None:
            if self.fail_publish is not None:
                raise self.fail_publish
            self.published += [(stage, document_id, task_id) for document_id, task_id in task_ids.items()]

        return StagePorts(unit_of_work=unit_of_work, publish=publish, monitor=lambda entries: None)


class Work:
    """A stub stage work function that records the documents it saw and fails those it is told to."""

    def __init__(self, raises: BaseException | None = None, *, fails: dict[int, BaseException] | None = None):
        self.raises, self.fails, self.calls = raises, fails or {}, []

    def __call__(self, ctxs: list[StageContext]) -> StageWork:
        outputs: dict[int, StageOutput | BaseException] = {}
        for ctx in ctxs:
            self.calls.append(ctx)
            outputs[ctx.document_id] = self.output(ctx)
        return StageWork(outputs, store=self.store)

    def output(self, ctx: StageContext) -> StageOutput | BaseException:
        if ctx.document_id in self.fails:
            return self.fails[ctx.document_id]
        if self.raises is not None:
            return self.raises
        return StageOutput({"chars": 42}, ctx.document_id)

    def store(self, records: Any, outputs: list[StageOutput]) -> None:
        records.saved += [output.result for output in outputs]


@pytest.fixture
def records() -> MemoryRecords:
    return MemoryRecords()


def run(records: MemoryRecords, task: FakeTask, stage: Stage, document_id: int, work: Work) -> dict[str, Any]:
    return run_stage(task, stage=stage, document_id=document_id, work=work, ports=records.ports())  # type: ignore[arg-type]  # a stand-in task, not a celery.Task


# -- the happy path -------------------------------------------------------------------------------------


def test_a_delivery_claims_works_completes_and_chains_the_next_stage(records):
    # GIVEN a document queued for OCR under task t1
    doc = records.add(Status.OCR_QUEUED, task_id="t1")
    work = Work()
    # WHEN t1 is delivered
    result = run(records, delivery(Stage.OCR, "t1"), Stage.OCR, doc, work)
    # THEN the work ran once on the claimed row, the document is ocr_complete and names the text task,
    row = records.rows[doc]
    assert result["outcome"] == "succeeded" and result["chars"] == 42 and len(work.calls) == 1
    assert work.calls[0].document_id == doc and work.calls[0].task_id == "t1"
    assert row.celery_status == "ocr_complete" and row.ocr_attempts == 1
    # AND the text task was recorded as queued before it was published, under the id the row names
    assert records.queued == [(doc, Stage.TEXT, row.celery_task_id)]
    assert records.published == [(Stage.TEXT, doc, row.celery_task_id)] and row.celery_task_id != "t1"
    assert records.runs[("t1", 0)]["outcome"] == "succeeded"


def test_the_last_stage_chains_nothing(records):
    doc = records.add(Status.ENTITY_COMPLETE, task_id="g1")
    result = run(records, delivery(Stage.GRAPH, "g1"), Stage.GRAPH, doc, Work())
    assert result["outcome"] == "succeeded"
    assert records.rows[doc].celery_status == "graph_complete" and records.published == []


# -- deliveries that must do nothing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "stage", "why"),
    [
        (Status.OCR_QUEUED, Stage.TEXT, "early: the text task arrives before OCR finished"),
        (Status.TEXT_COMPLETE, Stage.OCR, "late: OCR is redelivered after the document moved on"),
        (Status.ERROR_OCR, Stage.OCR, "late: the document already failed this stage"),
        (Status.GRAPH_COMPLETE, Stage.GRAPH, "late: a duplicate of a finished last stage"),
    ],
)
def test_early_and_late_deliveries_are_no_ops(records, status, stage, why):
    # GIVEN a document whose status is not this stage's entry or processing status
    doc = records.add(status, task_id="t1")
    work = Work()
    # WHEN the stage's task is delivered
    result = run(records, delivery(stage, "t1"), stage, doc, work)
    # THEN nothing happens: no work, no status change, no delivery recorded, nothing published
    assert result["outcome"] == "skipped", why
    assert work.calls == [] and records.rows[doc].celery_status == status.value
    assert records.runs == {} and records.published == []


def test_a_stale_message_for_another_task_id_is_a_no_op(records):
    # GIVEN a document re-driven to task t2 while an old message for t1 is still around
    doc = records.add(Status.OCR_QUEUED, task_id="t2")
    work = Work()
    # WHEN the stale t1 is delivered THEN it is acknowledged without effect
    assert run(records, delivery(Stage.OCR, "t1"), Stage.OCR, doc, work)["outcome"] == "skipped"
    assert work.calls == [] and records.rows[doc].celery_task_id == "t2" and records.runs == {}


def test_a_message_for_a_deleted_document_is_dropped(records):
    work = Work()
    assert run(records, delivery(Stage.OCR, "t1"), Stage.OCR, 999, work)["outcome"] == "skipped"
    assert work.calls == []


def test_a_redelivery_after_a_crash_resumes_the_same_attempt(records):
    # GIVEN a delivery that claimed the document, then its worker died (the row says processing)
    doc = records.add(Status.OCR_QUEUED, task_id="t1")
    records.rows[doc].celery_status = Status.OCR_PROCESSING.value
    records.runs[("t1", 0)] = {"stage": Stage.OCR, "deliveries": 1, "outcome": "started"}
    # WHEN the message is delivered again THEN the work runs and the delivery is counted on the same run
    assert run(records, delivery(Stage.OCR, "t1"), Stage.OCR, doc, Work())["outcome"] == "succeeded"
    assert records.runs[("t1", 0)]["deliveries"] == 2


# -- the poison guard ---------------------------------------------------------------------------------------------


def test_a_message_delivered_more_than_max_deliveries_times_ends_the_document(records):
    settings = get_settings()
    # GIVEN a message whose worker died on every one of max_deliveries deliveries
    doc = records.add(Status.OCR_PROCESSING, task_id="t1")
    records.runs[("t1", 0)] = {"stage": Stage.OCR, "deliveries": settings.max_deliveries, "outcome": "started"}
    work = Work()
    # WHEN it is delivered once more
    result = run(records, delivery(Stage.OCR, "t1"), Stage.OCR, doc, work)
    # THEN the work is not attempted again and the document ends in error_ocr, saying why
    row = records.rows[doc]
    assert result["outcome"] == "skipped" and work.calls == []
    assert row.celery_status == "error_ocr" and row.error_message.startswith("poison message:")
    assert f"delivered {settings.max_deliveries} times" in row.error_message
    assert records.runs[("t1", 0)]["outcome"] == "failed" and records.published == []


# -- classified failures ------------------------------------------------------------------------------------------


def test_a_permanent_error_ends_the_stage_at_once_with_its_reason(records):
    doc = records.add(Status.OCR_QUEUED, task_id="t1")
    result = run(
        records,
        delivery(Stage.OCR, "t1"),
        Stage.OCR,
        doc,
        Work(PermanentError("encrypted PDF: a password is required")),
    )
    row = records.rows[doc]
    assert result["outcome"] == "failed"
    assert row.celery_status == "error_ocr" and row.error_message == "encrypted PDF: a password is required"
    assert records.runs[("t1", 0)]["outcome"] == "failed" and records.published == []


def test_an_unforeseen_exception_is_permanent_and_named(records):
    doc = records.add(Status.TEXT_COMPLETE, task_id="e1")
    run(records, delivery(Stage.ENTITY, "e1"), Stage.ENTITY, doc, Work(KeyError("label")))
    assert records.rows[doc].celery_status == "error_entity"
    assert records.rows[doc].error_message == "KeyError: 'label'"


def test_a_soft_time_limit_is_permanent_and_says_the_limit(records):
    doc = records.add(Status.OCR_QUEUED, task_id="t1")
    run(records, delivery(Stage.OCR, "t1"), Stage.OCR, doc, Work(SoftTimeLimitExceeded()))
    soft, _hard = get_settings().time_limits(Stage.OCR)
    assert records.rows[doc].error_message == f"ocr stage exceeded its time limit of {soft}s"


@pytest.mark.parametrize("attempt", [0, 1, 2])
def test_a_transient_error_retries_with_a_jittered_exponential_countdown(records, attempt):
    settings = get_settings()
    # GIVEN a delivery on retry number `attempt` whose work hits an unavailable service
    doc = records.add(Status.OCR_PROCESSING, task_id="t1")
    error = TransientError("object store unreachable during download: ConnectionError")
    # WHEN it runs
    with pytest.raises(Retried) as retried:
        run(records, delivery(Stage.OCR, "t1", retries=attempt), Stage.OCR, doc, Work(error))
    # THEN Celery is asked to retry after the backoff for this attempt, spread by the jitter, bounded
    backoff = settings.retry_backoff_s(attempt)
    spread = backoff * settings.retry_jitter
    assert backoff - spread <= retried.value.countdown <= min(backoff + spread, settings.retry_backoff_max_s)
    assert retried.value.max_retries == settings.retry_max_retries and retried.value.exc is error
    # AND the document stays in its stage, with the retry noted on the row and in the stage log
    row = records.rows[doc]
    assert row.celery_status == "ocr_processing"
    assert row.error_message.startswith(f"transient error, retry {attempt + 1}/{settings.retry_max_retries} in ")
    assert records.runs[("t1", attempt)]["outcome"] == "retrying"


def test_retries_of_many_documents_spread_over_a_window(records):
    # GIVEN twenty documents that all hit the same outage on their first attempt
    countdowns = set()
    for n in range(20):
        doc = records.add(Status.OCR_QUEUED, task_id=f"t{n}")
        with pytest.raises(Retried) as retried:
            run(records, delivery(Stage.OCR, f"t{n}"), Stage.OCR, doc, Work(TransientError("redis down")))
        countdowns.add(round(retried.value.countdown, 3))
    # THEN they do not all come back in the same second
    assert len(countdowns) > 10


def test_a_transient_error_after_the_last_retry_ends_the_stage(records):
    settings = get_settings()
    doc = records.add(Status.OCR_PROCESSING, task_id="t1")
    result = run(
        records,
        delivery(Stage.OCR, "t1", retries=settings.retry_max_retries),
        Stage.OCR,
        doc,
        Work(TransientError("neo4j unavailable")),
    )
    assert result["outcome"] == "failed"
    assert records.rows[doc].error_message == f"gave up after {settings.retry_max_retries} retries: neo4j unavailable"


def test_a_database_outage_while_claiming_is_retried(records):
    # GIVEN PostgreSQL unreachable when the delivery tries to lock the row
    doc = records.add(Status.OCR_QUEUED, task_id="t1")
    records.fail_next_lock = sqlalchemy.exc.OperationalError("SELECT", {}, ConnectionRefusedError())
    work = Work()
    # WHEN it is delivered THEN it retries later without having done any work
    with pytest.raises(Retried):
        run(records, delivery(Stage.OCR, "t1"), Stage.OCR, doc, work)
    assert work.calls == [] and records.rows[doc].celery_status == "ocr_queued"


def test_a_lost_publish_after_completion_leaves_the_row_naming_the_next_task(records):
    # GIVEN Redis gone at the moment the next stage is published
    doc = records.add(Status.OCR_QUEUED, task_id="t1")
    records.fail_publish = TransientError("could not publish text.chunk_document: ConnectionError")
    # WHEN the stage completes THEN the completion stands (the work is not redone),
    assert run(records, delivery(Stage.OCR, "t1"), Stage.OCR, doc, Work())["outcome"] == "succeeded"
    # AND the row names the text task that was never sent: reconcile's LOST rule re-drives it from here
    row = records.rows[doc]
    assert row.celery_status == "ocr_complete" and records.queued[-1] == (doc, Stage.TEXT, row.celery_task_id)
    assert records.published == []


def test_a_duplicate_delivery_finishing_second_is_a_no_op(records):
    # GIVEN two deliveries of t1 running at once; the first completes while the second works
    doc = records.add(Status.OCR_QUEUED, task_id="t1")

    class FinishFirst(Work):
        def output(self, ctx: StageContext) -> StageOutput | BaseException:
            records.rows[doc].celery_status = Status.OCR_COMPLETE.value  # the other delivery's commit
            return super().output(ctx)

    # WHEN the second finishes THEN its completion is refused by the status machine and it is skipped
    assert run(records, delivery(Stage.OCR, "t1"), Stage.OCR, doc, FinishFirst())["outcome"] == "skipped"
    assert records.published == []


def test_a_delivery_superseded_by_a_reprocess_of_the_same_stage_never_completes_it(records):
    # GIVEN an entity delivery e1 at work, when an operator force-reprocesses the document from the
    # entity stage: the row goes back to text_complete under e2, and e2 claims it before e1 finishes
    doc = records.add(Status.TEXT_COMPLETE, task_id="e1")

    class Overtaken(Work):
        def output(self, ctx: StageContext) -> StageOutput | BaseException:
            row = records.rows[doc]
            row.celery_status, row.celery_task_id = Status.ENTITY_PROCESSING.value, "e2"
            return super().output(ctx)

    # WHEN e1's work returns THEN its completion is refused (the row names e2): nothing is chained
    assert run(records, delivery(Stage.ENTITY, "e1"), Stage.ENTITY, doc, Overtaken())["outcome"] == "skipped"
    assert records.rows[doc].celery_status == "entity_processing" and records.rows[doc].celery_task_id == "e2"
    # AND its result was never written over e2's
    assert records.published == [] and records.saved == []


def test_a_delivery_whose_document_was_deleted_meanwhile_writes_nothing(records):
    # GIVEN a delivery whose document is deleted while it works
    doc = records.add(Status.OCR_QUEUED, task_id="t1")

    class Deleted(Work):
        def output(self, ctx: StageContext) -> StageOutput | BaseException:
            del records.rows[doc]
            return super().output(ctx)

    def complete_many(*, stage: Stage, completions: Sequence[tuple[int, str, str]]) -> set[int]:
        return set()  # the row is gone: nothing moves

    records.complete_many = complete_many  # type: ignore[method-assign]  # the deleted row's answer
    # WHEN it completes THEN it is skipped: no result written, nothing published
    assert run(records, delivery(Stage.OCR, "t1"), Stage.OCR, doc, Deleted())["outcome"] == "skipped"
    assert records.saved == [] and records.published == []


def test_a_failure_of_a_superseded_delivery_never_fails_the_new_run(records):
    # GIVEN e1 failing permanently after the document was handed to e2 at the same stage's entry
    doc = records.add(Status.TEXT_COMPLETE, task_id="e1")

    class OvertakenThenFails(Work):
        def output(self, ctx: StageContext) -> StageOutput | BaseException:
            row = records.rows[doc]
            row.celery_status, row.celery_task_id = Status.TEXT_COMPLETE.value, "e2"
            return PermanentError("e1 hit bad input")

    # WHEN e1 records its failure THEN it is refused: e2's run is not turned into error_entity
    assert run(records, delivery(Stage.ENTITY, "e1"), Stage.ENTITY, doc, OvertakenThenFails())["outcome"] == "skipped"
    assert records.rows[doc].celery_status == "text_complete" and records.rows[doc].celery_task_id == "e2"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (TransientError("x"), TransientError),
        (sqlalchemy.exc.OperationalError("q", {}, Exception()), TransientError),
        # the session's connection dropped mid-transaction (PostgreSQL stopped): found by the chaos suite
        (
            sqlalchemy.exc.PendingRollbackError("Can't reconnect until invalid transaction is rolled back"),
            TransientError,
        ),
        (redis.exceptions.ConnectionError(), TransientError),
        (ConnectionResetError(), TransientError),
        (TimeoutError(), TransientError),
        (PermanentError("x"), PermanentError),
        (SoftTimeLimitExceeded(), PermanentError),
        (ValueError("x"), PermanentError),
        (sqlalchemy.exc.IntegrityError("q", {}, Exception()), PermanentError),
    ],
)
def test_errors_are_classified_once_at_the_edge(error, kind):
    assert classify(error) is kind


# -- breakers: a stalled store defers, it does not hold workers or use up retries ------------------------


@dataclass
class MemoryBreakers:
    """The breakers' rules in memory: open after ``threshold`` failures in a row, or at once on no answer."""

    threshold: int = 3
    states: dict[Store, BreakerState] = field(default_factory=dict)
    failures: list[tuple[Store, bool]] = field(default_factory=list)
    successes: list[Store] = field(default_factory=list)

    def open(self, store: Store, *, in_s: float = 4.0) -> None:
        now = time.time()
        self.states[store] = BreakerState(store, OPEN, 0, now, now + in_s, "refused")

    def blocking(self, stores: Iterable[Store]) -> list[BreakerState]:
        return [self.states[s] for s in stores if s in self.states]

    def record_failure(self, store: Store, *, reason: str, unresponsive: bool = False) -> BreakerState:
        self.failures.append((store, unresponsive))
        in_a_row = sum(1 for failed, _ in self.failures if failed is store)
        if unresponsive or in_a_row >= self.threshold:
            self.open(store)
        return self.states.get(store, BreakerState(store, CLOSED, in_a_row))

    def record_success(self, stores: Iterable[Store]) -> None:
        self.successes += list(stores)


def run_with(
    records: MemoryRecords, breakers: MemoryBreakers, task: FakeTask, stage: Stage, doc: int, work: Work, **kw
):
    ports = dataclasses.replace(records.ports(), breakers=breakers)
    return run_stage(task, stage=stage, document_id=doc, work=work, ports=ports, **kw)  # type: ignore[arg-type]  # a stand-in task


def test_a_task_whose_store_breaker_is_open_is_deferred_without_claiming(records):
    # GIVEN Neo4j's breaker open, and a graph task delivered
    doc = records.add(Status.ENTITY_COMPLETE, task_id="g1")
    breakers, work, task = MemoryBreakers(), Work(), delivery(Stage.GRAPH, "g1")
    breakers.open(Store.NEO4J, in_s=4.0)
    # WHEN it runs THEN it is sent again as itself, after about the breaker's wait, and acknowledged
    with pytest.raises(Retry):
        run_with(records, breakers, task, Stage.GRAPH, doc, work)
    (sent,) = task.sent
    assert sent["task_id"] == "g1" and sent["retries"] == 0 and sent["kwargs"] == {"deferred_deliveries": 0}
    assert 3.0 <= sent["countdown"] <= 4.0 * 1.2
    # AND nothing was claimed or counted: no work, no status change, no delivery, no retry used
    assert work.calls == [] and records.rows[doc].celery_status == "entity_complete" and records.runs == {}


@pytest.mark.parametrize("stage", list(Stage))
def test_every_stage_waits_while_the_database_breaker_is_open(records, stage):
    doc = records.add(ENTRY[stage], task_id="t1")
    breakers = MemoryBreakers()
    breakers.open(Store.POSTGRES)
    with pytest.raises(Retry):
        run_with(records, breakers, delivery(stage, "t1"), stage, doc, Work())
    assert records.rows[doc].celery_status == ENTRY[stage].value


def test_other_stages_go_on_while_neo4j_is_open(records):
    doc = records.add(Status.OCR_QUEUED, task_id="t1")
    breakers = MemoryBreakers()
    breakers.open(Store.NEO4J)
    assert run_with(records, breakers, delivery(Stage.OCR, "t1"), Stage.OCR, doc, Work())["outcome"] == "succeeded"
    assert breakers.successes == [Store.POSTGRES, Store.OBJECT_STORE]


def test_a_store_that_stops_answering_opens_its_breaker_and_the_delivery_defers(records):
    # GIVEN a claimed graph delivery whose Neo4j write gets no answer at all
    doc = records.add(Status.ENTITY_COMPLETE, task_id="g1")
    breakers, task = MemoryBreakers(), delivery(Stage.GRAPH, "g1", retries=1)
    silent = StoreUnavailable("neo4j unavailable during graph write", store="neo4j", unresponsive=True)
    # WHEN it runs THEN the breaker opens and the delivery defers instead of retrying
    with pytest.raises(Retry):
        run_with(records, breakers, task, Stage.GRAPH, doc, Work(silent))
    assert breakers.failures == [(Store.NEO4J, True)]
    (sent,) = task.sent
    # AND the deferred copy keeps its retry number and says its delivery was counted
    assert sent["retries"] == 1 and sent["kwargs"] == {"deferred_deliveries": 1}
    row = records.rows[doc]
    assert row.celery_status == "graph_processing" and row.error_message.startswith("deferred: breaker neo4j: open")
    assert records.runs[("g1", 1)]["outcome"] == "deferred"


def test_a_store_failure_below_the_threshold_retries_as_before(records):
    doc = records.add(Status.ENTITY_COMPLETE, task_id="g1")
    breakers, task = MemoryBreakers(), delivery(Stage.GRAPH, "g1")
    refused = StoreUnavailable("neo4j unavailable during graph write: ServiceUnavailable", store="neo4j")
    with pytest.raises(Retried):
        run_with(records, breakers, task, Stage.GRAPH, doc, Work(refused))
    assert breakers.failures == [(Store.NEO4J, False)] and task.sent == []


def test_a_database_that_does_not_answer_while_claiming_defers_the_task(records):
    # GIVEN PostgreSQL silent when the delivery tries to lock the row (the read deadline passed)
    doc = records.add(Status.OCR_QUEUED, task_id="t1")
    records.fail_next_lock = sqlalchemy.exc.OperationalError("SELECT", {}, NoAnswer("no answer within 10s"))
    breakers, work, task = MemoryBreakers(), Work(), delivery(Stage.OCR, "t1")
    # WHEN it is delivered THEN PostgreSQL's breaker opens and the task defers, having claimed nothing
    with pytest.raises(Retry):
        run_with(records, breakers, task, Stage.OCR, doc, work)
    assert breakers.failures == [(Store.POSTGRES, True)] and task.sent[0]["kwargs"] == {"deferred_deliveries": 0}
    assert work.calls == [] and records.rows[doc].celery_status == "ocr_queued"


def test_a_database_deadlock_is_no_store_failure(records):
    error = sqlalchemy.exc.OperationalError("UPDATE", {}, psycopg.errors.DeadlockDetected("deadlock detected"))
    assert store_failure(error) is None


def test_deliveries_that_ended_deferred_do_not_count_as_poison(records):
    settings = get_settings()
    # GIVEN a claimed delivery counted max_deliveries times, one of which ended deferred
    doc = records.add(Status.GRAPH_PROCESSING, task_id="g1")
    records.runs[("g1", 0)] = {"stage": Stage.GRAPH, "deliveries": settings.max_deliveries, "outcome": "deferred"}
    work = Work()
    # WHEN it is delivered again THEN it runs: only crashed deliveries are counted
    result = run_with(
        records, MemoryBreakers(), delivery(Stage.GRAPH, "g1"), Stage.GRAPH, doc, work, deferred_deliveries=1
    )
    assert result["outcome"] == "succeeded" and len(work.calls) == 1


def test_a_deferral_waits_until_the_probe_spread_and_bounded():
    settings = get_settings()
    now = 1000.0
    open_until = BreakerState(Store.NEO4J, OPEN, 0, now - 10, now + 4, "x")
    probing = BreakerState(Store.NEO4J, HALF_OPEN, 0, now - 10, now + 30, "x")
    overdue = BreakerState(Store.NEO4J, OPEN, 0, now - 10, now - 3, "x")
    assert countdown([open_until], settings=settings, now=now, uniform=lambda a, b: a) == pytest.approx(4.0)
    assert countdown([open_until], settings=settings, now=now, uniform=lambda a, b: b) == pytest.approx(4.8)
    assert countdown([probing], settings=settings, now=now, uniform=lambda a, b: a) == settings.breaker_probe_timeout_s
    assert countdown([overdue], settings=settings, now=now, uniform=lambda a, b: a) == 1.0


# -- batches: several deliveries of a stage together, each with its own outcome ----------------------------


def deliveries(records: MemoryRecords, stage: Stage, n: int) -> tuple[list[int], list[Delivery]]:
    ids = [records.add(ENTRY[stage], task_id=f"t{i}") for i in range(n)]
    return ids, [Delivery(f"t{i}", doc, 0, "worker@test") for i, doc in enumerate(ids)]


def test_a_batch_costs_one_claim_and_one_completion_transaction(records):
    # GIVEN three text deliveries together
    ids, batch = deliveries(records, Stage.TEXT, 3)
    # WHEN they run as a batch
    outcomes = run_deliveries(stage=Stage.TEXT, deliveries=batch, work=Work(), ports=records.ports())
    # THEN each succeeded and was chained, its result written; two transactions in all
    assert [o.kind for o in outcomes] == ["succeeded"] * 3 and records.saved == ids
    assert [row.celery_status for row in records.rows.values()] == ["text_complete"] * 3
    assert sorted(doc for _stage, doc, _task in records.published) == ids and records.transactions == 2
    assert records.stamped == ids  # their updated_at says when the completion committed


def test_one_bad_document_of_a_batch_fails_alone(records):
    ids, batch = deliveries(records, Stage.ENTITY, 3)
    work = Work(fails={ids[1]: PermanentError("no text to read")})
    outcomes = run_deliveries(stage=Stage.ENTITY, deliveries=batch, work=work, ports=records.ports())
    assert [o.kind for o in outcomes] == ["succeeded", "failed", "succeeded"]
    assert [records.rows[i].celery_status for i in ids] == ["entity_complete", "error_entity", "entity_complete"]
    assert records.rows[ids[1]].error_message == "no text to read" and records.saved == [ids[0], ids[2]]


def test_a_result_that_cannot_be_written_fails_only_its_document(records):
    # GIVEN a batch whose second result's write is refused for good
    ids, batch = deliveries(records, Stage.GRAPH, 3)

    class RefusedWrite(Work):
        def store(self, records: Any, outputs: list[StageOutput]) -> None:
            if any(output.result == ids[1] for output in outputs):
                raise PermanentError("neo4j rejected graph write: Neo.ClientError.Statement.SyntaxError")
            super().store(records, outputs)

    # WHEN the batch completes THEN the others complete one by one, the refused one fails with the reason
    outcomes = run_deliveries(stage=Stage.GRAPH, deliveries=batch, work=RefusedWrite(), ports=records.ports())
    assert [o.kind for o in outcomes] == ["succeeded", "failed", "succeeded"]
    assert [records.rows[i].celery_status for i in ids] == ["graph_complete", "error_graph", "graph_complete"]


def test_a_redelivery_runs_alone_outside_the_batch(records):
    # GIVEN a batch in which one message was delivered before, and its process died
    ids, batch = deliveries(records, Stage.ENTITY, 3)
    records.runs[("t1", 0)] = {"stage": Stage.ENTITY, "deliveries": 1, "outcome": "started"}
    work = Work()
    # WHEN the batch runs THEN that one is sent again to run alone, counted as a delivery that ended
    # deferred, and not claimed; the others run
    outcomes = run_deliveries(stage=Stage.ENTITY, deliveries=batch, work=work, ports=records.ports())
    assert [o.kind for o in outcomes] == ["succeeded", "alone", "succeeded"]
    assert outcomes[1].deferred_deliveries == 1 and records.rows[ids[1]].celery_status == "text_complete"
    assert [ctx.document_id for ctx in work.calls] == [ids[0], ids[2]]


def test_documents_a_batch_did_not_start_before_its_time_limit_run_alone(records):
    ids, batch = deliveries(records, Stage.ENTITY, 3)
    work = Work(fails={ids[1]: SoftTimeLimitExceeded(), ids[2]: NotStarted("not started")})
    outcomes = run_deliveries(stage=Stage.ENTITY, deliveries=batch, work=work, ports=records.ports())
    assert [o.kind for o in outcomes] == ["succeeded", "failed", "alone"]
    assert outcomes[2].deferred_deliveries == 1 and records.rows[ids[2]].celery_status == "entity_processing"


def test_a_second_message_for_a_document_in_the_same_batch_is_a_no_op(records):
    doc = records.add(Status.OCR_COMPLETE, task_id="t1")
    batch = [Delivery("t1", doc), Delivery("t1", doc)]
    outcomes = run_deliveries(stage=Stage.TEXT, deliveries=batch, work=Work(), ports=records.ports())
    assert [o.kind for o in outcomes] == ["succeeded", "skipped"] and records.saved == [doc]


def test_a_stale_message_does_not_hide_the_current_one_behind_it_in_a_batch(records):
    # GIVEN a document forced back to OCR under t2 while its first message t1 still waited, so that
    # both messages are collected into one batch, the stale one first
    doc = records.add(Status.OCR_QUEUED, task_id="t2")
    batch = [Delivery("t1", doc), Delivery("t2", doc)]
    work = Work()
    # WHEN the batch runs
    outcomes = run_deliveries(stage=Stage.OCR, deliveries=batch, work=work, ports=records.ports())
    # THEN the stale one is a no-op and the current one runs (found in CI: both were skipped and the
    # document waited in ocr_queued for reconcile)
    assert [o.kind for o in outcomes] == ["skipped", "succeeded"]
    assert records.rows[doc].celery_status == "ocr_complete" and [c.task_id for c in work.calls] == ["t2"]


def test_a_heavy_original_runs_alone_not_in_an_ocr_batch(records):
    ids, batch = deliveries(records, Stage.OCR, 2)
    records.rows[ids[0]].heavy = True
    records.rows[ids[1]].heavy = False
    outcomes = run_deliveries(
        stage=Stage.OCR, deliveries=batch, work=Work(), ports=records.ports(), batchable=lambda row: not row.heavy
    )
    assert [o.kind for o in outcomes] == ["alone", "succeeded"] and outcomes[0].deferred_deliveries == 0
    assert ("t0", 0) not in records.runs  # not counted: it never started here


def test_an_open_breaker_defers_the_whole_batch(records):
    _ids, batch = deliveries(records, Stage.GRAPH, 3)
    breakers = MemoryBreakers()
    breakers.open(Store.NEO4J)
    ports = dataclasses.replace(records.ports(), breakers=breakers)
    outcomes = run_deliveries(stage=Stage.GRAPH, deliveries=batch, work=Work(), ports=ports)
    assert [o.kind for o in outcomes] == ["defer"] * 3 and records.transactions == 0
