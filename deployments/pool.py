"""The production path: docflow's deployments on a Prefect process work pool.

:func:`ensure_work_pool` creates the pool when it is missing (``prefect work-pool create docflow
--type process``); :func:`deploy_all` registers every deployment of ``prefect.yaml`` against the
server with ``prefect deploy --all`` — the same command an operator types in a checkout, run on the
file bundled with the package, so no checkout is needed. A ``prefect worker start --pool docflow``
on any machine with docflow installed then runs them.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass

from deployments.prefect_env import configure_prefect
from docflow.core.resources import prefect_yaml
from docflow.core.settings import Settings

DEFAULT_POOL = "docflow"
DEPLOY_TIMEOUT_S = 300


@dataclass(frozen=True)
class PoolDeployment:
    pool: str
    created_pool: bool
    deployments: list[str]


async def _ensure_work_pool(name: str) -> bool:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    async with get_client() as client:
        try:
            await client.read_work_pool(name)
            return False
        except ObjectNotFound:
            pass
        try:
            await client.create_work_pool(WorkPoolCreate(name=name, type="process"))
        except ObjectAlreadyExists:  # created by someone else in between
            return False
        return True


def ensure_work_pool(settings: Settings, name: str = DEFAULT_POOL) -> bool:
    """Create the process work pool ``name`` unless it exists; True when it was created."""
    configure_prefect(settings)
    return asyncio.run(_ensure_work_pool(name))


async def _deployments_of(pool: str) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import WorkPoolFilter, WorkPoolFilterName

    async with get_client() as client:
        found = await client.read_deployments(work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])))
        flows = {flow.id: flow.name for flow in await client.read_flows()}
    return sorted(f"{flows.get(d.flow_id, '?')}/{d.name}" for d in found)


def deploy_all(settings: Settings, *, pool: str = DEFAULT_POOL) -> PoolDeployment:
    """Create the pool if needed and register every deployment of the bundled ``prefect.yaml``.

    Raises ``RuntimeError`` with Prefect's own output when ``prefect deploy`` fails.
    """
    created = ensure_work_pool(settings, pool)
    source = prefect_yaml()
    env = {**os.environ, "PREFECT_CLI_PROMPT": "false"}
    command = [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all", "--prefect-file", str(source)]
    if pool != DEFAULT_POOL:
        command += ["--pool", pool]
    # From the file's folder: prefect deploy resolves the project there.
    finished = subprocess.run(
        command, cwd=source.parent, env=env, capture_output=True, text=True, timeout=DEPLOY_TIMEOUT_S, check=False
    )
    if finished.returncode != 0:
        raise RuntimeError(
            f"prefect deploy failed ({finished.returncode}):\n{finished.stdout[-2000:]}{finished.stderr[-2000:]}"
        )
    return PoolDeployment(pool, created, asyncio.run(_deployments_of(pool)))


def worker_command(*, pool: str = DEFAULT_POOL, run_once: bool = False, limit: int | None = None) -> list[str]:
    """``prefect worker start`` for the pool, as this interpreter runs it."""
    command = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--type", "process"]
    if run_once:
        command.append("--run-once")
    if limit:
        command += ["--limit", str(limit)]
    return command
