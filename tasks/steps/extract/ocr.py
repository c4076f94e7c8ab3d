"""The OCR engine: one tesseract instance per process and language set, behind a lock.

Importing this module has no side effects: tesserocr (and with it libtesseract) is loaded on
the first OCR call, and ``OMP_THREAD_LIMIT`` is set only then, just before that load.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docflow.core.errors import PermanentError
from tasks.steps.extract.ocr_languages import (
    LOW_CONFIDENCE,
    choose_languages,
    installed_packs,
    script_candidates,
    with_default,
)

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["MAX_OCR_SIDE", "configure_ocr", "ocr_image", "ocr_languages_used"]

# Tesseract (and leptonica) refuse images wider or taller than this.
MAX_OCR_SIDE = 32767

DEFAULT_TESSDATA_DIR = Path("/usr/share/tesseract-ocr/5/tessdata")
DEFAULT_LANG = "eng"


class _Engine:
    """Configuration and the warm tesseract instances; every attribute is guarded by ``lock``.

    With ``choose`` on (a document whose OCR languages nobody fixed), the first page with enough
    text decides the languages for the rest of the document (:mod:`.ocr_languages`), and that page
    is read again with them; :meth:`configure` (called before every document) resets the choice.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tessdata_dir = DEFAULT_TESSDATA_DIR
        self.lang = DEFAULT_LANG
        self.choose = False
        self.chosen: str | None = None  # this document's languages, once decided
        self.installed: frozenset[str] | None = None  # packs in tessdata_dir, read on first choice
        self.apis: dict[str, Any] = {}  # languages -> tesserocr.PyTessBaseAPI, created lazily
        self.osd: Any = None  # the script-detection instance, created on first need
        self.pid: int | None = None

    def configure(self, *, tessdata_dir: Path, lang: str, choose: bool = False) -> None:
        with self.lock:
            # Called before every document: keep the warm engines unless the configuration changed.
            if Path(tessdata_dir) != self.tessdata_dir:
                self.apis, self.osd, self.installed = {}, None, None
            self.tessdata_dir, self.lang, self.choose, self.chosen = Path(tessdata_dir), lang, choose, None

    def _fork_guard(self) -> None:
        # A forked child must not share the parent's instances: re-create them per pid.
        if self.pid != os.getpid():
            self.apis, self.osd, self.pid = {}, None, os.getpid()

    def _instance(self, lang: str) -> Any:
        """The process's tesseract instance for ``lang``, created on first use. Call with ``lock`` held."""
        self._fork_guard()
        api = self.apis.get(lang)
        if api is None:
            # Tesseract reads OMP_THREAD_LIMIT once, when libtesseract loads. One OpenMP thread
            # per process is both faster overall on small machines and avoids oversubscribing
            # cores that the worker pool already fills with processes. setdefault leaves an
            # operator's explicit choice alone.
            os.environ.setdefault("OMP_THREAD_LIMIT", "1")
            import tesserocr

            if len(self.apis) >= _WARM_ENGINES:  # the default's and one chosen language's stay warm
                for other in [k for k in self.apis if k != self.lang][:1]:
                    self.apis.pop(other).End()
            api = tesserocr.PyTessBaseAPI(path=str(self.tessdata_dir), lang=lang, psm=tesserocr.PSM.AUTO)
            self.apis[lang] = api
        return api

    def _recognise(self, lang: str, data: bytes, size: tuple[int, int], dpi: int | None) -> tuple[str, int]:
        api = self._instance(lang)
        try:
            api.SetImageBytes(data, size[0], size[1], 1, size[0])
            if dpi:
                api.SetSourceResolution(int(dpi))
            text = api.GetUTF8Text() or ""
            return text, (api.MeanTextConf() if self.choose and self.chosen is None else 100)
        except RuntimeError as exc:
            raise PermanentError(f"OCR failed: tesseract could not read the image ({exc})") from exc
        finally:
            api.Clear()

    def _script(self, data: bytes, size: tuple[int, int], dpi: int | None) -> str | None:
        """OSD's name for the page's script ("Latin", "Han", "Japanese", ...), or None if unknown."""
        if "osd" not in self._installed():
            return None
        import tesserocr

        if self.osd is None:
            self.osd = tesserocr.PyTessBaseAPI(path=str(self.tessdata_dir), lang="osd", psm=tesserocr.PSM.OSD_ONLY)
        try:
            self.osd.SetImageBytes(data, size[0], size[1], 1, size[0])
            if dpi:
                self.osd.SetSourceResolution(int(dpi))
            found = self.osd.DetectOrientationScript()
        except RuntimeError:
            return None  # too little on the page to tell
        finally:
            self.osd.Clear()
        return str(found["script_name"]) if found and found.get("script_name") else None

    def _installed(self) -> frozenset[str]:
        if self.installed is None:
            self.installed = installed_packs(self.tessdata_dir)
        return self.installed

    def read(self, gray: Image.Image, *, dpi: int | None) -> str:
        data, size = gray.tobytes(), gray.size
        with self.lock:
            lang = self.chosen or self.lang
            text, confidence = self._recognise(lang, data, size, dpi)
            if self.choose and self.chosen is None:
                choice = None
                if confidence < LOW_CONFIDENCE:
                    candidates = script_candidates(self._script(data, size, dpi), self._installed())
                    if len(candidates) > 1:  # Chinese, Japanese or Korean: the most confident reading
                        candidates.sort(key=lambda pack: -self._recognise(pack, data, size, dpi)[1])
                    if candidates:
                        choice = with_default(candidates[0], self.lang)
                if choice is None:
                    choice = choose_languages(default=self.lang, text=text, installed=self._installed())
                if choice is not None:
                    self.chosen = choice
                    if choice != lang:
                        text, _ = self._recognise(choice, data, size, dpi)
            return text

    def languages(self) -> str:
        with self.lock:
            return self.chosen or self.lang


_engine = _Engine()
# tesseract instances kept loaded per process: the default languages' and the last chosen ones'.
_WARM_ENGINES = 2


def configure_ocr(*, tessdata_dir: Path, lang: str = DEFAULT_LANG, choose: bool = False) -> None:
    """Point OCR at a tessdata directory and languages (from settings) for this process's next
    document; with ``choose``, the document's first reading picks better-fitting installed packs
    (:mod:`.ocr_languages`)."""
    _engine.configure(tessdata_dir=tessdata_dir, lang=lang, choose=choose)


def ocr_image(gray: Image.Image, *, dpi: int | None) -> str:
    """OCR one grayscale image with the process's tesseract instance for the document's languages."""
    return _engine.read(gray, dpi=dpi)


def ocr_languages_used() -> str:
    """The languages this process's current document is being read with (the chosen ones, once chosen)."""
    return _engine.languages()
