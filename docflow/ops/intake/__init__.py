"""Intake: find new files in a folder or an S3 prefix and hand them to the pipeline in batches.

Guarantees of a sweep:

* **Every file is accounted for** as ``new``, ``duplicate``, ``skipped`` or ``rejected`` with a
  reason — nothing is dropped silently.
* **Half-written files are never read.** A file is taken only once its mtime is older than the
  stable delay (its size and mtime stayed unchanged that long); it is stat-ed again after hashing
  and skipped if it changed meanwhile. Skipped files are looked at again by the next sweep.
* **Re-sweeps are no-ops.** Files are not moved: the ``intake_files`` ledger records what was
  done with each (source, relative path, size, mtime); an unchanged file is not even re-hashed, and
  an unchanged S3 object is not downloaded. This also works for read-only folders and S3
  prefixes, and loses nothing if the sweep dies.
* **The intake root is a fence.** Symlinks pointing outside the root, devices and FIFOs are
  rejected; nothing outside the root is ever opened. Every read (hashing, upload) opens the
  file without following a symlink and checks where the open descriptor really is, so a file
  swapped for a link after discovery is refused too; the uploaded bytes are re-hashed against
  the content key. Object keys come from the content hash, never from a filename.
* **Names are kept exactly, shown safely.** The ledger keys a file by its exact relative path
  (so NFC/NFD twins and long paths differing in the middle stay distinct files); reports and
  stored document names use :func:`docflow.core.names.display_name`.
* **Batched.** Per batch: one ledger query, one dedupe query, parallel downloads and uploads, one
  multi-row insert, one status update and one broker connection for all publishes.
* **Backpressure.** No new batch is enqueued while the stage queues already hold more than the
  limit; the remaining files are left (``skipped: backpressure``) for a later sweep.

The modules, in the order a sweep uses them: :mod:`.discovery` (list and screen), :mod:`.batch`
(one batch, with :mod:`.fence` for every read and :mod:`.ledger` for the database), :mod:`.engine`
(the loop), :mod:`.outcomes` (the data and the report).
"""

from docflow.ops.intake.batch import process_batch
from docflow.ops.intake.discovery import discover, discover_local, discover_s3, parse_s3_source
from docflow.ops.intake.engine import batched, sweep
from docflow.ops.intake.ledger import documents_by_sha256, record_ledger, register_batch, submit_batch
from docflow.ops.intake.outcomes import (
    SUPPORTED_EXTENSIONS,
    BatchResult,
    Candidate,
    FileOutcome,
    SweepOptions,
    SweepReport,
)

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "BatchResult",
    "Candidate",
    "FileOutcome",
    "SweepOptions",
    "SweepReport",
    "batched",
    "discover",
    "discover_local",
    "discover_s3",
    "documents_by_sha256",
    "parse_s3_source",
    "process_batch",
    "record_ledger",
    "register_batch",
    "submit_batch",
    "sweep",
]
