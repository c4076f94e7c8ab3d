"""The HTTP API over real HTTP: a uvicorn process of its own in front of the real stack and workers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from docflow.core.settings import get_settings
from docflow.ops.audit import events
from docflow.ops.progress import wait_for_documents
from tests.support.servers import api_server

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

TOKEN = "test-" + uuid.uuid4().hex  # a token of this run only
LIMIT = 5 * 1024 * 1024
TIMEOUT_S = 240


@dataclass
class Api:
    url: str
    log: Path
    project: str

    def client(self, token: str | None = TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def api(workers, tmp_path_factory) -> Iterator[Api]:
    env = {"DOCFLOW_API_TOKEN": TOKEN, "DOCFLOW_API_MAX_UPLOAD_BYTES": str(LIMIT)}
    with api_server(log=tmp_path_factory.mktemp("api") / "api.log", env=env) as server:
        yield Api(server.url, server.log, f"api-{uuid.uuid4().hex[:10]}")


def test_every_route_but_health_needs_the_token(api):
    anonymous, wrong = api.client(token=None), api.client(token="wrong-" + TOKEN)
    assert anonymous.get("/health").json() == {"status": "ok"}
    for method, path in [
        ("GET", "/documents/1"),
        ("GET", "/search?q=x"),
        ("GET", "/entities?name=x"),
        ("DELETE", "/documents/1"),
        ("POST", "/documents?filename=a.txt"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/documents/1/export"),
        ("GET", "/documents/1/relationships"),
        ("GET", "/entities/1/relationships"),
    ]:
        for client in (anonymous, wrong):
            response = client.request(method, path)
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
    assert api.client().get("/openapi.json").json()["info"]["title"] == "docflow"
    assert api.client().get("/docs").status_code == 200


def test_upload_follow_search_export_reprocess_and_delete_a_document(api, sample_files):
    good, _bad = sample_files
    client = api.client()
    body = good["field_notes.txt"].read_bytes()
    # WHEN a document is uploaded as the request body
    created = client.post(
        "/documents",
        params={"filename": "notes <1>.txt", "project_id": api.project},
        content=body,
        headers={"Content-Type": "text/plain"},
    )
    # THEN it is registered and submitted (201), and the same bytes again are a duplicate (200)
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["created"] and document["submitted"] and document["status"] == "ocr_queued"
    again = client.post(
        "/documents",
        params={"filename": "copy.txt", "project_id": api.project},
        content=body,
        headers={"Content-Type": "text/plain"},
    )
    assert again.status_code == 200 and again.json()["document_id"] == document["document_id"]
    # AND it can be followed to the end, with its stage history
    document_id = document["document_id"]
    assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}
    detail = client.get(f"/documents/{document['document_uuid']}").json()
    assert detail["status"] == "graph_complete" and detail["name"] == "notes <1>.txt"
    assert [run["stage"] for run in detail["history"] if run["outcome"] == "succeeded"] == [
        "ocr",
        "text",
        "entity",
        "graph",
    ]
    # AND found by search and by entity, and exported
    hits = client.get("/search", params={"q": "cold storage", "project_id": api.project}).json()["hits"]
    assert hits[0]["document_id"] == document_id and "«cold»" in hits[0]["snippet"]
    entity = client.get("/entities", params={"name": "Kenji Tanaka", "project_id": api.project}).json()
    assert entity["entity"]["name"] == "Kenji Tanaka" and entity["documents"][0]["name"] == "notes <1>.txt"
    export = client.get(f"/documents/{document_id}/export").json()
    assert export["document"]["uuid"] == document["document_uuid"] and export["chunks"]
    # WHEN it is reprocessed from the text stage THEN it is accepted and completes again
    accepted = client.post(f"/documents/{document_id}/reprocess", json={"from_stage": "text", "reason": "api test"})
    assert accepted.status_code == 202, accepted.text
    assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}
    # WHEN it is deleted THEN it is gone, and a second delete is a 404
    deleted = client.delete(f"/documents/{document_id}", params={"reason": "api test"})
    assert deleted.status_code == 200 and deleted.json()["removed"]["original_removed"] is True
    assert client.get(f"/documents/{document_id}").status_code == 404
    assert client.delete(f"/documents/{document_id}").status_code == 404
    # AND the token never reached the server's log
    assert TOKEN not in api.log.read_text()


def _a_document(api: Api) -> int:
    """A document that exists, for a request whose other values are wrong: the document's guard
    answers first (404 for one that does not exist), then the values' checks."""
    created = api.client().post(
        "/documents",
        params={"filename": "held.txt", "project_id": f"{api.project}-held"},
        content=f"A note held for a bad request {uuid.uuid4().hex}.".encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert created.status_code == 201, created.text
    return int(created.json()["document_id"])


def test_bad_requests_get_a_status_and_a_reason(api, sample_files):
    good, bad = sample_files
    client = api.client()
    params = {"filename": "x.pdf", "project_id": api.project}
    # A declared type docflow does not read
    wrong_type = client.post("/documents", params=params, content=b"%PDF-1.7", headers={"Content-Type": "video/mp4"})
    assert wrong_type.status_code == 415 and "unsupported media type" in wrong_type.json()["detail"]
    # Bytes that are not what docflow reads, whatever the declared type
    exe = client.post(
        "/documents",
        params=params,
        content=bad["not_a_pdf.pdf"].read_bytes(),
        headers={"Content-Type": "application/pdf"},
    )
    assert exe.status_code == 415 and "Windows executable" in exe.json()["detail"]
    # Over the size limit: refused from the declared length, and while streaming without one
    big = b"%PDF-1.7\n" + b"0" * (LIMIT + 1)
    assert (
        client.post("/documents", params=params, content=big, headers={"Content-Type": "application/pdf"}).status_code
        == 413
    )
    streamed = client.post(
        "/documents",
        params=params,
        content=iter([big[:LIMIT], big[LIMIT:]]),
        headers={"Content-Type": "application/pdf"},
    )
    assert streamed.status_code == 413 and "too large" in streamed.json()["detail"]
    # Empty, unknown, malformed
    assert (
        client.post("/documents", params=params, content=b"", headers={"Content-Type": "application/pdf"}).status_code
        == 400
    )
    assert client.get("/documents/999999999").status_code == 404
    assert client.get("/documents/not-an-id").status_code == 400
    assert client.get("/search", params={"q": "  "}).status_code == 400
    assert client.get("/entities", params={"name": "zzqqxx"}).status_code == 404
    assert client.post("/documents/999999999/reprocess", json={"from_stage": "ocr"}).status_code == 404
    held = _a_document(api)
    assert client.post(f"/documents/{held}/reprocess", json={"from_stage": "nowhere"}).status_code == 422
    # Nothing was registered by any of these
    assert client.get("/search", params={"q": "x", "project_id": api.project}).json()["hits"] == []


def test_malformed_values_get_a_4xx_with_the_reason_never_a_500(api):
    client = api.client()
    held = _a_document(api)
    # GIVEN the values a new user tried, which each ended in a 500 before
    tried = [
        ("GET", "/documents/99999999999999999999", {}),
        ("GET", "/ui/documents/99999999999999999999", {}),
        ("GET", "/entities", {"name": "\x00"}),
        ("GET", "/search", {"q": "a\x00b"}),
        ("GET", "/ui/search", {"q": "a\x00b"}),
        ("GET", "/search", {"q": "a", "project_id": "\x00"}),
        ("GET", "/search", {"q": "a", "offset": str(10**30)}),
        ("GET", "/ui/search", {"q": "a", "page_number": "99999999999999999999"}),
        ("GET", "/ui/entities/99999999999999999999", {}),
        ("GET", "/documents/\u00b2", {}),  # a digit to str.isdigit(), not to int()
        ("DELETE", f"/documents/{held}", {"reason": "\x00"}),
    ]
    for method, path, params in tried:
        # WHEN each is sent THEN the answer is a 4xx that says what is wrong
        response = client.request(method, path, params=params)
        assert 400 <= response.status_code < 500, (path, params, response.status_code, response.text[:200])
        assert "control characters" in response.text or "id" in response.text or "less than" in response.text, (
            path,
            response.text[:300],
        )
    # AND a reason with a NUL in a reprocess request is refused the same way
    refused = client.post(f"/documents/{held}/reprocess", json={"from_stage": "ocr", "reason": "a\x00b"})
    assert refused.status_code == 422 and "control characters" in refused.text
    # AND a page says it in a page, not in JSON
    page = client.get("/ui/search", params={"q": "a\x00b"})
    assert page.headers["content-type"].startswith("text/html") and "control characters" in page.text


def test_an_uploaded_file_keeps_only_its_file_name_and_is_typed_by_it(api):
    client = api.client()
    # WHEN comma-separated text is uploaded under a path-like name ending in .csv
    created = client.post(
        "/documents",
        params={"filename": "../../reports/people.csv", "project_id": api.project},
        content=b"city,person\nLyon,Anne Martin\nOslo,Ola Nordmann\n",
        headers={"Content-Type": "text/plain"},
    )
    # THEN the document is named by its file name alone, and registered as the CSV its name says
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "people.csv"
    detail = client.get(f"/documents/{created.json()['document_id']}").json()
    assert (detail["name"], detail["file_type"]) == ("people.csv", "csv")


def test_a_document_in_flight_is_not_reprocessed_without_force(api, sample_files):
    good, _bad = sample_files
    client = api.client()
    created = client.post(
        "/documents",
        params={"filename": "letter.pdf", "project_id": api.project},
        content=good["scanned_letter.pdf"].read_bytes(),
        headers={"Content-Type": "application/pdf"},
    )
    document_id = created.json()["document_id"]
    refused = client.post(f"/documents/{document_id}/reprocess", json={"from_stage": "ocr"})
    if refused.status_code == 409:  # still in flight (OCR of a scan takes seconds)
        assert "in flight" in refused.json()["detail"]
    # A forced reprocess is decided on the row under its lock: it never loses a race with a stage.
    forced = client.post(f"/documents/{document_id}/reprocess", json={"from_stage": "ocr", "force": True})
    assert forced.status_code == 202, forced.text
    assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}


