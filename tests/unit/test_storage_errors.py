"""How the object store's failures are classified and worded (no server: the client call is a stub)."""

import pytest
from minio.error import InvalidResponseError, S3Error

from docflow.core.errors import PermanentError, TransientError
from docflow.core.settings import Settings
from docflow.core.storage import ObjectStorage

pytestmark = pytest.mark.unit


def _raising(exc: Exception):
    def call(*_args, **_kwargs):
        raise exc

    return call


def _s3_error(code: str, message: str) -> S3Error:
    return S3Error(None, code, message, "/bucket/key", "request", "host")


@pytest.fixture
def storage():
    return ObjectStorage(Settings(_env_file=None))


def test_a_server_side_error_is_transient_and_says_what_the_store_said(storage):
    # GIVEN a store that answers a write with an S3 InternalError (SeaweedFS on a full disk)
    failing = _raising(_s3_error("InternalError", "We encountered an internal error, please try again."))
    # WHEN an upload goes through the classifier THEN it is transient and carries the store's words
    with pytest.raises(TransientError, match=r"upload: InternalError \(We encountered an internal error"):
        storage.call("upload", failing)


def test_a_missing_object_is_permanent_without_the_store_message(storage):
    with pytest.raises(PermanentError, match=r"^object store: download: NoSuchKey$"):
        storage.call("download", _raising(_s3_error("NoSuchKey", "The specified key does not exist.")))


def test_a_non_s3_answer_such_as_a_proxy_error_page_is_transient_and_bounded(storage):
    # GIVEN a proxy in front of the store answering 502 with a long HTML page
    page = "<html>" + "bad gateway " * 500 + "</html>"
    # WHEN an upload gets it THEN the error is transient, names the answer, and stays short
    with pytest.raises(TransientError, match="InvalidResponseError") as raised:
        storage.call("upload", _raising(InvalidResponseError(502, "text/html", page)))
    assert len(str(raised.value)) < 260


def test_exists_is_false_only_for_a_missing_object(storage, monkeypatch):
    # GIVEN a store that reports the key missing, then one that fails the stat for another reason
    monkeypatch.setattr(storage.client, "stat_object", _raising(_s3_error("NoSuchKey", "missing")))
    # WHEN exists() asks THEN a missing key is a plain False
    assert storage.exists("originals/ab") is False
    monkeypatch.setattr(storage.client, "stat_object", _raising(_s3_error("InternalError", "disk full")))
    # AND any other failure is transient, never "missing": the caller learns the store is failing
    with pytest.raises(TransientError, match=r"stat: InternalError \(disk full"):
        storage.exists("originals/ab")
