"""Who may call a route or open a page, and in which projects: one rule per route, checked here.

Every route and page declares a guard as a dependency, and the guard is the only place access is
decided. A guard knows the role the route needs and how the route finds its project (:class:`Finds`):

- ``DOCUMENT`` / ``ENTITY``: the document (``{reference}`` or ``{document_id}``) or entity
  (``{entity_id}``) in the path, looked up only within the caller's projects — outside them it is
  a 404 with exactly the words of a missing one; inside them with too small a role, a 403.
- ``PROJECT``: the project the request names in ``project_id`` — in the query (:class:`InProject`),
  the JSON body (:class:`InBodyProject`) or the form (:class:`InFormProject`): 403 without the role
  there. The route then acts in :attr:`Access.project` (the ops functions take it).
- ``FILTER``: a listing or search: the caller's projects are handed to the operation as a filter
  (:attr:`Access.projects`), so nothing outside them is read.
- ``NOTHING``: not about a project (the caller's own account, the API's description, admin pages).

Anonymous callers get 401 (``WWW-Authenticate: Bearer``) from the API and are sent to sign in from
a page; a guard marked ``public`` lets everyone in (``/health``, the sign-in page). The route ×
role × project matrix test reads these rules from the app itself (:func:`rule_of`), so a route
added without a guard fails it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Form, Query, Request, status
from fastapi.routing import APIRoute, iter_route_contexts

from docflow.api.auth import Credentials
from docflow.api.deps import SAFE_METHODS, CallerDep, SettingsDep, credentials
from docflow.api.inputs import DocumentId, DocumentReference, EntityId, Identifier
from docflow.core.accounts import Role
from docflow.core.scope import Projects
from docflow.ops.access.principal import Principal
from docflow.ops.audit import record
from docflow.ops.lifecycle.explore import entity_project
from docflow.ops.lifecycle.selection import SelectionError, find_document


class Finds(StrEnum):
    """How a route finds the project it acts in."""

    NOTHING = "nothing"
    FILTER = "filter"
    PROJECT = "project"
    DOCUMENT = "document"
    ENTITY = "entity"


@dataclass(frozen=True)
class Rule:
    role: Role | None  # None: anyone signed in
    finds: Finds
    page: bool  # a page: an anonymous caller is sent to sign in (else: 401)
    public: bool = False
    audit: str | None = None  # the action recorded when access is given (e.g. "view")


class SignInRequired(Exception):
    """A page was asked for without a session: the caller is sent to sign in, then back to ``target``."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class Refused(Exception):
    """Access refused: answered in one place (:mod:`docflow.api.app`) as JSON, or as a page under /ui."""

    def __init__(self, status_code: int, reason: str, *, page: bool) -> None:
        super().__init__(reason)
        self.status_code, self.reason, self.page = status_code, reason, page


@dataclass(frozen=True)
class Access:
    """What a guard found: who calls, the projects they may act in with the route's role (None:
    all), and the project (and document) the route acts on, if it names one."""

    principal: Principal
    projects: Projects
    project_id: str | None = None
    document_id: int | None = None

    @property
    def project(self) -> str:
        """The project the route acts in, for a guard that finds one (``PROJECT``, ``DOCUMENT``, ``ENTITY``)."""
        if self.project_id is None:
            raise LookupError("this route's guard does not find a project")
        return self.project_id

    def record(
        self, action: str, *, target: str | None = None, outcome: str = "ok", detail: dict | None = None
    ) -> None:
        record(
            self.principal.actor,
            action,
            outcome=outcome,
            project_id=self.project_id,
            target=target,
            detail={"via": self.principal.method, **(detail or {})},
        )


class Guard:
    """The part every guard shares: who is calling, and refusing in the route's own terms."""

    finds = Finds.NOTHING

    def __init__(self, role: Role | None = Role.VIEWER, *, page: bool = False, audit: str | None = None) -> None:
        self.rule = Rule(role, self.finds, page, audit=audit)

    def signed_in(self, request: Request, principal: Principal | None) -> Principal:
        if principal is not None:
            return principal
        if self.rule.page:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequired(target if request.method in SAFE_METHODS else "/ui/overview")
        raise Refused(
            status.HTTP_401_UNAUTHORIZED, "sign in, or send a valid token (Authorization: Bearer <token>)", page=False
        )

    def refuse(
        self, request: Request, principal: Principal, code: int, reason: str, *, project_id: str | None
    ) -> Refused:
        route = request.scope.get("route")
        record(
            principal.actor,
            "access",
            outcome="refused",
            project_id=project_id,
            target=f"{request.method} {request.url.path}"[:200],
            detail={"route": getattr(route, "path", None), "status": code},
        )
        return Refused(code, reason, page=self.rule.page)

    def granted(self, principal: Principal, *, project_id: str | None = None, document_id: int | None = None) -> Access:
        role = self.rule.role or Role.VIEWER
        access = Access(principal, principal.projects(role), project_id, document_id)
        if self.rule.audit:
            access.record(self.rule.audit, target=f"document {document_id}" if document_id else None)
        return access

    def role_needed(self, request: Request, principal: Principal, project_id: str) -> None:
        role = self.rule.role or Role.VIEWER
        if not principal.may(role, project_id):
            raise self.refuse(
                request, principal, status.HTTP_403_FORBIDDEN,
                f"your role in project {project_id} does not allow this ({role.value} needed)", project_id=project_id,
            )  # fmt: skip


