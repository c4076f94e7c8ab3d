"""The Spanish, French and German samples: deterministic bytes, accents through extraction and OCR."""

from __future__ import annotations

from pathlib import Path

import pytest

from docflow.core.settings import get_settings
from tasks.steps.extract import Extraction
from tasks.steps.language import identify_language
from tasks.work import extract_file
from tests.fixtures.languages import LANGUAGE_SAMPLES, write_language_samples

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_language_samples(directory=tmp_path_factory.mktemp("language_samples"))


@pytest.fixture(scope="module")
def extracted(samples: dict[str, Path]) -> dict[str, Extraction]:
    """Each sample extracted once with its own OCR languages (OCR is the slow part)."""
    return {
        name: extract_file(
            path=path, filename=name, settings=get_settings(), ocr_languages=LANGUAGE_SAMPLES[name]["ocr_languages"]
        )
        for name, path in samples.items()
    }


def test_writes_every_sample_byte_identical_twice(samples: dict[str, Path], tmp_path: Path) -> None:
    # GIVEN the samples written once (the fixture)
    # WHEN they are written again into another directory
    again = write_language_samples(directory=tmp_path)
    # THEN the same files come out with the same bytes
    assert list(again) == list(LANGUAGE_SAMPLES) == list(samples)
    for name, path in again.items():
        assert path.read_bytes() == samples[name].read_bytes(), name


@pytest.mark.parametrize("name", list(LANGUAGE_SAMPLES))
def test_extraction_is_of_the_declared_kind(extracted: dict[str, Extraction], name: str) -> None:
    # GIVEN a sample WHEN it is extracted THEN scans went through OCR and the born-digital letter did not
    truth, extraction = LANGUAGE_SAMPLES[name], extracted[name]
    assert extraction.file_type == truth["file_type"]
    assert extraction.page_count == 1
    assert extraction.ocr_pages == (1 if truth["kind"] == "scan" else 0)


@pytest.mark.parametrize("name", list(LANGUAGE_SAMPLES))
def test_extracted_text_keeps_every_accented_phrase(extracted: dict[str, Extraction], name: str) -> None:
    # GIVEN a sample read with its own tesseract languages
    # WHEN its text is taken with whitespace collapsed (OCR breaks lines where the page does)
    text = " ".join(extracted[name].text().split())
    # THEN every truth phrase is there verbatim, accents, ß and € included
    missing = [phrase for phrase in LANGUAGE_SAMPLES[name]["phrases"] if phrase not in text]
    assert not missing, f"{name}: missing {missing} in {text!r}"


@pytest.mark.parametrize("name", list(LANGUAGE_SAMPLES))
def test_language_is_identified_from_the_extracted_text(extracted: dict[str, Extraction], name: str) -> None:
    # GIVEN a sample's extracted text WHEN its language is identified THEN it is the truth's language
    guess = identify_language(extracted[name].text())
    assert guess.language == LANGUAGE_SAMPLES[name]["language"], guess


@pytest.mark.parametrize("name", list(LANGUAGE_SAMPLES))
def test_truth_names_appear_in_the_source_text(name: str) -> None:
    # GIVEN a sample's truth WHEN its entities and phrases are looked up in its source text
    truth = LANGUAGE_SAMPLES[name]
    source = " ".join(truth["text"].split())
    listed = [*truth["people"], *truth["places"], *truth["orgs"], *truth["dates"], *truth["amounts"]]
    # THEN each is written there as listed (the truth cannot drift from the text)
    assert [item for item in [*listed, *truth["phrases"]] if item not in source] == []
