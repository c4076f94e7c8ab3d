"""Every format read through unstructured (and the legacy ones through LibreOffice), on the real
stack and real workers: the good samples reach graph_complete with their text, table rows and
entities; hostile variants end in error_ocr with their reason, after one attempt."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from docflow.core.db import session_scope
from docflow.core.models import Chunk, SourceDocument, StageRun
from docflow.ops.progress import wait_for_documents
from docflow.ops.submit import ingest_file

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

TIMEOUT_S = 420


@pytest.fixture(scope="module")
def format_samples(tmp_path_factory):
    from tests.fixtures.formats import write_format_samples, write_hostile_format_samples

    directory = tmp_path_factory.mktemp("formats")
    return write_format_samples(directory=directory / "good"), write_hostile_format_samples(
        directory=directory / "hostile"
    )


def _document(document_id: int) -> SourceDocument:
    with session_scope() as session:
        document = session.get(SourceDocument, document_id)
        assert document is not None
        return document


def _chunk_text(document_id: int) -> str:
    with session_scope() as session:
        texts = session.scalars(select(Chunk.text).where(Chunk.document_id == document_id).order_by(Chunk.chunk_index))
        return "\n".join(texts)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def test_every_new_format_reaches_graph_complete_with_its_text_rows_and_entities(workers, format_samples, project_id):
    from docflow.core.graph import GraphStore
    from tests.fixtures.formats import FORMAT_FACTS

    good, _hostile = format_samples
    # GIVEN one sample of every format beyond the fast paths WHEN each is submitted
    ids = {ingest_file(path=path, project_id=project_id).document_id: name for name, path in good.items()}
    final = wait_for_documents(ids, timeout_s=TIMEOUT_S)
    # THEN every one reaches graph_complete
    failures = {ids[d]: (s, _document(d).error_message) for d, s in final.items() if s != "graph_complete"}
    assert not failures, failures
    for document_id, name in ids.items():
        facts, document = FORMAT_FACTS[name], _document(document_id)
        text = _chunk_text(document_id)
        # AND its detected type and page count are the format's
        assert (document.file_type, document.page_count) == (facts["file_type"], facts["page_count"]), name
        # AND the names, dates and amounts it holds are in the chunks; table rows keep their cells in order
        expected = facts["people"] + facts["organizations"] + facts["places"] + facts["dates"] + facts["amounts"]
        missing = [value for value in expected if not set(_words(value)) <= set(_words(text))]
        assert not missing, f"{name}: missing from the chunks: {missing}"
        for row in facts.get("rows", []) + facts.get("lines", []):
            assert row in text, f"{name}: table row not found as written: {row!r}"
        for hidden in facts.get("absent", []):
            assert hidden not in text, f"{name}: {hidden!r} (script, not content) is in the chunks"
        # AND the document has entities in Neo4j
        with GraphStore(workers) as graph:
            counts = graph.document_counts(str(document.document_uuid))
        assert counts["entities"] >= 1, name


def test_hostile_variants_end_in_error_ocr_with_their_reason_after_one_attempt(workers, format_samples, project_id):
    _good, hostile = format_samples
    # GIVEN truncated files, wrong extensions, zip bombs inside OOXML and a macro-bearing file
    ids = {ingest_file(path=path, project_id=project_id).document_id: name for name, (path, _) in hostile.items()}
    final = wait_for_documents(ids, timeout_s=TIMEOUT_S)
    # THEN each ends in error_ocr (nothing hangs, nothing retries) with the reason it was refused
    for document_id, name in ids.items():
        document = _document(document_id)
        _path, pattern = hostile[name]
        assert final[document_id] == "error_ocr", (name, final[document_id], document.error_message)
        assert re.search(pattern, document.error_message or ""), (name, document.error_message)
        with session_scope() as session:
            runs = session.execute(
                select(StageRun.attempt, StageRun.outcome).where(StageRun.document_id == document_id)
            ).all()
        assert runs == [(0, "failed")], name
