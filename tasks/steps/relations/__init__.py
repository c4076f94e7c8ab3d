"""Typed relationships between a document's entities, with their evidence, read offline on CPU.

The entity stage's second step, after :func:`tasks.steps.entities.extract_mentions` (whose output it
never changes): from the document's structure (message headers, letters and signatures,
agreements, tables, statutes) and from its sentences (patterns over the words between two names,
checked by a dependency parse for long stretches), it finds the relationships of the vocabulary in
:mod:`docflow.core.relation_kinds` — roles, locations, acquisitions, ownership, agreements, supply,
partnerships, advisers, correspondence, signatories — each with the sentence, page, chunk and span
that state it, the rule that read it and a confidence, and dates stated in the same clause.

Modules: ``document`` (the document as text, blocks, entities and sentences), ``roles`` (what an
occurrence of a name can be), ``names`` (a name's other occurrences), ``lexicon`` (words per
language), ``patterns`` (sentence patterns per language), ``clauses`` (the words between two names),
``sentences`` (reading one sentence),
``structure`` (layout rules), ``parser`` (the parsing pipeline), ``extract`` (the step), ``model``
(the data). Pure apart from loading the spaCy parser.
"""

from __future__ import annotations

from tasks.steps.relations.extract import extract_relations
from tasks.steps.relations.model import Evidence, TypedRelation
from tasks.steps.relations.parser import load_parser

__all__ = ["Evidence", "TypedRelation", "extract_relations", "load_parser"]
