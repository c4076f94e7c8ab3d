"""The API's one rule of access: the token from the settings, on every route but ``/health``.

Programs send it as ``Authorization: Bearer <token>``. The web pages sign in once with it and get
a session cookie instead: HttpOnly, SameSite=Strict, and only a timestamp signed with the token
(HMAC-SHA256), so the token itself never sits in a browser and a session ends after
``session_hours``. Everything is compared in constant time; the token is never logged (uvicorn's
access log records paths and queries, not headers or cookies). Without a valid credential a
program is answered 401 with ``WWW-Authenticate: Bearer`` and a browser is sent to sign in
(:mod:`docflow.api.deps`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from fastapi import Request

from docflow.core.secrets import api_token
from docflow.core.settings import Settings

SESSION_COOKIE = "docflow_session"


class TokenCheck:
    """The expected token (resolved once, when the app is built) and the sessions signed with it.

    Routes and pages ask it through :mod:`docflow.api.deps`, never directly.
    """

    def __init__(self, settings: Settings, *, session_hours: float = 12.0) -> None:
        token = api_token(settings, create=True)
        if token is None or not token.get_secret_value():
            raise RuntimeError("the HTTP API needs a token: set DOCFLOW_API_TOKEN or let docflow generate one")
        self._expected = token.get_secret_value().encode()
        self.session_seconds = session_hours * 3600

    def valid_token(self, presented: str | None) -> bool:
        return bool(presented) and secrets.compare_digest((presented or "").encode(), self._expected)

    def new_session(self, *, now: float | None = None) -> str:
        """A cookie value for a browser that just presented the right token."""
        issued = str(int(now if now is not None else time.time()))
        return f"{issued}.{self._sign(issued)}"

    def valid_session(self, cookie: str | None, *, now: float | None = None) -> bool:
        issued, _, signature = (cookie or "").partition(".")
        if not issued.isdigit() or not secrets.compare_digest(signature.encode(), self._sign(issued).encode()):
            return False
        age = (now if now is not None else time.time()) - int(issued)
        return 0 <= age <= self.session_seconds

    def _sign(self, issued: str) -> str:
        return hmac.new(self._expected, f"docflow-session:{issued}".encode(), hashlib.sha256).hexdigest()

    def authorised(self, request: Request) -> bool:
        scheme, _, credentials = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and self.valid_token(credentials.strip()):
            return True
        return self.valid_session(request.cookies.get(SESSION_COOKIE))
