"""Many small documents: documents/s to ``graph_complete`` for three sizes, and where the CPU and the
round trips of each stage go, old code against new in one run.

    flock /tmp/docflow-heavy.lock .venv/bin/python -m bench.small_docs --docs 300 --before 1c7fa87 \\
        [--sizes sentence,article,long] [--rounds 2] [--stagewise] [--processes 2]

Sizes (plain text, news-like sentences over the bench corpus's vocabulary, so NER has names to
find): ``sentence`` (one sentence, ~15 words), ``article`` (~200 words), ``long`` (~2,000 words).
Each document is unique (its number is in its title). Corpora are generated into ``--workdir``.

**Throughput** (every round, for each size, the codes alternating: before, after, before, ...): a
fresh worker with the README's shape (one worker, all four queues, ``--processes`` processes) is
started from the code under test and warmed up on 20 documents of the size (models loaded, Neo4j's
write path compiled); then the corpus is swept into an empty project at once (docflow's real intake
sweep: hashing, S3 uploads, registration, publishing) and followed to the end. Documents/s = the
corpus over the wall from the sweep's start to the last stage's ``finished_at``. CPU seconds per
process group (worker pool, worker parent, each service, this harness) over the same window.

**Stagewise** (``--stagewise``, once per code and size): the worker runs the counting app
(:mod:`bench.counted_worker`); after the warm-up its consumers are cancelled, the corpus is swept
(every message waits in the OCR queue), and each stage's queue is then consumed alone until every
document is past that stage. Between those moments: CPU per group and PostgreSQL statements and
commits, Redis round trips and commands, Neo4j round trips and S3 requests, all per document.

Isolation as the other benchmarks (:mod:`bench.isolation`): database ``docflow_bench_small``,
Redis databases 10/11, bucket ``docflow-bench-small``; its Neo4j documents and S3 originals are
removed after each run. ``--before REV`` runs the old code from a ``git archive`` of that revision
(the same venv: the worker's ``PYTHONPATH`` and working folder are the extracted tree).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"
WORKER_NAME = "bench-small"
SIZES = {"sentence": 1, "article": 200, "long": 2000}  # target words
WARM_UP_DOCS = 20


def bench_env() -> dict[str, str]:
    from bench.isolation import bench_env as isolated

    return {
        **isolated(database="docflow_bench_small", broker_db=10, results_db=11, bucket="docflow-bench-small"),
        "OMP_THREAD_LIMIT": "1",
        "DO_NOT_TRACK": "1",
        "HF_HUB_OFFLINE": "1",
    }


def log(message: str) -> None:
    print(f"[small_docs {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the corpus ---------------------------------------------------------------------------------------


def document_text(size: str, index: int, seed: int) -> str:
    """A news-like text of about ``SIZES[size]`` words, deterministic in (size, index, seed)."""
    from bench.corpus import TITLES, Writer

    rng = random.Random(f"{seed}:{size}:{index}")
    writer = Writer.for_document(rng)
    if size == "sentence":
        return f"Note {index}: {writer.sentence()}\n"
    words = SIZES[size]
    paragraphs: list[str] = []
    count = 0
    while count < words:
        paragraph = writer.paragraph((3, 5))
        paragraphs.append(paragraph)
        count += len(paragraph.split())
    return f"{rng.choice(TITLES)} {index}\n\n" + "\n\n".join(paragraphs) + "\n"


def write_corpus(workdir: Path, size: str, docs: int, seed: int) -> Path:
    folder = workdir / f"corpus-{size}-{docs}-{seed}"
    if folder.is_dir() and len(list(folder.glob("*.txt"))) == docs + WARM_UP_DOCS:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(docs + WARM_UP_DOCS):
        (folder / f"{size}-{index:05d}.txt").write_text(document_text(size, index, seed))
    return folder


def intake_folder(corpus: Path, workdir: Path, names: list[str]) -> Path:
    """A fresh folder of hard links (the intake ledger makes a second sweep of a folder a no-op)."""
    folder = workdir / f"intake-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    past = time.time() - 3600
    for name in names:
        os.link(corpus / name, folder / name)
        os.utime(folder / name, (past, past))
    return folder


# -- the code under test ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Code:
    label: str
    root: Path  # the tree the worker imports docflow and tasks from


def extract(revision: str, workdir: Path) -> Code:
    """The tree of ``revision`` (git archive), with this bench's counting worker app added."""
    root = workdir / f"code-{revision}"
    if not root.is_dir():
        root.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", revision], cwd=REPO, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    shutil.copy(BENCH_DIR / "counted_worker.py", root / "bench" / "counted_worker.py")
    return Code(revision, root)


