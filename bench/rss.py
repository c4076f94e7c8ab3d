"""Peak resident memory of a process tree, sampled in a background thread.

Guarantees: sampling never raises into the caller (processes that exit between two samples are
skipped); ``peaks`` holds the highest RSS seen per pid, ``series`` the tree's total over time, so a
caller can tell flat memory from growth. One sample costs a few /proc reads: at the default 0.25 s
interval the sampler itself uses well under 1% of a core.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psutil

MB = 1024 * 1024


@dataclass
class ProcessPeak:
    pid: int
    role: str  # "parent" for a root pid, "child" for a descendant
    peak_mb: float
    name: str = ""


@dataclass
class RssSampler:
    """Sample ``roots`` and all their descendants every ``interval_s`` until :meth:`stop`."""

    roots: list[int]
    interval_s: float = 0.25
    include_roots: bool = True
    peaks: dict[int, ProcessPeak] = field(default_factory=dict)
    series: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, total MB)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _began: float = 0.0

    def start(self) -> RssSampler:
        self._began = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> RssSampler:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        return self

    def __enter__(self) -> RssSampler:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    def sample(self) -> None:
        total = 0.0
        for root in self.roots:
            try:
                parent = psutil.Process(root)
                members = [(parent, "parent")] if self.include_roots else []
                members += [(child, "child") for child in parent.children(recursive=True)]
            except psutil.Error:
                continue
            for process, role in members:
                try:
                    rss = process.memory_info().rss / MB
                    name = process.name()
                except psutil.Error:
                    continue
                total += rss
                known = self.peaks.get(process.pid)
                if known is None or rss > known.peak_mb:
                    self.peaks[process.pid] = ProcessPeak(process.pid, role, rss, name)
        self.series.append((time.monotonic() - self._began, total))

    # -- summaries ------------------------------------------------------------------------------------

    def peak_of(self, role: str) -> float | None:
        values = [p.peak_mb for p in self.peaks.values() if p.role == role]
        return max(values) if values else None

    def peak_total(self) -> float | None:
        return max((mb for _, mb in self.series), default=None)

    def growth_after_warmup(self, warmup_share: float = 0.1) -> float | None:
        """Peak total minus the total at ``warmup_share`` of the sampled time (flat memory ~ 0)."""
        if len(self.series) < 3:
            return None
        end = self.series[-1][0]
        early = next(mb for t, mb in self.series if t >= warmup_share * end)
        return max(mb for _, mb in self.series) - early
