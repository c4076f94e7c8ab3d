"""The words between two names and before them, as the sentence patterns read them. Pure.

``clean_between`` drops what does not bear on the pair (parenthesised and dashed asides,
appositions holding other names, a trailing possessive); ``governed`` and ``in_aside`` say whether a
name can be the subject of the verb after it; ``COORDINATION`` is what joins the names of a list.
"""

from __future__ import annotations

import re

__all__ = ["COORDINATION", "PARENTHESES", "clean_between", "governed", "in_aside"]

# Asides in parentheses that hold no relation of the pair: defined terms, abbreviations, numbers.
PARENTHESES = re.compile(r"\s*\([^()]{0,80}\)")
# An apposition holding one other entity, between commas: ", a subsidiary of ⟨ORG⟩,".
# Not one that opens with a verb: ", est contrôlée par la famille ⟨per⟩," is the predicate.
_APPOSITION = re.compile(
    r",(?!\s*(?:est|sont|était|is|are|was|were|es|son|fue|era)\b)[^,;⟨⟩]{0,70}⟨\w+⟩"
    r"(?:(?:[^,;⟨⟩]{0,12}|\s*,\s*(?:en\s+|in\s+|à\s+)?)⟨\w+⟩){0,4}[^,;⟨⟩]{0,30},"
)
# An aside between dashes holding other names: " - part of ⟨org⟩'s ⟨org⟩ segment - ".
_DASHED_ASIDE = re.compile(r"\s[-–—]\s[^-–—⟨⟩;]{0,40}⟨\w+⟩[^-–—;]{0,60}?\s[-–—]\s")
# A trailing "⟨ORG⟩'s largest customer," describes ``b``: it is not an argument of the pair.
_POSSESSIVE_TAIL = re.compile(r"⟨\w+⟩\s*(?:'s|’s)\s+[^⟨⟩,]{0,40},\s*$")
# Names in a list: "A, B and C", "en France, en Belgique et en Suisse", "et par le cabinet X".
COORDINATION = re.compile(
    r"\s*(?:,\s*(?:d'une part,\s*)?(?:(?:and|or|et|ou|y|e|o|ainsi que|as well as)\s+)?|(?:and|or|et|ou|y|e|o|ainsi que|as well as)\s+)"
    r"(?:(?:celui|celle|ceux|celles)\s+)?"
    r"(?:(?:en|au|aux|à|in|par|by|por|de|del|du|des|dans|sobre)\s+|d')?"
    r"(?:(?:the|la|le|les|el|los|las|une|un|a)\s+|l')?"
    r"(?:(?:société|sociedad|groupe|grupo|group|cabinet|banque d'affaires|banque|bank|firm|company|empresa|compañía)\s+)?",
)


# Words after which a name is a prepositional complement, not the subject of the next verb.
_PREPOSITIONS = frozenset(
    [
        "of",
        "in",
        "at",
        "by",
        "with",
        "for",
        "from",
        "to",
        "on",
        "into",
        "de",
        "del",
        "du",
        "des",
        "d'",
        "en",
        "à",
        "au",
        "aux",
        "con",
        "avec",
        "para",
        "pour",
        "par",
        "por",
        "sobre",
        "sur",
        "entre",
        "between",
        "among",
        "dans",
        "desde",
        "chez",
    ]
)
_SKIPPED_BEFORE_NAME = frozenset(
    [
        "the",
        "a",
        "an",
        "la",
        "le",
        "les",
        "l'",
        "el",
        "los",
        "las",
        "un",
        "una",
        "une",
        "lo",
        "société",
        "sociedad",
        "groupe",
        "grupo",
        "group",
        "company",
        "empresa",
        "cabinet",
        "banque",
        "bank",
        "holding",
        "enseigne",
    ]
)


# "the board of X", "le conseil d'administration de X": X acts through its board.
_ORGAN_OF = re.compile(
    r"\b(?:board(?: of directors)?|conseil d'administration|directoire|consejo de administración|comité de dirección)\s+(?:of|de|del|du)\s*$"
)


# An apposition naming no one right after the first name, before its verb: "Mme X, administratrice
# civile hors classe, est nommée directrice de Y", "John Smith, a lawyer, was appointed CFO of Y".
_LEADING_APPOSITION = re.compile(
    r"^\s*,[^,;⟨⟩]{1,80},(?=\s*(?:est|sont|était|a été|sera|is|was|are|were|has been|will be|es|era|fue|ha sido|será)\b)"
)


def clean_between(mid: str) -> str:
    """The words between two names without the asides and appositions that do not bear on them."""
    mid = _LEADING_APPOSITION.sub("", _DASHED_ASIDE.sub(" ", PARENTHESES.sub("", mid)))
    previous = None
    while previous != mid:
        previous, mid = mid, _APPOSITION.sub(" ", mid, count=1)
    return _POSSESSIVE_TAIL.sub("", mid)


def in_aside(pre: str, mid: str) -> bool:
    """Whether ``a`` stands in a dashed or bracketed aside that closes between it and ``b``."""
    dashes = len(re.findall(r"\s[-–—]\s", pre))
    if dashes % 2 and re.search(r"\s[-–—]\s", mid):
        return True
    return pre.rfind("(") > pre.rfind(")") and ")" in mid


def governed(pre: str) -> bool:
    """Whether the text before a name ends in a preposition (articles and company nouns skipped)."""
    if _ORGAN_OF.search(pre):
        return False
    words = pre.replace("l'", "l' ").replace("d'", "d' ").split()
    while words and words[-1] in _SKIPPED_BEFORE_NAME:
        words.pop()
    return bool(words) and words[-1] in _PREPOSITIONS
