"""The benchmark harness runs end to end on a tiny corpus and reports sane figures.

Benchmarks are not timed tests: nothing here asserts a speed. The harness runs as a subprocess
(it points itself at its own database, Redis databases, bucket and worker), so the test session's
settings are untouched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.services, pytest.mark.workers]

REPO = Path(__file__).resolve().parents[2]
EXPECTED_FIGURES = (
    "RATIO pipeline wall / floor wall",
    "pipeline documents/min",
    "floor documents/min",
    "stage ocr: p50 / p95 (s)",
    "stage graph: p50 / p95 (s)",
    "peak RSS per worker child, max (MB)",
    "OCR word accuracy, clean scans",
    "entity recall (known vocabulary)",
    "entity precision (known vocabulary)",
    "chunk coverage (chars in a chunk)",
)


def test_the_harness_runs_on_a_tiny_corpus_and_reports_every_figure(prefect_api, tmp_path):
    # GIVEN the suite's running stack (the harness takes its own database, Redis databases and bucket
    # on it) WHEN the harness runs on 6 documents (one of each input kind)
    env = dict(os.environ)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.pipeline",
            "--docs",
            "6",
            "--no-peer",
            "--graph-relationships",
            "20000",
            "--graph-warmup-batches",
            "1",
            "--warmup-docs",
            "2",
            "--warmup-graph-docs",
            "20",
            "--repeat",
            "2",
            "--out",
            str(tmp_path / "out"),
            "--corpus",
            str(tmp_path / "corpus"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    # THEN it prints one table with every figure and writes the same figures as JSON
    for figure in EXPECTED_FIGURES:
        assert figure in completed.stdout, figure
    results = json.loads((tmp_path / "out" / "pipeline-latest.json").read_text())
    assert results["corpus"]["documents"] == 6
    assert set(results["corpus"]["kinds"]) == {"born_pdf", "scan_pdf", "png", "docx", "eml", "txt"}
    # AND every document went through the real pipeline, with the same chunks as the raw floor
    assert results["pipeline"]["complete"] == 6, results["pipeline"]["errors"]
    assert results["floor"]["errors"] == [] and results["floor"]["same_chunks_as_pipeline"] == 6
    # AND the warm-up ran untimed, and each of the two rounds ran between two floor runs
    assert results["warmup"]["complete"] == 2 and results["warmup"]["graph_documents"] == 20
    assert [r["complete"] for r in results["rounds"]] == [6, 6]
    assert len(results["floor"]["walls_s"]) == 3 and all(f["errors"] == [] for f in results["floors_after"])
    assert all(len(r["floor_walls_s"]) == 2 for r in results["rounds"])
    ratios = [r["ratio"] for r in results["rounds"]]
    assert all(ratio > 0 for ratio in ratios)
    assert results["ratios"]["pipeline_over_floor"] == pytest.approx(sum(ratios) / 2)  # the median of two
    assert all(stage["runs"] == 6 for stage in results["pipeline"]["stages"].values())
    # AND the figures are in their ranges (quality is measured, not asserted against goals)
    quality = results["quality"]
    for value in (
        quality["ocr_clean"]["accuracy"],
        quality["entities"]["recall"],
        quality["entities"]["precision"],
        quality["chunks"]["coverage"],
    ):
        assert 0.0 <= value <= 1.0
    assert quality["chunks"]["coverage"] == 1.0 and quality["chunks"]["in_bounds"] == 1.0
    assert results["memory"]["worker_child_peak_mb"] > 50
    graph = results["graph"]
    assert graph["written"] == graph["relationships"] + graph["warmup_batches"] * graph["batch"]
    assert results["graph"]["relationships_per_s"] > 0
