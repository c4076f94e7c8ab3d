"""OCR while Neo4j is frozen: pages/s of scans read during a Neo4j SIGSTOP against a run without one,
old code against new in one run.

    flock /tmp/docflow-heavy.lock .venv/bin/python -m bench.neo4j_freeze --before REV \\
        [--small 30] [--scans 4] [--pages 2] [--freeze-s 120] [--processes 2]

For each code (the old one first, when given): the README's worker (one worker, all queues,
``--processes`` processes) from that code, warmed up on a few small documents; then twice:

* **normal**: ``--small`` ~200-word text documents (they go on to the graph stage) swept, then
  ``--scans`` image-only PDFs of ``--pages`` pages each (OCR work); OCR pages/s = the scans' pages
  over the time from the sweep to the last scan's OCR ``finished_at``;
* **frozen**: the same into a fresh project with the services' Neo4j stopped (SIGSTOP: its sockets
  stay open, it answers nothing) from just before the sweep for ``--freeze-s``; OCR pages/s counts
  only the scans read during the freeze. Then Neo4j is thawed and the run followed to the end: how
  many documents reached ``graph_complete`` and how long after the thaw.

Same isolation as :mod:`bench.small_docs` (database ``docflow_bench_small``, Redis databases 10/11,
bucket ``docflow-bench-small``); its Neo4j documents and S3 originals are removed after each run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.small_docs import (
    OUT_DIR,
    REPO,
    Code,
    bench_env,
    cleanup,
    database_now,
    document_text,
    extract,
    follow,
    intake_folder,
    log,
    prepare,
    start_worker,
    stop_worker,
    sweep,
)


def write_files(workdir: Path, *, small: int, scans: int, pages: int, seed: int) -> tuple[Path, list[str], list[str]]:
    """The small texts and the scans, once per shape; their names (small first, scans last)."""
    from bench.corpus import Writer, _scan_blocks, images_to_pdf, render_pages

    folder = workdir / f"freeze-{small}-{scans}x{pages}-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    texts = [f"note-{i:04d}.txt" for i in range(small)]
    pdfs = [f"scan-{i:02d}.pdf" for i in range(scans)]
    for index, name in enumerate(texts):
        if not (folder / name).exists():
            (folder / name).write_text(document_text("article", index, seed))
    for index, name in enumerate(pdfs):
        if not (folder / name).exists():
            rng = random.Random(f"{seed}:scan:{index}")
            images = render_pages(_scan_blocks(Writer.for_document(rng), rng, pages))[:pages]
            (folder / name).write_bytes(images_to_pdf(images))
    return folder, texts, pdfs


def neo4j_pid(settings) -> int:
    from docflow import services
    from docflow.services.process import read_pid

    neo4j = services.Neo4j(settings)
    pid = read_pid(neo4j.paths.pidfile(neo4j.name), neo4j.marker)
    if not pid:
        raise SystemExit("the services' Neo4j is not running (or not started by docflow)")
    return pid


def ocr_finishes(ids: list[int]) -> list[float]:
    """When each document's OCR stage succeeded (database epoch seconds), for those that did."""
    from docflow.core.db import fetch_all

    rows = fetch_all(
        "SELECT extract(epoch FROM max(finished_at)) FROM stage_runs WHERE document_id = ANY(%(ids)s) "
        "AND stage = 'ocr' AND outcome = 'succeeded' GROUP BY document_id",
        {"ids": ids},
    )
    return sorted(float(value) for (value,) in rows)


def one_run(settings, folder: Path, texts: list[str], pdfs: list[str], workdir: Path, *, pages: int, freeze_s: float):
    """One sweep of the small documents then the scans, Neo4j frozen for ``freeze_s`` (0: not at all)."""
    project = f"freeze-{uuid.uuid4().hex[:6]}"
    small_folder = intake_folder(folder, workdir, texts)
    scan_folder = intake_folder(folder, workdir, pdfs)
    pid = neo4j_pid(settings) if freeze_s else None
    started = database_now()
    if pid:
        os.kill(pid, signal.SIGSTOP)
    began = time.monotonic()
    try:
        small_ids = sweep(settings, small_folder, project)
        scan_ids = sweep(settings, scan_folder, project)
        deadline = began + (freeze_s or 600)
        while len(ocr_finishes(scan_ids)) < len(scan_ids) and time.monotonic() < deadline:
            time.sleep(0.5)
        ocr_done = [t - started for t in ocr_finishes(scan_ids)]
        if pid:
            time.sleep(max(0.0, freeze_s - (time.monotonic() - began)))
    finally:
        if pid:
            os.kill(pid, signal.SIGCONT)
    thawed = time.monotonic()
    ids = [*small_ids, *scan_ids]
    final = follow(ids, timeout_s=900)
    after_thaw = time.monotonic() - thawed
    cleanup(settings, ids, project)
    window = freeze_s if freeze_s else (max(ocr_done) if ocr_done else float("nan"))
    within = [t for t in ocr_done if t <= window]
    row = {
        "frozen_s": freeze_s,
        "small": len(small_ids),
        "scans": len(scan_ids),
        "scans_read": len(within),
        "last_scan_read_s": round(max(within), 1) if within else None,
        "ocr_pages_per_s": round(len(within) * pages / max(within), 3) if within else 0.0,
        "graph_complete": sum(1 for s in final.values() if s == "graph_complete"),
        "documents": len(ids),
        "all_done_after_thaw_s": round(after_thaw, 1) if pid else None,
    }
    log(f"{'frozen' if pid else 'normal'}: {row}")
    return row


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="a git revision to measure against")
    parser.add_argument("--small", type=int, default=30)
    parser.add_argument("--scans", type=int, default=4)
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--freeze-s", type=float, default=120.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "docflow-bench-small")
    args = parser.parse_args(argv)
    os.environ.update(bench_env())
    from docflow.core.settings import get_settings

    get_settings.cache_clear()
    settings = get_settings()
    prepare(settings)
    args.workdir.mkdir(parents=True, exist_ok=True)
    folder, texts, pdfs = write_files(
        args.workdir, small=args.small, scans=args.scans, pages=args.pages, seed=args.seed
    )
    codes = [Code("after", REPO)]
    if args.before:
        codes = [extract(args.before, args.workdir), *codes]
    results: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "load_before": os.getloadavg(), "runs": []}
    for code in codes:
        start_worker(settings, code, processes=args.processes, counters=None)
        try:
            warm = intake_folder(folder, args.workdir, texts[:5])
            warm_ids = sweep(settings, warm, f"freeze-warm-{uuid.uuid4().hex[:6]}")
            follow(warm_ids, timeout_s=300)
            for freeze_s in (0.0, args.freeze_s):
                row = one_run(settings, folder, texts, pdfs, args.workdir, pages=args.pages, freeze_s=freeze_s)
                results["runs"].append({"code": code.label, **row})
        finally:
            stop_worker(settings)
    results["load_after"] = os.getloadavg()
    OUT_DIR.mkdir(exist_ok=True)
    out = OUT_DIR / f"neo4j_freeze-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2))
    log(f"results in {out}")
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
