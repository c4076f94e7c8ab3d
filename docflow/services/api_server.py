"""The HTTP API as a local service: uvicorn serving ``docflow.api:create_app`` on the settings' address."""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from pathlib import Path

from docflow.core.secrets import api_token, secrets_dir
from docflow.core.settings import Settings
from docflow.services.process import Paths, PidFileService, ServiceReport, port_open, spawn, wait_until


def api_command(settings: Settings) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "docflow.api:create_app", "--factory",
        "--host", settings.api_host, "--port", str(settings.api_port),
        # Seconds a request in progress gets to finish when the server stops.
        "--timeout-graceful-shutdown", "10",
    ]  # fmt: skip


class ApiServer(PidFileService):
    name = "api"
    marker = "docflow.api:create_app"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.paths = Paths(settings)
        self.host, self.port = settings.api_host, settings.api_port
        where = "DOCFLOW_API_TOKEN" if settings.api_token else str(secrets_dir(settings) / "api-token")
        self.address = f"{settings.api_url} (docs {settings.api_url}/docs; token in {where})"

    def running(self) -> bool:
        if not port_open(self.host, self.port):
            return False
        with urllib.request.urlopen(f"{self.settings.api_url}/health", timeout=3) as response:
            return bool(response.status == 200)

    def start(self) -> ServiceReport:
        if port_open(self.host, self.port):
            wait_until(self.running, timeout=30, what="the HTTP API")
            return ServiceReport(self.name, self.address, "already running")
        began = time.monotonic()
        api_token(self.settings, create=True)  # before the server reads it: one token, written once
        pid = spawn(
            api_command(self.settings),
            pidfile=self.paths.pidfile(self.name),
            logfile=self.paths.logfile(self.name),
            env=dict(os.environ),
            cwd=Path.cwd(),
        )
        wait_until(self.running, timeout=60, what="the HTTP API", log=self.paths.logfile(self.name))
        return ServiceReport(self.name, self.address, "started", pid, time.monotonic() - began)
