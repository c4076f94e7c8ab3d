"""CSRF protection for every form: a token only this server can make, checked on every request that
changes something with a browser's cookie.

Signed in, the token is an HMAC of the session id (so it dies with the session); on the sign-in
form, an HMAC of a random nonce in a cookie of its own (a double submit the attacker's page cannot
read or set). A form carries it as the hidden field ``csrf_token``; a script may send it as the
``X-CSRF-Token`` header. A missing or wrong token is :class:`CsrfRefused`: a 403 page saying to
reload, never the action.
"""

from __future__ import annotations

import secrets

from fastapi import Request
from fastapi.responses import Response

from docflow.api.auth import Credentials

SIGN_IN_COOKIE = "docflow_signin"  # before sign-in: the nonce the sign-in form's CSRF token is bound to
FIELD = "csrf_token"
HEADER = "x-csrf-token"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class CsrfRefused(Exception):
    """A form without the right CSRF token (answered 403 in one place, :mod:`docflow.api.app`)."""


async def presented_token(request: Request) -> str | None:
    if HEADER in request.headers:
        return request.headers[HEADER]
    if (request.headers.get("content-type") or "").split(";")[0].strip().lower() in _FORMS:
        value = (await request.form()).get(FIELD)  # parsed once; FastAPI reuses it for the route's fields
        return value if isinstance(value, str) else None
    return None


async def check_form_token(request: Request, check: Credentials, *, bound_to: str) -> None:
    if not check.csrf_valid(bound_to, await presented_token(request)):
        raise CsrfRefused


def sign_in_nonce(request: Request) -> str:
    """The sign-in form's nonce: the one the browser's cookie holds, or a new one."""
    nonce = request.cookies.get(SIGN_IN_COOKIE)
    return nonce if nonce and len(nonce) <= 64 else secrets.token_urlsafe(24)


def keep_sign_in_nonce(response: Response, nonce: str) -> None:
    response.set_cookie(SIGN_IN_COOKIE, nonce, httponly=True, samesite="lax", path="/ui/login")
