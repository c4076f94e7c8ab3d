"""The document listing's cursor: what it gives out it reads back; anything else is refused."""

from __future__ import annotations

import pytest

from docflow.core.models import MAX_ID
from docflow.ops.lifecycle.listing import CursorError, decode_cursor, encode_cursor

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("last_id", [1, 42, MAX_ID])
def test_a_cursor_given_out_is_read_back(last_id):
    # GIVEN the cursor after a page ending at last_id WHEN it is read back THEN it names that id
    assert decode_cursor(encode_cursor(last_id)) == last_id


@pytest.mark.parametrize("cursor", ["", "not-a-cursor", "ZDA", encode_cursor(MAX_ID) + "AA", "ZC0x", "%%%", "eDEy"])
def test_anything_else_is_refused_with_a_reason(cursor):
    # GIVEN a cursor this server did not give out WHEN it is read THEN it is refused, never a crash
    with pytest.raises(CursorError, match="not a cursor"):
        decode_cursor(cursor)
