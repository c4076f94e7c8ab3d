"""Webhooks against a local receiver: a project's terminal events arrive signed, once each, and a
receiver that fails is tried again until it answers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from docflow.core.webhooks import SIGNATURE_HEADER, signature
from docflow.ops.progress import wait_for_documents
from tests.support.receiver import Receiver
from tests.support.servers import api_server

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

TOKEN = "test-" + uuid.uuid4().hex
TIMEOUT_S = 240


@pytest.fixture(scope="module")
def api(workers, tmp_path_factory) -> Iterator[httpx.Client]:
    env = {
        "DOCFLOW_API_TOKEN": TOKEN,
        "DOCFLOW_WEBHOOK_POLL_S": "0.3",
        "DOCFLOW_WEBHOOK_SETTLE_S": "0.5",
        "DOCFLOW_WEBHOOK_BACKOFF_S": "0.5",
        "DOCFLOW_WEBHOOK_TIMEOUT_S": "5",
    }
    log = tmp_path_factory.mktemp("hooks") / "api.log"
    with api_server(log=log, env=env) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        yield client


def _upload(client: httpx.Client, project: str, name: str, body: bytes, kind: str = "text/plain") -> int:
    created = client.post(
        "/documents", params={"filename": name, "project_id": project}, content=body, headers={"Content-Type": kind}
    )
    assert created.status_code == 201, created.text
    return int(created.json()["document_id"])


def test_terminal_events_arrive_signed_once_each_with_no_content(api):
    project = f"hooks-{uuid.uuid4().hex[:8]}"
    with Receiver() as receiver:
        # GIVEN a project with a webhook pointing at a local receiver
        set_hook = api.put(f"/projects/{project}/webhook", json={"url": receiver.url})
        assert set_hook.status_code == 200, set_hook.text
        secret = set_hook.json()["secret"]
        assert "secret" not in api.get(f"/projects/{project}/webhook").json()
        # WHEN one document completes and one (a PDF cut off after its header) fails
        text = "Maria Gonzalez of Acme Logistics Inc. met Daniel Okafor in Rotterdam on a secret errand.\n"
        good = _upload(api, project, "good.txt", text.encode())
        bad = _upload(api, project, "cut.pdf", b"%PDF-1.7\n1 0 obj\n<<", "application/pdf")
        assert wait_for_documents([good, bad], timeout_s=TIMEOUT_S) == {good: "graph_complete", bad: "error_ocr"}
        received = receiver.wait_for(lambda got: len(got) >= 2)

        # THEN each event arrives once, signed with the project's secret, with ids, status and reason
        events = {}
        for headers, body, _answer in received:
            assert headers[SIGNATURE_HEADER] == signature(secret, body)
            payload = json.loads(body)
            events[payload["document_id"]] = payload
            assert headers["X-Docflow-Event"] == payload["event"]
            # AND no content of the document is in it
            assert b"Gonzalez" not in body and b"errand" not in body
        assert events[good]["event"] == "graph_complete" and events[good]["reason"] is None
        assert events[good]["project_id"] == project
        assert events[bad]["event"] == "error_ocr" and "PDF" in events[bad]["reason"]
        # AND the delivery log says both were delivered, and nothing more is sent
        log = api.get(f"/projects/{project}/webhook/deliveries").json()["deliveries"]
        assert sorted((d["document_id"], d["state"]) for d in log) == sorted([(good, "delivered"), (bad, "delivered")])
        # AND the project's webhook page shows the same log
        page = api.get("/ui/webhooks", params={"project": project})
        assert page.status_code == 200 and receiver.url in page.text
        assert page.text.count('class="delivery-delivered"') == 2 and f"/ui/documents/{bad}" in page.text
        assert "no webhook" in api.get("/ui/webhooks", params={"project": f"{project}-none"}).text
        other = _upload(api, f"{project}-other", "other.txt", b"Nothing for this hook: another project.\n")
        assert wait_for_documents([other], timeout_s=TIMEOUT_S) == {other: "graph_complete"}
        marker = _upload(api, project, "marker.txt", b"Kenji Tanaka wrote a marker note.\n")
        assert wait_for_documents([marker], timeout_s=TIMEOUT_S) == {marker: "graph_complete"}
        final = receiver.wait_for(lambda got: any(json.loads(b)["document_id"] == marker for _h, b, _a in got))
        assert sorted(json.loads(b)["document_id"] for _h, b, _a in final) == sorted([good, bad, marker])


def test_a_failing_receiver_is_tried_again_until_it_answers(api):
    project = f"hooks-{uuid.uuid4().hex[:8]}"
    with Receiver(fail_first=2) as receiver:
        # GIVEN a webhook whose receiver answers 500 twice
        assert api.put(f"/projects/{project}/webhook", json={"url": receiver.url}).status_code == 200
        # WHEN a document completes
        document = _upload(api, project, "retry.txt", b"Daniel Okafor signed for Globex Holdings Ltd.\n")
        assert wait_for_documents([document], timeout_s=TIMEOUT_S) == {document: "graph_complete"}
        # THEN the same delivery is sent again after each failure until it is answered 2xx
        received = receiver.wait_for(lambda got: any(answer == 204 for _h, _b, answer in got))
        assert [answer for _h, _b, answer in received] == [500, 500, 204]
        assert len({h["X-Docflow-Delivery"] for h, _b, _a in received}) == 1
        log = api.get(f"/projects/{project}/webhook/deliveries").json()["deliveries"]
        assert [(d["state"], d["attempts"], d["response_status"]) for d in log] == [("delivered", 3, 204)]


def test_bad_webhook_requests_get_a_reason(api):
    project = f"hooks-{uuid.uuid4().hex[:8]}"
    # GIVEN a project without a webhook THEN reading or removing it is a 404
    assert api.get(f"/projects/{project}/webhook").status_code == 404
    assert api.delete(f"/projects/{project}/webhook").status_code == 404
    # WHEN a URL that is not http(s) is given THEN it is refused with the reason
    refused = api.put(f"/projects/{project}/webhook", json={"url": "file:///etc/passwd"})
    assert refused.status_code == 400 and "http" in refused.json()["detail"]
    # AND a webhook set can be removed
    assert api.put(f"/projects/{project}/webhook", json={"url": "http://127.0.0.1:9/hook"}).status_code == 200
    assert api.delete(f"/projects/{project}/webhook").status_code == 204
    assert api.get(f"/projects/{project}/webhook").status_code == 404
