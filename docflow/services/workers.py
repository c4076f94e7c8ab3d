"""Start and stop Celery workers as tracked background processes.

One worker per name, consuming the queues it is given, with prefork children. On this 2-core
machine the default is one worker for all four queues with 2 children: OCR and NER are CPU-bound,
so more processes than cores only add memory. Tesseract is limited to one thread per process
(OMP_THREAD_LIMIT=1) and the pipeline scales by processes instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from docflow.core.broker import ping_workers
from docflow.core.settings import Settings
from docflow.services.process import Paths, ServiceError, read_pid, spawn, terminate, wait_until

# Third-party libraries read these from the environment; docflow sets them for its workers.
WORKER_ENV = {
    "OMP_THREAD_LIMIT": "1",
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
    "PYTHONUNBUFFERED": "1",
}


def parse_queues(settings: Settings, value: str | None) -> list[str]:
    """The queues of a comma-separated list of stages or queue names (``ocr``, ``text,entity,graph``);
    all four when empty. An unknown name is refused: a worker on a queue nobody publishes to would
    wait forever and look healthy."""
    if not value:
        return list(settings.queues.values())
    known = settings.queues  # stage -> queue
    queues = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        queue = known.get(item, item)
        if queue not in known.values():
            raise ValueError(f"unknown queue {item!r} (stages and queues: {', '.join(sorted(known.values()))})")
        if queue not in queues:
            queues.append(queue)
    return queues


def parse_autoscale(value: str) -> str:
    """``MAX,MIN`` pool processes (``4,1``; ``4`` means ``4,0``) as Celery's ``--autoscale`` takes it."""
    parts = value.split(",")
    if len(parts) > 2 or not all(part.strip().isdigit() for part in parts) or int(parts[0]) < 1:
        raise ValueError(f"--autoscale takes MAX,MIN processes (e.g. 4,1), not {value!r}")
    maximum, minimum = int(parts[0]), int(parts[1]) if len(parts) == 2 else 0
    if minimum > maximum:
        raise ValueError(f"--autoscale {value}: MIN is above MAX")
    return f"{maximum},{minimum}"


def worker_command(
    settings: Settings,
    *,
    name: str,
    queues: list[str],
    concurrency: int,
    hostname: str | None = None,
    autoscale: str | None = None,
) -> list[str]:
    """The ``celery worker`` command line. ``hostname`` is the node name the worker answers
    ``inspect``/``ping`` with (``%h`` is the machine's host name); ``autoscale`` (``MAX,MIN``)
    replaces the fixed ``concurrency``."""
    pool = ["--autoscale", parse_autoscale(autoscale)] if autoscale else ["-c", str(concurrency)]
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "tasks.celery_app",
        "worker",
        "-Q",
        ",".join(queues),
        *pool,
        "-n",
        hostname or f"docflow-{name}@%h",
        "--loglevel",
        "INFO",
        "-O",
        "fair",
        "--without-gossip",
    ]


def _pidfile(settings: Settings, name: str) -> Path:
    return Paths(settings).pidfile(f"worker-{name}")


def start(
    settings: Settings,
    *,
    name: str = "all",
    queues: list[str] | None = None,
    concurrency: int | None = None,
    hostname: str | None = None,
    autoscale: str | None = None,
    env: dict[str, str] | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    """Start a worker unless one with that name is already running; returns its pid."""
    paths = Paths(settings)
    paths.ensure()
    pidfile = _pidfile(settings, name)
    existing = read_pid(pidfile, "celery")
    if existing:
        echo(f"worker {name} already running (pid {existing})")
        return existing
    queues = queues or list(settings.queues.values())
    concurrency = concurrency or settings.worker_concurrency
    pid = spawn(
        worker_command(
            settings, name=name, queues=queues, concurrency=concurrency, hostname=hostname, autoscale=autoscale
        ),
        pidfile=pidfile,
        logfile=paths.logfile(f"worker-{name}"),
        # The launcher's working directory: the worker reads the same .env as the command that started it.
        env={**os.environ, **WORKER_ENV, **(env or {})},
        cwd=Path.cwd(),
    )
    processes = f"autoscale {autoscale} (max,min)" if autoscale else f"{concurrency}"
    echo(
        f"worker {name} started (pid {pid}) on queues {','.join(queues)} with {processes} processes; "
        f"log {paths.logfile(f'worker-{name}')}"
    )
    return pid


def running(settings: Settings) -> dict[str, int]:
    result = {}
    for pidfile in sorted(Paths(settings).run.glob("worker-*.pid")):
        pid = read_pid(pidfile, "celery")
        if pid:
            result[pidfile.stem.removeprefix("worker-")] = pid
    return result


def stop(
    settings: Settings, *, name: str | None = None, timeout: float = 60.0, echo: Callable[[str], None] = print
) -> list[int]:
    """Warm shutdown (SIGTERM: finish the current task), then SIGKILL after ``timeout``.

    With late acks, a task killed after the timeout goes back to its queue, not lost.
    """
    stopped = []
    for worker_name, pid in running(settings).items():
        if name and worker_name != name:
            continue
        terminate(pid, timeout=timeout)
        _pidfile(settings, worker_name).unlink(missing_ok=True)
        echo(f"worker {worker_name} stopped (pid {pid})")
        stopped.append(pid)
    return stopped


def wait_ready(settings: Settings, *, timeout: float = 60.0) -> list[str]:
    """Block until at least one worker answers a ping; return the responding names."""
    answered: list[str] = []

    def someone_answers() -> bool:
        answered[:] = ping_workers(timeout_s=1.0)
        return bool(answered)

    try:
        wait_until(someone_answers, timeout=timeout, what="a Celery worker")
    except ServiceError:
        raise TimeoutError(f"no Celery worker answered within {timeout:.0f}s (see {Paths(settings).log})") from None
    return answered
