"""The deployments operators see in the Prefect UI, served by one long-running process.

``docflow serve`` (or ``python -m deployments.serve``) registers them against the Prefect server
named in the settings and executes their runs: ``intake-sweep`` on an interval schedule,
``reconcile`` and ``pipeline-monitor`` on theirs, and ``reprocess`` (no schedule: a form operators run). Parameters default from settings and never carry
secrets (credentials stay in the environment of the serving process).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from deployments.prefect_env import configure_prefect
from docflow.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment


def build_deployments(settings: Settings) -> list[RunnerDeployment]:
    # Imported here, after configure_prefect() pointed Prefect at the server: importing a flow
    # module imports Prefect, which reads its settings then.
    from flows.intake import intake_sweep
    from flows.monitor import pipeline_monitor
    from flows.reconcile import reconcile_flow
    from flows.reprocess import reprocess_flow

    deployments = [
        intake_sweep.to_deployment(
            name="intake-sweep",
            interval=timedelta(seconds=settings.intake_interval_s),
            parameters={"source": str(settings.intake_dir.resolve()), "project_id": settings.project_id},
            description="Sweep the intake folder and submit new documents to the pipeline.",
            tags=["docflow", "intake"],
        ),
        reconcile_flow.to_deployment(
            name="reconcile",
            interval=timedelta(seconds=settings.reconcile_interval_s),
            description="Compare status rows with Redis and workers; report (and optionally repair) lost work.",
            tags=["docflow", "reconcile"],
        ),
        pipeline_monitor.to_deployment(
            name="pipeline-monitor",
            interval=timedelta(seconds=settings.monitor_interval_s),
            description="Counts per status, errors, queues, workers, throughput and stage latency.",
            tags=["docflow", "monitor"],
        ),
        # No schedule: an operator runs it from the UI's form (dry run by default).
        reprocess_flow.to_deployment(
            name="reprocess",
            description="Run documents through the pipeline again from a stage: by id, status, project or version.",
            tags=["docflow", "lifecycle"],
        ),
    ]
    # Called synchronously, Prefect's dual sync/async ``to_deployment`` returns the deployment itself.
    served = [cast("RunnerDeployment", deployment) for deployment in deployments]
    flows: tuple[Flow[..., Any], ...] = (intake_sweep, reconcile_flow, pipeline_monitor, reprocess_flow)
    for deployment, flow in zip(served, flows, strict=True):
        # The module path into the installed package, as prefect.yaml names them: a deployment looks
        # the same whether this process or a work pool's worker runs it, so switching between the
        # two (or both registering it) never leaves a run looking for a file path that is not there.
        deployment.entrypoint = f"{flow.fn.__module__}.{flow.fn.__name__}"
    return served


def main() -> None:
    settings = get_settings()
    configure_prefect(settings)
    from prefect import serve

    settings.intake_dir.mkdir(parents=True, exist_ok=True)
    serve(*build_deployments(settings), limit=4)


if __name__ == "__main__":
    main()
