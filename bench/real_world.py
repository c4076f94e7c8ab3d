"""Real-world folders: every file of a public corpus through the real stack, and what became of it.

Each file is submitted as a user would (``docflow submit``: register, store, submit), the bench's
own worker processes it, and the run waits until every document, the members an archive gave
included, is terminal. The table lists each file: the type docflow detected, the final status and,
for a file that did not reach ``graph_complete``, its reason, with a first judgement of whether
that reason is true (:func:`judge`: the kinds of reasons whose truth the file itself shows, such
as an extension docflow does not read; every other failure is marked for a person to check).

    flock /tmp/docflow-heavy.lock .venv/bin/python -m bench.real_world /path/to/test-documents

The corpus is not in the repository. Apache Tika's test documents (1,079 distinct files of ~200
types, Apache License 2.0) are one: ``tika-parsers/**/src/test/resources/test-documents/`` in
github.com/apache/tika; bench/README.md says how the last run's table was made and judged.
Isolation (bench/isolation.py): database ``docflow_bench_real``, Redis databases 10/11, bucket
``docflow-bench-real``, worker ``bench-real``; runs on whatever services the settings name.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from collections import Counter
from pathlib import Path

from bench.isolation import bench_env as isolated

WORKER_NAME = "bench-real"
OUT = Path(__file__).resolve().parent / "out"
# Extensions of files docflow does not claim to read (audio, video, CAD, databases, executables,
# other archives, fonts, certificates...): "unsupported file type" is the true answer for them.
_NOT_READ = (
    "mp3 mp4 m4a ogg oga flac wav aif aiff mid midi avi mov flv wmv webm mkv 3gp dwg dxf dgn prt stl db mdb "
    "accdb sqlite one pst ost chm exe dll so class jar war apk ipa dex tar gz tgz bz2 xz 7z rar z lz lzma zst "
    "cpio ar deb rpm iso dmg ttf otf woff woff2 afm pfm pem der crt cer p12 pfx p7c p7b p7z kml kmz shp dbf "
    "gpx swf fla psd xcf ai eps ps indd pages numbers key wps wpd vsd vsdx vdx xps oxps dng nef cr2 cr3 arw "
    "raf orf jxl bpg jp2 j2k icns ico svg wmf emf hwp tsd mat nc hdf h5 he5 fits grb grib sas7bdat sav dta "
    "xlsb mpp pub ods odp odg ott ots otp xlr mht mhtml warc arc"
)
NOT_READ = frozenset(_NOT_READ.split())


def bench_env() -> dict[str, str]:
    return {
        **isolated(database="docflow_bench_real", broker_db=10, results_db=11, bucket="docflow-bench-real"),
        "OMP_THREAD_LIMIT": "1",
        "DO_NOT_TRACK": "1",
        "HF_HUB_OFFLINE": "1",
    }


def judge(*, name: str, status: str, reason: str | None) -> str:
    """ "yes" where the reason is true on its face, "" where a person must judge (see the module docstring)."""
    if status == "graph_complete":
        return ""
    reason = reason or ""
    suffix = Path(name).suffix.lower().lstrip(".")
    if reason.startswith("unsupported file type") and (suffix in NOT_READ or "looks like" in reason):
        return "yes" if suffix in NOT_READ or not suffix else ""
    if reason.startswith(("empty file", "encrypted ", "encrypted Office", "macro-enabled")):
        return "yes"
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for every document")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="only the first N files (0: all)")
    parser.add_argument(
        "--recheck",
        type=Path,
        help="a previous run's real_world.json: extract again, with the extraction step alone (no stack), "
        "the files that did not reach graph_complete, and print what each gives now",
    )
    args = parser.parse_args()
    if args.recheck:
        recheck(args.folder, args.recheck)
        return
    os.environ.update(bench_env())  # before docflow reads its settings

    from sqlalchemy import select

    from docflow import services
    from docflow.core import db, migrate
    from docflow.core.db import session_scope
    from docflow.core.models import SourceDocument
    from docflow.core.settings import get_settings
    from docflow.ops.progress import wait_for_documents
    from docflow.ops.submit import ingest_file
    from docflow.services import workers

    get_settings.cache_clear()
    settings = get_settings()
    services.Postgres(settings).ensure_database()
    db.reset_engine()
    migrate.upgrade()
    services.ObjectStore(settings)._ensure_bucket()
    project = f"real-{uuid.uuid4().hex[:8]}"
    files = sorted(p for p in args.folder.rglob("*") if p.is_file())
    files = files[: args.limit] if args.limit else files
    workers.stop(settings, name=WORKER_NAME, echo=print)
    workers.start(settings, name=WORKER_NAME, concurrency=args.workers, env=bench_env(), echo=print)
    began = time.monotonic()
    try:
        workers.wait_ready(settings, timeout=120)
        submitted: dict[int, str] = {}
        duplicates: dict[str, int] = {}
        for path in files:
            result = ingest_file(path=path, project_id=project)
            relative = str(path.relative_to(args.folder))
            if result.created:
                submitted[result.document_id] = relative
            else:
                duplicates[relative] = result.document_id
        print(f"submitted {len(submitted)} documents ({len(duplicates)} files were duplicates)")
        deadline = time.monotonic() + args.timeout
        known: set[int] = set()
        while True:  # archives register members as they go: wait until no new document appears
            with session_scope() as session:
                ids = set(session.scalars(select(SourceDocument.id).where(SourceDocument.project_id == project)))
            if ids == known:
                break
            known = ids
            wait_for_documents(sorted(ids), timeout_s=max(1.0, deadline - time.monotonic()), poll_s=2.0)
        wall = time.monotonic() - began
        with session_scope() as session:
            rows = session.execute(
                select(
                    SourceDocument.id, SourceDocument.original_file_name, SourceDocument.file_type,
                    SourceDocument.celery_status, SourceDocument.error_message, SourceDocument.parent_document_id,
                    SourceDocument.member_path,
                ).where(SourceDocument.project_id == project)
            ).all()  # fmt: skip
    finally:
        workers.stop(settings, name=WORKER_NAME, timeout=60, echo=print)
    by_id = {row.id: row for row in rows}
    table = []
    for row in sorted(rows, key=lambda r: (submitted.get(r.id) or "", r.id)):
        name = submitted.get(row.id) or f"{submitted.get(row.parent_document_id, '?')}!/{row.member_path}"
        reason = row.error_message if row.celery_status.startswith("error") else None
        table.append(
            {
                "file": name,
                "type": row.file_type or "",
                "status": row.celery_status,
                "reason": reason or "",
                "true": judge(name=name, status=row.celery_status, reason=reason),
                "member_of": by_id[row.parent_document_id].original_file_name
                if row.parent_document_id in by_id
                else "",
            }
        )
    summary = {
        "files": len(files),
        "documents": len(rows),
        "duplicates": len(duplicates),
        "wall_s": round(wall, 1),
        "statuses": dict(Counter(r["status"] for r in table)),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "real_world.json").write_text(json.dumps({"summary": summary, "documents": table}, indent=1))
    lines = ["| file | type | status | reason | reason true? |", "|---|---|---|---|---|"]
    for r in table:
        if r["status"] != "graph_complete":
            reason = r["reason"].replace("|", "/").replace("\n", " ")[:220]
            lines.append(f"| {r['file']} | {r['type']} | {r['status']} | {reason} | {r['true'] or 'judge'} |")
    (OUT / "real_world.md").write_text("\n".join(lines) + "\n")
    print(json.dumps(summary, indent=1))


def recheck(folder: Path, previous: Path) -> None:
    """The OCR stage's extraction (detection, then the registry) of each file that failed before."""
    import tempfile

    from docflow.core.errors import PermanentError
    from docflow.core.filetypes import sniff_file
    from tasks.steps.extract import extract_document

    rows = json.loads(previous.read_text())["documents"]
    failed = [r for r in rows if r["status"] != "graph_complete" and not r["member_of"]]
    results = []
    for row in failed:
        path = folder / row["file"]
        with tempfile.TemporaryDirectory(prefix="docflow-recheck-") as members:
            try:
                file_type, _ = sniff_file(path, filename=path.name)
                extraction = extract_document(path=path, file_type=file_type, members_dir=Path(members))
                now, reason = "reads", f"{len(extraction.text()):,} characters, {len(extraction.members)} members"
            except PermanentError as exc:
                now, reason = "error_ocr", str(exc)
        results.append(
            {**row, "now": now, "now_reason": reason, "now_true": judge(name=row["file"], status=now, reason=reason)}
        )
        print(f"{row['file']}: {now}: {reason[:160]}", flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "real_world_recheck.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
