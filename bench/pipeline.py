"""The whole docflow pipeline against its raw floor and a peer, on one generated corpus, in one run.

    flock /tmp/docflow-heavy.lock .venv/bin/python -m bench.pipeline --docs 200 [--repeat 3] [--big-pdf] [--no-peer]

Steps (every figure comes from this one run, on this machine):

1. a seeded mixed corpus with ground truth (:mod:`bench.corpus`);
2. an untimed warm-up of the services: the graph-rate workload and the graph stage's per-document
   write on synthetic documents, then a few documents through the whole pipeline under a project
   of their own (:func:`warm_up`);
3. the **raw floor**: the same stage steps called directly in a process pool of the worker pool's
   size (:mod:`bench.floor`);
4. the **pipeline**, ``--repeat`` rounds, each followed by another floor run (A-B-A: a round is
   compared with the mean of the floors around it; the ratio is the median over rounds): a
   dedicated Celery worker ("bench", same process count) on the real services, the corpus
   submitted by the Prefect ``intake-sweep`` flow, followed to ``graph_complete`` through the
   PostgreSQL rows; worker RSS sampled (:mod:`bench.rss`); per-stage p50/p95 from ``stage_runs``;
5. quality of the first round's stored results against the truth (:mod:`bench.quality`);
6. the graph write rate (:mod:`bench.graph_rate`), optionally the big-PDF memory check
   (:mod:`bench.big_pdf`) and the peer, ``unstructured-ingest`` (:mod:`bench.peer`);
7. one table on stdout and the same figures as JSON in ``bench/out/``.

Isolation: the run (and the worker it starts) uses its own database ``docflow_bench``, Redis
databases 4/5, bucket ``docflow-bench`` and a unique project id; its Neo4j documents and S3 objects
are removed at the end, and the worker it started is stopped even when the run fails. It never
stops services or processes it did not start.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
WORKER_NAME = "bench"


@functools.cache
def bench_env() -> dict[str, str]:
    """The run's own database, Redis databases and bucket, plus the workers' process environment."""
    from bench.isolation import bench_env as isolated

    return {
        **isolated(database="docflow_bench", broker_db=4, results_db=5, bucket="docflow-bench"),
        "OMP_THREAD_LIMIT": "1",
        "DO_NOT_TRACK": "1",
        "HF_HUB_OFFLINE": "1",
    }


GOALS = {
    "pipeline_over_floor": ("<=", 1.15),
    "docflow_over_peer": (">=", 3.0),
    "ocr_word_accuracy_clean": (">=", 0.98),
    "entity_recall": (">=", 0.90),
    "chunk_coverage": (">=", 1.0),
    "chunks_in_bounds": (">=", 1.0),
    "graph_relationships_per_s": (">=", 20_000),
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- set-up ---------------------------------------------------------------------------------------


def configure(project_id: str):
    """Point this process (and the worker it starts) at the bench's own stores; return the settings."""
    os.environ.update(bench_env())
    os.environ["DOCFLOW_PROJECT_ID"] = project_id
    from deployments.prefect_env import configure_prefect
    from docflow.core.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    configure_prefect(settings)
    return settings


def prepare_stores(settings) -> None:
    """Database at head, bucket, graph constraints; leftover bench queues emptied."""
    from docflow import services
    from docflow.core import db, migrate
    from docflow.core.broker import UNACKED_HASH, UNACKED_INDEX, queue_keys, redis_client
    from docflow.core.graph import GraphStore

    missing = [s.name for s in services.services(settings, [*services.CORE_SERVICES, "prefect"]) if not s.running()]
    if missing:
        raise SystemExit(f"services not running: {', '.join(missing)} (start them with `docflow up`)")
    services.Postgres(settings).ensure_database()
    db.reset_engine()
    migrate.upgrade()
    services.ObjectStore(settings)._ensure_bucket()
    with GraphStore(settings) as graph:
        graph.ensure_constraints()
    # Redis databases 4/5 belong to the bench alone: a crashed earlier run may have left messages.
    client = redis_client(settings)
    keys = [key for queue in settings.queues.values() for key in queue_keys(queue)]
    client.delete(*keys, UNACKED_HASH, UNACKED_INDEX)


