"""The suite never touches what an operator processed on the same machine: their documents,
graph, stored originals, queued messages, deployments and running services are the same after a
full run as before it (tests/conftest.py takes the fingerprint before the first test; this test
runs after the last, chaos scenarios included)."""

from __future__ import annotations

import pytest

from tests.support.operator_stack import differences, fingerprint

pytestmark = [pytest.mark.services, pytest.mark.slow]


def test_the_suite_left_the_operator_stack_as_it_found_it(operator_stack):
    settings, before, made_here = operator_stack
    # GIVEN the operator's stack as it was before the first test: documents processed, deployments registered
    unreadable = {part: value for part, value in before.items() if isinstance(value, str)}
    if unreadable and not made_here:
        # Something listens on the usual ports that this environment's settings cannot read (another
        # product's PostgreSQL, or a stack configured elsewhere): nothing to compare against.
        pytest.skip(f"the stack on the usual ports is not readable with this environment's settings: {unreadable}")
    assert not unreadable, before
    assert before["postgres"]["source_documents"][0] > 0, before["postgres"]
    assert before["neo4j"]["nodes"][0] > 0 and before["s3"]["objects"][0] > 0
    assert before["prefect"]["deployments"], "the operator's deployments are registered"
    # WHEN every other test of the session has run (this one runs last) THEN nothing of it changed, byte for byte
    after = fingerprint(settings)
    assert differences(before, after) == []
