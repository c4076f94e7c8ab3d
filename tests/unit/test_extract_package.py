"""The extraction package's import contract: light detection, no import-time side effects, lazy formats.

Each check runs in a fresh interpreter, because ``sys.modules``, ``os.environ`` and PIL's limit are
process-wide and this test process has long since imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pypdfium2", "docx", "PIL", "tesserocr", "spacy")


def run_fresh(code: str, *, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a new interpreter at the repository root; it prints one JSON object."""
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def loaded(names: tuple[str, ...]) -> str:
    """Code that reports which of ``names`` (top-level packages) are in ``sys.modules``."""
    return f"sorted({{m.split('.')[0] for m in sys.modules}} & set({names!r}))"


def test_file_type_detection_loads_no_format_library() -> None:
    # GIVEN a fresh interpreter
    # WHEN only docflow.core.filetypes is imported (the submit and intake paths)
    result = run_fresh(
        f"""
        import json, sys
        import docflow.core.filetypes
        print(json.dumps({{"loaded": {loaded(HEAVY)}}}))
        """
    )
    # THEN none of PDFium, python-docx, PIL, tesserocr or spaCy came with it
    assert result["loaded"] == []


def test_importing_the_package_changes_no_process_settings() -> None:
    # GIVEN a fresh interpreter whose environment has no OMP_THREAD_LIMIT
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
    # WHEN tasks.steps.extract is imported
    result = run_fresh(
        """
        import json, os
        from PIL import Image
        default = Image.MAX_IMAGE_PIXELS
        import tasks.steps.extract
        print(json.dumps({
            "omp": os.environ.get("OMP_THREAD_LIMIT"),
            "pil_default": default,
            "pil_after": Image.MAX_IMAGE_PIXELS,
        }))
        """,
        env=env,
    )
    # THEN the OpenMP variable is still unset and PIL's pixel limit is still PIL's own default
    assert result["omp"] is None
    assert result["pil_after"] == result["pil_default"]


def test_configure_raises_pil_limit_only_when_called() -> None:
    # GIVEN a fresh interpreter WHEN configure() is called twice with a pixel limit over the default
    result = run_fresh(
        """
        import json
        from pathlib import Path
        from PIL import Image
        from tasks.steps.extract import ExtractionLimits, configure
        configure(tessdata_dir=Path("/nonexistent"), max_pixels=300_000_000)
        configure(tessdata_dir=Path("/nonexistent"), max_pixels=300_000_000)
        raised = Image.MAX_IMAGE_PIXELS
        configure(tessdata_dir=Path("/nonexistent"), max_pixels=1_000)
        print(json.dumps({"raised": raised, "floor": Image.MAX_IMAGE_PIXELS,
                          "default": ExtractionLimits().max_pixels}))
        """
    )
    # THEN PIL follows it, and is never lowered below the default limit
    assert result["raised"] == 300_000_000
    assert result["floor"] == result["default"]


def test_text_extraction_does_not_load_pdf_or_word_libraries(tmp_path: Path) -> None:
    # GIVEN a plain text file
    path = tmp_path / "notes.txt"
    path.write_text("Field notes\n\nMaria Gonzalez visited Rotterdam on March 3, 2025.\n")
    # WHEN it is detected and extracted in a fresh interpreter
    result = run_fresh(
        f"""
        import json, sys
        from pathlib import Path
        from tasks.steps.extract import detect_file_type, extract_document
        path = Path({str(path)!r})
        file_type, _ = detect_file_type(data_head=path.read_bytes(), filename=path.name)
        extraction = extract_document(path=path, file_type=file_type)
        print(json.dumps({{"file_type": file_type, "text": extraction.text(),
                          "loaded": {loaded(("pypdfium2", "docx"))}}}))
        """
    )
    # THEN the text comes out, and neither PDFium nor python-docx was imported (lazy registry)
    assert result["file_type"] == "txt"
    assert result["text"] == "Field notes\n\nMaria Gonzalez visited Rotterdam on March 3, 2025."
    assert result["loaded"] == []


def test_unknown_file_type_is_a_value_error(tmp_path: Path) -> None:
    # GIVEN a file WHEN extracted as a type no extractor is registered for THEN it is a caller bug
    from tasks.steps.extract import extract_document

    path = tmp_path / "x.bin"
    path.write_bytes(b"data")
    with pytest.raises(ValueError, match=r"^unknown file_type 'wav'$"):
        extract_document(path=path, file_type="wav")
