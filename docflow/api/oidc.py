"""Optional sign-in through an OpenID Connect provider (authlib's Starlette client).

Configured by ``DOCFLOW_OIDC_ISSUER`` (its discovery document is read from
``<issuer>/.well-known/openid-configuration``), ``DOCFLOW_OIDC_CLIENT_ID`` and
``DOCFLOW_OIDC_CLIENT_SECRET``; the provider must allow ``<api>/ui/login/oidc/callback`` as a
redirect URI. The flow is the authorization-code flow with PKCE, a ``state`` and a ``nonce`` kept
in a short-lived signed cookie (Starlette's session middleware, only on the sign-in paths); the ID
token is verified against the provider's keys. The claim ``DOCFLOW_OIDC_USER_CLAIM`` names the
local user, who must exist and be enabled: the provider proves who someone is, their grants stay here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from docflow.core.secrets import session_key
from docflow.core.settings import Settings

STATE_COOKIE = "docflow_oidc"
STATE_SECONDS = 600


def install(app: FastAPI, settings: Settings) -> None:
    """Register the provider on ``app.state.oidc`` when one is configured (else leave it None)."""
    app.state.oidc = None
    if not settings.oidc_issuer:
        return
    if not settings.oidc_client_id:
        raise RuntimeError("DOCFLOW_OIDC_ISSUER is set without DOCFLOW_OIDC_CLIENT_ID")
    from authlib.integrations.starlette_client import OAuth  # only when configured: it loads httpx's client

    oauth = OAuth()
    app.state.oidc = oauth.register(
        "docflow",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None,
        server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"},
    )
    key = session_key(settings)
    assert key is not None  # created when missing
    app.add_middleware(
        SessionMiddleware,
        secret_key=key.get_secret_value() + ":oidc",
        session_cookie=STATE_COOKIE,
        max_age=STATE_SECONDS,
        same_site="lax",  # the provider sends the browser back from another site
        path="/ui/login",
    )


def claimed_name(token: dict[str, Any], claim: str) -> str | None:
    """The local user name the verified ID token's claims carry (None: the claim is missing)."""
    value = (token.get("userinfo") or {}).get(claim)
    return value if isinstance(value, str) and value else None
