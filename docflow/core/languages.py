"""Languages as docflow names them (ISO 639-1 codes) and what each maps to in the tools.

The one table for a document's language: PostgreSQL's full-text search configuration (stemming
and stop words; ``simple`` when PostgreSQL has none for the language or it is unknown).
"""

from __future__ import annotations

import re

# The text-search configurations PostgreSQL ships (``\dF``), by ISO 639-1 code.
TEXT_SEARCH_CONFIGS: dict[str, str] = {
    "ar": "arabic", "ca": "catalan", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi",
    "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "ne": "nepali", "nl": "dutch", "no": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian",
    "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip
FALLBACK_TEXT_SEARCH = "simple"


def text_search_config(language: str | None) -> str:
    """PostgreSQL's text-search configuration for a document in ``language`` (``simple`` if none)."""
    return TEXT_SEARCH_CONFIGS.get((language or "").lower(), FALLBACK_TEXT_SEARCH)


def all_text_search_configs() -> list[str]:
    """Every configuration a chunk can carry, ``simple`` first."""
    return [FALLBACK_TEXT_SEARCH, *sorted(set(TEXT_SEARCH_CONFIGS.values()))]


# Chinese and Japanese write words without spaces between them, so PostgreSQL's parser reads a whole
# sentence as one "word". Search indexes each ideograph and kana as a word of its own (the chunk's
# search text, ``SEARCH_TEXT_SQL``) and asks for a run of them as a phrase (``segment_query``):
# "交通" matches where 交 is directly followed by 通. Hangul is written with spaces and needs nothing.
# Hiragana and katakana, CJK unified ideographs (and extension A), compatibility ideographs,
# half-width katakana.
_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF66, 0xFF9F))
CJK_CHARACTERS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _CJK_RANGES)
_CJK_RUN = re.compile(f"[{CJK_CHARACTERS}]+")
# The chunk text as search reads it: a generated column's expression (IMMUTABLE functions only),
# written with PostgreSQL's \uXXXX regex escapes so the DDL stays ASCII.
_SQL_CLASS = "".join(f"\\u{lo:04x}-\\u{hi:04x}" for lo, hi in _CJK_RANGES)
SEARCH_TEXT_SQL = f"regexp_replace(text, '([{_SQL_CLASS}])', ' \\1 ', 'g')"
SEARCH_VECTOR_SQL = f"to_tsvector(ts_config, {SEARCH_TEXT_SQL})"


def segment_query(query: str) -> str:
    """A search query with each run of ideographs/kana as a quoted phrase of single characters
    (inside an existing quoted phrase, just spaced): ``交通 规划`` -> ``"交 通" "规 划"``."""
    parts = query.split('"')
    for i, part in enumerate(parts):
        if i % 2:  # inside quotes
            parts[i] = _CJK_RUN.sub(lambda m: " ".join(m.group()), part)
        else:
            parts[i] = _CJK_RUN.sub(lambda m: '"' + " ".join(m.group()) + '"', part)
    return '"'.join(parts)


_SPACED_CJK = re.compile(f"(?<=[{CJK_CHARACTERS}\ue001])\\s+(?=[{CJK_CHARACTERS}\ue000])")


def unsegment(text: str) -> str:
    """Undo the spacing between ideographs/kana that search added (also around U+E000/U+E001 marks)."""
    return _SPACED_CJK.sub("", text)
