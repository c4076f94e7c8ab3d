"""What the Redis broker holds, read directly (pipelined, no per-message round trips).

Kombu's Redis transport keeps a queue's waiting messages in a list named after the queue, plus
one sibling list per priority step (``<queue>\\x06\\x16<priority>``) that ``LLEN <queue>``
misses; delivered-but-unacknowledged messages sit in the ``unacked`` hash.
"""

from __future__ import annotations

import redis

from docflow.settings import Settings

PRIORITY_SEP = "\x06\x16"
PRIORITY_STEPS = (0, 3, 6, 9)  # kombu's default priority_steps
UNACKED_HASH = "unacked"
UNACKED_INDEX = "unacked_index"


def queue_keys(queue: str) -> list[str]:
    """Every Redis list that can hold waiting messages of ``queue``."""
    return [queue if step == 0 else f"{queue}{PRIORITY_SEP}{step}" for step in PRIORITY_STEPS]


def redis_client(settings: Settings) -> redis.Redis:
    return redis.Redis.from_url(
        settings.broker_url,
        socket_timeout=settings.redis_socket_timeout_s,
        socket_connect_timeout=min(settings.redis_socket_timeout_s, 5.0),
    )


def queue_lengths(client: redis.Redis, queues: list[str]) -> dict[str, int]:
    """Waiting messages per queue, priority siblings included, in one round trip."""
    pipe = client.pipeline(transaction=False)
    for queue in queues:
        for key in queue_keys(queue):
            pipe.llen(key)
    counts = iter(pipe.execute())
    return {queue: sum(next(counts) for _ in PRIORITY_STEPS) for queue in queues}


def unacked_count(client: redis.Redis) -> int:
    return int(client.hlen(UNACKED_HASH))
