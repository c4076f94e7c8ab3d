"""The core: what every other layer stands on, and which knows nothing of them.

Settings, the status machine (stages, statuses, task names), the SQLModel tables and their data
functions, the database, object storage, the graph store, file-type detection, file names, and the
broker (Celery configuration, the app, publishing by task name). No Prefect, no worker code: the
layers above — operations, services, the worker side, entry points — import from here, never the
other way round (checked by ``lint-imports``).
"""
