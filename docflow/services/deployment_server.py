"""The Prefect deployments served by a background ``docflow serve`` (``python -m deployments.serve``).

``docflow up`` starts it after the Prefect server, so the deployments (intake-sweep, reconcile,
pipeline-monitor, reprocess) are registered and their scheduled and manual runs execute on this
machine, as the one-machine path promises. A production installation runs them through a work pool
instead (``docflow deploy`` + ``prefect worker start --pool docflow``) and turns this off with
``DOCFLOW_SERVE_DEPLOYMENTS=false``. No Prefect import here: readiness is a REST call.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from docflow.core.settings import Settings
from docflow.services.prefect_server import prefect_auth_header
from docflow.services.process import Paths, PidFileService, ServiceReport, read_pid, spawn, wait_until

# The deployment whose registration means the server registered them all (they go in one call).
PROBE_DEPLOYMENT = "intake-sweep/intake-sweep"


class DeploymentServer(PidFileService):
    name = "deployments"
    marker = "deployments.serve"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.paths = Paths(settings)
        self.address = f"{settings.prefect_ui_url}/deployments (served by this machine)"

    def running(self) -> bool:
        return read_pid(self.paths.pidfile(self.name), self.marker) is not None

    def registered(self) -> bool:
        url = f"{self.settings.prefect_api_url}/deployments/name/{PROBE_DEPLOYMENT}"
        try:
            request = urllib.request.Request(url, headers=prefect_auth_header(self.settings))
            with urllib.request.urlopen(request, timeout=3) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def start(self) -> ServiceReport:
        if self.running():
            return ServiceReport(self.name, self.address, "already running")
        began = time.monotonic()
        log = self.paths.logfile(self.name)
        offset = log.stat().st_size if log.exists() else 0  # earlier runs' lines do not count
        pid = spawn(
            [sys.executable, "-m", "deployments.serve"],
            pidfile=self.paths.pidfile(self.name),
            logfile=self.paths.logfile(self.name),
            env=dict(os.environ),
            cwd=Path.cwd(),
        )
        # A previous run may have registered them already: wait for this process to have done it.
        wait_until(lambda: self._serving(offset), timeout=120, what="the deployments", log=log)
        return ServiceReport(self.name, self.address, "started", pid, time.monotonic() - began)

    def _serving(self, offset: int) -> bool:
        log = self.paths.logfile(self.name)
        if not self.running():
            raise RuntimeError(f"docflow serve exited during start-up; see {log}")
        # prefect.serve() prints this banner once the deployments are registered.
        return self.registered() and "Your deployments are being served" in _read_from(log, offset)


def _read_from(log: Path, offset: int) -> str:
    if not log.exists():
        return ""
    with open(log, "rb") as handle:
        handle.seek(offset)
        return handle.read().decode(errors="replace")
