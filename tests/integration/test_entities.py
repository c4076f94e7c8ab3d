"""Entities on the real stack: a project vocabulary loaded from the CLI, the entity model chosen by
the document's language, and what a language without a model gets."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from docflow.cli import app
from docflow.core.db import session_scope
from docflow.core.models import CanonicalEntity, Chunk, EntityMention, SourceDocument
from docflow.ops.progress import wait_for_documents
from docflow.ops.submit import ingest_file

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

TIMEOUT_S = 240

GERMAN = (
    "Sehr geehrte Damen und Herren, die Lieferung aus dem Hamburger Hafen ist am Montag eingetroffen. "
    "Jürgen Müller von der Hafenlogistik GmbH hat die Container geprüft und die Zollpapiere unterschrieben. "
    "Wir bitten Sie, die Rechnung bis Ende des Monats zu begleichen. Mit freundlichen Grüßen."
)
FRENCH = (
    "Madame, Monsieur, la livraison est arrivée au port de Marseille lundi matin. François Dubois a vérifié "
    "les conteneurs et signé les documents de douane pour la Société Lyonnaise de Transport. Nous vous prions "
    "de régler la facture avant la fin du mois. Veuillez agréer nos salutations distinguées."
)
ENGLISH = (
    "Kenji Tanaka met the NWB credit officers in Rotterdam on Monday to review the freight loan. "
    "Northwind Bank plc confirmed the facility the next day, and Kenji Tanaka signed for the shipment."
)


def _cli(*args: str):
    return CliRunner().invoke(app, list(args))


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _document(document_id: int) -> SourceDocument:
    with session_scope() as session:
        document = session.get(SourceDocument, document_id)
        assert document is not None
        return document


def _entities(document_id: int) -> dict[str, set[tuple[str, str]]]:
    """Canonical entity (key, label) -> the surface texts of its mentions in the document."""
    with session_scope() as session:
        rows = session.execute(
            select(CanonicalEntity.normalized_key, CanonicalEntity.label, EntityMention.text)
            .join(EntityMention, EntityMention.canonical_entity_id == CanonicalEntity.id)
            .where(EntityMention.document_id == document_id)
        ).all()
    found: dict[str, set[tuple[str, str]]] = {}
    for key, label, text in rows:
        found.setdefault(key, set()).add((label, text))
    return found


def test_a_loaded_vocabulary_makes_aliases_one_entity_and_is_named_in_the_version(workers, tmp_path):
    project = f"vocab-{uuid.uuid4().hex[:8]}"
    vocabulary = _write(tmp_path, "names.csv", "name,label,aliases\nNorthwind Bank plc,ORG,NWB;Northwind\n")
    # GIVEN a vocabulary loaded into a project from a CSV file
    loaded = _cli("vocabulary", "load", str(vocabulary), "--project", project, "--json")
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.output)["inserted"] == 1
    listed = json.loads(_cli("vocabulary", "list", "--project", project, "--json").output)
    assert listed == [{"name": "Northwind Bank plc", "label": "ORG", "aliases": ["NWB", "Northwind"]}]
    # AND loading it again changes nothing (an upsert on the natural key)
    again = json.loads(_cli("vocabulary", "load", str(vocabulary), "--project", project, "--json").output)
    assert (again["inserted"], again["updated"], again["total"]) == (0, 0, 1)

    # WHEN a document naming the bank by its alias and by its full name is processed
    document_id = ingest_file(path=_write(tmp_path, "loan.txt", ENGLISH), project_id=project).document_id
    assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}

    # THEN both mentions are one ORG entity, and the entity version names the vocabulary used
    entities = _entities(document_id)
    assert {("ORG", "NWB"), ("ORG", "Northwind Bank plc")} <= entities["northwind bank"]
    assert ("PERSON", "Kenji Tanaka") in entities["kenji tanaka"]
    version = _document(document_id).pipeline_versions["entity"]
    assert f"vocabulary {again['vocabulary_hash'][:12]}" in version


def test_a_bad_vocabulary_file_is_one_line_naming_the_line(stack, tmp_path):
    bad = _write(tmp_path, "bad.csv", "Northwind Bank,ORG\nSomebody,ALIEN\n")
    result = _cli("vocabulary", "load", str(bad), "--project", "p")
    assert result.exit_code == 2
    assert "line 2" in result.output and "ALIEN" in result.output and "Traceback" not in result.output


def test_the_language_chooses_the_entity_model_and_a_language_without_one_keeps_everything_else(workers, tmp_path):
    from docflow.core.status import Stage
    from docflow.ops.lifecycle.search import SearchFilters, search_chunks
    from docflow.ops.lifecycle.selection import Selection, select_documents

    project = f"lang-{uuid.uuid4().hex[:8]}"
    # GIVEN a German and a French letter WHEN processed
    german = ingest_file(path=_write(tmp_path, "brief.txt", GERMAN), project_id=project).document_id
    french = ingest_file(path=_write(tmp_path, "lettre.txt", FRENCH), project_id=project).document_id
    assert wait_for_documents([german, french], timeout_s=TIMEOUT_S) == dict.fromkeys(
        (german, french), "graph_complete"
    )

    # THEN each document's language is recorded and chooses its search configuration
    assert (_document(german).language, _document(french).language) == ("de", "fr")
    with session_scope() as session:
        configs = dict(
            session.execute(
                select(Chunk.document_id, Chunk.ts_config).where(Chunk.document_id.in_([german, french]))
            ).all()
        )
    assert configs == {german: "german", french: "french"}
    # AND search stems in the document's language ("Lieferungen" finds "Lieferung")
    hits = search_chunks("Lieferungen", filters=SearchFilters(project_id=project)).hits
    assert [hit.document_id for hit in hits] == [german]

    # AND the French letter is read by the French model: its person and organisation are entities
    french_entities = _entities(french)
    assert any(label == "PERSON" for label, _ in french_entities.get("françois dubois", set())), french_entities
    assert "fr_core_news_sm" in _document(french).pipeline_versions["entity"]

    # AND German, without a model, has no entity noise and says why in its pipeline record
    assert _entities(german) == {}
    assert _document(german).pipeline_versions["entity"] == "entities/4; no entity model for de"
    with session_scope() as session:
        assert session.scalar(select(EntityMention.id).where(EntityMention.document_id == german)) is None

    # AND neither is "outdated": each was made by what this installation uses for its language
    selected = select_documents(Selection(project_id=project, outdated=(Stage.ENTITY.value, Stage.OCR.value)), workers)
    assert selected.rows == []