def test_possible_duplicates_are_merged_and_split_over_http(api, tmp_path):
    client = api.client()
    project = f"{api.project}-merge"
    # GIVEN two documents naming one person with two spellings
    ids = []
    for name, text in (
        ("lease.txt", "Maria Gonzalez signed the lease with Harbour Freight Ltd. in Rotterdam on Monday."),
        ("invoice.txt", "Maria Gonzales approved the invoice from Harbour Freight Ltd. for the storage in Rotterdam."),
    ):
        created = client.post(
            "/documents",
            params={"filename": name, "project_id": project},
            content=text.encode(),
            headers={"Content-Type": "text/plain"},
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["document_id"])
    assert set(wait_for_documents(ids, timeout_s=TIMEOUT_S).values()) == {"graph_complete"}
    # WHEN the project's possible duplicates are asked for THEN the two spellings are a pair
    pairs = client.get("/entities/duplicates", params={"project_id": project}).json()
    pair = next(p for p in pairs if {p["first"]["name"], p["second"]["name"]} == {"Maria Gonzalez", "Maria Gonzales"})
    # WHEN the second is merged into the first THEN the merge is recorded and the documents re-read
    merged = client.post(
        "/entities/merges",
        json={
            "project_id": project,
            "source": f"#{pair['second']['id']}",
            "target": f"#{pair['first']['id']}",
            "reason": "one person",
        },
    )
    assert merged.status_code == 201, merged.text
    admin = "user:" + get_settings().admin_user  # the installation's token is the first admin's
    assert merged.json()["merge"]["merged_by"] == admin and merged.json()["merge"]["reason"] == "one person"
    assert set(wait_for_documents(ids, timeout_s=TIMEOUT_S).values()) == {"graph_complete"}
    assert [m["from_name"] for m in client.get("/entities/merges", params={"project_id": project}).json()] == [
        pair["second"]["name"]
    ]
    # AND the same merge again changes nothing; a merge the other way round is refused with the reason
    assert client.post(
        "/entities/merges",
        json={"project_id": project, "source": f"#{pair['second']['id']}", "target": f"#{pair['first']['id']}"},
    ).status_code in (200, 201)
    backwards = client.post(
        "/entities/merges",
        json={"project_id": project, "source": f"#{pair['first']['id']}", "target": f"#{pair['second']['id']}"},
    )
    assert backwards.status_code in (400, 409) and backwards.json()["detail"], backwards.text
    # WHEN it is split again THEN it is its own entity, and the history keeps the merge
    split = client.post("/entities/merges/split", json={"project_id": project, "source": pair["second"]["name"]})
    assert split.status_code == 200, split.text
    assert client.get("/entities/merges", params={"project_id": project}).json() == []
    history = client.get("/entities/merges", params={"project_id": project, "include_split": True}).json()
    assert history[0]["split_by"] == admin
    # AND an unknown entity is a 404 with the reason
    unknown = client.post("/entities/merges", json={"project_id": project, "source": "Nobody", "target": "#1"})
    assert unknown.status_code == 404 and "no entity" in unknown.json()["detail"]
    # AND the audit log says who merged and split what, from where, refusals too — by ids, no names
    logged = [e for e in events(project_id=project, limit=50) if e.action in ("merge", "split")]
    assert [(e.action, e.outcome) for e in reversed(logged)] == [
        ("merge", "ok"),
        ("merge", "ok"),
        ("merge", "refused"),
        ("split", "ok"),
        ("merge", "refused"),
    ]
    assert {e.actor for e in logged} == {admin} and all(e.address for e in logged)
    assert not [e for e in logged if "Gonzal" in f"{e.target} {e.detail}"]