def corpus_for(args, workdir: Path) -> tuple[Path, list[dict]]:
    from bench.corpus import generate, load_truths

    corpus = args.corpus or workdir / "corpus"
    manifest = corpus / "manifest.json"
    if manifest.exists():
        meta = json.loads(manifest.read_text())
        if (meta["docs"], meta["seed"]) == (args.docs, args.seed):
            log(f"reusing the corpus in {corpus}")
            return corpus, load_truths(corpus)
    began = time.perf_counter()
    truths = generate(docs=args.docs, out=corpus, seed=args.seed, jobs=args.workers)
    log(
        f"corpus: {len(truths)} documents, {sum(t['pages'] for t in truths)} pages "
        f"({sum(t['ocr_pages'] for t in truths)} OCR) in {time.perf_counter() - began:.0f}s -> {corpus}"
    )
    return corpus, truths


# --- the pipeline run -----------------------------------------------------------------------------


def intake_folder(corpus: Path, workdir: Path, project_id: str, *, files: list[str]) -> Path:
    """A fresh folder holding the corpus's ``files`` as hard links.

    The intake ledger remembers (source folder, relative path): sweeping the same folder again is a
    no-op by design, so every run sweeps a folder of its own. Links, not symlinks: the sweep rejects
    symlinks that leave the intake root; copies across filesystems.
    """
    import shutil

    folder = workdir / f"intake-{project_id}"
    folder.mkdir(parents=True)
    for name in files:
        try:
            os.link(corpus / name, folder / name)
        except OSError:
            shutil.copy2(corpus / name, folder / name)
    return folder


def warm_up(
    settings,
    corpus: Path,
    truths: list[dict],
    workdir: Path,
    *,
    project_id: str,
    docs: int,
    processes: int,
    graph_relationships: int,
    graph_documents: int,
) -> dict | None:
    """Untimed: the graph-rate workload and ``graph_documents`` synthetic graph-stage writes, then the
    first ``docs`` documents through the whole pipeline under a project of their own.

    A long-running deployment's services are warm: Neo4j's JIT has compiled the Cypher and Bolt
    paths (a freshly started Neo4j spends ~20 extra CPU seconds on that during its first 200
    documents, on the cores the OCR needs), PostgreSQL and Prefect have their plans and caches.
    The timed run starts a fresh worker afterwards, so model loading stays inside the timed window,
    as it does for the floor's fresh pool.
    """
    if docs <= 0:
        return None
    from bench import graph_rate

    # Neo4j's write path first: the graph-rate workload (discarded) compiles the MERGE/CREATE
    # operators and the store code; a handful of documents alone leave most of that JIT work to
    # the timed run.
    began = time.perf_counter()
    graph_rate.measure(settings, relationships=graph_relationships, warmup_batches=0)
    graph_rate.warm_document_writes(settings, documents=graph_documents)
    log(
        f"warm-up: Neo4j write paths in {time.perf_counter() - began:.1f}s "
        f"({graph_documents} synthetic graph-stage documents)"
    )
    pipeline, _stored, _sampler = pipeline_round(
        settings, corpus, truths[:docs], workdir, project_id=f"{project_id}-warmup", processes=processes, timeout_s=600
    )
    return {
        "documents": docs,
        "complete": pipeline["complete"],
        "wall_s": pipeline["observed_s"],
        "graph_documents": graph_documents,
        "cpu_s": pipeline["cpu_s"],
    }


