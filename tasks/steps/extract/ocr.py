"""The OCR engine: one tesseract instance per process, behind a lock.

Importing this module has no side effects: tesserocr (and with it libtesseract) is loaded on
the first OCR call, and ``OMP_THREAD_LIMIT`` is set only then, just before that load.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docflow.core.errors import PermanentError

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["MAX_OCR_SIDE", "configure_ocr", "ocr_image"]

# Tesseract (and leptonica) refuse images wider or taller than this.
MAX_OCR_SIDE = 32767

DEFAULT_TESSDATA_DIR = Path("/usr/share/tesseract-ocr/5/tessdata")
DEFAULT_LANG = "eng"


class _Engine:
    """Configuration and the warm tesseract instance; every attribute is guarded by ``lock``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tessdata_dir = DEFAULT_TESSDATA_DIR
        self.lang = DEFAULT_LANG
        self.api: Any = None  # tesserocr.PyTessBaseAPI, created lazily
        self.pid: int | None = None

    def configure(self, *, tessdata_dir: Path, lang: str) -> None:
        with self.lock:
            # Called before every document: keep the warm engine unless the configuration changed.
            if (Path(tessdata_dir), lang) != (self.tessdata_dir, self.lang):
                self.tessdata_dir, self.lang, self.api = Path(tessdata_dir), lang, None

    def _instance(self) -> Any:
        """The process's tesseract instance, created on first use. Call with ``lock`` held."""
        # A forked child must not share the parent's instance: re-create it per pid.
        if self.api is None or self.pid != os.getpid():
            # Tesseract reads OMP_THREAD_LIMIT once, when libtesseract loads. One OpenMP thread
            # per process is both faster overall on small machines and avoids oversubscribing
            # cores that the worker pool already fills with processes. setdefault leaves an
            # operator's explicit choice alone.
            os.environ.setdefault("OMP_THREAD_LIMIT", "1")
            import tesserocr

            self.api = tesserocr.PyTessBaseAPI(path=str(self.tessdata_dir), lang=self.lang, psm=tesserocr.PSM.AUTO)
            self.pid = os.getpid()
        return self.api

    def read(self, gray: Image.Image, *, dpi: int | None) -> str:
        data = gray.tobytes()
        with self.lock:
            api = self._instance()
            try:
                api.SetImageBytes(data, gray.width, gray.height, 1, gray.width)
                if dpi:
                    api.SetSourceResolution(int(dpi))
                return api.GetUTF8Text() or ""
            except RuntimeError as exc:
                raise PermanentError(f"OCR failed: tesseract could not read the image ({exc})") from exc
            finally:
                api.Clear()


_engine = _Engine()


def configure_ocr(*, tessdata_dir: Path, lang: str = DEFAULT_LANG) -> None:
    """Point OCR at another tessdata directory/language (from settings) for this process."""
    _engine.configure(tessdata_dir=tessdata_dir, lang=lang)


def ocr_image(gray: Image.Image, *, dpi: int | None) -> str:
    """OCR one grayscale image with the process's single tesseract instance."""
    return _engine.read(gray, dpi=dpi)
