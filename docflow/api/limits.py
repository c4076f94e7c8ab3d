"""Limits per caller: how many requests a minute, and how many bytes of uploads a day.

One client must not flood the server for the others. Counts live in Redis (the broker's), one
key per caller and window (``INCR`` then ``EXPIRE``: fixed windows, so every API process counts
together); past a limit the answer is 429 with ``Retry-After``, the seconds until the window ends.
A caller is told apart by the credential it presents, hashed (never stored). When Redis does not
answer, requests pass: the limits protect the service, they are not what makes it correct, and
refusing everyone because a counter is down would be the outage they are there to prevent.
"""

from __future__ import annotations

import hashlib
import logging
import time

import redis
from fastapi import HTTPException, Request, status

from docflow.core.broker import redis_client
from docflow.core.settings import Settings

log = logging.getLogger(__name__)

_PREFIX = "docflow:limits"
DAY_S = 86_400


def caller_key(request: Request) -> str:
    """Who is calling, as a short hash of the credential presented (bearer token or session)."""
    credential = request.headers.get("authorization") or "".join(
        f"{name}={value}" for name, value in sorted(request.cookies.items())
    )
    return hashlib.sha256(credential.encode()).hexdigest()[:24]


class Limits:
    """The app's limits (``app.state.limits``), over one Redis client made when first needed."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: redis.Redis | None = None

    def _redis(self) -> redis.Redis:
        if self._client is None:
            self._client = redis_client(self._settings)
        return self._client

    def _count(self, key: str, amount: int, window_s: int) -> int | None:
        try:
            pipe = self._redis().pipeline()
            pipe.incrby(key, amount)
            pipe.expire(key, window_s + 5)
            count, _ = pipe.execute()
            return int(count)
        except redis.RedisError as exc:
            log.warning("limits not counted (Redis: %s): the request passes", type(exc).__name__)
            return None

    def _peek(self, key: str) -> int:
        try:
            value = self._redis().get(key)
        except redis.RedisError:
            return 0
        return int(value) if value else 0

    def check_rate(self, request: Request) -> None:
        """Count this request; 429 past ``api_requests_per_minute`` in this minute."""
        limit = self._settings.api_requests_per_minute
        if not limit:
            return
        now = time.time()
        window = int(now // 60)
        count = self._count(f"{_PREFIX}:rate:{caller_key(request)}:{window}", 1, 60)
        if count is not None and count > limit:
            raise _too_many(f"over {limit} requests a minute", retry_after=(window + 1) * 60 - now)

    def check_upload(self, request: Request, *, declared_bytes: int) -> None:
        """429 when ``declared_bytes`` more would pass today's ``api_upload_bytes_per_day``."""
        quota = self._settings.api_upload_bytes_per_day
        if not quota:
            return
        now = time.time()
        used = self._peek(self._upload_key(request, now))
        if used + declared_bytes > quota:
            raise _too_many(
                f"upload quota reached: {used:,} of {quota:,} bytes used today", retry_after=_day_end(now) - now
            )

    def count_upload(self, request: Request, *, size_bytes: int) -> None:
        """Add an accepted upload's size to today's volume."""
        if self._settings.api_upload_bytes_per_day:
            self._count(self._upload_key(request, time.time()), size_bytes, DAY_S)

    @staticmethod
    def _upload_key(request: Request, now: float) -> str:
        return f"{_PREFIX}:upload:{caller_key(request)}:{int(now // DAY_S)}"


def _day_end(now: float) -> float:
    return (int(now // DAY_S) + 1) * DAY_S


def _too_many(reason: str, *, retry_after: float) -> HTTPException:
    seconds = max(1, int(retry_after + 0.999))
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS, f"{reason}; try again in {seconds} s", headers={"Retry-After": str(seconds)}
    )
