"""A circuit breaker per store (PostgreSQL, the object store, Neo4j), shared by every worker process
and host through Redis.

Life of a breaker (one Redis hash, ``docflow:breaker:<store>``; no hash: closed)::

    closed ──(breaker_failure_threshold failures in a row, or one "no answer at all")──► open
    open ──(breaker_open_s later, one worker wins the probe)──► half_open
    half_open ──probe answers──► closed        half_open ──probe fails──► open (wait doubled, capped)

* **Failures in a row.** A failure is a store refusing, erroring or timing out (classified where the
  store is called: :class:`~docflow.core.errors.StoreUnavailable`, or the runner for PostgreSQL). A
  success of a process that has seen the counter above zero resets it; failures further apart than
  ``breaker_failure_window_s`` are not "in a row". A deadline passed with no reply at all (a frozen
  or black-holed store: Neo4j sends keep-alives during long work, PostgreSQL cancels its own slow
  statements first) opens the breaker at once: waiting for two more such timeouts would hold two
  more worker processes for the whole deadline.
* **Half-open probe.** Once the open period has passed, the first worker process that wants the
  store runs one short probe (connect and one round trip, ``breaker_probe_timeout_s``) under a
  Redis claim, so a fleet of workers probes once, not once each. A probe that dies with its process
  is taken over after twice its timeout.
* **Cheap when closed.** A worker process reads the three hashes in one round trip at most every
  ``breaker_cache_s``; a success costs nothing unless the counter was above zero.
* **Best effort.** Redis is the transport: when it cannot be read, breakers count as closed (the
  stages then fail and retry as they would without breakers); the rows stay the truth.

What each stage needs is :data:`STAGE_STORES`: when PostgreSQL's breaker is open every stage waits.
Hosts' clocks are compared (``retry_at``), so they are expected to agree (NTP).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import redis

from docflow.core.settings import Settings
from docflow.core.status import Stage

log = logging.getLogger(__name__)


class Store(StrEnum):
    POSTGRES = "postgres"
    OBJECT_STORE = "s3"
    NEO4J = "neo4j"


# What each stage's work reaches besides Redis (the transport): OCR reads the stored original, the
# graph stage writes Neo4j, and every stage reads and writes its rows.
STAGE_STORES: dict[Stage, tuple[Store, ...]] = {
    Stage.OCR: (Store.POSTGRES, Store.OBJECT_STORE),
    Stage.TEXT: (Store.POSTGRES,),
    Stage.ENTITY: (Store.POSTGRES,),
    Stage.GRAPH: (Store.POSTGRES, Store.NEO4J),
}

KEY_PREFIX = "docflow:breaker:"
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


def breaker_key(store: Store) -> str:
    return f"{KEY_PREFIX}{store.value}"


@dataclass(frozen=True)
class BreakerState:
    store: Store
    state: str  # closed | open | half_open
    failures: int = 0
    opened_at: float | None = None  # epoch seconds: open (or half-open) since
    retry_at: float | None = None  # when the next probe may run
    reason: str = ""

    @property
    def is_open(self) -> bool:
        """Open or probing: the stages that need the store wait."""
        return self.state != CLOSED

    @property
    def since(self) -> str | None:
        """When it opened, as an ISO timestamp (None while closed)."""
        if self.opened_at is None or not self.is_open:
            return None
        return datetime.fromtimestamp(self.opened_at, UTC).isoformat(timespec="seconds")

    def describe(self) -> str:
        """One line for operators: which store, since when, why."""
        if not self.is_open:
            return f"{self.store.value}: closed"
        probing = " (probing)" if self.state == HALF_OPEN else ""
        return f"{self.store.value}: open{probing} since {self.since}: {self.reason}"

    def waits(self) -> str:
        """Which stages wait for it, in words."""
        stages = waiting_stages(self.store)
        if len(stages) == len(Stage):
            return "every stage waits"
        return f"the {', '.join(stage.value for stage in stages)} stage waits"

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "since": self.since, "reason": self.reason, "waiting": self.waits()}

    @classmethod
    def from_hash(cls, store: Store, raw: dict[Any, Any]) -> BreakerState:
        fields = {_text(k): _text(v) for k, v in raw.items()}
        state = fields.get("state") or CLOSED
        return cls(
            store,
            state,
            int(fields.get("failures") or 0),
            _float(fields.get("opened_at")),
            _float(fields.get("retry_at")),
            fields.get("reason", ""),
        )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _float(value: str | None) -> float | None:
    return float(value) if value else None


def waiting_stages(store: Store) -> list[Stage]:
    """The stages that wait while ``store``'s breaker is open (every stage for PostgreSQL)."""
    return [stage for stage, stores in STAGE_STORES.items() if store in stores]


def read_breakers(client: redis.Redis) -> dict[Store, BreakerState]:
    """Every store's breaker, in one round trip (for the monitor, verify and the metrics)."""
    pipe = client.pipeline(transaction=False)
    for store in Store:
        pipe.hgetall(breaker_key(store))
    return {store: BreakerState.from_hash(store, raw) for store, raw in zip(Store, pipe.execute(), strict=True)}


# -- the state changes, each one atomic in Redis ------------------------------------------------------

