"""Signing in with a name and a password: throttled, audited, the same time whether or not the name exists.

Failed sign-ins are audit events, and the throttle counts them: past ``signin_failures_per_user``
failures for one user, or ``signin_failures_per_address`` from one address, within
``signin_window_s``, every further attempt is refused — right password or not — until the oldest
failure leaves the window. A name that is no user is recorded without the name (someone may have
typed their password into the name field).
"""

from __future__ import annotations

from dataclasses import dataclass

from docflow.core.db import fetch_all
from docflow.core.settings import Settings
from docflow.ops.access.passwords import verify_password
from docflow.ops.audit import Actor, recent_sign_in_failures, record

_USER_SQL = "SELECT id, name, password_hash, disabled_at IS NOT NULL FROM users WHERE name = %(name)s"


@dataclass(frozen=True)
class SignIn:
    user_id: int | None  # set when the sign-in succeeded
    refusal: str | None = None  # why not, in words a person can be shown
    throttled: bool = False


def sign_in(name: str, password: str, *, address: str | None, settings: Settings) -> SignIn:
    rows = fetch_all(_USER_SQL, {"name": name[:64]})
    user_id, known_name, stored_hash, disabled = rows[0] if rows else (None, None, None, False)
    actor = Actor(f"user:{known_name}" if known_name else "anonymous", address, user_id)
    by_user, by_address = recent_sign_in_failures(user_id=user_id, address=address, window_s=settings.signin_window_s)
    if (user_id is not None and by_user >= settings.signin_failures_per_user) or (
        by_address >= settings.signin_failures_per_address
    ):
        record(actor, "sign-in", outcome="refused", target=known_name, detail={"reason": "throttled"})
        minutes = max(settings.signin_window_s // 60, 1)
        return SignIn(None, f"Too many failed sign-ins: try again in up to {minutes} minutes.", throttled=True)
    matches = verify_password(stored_hash, password)  # hashed even for an unknown name: same timing
    if not matches or disabled or user_id is None:
        reason = "disabled" if matches and disabled else "wrong name or password"
        record(actor, "sign-in", outcome="failed", target=known_name, detail={"reason": reason, "method": "password"})
        return SignIn(None, "That name and password do not match an enabled user.")
    record(actor, "sign-in", target=known_name, detail={"method": "password"})
    return SignIn(int(user_id))
