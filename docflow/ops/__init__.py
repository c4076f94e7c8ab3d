"""Operations: what an operator or a flow does with the pipeline, written once for every caller.

Submitting and re-driving documents (:mod:`.submit`), the intake sweep engine (:mod:`.intake`) and
:mod:`.watch`, reconciliation (:mod:`.reconcile`), the monitor and health check (:mod:`.monitor`),
Prometheus metrics (:mod:`.metrics`), verification (:mod:`.verify`), progress and summaries,
a project's vocabulary (:mod:`.vocabulary`), and the lifecycle after processing
(:mod:`.lifecycle`: selection, reprocess, delete, search, explore, reading, export). The CLI, the
Prefect flows and the HTTP API call these; none of them is called from the worker side, which
only shares the core with them.
"""
