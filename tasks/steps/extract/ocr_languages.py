"""Which tesseract language packs read a scan, chosen from a first reading of it.

When neither the project nor the sweep fixes a document's OCR languages, its first page with
enough text is read with the default packs and then:

* a reading tesseract has little confidence in (a mean word confidence under
  :data:`LOW_CONFIDENCE`: Chinese, Japanese or Korean read with ``eng`` comes out as Latin garbage
  at 26–54) asks tesseract's script detection (OSD) which script the page is in; a script with
  installed packs (Cyrillic -> ``rus``, Arabic -> ``ara``, ...) chooses them. OSD tells Chinese,
  Japanese and Korean apart poorly on a page of a few lines (a Japanese page came out "Han" or
  "Korean"), so for any of the three the page is read with each installed pack of the three and
  the most confident reading chooses (measured: the right pack 92–93, the wrong one 67–69);
* otherwise the reading's language is identified (:func:`tasks.steps.language.identify_language`,
  the same identification the document gets afterwards); a language with an installed pack that
  the default does not hold (Spanish -> ``spa``) chooses it, with the default packs kept after it
  (``spa+eng``: English words and names in a Spanish letter still read right).

The page is then read again with the chosen packs, and so are the document's next pages. An
English scan read with ``eng`` is decided on its first page and costs one language
identification of that page's text. Pure: texts, confidences and pack names in, pack names out.
"""

from __future__ import annotations

from pathlib import Path

from tasks.steps.language import identify_language

__all__ = [
    "LOW_CONFIDENCE",
    "choose_languages",
    "installed_packs",
    "language_packs",
    "script_candidates",
    "with_default",
]

# Mean word confidence (0-100) below which the script is checked: English scans read 85-95 (noisy
# ones 70+); Chinese/Japanese/Korean read as English 26-54 (measured on rendered pages).
LOW_CONFIDENCE = 65
# How much of the first reading the language is identified from.
DECISION_CHARS = 1000

# ISO 639-1 (what identify_language answers) -> tesseract pack.
_PACK_OF_LANGUAGE = {
    "af": "afr", "ar": "ara", "bg": "bul", "ca": "cat", "cs": "ces", "da": "dan", "de": "deu", "el": "ell",
    "en": "eng", "es": "spa", "et": "est", "eu": "eus", "fi": "fin", "fr": "fra", "ga": "gle", "gl": "glg",
    "he": "heb", "hi": "hin", "hr": "hrv", "hu": "hun", "id": "ind", "is": "isl", "it": "ita", "ja": "jpn",
    "ko": "kor", "lt": "lit", "lv": "lav", "nl": "nld", "no": "nor", "pl": "pol", "pt": "por", "ro": "ron",
    "ru": "rus", "sk": "slk", "sl": "slv", "sr": "srp", "sv": "swe", "th": "tha", "tr": "tur", "uk": "ukr",
    "vi": "vie", "zh": "chi_sim",
}  # fmt: skip
# tesseract's OSD script name -> packs that read it, in order of preference.
_PACKS_OF_SCRIPT = {
    "Han": ("chi_sim", "chi_tra"),
    "Japanese": ("jpn",),
    "Korean": ("kor",),
    "Hangul": ("kor",),
    "Cyrillic": ("rus", "ukr", "bul", "srp"),
    "Arabic": ("ara",),
    "Greek": ("ell",),
    "Hebrew": ("heb",),
    "Devanagari": ("hin",),
    "Thai": ("tha",),
}


def installed_packs(tessdata_dir: Path) -> frozenset[str]:
    """The language packs in ``tessdata_dir`` (``eng``, ``spa``, ``chi_sim``, ...; ``osd`` included)."""
    return frozenset(path.stem for path in Path(tessdata_dir).glob("*.traineddata"))


def language_packs(languages: str) -> list[str]:
    """``"spa+eng"`` -> ``["spa", "eng"]``."""
    return [pack for pack in languages.split("+") if pack]


def with_default(pack: str, default: str) -> str:
    """``pack`` first, then the default's packs (``spa`` + ``eng`` -> ``spa+eng``); the default alone
    when it holds ``pack`` already."""
    if pack in language_packs(default):
        return default
    return "+".join(dict.fromkeys([pack, *language_packs(default)]))


_CJK_SCRIPTS = frozenset({"Han", "Japanese", "Korean", "Hangul"})
_CJK_PACKS = ("chi_sim", "jpn", "kor", "chi_tra")


def script_candidates(script: str | None, installed: frozenset[str]) -> list[str]:
    """The installed packs that may read a page OSD says is in ``script`` (empty for Latin/unknown);
    several for Chinese/Japanese/Korean, to be told apart by reading the page with each."""
    if script in _CJK_SCRIPTS:
        return [p for p in _CJK_PACKS if p in installed]
    return [p for p in _PACKS_OF_SCRIPT.get(script or "", ()) if p in installed][:1]


def choose_languages(*, default: str, text: str, installed: frozenset[str]) -> str | None:
    """The packs for a Latin-script document from its first reading ``text`` (read with
    ``default``), or None while that reading says too little to tell.

    ``default`` itself when it is the right choice or nothing better is installed.
    """
    # The page's first characters tell the language as well as all of them, for a fraction of the
    # cost (the identifier is linear in the text: 12 ms for 3,000 characters, measured).
    guess = identify_language(text[:DECISION_CHARS])
    if guess.language is None:
        # Too little text on this page to tell: ask again on the next one. A long text the
        # identifier is unsure of (mixed languages) keeps the default.
        return default if guess.reason and guess.reason.startswith("not confident") else None
    pack = _PACK_OF_LANGUAGE.get(guess.language)
    if pack is None or pack not in installed:
        return default
    return with_default(pack, default)
