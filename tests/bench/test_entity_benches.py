"""The scorers of the entity and OCR-language benches: CoNLL name sets, judged samples, characters."""

from __future__ import annotations

import csv

import pytest

from bench import conll, real_documents
from bench.ocr_languages import char_accuracy

pytestmark = pytest.mark.unit

CONLL_2003 = """-DOCSTART- -X- -X- O

SOCCER NN B-NP O
- : O O
JAPAN NNP B-NP I-LOC
GET VB B-VP O
LUCKY NNP B-NP O
WIN NNP I-NP O
, , O O
CHINA NNP B-NP I-PER
IN IN B-PP O
SURPRISE DT B-NP O
DEFEAT NN I-NP O
. . O O

Nadim NNP B-NP I-PER
Ladki NNP I-NP I-PER
met NN I-NP O
the DT I-NP O
European NNP I-NP I-ORG
Union NNP I-NP I-ORG
in IN B-PP O
Al-Ain NNP B-NP I-LOC
. . O O

-DOCSTART- -X- -X- O

Peter NNP B-NP I-PER
Blackburn NNP I-NP I-PER
Smith NNP I-NP B-PER
said VBD B-VP O
it PRP B-NP O
's VBZ B-VP O
over IN B-PP O
( ( O O
Bonn NNP B-NP I-LOC
) ) O O
"""

WIKINEURAL = """0\tOn\tO
1\tla\tO
2\ttrouve\tO
3\tjusqu'\tO
4\ten\tO
5\tChine\tB-LOC
6\t.\tO

0\tMarie-Anne\tB-PER
1\tde\tI-PER
2\tNeubourg\tI-PER
3\tvit\tO
4\tà\tO
5\tl'\tO
6\tHôtel\tB-LOC
7\tde\tI-LOC
8\tVille\tI-LOC
"""


def test_conll_2003_documents_names_and_text(tmp_path):
    path = tmp_path / "eng.testa"
    path.write_text(CONLL_2003)
    # GIVEN a CoNLL-2003 file in IOB1 (B- only between two names of one class)
    first, second = conll.read_conll(path)
    # THEN each document's name set holds its PER/ORG/LOC names, lower-cased, detokenised
    assert first.names() == {
        ("LOC", "japan"),
        ("PER", "china"),
        ("PER", "nadim ladki"),
        ("ORG", "european union"),
        ("LOC", "al-ain"),
    }
    assert second.names() == {("PER", "peter blackburn"), ("PER", "smith"), ("LOC", "bonn")}
    # AND the text is one paragraph per sentence, detokenised
    assert second.text() == "Peter Blackburn Smith said it's over (Bonn)"
    assert first.text().startswith("SOCCER - JAPAN GET LUCKY WIN, CHINA IN SURPRISE DEFEAT.\n\nNadim Ladki met")


def test_wikineural_sentences_are_cut_into_documents_and_elisions_joined(tmp_path):
    path = tmp_path / "fr.test.conllu"
    path.write_text(WIKINEURAL)
    documents = conll.read_conll(path, sentences_per_document=1)
    assert len(documents) == 2
    assert documents[0].text() == "On la trouve jusqu'en Chine."
    assert documents[1].names() == {("PER", "marie-anne de neubourg"), ("LOC", "hôtel de ville")}
    assert len(conll.read_conll(path, sentences_per_document=10)) == 1


def test_name_set_scores_labelled_and_unlabelled():
    gold = [{("PER", "nadim ladki"), ("LOC", "japan"), ("ORG", "european union")}, {("LOC", "bonn")}]
    predicted = [
        conll.predicted_names([("PERSON", "Nadim Ladki"), ("ORG", "JAPAN"), ("NORP", "European"), ("DATE", "Friday")]),
        conll.predicted_names([("GPE", "Bonn"), ("FAC", "Bonn"), ("PERSON", "Kohl")]),
    ]
    assert predicted[0] == {("PER", "nadim ladki"), ("ORG", "japan")}  # NORP and DATE are not scored
    scores = conll.name_set_scores(gold, predicted)
    labelled, unlabelled = scores["labelled"], scores["unlabelled"]
    assert (labelled["tp"], labelled["fp"], labelled["fn"]) == (2, 2, 2)
    assert (unlabelled["tp"], unlabelled["fp"], unlabelled["fn"]) == (3, 1, 1)
    assert unlabelled["f1"] == pytest.approx(0.75)
    assert scores["per_class"]["LOC"]["tp"] == 1


def test_a_sample_is_drawn_from_distinct_name_entities_and_scored_from_judgements(tmp_path):
    documents = [
        {
            "document": "report.html",
            "entities": [
                ["ORG", "acme", "Acme Ltd", "Acme Ltd", "... Acme Ltd said ..."],
                ["DATE", "2024", "2024", "2024", "... in 2024 ..."],  # a value: never drawn
                ["PERSON", "board of directors", "Board of Directors", "Board of Directors", "..."],
            ],
        }
    ]
    rows = real_documents.draw(documents, size=5, seed=1)
    assert sorted(r["name"] for r in rows) == ["Acme Ltd", "Board of Directors"]
    rows[0]["judgement"], rows[1]["judgement"] = ("ok", "no") if rows[0]["name"] == "Acme Ltd" else ("no", "ok")
    path = tmp_path / "sample.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=real_documents.COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    result = real_documents.score(real_documents.read_sample(path))
    assert result["precision"] == 0.5 and result["counts"] == {"ok": 1, "label": 0, "partial": 0, "no": 1}
    with pytest.raises(ValueError, match="unknown judgements"):
        real_documents.score([{**rows[0], "judgement": "maybe"}])


def test_cjk_accuracy_counts_characters_and_ignores_spacing():
    assert char_accuracy("北京市 人民政府", "北京市人民 政府") == (0, 7)
    assert char_accuracy("北京市", "北京") == (1, 3)