def start_worker(settings, code: Code, *, processes: int, counters: Path | None) -> str:
    """The README's worker (all queues, ``processes`` processes) from ``code``; returns its node name."""
    from docflow.services.process import Paths, spawn
    from docflow.services.workers import WORKER_ENV, stop, wait_ready, worker_command

    stop(settings, name=WORKER_NAME, echo=log)
    hostname = f"{WORKER_NAME}@{socket.gethostname()}"
    command = worker_command(
        settings, name=WORKER_NAME, queues=list(settings.queues.values()), concurrency=processes, hostname=hostname
    )
    if counters is not None:
        command[command.index("tasks.celery_app")] = "bench.counted_worker"
    env = {**os.environ, **WORKER_ENV, **bench_env(), "PYTHONPATH": str(code.root)}
    # An older revision runs in its extracted tree: it must still find this stack's generated
    # secrets (passwords of the secured services), which live under the data folder.
    env["DOCFLOW_DATA_DIR"] = str(Path(settings.data_dir).resolve())
    if counters is not None:
        env["DOCFLOW_BENCH_COUNTERS"] = str(counters)
    paths = Paths(settings)
    paths.ensure()
    spawn(
        command,
        pidfile=paths.pidfile(f"worker-{WORKER_NAME}"),
        logfile=paths.logfile(f"worker-{WORKER_NAME}"),
        env=env,
        cwd=code.root,
    )
    deadline = time.monotonic() + 180
    while hostname not in wait_ready(settings, timeout=180):
        if time.monotonic() > deadline:
            raise SystemExit(f"worker {hostname} did not answer")
    return hostname


def stop_worker(settings) -> None:
    from docflow.services.workers import stop

    stop(settings, name=WORKER_NAME, timeout=60, echo=log)


# -- where the CPU went --------------------------------------------------------------------------------------


def _spent(process, *, with_children: bool) -> float:
    import psutil

    total = 0.0
    for each in [process, *(process.children(recursive=True) if with_children else [])]:
        try:
            times = each.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def cpu_snapshot(settings) -> dict[str, float]:
    """CPU seconds so far of this run's own processes only (the machine is shared: other people's
    services and workers are "others"): the worker's consumer and its pool children (reaped ones
    included), each local service's process tree (from its pid file), this harness (the intake
    sweep), and the whole machine's busy time."""
    import psutil

    from docflow.services.workers import running

    out: dict[str, float] = {"harness (intake)": _spent(psutil.Process(), with_children=False)}
    pid = running(settings).get(WORKER_NAME)
    if pid:
        try:
            parent = psutil.Process(pid)
            times = parent.cpu_times()
            out["worker parent"] = times.user + times.system
            out["worker pool"] = (
                times.children_user
                + times.children_system
                + sum(_spent(child, with_children=True) for child in parent.children())
            )
        except psutil.Error:
            pass
    for name in ("postgres", "redis", "s3", "neo4j"):
        pidfile = Path(settings.data_dir) / "run" / f"{name}.pid"
        try:
            out[name] = _spent(psutil.Process(int(pidfile.read_text().split()[0])), with_children=True)
        except (OSError, ValueError, psutil.Error):
            continue
    machine = psutil.cpu_times()
    out["machine"] = sum(getattr(machine, f, 0.0) for f in ("user", "nice", "system", "irq", "softirq"))
    return out


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    spent = {group: after[group] - before.get(group, 0.0) for group in after}
    ours = sum(v for group, v in spent.items() if group != "machine")
    spent["others on the machine"] = max(spent.pop("machine", 0.0) - ours, 0.0)
    return spent


# -- one run ---------------------------------------------------------------------------------------------


def sweep(settings, folder: Path, project: str) -> list[int]:
    from docflow.ops import intake

    options = intake.SweepOptions(
        source=str(folder), project_id=project, stable_seconds=1, batch_size=500, backpressure_limit=10**9
    )
    report = intake.sweep(options, settings)
    return report.new_document_ids()


def follow(ids: list[int], timeout_s: float) -> dict[int, str]:
    from docflow.ops.progress import wait_for_documents

    return wait_for_documents(ids, timeout_s=timeout_s, poll_s=1.0)


def database_now() -> float:
    from docflow.core.db import fetch_all

    return float(fetch_all("SELECT extract(epoch FROM clock_timestamp())")[0][0])


def last_finish(ids: list[int]) -> float | None:
    from docflow.core.db import fetch_all

    (value,) = fetch_all(
        "SELECT extract(epoch FROM max(finished_at)) FROM stage_runs WHERE document_id = ANY(%(ids)s) "
        "AND outcome = 'succeeded'",
        {"ids": ids},
    )[0]
    return None if value is None else float(value)


