"""Languages as docflow names them (ISO 639-1 codes) and what each maps to in the tools.

The one table for a document's language: PostgreSQL's full-text search configuration (stemming
and stop words; ``simple`` when PostgreSQL has none for the language or it is unknown).
"""

from __future__ import annotations

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