def run_pipeline(settings, corpus: Path, *, project_id: str, processes: int, timeout_s: float) -> dict:
    """Worker up, Prefect intake sweep, follow to terminal, worker down; returns the raw figures."""
    from bench import cpu
    from bench.corpus import DOCUMENT_GLOBS
    from bench.rss import RssSampler
    from docflow.ops.progress import wait_for_documents
    from docflow.services import workers

    workers.stop(settings, name=WORKER_NAME, echo=log)  # a bench worker left by a crashed run
    pid = workers.start(settings, name=WORKER_NAME, concurrency=processes, env=bench_env(), echo=log)
    try:
        workers.wait_ready(settings, timeout=120)
        # Children fork after the pool starts; sample the whole tree from here on.
        with RssSampler([pid]) as sampler:
            from flows.intake import intake_sweep

            cpu_before = cpu.snapshot()
            started = datetime.now(UTC)
            began = time.perf_counter()
            report = intake_sweep(
                source=str(corpus),
                project_id=project_id,
                stable_seconds=0.0,
                batch_size=25,
                patterns=list(DOCUMENT_GLOBS),
                wait=False,
            )
            sweep_s = time.perf_counter() - began
            ids = [f["document_id"] for f in report["files"] if f["outcome"] == "new"]
            log(f"intake sweep submitted {len(ids)} documents in {sweep_s:.1f}s; following them")
            # The wall comes from stage_runs, not from this loop: poll slowly so the harness takes
            # as little as possible of the CPU it is measuring.
            final = wait_for_documents(ids, timeout_s=timeout_s, poll_s=2.0)
            observed_s = time.perf_counter() - began
            cpu_spent = cpu.delta(cpu_before, cpu.snapshot())
    finally:
        workers.stop(settings, name=WORKER_NAME, timeout=60, echo=log)
    return {
        "started": started,
        "sweep_s": sweep_s,
        "observed_s": observed_s,
        "document_ids": ids,
        "final": final,
        "counts": report["counts"],
        "sampler": sampler,
        "cpu": cpu_spent,
    }


def pipeline_round(
    settings, corpus: Path, truths: list[dict], workdir: Path, *, project_id: str, processes: int, timeout_s: float
) -> tuple[dict, dict, object]:
    """One timed pipeline run of the whole corpus; returns (figures, stored results, RSS sampler)."""
    pages = sum(t["pages"] for t in truths)
    log(f"pipeline: worker '{WORKER_NAME}' x{processes}, Prefect intake-sweep, project {project_id}")
    source = intake_folder(corpus, workdir, project_id, files=[t["file"] for t in truths])
    run = run_pipeline(settings, source, project_id=project_id, processes=processes, timeout_s=timeout_s)
    ids = run["document_ids"]
    try:
        if len(ids) != len(truths):
            raise SystemExit(f"the intake sweep registered {len(ids)} of {len(truths)} documents: {run['counts']}")
        figures = stage_figures(ids, run["started"])
        stored = stored_results(ids)
    finally:
        cleanup(settings, ids, project_id)
    wall = figures["wall_s"] or run["observed_s"]
    complete = sum(1 for s in run["final"].values() if s == "graph_complete")
    log(f"pipeline: {complete}/{len(truths)} graph_complete, wall {wall:.1f}s")
    return (
        {
            "wall_s": wall,
            "observed_s": run["observed_s"],
            "sweep_s": run["sweep_s"],
            "complete": complete,
            "docs_per_min": 60 * len(truths) / wall,
            "pages_per_min": 60 * pages / wall,
            "stages": figures["stages"],
            "intake_counts": run["counts"],
            "cpu_s": run["cpu"],
            "stage_work_s": sum(s["total_s"] for s in figures["stages"].values()),
            "errors": {name: r["error"] for name, r in stored.items() if r["status"] != "graph_complete"},
        },
        stored,
        run["sampler"],
    )


