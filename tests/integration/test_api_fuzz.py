"""No input reaches a 500: every API operation, generated from its OpenAPI description
(schemathesis, in and out of the schema), and every page, generated from its parameters
(hypothesis), against a real API process.

The process runs on a database, a Redis database and a bucket of its own, with a worker of its own
and three processed documents in it: generated deletes and reprocesses hit only those, never the
documents other tests hold. Examples per operation are capped (``EXAMPLES``) to keep CI time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from docflow.api import web
from tests.support.servers import Server, api_server

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

TOKEN = "fuzz-" + uuid.uuid4().hex
EXAMPLES = 40
TIMEOUT_S = 240


@dataclass(frozen=True)
class FuzzedApi:
    server: Server
    document_ids: list[int]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}


def _own_env(stack) -> dict[str, str]:
    """The suite's services, with a database, Redis database and bucket that only this module uses."""
    redis = stack.redis_url.get_secret_value().rsplit("/", 1)[0]
    return {
        "DOCFLOW_DB_NAME": "docflow_fuzz",
        "DOCFLOW_REDIS_URL": f"{redis}/6",
        "DOCFLOW_RESULT_BACKEND_URL": f"{redis}/7",
        "DOCFLOW_S3_BUCKET": "docflow-fuzz",
        "DOCFLOW_API_TOKEN": TOKEN,
        # generated requests come faster than any client's limit: every one must reach its route
        "DOCFLOW_API_REQUESTS_PER_MINUTE": "0",
    }


@pytest.fixture(scope="module")
def fuzzed(stack, sample_files, tmp_path_factory) -> Iterator[FuzzedApi]:
    from docflow import services
    from docflow.core.storage import ObjectStorage
    from docflow.services import workers

    env = {**_own_env(stack), "DOCFLOW_INTAKE_DIR": str(tmp_path_factory.mktemp("fuzz-intake"))}
    own = stack.model_copy(update={"db_name": env["DOCFLOW_DB_NAME"], "s3_bucket": env["DOCFLOW_S3_BUCKET"]})
    services.Postgres(stack).ensure_database(env["DOCFLOW_DB_NAME"])
    migrated = subprocess.run(
        [sys.executable, "-m", "docflow.cli", "migrate"], env={**os.environ, **env}, capture_output=True, text=True
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    ObjectStorage(own).ensure_bucket()
    workers.start(stack, name="fuzz", concurrency=1, env=env, echo=lambda _line: None)
    good, _bad = sample_files
    try:
        with api_server(log=tmp_path_factory.mktemp("fuzz") / "api.log", env=env) as server:
            client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
            ids = []
            for name, media in (
                ("field_notes.txt", "text/plain"),
                ("born_digital.pdf", "application/pdf"),
                ("partner_email.eml", "message/rfc822"),
            ):
                created = client.post(
                    "/documents",
                    params={"filename": name, "project_id": "fuzz"},
                    content=good[name].read_bytes(),
                    headers={"Content-Type": media},
                )
                assert created.status_code in (200, 201), created.text  # 200: kept from an earlier run
                ids.append(created.json()["document_id"])
            deadline = time.monotonic() + TIMEOUT_S
            while {client.get(f"/documents/{i}").json()["status"] for i in ids} != {"graph_complete"}:
                assert time.monotonic() < deadline, "the fuzzed API's documents never completed"
                time.sleep(0.5)
            yield FuzzedApi(server, ids)
    finally:
        workers.stop(stack, name="fuzz", timeout=20, echo=lambda _line: None)


# What a schema's "string" allows and breaks naive code: NUL (PostgreSQL cannot store it), terminal
# escapes, digits past any integer column, a lone surrogate (JSON can carry one; UTF-8 cannot).
_HOSTILE = st.sampled_from(["\x00", "a\x00b", "\x1b[2J", "9" * 30, "-1", "../../x", "\u202e"])
_HOSTILE_JSON = st.one_of(_HOSTILE, st.just("\ud800"))


def _make_hostile(case, data) -> None:
    """Replace some of the generated values with hostile ones (where the schema allows any string)."""
    for part in (case.query, case.path_parameters):
        if part:
            for name in data.draw(st.sets(st.sampled_from(sorted(part)), max_size=2)):
                part[name] = data.draw(_HOSTILE)
    if isinstance(case.body, dict):
        strings = sorted(name for name, value in case.body.items() if isinstance(value, str))
        for name in data.draw(st.sets(st.sampled_from(strings), max_size=1)) if strings else ():
            case.body[name] = data.draw(_HOSTILE_JSON)


def _operations(fuzzed: FuzzedApi) -> list:
    schema = schemathesis.openapi.from_url(f"{fuzzed.server.url}/openapi.json", headers=fuzzed.auth)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_to_an_api_operation_ends_in_a_server_error(fuzzed, mode):
    operations = _operations(fuzzed)
    assert len(operations) >= 7  # every operation the API describes
    for operation in operations:
        # GIVEN any request the operation's description allows (positive), or one just outside it
        # (negative) WHEN it is sent with the token THEN the answer is never a 5xx
        @given(case=operation.as_strategy(mode), data=st.data())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case, data):
            _make_hostile(case, data)
            case.call_and_validate(headers=fuzzed.auth, checks=[not_a_server_error])

        try:
            check()
        except Unsatisfiable:
            # Nothing can be sent outside the description (an operation without parameters).
            assert mode is GenerationMode.NEGATIVE, operation.label


