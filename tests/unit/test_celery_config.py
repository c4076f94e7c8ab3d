"""Cross-setting invariants of the Celery configuration (DESIGN.md, reliability rule 3)."""

import pytest

from docflow.core.broker import celery_config
from docflow.core.settings import Settings
from docflow.core.status import TASK_NAMES, Stage

pytestmark = pytest.mark.unit


@pytest.fixture
def config():
    return celery_config(Settings(_env_file=None))


def test_visibility_timeout_exceeds_every_hard_limit_everywhere(config):
    # GIVEN the default settings WHEN the Celery config is built
    settings = Settings(_env_file=None)
    longest = max(settings.time_limits(stage)[1] for stage in Stage)
    # THEN the broker and the result backend use the same visibility timeout, above every hard limit
    assert config["broker_transport_options"]["visibility_timeout"] > longest
    assert (
        config["result_backend_transport_options"]["visibility_timeout"]
        == config["broker_transport_options"]["visibility_timeout"]
    )


def test_late_acks_come_with_requeue_on_worker_loss_and_a_poison_guard(config):
    assert config["task_acks_late"] is True
    assert config["task_reject_on_worker_lost"] is True
    # Requeue-on-loss without a bound would loop a poison message forever: the guard must be finite.
    assert 1 <= Settings(_env_file=None).max_deliveries <= 10


def test_reliability_settings(config):
    assert config["worker_prefetch_multiplier"] == 1
    assert config["result_expires"] == 3600
    assert config["task_serializer"] == config["result_serializer"] == "json"
    assert config["accept_content"] == ["json"]
    assert config["worker_max_tasks_per_child"] >= 1


def test_every_stage_has_a_stable_name_a_queue_and_a_route(config):
    queues = {queue.name for queue in config["task_queues"]}
    assert queues == {"ocr", "text", "entity", "graph"}
    assert {stage.value: name for stage, name in TASK_NAMES.items()} == {
        "ocr": "ocr.process_document",
        "text": "text.chunk_document",
        "entity": "entity.extract_entities",
        "graph": "graph.build_graph",
    }
    for stage, name in TASK_NAMES.items():
        assert config["task_routes"][name] == {"queue": stage.value}


def test_registered_tasks_carry_their_stage_time_limits():
    # GIVEN the worker's app with its stage tasks loaded (what `celery -A tasks.celery_app worker` does)
    import tasks.stages  # noqa: F401 - registers the tasks
    from docflow.core.settings import get_settings
    from tasks.celery_app import app

    settings = get_settings()
    # THEN every stage task carries its stage's soft and hard limits, and acks late

    for stage, name in TASK_NAMES.items():
        task = app.tasks[name]
        soft, hard = settings.time_limits(stage)
        assert (task.soft_time_limit, task.time_limit) == (soft, hard)
        assert task.acks_late is True


def test_producers_import_no_worker_code():
    # GIVEN a fresh interpreter WHEN the producer side (broker, submit, intake, reconcile, CLI) is imported
    import subprocess
    import sys

    code = (
        "import sys, docflow.core.broker, docflow.ops.submit, docflow.ops.intake, docflow.ops.reconcile, "
        "docflow.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tasks', 'flows', 'pypdfium2', 'docx', 'tesserocr', 'spacy', 'prefect')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # THEN neither the worker layer, nor Prefect, nor any extraction library was loaded
    assert loaded.strip() == "[]"
