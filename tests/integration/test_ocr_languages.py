"""OCR in the document's language through the real stack: a scan whose languages nobody fixed is
read again with the installed packs of the language or script its first reading shows."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from bench.corpus import images_to_pdf, render_pages
from docflow.core.db import session_scope
from docflow.core.models import SourceDocument
from docflow.core.results import load_extraction
from docflow.ops.lifecycle.search import SearchFilters, search_chunks
from docflow.ops.progress import wait_for_documents
from docflow.ops.submit import ingest_file
from tasks.steps.extract import Extraction

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

TIMEOUT_S = 240
TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata")
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
SPANISH = [
    "Carta al señor Muñoz",
    "Estimado señor Muñoz: le escribo desde la oficina de Málaga para confirmar la reunión del próximo "
    "miércoles con la señora Núñez y el equipo de Logística Ibérica en la sede de Córdoba.",
    "La señora Peña revisará los documentos y enviará la información antes del viernes. Atentamente, José Álvarez.",
]
CHINESE = ["北京市人民政府今天发布了新的交通规划。", "上海和广州的代表参加了会议，讨论了经济发展问题。"]
JAPANESE = ["東京都は本日、新しい交通計画を発表しました。", "大阪と京都の代表が会議に参加しました。"]


def _needs(*packs: str) -> None:
    missing = [p for p in packs if not (TESSDATA / f"{p}.traineddata").exists()]
    if missing or not CJK_FONT.exists():
        pytest.skip(f"needs tesseract packs {missing} and the WenQuanYi font (scripts/bootstrap.sh installs them)")


def _cjk_scan(lines: list[str]) -> bytes:
    font = ImageFont.truetype(str(CJK_FONT), 50)
    page = Image.new("L", (2550, 3300), 255)
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        draw.text((240, 240 + 90 * i), line, font=font, fill=0)
    return images_to_pdf([page])


def _text(document_id: int) -> str:
    with session_scope() as session:
        stored = load_extraction(session, document_id=document_id)
        assert stored is not None
        return Extraction.from_json(stored.elements_json).text()


def _document(document_id: int) -> SourceDocument:
    with session_scope() as session:
        document = session.get(SourceDocument, document_id)
        assert document is not None
        return document


def test_a_spanish_scan_is_read_again_in_spanish_and_keeps_its_accents(workers, tmp_path: Path):
    _needs("spa")
    # GIVEN a scanned Spanish letter in a project that fixes no OCR language (the default: eng)
    path = tmp_path / "carta.pdf"
    path.write_bytes(images_to_pdf(render_pages(SPANISH)))
    document_id = ingest_file(path=path, project_id=f"ocr-{uuid.uuid4().hex[:8]}").document_id
    # WHEN it is processed
    assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}
    # THEN its text has the accents and eñes English OCR loses ("senor", "Munoz")
    text = _text(document_id)
    for word in ("señor", "Muñoz", "Málaga", "reunión", "señora", "Núñez", "José Álvarez"):
        assert word in text, (word, text[:300])
    assert "senor " not in text
    # AND the OCR version records the languages chosen; the document is Spanish
    document = _document(document_id)
    assert "spa+eng (chosen)" in document.pipeline_versions["ocr"]
    assert document.language == "es"


def test_a_project_that_fixes_its_languages_is_read_with_them_only(workers, tmp_path: Path, monkeypatch):
    _needs("spa")
    # GIVEN the same letter submitted with its OCR languages fixed to English by the sweep
    path = tmp_path / "carta.pdf"
    path.write_bytes(images_to_pdf(render_pages(SPANISH)))
    document_id = ingest_file(path=path, project_id=f"ocr-{uuid.uuid4().hex[:8]}", ocr_languages="eng").document_id
    assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}
    # THEN no choice was made: what was asked for is what ran
    assert "(chosen)" not in _document(document_id).pipeline_versions["ocr"]
    assert "Muñoz" not in _text(document_id)


@pytest.mark.parametrize(("lines", "pack", "query"), [(CHINESE, "chi_sim", "交通规划"), (JAPANESE, "jpn", "交通計画")])
def test_a_chinese_or_japanese_scan_is_read_in_its_script_and_found_by_search(
    workers, tmp_path: Path, lines: list[str], pack: str, query: str
):
    _needs(pack, "osd")
    project = f"cjk-{uuid.uuid4().hex[:8]}"
    # GIVEN a scanned page in Chinese or Japanese, in a project with the default OCR language
    path = tmp_path / "page.pdf"
    path.write_bytes(_cjk_scan(lines))
    document_id = ingest_file(path=path, project_id=project).document_id
    # WHEN it is processed
    assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}
    # THEN its text is in that script, read with the script's pack
    text = _text(document_id)
    assert lines[0][:6] in text.replace(" ", ""), text[:200]
    assert f"{pack}+eng (chosen)" in _document(document_id).pipeline_versions["ocr"]
    # AND a search for a word in it finds it, with the word highlighted in the snippet
    results = search_chunks(query, filters=SearchFilters(project_id=project))
    assert [hit.document_id for hit in results.hits] == [document_id]
    assert query in results.hits[0].plain_snippet("", "")
    assert "[" + query[:1] in results.hits[0].plain_snippet()
    # AND two characters that are not next to each other do not match as a word
    assert search_chunks(query[0] + query[-1], filters=SearchFilters(project_id=project)).hits == []
