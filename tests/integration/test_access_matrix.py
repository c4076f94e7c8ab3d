"""The route × role × project matrix: every route and page the app serves — read from the app
itself, so a route added later is covered without a change here — called by {anonymous, a viewer
of project A, an operator of A, an admin} on {project A, project B}, against a real API process.

Each route declares its guard (the role it needs, how it finds its project: docflow.api.access);
this test fails for a route without one, and for any cell whose answer is not what the rule says:
anonymous → 401 (API) or sent to sign in (pages); a document or entity outside the caller's
projects → 404 exactly like a missing one; too small a role → 403; listings and searches never
show project B's documents to A's users.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from docflow.api.access import Finds, Rule, api_routes, rule_of
from docflow.api.deps import SAFE_METHODS
from docflow.core.accounts import Role
from docflow.core.models import MAX_ID
from docflow.ops.progress import wait_for_documents
from docflow.ops.submit import ingest_file
from tests.support.accounts import Account, new_account, page_token, personal_token, sign_in
from tests.support.servers import api_server

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

PRINCIPALS = ("anonymous", "viewer", "operator", "admin")  # viewer and operator: of project A only
HELD = {"viewer": Role.VIEWER, "operator": Role.OPERATOR, "admin": Role.ADMIN}
TIMEOUT_S = 240
# What a required query parameter is given (a route with another required parameter fails the test:
# add its value here, so its cells mean something).
QUERY_VALUES = {"q": "Maria Gonzalez", "name": "Maria Gonzalez", "filename": "matrix.txt"}


@dataclass
class World:
    url: str
    projects: dict[str, str]
    documents: dict[str, int]
    uuids: dict[str, str]
    entities: dict[str, int]
    accounts: dict[str, Account]
    tokens: dict[str, str]
    throwaway: str
    scratch: Path
    sessions: dict[str, httpx.Client] = field(default_factory=dict)


def _entity_id(project: str, name: str) -> int:
    from docflow.core.db import fetch_all

    rows = fetch_all(
        "SELECT id FROM canonical_entities WHERE project_id = %(p)s AND display_name = %(n)s", {"p": project, "n": name}
    )
    assert rows, f"no entity {name!r} in {project}"
    return int(rows[0][0])


@pytest.fixture(scope="module")
def world(workers, sample_files, tmp_path_factory) -> Iterator[World]:
    good, _bad = sample_files
    tag = uuid.uuid4().hex[:8]
    projects = {"A": f"matrix-a-{tag}", "B": f"matrix-b-{tag}"}
    results = {c: ingest_file(path=good["born_digital.pdf"], project_id=p) for c, p in projects.items()}
    documents = {c: r.document_id for c, r in results.items()}
    assert set(wait_for_documents(list(documents.values()), timeout_s=TIMEOUT_S).values()) == {"graph_complete"}
    accounts = {
        "viewer": new_account("viewer", grants={projects["A"]: Role.VIEWER}),
        "operator": new_account("operator", grants={projects["A"]: Role.OPERATOR}),
        "admin": new_account("admin", admin=True),
    }
    with api_server(log=tmp_path_factory.mktemp("matrix") / "api.log") as server:
        yield World(
            url=server.url,
            projects=projects,
            documents=documents,
            uuids={c: r.document_uuid for c, r in results.items()},
            entities={c: _entity_id(p, "Maria Gonzalez") for c, p in projects.items()},
            accounts=accounts,
            tokens={who: personal_token(account) for who, account in accounts.items()},
            throwaway=new_account("throwaway").name,
            scratch=tmp_path_factory.mktemp("disposable"),
        )


def _disposable_document(world: World, column: str) -> int:
    """A registered (not processed) document of its own, for a request that may delete or restart it."""
    path = world.scratch / f"{uuid.uuid4().hex}.txt"
    path.write_text(f"A disposable note {uuid.uuid4().hex} for the access matrix.")
    return ingest_file(path=path, project_id=world.projects[column], submit=False).document_id


def _disposable_entity(world: World, column: str) -> int:
    """An entity of its own in the column's project, for a request that may merge, split or delete it."""
    from sqlalchemy import text

    from docflow.core.db import session_scope

    key = f"matrix {uuid.uuid4().hex}"
    with session_scope() as session:
        created = session.execute(
            text(
                "INSERT INTO canonical_entities (project_id, normalized_key, label, display_name) "
                "VALUES (:p, :k, 'PERSON', :k) RETURNING id"
            ),
            {"p": world.projects[column], "k": key},
        ).scalar_one()
    return int(created)


