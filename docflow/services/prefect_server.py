"""The Prefect 3 server (API and UI), its state in its own SQLite file under ``<data_dir>/prefect``."""

from __future__ import annotations

import os
import shutil
import sys
import time
import urllib.request
from pathlib import Path

from docflow.core.secrets import is_loopback
from docflow.core.settings import Settings
from docflow.services.process import Paths, PidFileService, ServiceError, ServiceReport, port_open, spawn, wait_until


class PrefectServer(PidFileService):
    """Prefect 3's API and UI. Its state lives in its own SQLite file under ``var/prefect``: the
    orchestration history is not docflow's truth, must not contend with the pipeline's PostgreSQL
    connections, and can be wiped without touching a document."""

    name = "prefect"
    marker = "prefect"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.paths = Paths(settings)
        self.host, self.port = settings.prefect_host_port
        self.home = self.paths.root / "prefect"
        self.address = f"{settings.prefect_ui_url} (API {settings.prefect_api_url})"

    def running(self) -> bool:
        if not port_open(self.host, self.port):
            return False
        with urllib.request.urlopen(f"{self.settings.prefect_api_url}/health", timeout=3) as response:
            return response.status == 200

    def start(self) -> ServiceReport:
        listen = self.settings.bind_host or self.host
        if not is_loopback(listen):
            # The local Prefect server has no authentication of docflow's making yet: loopback only.
            raise ServiceError(
                f"the local Prefect server would listen on {listen} (beyond loopback) without authentication; "
                "keep it on loopback, or run Prefect elsewhere (DOCFLOW_START_PREFECT_SERVER=false, "
                "DOCFLOW_PREFECT_API_URL)"
            )
        if port_open(self.host, self.port):
            wait_until(self.running, timeout=60, what="Prefect server")
            return ServiceReport(self.name, self.address, "already running")
        began = time.monotonic()
        self.home.mkdir(parents=True, exist_ok=True)
        prefect = shutil.which("prefect", path=str(Path(sys.executable).parent)) or "prefect"
        env = {**os.environ, **prefect_server_env(self.settings, self.home)}
        pid = spawn(
            [prefect, "server", "start", "--host", self.host, "--port", str(self.port), "--analytics-off"],
            pidfile=self.paths.pidfile(self.name),
            logfile=self.paths.logfile(self.name),
            env=env,
            cwd=self.home,
        )
        wait_until(self.running, timeout=120, what="Prefect server", log=self.paths.logfile(self.name))
        return ServiceReport(self.name, self.address, "started", pid, time.monotonic() - began)


def prefect_server_env(settings: Settings, home: Path) -> dict[str, str]:
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # it phones home otherwise
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_API_URL": settings.prefect_api_url,
        "PREFECT_API_URL": settings.prefect_api_url,
        "PREFECT_SERVER_API_HOST": settings.prefect_host_port[0],
        "PREFECT_SERVER_API_PORT": str(settings.prefect_host_port[1]),
    }
