"""Where the CPU went during a run: CPU seconds per process group, from /proc snapshots.

On a 2-core machine every CPU second a service spends during the pipeline run is a second the
OCR and NLP work does not get, so "pipeline / floor" is explained by this table as much as by the
stage timings. Groups are matched on the command line; processes that start and end between two
snapshots are counted through their parent's ``children_*`` times once reaped (a finished floor
pool, recycled worker children); only processes whose parent is outside every group are missed.
"""

from __future__ import annotations

import psutil

GROUPS = (
    ("worker", ("celery", "-A", "tasks.celery_app")),
    ("neo4j", ("docflow.Neo4jLauncher",)),
    ("postgres", ("postgres",)),
    ("redis", ("valkey-server",)),
    ("s3", ("weed",)),
    ("prefect", ("prefect",)),
)


STEAL_KEY = -1


def _group(cmdline: list[str], own_pid: int, pid: int) -> str:
    joined = " ".join(cmdline)
    if pid == own_pid or "bench.pipeline" in joined:  # the harness and its floor pool
        return "bench"
    for name, needles in GROUPS:
        if all(needle in joined for needle in needles):
            return name
    return "other"


def snapshot() -> dict[int, tuple[str, float]]:
    """pid -> (group, user+system CPU seconds so far)."""
    own = psutil.Process().pid
    out: dict[int, tuple[str, float]] = {}
    parents: dict[int, int] = {}
    for process in psutil.process_iter(["pid", "ppid", "cmdline", "cpu_times"]):
        try:
            times = process.info["cpu_times"]
            if times is None:
                continue
            # children_* is the CPU of children already reaped (a finished pool, recycled worker
            # children): counted with their parent, so nothing that ended between snapshots is lost.
            spent = times.user + times.system + times.children_user + times.children_system
            out[process.info["pid"]] = (_group(process.info["cmdline"] or [], own, process.info["pid"]), spent)
            parents[process.info["pid"]] = process.info["ppid"]
        except (psutil.Error, TypeError):
            continue
    # A Celery worker is a consumer (parent) and a pool (children): the parent's CPU is pure
    # orchestration (messages, acks, dispatch), the children's is the stage work plus its overhead.
    workers = {pid for pid, (group, _) in out.items() if group == "worker"}
    for pid in workers:
        out[pid] = ("worker pool" if parents.get(pid) in workers else "worker parent", out[pid][1])
    # Not a process: CPU time the hypervisor gave to other guests while ours wanted it. A run
    # whose "steal" is large was slowed by a neighbour, not by docflow.
    out[STEAL_KEY] = ("steal", getattr(psutil.cpu_times(), "steal", 0.0))
    return out


def delta(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds per group between two snapshots (new processes count from zero)."""
    groups: dict[str, float] = {}
    for pid, (group, seconds) in after.items():
        spent = seconds - before[pid][1] if pid in before and before[pid][0] == group else seconds
        if spent > 0:
            groups[group] = groups.get(group, 0.0) + spent
    return dict(sorted(groups.items(), key=lambda kv: -kv[1]))
