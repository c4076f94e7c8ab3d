"""Webhook signatures and retry waits: what a receiver checks, and how long a failed delivery waits."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from docflow.core.webhooks import signature
from docflow.ops.webhooks import backoff_s

pytestmark = pytest.mark.unit


def test_the_signature_is_the_hmac_sha256_of_the_raw_body():
    # GIVEN a secret and a body WHEN signed THEN a receiver computing HMAC-SHA256 gets the same value
    body = b'{"event": "graph_complete"}'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert signature("s3cret", body) == f"sha256={expected}"
    # AND one changed byte or another secret gives another signature
    assert signature("s3cret", body + b" ") != signature("s3cret", body)
    assert signature("other", body) != signature("s3cret", body)


@pytest.mark.parametrize(("attempts", "nominal"), [(1, 5.0), (2, 10.0), (3, 20.0), (5, 80.0), (12, 600.0)])
def test_failed_deliveries_wait_longer_each_time_with_jitter_and_a_cap(attempts, nominal):
    # GIVEN the n-th failed attempt WHEN its wait is drawn many times THEN it stays within ±50% of
    # the doubled base, capped, and varies (receivers coming back are not hit all at once)
    waits = {backoff_s(attempts, base_s=5.0) for _ in range(200)}
    assert all(nominal * 0.5 <= wait <= nominal * 1.5 for wait in waits)
    assert len(waits) > 100
