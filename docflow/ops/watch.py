"""``docflow watch DIR``: immediate intake, for users who do not want to wait for the schedule.

Filesystem events (watchdog) only *trigger* a sweep of the folder; the sweep itself is the one
engine the scheduled ``intake-sweep`` runs (same guard, ledger, dedupe and registration path).

Where the filesystem reports it (inotify on Linux), a file whose writer closed it after writing,
or that was moved into the folder whole, is taken at once: the sweep is told the file has settled
(with its mtime at that moment, so a later write makes it wait again). Everything else — network
folders without events, files still open — waits for the stable-file delay as before, and the
scheduled sweep stays the safety net.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from watchdog.events import (
    EVENT_TYPE_CLOSED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from docflow.core.names import storable_path
from docflow.core.settings import Settings
from docflow.ops import intake

ALREADY_SWEPT = "already swept (unchanged since)"


class _Events(FileSystemEventHandler):
    """Collects which files settled (closed after writing, or moved in) and wakes the sweeper."""

    def __init__(self, root: Path) -> None:
        self.root, self.dirty, self.lock = root, threading.Event(), threading.Lock()
        self.settled: dict[str, int] = {}

    def on_any_event(self, event: FileSystemEvent) -> None:
        if not event.is_directory and event.event_type in (EVENT_TYPE_CLOSED, EVENT_TYPE_MOVED):
            path = Path(os.fsdecode(event.dest_path if event.event_type == EVENT_TYPE_MOVED else event.src_path))
            try:
                mtime_ns = path.stat(follow_symlinks=False).st_mtime_ns
                relative = storable_path(str(path.relative_to(self.root)))
            except (OSError, ValueError):
                relative = ""  # gone again, or outside the root: the sweep decides from the listing
            if relative:
                with self.lock:
                    self.settled[relative] = mtime_ns
        self.dirty.set()

    def take_settled(self) -> dict[str, int]:
        with self.lock:
            taken, self.settled = self.settled, {}
            return taken


def watch(
    folder: Path,
    *,
    settings: Settings,
    project_id: str,
    stable_seconds: float = 5.0,
    echo: Callable[[str], None] = print,
    stop: threading.Event | None = None,
) -> None:
    """Sweep ``folder`` now and after every change until ``stop`` is set (or Ctrl-C)."""
    stop = stop or threading.Event()
    root = folder.resolve()
    events = _Events(root)
    events.dirty.set()  # sweep once at start: files that arrived while nobody watched
    observer = Observer()
    observer.schedule(events, str(root), recursive=True)
    observer.start()
    echo(f"watching {folder} (project {project_id}); Ctrl-C to stop")
    options = intake.SweepOptions(source=str(root), project_id=project_id, stable_seconds=stable_seconds)
    waiting = 0  # files skipped as "still changing": they need another look once the delay has passed
    try:
        while not stop.is_set():
            if not (events.dirty.wait(timeout=min(stable_seconds, 1.0) if waiting else 1.0) or waiting):
                continue
            events.dirty.clear()
            report = intake.sweep(replace(options, settled=events.take_settled()), settings)
            for item in report.files:
                if item.outcome in ("new", "duplicate", "rejected") and item.reason != ALREADY_SWEPT:
                    echo(f"{item.outcome:<9} {item.name} {item.document_uuid or ''} {item.reason or ''}".rstrip())
            waiting = sum(1 for f in report.files if (f.reason or "").startswith("still changing"))
            if waiting:
                time.sleep(0.2)
    finally:
        observer.stop()
        observer.join(timeout=5)
