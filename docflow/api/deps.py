"""What routes and pages depend on, declared once: the settings, who is calling, and the shape of
what a caller may send.

- :data:`SettingsDep` — the settings the app was built with (``app.state.settings``).
- :data:`ApiCaller` — a program with the API token (``Authorization: Bearer``) or a signed-in
  browser's session cookie; anything else is answered 401 with ``WWW-Authenticate: Bearer``.
- :data:`PageCaller` — a signed-in browser; anyone else is sent to the sign-in page and back
  (:class:`SignInRequired`, turned into that redirect in one place, :func:`docflow.api.app.create_app`).

Both count the request against the caller's limits (:mod:`docflow.api.limits`: 429 past them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from docflow.api.auth import SESSION_COOKIE, TokenCheck
from docflow.core.settings import Settings


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


def token_check(request: Request) -> TokenCheck:
    check: TokenCheck = request.app.state.token_check
    return check


@dataclass(frozen=True)
class Caller:
    """Who is calling, as recorded in what they change ("api" for programs, "web" for the pages)."""

    via: str


_bearer = HTTPBearer(auto_error=False, description="The API token: `Authorization: Bearer <token>`.")


def api_caller(
    request: Request,
    check: Annotated[TokenCheck, Depends(token_check)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if (credentials is not None and check.valid_token(credentials.credentials)) or check.valid_session(
        request.cookies.get(SESSION_COOKIE)
    ):
        request.app.state.limits.check_rate(request)
        return Caller("api")
    raise HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="a valid bearer token is required (Authorization: Bearer <token>)",
        headers={"WWW-Authenticate": "Bearer"},
    )


class SignInRequired(Exception):
    """A page was asked for without a session: the caller is sent to sign in, then back to ``target``."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


def page_caller(request: Request, check: Annotated[TokenCheck, Depends(token_check)]) -> Caller:
    if check.authorised(request):
        request.app.state.limits.check_rate(request)
        return Caller("web")
    raise SignInRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))


ApiCaller = Annotated[Caller, Depends(api_caller)]
PageCaller = Annotated[Caller, Depends(page_caller)]
