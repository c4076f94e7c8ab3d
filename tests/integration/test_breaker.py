"""The stores' circuit breakers against the real Redis (a database of their own), and each store's probe."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import redis
from pydantic import SecretStr

from docflow.core.breaker import CLOSED, HALF_OPEN, OPEN, Breakers, Store, read_breakers
from docflow.core.errors import StoreUnavailable
from docflow.core.store_probes import probe_store

pytestmark = [pytest.mark.services]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Probe:
    def __init__(self) -> None:
        self.calls: list[Store] = []
        self.fails = False

    def __call__(self, store: Store) -> None:
        self.calls.append(store)
        if self.fails:
            raise StoreUnavailable("still frozen", store=store.value, unresponsive=True)


@pytest.fixture
def client(stack):
    """A Redis database no worker of the suite reads breakers from."""
    parts = urlsplit(stack.broker_url)
    own = redis.Redis.from_url(parts._replace(path="/9").geturl())
    own.flushdb()
    yield own
    own.flushdb()


def fleet(client, stack, n: int = 2) -> tuple[list[Breakers], Clock, Probe]:
    """``n`` worker processes' views of the same breakers (no caching: each call reads Redis)."""
    clock, probe = Clock(), Probe()
    settings = stack.model_copy(update={"breaker_cache_s": 0.0})
    return [Breakers(client, settings, probe=probe, clock=clock) for _ in range(n)], clock, probe


def test_a_breaker_opens_after_failures_in_a_row_and_a_success_forgets_them(client, stack):
    (a, b), _clock, _probe = fleet(client, stack)
    threshold = stack.breaker_failure_threshold
    # GIVEN failures one short of the threshold, from two processes, then a success
    for n in range(threshold - 1):
        assert not (a if n % 2 else b).record_failure(Store.NEO4J, reason="refused").is_open
    a.blocking([Store.NEO4J])  # the process reads the count it will reset
    a.record_success([Store.NEO4J])
    # WHEN the same number fail again THEN it is still closed: they were not in a row
    for _ in range(threshold - 1):
        assert not b.record_failure(Store.NEO4J, reason="refused").is_open
    # AND one more opens it, for every process, saying since when and why
    state = a.record_failure(Store.NEO4J, reason="neo4j unavailable during graph write")
    assert state.is_open and state.state == OPEN
    (seen,) = b.blocking([Store.NEO4J, Store.POSTGRES])
    assert seen.store is Store.NEO4J and seen.since and "graph write" in seen.reason
    assert read_breakers(client)[Store.POSTGRES].state == CLOSED


def test_a_store_that_does_not_answer_opens_its_breaker_at_once(client, stack):
    (a, _b), _clock, _probe = fleet(client, stack)
    state = a.record_failure(Store.POSTGRES, reason="no answer within 70s", unresponsive=True)
    assert state.is_open and a.blocking([Store.POSTGRES])


def test_one_process_of_the_fleet_probes_and_a_good_probe_closes_the_breaker(client, stack):
    (a, b), clock, probe = fleet(client, stack)
    a.record_failure(Store.NEO4J, reason="frozen", unresponsive=True)
    # GIVEN the open wait not yet over THEN nobody probes
    assert a.blocking([Store.NEO4J]) and b.blocking([Store.NEO4J]) and probe.calls == []
    # WHEN it is over and both processes want the store while the store still does not answer
    clock.now += stack.breaker_open_s
    probe.fails = True
    assert a.blocking([Store.NEO4J]) and b.blocking([Store.NEO4J])
    # THEN it was probed once, and stays open with a longer wait
    assert probe.calls == [Store.NEO4J]
    reopened = read_breakers(client)[Store.NEO4J]
    assert reopened.state == OPEN and reopened.retry_at == clock.now + 2 * stack.breaker_open_s
    # WHEN the next probe answers THEN the breaker closes for everyone
    clock.now = reopened.retry_at
    probe.fails = False
    assert a.blocking([Store.NEO4J]) == [] and b.blocking([Store.NEO4J]) == []
    assert read_breakers(client)[Store.NEO4J].state == CLOSED and len(probe.calls) == 2


