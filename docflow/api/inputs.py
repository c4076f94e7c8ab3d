"""What a caller may send, as types every route, page and request body uses: ids within
PostgreSQL's integer range, text without control characters, bounded lengths. A value outside them
is refused with 422 and the reason (``docflow.api.app``), never passed on to fail in the database.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator

from docflow.core.models import MAX_ID

# A control character is never part of a name, a query or a reason (and NUL cannot be stored at all);
# tab and line ends are allowed in free text, where a pasted query or a typed reason may carry them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _refuse(found: re.Match[str] | None) -> None:
    if found is not None:
        raise ValueError(f"must not hold control characters (found U+{ord(found.group()):04X})")


def _identifier(value: str) -> str:
    _refuse(_CONTROL.search(value) or _SURROGATE.search(value))
    return value


def _free_text(value: str) -> str:
    _refuse(_CONTROL_IN_TEXT.search(value) or _SURROGATE.search(value))
    return value


Identifier = Annotated[str, AfterValidator(_identifier)]
FreeText = Annotated[str, AfterValidator(_free_text)]

DocumentId = Annotated[int, Path(ge=1, le=MAX_ID, description="The document's id.")]
EntityId = Annotated[int, Path(ge=1, le=MAX_ID, description="The entity's id.")]
DocumentReference = Annotated[
    Identifier, Path(min_length=1, max_length=64, description="The document's id, or its uuid.")
]
ProjectFilter = Annotated[Identifier | None, Query(max_length=128, description="Only this project.")]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]