def test_a_role_is_served_with_the_sentence_that_states_it(api):
    client = api.client()
    # GIVEN a document that names a person's role at a company
    text = "Quarterly update.\n\nJane Doe, chief financial officer of Acme Corp, presented the results to the board.\n"
    created = client.post(
        "/documents",
        params={"filename": "update.txt", "project_id": f"{api.project}-rel"},
        content=text.encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert created.status_code == 201, created.text
    document = created.json()
    document_id = document["document_id"]
    assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}
    # WHEN the document's relationships are asked for (by id and by uuid)
    found = client.get(f"/documents/{document_id}/relationships")
    assert found.status_code == 200, found.text
    assert client.get(f"/documents/{document['document_uuid']}/relationships").json() == found.json()
    # THEN a ROLE_AT edge joins Jane Doe to Acme Corp, with its role and the sentence stating it:
    # its page, chunk, character span in the document text, producer and confidence
    edge = next(e for e in found.json()["edges"] if e["kind"] == "ROLE_AT")
    assert (edge["source"]["name"], edge["target"]["name"]) == ("Jane Doe", "Acme Corp")
    assert edge["role"] == "chief financial officer" and edge["former"] is False and edge["directed"] is True
    place = edge["evidence"][0]
    assert "Jane Doe, chief financial officer of Acme Corp" in place["sentence"] and place["page"] == 1
    assert place["producer"] and 0 < place["confidence"] <= 1
    assert abs(edge["confidence"] - place["confidence"]) < 0.001
    export = client.get(f"/documents/{document_id}/export").json()
    assert export["text"][place["char_start"] : place["char_end"]] == place["sentence"]
    # AND the document's page lists it too: the statement, its sentence, and a link to its page
    page = client.get(f"/ui/documents/{document_id}")
    assert page.status_code == 200, page.text[:300]
    listed = page.text.split('id="relationship-list"', 1)[1].split("</ol>", 1)[0]
    assert 'data-kind="ROLE_AT"' in listed and "chief financial officer" in listed
    assert f'href="/ui/entities/{edge["source"]["entity_id"]}"' in listed
    assert f'href="/ui/documents/{document_id}?page_number=1"' in listed
    # WHEN the person's relationships are asked for THEN the same edge is there, seen from her
    person = edge["source"]["entity_id"]
    mine = client.get(f"/entities/{person}/relationships").json()
    assert mine["entity"]["name"] == "Jane Doe" and mine["counts"]["ROLE_AT"] >= 1
    role = next(e for e in mine["edges"] if e["relationship_id"] == edge["relationship_id"])
    assert role["direction"] == "out" and role["other"]["name"] == "Acme Corp" and role["evidence"] == edge["evidence"]
    # AND narrowed to a kind it is not, nothing; an unknown kind or entity is refused with the reason
    located = client.get(f"/entities/{person}/relationships", params={"kind": "LOCATED_IN"}).json()
    assert located["edges"] == []
    assert client.get(f"/entities/{person}/relationships", params={"kind": "LIKES"}).status_code == 422
    assert client.get("/entities/2147483647/relationships").status_code == 404
    assert client.get("/documents/2147483647/relationships").status_code == 404