# ARGV: now, threshold, open_s, reason, window_s, unresponsive (1/0). Returns the state after.
_FAIL = """
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'open' or state == 'half_open' then return state end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('HSET', KEYS[1], 'state', 'closed', 'reason', ARGV[4])
if failures >= tonumber(ARGV[2]) or ARGV[6] == '1' then
  redis.call('HSET', KEYS[1], 'state', 'open', 'opened_at', ARGV[1],
             'retry_at', tonumber(ARGV[1]) + tonumber(ARGV[3]), 'probes', 0)
  redis.call('PERSIST', KEYS[1])
  return 'open'
end
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[5])))
return 'closed'
"""
# A success while closed forgets the failures counted so far.
_SUCCEED = """
local state = redis.call('HGET', KEYS[1], 'state')
if state == false or state == 'closed' then redis.call('DEL', KEYS[1]) end
return 1
"""
# ARGV: now, probe_until. Returns 1 when this caller runs the probe.
_CLAIM_PROBE = """
local state = redis.call('HGET', KEYS[1], 'state')
local due = tonumber(redis.call('HGET', KEYS[1], 'retry_at') or '0')
if (state == 'open' or state == 'half_open') and tonumber(ARGV[1]) >= due then
  redis.call('HSET', KEYS[1], 'state', 'half_open', 'retry_at', ARGV[2])
  return 1
end
return 0
"""
# ARGV: now, open_s, open_max_s, reason. The wait doubles with every failed probe, up to the cap.
_PROBE_FAILED = """
if redis.call('HGET', KEYS[1], 'state') ~= 'half_open' then return 0 end
local probes = redis.call('HINCRBY', KEYS[1], 'probes', 1)
local wait = math.min(tonumber(ARGV[2]) * 2 ^ probes, tonumber(ARGV[3]))
redis.call('HSET', KEYS[1], 'state', 'open', 'retry_at', tonumber(ARGV[1]) + wait, 'reason', ARGV[4])
return 1
"""


class Breakers:
    """The breakers as one worker process uses them (see the module docstring for the rules).

    ``probe(store)`` connects to the store and does one round trip within the probe timeout; it
    raises when the store does not answer.
    """

    def __init__(
        self,
        client: redis.Redis,
        settings: Settings,
        *,
        probe: Callable[[Store], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client, self.settings, self.probe, self.clock = client, settings, probe, clock
        self._states: dict[Store, BreakerState] = {}
        self._read_at = float("-inf")
        self._fail = client.register_script(_FAIL)
        self._succeed = client.register_script(_SUCCEED)
        self._claim_probe = client.register_script(_CLAIM_PROBE)
        self._probe_failed = client.register_script(_PROBE_FAILED)

    def states(self) -> dict[Store, BreakerState]:
        """The breakers as last read (read again when older than ``breaker_cache_s``)."""
        now = time.monotonic()
        if now - self._read_at >= self.settings.breaker_cache_s:
            self._read_at = now
            try:
                self._states = read_breakers(self.client)
            except redis.RedisError as exc:
                log.debug("breakers not read (counted closed): %s", exc)
                self._states = {}
        return self._states

    def blocking(self, stores: Iterable[Store]) -> list[BreakerState]:
        """The open breakers among ``stores``; a breaker whose wait is over is probed first (by one
        process of the fleet), and closes when the store answers."""
        blocked = []
        for store in stores:
            state = self.states().get(store)
            if state is None or not state.is_open:
                continue
            if state.retry_at is not None and self.clock() >= state.retry_at:
                state = self._probe(state)
            if state.is_open:
                blocked.append(state)
        return blocked

    def record_failure(self, store: Store, *, reason: str, unresponsive: bool = False) -> BreakerState:
        """Count a failure of ``store``; returns its breaker as it is now (open when this opened it)."""
        settings = self.settings
        try:
            state = self._fail(
                keys=[breaker_key(store)],
                args=[
                    self.clock(),
                    settings.breaker_failure_threshold,
                    settings.breaker_open_s,
                    reason[:300],
                    settings.breaker_failure_window_s,
                    int(unresponsive),
                ],
            )
        except redis.RedisError as exc:
            log.debug("breaker failure not recorded: %s", exc)
            return BreakerState(store, CLOSED)
        self._read_at = float("-inf")  # read again: this process's decisions must see its own failure
        current = self.states().get(store) or BreakerState(store, _text(state))
        if current.is_open:
            log.warning("breaker %s", current.describe())
        return current

    def record_success(self, stores: Iterable[Store]) -> None:
        """The stores answered: forget failures counted so far (a Redis write only when there were any)."""
        for store in stores:
            state = self._states.get(store)
            if state is not None and state.state == CLOSED and state.failures:
                try:
                    self._succeed(keys=[breaker_key(store)])
                    self._states[store] = BreakerState(store, CLOSED)
                except redis.RedisError as exc:
                    log.debug("breaker success not recorded: %s", exc)

    def _probe(self, state: BreakerState) -> BreakerState:
        settings, store = self.settings, state.store
        now = self.clock()
        try:
            claimed = self._claim_probe(
                keys=[breaker_key(store)], args=[now, now + 2 * settings.breaker_probe_timeout_s + 1]
            )
        except redis.RedisError:
            return state
        if not claimed:
            return state  # another process probes (or just did): read again next time
        try:
            self.probe(store)
        except Exception as exc:  # noqa: BLE001 - any failure of the probe keeps the breaker open
            reason = f"probe failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            try:
                self._probe_failed(
                    keys=[breaker_key(store)],
                    args=[self.clock(), settings.breaker_open_s, settings.breaker_open_max_s, reason],
                )
            except redis.RedisError:
                pass
            self._read_at = float("-inf")
            return self.states().get(store) or state
        try:
            self.client.delete(breaker_key(store))
        except redis.RedisError:
            return state
        log.warning("breaker %s: closed (the store answered the probe)", store.value)
        closed = BreakerState(store, CLOSED)
        self._states[store] = closed
        return closed
