"""Passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's low-memory profile), never kept
or logged in clear; a password must be long enough to be worth hashing."""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 1024
_HASHER = PasswordHasher()


@cache
def _decoy() -> str:
    """Verified against when the name is unknown, so a sign-in takes as long whether or not the user exists."""
    return _HASHER.hash(secrets.token_urlsafe(16))


class PasswordError(ValueError):
    """A password that is not accepted; the message says why (never what it was)."""


def check_rules(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"a password has at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    check_rules(password)
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; an account without a password (OIDC only) matches nothing."""
    try:
        return _HASHER.verify(stored_hash or _decoy(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(18)
