"""What every local service shares: where its files go, starting and stopping tracked processes,
and waiting until a service really answers.

Processes are tracked by pid files under ``<data_dir>/run``; :func:`terminate` is only ever called
with a pid docflow wrote itself, and :func:`read_pid` checks the command line, so a recycled pid
is never signalled.
"""

from __future__ import annotations

import signal
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
from tenacity import RetryError, Retrying, retry_if_exception_type, retry_if_result, stop_after_delay, wait_fixed

from docflow.core.settings import Settings


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


def secure_listen_host(settings: Settings, url_host: str, service: str) -> str:
    """The address ``service`` listens on, after its secrets exist (generated on first start).

    :class:`ServiceError` when that address is beyond loopback and a credential is missing or a
    known default (the message names the settings, never a value).
    """
    from docflow.core.secrets import ensure_secrets, exposure_error

    ensure_secrets(settings)
    listen = settings.bind_host or url_host
    why = exposure_error(settings, listen, service)
    if why:
        raise ServiceError(why)
    return listen


# -- small process helpers ----------------------------------------------------------------------


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, log: Path | None = None) -> None:
    """Poll ``check`` every 0.25 s until it returns true; :class:`ServiceError` after ``timeout``.

    A readiness probe fails in many ways while a server starts (refused, reset, "loading"), so
    any exception counts as "not yet"; the last one is quoted with the log's tail if it never
    comes up.
    """
    retrying = Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(0.25),
        reraise=False,
        retry=retry_if_exception_type(Exception) | retry_if_result(lambda ready: not ready),
    )
    try:
        retrying(check)
        return
    except RetryError as error:
        last = error.last_attempt
        last_error = last.exception() if last.failed else None
    tail = ""
    if log is not None and log.exists():
        tail = (
            "\n--- last lines of " + str(log) + " ---\n" + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        )
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


def spawn(
    cmd: list[str], *, pidfile: Path, logfile: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> int:
    """Start a detached process (own session, so a Ctrl-C in the terminal does not reach it)."""
    with open(logfile, "ab") as log:
        process = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=cwd,
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
    paths: Paths
    address: str

    def stop(self) -> ServiceReport:
        pid = read_pid(self.paths.pidfile(self.name), self.marker)
        if pid is None:
            return ServiceReport(self.name, self.address, "not running")
        terminate(pid, timeout=self.stop_timeout_s)  # SIGTERM first: Valkey flushes its AOF, Neo4j checkpoints
        self.paths.pidfile(self.name).unlink(missing_ok=True)
        return ServiceReport(self.name, self.address, "stopped", pid)
