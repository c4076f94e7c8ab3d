"""The breakers' half-open probe of each store: connect and one round trip, within the probe timeout.

Each probe uses a connection of its own (never a pooled one a stalled store may still hold) and
raises when the store refuses or does not answer in time.
"""

from __future__ import annotations

from docflow.core import db, graph_driver
from docflow.core.breaker import Store
from docflow.core.settings import Settings
from docflow.core.storage import ObjectStorage


def probe_store(settings: Settings, store: Store) -> None:
    timeout = settings.breaker_probe_timeout_s
    if store is Store.POSTGRES:
        db.probe(settings, timeout_s=timeout)
    elif store is Store.OBJECT_STORE:
        # urllib3 tries a request twice (ObjectStorage's retry policy): half the timeout each.
        ObjectStorage(settings, timeout_s=timeout / 2).probe()
    else:
        graph_driver.probe(settings, timeout_s=timeout)
