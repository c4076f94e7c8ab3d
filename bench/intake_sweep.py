"""How fast an intake sweep registers a large folder, and how cheap a re-sweep is.

    python -m bench.intake_sweep --files 10000

Creates N small text files (distinct content), sweeps them with docflow's real sweep (ledger,
hashing, dedupe query, S3 uploads, multi-row insert, batched status update and publishes) against
the running services, then sweeps the unchanged folder again. Isolated from real data: its own
PostgreSQL database (dropped at the end), Redis database (queues deleted at the end, no worker
consumes them) and bucket. Prints files/s for both sweeps.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from pathlib import Path


def bench_env() -> dict[str, str]:
    from bench.isolation import bench_env as isolated

    return isolated(database="docflow_bench_intake", broker_db=6, results_db=7, bucket="docflow-bench-intake")


def service_cpu(settings) -> dict[str, float]:
    """User+system CPU seconds so far of this process and of each local service (pidfiles under the
    data folder), children included: PostgreSQL's backends, SeaweedFS's servers."""
    import psutil

    def spent(process: psutil.Process) -> float:
        total = 0.0
        for each in [process, *process.children(recursive=True)]:
            try:
                times = each.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system + times.children_user + times.children_system
        return total

    out = {"sweep": spent(psutil.Process())}
    for name in ("postgres", "redis", "s3"):
        pidfile = Path(settings.data_dir) / "run" / f"{name}.pid"
        try:
            out[name] = spent(psutil.Process(int(pidfile.read_text().split()[0])))
        except (OSError, ValueError, psutil.Error):
            continue  # a service this machine does not run (remote, or started elsewhere)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    os.environ.update(bench_env())  # before docflow reads its settings

    from docflow import services
    from docflow.core import db, migrate
    from docflow.core.broker import queue_keys, redis_client
    from docflow.core.settings import get_settings
    from docflow.ops import intake

    get_settings.cache_clear()
    settings = get_settings()
    postgres = services.Postgres(settings)
    postgres.ensure_database()
    db.reset_engine()
    migrate.upgrade()
    services.ObjectStore(settings)._ensure_bucket()
    project = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        with tempfile.TemporaryDirectory(prefix="docflow-bench-intake-") as tmp:
            root = Path(tmp)
            for index in range(args.files):
                (root / f"{index // 1000:03d}").mkdir(exist_ok=True)
                (root / f"{index // 1000:03d}" / f"note-{index:06d}.txt").write_text(
                    f"Note {index}: Maria Gonzalez met Daniel Okafor in Rotterdam about invoice {index}.\n"
                )
            past = time.time() - 3600
            for path in root.rglob("*.txt"):
                os.utime(path, (past, past))
            options = intake.SweepOptions(
                source=str(root),
                project_id=project,
                stable_seconds=10,
                batch_size=args.batch_size,
                backpressure_limit=10**9,
            )
            cpu_before = service_cpu(settings)
            began = time.perf_counter()
            first = intake.sweep(options, settings)
            first_s = time.perf_counter() - began
            cpu_first = {name: spent - cpu_before.get(name, 0.0) for name, spent in service_cpu(settings).items()}
            began = time.perf_counter()
            second = intake.sweep(options, settings)
            second_s = time.perf_counter() - began
        result = {
            "files": args.files,
            "first_sweep_s": round(first_s, 2),
            "first_files_per_s": round(args.files / first_s, 1),
            "first_counts": first.counts(),
            # CPU milliseconds per file of the sweep (this process) and each service it talks to.
            "first_cpu_ms_per_file": {name: round(1000 * spent / args.files, 2) for name, spent in cpu_first.items()},
            "resweep_s": round(second_s, 2),
            "resweep_files_per_s": round(args.files / second_s, 1),
            "resweep_counts": second.counts(),
        }
        print(json.dumps(result, indent=2))
        out = Path(__file__).parent / "out"
        out.mkdir(exist_ok=True)
        (out / "intake_sweep.json").write_text(json.dumps(result, indent=2))
    finally:
        client = redis_client(settings)
        for queue in settings.queues.values():
            client.delete(*queue_keys(queue))
        db.reset_engine()
        postgres.psql(f'DROP DATABASE IF EXISTS "{settings.db_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
