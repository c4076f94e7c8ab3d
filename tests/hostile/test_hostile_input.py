"""Hostile and broken input against the real stack and real workers (issue 7, parts 3 and 4).

Every kind in :mod:`tests.fixtures.hostile_inputs` is submitted the way production submits it -- documents
through ``docflow.ops.submit.ingest_file``, filesystem tricks through ``docflow.ops.intake.sweep`` -- and
must end in its expected terminal status with a specific, human-readable reason, while:

* the worker survives: same main pid, still answers a ping, and no stage message of these
  documents was delivered twice (a child killed mid-task -- a native crash, an OOM kill -- would
  put its message back, and ``stage_runs.deliveries`` would say so);
* a good document submitted in the same batch still reaches ``graph_complete``;
* object keys are derived from content, never from a (hostile) filename;
* text full of quotes and SQL/Cypher syntax round-trips unchanged through PostgreSQL and Neo4j;
* nothing outside the intake root is ever read.

Run with ``-s`` to see the kind -> expected -> actual table of each test.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from docflow.core.db import session_scope
from docflow.core.graph import GraphStore
from docflow.core.models import CanonicalEntity, EntityMention, SourceDocument, StageRun
from docflow.core.names import base_name
from docflow.core.results import load_chunks
from docflow.ops import intake
from docflow.ops.intake import batch as intake_batch
from docflow.ops.progress import wait_for_documents
from docflow.ops.submit import ingest_file
from tests.fixtures.hostile_inputs import (
    ENTITY_FILENAME,
    ENTITY_PROBES,
    ENTITY_TEXT,
    HOSTILE_SUBMIT_NAME,
    Expect,
    build_intake_folder,
    build_mid_sweep_folder,
    document_cases,
)

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow, pytest.mark.hostile]

TIMEOUT_S = 180
# Derived keys only: a fixed prefix, the (sanitised) project id and the content hash.
KEY_SHAPE = re.compile(r"^originals/[A-Za-z0-9._-]+/[0-9a-f]{2}/[0-9a-f]{64}$")
# What must never be in a stored (displayed) name: controls, bidi overrides, lone surrogates.
UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


# --- helpers --------------------------------------------------------------------------------------


def _document(document_id: int) -> SourceDocument:
    with session_scope() as session:
        return session.get(SourceDocument, document_id)


def _chunk_text(document_id: int) -> str:
    with session_scope() as session:
        return "\n".join(chunk.text for chunk in load_chunks(session, document_id=document_id))


def _worker_state(settings) -> tuple[int | None, list[str]]:
    """(main pid of the session's worker, names of the workers answering a ping)."""
    from docflow.core.broker import get_app
    from docflow.services import workers as worker_processes

    replies = get_app().control.ping(timeout=2.0) or []
    return worker_processes.running(settings).get("pytest"), [name for reply in replies for name in reply]


def _redelivered(document_ids: list[int]) -> list[tuple[int, str, int]]:
    """Stage runs of these documents whose message came more than once (a worker died holding it)."""
    with session_scope() as session:
        rows = session.execute(
            select(StageRun.document_id, StageRun.stage, StageRun.deliveries).where(
                StageRun.document_id.in_(document_ids), StageRun.deliveries > 1
            )
        ).all()
    return [tuple(row) for row in rows]


def _check_document(document_id: int, expect: Expect) -> tuple[str, str, list[str]]:
    """(actual status, actual reason or text sample, problems) for one document."""
    document = _document(document_id)
    problems = []
    status, reason = document.celery_status, document.error_message or ""
    if status != expect.status:
        problems.append(f"status {status!r} != {expect.status!r}")
    if expect.reason and not re.search(expect.reason, reason):
        problems.append(f"reason {reason!r} !~ {expect.reason!r}")
    shown = reason
    if expect.status == "graph_complete" and status == "graph_complete":
        body = _chunk_text(document_id)
        shown = body[:70].replace("\n", " ")
        if expect.text and not re.search(expect.text, body, re.S):
            problems.append(f"text !~ {expect.text!r}")
        if expect.absent and re.search(expect.absent, body):
            problems.append(f"text contains {expect.absent!r}")
        if document.error_message:
            problems.append(f"completed with an error message {document.error_message!r}")
    return status, shown, problems


def _print_table(title: str, rows: list[tuple[str, str, str, str]]) -> None:
    print(f"\n{title}\n| kind | expected | actual | reason / text |\n|---|---|---|---|")
    for kind, expected, actual, reason in rows:
        print(f"| {kind} | {expected} | {actual} | {reason[:150]} |")


def _assert_keys_derived(settings, project_id: str, document_ids: list[int], names: list[str]) -> None:
    from docflow.core.storage import ObjectStorage, original_key

    with session_scope() as session:
        rows = session.execute(
            select(SourceDocument.object_key, SourceDocument.sha256).where(SourceDocument.id.in_(document_ids))
        ).all()
    for key, sha in rows:
        assert KEY_SHAPE.match(key) and key == original_key(project_id=project_id, sha256=sha), key
    storage = ObjectStorage(settings)
    prefix = original_key(project_id=project_id, sha256="0" * 64).rsplit("/", 2)[0] + "/"
    stored = [obj.object_name for obj in storage.client.list_objects(settings.s3_bucket, prefix=prefix, recursive=True)]
    assert stored and all(KEY_SHAPE.match(key) for key in stored), stored
    # No word of any submitted name is in a key (words of 4+ letters that are not all hex digits,
    # so a digest cannot match one by chance).
    fragments = {
        part
        for name in names
        for part in re.split(r"[^A-Za-z]+", name)
        if len(part) >= 4 and not re.fullmatch(r"[a-fA-F]+", part)
    }
    assert not [key for key in stored for part in fragments if part.lower() in key.lower()]


# --- documents through ingest_file ----------------------------------------------------------------


def test_every_hostile_document_ends_in_its_status_with_a_clear_reason_and_no_worker_dies(
    workers, sample_files, project_id, tmp_path
):
    settings = workers
    cases = document_cases(settings)
    good, _bad = sample_files
    pid_before, answering = _worker_state(settings)
    assert pid_before and any(name.startswith("docflow-pytest@") for name in answering)

    # GIVEN every hostile kind written to disk under a neutral local name, plus one good document
    submitted: dict[int, object] = {}
    for case in cases:
        local = tmp_path / f"{case.kind}{Path(case.filename).suffix}"
        local.write_bytes(case.data)
        # WHEN each is submitted under its (possibly hostile) original name, in one batch
        result = ingest_file(path=local, project_id=project_id, original_file_name=case.filename)
        assert result.created, case.kind
        submitted[result.document_id] = case
    good_id = ingest_file(path=good["born_digital.pdf"], project_id=project_id).document_id
    final = wait_for_documents([*submitted, good_id], timeout_s=TIMEOUT_S)

    # THEN each ends in its expected terminal status with its specific reason (or correct text)
    rows, failures = [], []
    for document_id, case in submitted.items():
        status, shown, problems = _check_document(document_id, case.expect)
        expected = case.expect.status + (f" ~ /{case.expect.reason}/" if case.expect.reason else "")
        rows.append((case.kind, expected, status, shown))
        failures += [f"{case.kind}: {problem}" for problem in problems]
    _print_table(f"{len(cases)} hostile document kinds (project {project_id})", rows)
    assert not failures, "\n".join(failures)
    # AND every stored name is display-safe (the hostile one was cleaned, not refused)
    with session_scope() as session:
        stored = dict(
            session.execute(
                select(SourceDocument.id, SourceDocument.original_file_name).where(
                    SourceDocument.id.in_(list(submitted))
                )
            ).all()
        )
    assert not [n for n in stored.values() if UNSAFE_NAME.search(n)], stored
    hostile = next(d for d, c in submitted.items() if c.filename == HOSTILE_SUBMIT_NAME)
    assert stored[hostile] == "nul\ufffd-esc\ufffd[2J-rlo\ufffd-caf\\xe9.txt"
    # AND bad input failed fast: one OCR attempt, no retries
    errored = [d for d, c in submitted.items() if c.expect.status == "error_ocr"]
    with session_scope() as session:
        attempts = dict(
            session.execute(
                select(SourceDocument.id, SourceDocument.ocr_attempts).where(SourceDocument.id.in_(errored))
            ).all()
        )
    assert set(attempts.values()) == {1}, attempts
    # AND the good document in the same batch completed
    assert final[good_id] == "graph_complete"

    # AND no worker died: same main process, still answering, no message delivered twice
    pid_after, answering = _worker_state(settings)
    assert pid_after == pid_before and any(name.startswith("docflow-pytest@") for name in answering)
    assert _redelivered([*submitted, good_id]) == []

    # AND object keys are content-derived; no submitted filename leaks into one
    _assert_keys_derived(settings, project_id, [*submitted, good_id], [c.filename for c in cases])


def test_quotes_and_sql_cypher_syntax_round_trip_through_postgres_and_neo4j(workers, project_id, tmp_path):
    settings = workers
    local = tmp_path / "entities.txt"
    local.write_bytes(ENTITY_TEXT.encode())
    # GIVEN a text naming O'Brien & "Sons" Ltd., Robert'); DROP TABLE chunks;-- and a Cypher
    # injection attempt, submitted under a name that is itself SQL and Cypher
    document_id = ingest_file(path=local, project_id=project_id, original_file_name=ENTITY_FILENAME).document_id
    assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}
    document = _document(document_id)

    # THEN PostgreSQL holds the text and the name byte for byte (its base name: the folders a
    # name claims are the sender's), and its tables are all there
    stored_name = base_name(ENTITY_FILENAME)
    assert stored_name.startswith("O'Brien \"})")
    body = _chunk_text(document_id)
    assert all(probe in body for probe in ENTITY_PROBES), body
    assert document.original_file_name == stored_name
    with session_scope() as session:
        assert session.execute(text("SELECT count(*) FROM chunks")).scalar() >= 1
        entities = session.execute(
            select(CanonicalEntity.normalized_key, CanonicalEntity.label, CanonicalEntity.display_name)
            .join(EntityMention, EntityMention.canonical_entity_id == CanonicalEntity.id)
            .where(EntityMention.document_id == document_id)
            .distinct()
        ).all()
    quoted = [name for _key, _label, name in entities if "'" in name or '"' in name]
    # spaCy finds the company with both kinds of quote in its name (and O'Brien the person)
    assert any("'" in name and '"' in name for name in quoted), entities

    # AND Neo4j holds the same: document name, chunk text, and every entity name unchanged
    with GraphStore(settings) as graph:
        names = graph.query("MATCH (d:Document {uuid: $uuid}) RETURN d.name AS name", uuid=str(document.document_uuid))
        chunk_text = "\n".join(
            row["text"]
            for row in graph.query(
                "MATCH (:Document {uuid: $uuid})-[:HAS_CHUNK]->(c:Chunk) RETURN c.text AS text ORDER BY c.index",
                uuid=str(document.document_uuid),
            )
        )
        graph_entities = {
            row["key"]: row["name"]
            for row in graph.query(
                "MATCH (:Document {uuid: $uuid})-[:HAS_CHUNK]->(:Chunk)-[:MENTIONS]->(e:Entity) "
                "RETURN DISTINCT e.key AS key, e.name AS name",
                uuid=str(document.document_uuid),
            )
        }
        total_documents = graph.query("MATCH (d:Document) RETURN count(d) AS n")[0]["n"]
    assert names == [{"name": stored_name}]
    assert chunk_text == body
    expected = {f"{project_id}|{label}|{key}": name for key, label, name in entities}
    assert graph_entities == expected
    # AND the injection attempts did nothing: other documents are still in the graph
    assert total_documents >= 1
    _print_table(
        "entity round trip",
        [("hostile_name_and_entity_text", "graph_complete", "graph_complete", "; ".join(sorted(quoted)))],
    )


