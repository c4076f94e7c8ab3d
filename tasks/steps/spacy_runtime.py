"""How spaCy's neural networks compute in a worker process: with numpy's BLAS, one thread.

thinc (spaCy's network library) multiplies matrices with BLIS by default. On this machine kind
numpy's OpenBLAS multiplies the recognizer's and the parser's matrices faster: en_core_web_md reads
a ~200-word text in 15.5 ms instead of 22 (bench/README.md, "NER on numpy's BLAS, one NER pass per
batch"). The pipeline scales by processes, one per core, so BLAS gets one thread: two OpenBLAS
threads in each of two processes on two cores would only take turns.
"""

from __future__ import annotations

import functools

__all__ = ["use_worker_ops"]


def use_worker_ops() -> None:
    """Make models loaded from now on in this thread compute with numpy's BLAS, on one thread.

    Call before ``spacy.load``: a model keeps the operations that were current (in its thread) when
    it was built. Results equal BLIS's up to float rounding (measured on CoNLL-2003 and the bench
    corpus: the same entities).
    """
    from thinc.api import NumpyOps, set_current_ops

    _one_blas_thread()
    set_current_ops(NumpyOps(use_blis=False))


@functools.cache
def _one_blas_thread() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")  # for the whole process, once
