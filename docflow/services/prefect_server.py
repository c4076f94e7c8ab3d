"""The Prefect 3 server (API and UI), its state in its own SQLite file under ``<data_dir>/prefect``."""

from __future__ import annotations

import base64
import os
import shutil
import sys
import time
import urllib.request
from pathlib import Path

from docflow.core.secrets import is_loopback, prefect_auth_string
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
        # Where the UI's sign-in string is (never the string itself).
        where = (
            "DOCFLOW_PREFECT_AUTH_STRING"
            if settings.prefect_auth_string
            else f"{settings.data_dir}/secrets/prefect-auth"
        )
        self.address = f"{settings.prefect_ui_url} (API {settings.prefect_api_url}; UI sign-in: {where})"

    def running(self) -> bool:
        if not port_open(self.host, self.port):
            return False
        with urllib.request.urlopen(f"{self.settings.prefect_api_url}/health", timeout=3) as response:
            return response.status == 200

    def start(self) -> ServiceReport:
        listen = self.settings.bind_host or self.host
        auth = prefect_auth_string(self.settings)  # generated on first start, never printed
        if not is_loopback(listen) and (auth is None or len(auth.get_secret_value()) < 16):
            raise ServiceError(
                f"the local Prefect server would listen on {listen} (beyond loopback) with a weak or no "
                "DOCFLOW_PREFECT_AUTH_STRING; set a strong one (16 characters or more), or unset it to have one generated"
            )
        if port_open(self.host, self.port):
            wait_until(self.running, timeout=60, what="Prefect server")
            return ServiceReport(self.name, self.address, "already running")
        began = time.monotonic()
        self.home.mkdir(parents=True, exist_ok=True)
        prefect = shutil.which("prefect", path=str(Path(sys.executable).parent)) or "prefect"
        env = {**os.environ, **prefect_server_env(self.settings, self.home)}
        pid = spawn(
            [prefect, "server", "start", "--host", listen, "--port", str(self.port), "--analytics-off"],
            pidfile=self.paths.pidfile(self.name),
            logfile=self.paths.logfile(self.name),
            env=env,
            cwd=self.home,
        )
        wait_until(self.running, timeout=120, what="Prefect server", log=self.paths.logfile(self.name))
        return ServiceReport(self.name, self.address, "started", pid, time.monotonic() - began)


def prefect_auth_header(settings: Settings) -> dict[str, str]:
    """The header a plain HTTP call to the Prefect API needs (what Prefect's own client sends)."""
    auth = prefect_auth_string(settings, create=False)
    if auth is None:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(auth.get_secret_value().encode()).decode()}


def prefect_server_env(settings: Settings, home: Path) -> dict[str, str]:
    """The server's environment: its home, no telemetry, and the auth string every API call must carry
    (the health probe is exempt), also handed to the server's own in-process clients."""
    auth = prefect_auth_string(settings)
    secured = (
        {}
        if auth is None
        else {
            "PREFECT_SERVER_API_AUTH_STRING": auth.get_secret_value(),
            "PREFECT_API_AUTH_STRING": auth.get_secret_value(),
        }
    )
    return {
        **secured,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # it phones home otherwise
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_API_URL": settings.prefect_api_url,
        "PREFECT_API_URL": settings.prefect_api_url,
        "PREFECT_SERVER_API_HOST": settings.prefect_host_port[0],
        "PREFECT_SERVER_API_PORT": str(settings.prefect_host_port[1]),
    }
