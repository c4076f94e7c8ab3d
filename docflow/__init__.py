"""docflow: a document pipeline operators can trust.

Subpackages, by layer (dependencies point down only; ``lint-imports`` checks it):

* :mod:`docflow.cli` — the ``docflow`` command (entry point).
* :mod:`docflow.api` — the HTTP API and its web pages (entry point).
* :mod:`docflow.ops` — operations: submit, intake, watch, reconcile, monitor, metrics, verify, and
  the lifecycle after processing (reprocess, delete, search, explore, export).
* :mod:`docflow.services` — the local services and Celery worker processes docflow runs.
* :mod:`docflow.core` — settings, the status machine, tables and data functions, database,
  storage, graph, file types and names, entity names, secrets, the broker, migrations.

:mod:`docflow.samples` generates the main job's sample documents. The worker side lives in the
top-level ``tasks`` package, the Prefect flows and deployments in ``flows`` and ``deployments``;
README "Layout" maps every folder.
"""

__version__ = "0.1.0"
