"""The deployments are declared once (prefect.yaml): what `docflow serve` serves is what a work pool
registers, so the two paths cannot drift."""

from __future__ import annotations

import pytest

from deployments.declared import declared_deployments
from deployments.serve import build_deployments

pytestmark = pytest.mark.unit


def test_served_deployments_are_the_ones_prefect_yaml_declares(settings):
    # GIVEN the bundled prefect.yaml WHEN `docflow serve` builds its deployments with default settings
    declared = {d.name: d for d in declared_deployments()}
    served = {d.name: d for d in build_deployments(settings.model_copy(update={"intake_interval_s": None}))}
    # THEN each has the same entrypoint, description, tags and schedule
    assert set(served) == set(declared) == {"intake-sweep", "reconcile", "pipeline-monitor", "reprocess"}
    for name, deployment in served.items():
        assert deployment.entrypoint == declared[name].entrypoint
        assert deployment.description == declared[name].description
        assert tuple(deployment.tags) == declared[name].tags
        intervals = [s.schedule.interval.total_seconds() for s in deployment.schedules or []]
        assert intervals == ([declared[name].interval_s] if declared[name].interval_s else []), name


def test_a_schedule_set_in_the_settings_changes_only_the_served_deployment(settings):
    served = {d.name: d for d in build_deployments(settings.model_copy(update={"reconcile_interval_s": 90}))}
    assert [s.schedule.interval.total_seconds() for s in served["reconcile"].schedules] == [90]
    assert {d.name: d.interval_s for d in declared_deployments()}["reconcile"] == 600
