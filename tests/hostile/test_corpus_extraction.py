"""The hostile document corpus through the OCR stage's own extraction call, without services.

Fast feedback for tests/hostile/test_hostile_input.py (which proves the same outcomes end to
end on the real stack): each kind either raises the PermanentError the document's
``error_message`` will carry, or extracts text matching its expectation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from docflow.core.errors import PermanentError
from docflow.core.settings import get_settings
from tasks.work import extract_file
from tests.fixtures.hostile_inputs import DOCUMENT_KINDS, document_cases

pytestmark = [pytest.mark.unit, pytest.mark.hostile]


@pytest.fixture(scope="module")
def cases() -> dict:
    # Generated once per module run, not at collection (the bombs take a couple of seconds).
    return {case.kind: case for case in document_cases(get_settings())}


@pytest.mark.parametrize("kind", DOCUMENT_KINDS)
def test_each_kind_fails_with_its_reason_or_extracts_its_text(cases: dict, kind: str, tmp_path: Path) -> None:
    case = cases[kind]
    # GIVEN the file under a neutral local name (as the OCR stage stores it), its real name aside
    path = tmp_path / "original"
    path.write_bytes(case.data)
    if case.expect.status == "error_ocr":
        # WHEN extracted THEN it fails permanently with the specific reason
        with pytest.raises(PermanentError) as failure:
            extract_file(path=path, filename=case.filename, settings=get_settings())
        assert re.search(case.expect.reason, str(failure.value)), str(failure.value)
    else:
        # WHEN extracted THEN the text comes out right, with nothing that must not be there
        text = extract_file(path=path, filename=case.filename, settings=get_settings()).text()
        assert re.search(case.expect.text, text, re.S), text[:500]
        assert not (case.expect.absent and re.search(case.expect.absent, text)), text[:500]
