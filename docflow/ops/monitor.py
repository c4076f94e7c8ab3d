"""The pipeline monitor and the health check.

:func:`snapshot` gathers what an operator watches — documents per ``celery_status``, errors by
stage with their most common messages, queue lengths (priority siblings included) and unacked
deliveries, the stores' circuit breakers (which is open, since when, which stages wait), the
workers online and the queues they consume, throughput over the last N minutes and p50/p95 run and
wait times per stage from ``stage_runs`` — in a handful of set-based queries.
Each part is guarded: a dead Redis still yields the database half, and says why the rest is missing.

:func:`health` answers one question, healthy or not, with every reason: total queued above
``health_queue_threshold``, a queue with work that no worker consumes, a store's breaker open, Redis
or the database unreachable. It never raises.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from docflow.core.breaker import read_breakers
from docflow.core.broker import queue_lengths, redis_client, unacked_count, workers_online
from docflow.core.db import fetch_all
from docflow.core.scope import Projects, in_projects, scope_parameter
from docflow.core.settings import Settings
from docflow.core.status import ERROR, Stage, Status
from docflow.core.versions import current_producers, outdated_parameters, outdated_sql

# Every count is over the reader's projects only (``%(projects)s``: NULL for every project).
_MINE = in_projects("project_id")
_STATUS_SQL = f"SELECT celery_status, count(*) FROM source_documents WHERE {_MINE} GROUP BY celery_status"

# The most common messages per error status (top N by count), in one query.
_ERRORS_SQL = f"""
SELECT celery_status, message, n FROM (
    SELECT celery_status, coalesce(left(error_message, 200), '(no message)') AS message, count(*) AS n,
           row_number() OVER (PARTITION BY celery_status ORDER BY count(*) DESC) AS rank
    FROM source_documents WHERE celery_status = ANY(%(errors)s) AND {_MINE}
    GROUP BY celery_status, coalesce(left(error_message, 200), '(no message)')
) ranked WHERE rank <= %(top)s ORDER BY celery_status, n DESC
"""

_THROUGHPUT_SQL = f"""
SELECT count(*) FILTER (WHERE graph_completed_at >= now() - make_interval(mins => %(minutes)s)),
       count(*) FILTER (WHERE celery_status LIKE 'error%%' AND updated_at >= now() - make_interval(mins => %(minutes)s))
FROM source_documents
WHERE (graph_completed_at >= now() - make_interval(mins => %(minutes)s)
       OR updated_at >= now() - make_interval(mins => %(minutes)s))
  AND {_MINE}
"""

# Run time (started -> finished) of succeeded runs and wait time (queued -> started) per stage.
_LATENCY_SQL = """
SELECT stage, count(*) AS runs,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM finished_at - started_at)) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM finished_at - started_at)) AS p95,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM started_at - queued_at))
           FILTER (WHERE queued_at IS NOT NULL) AS wait_p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM started_at - queued_at))
           FILTER (WHERE queued_at IS NOT NULL) AS wait_p95
FROM stage_runs
WHERE outcome = 'succeeded' AND started_at IS NOT NULL
  AND finished_at >= now() - make_interval(mins => %(minutes)s)
  AND (%(projects)s::text[] IS NULL
       OR document_id IN (SELECT id FROM source_documents WHERE project_id = ANY(%(projects)s::text[])))
GROUP BY stage
"""


_OUTDATED_SQL = (
    "SELECT "
    + ", ".join(f"count(*) FILTER (WHERE {outdated_sql(stage)})" for stage in Stage)
    + f" FROM source_documents WHERE {_MINE}"
)

_LIFECYCLE_SQL = f"""
SELECT (SELECT count(*) FROM stage_runs r JOIN source_documents d ON d.id = r.document_id
        WHERE r.outcome = 'reprocessed' AND r.queued_at >= now() - make_interval(mins => %(minutes)s)
          AND {in_projects("d.project_id")}),
       (SELECT count(*) FROM document_deletions
        WHERE deleted_at >= now() - make_interval(mins => %(minutes)s) AND {_MINE})
