"""OCR accuracy per installed language, with and without docflow choosing the language packs.

    python -m bench.ocr_languages [--docs-per-language 6] [--seed 7] [--json PATH]

Clean 300 dpi scans (image-only PDFs) in each language docflow has packs for, each read three ways
by :func:`tasks.work.extract_file`:

* **fixed** — with the language's own packs (``spa``, ``chi_sim``, ...): what a project that sets
  its OCR languages gets;
* **eng** — with the default ``eng`` and no choice: what every document got before;
* **chosen** — with the default ``eng`` and ``choose_ocr_languages`` (what the OCR stage now does
  when neither the project nor the sweep fixes the languages): the first reading chooses.

Latin-script scans (English, Spanish, French, German) come from :mod:`bench.corpus`'s and
:mod:`bench.multilingual`'s seeded generators and are scored in words
(:func:`bench.quality.ocr_accuracy`) and accented letters kept
(:func:`bench.multilingual.accent_tally`); Chinese, Japanese and Korean pages are typeset here from
fixed sentences (WenQuanYi Micro Hei, ``fonts-wqy-microhei``) and scored in characters
(``1 - Levenshtein distance / truth characters``, whitespace ignored: tesseract spaces CJK text its
own way). The packs the choice picked are counted per language. Nothing fails on a number.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from rapidfuzz.distance import Levenshtein

from bench.corpus import SCAN_DPI, images_to_pdf, kind_of, make_document
from bench.multilingual import LANGUAGES, accent_tally
from bench.multilingual import make_document as make_foreign_document
from bench.quality import ocr_accuracy

OUT = Path(__file__).resolve().parent / "out" / "ocr_languages.json"
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
# Plain sentences of the kind a letter or a notice holds; each page takes a seeded selection.
CJK_SENTENCES: dict[str, list[str]] = {
    "zh": [
        "北京市人民政府今天发布了新的交通规划。",
        "上海和广州的代表参加了会议，讨论了经济发展问题。",
        "会议由王明主持，李华介绍了新的地铁线路。",
        "这项计划将在明年三月开始实施，预计投资五十亿元。",
        "市民可以通过网站和电话提出意见和建议。",
        "专家认为，新的规划有助于减少交通拥堵和空气污染。",
        "公司董事会决定在深圳设立新的研发中心。",
        "合同规定，付款应在收到发票后三十天内完成。",
    ],
    "ja": [
        "東京都は本日、新しい交通計画を発表しました。",
        "大阪と京都の代表が会議に参加しました。",
        "会議は田中部長が司会を務め、佐藤さんが説明しました。",
        "この計画は来年の春から実施される予定です。",
        "市民はウェブサイトや電話で意見を送ることができます。",
        "専門家は渋滞の緩和に役立つと評価しています。",
        "株式会社山田商事は名古屋に新しい工場を建設します。",
        "請求書を受け取ってから三十日以内にお支払いください。",
    ],
    "ko": [
        "서울시는 오늘 새로운 교통 계획을 발표했습니다.",
        "부산과 대구의 대표들이 회의에 참석했습니다.",
        "회의는 김민수 부장이 진행했고 이영희 씨가 설명했습니다.",
        "이 계획은 내년 봄부터 시행될 예정입니다.",
        "시민들은 웹사이트와 전화로 의견을 보낼 수 있습니다.",
        "전문가들은 교통 체증 완화에 도움이 될 것이라고 말했습니다.",
        "회사는 인천에 새로운 연구 센터를 세우기로 했습니다.",
        "청구서를 받은 후 삼십 일 이내에 지불해 주십시오.",
    ],
}
CJK_PACKS = {"zh": "chi_sim", "ja": "jpn", "ko": "kor"}
ENGLISH_DEFAULT = "eng"


def _cjk_page(lines: list[str]) -> Image.Image:
    font = ImageFont.truetype(str(CJK_FONT), 50)
    width, height, margin = int(8.5 * SCAN_DPI), int(11 * SCAN_DPI), int(0.8 * SCAN_DPI)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        draw.text((margin, margin + 90 * i), line, font=font, fill=0)
    return page


def documents(*, per_language: int, seed: int, tessdata: Path) -> list[dict[str, Any]]:
    """The scans: ``{"language", "pack", "script", "data", "text"}`` per document."""
    installed = {p.stem for p in tessdata.glob("*.traineddata")}
    out: list[dict[str, Any]] = []
    scans = [i for i in range(10 * per_language) if kind_of(i) == "scan_pdf"][:per_language]
    for index in scans:
        doc = make_document(index, seed)
        out.append({"language": "en", "pack": "eng", "script": "latin", "data": doc.data, "text": doc.text})
    for code, language in LANGUAGES.items():
        if language.ocr not in installed:
            continue
        for index in range(1, 2 * per_language, 2):  # odd indexes are scans
            data, truth = make_foreign_document(language, index, seed)
            out.append({"language": code, "pack": language.ocr, "script": "latin", "data": data, "text": truth["text"]})
    if CJK_FONT.exists():
        for code, sentences in CJK_SENTENCES.items():
            if CJK_PACKS[code] not in installed:
                continue
            for index in range(per_language):
                rng = random.Random(f"docflow-ocr-languages:{seed}:{code}:{index}")
                lines = rng.sample(sentences, 6)
                out.append(
                    {
                        "language": code,
                        "pack": CJK_PACKS[code],
                        "script": "cjk",
                        "data": images_to_pdf([_cjk_page(lines)]),
                        "text": "\n".join(lines),
                    }
                )
    return out


def char_accuracy(truth: str, extracted: str) -> tuple[int, int]:
    """``(errors, truth characters)`` over the texts without whitespace."""
    reference = "".join(truth.split())
    return Levenshtein.distance(reference, "".join(extracted.split())), len(reference)


def read(path: Path, *, languages: str, choose: bool) -> tuple[str, str, float]:
    """``(text, languages used, seconds)`` as the OCR stage reads the file."""
    from docflow.core.settings import get_settings
    from tasks.steps.extract import ocr_languages_used
    from tasks.work import extract_file

    began = time.perf_counter()
    extraction = extract_file(
        path=path, filename=path.name, settings=get_settings(), ocr_languages=languages, choose_ocr_languages=choose
    )
    return extraction.text(), ocr_languages_used(), time.perf_counter() - began


def run(docs: list[dict[str, Any]], folder: Path) -> dict[str, Any]:
    ways = {"fixed": None, "eng": (ENGLISH_DEFAULT, False), "chosen": (ENGLISH_DEFAULT, True)}
    results: dict[str, dict[str, Any]] = {}
    for number, doc in enumerate(docs):
        path = folder / f"{doc['language']}-{number:03d}.pdf"
        path.write_bytes(doc["data"])
        for way, setting in ways.items():
            languages, choose = setting if setting else (doc["pack"], False)
            text, used, seconds = read(path, languages=languages, choose=choose)
            group = results.setdefault(doc["language"], {}).setdefault(
                way,
                {"errors": 0, "total": 0, "pairs": [], "accents_kept": 0, "accents": 0, "used": Counter(), "s": 0.0},
            )
            if doc["script"] == "cjk":
                errors, total = char_accuracy(doc["text"], text)
                group["errors"] += errors
                group["total"] += total
            else:
                group["pairs"].append((doc["text"], text))
                tally = accent_tally(doc["text"], text).figures()
                group["accents_kept"] += tally["kept"]
                group["accents"] += tally["accented"]
            group["used"][used] += 1
            group["s"] += seconds
    summary: dict[str, Any] = {}
    for language, by_way in results.items():
        summary[language] = {}
        for way, g in by_way.items():
            if g["pairs"]:
                accuracy = ocr_accuracy(g["pairs"])["accuracy"]
                unit = "words"
            else:
                accuracy = max(0.0, (g["total"] - g["errors"]) / g["total"]) if g["total"] else None
                unit = "characters"
            summary[language][way] = {
                "accuracy": accuracy,
                "unit": unit,
                "accents_kept": g["accents_kept"] / g["accents"] if g["accents"] else None,
                "languages_used": dict(g["used"]),
                "seconds": round(g["s"], 2),
            }
    return summary


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def table(summary: dict[str, Any]) -> list[str]:
    lines = [
        "| language | unit | fixed packs | `eng`, no choice | `eng` + choice (now) | accents kept (fixed / eng / chosen) | packs chosen | seconds (eng / chosen) |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for language, ways in summary.items():
        f, e, c = ways["fixed"], ways["eng"], ways["chosen"]
        accents = " / ".join(_pct(w["accents_kept"]) for w in (f, e, c))
        used = ", ".join(f"{k} ×{v}" for k, v in c["languages_used"].items())
        lines.append(
            f"| {language} | {f['unit']} | {_pct(f['accuracy'])} | {_pct(e['accuracy'])} | {_pct(c['accuracy'])} "
            f"| {accents} | {used} | {e['seconds']} / {c['seconds']} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="OCR accuracy per language, with and without the language choice.")
    parser.add_argument("--docs-per-language", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=OUT)
    args = parser.parse_args(argv)
    from docflow.core.settings import get_settings

    docs = documents(per_language=args.docs_per_language, seed=args.seed, tessdata=get_settings().tessdata_dir)
    with tempfile.TemporaryDirectory(prefix="docflow-ocr-languages-") as tmp:
        summary = run(docs, Path(tmp))
    print("\n".join(table(summary)))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
