"""The operator's stack, as the suite must leave it: what an operator processed with `docflow up` /
the README's main job on the same machine (documents, graph, stored originals, queued messages,
deployments, the running services themselves), and a fingerprint of it to compare before and after
a test session.

When no operator stack is running (a CI machine), the harness makes one the way a user would: the
main job (`docflow demo`) on the usual ports with its data in a temporary folder, left running, as
the README leaves it. Read-only otherwise: nothing here writes to an operator's stack.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def operator_env(original: dict[str, str], *, data_dir: Path | None = None) -> dict[str, str]:
    """The environment an operator's commands run with: the session's as it was before the suite's
    own settings were applied (so an operator's DOCFLOW_* configuration holds)."""
    env = dict(original)
    if data_dir is not None:
        env = {key: value for key, value in env.items() if not key.startswith("DOCFLOW_")}
        env["DOCFLOW_DATA_DIR"] = str(data_dir)
        env["DOCFLOW_INTAKE_DIR"] = str(data_dir / "intake")
    env.update({"OMP_THREAD_LIMIT": "1", "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1"})
    return env


def operator_settings(env: dict[str, str]):
    """docflow's settings as the operator's commands read them (their environment, ``.env``, data
    folder and generated secrets), read in the checkout as the README's commands are."""
    from docflow.core.settings import Settings

    saved = dict(os.environ)
    before = Path.cwd()
    try:
        os.environ.clear()
        os.environ.update(env)
        os.chdir(REPO)
        settings = Settings()
        return settings.model_copy(update={"data_dir": settings.data_dir.resolve()})
    finally:
        os.chdir(before)
        os.environ.clear()
        os.environ.update(saved)


def is_running(settings) -> bool:
    from docflow.services.process import port_open

    host, port = settings.sqlalchemy_url.host or "127.0.0.1", settings.sqlalchemy_url.port or 5432
    return port_open(host, port)


def run_main_job(env: dict[str, str], samples: Path) -> str:
    """The README's main job against the operator's settings; returns what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "docflow.cli", "demo", "--directory", str(samples), "--timeout", "600"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"the operator's main job failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


def stop_everything(env: dict[str, str]) -> None:
    """Stop what a scratch operator stack started (workers, deployment server, API, services)."""
    for command in (["workers", "stop", "--timeout", "20"], ["down"]):
        subprocess.run(
            [sys.executable, "-m", "docflow.cli", *command], env=env, cwd=REPO, capture_output=True, timeout=300
        )


# -- the fingerprint -----------------------------------------------------------------------------


def _digest(rows: list[Any]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def _postgres(settings) -> dict[str, Any]:
    """Every table of the operator's database: row count and a digest of every row's bytes."""
    import psycopg

    url = settings.sqlalchemy_url
    found = {}
    with psycopg.connect(
        host=url.host, port=url.port, dbname=url.database, user=url.username, password=url.password, connect_timeout=10
    ) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                "AND table_type = 'BASE TABLE' ORDER BY 1"
            )
        ]
        for table in tables:
            count, digest = connection.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text), '')) FROM \"{table}\" t"  # names from the catalogue
            ).fetchone()
            found[table] = [count, digest]
    return found


def _neo4j(settings) -> dict[str, Any]:
    """Every node (labels, properties) and relationship (type, ends, properties) of the operator's graph."""
    from neo4j import GraphDatabase

    auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
    with GraphDatabase.driver(settings.neo4j_uri, auth=auth, connection_timeout=10) as driver:
        nodes = driver.execute_query(
            "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props", database_="neo4j"
        ).records
        edges = driver.execute_query(
            "MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(a) AS a, properties(b) AS b, properties(r) AS props",
            database_="neo4j",
        ).records
    node_rows = sorted(json.dumps([sorted(r["labels"]), r["props"]], sort_keys=True, default=str) for r in nodes)
    edge_rows = sorted(json.dumps([r["type"], r["a"], r["b"], r["props"]], sort_keys=True, default=str) for r in edges)
    return {"nodes": [len(node_rows), _digest(node_rows)], "relationships": [len(edge_rows), _digest(edge_rows)]}


def _s3(settings) -> dict[str, Any]:
    from docflow.core.storage import ObjectStorage

    storage = ObjectStorage(settings)
    objects = sorted(
        (o.object_name, o.etag, o.size) for o in storage.client.list_objects(settings.s3_bucket, recursive=True)
    )
    return {"objects": [len(objects), _digest(objects)]}


def _redis(settings) -> dict[str, Any]:
    """Every key of the operator's broker database, with its type and length (queued messages)."""
    from docflow.core.broker import redis_client

    client = redis_client(settings)
    keys = {}
    for key in client.scan_iter(count=1000):
        name = key.decode(errors="replace")
        if name.startswith(("_kombu.binding", "unacked_mutex")):
            continue  # bindings are re-declared, the mutex is a lock held for milliseconds by live workers
        kind = client.type(key).decode()
        size = {"list": client.llen, "zset": client.zcard, "hash": client.hlen, "set": client.scard}.get(kind)
        keys[name] = [kind, size(key) if size else None]
    return {"keys": keys}


def _deployments(settings) -> dict[str, Any]:
    """What each deployment would run: entrypoint, source path, parameters, schedules, pool, pull steps."""
    import base64
    import urllib.request

    from docflow.core.secrets import prefect_auth_string

    auth = prefect_auth_string(settings, create=False)
    headers = {"Content-Type": "application/json"}
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.get_secret_value().encode()).decode()
    request = urllib.request.Request(
        f"{settings.prefect_api_url}/deployments/filter", data=b'{"limit": 200}', headers=headers
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        deployments = json.loads(response.read())
    kept = ("name", "flow_id", "entrypoint", "path", "parameters", "work_pool_name", "pull_steps", "tags")
    rows = []
    for deployment in deployments:
        row = {key: deployment.get(key) for key in kept}
        row["schedules"] = sorted(
            json.dumps(s.get("schedule"), sort_keys=True) for s in deployment.get("schedules", [])
        )
        rows.append(row)
    return {"deployments": sorted(rows, key=lambda row: (row["name"], row["flow_id"]))}


def _service_pids(settings) -> dict[str, Any]:
    """The pid of each operator service: the same pids after the session mean none was restarted."""
    from docflow.services import Paths

    pids = {}
    for pidfile in sorted(Paths(settings).run.glob("*.pid")):
        try:
            pids[pidfile.stem] = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return pids


def fingerprint(settings) -> dict[str, Any]:
    """The operator's stack, part by part (a part that cannot be read says why instead)."""
    parts = {
        "postgres": _postgres,
        "neo4j": _neo4j,
        "s3": _s3,
        "redis": _redis,
        "prefect": _deployments,
        "service pids": _service_pids,
    }
    found: dict[str, Any] = {}
    for name, read in parts.items():
        try:
            found[name] = read(settings)
        except Exception as failed:  # a part left unreadable is a finding too
            found[name] = f"unreadable: {type(failed).__name__}: {failed}"
    return found


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Plain-words list of what changed, part by part and key by key."""
    changed = []
    for part in before:
        a, b = before[part], after.get(part)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                if a.get(key) != b.get(key):
                    changed.append(f"{part} / {key}: {a.get(key)!r} -> {b.get(key)!r}")
        else:
            changed.append(f"{part}: {a!r} -> {b!r}")
    return changed