"""


@dataclass
class MonitorSnapshot:
    generated_at: str
    window_minutes: int
    latency_window_minutes: int
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, list[dict]] = field(default_factory=dict)  # stage -> [{message, count}]
    queues: dict[str, int] = field(default_factory=dict)  # queue -> waiting (priority siblings included)
    unacked: int | None = None
    # store -> {state, since, reason, waiting}: the open breakers only (none: every store answers)
    breakers: dict[str, dict] = field(default_factory=dict)
    workers: dict[str, list[str]] = field(default_factory=dict)  # worker -> queues it consumes
    completed_in_window: int | None = None
    failed_in_window: int | None = None
    latency: dict[str, dict] = field(default_factory=dict)  # stage -> runs, p50, p95, wait_p50, wait_p95
    # Documents whose result for a stage came from another pipeline version than this installation's.
    outdated: dict[str, int] = field(default_factory=dict)
    current_versions: dict[str, str] = field(default_factory=dict)
    reprocessed_in_window: int | None = None  # restarts an operator asked for
    deleted_in_window: int | None = None
    problems: list[str] = field(default_factory=list)  # parts that could not be read, and why

    @property
    def total_queued(self) -> int:
        return sum(self.queues.values())

    @property
    def throughput_per_minute(self) -> float | None:
        if self.completed_in_window is None:
            return None
        return self.completed_in_window / self.window_minutes

    def to_dict(self) -> dict:
        data = asdict(self)
        data["total_queued"] = self.total_queued
        data["throughput_per_minute"] = self.throughput_per_minute
        return data

    def markdown(self) -> str:
        lines = [f"# Pipeline monitor — {self.generated_at}", ""]
        total = sum(self.statuses.values())
        lines += [
            f"**{total}** documents · **{self.total_queued}** queued · unacked "
            f"{self.unacked if self.unacked is not None else '?'} · workers online: {len(self.workers)} · "
            f"completed in the last {self.window_minutes} min: {self.completed_in_window} "
            f"({(self.throughput_per_minute or 0):.2f}/min), failed: {self.failed_in_window}",
            "",
        ]
        lines += ["## Documents per status", "", "| status | documents |", "|---|---:|"]
        for status in [s.value for s in Status]:
            if self.statuses.get(status):
                lines.append(f"| {status} | {self.statuses[status]} |")
        lines += ["", "## Stores", ""]
        lines += [
            f"- **{store}** breaker {b['state'].replace('_', '-')} since {b['since']} — {b['waiting']}: {b['reason']}"
            for store, b in self.breakers.items()
        ] or ["Every store answers (all breakers closed)."]
        lines += ["", "## Queues", "", "| queue | waiting |", "|---|---:|"]
        lines += [f"| `{queue}` | {count} |" for queue, count in self.queues.items()]
        lines += ["", "## Workers", ""]
        lines += [f"- {name}: {', '.join(queues) or '(no queues)'}" for name, queues in self.workers.items()] or [
            "None online."
        ]
        lines += [
            "",
            f"## Time per stage (succeeded runs, last {self.latency_window_minutes} min)",
            "",
            "| stage | runs | p50 s | p95 s | wait p50 s | wait p95 s |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for stage in (s.value for s in Stage):
            row = self.latency.get(stage)
            if row:
                lines.append(
                    f"| {stage} | {row['runs']} | {_num(row['p50'])} | {_num(row['p95'])} | "
                    f"{_num(row['wait_p50'])} | {_num(row['wait_p95'])} |"
                )
        lines += [
            "",
            "## Pipeline versions",
            "",
            "| stage | what produces it now | documents made by something else |",
            "|---|---|---:|",
        ]
        for stage, version in self.current_versions.items():
            lines.append(f"| {stage} | `{version}` | {self.outdated.get(stage, 0)} |")
        if any(self.outdated.values()):
            lines += [
                "",
                "Re-run them with `docflow reprocess --outdated <stage> --from <stage>` (or the "
                "`reprocess` deployment).",
            ]
        lines += [
            "",
            f"Reprocessed in the last {self.window_minutes} min: {self.reprocessed_in_window}; "
            f"deleted: {self.deleted_in_window}.",
        ]
        lines += ["", "## Errors by stage", ""]
        if not any(self.errors.values()):
            lines.append("None.")
        for stage, messages in self.errors.items():
            for item in messages:
                text = item["message"].replace("|", "\\|").replace("\n", " ")
                lines.append(f"- **{stage}** ×{item['count']}: {text}")
        if self.problems:
            lines += ["", "## Not available", ""] + [f"- {problem}" for problem in self.problems]
        return "\n".join(lines) + "\n"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def snapshot(
    settings: Settings,
    *,
    window_minutes: int = 15,
    latency_window_minutes: int = 1440,
    top_errors: int = 3,
    inspect_timeout_s: float = 1.0,
    include_workers: bool = True,
    projects: Projects = None,
) -> MonitorSnapshot:
    """Everything the monitor shows; unreadable parts are listed in ``problems``, never raised.

    Document counts, errors, throughput, latency and lifecycle figures cover ``projects`` only
    (None: every project); queues and workers are the installation's (no document in them).
    """
    result = MonitorSnapshot(datetime.now(UTC).isoformat(timespec="seconds"), window_minutes, latency_window_minutes)
    scope = {"projects": scope_parameter(projects)}
    try:
        result.statuses = {status: int(n) for status, n in fetch_all(_STATUS_SQL, scope)}
        error_stage = {error.value: stage.value for stage, error in ERROR.items()}
        result.errors = {stage.value: [] for stage in ERROR}
        for status, message, n in fetch_all(_ERRORS_SQL, {"errors": sorted(error_stage), "top": top_errors, **scope}):
            result.errors[error_stage[status]].append({"message": message, "count": int(n)})
        completed, failed = fetch_all(_THROUGHPUT_SQL, {"minutes": window_minutes, **scope})[0]
        result.completed_in_window, result.failed_in_window = int(completed), int(failed)
        result.current_versions = {stage: " or ".join(p) for stage, p in current_producers(settings).items()}
        (row,) = fetch_all(_OUTDATED_SQL, {**outdated_parameters(settings), **scope})
        result.outdated = {stage.value: int(n) for stage, n in zip(Stage, row, strict=True)}
        reprocessed, deleted = fetch_all(_LIFECYCLE_SQL, {"minutes": window_minutes, **scope})[0]
        result.reprocessed_in_window, result.deleted_in_window = int(reprocessed), int(deleted)
        for stage, runs, p50, p95, wait50, wait95 in fetch_all(
            _LATENCY_SQL, {"minutes": latency_window_minutes, **scope}
        ):
            result.latency[stage] = {
                "runs": int(runs),
                "p50": _float(p50),
                "p95": _float(p95),
                "wait_p50": _float(wait50),
                "wait_p95": _float(wait95),
            }
    except Exception as exc:  # noqa: BLE001 - a monitor reports a dead database, it does not die of it
        result.problems.append(f"database unreachable: {_brief(exc)}")
    try:
        client = redis_client(settings)
        result.queues = queue_lengths(client, list(settings.queues.values()))
        result.unacked = unacked_count(client)
        result.breakers = {s.value: b.to_dict() for s, b in read_breakers(client).items() if b.is_open}
    except Exception as exc:  # noqa: BLE001 - the monitor reports a part it cannot read, it never dies of it
        result.problems.append(f"redis unreachable: {_brief(exc)}")
    if include_workers and not any(p.startswith("redis") for p in result.problems):
        try:
            result.workers = workers_online(timeout_s=inspect_timeout_s)
        except Exception as exc:  # noqa: BLE001 - the monitor reports a part it cannot read, it never dies of it
            result.problems.append(f"workers could not be inspected: {_brief(exc)}")
    return result


def _float(value: float | Decimal | None) -> float | None:
    return None if value is None else round(float(value), 3)


def _brief(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:300]


def health(settings: Settings, *, inspect_timeout_s: float = 1.0) -> tuple[bool, list[str]]:
    """(healthy, reasons). Unhealthy when the database or Redis is unreachable, the total queued
    exceeds ``health_queue_threshold``, or a queue with waiting work has no worker consuming it."""
    reasons: list[str] = []
    try:
        fetch_all("SELECT 1", {})
    except Exception as exc:  # noqa: BLE001 - the monitor reports a part it cannot read, it never dies of it
        reasons.append(f"database unreachable: {_brief(exc)}")
    try:
        client = redis_client(settings)
        lengths = queue_lengths(client, list(settings.queues.values()))
        breakers = read_breakers(client)
    except Exception as exc:  # noqa: BLE001 - the monitor reports a part it cannot read, it never dies of it
        reasons.append(f"redis unreachable: {_brief(exc)}")
        return False, reasons
    reasons += [f"breaker {b.describe()} ({b.waits()})" for b in breakers.values() if b.is_open]
    total = sum(lengths.values())
    if total > settings.health_queue_threshold:
        reasons.append(
            f"{total} messages queued, above the threshold of {settings.health_queue_threshold} "
            f"({', '.join(f'{q}={n}' for q, n in lengths.items())})"
        )
    with_work = [queue for queue, count in lengths.items() if count]
    if with_work:
        try:
            consumed = {queue for queues in workers_online(timeout_s=inspect_timeout_s).values() for queue in queues}
        except Exception as exc:  # noqa: BLE001 - the monitor reports a part it cannot read, it never dies of it
            reasons.append(f"workers could not be inspected: {_brief(exc)}")
            consumed = set()
        for queue in with_work:
            if queue not in consumed:
                reasons.append(f"queue {queue!r} has {lengths[queue]} waiting message(s) and no worker consuming it")
    return not reasons, reasons
