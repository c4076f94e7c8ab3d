"""Prefect flow ``pipeline-monitor``: the monitor snapshot as a markdown artifact (key ``pipeline-monitor``).

The logic is :func:`docflow.ops.monitor.snapshot`; the flow publishes it and returns it as a dict,
including the health verdict and its reasons.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from docflow.core.settings import get_settings
from docflow.ops import monitor as logic

MONITOR_KEY = "pipeline-monitor"


@flow(name="pipeline-monitor")
def pipeline_monitor(
    window_minutes: int = 15, latency_window_minutes: int = 1440, top_errors: int = 3, inspect_timeout_s: float = 1.0
) -> dict:
    """Documents per status, errors by stage, queues, workers, throughput and time per stage.

    Args:
        window_minutes: Throughput window: documents completed (and failed) in the last N minutes.
        latency_window_minutes: p50/p95 time per stage over succeeded stage runs of the last N minutes.
        top_errors: How many of the most common error messages to show per stage.
        inspect_timeout_s: Seconds to wait for live workers to answer.
    """
    settings = get_settings()
    snapshot = logic.snapshot(
        settings,
        window_minutes=window_minutes,
        latency_window_minutes=latency_window_minutes,
        top_errors=top_errors,
        inspect_timeout_s=inspect_timeout_s,
    )
    healthy, reasons = logic.health(settings, inspect_timeout_s=inspect_timeout_s)
    verdict = "## Health\n\n" + (
        "healthy\n" if healthy else "UNHEALTHY\n\n" + "\n".join(f"- {r}" for r in reasons) + "\n"
    )
    create_markdown_artifact(
        markdown=snapshot.markdown() + "\n" + verdict,
        key=MONITOR_KEY,
        description="Pipeline monitor: statuses, queues, workers, throughput, latency, errors",
    )
    get_run_logger().info(
        "%s; %d queued; %d worker(s)",
        "healthy" if healthy else "UNHEALTHY: " + "; ".join(reasons),
        snapshot.total_queued,
        len(snapshot.workers),
    )
    return {**snapshot.to_dict(), "healthy": healthy, "reasons": reasons}


if __name__ == "__main__":  # pragma: no cover
    pipeline_monitor()
