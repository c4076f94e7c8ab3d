"""The deployments operators see in the Prefect UI, served by one long-running process.

``docflow serve`` (or ``python -m deployments.serve``) registers the deployments ``prefect.yaml``
declares (:mod:`deployments.declared`) against the Prefect server named in the settings and executes
their runs: ``intake-sweep``, ``reconcile`` and ``pipeline-monitor`` on their schedules (changed for
this path by ``DOCFLOW_*_INTERVAL_S``), and ``reprocess`` (no schedule: a form operators run).
Parameters default from settings and never carry secrets (credentials stay in the environment of
the serving process).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from deployments.declared import DeclaredDeployment, declared_deployments
from deployments.prefect_env import configure_prefect
from docflow.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment


def _interval_s(declared: DeclaredDeployment, settings: Settings) -> int | None:
    overrides = {
        "intake-sweep": settings.intake_interval_s,
        "reconcile": settings.reconcile_interval_s,
        "pipeline-monitor": settings.monitor_interval_s,
    }
    return overrides.get(declared.name) or declared.interval_s


def _parameters(declared: DeclaredDeployment, settings: Settings) -> dict[str, Any]:
    # The intake folder as this machine resolves it, shown in the UI's form.
    if declared.name == "intake-sweep":
        return {"source": str(settings.intake_dir.resolve()), "project_id": settings.project_id}
    return {}


def build_deployments(settings: Settings) -> list[RunnerDeployment]:
    served = []
    for declared in declared_deployments():
        # Imported here, after configure_prefect() pointed Prefect at the server: importing a flow
        # module imports Prefect, which reads its settings then.
        flow = declared.flow()
        interval = _interval_s(declared, settings)
        deployment = flow.to_deployment(
            name=declared.name,
            interval=timedelta(seconds=interval) if interval else None,
            parameters=_parameters(declared, settings),
            description=declared.description,
            tags=list(declared.tags),
        )
        # Called synchronously, Prefect's dual sync/async ``to_deployment`` returns the deployment itself.
        runner = cast("RunnerDeployment", deployment)
        # The module path into the installed package, as prefect.yaml names it: a deployment looks
        # the same whether this process or a work pool's worker runs it, so switching between the
        # two (or both registering it) never leaves a run looking for a file path that is not there.
        runner.entrypoint = declared.entrypoint
        served.append(runner)
    return served


def main() -> None:
    settings = get_settings()
    configure_prefect(settings)
    from prefect import serve

    settings.intake_dir.mkdir(parents=True, exist_ok=True)
    serve(*build_deployments(settings), limit=4)


if __name__ == "__main__":
    main()