def cleanup(settings, ids: list[int], project: str) -> None:
    from bench.pipeline import cleanup as remove_graph_and_originals

    remove_graph_and_originals(settings, ids, project)


def warm_up(settings, corpus: Path, workdir: Path, names: list[str]) -> None:
    project = f"small-warm-{uuid.uuid4().hex[:6]}"
    ids = sweep(settings, intake_folder(corpus, workdir, names), project)
    follow(ids, timeout_s=600)
    cleanup(settings, ids, project)


def profiler(settings, out: Path) -> subprocess.Popen:
    """py-spy sampling the worker's processes (consumer and pool children) into collapsed stacks."""
    from docflow.services.workers import running

    pid = running(settings)[WORKER_NAME]
    py_spy = Path(sys.executable).with_name("py-spy")
    command = [
        str(py_spy),
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--format",
        "raw",
        "-r",
        "200",
        "-o",
        str(out),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def throughput(
    settings, code: Code, size: str, corpus: Path, workdir: Path, *, docs: int, processes: int, profile: Path | None
) -> dict:
    names = sorted(p.name for p in corpus.glob("*.txt"))
    start_worker(settings, code, processes=processes, counters=None)
    sampling = None
    try:
        warm_up(settings, corpus, workdir, names[docs:])
        project = f"small-{size}-{uuid.uuid4().hex[:6]}"
        folder = intake_folder(corpus, workdir, names[:docs])
        if profile is not None:
            sampling = profiler(settings, profile / f"{code.label}-{size}-{project}.txt")
            time.sleep(1.0)  # py-spy attached to every process
        before = cpu_snapshot(settings)
        started = database_now()
        began = time.perf_counter()
        ids = sweep(settings, folder, project)
        sweep_s = time.perf_counter() - began
        final = follow(ids, timeout_s=1800)
        spent = cpu_delta(before, cpu_snapshot(settings))
    finally:
        if sampling is not None:
            sampling.send_signal(2)  # SIGINT: py-spy writes what it sampled
            sampling.wait(timeout=60)
        stop_worker(settings)
    finished = last_finish(ids)
    cleanup(settings, ids, project)
    wall = (finished - started) if finished else float("nan")
    complete = sum(1 for s in final.values() if s == "graph_complete")
    result = {
        "code": code.label,
        "size": size,
        "documents": len(ids),
        "complete": complete,
        "sweep_s": round(sweep_s, 2),
        "wall_s": round(wall, 2),
        "docs_per_s": round(len(ids) / wall, 2),
        "cpu_s": {group: round(seconds, 2) for group, seconds in spent.items()},
        "cpu_ms_per_doc": {group: round(1000 * seconds / len(ids), 1) for group, seconds in spent.items()},
    }
    log(f"{code.label} {size}: {complete}/{len(ids)} in {wall:.1f}s = {result['docs_per_s']} docs/s")
    return result


def read_counts(directory: Path) -> Counter[str]:
    total: Counter[str] = Counter()
    for path in directory.glob("*.json"):
        try:
            total.update(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return total


def consume_only(hostname: str, queues: list[str], settings) -> None:
    from docflow.core.broker import get_app

    control = get_app().control
    for queue in settings.queues.values():
        if queue in queues:
            control.add_consumer(queue, destination=[hostname], reply=True)
        else:
            control.cancel_consumer(queue, destination=[hostname], reply=True)


def past(stage, ids: list[int], timeout_s: float) -> None:
    """Wait until every document is past ``stage`` (its completion, a later status or an error)."""
    from docflow.core.status import COMPLETE, position, stage_of_error
    from docflow.ops.progress import current_statuses

    done = position(COMPLETE[stage])
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        statuses = [status for status, _error in current_statuses(ids).values()]
        if all(stage_of_error(s) is not None or position(s) >= done for s in statuses):
            return
        time.sleep(0.5)
    raise SystemExit(f"documents not past {stage} after {timeout_s:.0f}s")


def stagewise(settings, code: Code, size: str, corpus: Path, workdir: Path, *, docs: int, processes: int) -> dict:
    from docflow.core.status import Stage

    names = sorted(p.name for p in corpus.glob("*.txt"))
    counters = Path(tempfile.mkdtemp(prefix="docflow-bench-counters-"))
    hostname = start_worker(settings, code, processes=processes, counters=counters)
    stages: dict[str, dict] = {}
    try:
        warm_up(settings, corpus, workdir, names[docs:])
        consume_only(hostname, [], settings)
        project = f"small-stages-{size}-{uuid.uuid4().hex[:6]}"
        ids = sweep(settings, intake_folder(corpus, workdir, names[:docs]), project)
        for stage in Stage:
            time.sleep(1.2)  # every process has written its counts since the last stage
            counts_before, cpu_before = read_counts(counters), cpu_snapshot(settings)
            began = time.perf_counter()
            consume_only(hostname, [settings.queue_for(stage)], settings)
            past(stage, ids, timeout_s=1800)
            consume_only(hostname, [], settings)
            wall = time.perf_counter() - began
            spent = cpu_delta(cpu_before, cpu_snapshot(settings))
            time.sleep(1.2)
            counts = read_counts(counters) - counts_before
            stages[stage.value] = {
                "wall_s": round(wall, 2),
                "cpu_ms_per_doc": {group: round(1000 * s / len(ids), 2) for group, s in spent.items()},
                "per_doc": {name: round(n / len(ids), 2) for name, n in sorted(counts.items())},
            }
            log(f"{code.label} {size} {stage.value}: {stages[stage.value]}")
    finally:
        stop_worker(settings)
        shutil.rmtree(counters, ignore_errors=True)
    cleanup(settings, ids, project)
    return {"code": code.label, "size": size, "documents": len(ids), "stages": stages}


# -- the run -----------------------------------------------------------------------------------------------


def prepare(settings) -> None:
    from docflow import services
    from docflow.core import db, migrate
    from docflow.core.broker import UNACKED_HASH, UNACKED_INDEX, queue_keys, redis_client
    from docflow.core.graph import GraphStore

    services.Postgres(settings).ensure_database()
    db.reset_engine()
    migrate.upgrade()
    services.ObjectStore(settings)._ensure_bucket()
    with GraphStore(settings) as graph:
        graph.ensure_constraints()
    client = redis_client(settings)
    client.delete(*[k for q in settings.queues.values() for k in queue_keys(q)], UNACKED_HASH, UNACKED_INDEX)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--sizes", default="sentence,article,long")
    parser.add_argument("--before", help="a git revision to measure against (alternating)")
    parser.add_argument("--rounds", type=int, default=1, help="throughput rounds per code and size")
    parser.add_argument("--stagewise", action="store_true", help="also CPU and round trips per stage")
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--profile", type=Path, help="py-spy the worker during each throughput run, into DIR")
    parser.add_argument("--neo4j-warmup-docs", type=int, default=300, help="untimed documents per code, once")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "docflow-bench-small")
    args = parser.parse_args(argv)
    os.environ.update(bench_env())
    from docflow.core.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    prepare(settings)
    args.workdir.mkdir(parents=True, exist_ok=True)
    codes = [Code("after", REPO)]
    if args.before:
        codes = [extract(args.before, args.workdir), *codes]
    sizes = args.sizes.split(",")
    corpora = {size: write_corpus(args.workdir, size, args.docs, args.seed) for size in sizes}
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    for code in codes:  # a deployment's services are warm: Neo4j compiles its write paths on first use
        warm_corpus = write_corpus(args.workdir, "article", args.neo4j_warmup_docs, args.seed + 1)
        start_worker(settings, code, processes=args.processes, counters=None)
        try:
            began = time.perf_counter()
            warm_up(settings, warm_corpus, args.workdir, sorted(p.name for p in warm_corpus.glob("*.txt")))
            log(f"warm-up of {code.label}: {args.neo4j_warmup_docs} documents in {time.perf_counter() - began:.0f}s")
        finally:
            stop_worker(settings)
    load = os.getloadavg()
    results: dict = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "load_before": load,
        "throughput": [],
        "stagewise": [],
    }
    for size in sizes:
        if args.stagewise:
            for code in codes:
                results["stagewise"].append(
                    stagewise(
                        settings, code, size, corpora[size], args.workdir, docs=args.docs, processes=args.processes
                    )
                )
        if not args.no_throughput:
            for _round in range(args.rounds):
                for code in codes:
                    results["throughput"].append(
                        throughput(
                            settings,
                            code,
                            size,
                            corpora[size],
                            args.workdir,
                            docs=args.docs,
                            processes=args.processes,
                            profile=args.profile,
                        )
                    )
    results["load_after"] = os.getloadavg()
    OUT_DIR.mkdir(exist_ok=True)
    out = OUT_DIR / f"small_docs-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2))
    log(f"results in {out}")
    for row in results["throughput"]:
        log(f"{row['size']:>8} {row['code']:>8}: {row['docs_per_s']:6.2f} docs/s, cpu ms/doc {row['cpu_ms_per_doc']}")
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
