"""What routes and pages depend on, declared once: the settings and who is calling.

- :data:`SettingsDep` — the settings the app was built with (``app.state.settings``).
- :func:`caller` — the one place a request is authenticated: a bearer token (personal, or the
  legacy single token, which is the first admin's) or a signed-in browser's session cookie; the
  :class:`~docflow.ops.access.principal.Principal` it acts as, or None for an anonymous caller.
  A request that changes something and is authenticated by its cookie must also carry the form's
  CSRF token (:mod:`docflow.api.csrf`): a cookie is sent by the browser whoever made the page.
  What a caller may then do, and in which projects, is decided by :mod:`docflow.api.access`.
  Every authenticated request counts against its user's limits (:mod:`docflow.api.limits`: 429).

"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from docflow.api.auth import SESSION_COOKIE, Credentials
from docflow.api.csrf import check_form_token
from docflow.api.limits import limits_key
from docflow.core.settings import Settings
from docflow.ops.access.principal import Principal, by_session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


def credentials(request: Request) -> Credentials:
    found: Credentials = request.app.state.credentials
    return found


_bearer = HTTPBearer(
    auto_error=False,
    description="A personal API token (created on the account page), or the installation's API token.",
)


def address_of(request: Request) -> str | None:
    return request.client.host if request.client else None


async def caller(
    request: Request,
    check: Annotated[Credentials, Depends(credentials)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """Who is calling (None: nobody we know). Computed once per request (FastAPI caches it)."""
    address = address_of(request)
    if bearer is not None:
        request.state.principal = await run_in_threadpool(check.by_bearer, bearer.credentials, address=address)
        await _count(request, request.state.principal)
        return request.state.principal
    session_id = check.session_id(request.cookies.get(SESSION_COOKIE))
    if session_id is None:
        return None
    found = await run_in_threadpool(by_session, session_id, address=address)
    if found is not None and request.method not in SAFE_METHODS:
        await check_form_token(request, check, bound_to=session_id)
    request.state.session_id = session_id if found is not None else None
    request.state.principal = found
    await _count(request, found)
    return found


async def _count(request: Request, principal: Principal | None) -> None:
    if principal is not None:
        await run_in_threadpool(request.app.state.limits.check_rate, caller=limits_key(principal))


CallerDep = Annotated[Principal | None, Depends(caller)]
