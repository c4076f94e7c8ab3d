"""Operations on many documents over HTTP, with the CLI's rules: reprocess and delete a selection
(delete looks first), and sweep the configured intake folder."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from docflow.ops.progress import wait_for_documents
from tests.support.servers import api_server

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

TOKEN = "test-" + uuid.uuid4().hex
TIMEOUT_S = 240


@dataclass
class Api:
    client: httpx.Client
    intake: Path


@pytest.fixture(scope="module")
def api(workers, tmp_path_factory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("intake")
    env = {"DOCFLOW_API_TOKEN": TOKEN, "DOCFLOW_INTAKE_DIR": str(folder), "DOCFLOW_WEBHOOK_POLL_S": "0"}
    log = tmp_path_factory.mktemp("operations") / "api.log"
    with api_server(log=log, env=env) as server, httpx.Client(base_url=server.url, timeout=120) as client:
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        yield Api(client, folder)


def _upload_notes(client: httpx.Client, project: str, count: int) -> list[int]:
    ids = []
    for n in range(count):
        created = client.post(
            "/documents",
            params={"filename": f"note-{n}.txt", "project_id": project},
            content=f"Note {n}: Maria Gonzalez met Daniel Okafor of Acme Logistics in Rotterdam.\n".encode(),
            headers={"Content-Type": "text/plain"},
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["document_id"])
    assert set(wait_for_documents(ids, timeout_s=TIMEOUT_S).values()) == {"graph_complete"}
    return ids


def test_a_projects_documents_are_reprocessed_by_selection(api):
    client = api.client
    project = f"ops-{uuid.uuid4().hex[:8]}"
    ids = _upload_notes(client, project, 3)
    # WHEN a dry run is asked for THEN it says what would be queued and queues nothing
    dry = client.post("/documents/reprocess", json={"select": {"project_id": project}, "dry_run": True})
    assert dry.status_code == 200, dry.text
    assert dry.json()["counts"] == {"would queue": 3}
    assert {d["document_id"] for d in dry.json()["documents"]} == set(ids)
    # WHEN the project's documents and one id that does not exist are reprocessed from the text stage
    body = {"select": {"project_id": project}, "from_stage": "text", "reason": "api batch test"}
    done = client.post("/documents/reprocess", json=body)
    assert done.status_code == 200, done.text
    # THEN each is queued, and completes again
    assert done.json()["counts"] == {"queued": 3} and done.json()["publish_error"] is None
    assert set(wait_for_documents(ids, timeout_s=TIMEOUT_S).values()) == {"graph_complete"}
    missing = client.post("/documents/reprocess", json={"select": {"documents": ["2147483000"]}})
    assert missing.json()["counts"] == {"missing": 1}
    # AND a selection of nothing, or of a status docflow does not have, is a 400 with the reason
    empty = client.post("/documents/reprocess", json={"select": {}})
    assert empty.status_code == 400 and "select documents" in empty.json()["detail"]
    unknown = client.post("/documents/reprocess", json={"select": {"statuses": ["finished"]}})
    assert unknown.status_code == 400 and "unknown status" in unknown.json()["detail"]


def test_deleting_a_selection_looks_first_and_a_whole_project_needs_confirming(api):
    client = api.client
    project = f"ops-{uuid.uuid4().hex[:8]}"
    ids = _upload_notes(client, project, 2)
    # WHEN a delete is sent without saying otherwise THEN it is a dry run: nothing goes
    look = client.post("/documents/delete", json={"select": {"project_id": project}})
    assert look.status_code == 200, look.text
    assert look.json()["dry_run"] is True and look.json()["counts"] == {"would delete": 2}
    assert all(client.get(f"/documents/{i}").status_code == 200 for i in ids)
    # WHEN a whole project is deleted without confirming THEN it is refused with what to send
    refused = client.post("/documents/delete", json={"select": {"project_id": project}, "dry_run": False})
    assert refused.status_code == 409 and f"confirm={project!r}" in refused.json()["detail"]
    # WHEN confirmed THEN every document goes, and is audited with the reason
    gone = client.post(
        "/documents/delete",
        json={"select": {"project_id": project}, "dry_run": False, "confirm": project, "reason": "api test"},
    )
    assert gone.status_code == 200 and gone.json()["counts"] == {"deleted": 2}, gone.text
    assert all(client.get(f"/documents/{i}").status_code == 404 for i in ids)


def test_the_configured_intake_folder_is_swept_on_request(api):
    client = api.client
    project = f"ops-{uuid.uuid4().hex[:8]}"
    # GIVEN two files in the configured intake folder
    for n in range(2):
        (api.intake / f"{project}-{n}.txt").write_text(f"Kenji Tanaka wrote note {n} to Globex Holdings Ltd.\n")
    # WHEN a dry run is asked for THEN both would be taken and nothing is registered
    dry = client.post("/intake/sweep", json={"project_id": project, "stable_seconds": 0, "dry_run": True})
    assert dry.status_code == 200, dry.text
    mine = [f for f in dry.json()["files"] if f["name"].startswith(project)]
    assert len(mine) == 2 and all(f["document_id"] is None for f in mine)
    assert client.get("/documents", params={"project_id": project}).json()["documents"] == []
    # WHEN swept for real THEN both are registered and complete; a second sweep takes nothing new
    swept = client.post("/intake/sweep", json={"project_id": project, "stable_seconds": 0}).json()
    new = [f["document_id"] for f in swept["files"] if f["name"].startswith(project) and f["outcome"] == "new"]
    assert len(new) == 2, swept
    assert set(wait_for_documents(new, timeout_s=TIMEOUT_S).values()) == {"graph_complete"}
    again = client.post("/intake/sweep", json={"project_id": project, "stable_seconds": 0}).json()
    assert not [f for f in again["files"] if f["name"].startswith(project) and f["outcome"] == "new"]