def _client(world: World, principal: str, *, page: bool, fresh: bool) -> httpx.Client:
    if principal == "anonymous":
        return httpx.Client(base_url=world.url, timeout=60, follow_redirects=False)
    if not page:
        return httpx.Client(
            base_url=world.url, timeout=60, headers={"Authorization": f"Bearer {world.tokens[principal]}"}
        )
    if fresh:  # a form may end its session (sign out): a session of its own
        return sign_in(world.url, world.accounts[principal])
    if principal not in world.sessions:
        world.sessions[principal] = sign_in(world.url, world.accounts[principal])
    return world.sessions[principal]


def _params(route: APIRoute) -> tuple[list, list, set[str]]:
    """(path, query) parameters of the route and of every dependency it has (its guard's too), and
    the names of the body's fields (a guard may read the project from the body or the form)."""
    path, query, body, pending = [], [], set(), [route.dependant]
    while pending:
        dependant = pending.pop()
        path += dependant.path_params
        query += dependant.query_params
        body |= {param.alias for param in dependant.body_params}
        pending += dependant.dependencies
    return path, query, body


def _call(world: World, route: APIRoute, method: str, principal: str, column: str, *, missing: bool = False):
    """Call the route as ``principal`` on ``column``'s project (``missing``: on an id that names nothing)."""
    path_params, query_params, body_fields = _params(route)
    unsafe = method not in SAFE_METHODS
    page = route.path.startswith("/ui/")
    path = route.path
    for param in path_params:
        if param.alias in ("reference", "document_id"):
            value = MAX_ID if missing else _disposable_document(world, column) if unsafe else world.documents[column]
        elif param.alias == "entity_id":
            value = MAX_ID if missing else _disposable_entity(world, column) if unsafe else world.entities[column]
        else:
            value = {"name": world.throwaway, "token_id": 1, "number": 1, "project_id": world.projects[column]}.get(
                param.alias
            )
            assert value is not None, f"{route.path}: give the path parameter {param.alias!r} a value in this test"
        path = path.replace("{" + param.alias + "}", str(value))
    query: dict[str, str] = {}
    for param in query_params:
        if param.alias == "project_id":
            query["project_id"] = world.projects[column]
        elif param.field_info.is_required():
            assert param.alias in QUERY_VALUES, f"{route.path}: give the query parameter {param.alias!r} a value"
            query[param.alias] = QUERY_VALUES[param.alias]
    # A project named in the body or the form (merge, split): the column's
    named = {"project_id": world.projects[column]} if "project_id" in body_fields else {}
    client = _client(world, principal, page=page, fresh=unsafe)
    request: dict = {"params": query}
    if unsafe and page:
        request["data"] = {"csrf_token": page_token(client) if principal != "anonymous" else "", **named}
    elif route.path == "/documents" and method == "POST":
        request.update(content=f"upload {uuid.uuid4().hex}".encode(), headers={"Content-Type": "text/plain"})
    elif unsafe and route.body_field is not None:
        request["json"] = named
    return client.request(method, path, **request)


def expected(rule: Rule, principal: str, column: str) -> str:
    """What the rule says the cell answers: public, signin, missing, forbidden or allowed."""
    if rule.public:
        return "public"
    if principal == "anonymous":
        return "signin"
    held = HELD[principal] if principal == "admin" or column == "A" else None
    needed = rule.role or Role.VIEWER
    enough = held is not None and held.rank >= needed.rank
    if rule.finds in (Finds.DOCUMENT, Finds.ENTITY):
        return "missing" if held is None else "allowed" if enough else "forbidden"
    if rule.finds is Finds.PROJECT:
        return "allowed" if enough else "forbidden"
    if rule.finds is Finds.NOTHING and rule.role is Role.ADMIN:
        return "allowed" if principal == "admin" else "forbidden"
    return "allowed"