# --- names and entries only a filesystem can produce, through the intake sweep -------------------


def _outcomes_by_name(report: intake.SweepReport) -> dict[str, list[intake.FileOutcome]]:
    grouped: dict[str, list[intake.FileOutcome]] = {}
    for outcome in report.files:
        grouped.setdefault(outcome.name, []).append(outcome)
    return grouped


def test_hostile_names_and_entries_in_the_intake_folder(workers, project_id, tmp_path):
    settings = workers
    root, outside = tmp_path / "intake", tmp_path / "outside"
    entries = build_intake_folder(root, outside)
    secret = (outside / "secret.txt").read_bytes()

    # WHEN the folder is swept (one batch: every name goes through the same multi-row writes)
    report = intake.sweep(intake.SweepOptions(source=str(root), project_id=project_id, stable_seconds=30), settings)
    by_name = _outcomes_by_name(report)

    # THEN every entry is accounted for with its outcome and reason
    rows, failures, new_ids = [], [], {}
    for entry in entries:
        # NFC/NFD twins share a display name: each takes one of that name's outcomes.
        candidates = by_name.get(entry.report_name, [])
        outcome = candidates.pop(0) if candidates else None
        if outcome is None:
            failures.append(f"{entry.kind}: no outcome named {entry.report_name!r} in {sorted(by_name)}")
            rows.append((entry.kind, entry.expect.status, "MISSING", ""))
            continue
        rows.append(
            (
                entry.kind,
                entry.expect.status + (f" ~ /{entry.expect.reason}/" if entry.expect.reason else ""),
                outcome.outcome,
                outcome.reason or "",
            )
        )
        if outcome.outcome != entry.expect.status:
            failures.append(f"{entry.kind}: {outcome.outcome} ({outcome.reason}) != {entry.expect.status}")
        elif entry.expect.reason and not re.search(entry.expect.reason, outcome.reason or ""):
            failures.append(f"{entry.kind}: reason {outcome.reason!r} !~ {entry.expect.reason!r}")
        if outcome.outcome == "new":
            new_ids[outcome.document_id] = entry
    leftovers = [o for outcomes in by_name.values() for o in outcomes]
    _print_table(f"{len(entries)} intake entries (sweep)", rows)
    assert not failures, "\n".join(failures)
    # (the deep folders themselves are walked, not reported; nothing else is left over)
    assert leftovers == [], leftovers
    # AND the NFC and NFD spellings of one name became two documents
    assert len({d for d, e in new_ids.items() if e.kind.startswith("unicode_")}) == 2

    # AND every accepted file completes with its own text, under a display-safe stored name
    final = wait_for_documents(new_ids, timeout_s=TIMEOUT_S)
    finished, matched = [], []
    accepted = [e for e in entries if e.expect.status == "new"]
    for document_id, entry in new_ids.items():
        status, _shown, problems = _check_document(document_id, Expect(entry.expect.document_status))
        failures += [f"{entry.kind}: {problem}" for problem in problems]
        # Twins share a display name, so which outcome is whose is told by the text (the kind).
        body = _chunk_text(document_id)
        kinds = [e.kind for e in accepted if e.report_name == entry.report_name and re.search(e.expect.text, body)]
        matched += kinds
        stored = _document(document_id).original_file_name
        finished.append((kinds[0] if len(kinds) == 1 else entry.kind, "graph_complete", status, stored))
        if UNSAFE_NAME.search(stored):
            failures.append(f"{entry.kind}: stored name {stored!r} is not display-safe")
    _print_table("accepted intake files", finished)
    assert not failures, "\n".join(failures)
    assert set(final.values()) == {"graph_complete"}
    assert sorted(matched) == sorted(e.kind for e in accepted)  # each file became its own document

    # AND nothing from outside the root was read: the secret's bytes are not a document
    with session_scope() as session:
        leaked = session.scalar(
            select(func.count()).where(
                SourceDocument.project_id == project_id, SourceDocument.sha256 == hashlib.sha256(secret).hexdigest()
            )
        )
    assert leaked == 0
    _assert_keys_derived(settings, project_id, list(new_ids), [e.report_name for e in entries])

    # AND a second sweep is a no-op that still accounts for everything
    again = intake.sweep(intake.SweepOptions(source=str(root), project_id=project_id, stable_seconds=30), settings)
    assert again.counts()["new"] == 0 and len(again.files) == len(report.files)
    names = {e.report_name for e in accepted}
    assert {(o.outcome, o.reason) for o in again.files if o.name in names} == {
        ("skipped", "already swept (unchanged since)")
    }


