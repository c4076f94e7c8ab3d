"""The two kinds of failure docflow knows, classified once at the edge.

A stage either retries (the world was briefly unavailable) or fails the document for good
(the input itself is bad). Everything downstream only asks which of the two it got.
"""

from __future__ import annotations


class DocflowError(Exception):
    """Base for errors docflow raises on purpose."""


class PermanentError(DocflowError):
    """Bad input or an impossible request: retrying cannot help.

    The message is shown to operators as the document's ``error_message``, so it must say
    plainly what is wrong with the input (never a secret, never a stack trace).
    """


class TransientError(DocflowError):
    """A dependency was unavailable or slow; the same work may succeed later."""


class StoreUnavailable(TransientError):
    """A store (``"postgres"``, ``"s3"``, ``"neo4j"``) refused, failed or did not answer.

    ``unresponsive`` is set when a deadline passed with no answer at all (not a refusal, not an
    error reply): the store is stalled, and its breaker opens at once (:mod:`docflow.core.breaker`).
    """

    def __init__(self, message: str, *, store: str, unresponsive: bool = False):
        super().__init__(message)
        self.store, self.unresponsive = store, unresponsive


class IllegalTransition(DocflowError):
    """A status change the status machine does not allow."""