# -- the pages -------------------------------------------------------------------------------------------

_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(["", "\x00", "a\x00b", "\x1b[2J", "ocr", "reprocess", "delete", "yes", "2026-13-40", "9" * 30]),
)
_INTEGER = st.one_of(st.integers(min_value=-5, max_value=10), st.integers(min_value=-(2**70), max_value=2**70))


def _value(field) -> st.SearchStrategy[str]:
    """A value for a page's parameter: of its type, or anything a URL or a form can carry."""
    annotation = str(field.field_info.annotation)
    typed = _INTEGER.map(str) if "int" in annotation else _TEXT
    return st.one_of(typed, _TEXT)


def _page_requests() -> list[tuple[str, str, object]]:
    """(method, path template, strategy of (path values, query, form)) for every page route."""
    found = []
    for router in web.ROUTERS:
        for route in router.routes:
            dependant = route.dependant
            path = st.fixed_dictionaries({f.alias: _value(f) for f in dependant.path_params})
            query = st.fixed_dictionaries({}, optional={f.alias: _value(f) for f in dependant.query_params})
            form = st.fixed_dictionaries({}, optional={f.alias: _value(f) for f in dependant.body_params})
            for method in sorted(route.methods):
                found.append((method, route.path, st.tuples(path, query, form)))
    return found


PAGES = _page_requests()


def test_every_page_route_is_fuzzed():
    # The table above is built from the routers themselves: a new page is fuzzed without a change here.
    assert {path for _method, path, _values in PAGES} >= {
        "/ui/search",
        "/ui/documents/{document_id}",
        "/ui/documents/{document_id}/pages/{number}.png",
        "/ui/documents/{document_id}/confirm",
        "/ui/documents/{document_id}/reprocess",
        "/ui/documents/{document_id}/delete",
        "/ui/entities",
        "/ui/entities/{entity_id}",
        "/ui/overview",
        "/ui/login",
    }


@pytest.mark.parametrize(("method", "path", "values"), PAGES, ids=[f"{m} {p}" for m, p, _v in PAGES])
def test_no_generated_request_to_a_page_ends_in_a_server_error(fuzzed, method, path, values):
    client = httpx.Client(base_url=fuzzed.server.url, timeout=60, follow_redirects=False)
    signed_in = client.post("/ui/login", data={"token": TOKEN, "next": "/ui/overview"})
    assert signed_in.status_code == 303, signed_in.text

    @given(values)
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def check(example):
        path_values, query, form = example
        url = path
        for name, value in path_values.items():
            url = url.replace("{" + name + "}", quote(value, safe="") or "x")
        # WHEN the page is asked for with any value a URL or a form can carry
        response = client.request(method, url, params=query, data=form or None)
        # THEN it answers without a server error
        assert response.status_code < 500, (method, url, query, form, response.status_code, response.text[:300])

    check()
