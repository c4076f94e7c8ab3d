"""The entity stage reads a batch's documents with the model together: which documents, and what a
failure of that reading leaves to each document (tasks/entity_stage.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from docflow.core.settings import Settings
from docflow.core.status import Stage
from tasks import entity_stage
from tasks.ports import StageContext
from tasks.steps.entities import extract_mentions, load_nlp

pytestmark = pytest.mark.unit


def context(document_id: int, language: str | None) -> StageContext:
    return StageContext(Stage.ENTITY, f"task-{document_id}", SimpleNamespace(id=document_id, language=language))


def chunk_rows(*texts: str) -> list[SimpleNamespace]:
    rows, start = [], 0
    for index, text in enumerate(texts):
        rows.append(SimpleNamespace(chunk_index=index, text=text, char_start=start, char_end=start + len(text)))
        start += len(text)
    return rows


CHUNKS = {
    1: chunk_rows("Maria Gonzalez met Daniel Okafor of Northwind Bank in Rotterdam.", "Gonzalez signed."),
    2: chunk_rows("Kenji Tanaka flew from Osaka to Nairobi for Acme Logistics Inc."),
    3: chunk_rows("Marie Dubois a rencontré Jean Martin à Lyon."),
    4: chunk_rows("Die Sitzung fand in Berlin statt."),
    5: [],
}


def test_the_documents_of_one_model_are_read_together_and_read_as_each_alone():
    # GIVEN a batch of two English documents, one French, one German (no model), one without chunks
    ctxs = [context(1, "en"), context(2, "en"), context(3, "fr"), context(4, "de"), context(5, "en")]
    # WHEN the stage reads the batch ahead
    read = entity_stage._read_ahead(ctxs, CHUNKS, settings=Settings(_env_file=None))
    # THEN the English pair is read together; a model's only document and the others read themselves
    assert set(read) == {1, 2}
    # AND each document's mentions are those it has when read alone
    nlp = load_nlp()
    for document_id in (1, 2):
        views = entity_stage._views(CHUNKS[document_id])
        assert extract_mentions(views, nlp=nlp, read=read[document_id]) == extract_mentions(views, nlp=nlp)


def test_a_long_document_is_read_on_its_own():
    # GIVEN a batch of two short English documents and a long one
    long_text = "Kenji Tanaka met Maria Gonzalez in Osaka. " * (entity_stage.READ_AHEAD_MAX_CHARS // 40)
    chunks = {**CHUNKS, 7: chunk_rows(long_text[:10_000], long_text[10_000:])}
    # WHEN the stage reads the batch ahead THEN only the short ones are (the long one reads itself)
    read = entity_stage._read_ahead(
        [context(1, "en"), context(2, "en"), context(7, "en")], chunks, settings=Settings(_env_file=None)
    )
    assert set(read) == {1, 2}


def test_a_batch_whose_reading_together_fails_leaves_each_document_to_read_itself(monkeypatch):
    # GIVEN an English batch in which one document holds a unit longer than the model reads at once
    # (the stage's read-ahead limit raised for the test: it would otherwise leave that one out)
    too_long = "word " * (load_nlp().max_length // 5 + 1)
    chunks = {**CHUNKS, 6: chunk_rows(too_long)}
    ctxs = [context(1, "en"), context(2, "en"), context(6, "en")]
    monkeypatch.setattr(entity_stage, "READ_AHEAD_MAX_CHARS", len(too_long))
    # WHEN the stage reads the batch ahead THEN nothing is read ahead, and nothing is raised
    assert entity_stage._read_ahead(ctxs, chunks, settings=Settings(_env_file=None)) == {}
    # AND alone, the good documents read and the bad one fails with its own error
    assert extract_mentions(entity_stage._views(chunks[1]), nlp=load_nlp())
    with pytest.raises(ValueError, match="E088"):
        extract_mentions(entity_stage._views(chunks[6]), nlp=load_nlp())


def test_the_batch_time_limit_during_the_reading_is_not_swallowed(monkeypatch):
    # GIVEN the batch's soft time limit strikes while its documents are read together
    def strike(*_args, **_kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(entity_stage, "read_documents", strike)
    # WHEN the stage reads the batch ahead THEN the limit reaches the stage (its documents run alone)
    with pytest.raises(SoftTimeLimitExceeded):
        entity_stage._read_ahead([context(1, "en"), context(2, "en")], CHUNKS, settings=Settings(_env_file=None))
