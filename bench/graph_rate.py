"""Graph write rate: batched ``UNWIND`` relationship writes into Neo4j, relationships per second.

A synthetic write with the graph stage's own pattern (:mod:`docflow.graph`): entities merged on
their constrained key, then ``CO_OCCURS`` edges merged per (pair, document) and their weight set,
one ``UNWIND`` statement per batch inside a managed write transaction (``GraphStore._run``, so the
same session, retry and error classification as the graph stage).

Guarantees: every node it creates carries a key under a run-unique prefix and is removed (with
its relationships) before returning, also when the measurement fails; nothing else is touched.
"""

from __future__ import annotations

import random
import time
import uuid

# The graph stage's CO_OCCURS statement (docflow.graph._replace_document_tx), verbatim.
RELATIONSHIP_CYPHER = """
UNWIND $rows AS row
MATCH (a:Entity {key: row.source_key}), (b:Entity {key: row.target_key})
MERGE (a)-[r:CO_OCCURS {document_uuid: $uuid}]->(b)
SET r.weight = row.weight
"""
ENTITY_CYPHER = """
UNWIND $rows AS row
MERGE (e:Entity {key: row.key})
ON CREATE SET e.name = row.name, e.label = row.label, e.project_id = $project
"""
CLEANUP_CYPHER = """
MATCH (e:Entity) WHERE e.key STARTS WITH $prefix
WITH e LIMIT 5000
DETACH DELETE e
RETURN count(*) AS deleted
"""


def measure(settings, *, relationships: int = 100_000, entities: int = 20_000, batch: int = 10_000,
            seed: int = 7) -> dict:
    """Write ``relationships`` edges among ``entities`` synthetic entities; return the rates.

    One extra batch is written first and not timed: it pays the query planning and JIT warm-up
    that a long-running graph stage pays once per worker, not per document.
    """
    from docflow.graph import GraphStore

    rng = random.Random(seed)
    project = f"bench-graph-{uuid.uuid4().hex[:8]}"
    prefix = f"{project}|"
    keys = [f"{prefix}ORG|entity {i}" for i in range(entities)]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < relationships + batch:
        a, b = rng.randrange(entities), rng.randrange(entities)
        if a != b:
            pairs.add((min(a, b), max(a, b)))
    rows = [{"source_key": keys[a], "target_key": keys[b], "weight": 1 + (a + b) % 5} for a, b in sorted(pairs)]
    rng.shuffle(rows)

    with GraphStore(settings) as store:
        store.ensure_constraints()
        try:
            began = time.perf_counter()
            for start in range(0, entities, batch):
                chunk = [{"key": k, "name": k.rsplit("|", 1)[-1], "label": "ORG"} for k in keys[start:start + batch]]
                store._run("bench entity write", lambda tx, rows: tx.run(ENTITY_CYPHER, rows=rows, project=project).consume(),
                           rows=chunk)
            entity_s = time.perf_counter() - began
            began = None
            for number, start in enumerate(range(0, len(rows), batch)):
                if number == 1:
                    began = time.perf_counter()
                # One "document" per batch, like one graph-stage transaction per document.
                store._run("bench relationship write",
                           lambda tx, rows, uuid: tx.run(RELATIONSHIP_CYPHER, rows=rows, uuid=uuid).consume(),
                           rows=rows[start:start + batch], uuid=f"{project}-doc-{number}")
            relationship_s = time.perf_counter() - began
            timed = len(rows) - batch
            written = store.query("MATCH (a:Entity)-[r:CO_OCCURS]->() WHERE a.key STARTS WITH $prefix "
                                  "RETURN count(r) AS n", prefix=prefix)[0]["n"]
        finally:
            _cleanup(store, prefix)
    return {
        "relationships": timed, "written": written, "entities": entities, "batch": batch,
        "relationship_s": round(relationship_s, 3), "relationships_per_s": timed / relationship_s,
        "entity_s": round(entity_s, 3), "entities_per_s": entities / entity_s,
    }


def _cleanup(store, prefix: str) -> None:
    # In slices: one huge DETACH DELETE would need the whole subgraph in the transaction state.
    while True:
        deleted = store._run("bench cleanup", lambda tx, prefix: tx.run(CLEANUP_CYPHER, prefix=prefix).single()["deleted"],
                             prefix=prefix)
        if not deleted:
            return
