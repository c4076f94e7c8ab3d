"""Limits per caller: a flood of requests and a day's upload volume are answered 429 with
Retry-After; another caller goes on unaffected."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support.servers import Server, api_server

pytestmark = [pytest.mark.services]

TOKEN = "test-" + uuid.uuid4().hex
PER_MINUTE = 30
UPLOAD_BYTES_PER_DAY = 1500


@pytest.fixture(scope="module")
def server(stack, tmp_path_factory) -> Iterator[Server]:
    env = {
        "DOCFLOW_API_TOKEN": TOKEN,
        "DOCFLOW_API_REQUESTS_PER_MINUTE": str(PER_MINUTE),
        "DOCFLOW_API_UPLOAD_BYTES_PER_DAY": str(UPLOAD_BYTES_PER_DAY),
        "DOCFLOW_WEBHOOK_POLL_S": "0",
    }
    with api_server(log=tmp_path_factory.mktemp("limits") / "api.log", env=env) as running:
        yield running


def _program(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)


def test_a_flood_of_requests_is_answered_429_with_retry_after_and_others_go_on(server):
    with _program(server) as flooding, httpx.Client(base_url=server.url, timeout=30) as browser:
        signed_in = browser.post("/ui/login", data={"token": TOKEN, "next": "/ui/overview"})
        assert signed_in.status_code in (200, 303), signed_in.text
        # WHEN one caller sends more than its limit (twice over: a minute may turn meanwhile)
        answers = [flooding.get("/documents", params={"limit": 1}) for _ in range(2 * PER_MINUTE + 1)]
        codes = [answer.status_code for answer in answers]
        # THEN it is refused with 429, told how long to wait (within the minute) and why
        assert 429 in codes and set(codes) <= {200, 429}, codes
        refused = next(answer for answer in answers if answer.status_code == 429)
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert f"over {PER_MINUTE} requests a minute" in refused.json()["detail"]
        # AND another caller (a signed-in browser) is still answered
        assert browser.get("/documents", params={"limit": 1}).status_code == 200


def test_uploads_past_the_days_volume_are_answered_429_until_the_day_ends(server, stack):
    project = f"limits-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=server.url, timeout=30) as client:
        # a caller of its own: the sign-in cookie of a fresh session
        assert client.post("/ui/login", data={"token": TOKEN, "next": "/ui/overview"}).status_code in (200, 303)
        # GIVEN a first upload within the day's volume
        first = client.post(
            "/documents",
            params={"filename": "first.txt", "project_id": project},
            content=b"Maria Gonzalez met Daniel Okafor. " * 30,
            headers={"Content-Type": "text/plain"},
        )
        assert first.status_code == 201, first.text
        # WHEN a second would pass the volume
        second = client.post(
            "/documents",
            params={"filename": "second.txt", "project_id": project},
            content=b"Kenji Tanaka wrote to Acme Logistics. " * 30,
            headers={"Content-Type": "text/plain"},
        )
        # THEN it is refused before being read, with the reason and the wait until the UTC day ends
        assert second.status_code == 429, second.text
        assert "upload quota reached" in second.json()["detail"]
        assert 1 <= int(second.headers["Retry-After"]) <= 86_400