def test_files_that_vanish_change_or_become_symlinks_mid_sweep(workers, project_id, tmp_path, monkeypatch):
    from docflow.core.storage import ObjectStorage, original_key

    settings = workers
    root, outside = tmp_path / "intake", tmp_path / "outside"
    entries = build_mid_sweep_folder(root, outside)
    secret = (outside / "swap-secret.txt").read_bytes()
    hashed_before = {
        e.report_name: hashlib.sha256((root / e.report_name).read_bytes()).hexdigest()
        for e in entries
        if e.when == "hashed"
    }

    mutated = []

    def after_batch(done: int, total: int) -> None:
        if done == 1:  # after the first file: everything else was discovered, nothing else read
            for entry in entries:
                if entry.when == "first_batch":
                    entry.mutate()
            mutated.append(done)

    real_hash = intake_batch._hash
    tamper = {e.report_name: e.mutate for e in entries if e.when == "hashed"}

    def hash_then_tamper(candidate):
        # The writer strikes in the window between hashing and uploading.
        result = real_hash(candidate)
        if isinstance(result, intake.Candidate) and candidate.shown in tamper:
            tamper.pop(candidate.shown)()
        return result

    monkeypatch.setattr(intake_batch, "_hash", hash_then_tamper)

    # WHEN the folder is swept one file per batch and the files change under the sweep
    report = intake.sweep(
        intake.SweepOptions(source=str(root), project_id=project_id, stable_seconds=30, batch_size=1),
        settings,
        on_batch=after_batch,
    )
    assert mutated == [1]
    by_name = {o.name: o for o in report.files}

    # THEN the first file is new, and each mutated one is skipped or rejected with its reason
    rows = [("mid_sweep_first", "new", by_name["a-first.txt"].outcome, by_name["a-first.txt"].reason or "")]
    assert by_name["a-first.txt"].outcome == "new"
    failures = []
    for entry in entries:
        outcome = by_name.get(entry.report_name)
        rows.append(
            (
                entry.kind,
                f"{entry.expect.status} ~ /{entry.expect.reason}/",
                outcome.outcome if outcome else "MISSING",
                (outcome.reason or "") if outcome else "",
            )
        )
        if (
            outcome is None
            or outcome.outcome != entry.expect.status
            or not re.search(entry.expect.reason, outcome.reason or "")
        ):
            failures.append(f"{entry.kind}: {outcome}")
    _print_table("mid-sweep changes", rows)
    assert not failures, "\n".join(failures)
    # AND the outside file the decoy was swapped for was never registered
    with session_scope() as session:
        leaked = session.scalar(
            select(func.count()).where(
                SourceDocument.project_id == project_id, SourceDocument.sha256 == hashlib.sha256(secret).hexdigest()
            )
        )
        registered = session.scalar(select(func.count()).where(SourceDocument.project_id == project_id))
    assert leaked == 0 and registered == 1
    # AND no content key holds other content: the tampered files' keys were removed again
    storage = ObjectStorage(settings)
    assert tamper == {}
    assert not [
        name for name, sha in hashed_before.items() if storage.exists(original_key(project_id=project_id, sha256=sha))
    ]
    first = by_name["a-first.txt"].document_id
    assert wait_for_documents([first], timeout_s=TIMEOUT_S) == {first: "graph_complete"}


