"""What the typed-relationship step costs, next to the entity step it follows, on a corpus's documents.

In one process, with the models loaded first: every document is extracted and chunked once
(untimed), then its entity step (``extract_mentions``, as the entity stage runs it) and its relation
step (``extract_relations`` with the language's parser) are timed separately, in ``--rounds``
alternating passes over the corpus. Prints seconds per document for each step and the relation
step's share of the entity stage's step work; the whole pipeline's throughput is
``bench.pipeline``'s (before/after runs alternate there).

    python -m bench.relations_cost --corpus DIR [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path


def measure(corpus: Path, *, rounds: int) -> dict:
    from bench.corpus import load_truths
    from docflow.core.errors import PermanentError
    from docflow.core.settings import get_settings
    from tasks.steps.chunking import chunk_elements
    from tasks.steps.entities import extract_mentions, load_nlp, ner_model_for
    from tasks.steps.language import identify_language
    from tasks.steps.relations import extract_relations, load_parser
    from tasks.work import extract_file

    settings = get_settings()
    prepared = []
    for truth in load_truths(corpus):
        path = corpus / truth["file"]
        try:
            extraction = extract_file(path=path, filename=path.name, settings=settings)
        except PermanentError:
            continue
        text, chunks = chunk_elements(
            extraction.elements, max_chars=settings.chunk_max_chars, overlap_chars=settings.chunk_overlap_chars
        )
        language = identify_language(text).language
        model = ner_model_for(language, settings.ner_models, settings.ner_model)
        if model:
            load_nlp(model), load_parser(model)  # loaded before timing
            prepared.append((extraction, chunks, language, model))
    entity_s: list[float] = []
    relation_s: list[float] = []
    relations = 0
    for _round in range(rounds):
        entity_total = relation_total = 0.0
        relations = 0
        for extraction, chunks, language, model in prepared:
            began = time.perf_counter()
            mentions = extract_mentions(chunks, nlp=load_nlp(model))
            middle = time.perf_counter()
            found = extract_relations(
                elements=extraction.elements,
                chunks=chunks,
                mentions=mentions,
                language=language,
                parser=load_parser(model),
            )
            relation_total += time.perf_counter() - middle
            entity_total += middle - began
            relations += len(found)
        entity_s.append(entity_total)
        relation_s.append(relation_total)
    documents = len(prepared)
    entity, relation = statistics.median(entity_s), statistics.median(relation_s)
    return {
        "documents": documents,
        "pages": sum(e.page_count for e, _c, _l, _m in prepared),
        "rounds": rounds,
        "entity_step_s_per_round": entity_s,
        "relation_step_s_per_round": relation_s,
        "entity_step_ms_per_document": round(1000 * entity / max(documents, 1), 2),
        "relation_step_ms_per_document": round(1000 * relation / max(documents, 1), 2),
        "relation_share_of_entity_stage_steps": round(relation / (entity + relation), 3) if entity + relation else None,
        "typed_relationships": relations,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True, help="a corpus written by bench.corpus")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = measure(args.corpus, rounds=args.rounds)
    for name, value in result.items():
        print(f"{name:40} {value}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