def test_a_program_lists_documents_page_by_page_and_reads_their_text_chunks_entities_and_pages(api, sample_files):
    good, _bad = sample_files
    client = api.client()
    project = f"{api.project}-reads"
    # GIVEN three documents of a project of their own: two notes and a PDF
    notes = [
        f"Note {n}: Maria Gonzalez of Acme Logistics Inc. met Daniel Okafor in Rotterdam about order {n}.\n"
        for n in range(2)
    ]
    uploads = [(f"note-{n}.txt", text.encode(), "text/plain") for n, text in enumerate(notes)]
    uploads.append(("paper.pdf", good["born_digital.pdf"].read_bytes(), "application/pdf"))
    ids = []
    for name, body, kind in uploads:
        created = client.post(
            "/documents", params={"filename": name, "project_id": project}, content=body, headers={"Content-Type": kind}
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["document_id"])
    assert set(wait_for_documents(ids, timeout_s=TIMEOUT_S).values()) == {"graph_complete"}

    # WHEN they are listed two at a time THEN the cursor leads through all three, in order, once each
    first = client.get("/documents", params={"project_id": project, "limit": 2})
    assert first.status_code == 200, first.text
    assert [d["id"] for d in first.json()["documents"]] == ids[:2] and first.json()["next_cursor"]
    second = client.get(
        "/documents", params={"project_id": project, "limit": 2, "cursor": first.json()["next_cursor"]}
    ).json()
    assert [d["id"] for d in second["documents"]] == ids[2:] and second["next_cursor"] is None
    assert second["documents"][0]["name"] == "paper.pdf" and second["documents"][0]["file_type"] == "pdf"
    # AND filters narrow the list: by status, by type, by registration time
    by_status = client.get("/documents", params={"project_id": project, "status": "graph_complete"}).json()
    assert [d["id"] for d in by_status["documents"]] == ids
    queued = client.get("/documents", params={"project_id": project, "status": "ocr_queued"}).json()
    assert queued == {"documents": [], "next_cursor": None}
    texts = client.get("/documents", params={"project_id": project, "file_type": "txt"}).json()
    assert [d["id"] for d in texts["documents"]] == ids[:2]
    later = client.get("/documents", params={"project_id": project, "created_after": "2999-01-01T00:00:00Z"}).json()
    assert later["documents"] == []
    # AND a cursor or a status docflow never gave out is a 400 with the reason
    bad_cursor = client.get("/documents", params={"cursor": "not-a-cursor"})
    assert bad_cursor.status_code == 400 and "cursor" in bad_cursor.json()["detail"]
    bad_status = client.get("/documents", params={"status": "finished"})
    assert bad_status.status_code == 400 and "graph_complete" in bad_status.json()["detail"]

    # WHEN a note is read THEN its text, its chunks with page spans and its entities come back
    note_id = ids[0]
    text = client.get(f"/documents/{note_id}/text").json()
    assert text["pages"][0]["page"] == 1 and "order 0" in text["pages"][0]["text"]
    chunks = client.get(f"/documents/{note_id}/chunks").json()["chunks"]
    assert chunks[0]["index"] == 0 and chunks[0]["page_start"] == 1 and "Maria Gonzalez" in chunks[0]["text"]
    names = {e["name"]: e["label"] for e in client.get(f"/documents/{note_id}/entities").json()["entities"]}
    assert names.get("Maria Gonzalez") == "PERSON", names
    # AND the PDF's first page is a PNG, a page it does not have is a 404, a note has no picture
    picture = client.get(f"/documents/{ids[2]}/pages/1.png")
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
    assert client.get(f"/documents/{ids[2]}/pages/999.png").status_code == 404
    assert client.get(f"/documents/{note_id}/pages/1.png").status_code == 404
    # AND a document that does not exist is a 404 on every read
    for read in ("text", "chunks", "entities", "pages/1.png"):
        assert client.get(f"/documents/2147483000/{read}").status_code == 404, read