def test_a_probe_whose_process_died_is_taken_over(client, stack):
    (a, b), clock, probe = fleet(client, stack)
    a.record_failure(Store.OBJECT_STORE, reason="frozen", unresponsive=True)
    clock.now += stack.breaker_open_s
    # GIVEN a process that claimed the probe and died (the claim is what it left)
    a._claim_probe(keys=["docflow:breaker:s3"], args=[clock.now, clock.now + 5])
    assert read_breakers(client)[Store.OBJECT_STORE].state == HALF_OPEN
    assert b.blocking([Store.OBJECT_STORE]) and probe.calls == []
    # WHEN the claim is older than twice the probe's timeout THEN another process probes
    clock.now += 5
    assert b.blocking([Store.OBJECT_STORE]) == [] and probe.calls == [Store.OBJECT_STORE]


def test_breakers_count_as_closed_when_redis_cannot_be_read(stack):
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    breakers = Breakers(dead, stack, probe=Probe())
    assert breakers.blocking(list(Store)) == []
    assert not breakers.record_failure(Store.NEO4J, reason="x", unresponsive=True).is_open


@pytest.mark.parametrize("store", list(Store))
def test_each_store_answers_its_probe_and_a_store_that_is_not_there_fails_it(stack, store):
    probe_store(stack, store)
    nowhere = stack.model_copy(
        update={
            "db_port": 1,
            "s3_endpoint": "127.0.0.1:1",
            "neo4j_uri": "bolt://127.0.0.1:1",
            "breaker_probe_timeout_s": 1,
        }
    )
    with pytest.raises(Exception) as failed:
        probe_store(nowhere, store)
    assert store is Store.POSTGRES or isinstance(failed.value, StoreUnavailable)


def test_an_open_breaker_is_said_by_the_monitor_verify_health_and_the_metrics(client, stack):
    from prometheus_client import generate_latest

    from docflow.ops.metrics import registry_for
    from docflow.ops.monitor import health, snapshot
    from docflow.ops.verify import check_breakers

    # GIVEN settings reading the breakers from the test's own Redis database, and Neo4j's breaker open
    settings = stack.model_copy(update={"redis_url": SecretStr(_on_db(stack.broker_url, 9))})
    (a, _b), _clock, _probe = fleet(client, stack)
    a.record_failure(Store.NEO4J, reason="neo4j unavailable during graph write: ServiceUnavailable", unresponsive=True)
    # THEN the monitor names the store, since when, and the stage that waits
    current = snapshot(settings, include_workers=False)
    assert set(current.breakers) == {"neo4j"} and current.breakers["neo4j"]["waiting"] == "the graph stage waits"
    assert "**neo4j** breaker open since" in current.markdown()
    # AND health is not, with the reason; verify's line is red; the metrics say which store, since when
    healthy, reasons = health(settings, inspect_timeout_s=0.5)
    assert not healthy and any(r.startswith("breaker neo4j: open since") for r in reasons)
    check = check_breakers(settings)
    assert not check.ok and "neo4j: open since" in check.detail and "graph stage waits" in check.detail
    text = generate_latest(registry_for(settings)).decode()
    assert 'docflow_breaker_open{store="neo4j"} 1.0' in text and 'docflow_breaker_open{store="postgres"} 0.0' in text
    assert 'docflow_breaker_opened_timestamp_seconds{store="neo4j"}' in text
    # WHEN PostgreSQL's opens too THEN every stage is said to wait
    a.record_failure(Store.POSTGRES, reason="no answer", unresponsive=True)
    assert snapshot(settings, include_workers=False).breakers["postgres"]["waiting"] == "every stage waits"


def _on_db(url: str, db: int) -> str:
    return urlsplit(url)._replace(path=f"/{db}").geturl()
