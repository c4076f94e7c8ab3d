"""Run a deployment and follow it to the end: what the main job does with ``intake-sweep`` and
``reconcile``, so a new user's first documents go through the path operators use, and the Prefect
UI they open afterwards shows those runs, their artifacts and the reconcile report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from deployments.prefect_env import configure_prefect
from docflow.core.settings import Settings

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun


@dataclass(frozen=True)
class FinishedRun:
    deployment: str
    name: str
    state: str  # Prefect's state name: Completed, Failed, ... (or Scheduled/Running after a timeout)
    url: str
    artifacts: dict[str, str] = field(default_factory=dict)  # artifact key -> its page in the UI

    @property
    def completed(self) -> bool:
        return self.state == "Completed"


def run_and_wait(
    settings: Settings, deployment: str, *, parameters: dict[str, Any] | None = None, timeout_s: float = 600
) -> FinishedRun:
    """Start a run of ``deployment`` ("flow/deployment"), wait up to ``timeout_s`` for its end.

    The run executes wherever the deployment is served (``docflow serve`` / ``docflow up``) or on a
    worker of its pool; nothing runs in this process.
    """
    configure_prefect(settings)
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.deployments import run_deployment

    # Called synchronously, Prefect's dual sync/async run_deployment returns the flow run itself.
    started = cast("FlowRun", run_deployment(deployment, parameters=parameters or {}, timeout=timeout_s))
    ui = settings.prefect_ui_url
    with get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(started.id)
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id]))
        )
    return FinishedRun(
        deployment=deployment,
        name=flow_run.name,
        state=(flow_run.state.name if flow_run.state else None) or "unknown",
        url=f"{ui}/runs/flow-run/{flow_run.id}",
        artifacts={a.key or str(a.id): f"{ui}/artifacts/artifact/{a.id}" for a in artifacts},
    )
