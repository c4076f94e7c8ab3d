"""Service URLs as the settings hand them out: a password added to a Redis URL, TLS switched on by
scheme, a password hidden for output."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from pydantic import SecretStr


def with_password(url: str, password: SecretStr | None) -> str:
    """``url`` with ``password`` in its user part, unless it has one already (or there is none)."""
    parts = urlsplit(url)
    if password is None or parts.password is not None or not parts.hostname:
        return url
    netloc = f":{quote(password.get_secret_value(), safe='')}@{parts.netloc.rpartition('@')[2]}"
    return parts._replace(netloc=netloc).geturl()


def with_tls(url: str, *, tls: bool) -> str:
    """``url`` on ``rediss://`` when TLS is on (the TLS arguments travel separately)."""
    if tls and url.startswith("redis://"):
        return "rediss://" + url.removeprefix("redis://")
    return url


def hide_password(url: str) -> str:
    """``url`` with its password shown as ``***`` (for output)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
