"""The sentence patterns of each language, built once per process. Pure."""

from __future__ import annotations

import functools

from tasks.steps.relations.patterns import Pattern
from tasks.steps.relations.patterns_en import english_patterns
from tasks.steps.relations.patterns_es import spanish_patterns
from tasks.steps.relations.patterns_fr import french_patterns

__all__ = ["patterns_for"]


@functools.cache
def patterns_for(language: str | None) -> tuple[Pattern, ...]:
    """The patterns for a language (ISO 639-1); English for any other."""
    base = (language or "en").split("-")[0].casefold()
    builders = {"fr": french_patterns, "es": spanish_patterns}
    return tuple(builders.get(base, english_patterns)())
