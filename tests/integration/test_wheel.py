"""An installed wheel works without the checkout: ``docflow up``, ``migrate`` and ``demo`` from anywhere.

The wheel is built from the repository (``pip wheel``) and installed with ``pip install --no-deps``
into a fresh virtual environment in a temporary folder, and every command runs from another
temporary folder, so nothing can come from the checkout. The dependencies are the project
venv's own (a ``.pth`` line in the new venv), which keeps the test to seconds instead of a
download of the whole dependency tree; the ``docflow`` package itself is only the wheel's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import uuid
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.stack import PORT_BASE

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
# A Redis of the wheel's own, started from the wheel's infra/redis.conf (beside the test stack's).
WHEEL_REDIS_PORT = 6391 + PORT_BASE


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory) -> Path:
    """A fresh venv holding only the wheel of docflow (its dependencies come from the project venv)."""
    build = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(build), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = build.glob("docflow-*.whl")
    venv = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    site = Path(
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # Appended after the venv's own site-packages: the wheel's docflow wins over the checkout's.
    (site / "zz_project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return venv


def _env(stack, data_dir: Path, project: str) -> dict[str, str]:
    """The suite's services (their ports are in the environment), with a data folder, database,
    Redis and API of the installed wheel's own."""
    return {
        **os.environ,
        "DOCFLOW_DATA_DIR": str(data_dir),
        "DOCFLOW_DB_NAME": "docflow_wheel_test",
        "DOCFLOW_REDIS_URL": f"redis://127.0.0.1:{WHEEL_REDIS_PORT}/0",
        "DOCFLOW_RESULT_BACKEND_URL": f"redis://127.0.0.1:{WHEEL_REDIS_PORT}/1",
        "DOCFLOW_S3_BUCKET": stack.s3_bucket,
        # The suite's PostgreSQL, S3 and Neo4j were given generated credentials under the suite's
        # data folder; a host sharing them is given those credentials, as a worker machine would be.
        "DOCFLOW_DB_PASSWORD": stack.db_password.get_secret_value(),
        "DOCFLOW_S3_ACCESS_KEY": stack.s3_access_key,
        "DOCFLOW_S3_SECRET_KEY": stack.s3_secret_key.get_secret_value(),
        "DOCFLOW_NEO4J_PASSWORD": stack.neo4j_password.get_secret_value(),
        "DOCFLOW_PROJECT_ID": project,
        "DOCFLOW_START_PREFECT_SERVER": "false",
        "DOCFLOW_API_PORT": str(free_port()),
    }


def test_the_installed_wheel_runs_up_migrate_and_demo_from_any_folder(stack, wheel_venv, tmp_path):
    from docflow import services

    # GIVEN the wheel installed in a fresh venv, a working folder outside the checkout, and a database
    # of its own on the running PostgreSQL
    services.Postgres(stack).ensure_database("docflow_wheel_test")
    work = tmp_path / "elsewhere"
    work.mkdir()
    project = f"wheel-{uuid.uuid4().hex[:8]}"
    env = _env(stack, tmp_path / "var", project)
    docflow = str(wheel_venv / "bin" / "docflow")
    python = str(wheel_venv / "bin" / "python")

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([docflow, *args], cwd=work, env=env, capture_output=True, text=True, timeout=timeout)

    # THEN the package and its bundled files come from the venv, not from the checkout
    where = subprocess.run(
        [
            python,
            "-c",
            "import docflow, tasks; from docflow.core import resources; "
            "print(docflow.__file__); print(tasks.__file__); print(resources.bundle_root())",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(str(wheel_venv) in line and str(ROOT) not in line for line in where), where
    assert Path(where[2], "infra", "neo4j", "pom.xml").is_file() and Path(where[2], "alembic.ini").is_file()
    try:
        # WHEN `docflow up` starts a service from the wheel's infra files (its own Redis) and reuses the rest
        up = run("up")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "redis      started" in up.stdout and "api        started" in up.stdout
        assert "schema      at head" in up.stdout
        # AND `docflow migrate` finds the wheel's migrations
        migrate = run("migrate")
        assert migrate.returncode == 0 and "schema at head" in migrate.stdout, migrate.stdout + migrate.stderr
        # AND `docflow demo` processes the bundled samples with workers running the wheel's code
        demo = run("demo", timeout=600)
        assert demo.returncode == 0, demo.stdout[-4000:] + demo.stderr[-4000:]
        assert "total" in demo.stdout and demo.stdout.count("graph_complete") >= 6
    finally:
        run("workers", "stop", "--timeout", "20")
        run("down", "redis", "api")