class Signed(Guard):
    """Anyone signed in (``role=None``), or an admin (``role=Role.ADMIN``); not about a project."""

    def __call__(self, request: Request, principal: CallerDep) -> Access:
        who = self.signed_in(request, principal)
        if self.rule.role is Role.ADMIN and not who.admin:
            raise self.refuse(request, who, status.HTTP_403_FORBIDDEN, "only an admin may do this", project_id=None)
        return self.granted(who)


class Listing(Guard):
    """A listing or search: only within the projects where the caller holds the role."""

    finds = Finds.FILTER

    def __call__(self, request: Request, principal: CallerDep) -> Access:
        return self.granted(self.signed_in(request, principal))


class _NamesProject(Guard):
    finds = Finds.PROJECT

    def check(self, request: Request, principal: Principal | None, project_id: str) -> Access:
        who = self.signed_in(request, principal)
        self.role_needed(request, who, project_id)
        return self.granted(who, project_id=project_id)


class InProject(_NamesProject):
    """A request naming its project in the query's ``project_id`` (default: the installation's default project)."""

    def __call__(
        self,
        request: Request,
        settings: SettingsDep,
        principal: CallerDep,
        project_id: Annotated[
            Identifier | None, Query(max_length=128, description="Project (default from settings).")
        ] = None,
    ) -> Access:
        return self.check(request, principal, project_id or settings.project_id)


class InBodyProject(_NamesProject):
    """A JSON body naming its project in ``project_id``: the route declares its other fields with
    ``Body()`` (FastAPI reads them all from one JSON object: ``{"project_id": ..., "source": ...}``)."""

    def __call__(
        self,
        request: Request,
        principal: CallerDep,
        project_id: Annotated[Identifier, Body(embed=True, min_length=1, max_length=128, description="The project.")],
    ) -> Access:
        return self.check(request, principal, project_id)


class InFormProject(_NamesProject):
    """A form naming its project in the field ``project_id`` (the route declares its other fields)."""

    def __call__(
        self,
        request: Request,
        principal: CallerDep,
        project_id: Annotated[Identifier, Form(min_length=1, max_length=128, description="The project.")],
    ) -> Access:
        return self.check(request, principal, project_id)


class _OnDocument(Guard):
    finds = Finds.DOCUMENT

    def check(self, request: Request, principal: Principal | None, reference: str) -> Access:
        who = self.signed_in(request, principal)
        try:
            found = find_document(reference, projects=who.projects(Role.VIEWER))
        except SelectionError as exc:
            raise Refused(status.HTTP_400_BAD_REQUEST, str(exc), page=self.rule.page) from None
        if found is None:
            raise self.refuse(request, who, status.HTTP_404_NOT_FOUND, f"no document {reference}", project_id=None)
        self.role_needed(request, who, found.project_id)
        return self.granted(who, project_id=found.project_id, document_id=found.id)


class OnDocument(_OnDocument):
    """A document named by id or uuid in the path (``{reference}``)."""

    def __call__(self, request: Request, reference: DocumentReference, principal: CallerDep) -> Access:
        return self.check(request, principal, reference)


class OnDocumentId(_OnDocument):
    """A document named by id in the path (``{document_id}``)."""

    def __call__(self, request: Request, document_id: DocumentId, principal: CallerDep) -> Access:
        return self.check(request, principal, str(document_id))


class OnEntity(Guard):
    """An entity named by id in the path (``{entity_id}``)."""

    finds = Finds.ENTITY

    def __call__(self, request: Request, entity_id: EntityId, principal: CallerDep) -> Access:
        who = self.signed_in(request, principal)
        project = entity_project(entity_id, projects=who.projects(Role.VIEWER))
        if project is None:
            raise self.refuse(request, who, status.HTTP_404_NOT_FOUND, f"no entity {entity_id}", project_id=None)
        self.role_needed(request, who, project)
        return self.granted(who, project_id=project)


class Public(Guard):
    """Everyone, signed in or not (``/health``, the sign-in page)."""

    def __init__(self, *, page: bool = False) -> None:
        self.rule = Rule(None, Finds.NOTHING, page, public=True)

    def __call__(self) -> None:
        return None


class MetricsReader(Guard):
    """An admin, or a scraper holding the configured scrape token (``DOCFLOW_METRICS_TOKEN``)."""

    def __init__(self) -> None:
        self.rule = Rule(Role.ADMIN, Finds.NOTHING, False)

    def __call__(
        self, request: Request, check: Annotated[Credentials, Depends(credentials)], principal: CallerDep
    ) -> None:
        scheme, _, presented = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and check.is_scrape_token(presented.strip()):
            return
        who = self.signed_in(request, principal)
        if not who.admin:
            raise self.refuse(request, who, status.HTTP_403_FORBIDDEN, "only an admin may do this", project_id=None)


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every route and page the app serves (its routers flattened), for the tests that walk them all."""
    return [c.original_route for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]


def rule_of(route: APIRoute) -> Rule | None:
    """The rule a route declared (its guard among its dependencies), or None when it has none."""
    pending: list[Any] = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if isinstance(dependant.call, Guard):
            return dependant.call.rule
        pending.extend(dependant.dependencies)
    return None