def stage_figures(document_ids: list[int], started: datetime) -> dict:
    """Per-stage p50/p95 (work and queue wait) and the pipeline wall from ``stage_runs``."""
    from sqlalchemy import select

    from docflow.core.db import session_scope
    from docflow.core.models import StageRun

    with session_scope() as session:
        runs = session.execute(
            select(StageRun.stage, StageRun.queued_at, StageRun.started_at, StageRun.finished_at).where(
                StageRun.document_id.in_(document_ids), StageRun.outcome == "succeeded"
            )
        ).all()
    stages: dict[str, dict] = {}
    for stage in ("ocr", "text", "entity", "graph"):
        rows = [r for r in runs if r.stage == stage]
        work = [(r.finished_at - r.started_at).total_seconds() for r in rows if r.started_at and r.finished_at]
        wait = [(r.started_at - r.queued_at).total_seconds() for r in rows if r.started_at and r.queued_at]
        stages[stage] = {
            "runs": len(rows),
            "p50_s": percentile(work, 50),
            "p95_s": percentile(work, 95),
            "wait_p50_s": percentile(wait, 50),
            "wait_p95_s": percentile(wait, 95),
            "total_s": sum(work),
        }
    finished = [r.finished_at for r in runs if r.finished_at]
    wall = (max(finished) - started).total_seconds() if finished else None
    return {"stages": stages, "wall_s": wall}


