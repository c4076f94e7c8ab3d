"""Which language a document's text is in: identified once, after extraction, and recorded.

py3langid (the maintained successor of langid.py; its model ships in the wheel, nothing is fetched)
on a bounded sample of the text. A short or mixed text whose best guess is not confident enough is
"undetermined" (None): search then uses the language-neutral configuration and no entity model is
chosen by guesswork.

Pure apart from loading the classifier once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

__all__ = ["LanguageGuess", "identify_language"]

MIN_CHARS = 40
MIN_CONFIDENCE = 0.80
SAMPLE_CHARS = 20_000  # what a confident guess needs; a 500-page scan's full text is not


@dataclass(frozen=True)
class LanguageGuess:
    language: str | None  # ISO 639-1, None when undetermined
    confidence: float
    reason: str | None = None  # why undetermined


@functools.cache
def _classifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def identify_language(text: str, *, min_confidence: float = MIN_CONFIDENCE) -> LanguageGuess:
    """The language of ``text`` (its first :data:`SAMPLE_CHARS` letters' worth), or undetermined."""
    sample = " ".join(text[:SAMPLE_CHARS].split())
    letters = sum(ch.isalpha() for ch in sample)
    if letters < MIN_CHARS:
        return LanguageGuess(None, 0.0, f"too little text to tell ({letters} letters)")
    language, confidence = _classifier().classify(sample)
    if confidence < min_confidence:
        return LanguageGuess(None, float(confidence), f"not confident ({language}? {confidence:.2f})")
    return LanguageGuess(str(language), float(confidence))
