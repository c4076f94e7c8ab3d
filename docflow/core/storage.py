"""Object storage for originals: S3 through the ``minio`` client (SeaweedFS here, MinIO/S3 elsewhere).

Keys are content-addressed (``originals/<project>/<sha256[:2]>/<sha256>``) and never built from
a user's filename, so a hostile name cannot escape a prefix and a second upload of the same
bytes is a no-op.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import urllib3
from minio import Minio
from minio.error import InvalidResponseError, S3Error, ServerError

from docflow.core.errors import PermanentError, StoreUnavailable, TransientError
from docflow.core.settings import Settings

T = TypeVar("T")
STORE = "s3"  # the name of this store's breaker (docflow.core.breaker.Store)
_SAFE_PROJECT = re.compile(r"[^A-Za-z0-9._-]")
_MISSING = {"NoSuchKey", "NoSuchObject", "NoSuchBucket"}


def original_key(*, project_id: str, sha256: str) -> str:
    """The content-addressed object key of an original document."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("sha256 must be 64 lowercase hex digits")
    project = _SAFE_PROJECT.sub("_", project_id)[:64] or "_"
    return f"originals/{project}/{sha256[:2]}/{sha256}"


def sha256_file(path: Path, *, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def _said(exc: S3Error) -> str:
    """The store's own words for a server-side failure (e.g. "no space left on device"), bounded."""
    message = " ".join((exc.message or "").split())
    return f" ({message[:160]})" if message and exc.code not in _MISSING else ""


def _no_answer(exc: BaseException) -> bool:
    """A deadline passed without a reply (connect or read), after urllib3's own retry or not."""
    reason = getattr(exc, "reason", None)  # MaxRetryError: the last attempt's failure
    return isinstance(exc, (TimeoutError, urllib3.exceptions.TimeoutError)) or (
        reason is not None and reason is not exc and _no_answer(reason)
    )


def _bounded(exc: Exception) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:200]


class ObjectStorage:
    """A thin, timeout-bounded wrapper that classifies every failure as transient or permanent."""

    def __init__(self, settings: Settings, *, timeout_s: float | None = None):
        self.settings = settings
        self.bucket = settings.s3_bucket
        timeout = timeout_s or settings.s3_timeout_s
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(timeout, 5.0), read=timeout),
            maxsize=16,  # intake uploads a batch with 16 threads
            # Retries belong to the stage (with backoff and a status); here: fail fast.
            # After the retry the last error response is handed back (raise_on_status=False), so the
            # S3 error in it (e.g. a full disk) reaches the status row instead of "too many 500s".
            retries=urllib3.Retry(
                total=1, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504], raise_on_status=False
            ),
            # HTTPS verified against the configured CA (the system's when none is given).
            cert_reqs="CERT_REQUIRED",
            ca_certs=str(settings.tls_ca_file) if settings.tls_ca_file else None,
        )
        self.client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
            secure=settings.s3_secure,
            region=settings.s3_region,
            http_client=http,
        )

    def call(self, what: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one client call, classifying its failure: a missing object is permanent, the rest transient."""
        try:
            return func(*args, **kwargs)
        except S3Error as exc:
            if exc.code in _MISSING:
                raise PermanentError(f"object store: {what}: {exc.code}") from None
            raise StoreUnavailable(f"object store: {what}: {exc.code}{_said(exc)}", store=STORE) from None
        except (InvalidResponseError, ServerError) as exc:  # a non-S3 answer, e.g. a proxy's 502 page
            raise StoreUnavailable(f"object store: {what}: {_bounded(exc)}", store=STORE) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StoreUnavailable(
                f"object store unreachable during {what}: {type(exc).__name__}",
                store=STORE,
                unresponsive=_no_answer(exc),
            ) from None

    def probe(self) -> None:
        """One round trip (does the bucket exist); raises :class:`StoreUnavailable` when the store
        does not answer within this client's timeout (the breaker's half-open probe)."""
        self.call("probe", self.client.bucket_exists, self.bucket)

    def ensure_bucket(self) -> bool:
        """Create the bucket if missing; True when it had to be created."""
        if self.call("bucket check", self.client.bucket_exists, self.bucket):
            return False
        try:
            self.client.make_bucket(self.bucket)
        except S3Error as exc:
            if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise TransientError(f"object store: create bucket: {exc.code}") from None
        return True

    def exists(self, key: str) -> bool:
        try:
            self.call("stat", self.client.stat_object, self.bucket, key)
        except PermanentError:  # call's verdict on a missing object, and only on that
            return False
        return True

    def put_file(
        self, *, key: str, path: Path, content_type: str = "application/octet-stream", check_exists: bool = True
    ) -> bool:
        """Upload ``path`` under ``key`` unless it is already there; True when bytes were sent.

        Idempotent: keys are content-addressed, so an existing object already holds these bytes.
        """
        if check_exists and self.exists(key):
            return False
        self.call("upload", self.client.fput_object, self.bucket, key, str(path), content_type=content_type)
        return True

    def put_stream(self, *, key: str, stream: Any, length: int, content_type: str = "application/octet-stream") -> None:
        """Upload ``length`` bytes read from ``stream`` (anything with ``read(size)``) under ``key``."""
        self.call("upload", self.client.put_object, self.bucket, key, stream, length=length, content_type=content_type)

    def get_to_file(self, *, key: str, path: Path) -> Path:
        """Download ``key`` of docflow's bucket to ``path``."""
        return self.download(bucket=self.bucket, key=key, path=path)

    def download(self, *, bucket: str, key: str, path: Path) -> Path:
        """Download an object of any bucket (an S3 intake source) to ``path``: one request (the
        client's ``fget_object`` asks for the object's metadata first: two)."""

        def fetch() -> None:
            response = self.client.get_object(bucket, key)
            try:
                with open(path, "wb") as out:
                    for block in response.stream(1 << 20):
                        out.write(block)
            finally:
                response.close()
                response.release_conn()

        self.call("download", fetch)
        return path

    def remove(self, *, key: str) -> None:
        """Delete ``key`` from docflow's bucket (idempotent: a missing key is not an error)."""
        self.call("remove", self.client.remove_object, self.bucket, key)

    def count(self, prefix: str = "") -> int:
        return self.call(
            "list", lambda: sum(1 for _ in self.client.list_objects(self.bucket, prefix=prefix, recursive=True))
        )