# --- a PDF that crashes PDFium itself: the child dies, the poison guard ends it --------------------

CRASH_QUEUE = "ocr-hostile-crash"
# The dedicated worker's address-space cap: room for the worker, not for the bomb's 2 GB stream.
CRASH_WORKER_MEMORY = int(2.5 * (1 << 30))


def _cap_memory() -> None:  # runs in the worker process before exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CRASH_WORKER_MEMORY, CRASH_WORKER_MEMORY))


def test_a_pdf_that_crashes_pdfium_ends_in_error_ocr_through_the_poison_guard(
    workers, sample_files, project_id, tmp_path
):
    """PDFium inflates a content stream whole and aborts the process when that allocation fails.

    No Python ``except`` can catch that: the pool child dies, ``task_reject_on_worker_lost`` puts
    the message back, and the poison guard (``max_deliveries``, counted in ``stage_runs``) ends
    the document instead of letting it kill children forever. The crash is made deterministic by
    a dedicated worker with an address-space cap on its own OCR queue (in production the same
    file ends the same way through the kernel's OOM killer, only later and less politely).
    """
    import os
    import subprocess
    import time

    from docflow.core import documents
    from docflow.core.broker import create_app, get_app, new_task_id
    from docflow.core.status import Stage, Status
    from docflow.services.process import terminate
    from docflow.services.workers import WORKER_ENV, worker_command
    from tests.fixtures.hostile_inputs import flate_bomb_pdf

    settings = workers
    crash_settings = settings.model_copy(update={"queue_ocr": CRASH_QUEUE})
    bomb = tmp_path / "flate-bomb.pdf"
    bomb.write_bytes(flate_bomb_pdf(2 << 30))  # 2 MB on disk, a 2 GB content stream

    # GIVEN a memory-capped worker of its own, serving only its own OCR queue
    log = tmp_path / "crash-worker.log"
    env = {
        **os.environ,
        **WORKER_ENV,
        "DOCFLOW_QUEUE_OCR": CRASH_QUEUE,
        "DOCFLOW_WORKER_CHILD_ADDRESS_SPACE_MB": str(CRASH_WORKER_MEMORY >> 20),
    }
    command = worker_command(crash_settings, name="hostile-crash", queues=[CRASH_QUEUE], concurrency=1)
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            preexec_fn=_cap_memory,
        )
    try:
        deadline = time.monotonic() + 90
        while not any(
            name.startswith("docflow-hostile-crash@")
            for reply in get_app().control.ping(timeout=1.0) or []
            for name in reply
        ):
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]

        # WHEN the PDF is registered and queued for that worker, next to a good document for the others
        document_id = ingest_file(path=bomb, project_id=project_id, submit=False).document_id
        task_id = new_task_id()
        with session_scope() as session:  # what submit_document records, before the publish
            documents.transition(session, document_id=document_id, to=Status.OCR_QUEUED, task_id=task_id)
            documents.record_queued(session, document_id=document_id, stage=Stage.OCR, task_id=task_id)
        create_app(crash_settings).send_task(Stage.OCR.task_name, args=[document_id], task_id=task_id)
        good_id = ingest_file(path=sample_files[0]["field_notes.txt"], project_id=project_id).document_id
        final = wait_for_documents([document_id, good_id], timeout_s=TIMEOUT_S)

        # THEN the child died of the native abort each time, max_deliveries times, and no more
        crashes = log.read_text(errors="replace").count("exited with 'signal 6 (SIGABRT)'")
        assert final == {document_id: "error_ocr", good_id: "graph_complete"}, final
        reason = _document(document_id).error_message
        assert re.fullmatch(
            rf"poison message: ocr\.process_document was delivered {settings.max_deliveries} times "
            r"without finishing \(its worker died each time\); giving up",
            reason,
        ), reason
        assert crashes == settings.max_deliveries, log.read_text()[-3000:]
        with session_scope() as session:
            deliveries = session.scalar(select(StageRun.deliveries).where(StageRun.celery_task_id == task_id))
        assert deliveries == settings.max_deliveries + 1  # the last one only recorded the verdict
        # AND the capped worker itself (its main process) survived every crash of its child
        assert worker.poll() is None
        _print_table(
            "native crash",
            [
                (
                    "pdf_flate_bomb_crashes_pdfium",
                    "error_ocr ~ /poison message/",
                    final[document_id],
                    f"{reason} ({crashes} x SIGABRT in the worker log)",
                )
            ],
        )
    finally:
        terminate(worker.pid, timeout=20)
