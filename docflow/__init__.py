"""docflow: a document pipeline operators can trust.

The shared kernel: settings, database, status machine, object storage, graph store and CLI,
imported by both the Prefect flows and the Celery tasks.
"""

__version__ = "0.1.0"