def _cells(world_routes: list[APIRoute]) -> list[tuple[APIRoute, str]]:
    return [(route, method) for route in world_routes for method in sorted(route.methods)]


def _app_routes() -> list[APIRoute]:
    from docflow.api import create_app
    from docflow.core.settings import get_settings

    return api_routes(create_app(get_settings()))


ROUTES = _app_routes()


def test_every_route_and_page_declares_who_may_call_it():
    # GIVEN every route and page the app serves (read from the app: a new one is in this list)
    undeclared = [f"{sorted(r.methods)} {r.path}" for r in ROUTES if rule_of(r) is None]
    # THEN each declares its guard: the role it needs and how it finds its project
    assert undeclared == []
    assert len(ROUTES) >= 30


def _leaks(world: World, text: str) -> list[str]:
    """What of project B's document and entity a response shows."""
    b_doc, b_entity = world.documents["B"], world.entities["B"]
    marks = [world.uuids["B"], f'"document_id":{b_doc},', f"/ui/documents/{b_doc}?", f'/ui/entities/{b_entity}"']
    return [mark for mark in marks if mark in text]


@pytest.mark.parametrize(("route", "method"), _cells(ROUTES), ids=[f"{m} {r.path}" for r, m in _cells(ROUTES)])
def test_each_route_answers_each_role_in_each_project_as_its_rule_says(world, route, method):
    rule = rule_of(route)
    assert rule is not None
    for principal in PRINCIPALS:
        for column in ("A", "B"):
            # WHEN the route is called by this principal on this project
            answer = _call(world, route, method, principal, column)
            outcome = expected(rule, principal, column)
            cell = (method, route.path, principal, column, outcome, answer.status_code, answer.text[:200])
            location = answer.headers.get("location", "")
            # THEN it answers as its rule says
            sent_to_sign_in = location.startswith("/ui/login?")  # (a sign-out's answer is /ui/login itself)
            if outcome == "public":
                assert answer.status_code < 500 and not sent_to_sign_in, cell
            elif outcome == "signin":
                if rule.page:
                    assert answer.status_code == 303 and sent_to_sign_in, cell
                else:
                    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer", cell
            elif outcome == "missing":
                # ... exactly like a document (or entity) that does not exist
                nothing = _call(world, route, method, principal, column, missing=True)
                assert answer.status_code == nothing.status_code == 404, cell
                found_id = str(world.documents[column] if rule.finds is Finds.DOCUMENT else world.entities[column])
                if method in SAFE_METHODS:
                    same = re.sub(rf"\b{found_id}\b", "X", answer.text) == nothing.text.replace(str(MAX_ID), "X")
                    assert same, cell
            elif outcome == "forbidden":
                assert answer.status_code == 403, cell
            else:
                assert answer.status_code not in (401, 403) and answer.status_code < 500, cell
                assert not sent_to_sign_in, cell
                if rule.finds in (Finds.DOCUMENT, Finds.ENTITY, Finds.PROJECT):
                    assert answer.status_code != 404, cell
            # AND A's users never see anything of B
            if principal in ("viewer", "operator"):
                assert _leaks(world, answer.text) == [], cell


def test_the_overview_counts_only_the_callers_projects(world):
    from docflow.core.db import fetch_all
    from docflow.core.settings import get_settings
    from docflow.ops.monitor import snapshot

    # GIVEN project A's documents (the matrix added some) WHEN the monitor is read for A only
    (count,) = fetch_all("SELECT count(*) FROM source_documents WHERE project_id = %(p)s", {"p": world.projects["A"]})[
        0
    ]
    scoped = snapshot(get_settings(), include_workers=False, projects=frozenset({world.projects["A"]}))
    # THEN it counts exactly A's documents; and for nobody's projects, none
    assert sum(scoped.statuses.values()) == count
    assert sum(snapshot(get_settings(), include_workers=False, projects=frozenset()).statuses.values()) == 0