def _by_kind(truths: list[dict], seconds: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for truth in truths:
        out[truth["kind"]] = out.get(truth["kind"], 0.0) + seconds.get(truth["file"], 0.0)
    return {kind: round(value, 1) for kind, value in sorted(out.items())}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def stored_results(document_ids: list[int]) -> dict[str, dict]:
    """Per original file name: status, pages, extracted text, canonical text, chunks, mentions."""
    from sqlalchemy import select

    from docflow.core.db import session_scope
    from docflow.core.models import Chunk, DocumentExtraction, EntityMention, SourceDocument
    from tasks.steps.chunking import document_text
    from tasks.steps.extract import Extraction

    with session_scope() as session:
        documents = session.execute(
            select(
                SourceDocument.id,
                SourceDocument.original_file_name,
                SourceDocument.celery_status,
                SourceDocument.page_count,
                SourceDocument.error_message,
            ).where(SourceDocument.id.in_(document_ids))
        ).all()
        extractions = dict(
            session.execute(
                select(DocumentExtraction.document_id, DocumentExtraction.elements_json).where(
                    DocumentExtraction.document_id.in_(document_ids)
                )
            ).all()
        )
        chunks = session.execute(
            select(Chunk.document_id, Chunk.chunk_index, Chunk.char_start, Chunk.char_end, Chunk.text)
            .where(Chunk.document_id.in_(document_ids))
            .order_by(Chunk.document_id, Chunk.chunk_index)
        ).all()
        mentions = session.execute(
            select(EntityMention.document_id, EntityMention.label, EntityMention.text).where(
                EntityMention.document_id.in_(document_ids)
            )
        ).all()
    results: dict[str, dict] = {}
    by_id: dict[int, dict] = {}
    for doc_id, name, status, pages, error in documents:
        extraction = Extraction.from_json(extractions[doc_id]) if doc_id in extractions else None
        entry = {
            "status": status,
            "pages": pages or 0,
            "error": error,
            "extracted": extraction.text() if extraction else "",
            "text": document_text(extraction.elements) if extraction else "",
            "chunks": [],
            "mentions": [],
        }
        results[name] = by_id[doc_id] = entry
    for doc_id, _index, start, end, text in chunks:
        by_id[doc_id]["chunks"].append((start, end, text))
    for doc_id, label, text in mentions:
        by_id[doc_id]["mentions"].append((label, text))
    return results


def quality_figures(truths: list[dict], results: dict[str, dict], *, max_chars: int) -> dict:
    from bench import quality

    present = [t for t in truths if t["file"] in results]
    scans = {
        kind: [(t["text"], results[t["file"]]["extracted"]) for t in present if t["scan"] == kind]
        for kind in ("clean", "noisy")
    }
    return {
        "ocr_clean": quality.ocr_accuracy(scans["clean"]),
        "ocr_noisy": quality.ocr_accuracy(scans["noisy"]),
        "entities": quality.entity_scores([(t["entities"], results[t["file"]]["mentions"]) for t in present]),
        "chunks": quality.chunk_coverage(
            [(results[t["file"]]["text"], results[t["file"]]["chunks"]) for t in present], max_chars=max_chars
        ),
    }


def cleanup(settings, document_ids: list[int], project_id: str) -> None:
    """Remove the run's documents from Neo4j and its originals from S3 (rows stay in docflow_bench)."""
    from minio.deleteobjects import DeleteObject
    from sqlalchemy import select

    from docflow.core.db import session_scope
    from docflow.core.graph import GraphStore
    from docflow.core.models import SourceDocument
    from docflow.core.storage import ObjectStorage

    with session_scope() as session:
        uuids = [
            str(u)
            for u in session.execute(
                select(SourceDocument.document_uuid).where(SourceDocument.id.in_(document_ids))
            ).scalars()
        ]
    with GraphStore(settings) as graph:
        for document_uuid in uuids:
            graph.delete_document(document_uuid)
    storage = ObjectStorage(settings)
    prefix = f"originals/{project_id}/"
    objects = [
        DeleteObject(o.object_name)
        for o in storage.client.list_objects(settings.s3_bucket, prefix=prefix, recursive=True)
    ]
    for error in storage.client.remove_objects(settings.s3_bucket, objects):
        log(f"S3 cleanup: {error}")


# --- the table ------------------------------------------------------------------------------------


def verdict(name: str, value) -> str:
    if name not in GOALS or value is None:
        return ""
    op, goal = GOALS[name]
    met = value <= goal if op == "<=" else value >= goal
    return "met" if met else "NOT met"


def fmt(value, spec: str = ".2f") -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return format(value, spec)


def table_rows(r: dict) -> list[tuple[str, str, str, str]]:
    """(figure, value, goal, verdict) rows of the one table."""
    rows: list[tuple[str, str, str, str]] = []

    def add(label: str, value, spec: str = ".2f", goal_key: str | None = None) -> None:
        goal = ""
        if goal_key and goal_key in GOALS:
            op, target = GOALS[goal_key]
            goal = f"{op} {target:,}" if isinstance(target, int) else f"{op} {target}"
        rows.append((label, fmt(value, spec), goal, verdict(goal_key, value) if goal_key else ""))

    c, p, f = r["corpus"], r["pipeline"], r["floor"]
    add("corpus: documents / pages / OCR pages", f"{c['documents']} / {c['pages']} / {c['ocr_pages']}")
    add("workers (processes)", str(r["processes"]))
    add("pipeline: documents graph_complete", f"{p['complete']} / {c['documents']}")
    add("pipeline wall (s)", p["wall_s"], ".1f")
    add("pipeline documents/min", p["docs_per_min"], ".1f")
    add("pipeline pages/min", p["pages_per_min"], ".1f")
    walls = f.get("walls_s", [f["wall_s"]])
    add("floor walls, in run order (s)", " / ".join(f"{w:.1f}" for w in walls))
    add("floor runs' disagreement (machine drift)", f"{100 * f.get('drift', 0.0):.1f}%")
    add("floor documents/min (mean wall)", 60 * c["documents"] / f.get("mean_wall_s", f["wall_s"]), ".1f")
    rounds = r.get("rounds", [])
    if len(rounds) > 1:
        add("pipeline walls by round (s)", " / ".join(f"{x['wall_s']:.1f}" for x in rounds))
        add("ratio by round (pipeline / its two floors)", " / ".join(f"{x['ratio']:.3f}" for x in rounds))
    label = (
        f"RATIO pipeline wall / floor wall (median of {len(rounds)} rounds)"
        if len(rounds) > 1
        else "RATIO pipeline wall / floor wall (mean of the floors around it)"
    )
    add(label, r["ratios"]["pipeline_over_floor"], ".3f", "pipeline_over_floor")
    add("process-seconds: pipeline stage work / floor work", f"{p['stage_work_s']:.0f} / {f['work_s']:.0f}")
    add("CPU s during pipeline, by group", _cpu_line(p["cpu_s"]))
    add("CPU s during the first floor, by group", _cpu_line(f["cpu_s"]))
    if r.get("floors_after"):
        add("CPU s during the next floor, by group", _cpu_line(r["floors_after"][0]["cpu_s"]))
    if r.get("warmup"):
        w = r["warmup"]
        add("untimed warm-up: documents complete, wall (s)", f"{w['complete']} / {w['documents']}, {w['wall_s']:.1f}")
    for stage, s in p["stages"].items():
        add(f"stage {stage}: p50 / p95 (s)", f"{fmt(s['p50_s'], '.3f')} / {fmt(s['p95_s'], '.3f')}")
    for stage, s in p["stages"].items():
        add(
            f"stage {stage}: queue wait p50 / p95 (s)", f"{fmt(s['wait_p50_s'], '.3f')} / {fmt(s['wait_p95_s'], '.3f')}"
        )
    m = r["memory"]
    add("peak RSS worker parent (MB)", m["worker_parent_peak_mb"], ".0f")
    add("peak RSS per worker child, max (MB)", m["worker_child_peak_mb"], ".0f")
    add("peak RSS per floor process, max (MB)", m["floor_child_peak_mb"], ".0f")
    if r.get("big_pdf"):
        b = r["big_pdf"]
        add(f"big PDF: {b['pages']} scanned pages, pages/s", b["pages_per_s"], ".2f")
        add(
            "big PDF: peak RSS / growth after warm-up (MB)",
            f"{b['peak_rss_mb']:.0f} / {b['growth_after_warmup_mb']:.0f}",
        )
    if r.get("peer"):
        add("peer (unstructured-ingest) wall (s)", r["peer"]["wall_s"], ".1f")
        add("peer documents/min", r["peer"]["docs_per_min"], ".1f")
        add("RATIO docflow throughput / peer throughput", r["ratios"]["docflow_over_peer"], ".2f", "docflow_over_peer")
        add("peer OCR word accuracy, clean scans", r["peer"]["ocr_clean"]["accuracy"], ".4f")
    q = r["quality"]
    add("OCR word accuracy, clean scans", q["ocr_clean"]["accuracy"], ".4f", "ocr_word_accuracy_clean")
    add("OCR word accuracy, noisy scans", q["ocr_noisy"]["accuracy"], ".4f")
    add("entity recall (known vocabulary)", q["entities"]["recall"], ".3f", "entity_recall")
    add("entity precision (known vocabulary)", q["entities"]["precision"], ".3f")
    add("chunk coverage (chars in a chunk)", q["chunks"]["coverage"], ".4f", "chunk_coverage")
    add(
        f"chunks within bounds (1..{q['chunks']['max_chars']} chars, exact)",
        q["chunks"]["in_bounds"],
        ".4f",
        "chunks_in_bounds",
    )
    add(
        "chunk size min / median / max",
        f"{q['chunks']['size_min']} / {q['chunks']['size_median']} / {q['chunks']['size_max']}",
    )
    g = r["graph"]
    add(
        f"graph write rate, batched UNWIND (rel/s, batch {g['batch']:,})",
        g["relationships_per_s"],
        ",.0f",
        "graph_relationships_per_s",
    )
    add("graph write rate, first (cold) batch (rel/s)", g["cold_relationships_per_s"], ",.0f")
    return rows


def _cpu_line(groups: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.0f}" for name, seconds in groups.items() if seconds >= 0.5)


def render_table(rows: list[tuple[str, str, str, str]]) -> str:
    header = ("figure", "value", "goal", "")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]

    def line(row: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


# --- main -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="docflow pipeline vs raw floor vs peer, with quality figures.")
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (and floor/peer processes)")
    parser.add_argument("--corpus", type=Path, help="corpus directory to reuse or create (default: a temp dir)")
    parser.add_argument("--no-peer", action="store_true", help="skip unstructured-ingest")
    parser.add_argument("--big-pdf", action="store_true", help="also run the big scanned PDF memory check")
    parser.add_argument("--big-pdf-pages", type=int, default=300)
    parser.add_argument("--graph-relationships", type=int, default=100_000)
    parser.add_argument("--graph-warmup-batches", type=int, default=3, help="untimed batches before the graph rate")
    parser.add_argument(
        "--warmup-docs",
        type=int,
        default=10,
        help="documents run through the pipeline first, untimed, to warm the services (0: none)",
    )
    parser.add_argument(
        "--warmup-graph-docs",
        type=int,
        default=1600,
        help="synthetic graph-stage documents written first, untimed, to warm Neo4j",
    )
    parser.add_argument(
        "--no-floor-after",
        dest="floor_after",
        action="store_false",
        help="run the floor only before the pipeline, not on both sides of it",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="pipeline rounds, each between two floor runs; the ratio is their median"
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--timeout", type=float, default=None, help="pipeline timeout in s (default: 30 s/doc, >= 600)")
    args = parser.parse_args(argv)

    project_id = f"bench-{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    settings = configure(project_id)
    prepare_stores(settings)
    results: dict = {
        "project_id": project_id,
        "processes": args.workers,
        "seed": args.seed,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with tempfile.TemporaryDirectory(prefix="docflow-bench-") as tmp:
        workdir = Path(tmp)
        corpus, truths = corpus_for(args, workdir)
        pages = sum(t["pages"] for t in truths)
        results["corpus"] = {
            "documents": len(truths),
            "pages": pages,
            "ocr_pages": sum(t["ocr_pages"] for t in truths),
            "kinds": {k: sum(t["kind"] == k for t in truths) for k in sorted({t["kind"] for t in truths})},
        }

        from bench import cpu
        from bench.floor import run_floor
        from bench.rss import RssSampler

        results["warmup"] = warm_up(
            settings,
            corpus,
            truths,
            workdir,
            project_id=project_id,
            docs=min(args.warmup_docs, len(truths)),
            processes=args.workers,
            graph_relationships=min(50_000, args.graph_relationships),
            graph_documents=args.warmup_graph_docs,
        )

        def floor_run(when: str):
            log(f"raw floor ({when}): {len(truths)} documents in a pool of {args.workers} processes")
            cpu_before = cpu.snapshot()
            with RssSampler([os.getpid()], include_roots=False) as rss:
                outcome = run_floor([corpus / t["file"] for t in truths], processes=args.workers)
            log(f"raw floor ({when}): {outcome.wall_s:.1f}s")
            return outcome, cpu.delta(cpu_before, cpu.snapshot()), rss

        floor, floor_cpu, floor_rss = floor_run("before")
        floor_errors = [d.file for d in floor.documents if d.error]
        results["floor"] = {
            "wall_s": floor.wall_s,
            "docs_per_min": 60 * len(truths) / floor.wall_s,
            "pages_per_min": 60 * pages / floor.wall_s,
            "errors": floor_errors,
            "work_s": sum(d.seconds for d in floor.documents),
            "cpu_s": floor_cpu,
            "work_s_by_kind": _by_kind(truths, {d.file: d.seconds for d in floor.documents}),
        }

        timeout = args.timeout or max(600.0, 30.0 * len(truths))
        floors = [floor]
        rounds: list[dict] = []
        for number in range(1, args.repeat + 1):
            # Every round sweeps under a project of its own: the same files again in the same
            # project would (rightly) be duplicates.
            round_project = project_id if number == 1 else f"{project_id}-r{number}"
            pipeline, stored, sampler = pipeline_round(
                settings, corpus, truths, workdir, project_id=round_project, processes=args.workers, timeout_s=timeout
            )
            if number == 1:
                results["pipeline"] = pipeline
                results["memory"] = {
                    "worker_parent_peak_mb": sampler.peak_of("parent"),
                    "worker_child_peak_mb": sampler.peak_of("child"),
                    "worker_children_seen": sum(p.role == "child" for p in sampler.peaks.values()),
                    "floor_child_peak_mb": floor_rss.peak_of("child"),
                }
                results["quality"] = quality_figures(truths, stored, max_chars=settings.chunk_max_chars)
                floor_by_file = {d.file: d for d in floor.documents}
                results["floor"]["same_chunks_as_pipeline"] = sum(
                    1
                    for t in truths
                    if t["file"] in stored
                    and [c[2] for c in stored[t["file"]]["chunks"]] == [c[2] for c in floor_by_file[t["file"]].chunks]
                )
            # The floor again after each pipeline round: this machine's speed drifts by tens of
            # percent over minutes (identical floor runs took 89-129 s), so each round is compared
            # with the mean of the floors on either side of it (A-B-A), and the floors'
            # disagreement is printed as the noise of the measurement.
            if args.floor_after or number < args.repeat:
                after, after_cpu, _ = floor_run(f"after round {number}")
                floors.append(after)
                results.setdefault("floors_after", []).append(
                    {"wall_s": after.wall_s, "cpu_s": after_cpu, "errors": [d.file for d in after.documents if d.error]}
                )
            around = [f.wall_s for f in floors[number - 1 : number + 1]]  # before it, and after it if run
            rounds.append(
                {
                    "round": number,
                    "wall_s": pipeline["wall_s"],
                    "complete": pipeline["complete"],
                    "cpu_s": pipeline["cpu_s"],
                    "floor_walls_s": around,
                    "ratio": pipeline["wall_s"] / statistics.fmean(around),
                }
            )
            log(
                f"round {number}: pipeline {pipeline['wall_s']:.1f}s / floor {statistics.fmean(around):.1f}s "
                f"= {rounds[-1]['ratio']:.3f}"
            )
        floor_walls = [f.wall_s for f in floors]
        results["rounds"] = rounds
        results["floor"]["walls_s"] = floor_walls
        results["floor"]["mean_wall_s"] = statistics.fmean(floor_walls)
        results["floor"]["drift"] = max(floor_walls) / min(floor_walls) - 1
        results["ratios"] = {"pipeline_over_floor": statistics.median(r["ratio"] for r in rounds)}

        from bench import graph_rate

        log(f"graph write rate: {args.graph_relationships:,} relationships")
        results["graph"] = graph_rate.measure(
            settings, relationships=args.graph_relationships, warmup_batches=args.graph_warmup_batches
        )

        if args.big_pdf:
            from bench import big_pdf

            log(f"big PDF: {args.big_pdf_pages} scanned pages through extraction")
            results["big_pdf"] = big_pdf.measure(pages=args.big_pdf_pages, env=bench_env())

        if not args.no_peer:
            from bench import peer, quality

            log(f"peer: unstructured-ingest with {args.workers} processes")
            outcome = peer.run(corpus, work=workdir / "peer", processes=args.workers, echo=log)
            clean = [(t["text"], outcome.text(t["file"])) for t in truths if t["scan"] == "clean"]
            results["peer"] = {
                "wall_s": outcome.wall_s,
                "docs_per_min": 60 * len(truths) / outcome.wall_s,
                "pages_per_min": 60 * pages / outcome.wall_s,
                "files_out": len(outcome.files),
                "ocr_clean": quality.ocr_accuracy(clean),
                "commands": outcome.commands,
            }
            results["ratios"]["docflow_over_peer"] = (
                results["pipeline"]["docs_per_min"] / results["peer"]["docs_per_min"]
            )
            log(f"peer: {outcome.wall_s:.1f}s")

    rows = table_rows(results)
    results["table"] = [dict(zip(("figure", "value", "goal", "verdict"), row, strict=True)) for row in rows]
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    payload = json.dumps(results, indent=1, default=str)
    for name in (f"pipeline-{stamp}.json", "pipeline-latest.json"):
        (args.out / name).write_text(payload)
    print()
    print(render_table(rows))
    print(f"\nJSON: {args.out / f'pipeline-{stamp}.json'}")
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
