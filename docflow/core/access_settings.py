"""The settings of who may sign in and how, declared here and part of the one
:class:`~docflow.core.settings.Settings` object (``DOCFLOW_`` prefix, like every other)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class AccessSettings(BaseModel):
    # The first admin, created by `docflow up` (and the API) on an installation without users, with a
    # generated password in <data_dir>/secrets/admin-password; the legacy single API token
    # (DOCFLOW_API_TOKEN, <data_dir>/secrets/api-token) is this user's token.
    admin_user: str = Field("admin", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="A web session ends this long after sign-in.")
    session_secret: SecretStr | None = Field(
        None, description="Signs session cookies; generated into <data_dir>/secrets/session-key when unset."
    )
    token_days: int = Field(90, ge=1, le=3650, description="Default lifetime of a personal API token.")
    # Sign-in throttling: after this many failed sign-ins for one user (or from one address) within
    # the window, further attempts are refused until the oldest failure leaves the window.
    signin_failures_per_user: int = Field(5, ge=1)
    signin_failures_per_address: int = Field(20, ge=1)
    signin_window_s: int = Field(900, ge=10)
    # Prometheus may scrape /metrics with this bearer token instead of an admin's.
    metrics_token: SecretStr | None = Field(None, description="Bearer token that may read /metrics (only that).")
    # OpenID Connect sign-in, optional: the provider's issuer URL (its discovery document is read at
    # <issuer>/.well-known/openid-configuration), this installation's client, and the claim that
    # names a local user (who must exist and be enabled: OIDC proves who someone is, grants stay local).
    oidc_issuer: str | None = Field(None, description="OIDC provider's issuer URL (unset: no OIDC sign-in).")
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_user_claim: str = Field("preferred_username", description="The ID-token claim holding the user's name.")
    oidc_label: str = Field("Sign in with single sign-on", max_length=100)
