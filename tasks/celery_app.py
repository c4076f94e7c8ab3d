"""The Celery app as workers run it: ``celery -A tasks.celery_app worker``.

The app and its configuration come from :mod:`docflow.core.broker` (every setting with its
reason), the same app producers publish through; this module adds what only a worker needs: the
stage tasks (imported when the worker starts, through ``include``) and the start-up hooks of
each pool child.
"""

from __future__ import annotations

import resource
from typing import Any

from celery.signals import worker_process_init

from docflow.core.broker import get_app
from docflow.core.db import reset_engine
from docflow.core.settings import get_settings
from tasks.work import configure_extraction

app = get_app()
app.conf.include = ["tasks.stages"]


@worker_process_init.connect
def _fresh_connections_after_fork(**_kwargs: Any) -> None:
    # A prefork child must not reuse the parent's database sockets.
    reset_engine()


@worker_process_init.connect
def _bound_child_memory(**_kwargs: Any) -> None:
    # Only the child is capped: the main process must survive to requeue the child's message.
    limit_mb = get_settings().worker_child_address_space_mb
    if limit_mb:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = limit_mb * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)  # never loosen a cap the operator already set
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@worker_process_init.connect
def _configure_extraction(**_kwargs: Any) -> None:
    # Once per child, before its first document: tesseract's data and language, and PIL's
    # process-wide pixel guard aligned with the settings (the OCR module keeps tesseract to one
    # thread per process when it loads it: the pool scales by processes).
    configure_extraction(get_settings())
