"""What tests share, imported by test modules (never a conftest or another test module):

- ``stack`` — the suite's own stack: ports (usual + ``DOCFLOW_TEST_PORT_BASE``), data folder, environment;
- ``ports`` — a free loopback port; ``servers`` — the API's uvicorn and `docflow metrics` as processes;
- ``pipeline`` — submit documents and wait for statuses (deadlines on conditions);
- ``intake`` — intake folders: settled files, or samples mixed with every kind of trouble;
- ``chaos`` — the chaos scenarios' worker control and their closing step; ``chaos_results`` — the
  results table (a pytest plugin, registered by the root conftest);
- ``invariants`` — what every chaos scenario is held to (nothing lost, nothing duplicated, equal to a
  clean run); ``proxy`` — a TCP proxy that can go silent; ``small_disk`` — a data folder on a small tmpfs;
- ``queues`` — a test-only stage queue; ``operator_stack`` — the operator's stack and its fingerprint;
- ``web`` — the browser tests' token.

Documents the tests build are in :mod:`tests.fixtures`.
"""
