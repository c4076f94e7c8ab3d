"""The credentials a request may carry, read in one place (:mod:`docflow.api.deps` asks here).

- ``Authorization: Bearer <token>``: a personal API token (``dft_…``, looked up by its hash), the
  legacy single token (``DOCFLOW_API_TOKEN`` or ``<data_dir>/secrets/api-token``: the first admin's),
  or — for ``/metrics`` only — the scrape token (``DOCFLOW_METRICS_TOKEN``).
- The session cookie of a signed-in browser: HttpOnly, SameSite=Lax, its value the session id
  signed with the session key (itsdangerous, timestamped), so a forged or stale cookie is refused
  without a database read; the session's row decides the rest (ended, expired, user disabled).
- A CSRF token for every form: bound to the session (an HMAC of its id), or before sign-in to a
  random cookie of its own (double submit); :mod:`docflow.api.csrf` checks it.

Every comparison is in constant time; no credential is ever logged (uvicorn's access log records
paths and queries, not headers, cookies or form bodies).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer

from docflow.core.secrets import api_token, session_key
from docflow.core.settings import Settings
from docflow.ops.access import principal
from docflow.ops.access.credentials import TOKEN_PREFIX
from docflow.ops.access.principal import Principal

SESSION_COOKIE = "docflow_session"


class Credentials:
    """The secrets a request is checked against, resolved once when the app is built."""

    def __init__(self, settings: Settings) -> None:
        token = api_token(settings, create=True)
        key = session_key(settings, create=True)
        if token is None or not token.get_secret_value() or key is None:
            raise RuntimeError("the HTTP API needs its token and session key (generated under the data folder)")
        self._legacy = token.get_secret_value().encode()
        self._metrics = settings.metrics_token.get_secret_value().encode() if settings.metrics_token else None
        self._key = key.get_secret_value().encode()
        self._cookies = URLSafeTimedSerializer(self._key, salt="docflow-session")
        self.admin_user = settings.admin_user
        self.session_seconds = int(settings.session_hours * 3600)

    # -- bearer tokens -------------------------------------------------------------------------------
    def by_bearer(self, presented: str, *, address: str | None) -> Principal | None:
        """The principal a bearer token stands for (None: no such live token, or a disabled user)."""
        if presented.startswith(TOKEN_PREFIX):
            return principal.by_token(presented, address=address)
        if secrets.compare_digest(presented.encode("utf-8", "surrogatepass"), self._legacy):
            return principal.first_admin(self.admin_user, address=address)
        return None

    def is_scrape_token(self, presented: str | None) -> bool:
        return bool(self._metrics and presented) and secrets.compare_digest(
            (presented or "").encode("utf-8", "surrogatepass"), self._metrics or b""
        )

    # -- session cookies -----------------------------------------------------------------------------
    def session_cookie(self, session_id: str) -> str:
        return self._cookies.dumps(session_id)

    def session_id(self, cookie: str | None) -> str | None:
        """The session id a cookie carries, when its signature holds and it is not older than a session."""
        if not cookie:
            return None
        try:
            value = self._cookies.loads(cookie, max_age=self.session_seconds)
        except BadSignature:  # also SignatureExpired
            return None
        return value if isinstance(value, str) else None

    # -- CSRF ----------------------------------------------------------------------------------------
    def csrf_token(self, bound_to: str) -> str:
        """The form token for a session id (or a sign-in nonce): an HMAC only this server can make."""
        return hmac.new(self._key, f"docflow-csrf:{bound_to}".encode(), hashlib.sha256).hexdigest()

    def csrf_valid(self, bound_to: str, presented: str | None) -> bool:
        return bool(presented) and secrets.compare_digest(
            self.csrf_token(bound_to).encode(), (presented or "").encode()
        )
