"""``docflow watch DIR``: immediate intake for users who do not want to wait for the schedule.

Filesystem events (watchdog) only *trigger* a sweep of the folder; the sweep itself is the same
code as the scheduled ``intake-sweep`` (same stable-file guard, ledger, dedupe and registration
path). A file still being written when its event arrives is skipped and picked up by the sweep
that follows its last change, or by the scheduled sweep, which stays the safety net.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from docflow.core.settings import Settings
from docflow.ops import intake


def watch(
    folder: Path,
    *,
    settings: Settings,
    project_id: str,
    stable_seconds: float = 5.0,
    echo: Callable[[str], None] = print,
    stop: threading.Event | None = None,
) -> None:
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    stop = stop or threading.Event()
    dirty = threading.Event()
    dirty.set()  # sweep once at start: files that arrived while nobody watched

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            dirty.set()

    observer = Observer()
    observer.schedule(Handler(), str(folder), recursive=True)
    observer.start()
    echo(f"watching {folder} (project {project_id}); Ctrl-C to stop")
    options = intake.SweepOptions(source=str(folder), project_id=project_id, stable_seconds=stable_seconds)
    last_skipped = 0
    try:
        while not stop.is_set():
            # Files skipped as "still changing" need another look once the delay has passed.
            if dirty.wait(timeout=stable_seconds if last_skipped else 1.0) or last_skipped:
                dirty.clear()
                report = intake.sweep(options, settings)
                new = [
                    f
                    for f in report.files
                    if f.outcome in ("new", "duplicate", "rejected") and f.reason != "already swept (unchanged since)"
                ]
                for item in new:
                    echo(f"{item.outcome:<9} {item.name} {item.document_uuid or ''} {item.reason or ''}".rstrip())
                last_skipped = sum(1 for f in report.files if f.reason and f.reason.startswith("still changing"))
                time.sleep(0.2)
    finally:
        observer.stop()
        observer.join(timeout=5)
