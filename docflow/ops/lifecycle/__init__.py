"""After a document is processed: reprocess, delete, search, explore and export it.

Each operation is written once here and offered by the CLI (``docflow reprocess|delete|search|
entity|export``), the HTTP API and, where an operator would run it from the UI, a Prefect
deployment (``reprocess``). Documents are selected the same way everywhere (:mod:`.selection`).
"""
