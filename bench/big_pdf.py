"""Flat memory: a large scanned PDF through the extraction step, with its RSS sampled.

The PDF (``pages`` image-only pages at 300 dpi, from :func:`bench.corpus.big_scanned_pdf`) goes
through ``tasks.work.extract_file`` -- the OCR stage's own code -- in a fresh child process, and
the child's RSS is sampled every 0.25 s. Streaming pages means the memory after warm-up stays
flat: the reported growth is the peak minus the RSS at 10% of the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.rss import RssSampler

_CHILD = """
import json, sys, time
from pathlib import Path
from docflow.core.settings import get_settings
from tasks.work import extract_file
began = time.perf_counter()
extraction = extract_file(path=Path(sys.argv[1]), filename="big.pdf", settings=get_settings())
print(json.dumps({"pages": extraction.page_count, "ocr_pages": extraction.ocr_pages,
                  "chars": len(extraction.text()), "seconds": time.perf_counter() - began}))
"""


def measure(*, pages: int = 300, env: dict[str, str] | None = None, workdir: Path | None = None) -> dict:
    """Extract a ``pages``-page scanned PDF in a child process; return timing and peak RSS."""
    from bench.corpus import big_scanned_pdf

    with tempfile.TemporaryDirectory(prefix="docflow-bench-big-", dir=workdir) as tmp:
        path = Path(tmp) / "big.pdf"
        big_scanned_pdf(path, pages=pages)
        size_mb = path.stat().st_size / 1024 / 1024
        began = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "OMP_THREAD_LIMIT": "1", **(env or {})},
            cwd=Path(__file__).resolve().parent.parent,
        )
        with RssSampler([child.pid]) as sampler:
            out, err = child.communicate()
        wall = time.perf_counter() - began
    if child.returncode != 0:
        raise RuntimeError(f"big-PDF extraction failed: {err.decode(errors='replace')[-2000:]}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    return {
        **result,
        "file_mb": round(size_mb, 1),
        "wall_s": round(wall, 1),
        "pages_per_s": result["pages"] / result["seconds"],
        "peak_rss_mb": sampler.peak_total(),
        "growth_after_warmup_mb": sampler.growth_after_warmup(),
        "samples": len(sampler.series),
    }
