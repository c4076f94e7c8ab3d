"""Graph write rate: batched ``UNWIND`` relationship writes into Neo4j, relationships per second.

A synthetic write with the graph stage's own statements and row shapes, imported from
:mod:`docflow.core.graph` (``merge_entities``, ``create_co_occurs``): entities merged on their
constrained key, then ``CO_OCCURS`` edges created per (pair, document) with their weight through
the merged nodes' element ids, one ``UNWIND`` statement per batch inside a managed write
transaction (``GraphStore._run``, so the same session, retry and error classification as the
graph stage). The graph stage merges a document's entities and creates its edges in one
transaction; here the entities are merged first and timed apart (``entities_per_s``), so the
relationship rate is the edges' own. Their element ids stay valid across those transactions
because nothing deletes the run's nodes until the measurement is over.

Guarantees: every node it creates carries a key under a run-unique prefix and is removed (with
its relationships) before returning, also when the measurement fails; nothing else is touched.
"""

from __future__ import annotations

import random
import time
import uuid

CLEANUP_CYPHER = """
MATCH (e:Entity) WHERE e.key STARTS WITH $prefix
WITH e LIMIT 5000
DETACH DELETE e
RETURN count(*) AS deleted
"""


def measure(
    settings,
    *,
    relationships: int = 100_000,
    entities: int = 20_000,
    batch: int = 10_000,
    warmup_batches: int = 3,
    seed: int = 7,
) -> dict:
    """Write ``relationships`` edges among ``entities`` synthetic entities; return the rates.

    ``warmup_batches`` extra batches are written first and not timed: they pay the query planning
    and the JVM's JIT warm-up that a long-running Neo4j pays once, not per document (a freshly
    started Neo4j writes its first batches at about half the steady rate). The first batch's own
    rate is reported too (``cold_relationships_per_s``), so the warm-up is never hidden.
    """
    from docflow.core.graph import GraphStore, create_co_occurs, merge_entities

    rng = random.Random(seed)
    project = f"bench-graph-{uuid.uuid4().hex[:8]}"
    prefix = f"{project}|"
    keys = [f"{prefix}ORG|entity {i}" for i in range(entities)]
    pairs: set[tuple[int, int]] = set()
    warmup = warmup_batches * batch
    while len(pairs) < relationships + warmup:
        a, b = rng.randrange(entities), rng.randrange(entities)
        if a != b:
            pairs.add((min(a, b), max(a, b)))
    rows = [{"source_key": keys[a], "target_key": keys[b], "weight": 1 + (a + b) % 5} for a, b in sorted(pairs)]
    rng.shuffle(rows)

    with GraphStore(settings) as store:
        store.ensure_constraints()
        try:
            began = time.perf_counter()
            node_ids: dict[str, str] = {}
            for start in range(0, entities, batch):
                chunk = [{"key": k, "name": k.rsplit("|", 1)[-1], "label": "ORG"} for k in keys[start : start + batch]]
                node_ids |= store.write("bench entity write", merge_entities, entities=chunk, project_id=project)
            entity_s = time.perf_counter() - began
            began = cold_s = None
            for number, start in enumerate(range(0, len(rows), batch)):
                if number == warmup_batches:
                    began = time.perf_counter()
                first = time.perf_counter()
                # One "document" per batch, like one graph-stage transaction per document.
                store.write(
                    "bench relationship write",
                    create_co_occurs,
                    relationships=rows[start : start + batch],
                    node_ids=node_ids,
                    document_uuid=f"{project}-doc-{number}",
                )
                cold_s = cold_s or time.perf_counter() - first
            relationship_s = time.perf_counter() - began
            timed = len(rows) - warmup
            written = store.query(
                "MATCH (a:Entity)-[r:CO_OCCURS]->() WHERE a.key STARTS WITH $prefix RETURN count(r) AS n", prefix=prefix
            )[0]["n"]
        finally:
            _cleanup(store, prefix)
    return {
        "relationships": timed,
        "written": written,
        "entities": entities,
        "batch": batch,
        "warmup_batches": warmup_batches,
        "cold_relationships_per_s": min(batch, len(rows)) / cold_s,
        "relationship_s": round(relationship_s, 3),
        "relationships_per_s": timed / relationship_s,
        "entity_s": round(entity_s, 3),
        "entities_per_s": entities / entity_s,
    }


def _cleanup(store, prefix: str) -> None:
    # In slices: one huge DETACH DELETE would need the whole subgraph in the transaction state.
    while True:
        deleted = store.write(
            "bench cleanup", lambda tx, prefix: tx.run(CLEANUP_CYPHER, prefix=prefix).single()["deleted"], prefix=prefix
        )
        if not deleted:
            return


def warm_document_writes(settings, *, documents: int = 1600, seed: int = 7) -> dict:
    """Untimed: the graph stage's own per-document transaction (``GraphStore.replace_document``) on
    ``documents`` synthetic documents, then removed.

    The batched workload above warms the ``UNWIND`` write path, not the per-document one (delete
    the old subgraph, merge the document, chunks, mentions and edges). Measured on this machine: a
    freshly started Neo4j spends ~11 CPU s on its first 200 such documents and ~2.7 from about the
    1,600th on (the JVM's JIT), so a short warm-up leaves most of that to the first timed round.
    Guarantees: every node carries a run-unique project prefix and is removed before returning.
    """
    from docflow.core.graph import DocumentGraph, GraphStore, entity_key

    rng = random.Random(seed)
    project = f"bench-warm-{uuid.uuid4().hex[:8]}"
    vocabulary = [f"entity {i}" for i in range(400)]
    written: list[str] = []
    began = time.perf_counter()
    with GraphStore(settings) as store:
        try:
            for number in range(documents):
                names = rng.sample(vocabulary, 15)  # about a corpus document's distinct entities
                keys = [entity_key(project_id=project, label="ORG", normalized_key=n) for n in names]
                graph = DocumentGraph(
                    document_uuid=f"{project}-doc-{number}",
                    project_id=project,
                    name=f"{number}.pdf",
                    file_type="pdf",
                    chunks=[{"index": i, "text": "x" * 1000, "page_start": 1, "page_end": 1} for i in range(3)],
                    entities=[{"key": k, "name": n, "label": "ORG"} for k, n in zip(keys, names, strict=True)],
                    mentions=[{"chunk_index": i % 3, "entity_key": k, "count": 1} for i, k in enumerate(keys)],
                    relationships=[
                        {"source_key": a, "target_key": b, "weight": 1}
                        for i, a in enumerate(keys)
                        for b in keys[i + 1 : i + 4]
                    ],
                )
                store.replace_document(graph)
                written.append(graph.document_uuid)
        finally:
            for document_uuid in written:
                store.delete_document(document_uuid)
            _cleanup(store, f"{project}|")
    return {"documents": len(written), "wall_s": round(time.perf_counter() - began, 3)}
