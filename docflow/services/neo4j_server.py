"""Neo4j 5 Community from Maven Central, run by the shipped ``infra/neo4j`` launcher project.

The Maven project is copied to ``<data_dir>/neo4j/build`` and resolved and compiled there (the
installed package stays read-only); the jars are cached in ``~/.m2``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from docflow.core.graph import GraphStore
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

LAUNCHER_FILES = ("pom.xml", "src/main/java/docflow/Neo4jLauncher.java")


def build_dir() -> Path:
    """``~/.cache/docflow/neo4j-<digest of the launcher project>``: resolved and compiled once per version."""
    digest = hashlib.sha256()
    for name in LAUNCHER_FILES:
        digest.update((infra_dir() / "neo4j" / name).read_bytes())
    return Path.home() / ".cache" / "docflow" / f"neo4j-{digest.hexdigest()[:16]}"


class Neo4j(PidFileService):
    name = "neo4j"
    marker = "docflow.Neo4jLauncher"
    stop_timeout_s = 60.0

    def __init__(self, settings: Settings):
        self.settings = settings
        self.paths = Paths(settings)
        self.host, self.port = settings.neo4j_host_port
        self.project = build_dir()
        self.home = self.paths.root / "neo4j"
        self.address = f"bolt://{self.host}:{self.port}"

    def build(self) -> list[str]:
        """Resolve Neo4j from Maven Central (cached in ~/.m2) and compile the launcher; returns the classpath.

        Built from a copy of the shipped project in a cache folder named by the project's content (an
        installed package is read-only; every data folder and checkout with the same project shares it).
        """
        shipped = infra_dir() / "neo4j"
        for name in LAUNCHER_FILES:
            copy = self.project / name
            if not copy.exists() or copy.read_bytes() != (shipped / name).read_bytes():
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(shipped / name, copy)  # a fresh mtime: the steps below redo their work
        target = self.project / "target"
        classpath_file = target / "classpath.txt"
        pom = self.project / "pom.xml"
        if not classpath_file.exists() or classpath_file.stat().st_mtime < pom.stat().st_mtime:
            result = subprocess.run(
                ["mvn", "-q", "-B", "dependency:build-classpath", f"-Dmdep.outputFile={classpath_file}"],
                cwd=self.project,
                capture_output=True,
                text=True,
                timeout=900,
            )
            if result.returncode != 0:
                raise ServiceError(f"Maven could not resolve Neo4j:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
        classes = target / "classes"
        source = self.project / "src/main/java/docflow/Neo4jLauncher.java"
        compiled = classes / "docflow/Neo4jLauncher.class"
        if not compiled.exists() or compiled.stat().st_mtime < source.stat().st_mtime:
            classes.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                ["javac", "-d", str(classes), "-cp", classpath_file.read_text().strip(), str(source)],
                check=True,
                capture_output=True,
                timeout=300,
            )
        return [str(classes), classpath_file.read_text().strip()]

    def running(self) -> bool:
        if not port_open(self.host, self.port):
            return False
        with GraphStore(self.settings) as graph:
            graph.ping()
        return True

    def start(self) -> ServiceReport:
        listen = secure_listen_host(self.settings, self.host, "Neo4j")
        if port_open(self.host, self.port):
            wait_until(self.running, timeout=60, what="Neo4j")
            return ServiceReport(self.name, self.address, "already running")
        began = time.monotonic()
        classpath = os.pathsep.join(self.build())
        self.home.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,  # the JVM needs PATH/JAVA_HOME; docflow's own config is passed below
            "NEO4J_HOME": str(self.home),
            "NEO4J_BOLT_HOST": listen,
            "NEO4J_BOLT_PORT": str(self.port),
            "NEO4J_PASSWORD": self.settings.neo4j_password.get_secret_value(),
            "NEO4J_PAGECACHE_MB": str(self.settings.neo4j_pagecache_mb),
            "NEO4J_BOLT_KEEP_ALIVE_S": str(self.settings.neo4j_keep_alive_s),
        }
        heap = self.settings.neo4j_heap
        # A fixed heap, as Neo4j's own neo4j.conf recommends: no resizing pauses under write load.
        cmd = [
            "java",
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-XX:+DisableExplicitGC",
            "-XX:+ExitOnOutOfMemoryError",
            "-cp",
            classpath,
            self.marker,
        ]
        pid = spawn(
            cmd, pidfile=self.paths.pidfile(self.name), logfile=self.paths.logfile(self.name), env=env, cwd=self.home
        )
        wait_until(self.running, timeout=180, what="Neo4j", log=self.paths.logfile(self.name))
        with GraphStore(self.settings) as graph:
            graph.ensure_constraints()
        return ServiceReport(self.name, self.address, "started", pid, time.monotonic() - began)
