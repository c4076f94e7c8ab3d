"""An entity's identity key and display name, from any of its surface forms.

The key drops trademark signs and folds Unicode compatibility forms, case, whitespace, surrounding
punctuation, quotes and brackets, a leading "the", a possessive "'s" and trailing legal forms, so
"Harbour Bank", "Harbour Bank plc", "HARBOUR BANK PLC." and "“Harbour Bank, plc”" are one
key. The key does not depend on the label: the model sometimes labels "Harbour Bank plc"
ORG in one chunk and "Harbour Bank" GPE in the next, and the label vote can only merge
the two when their keys agree. Pure: the worker's entity stage, the CLI's vocabulary loader
and the search all name entities through these two functions.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "ENTITY_LABELS",
    "LEGAL_FORMS",
    "VALUE_LABELS",
    "canonical_key",
    "canonical_name",
    "is_meaningful",
    "name_without_legal_form",
]

# The labels docflow keeps (spaCy's OntoNotes names; other models' labels are mapped onto these).
ENTITY_LABELS: frozenset[str] = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "EVENT", "LAW", "DATE", "MONEY"}
)
# Values, not things: they may legitimately be all digits and punctuation.
VALUE_LABELS = frozenset({"DATE", "MONEY"})

# Legal forms, compared after casefolding and deleting "." and ",", so "S.A." == "sa" and
# "Inc." == "inc". Only ever dropped from the end of a name of two words or more.
LEGAL_FORMS: frozenset[str] = frozenset(
    {
        # English-speaking
        "plc",
        "llc",
        "llp",
        "lp",
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "pty",
        "pvt",
        # German-speaking, Dutch, Nordic
        "gmbh",
        "ag",
        "kg",
        "kgaa",
        "bv",
        "nv",
        "ab",
        "oy",
        # French, Spanish, Italian, Portuguese, European
        "sa",
        "sas",
        "sarl",
        "sl",
        "srl",
        "spa",
        "lda",
        "se",
    }
)
_WS = re.compile(r"\s+")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
_LEADING_THE_ANY_CASE = re.compile(r"^the\s+", re.IGNORECASE)
# In display form only a lowercase article goes: the model often swallows "the" into a
# span ("the Port of Rotterdam"), whereas a capital one may be part of the name ("The Hague").
_LEADING_THE_LOWER = re.compile(r"^the\s+")
_ABBREVIATION_END = re.compile(r"(?:^|\s)(?:[^\W\d_]\.){2,}$")  # "U.S.", "S.A."
_LEGAL_FORM_PUNCT = str.maketrans("", "", ".,")
# Trademark and copyright signs are marks on a name, not part of it ("DB2®", "Redpaper™"); they go
# before NFKC, which would turn "™" into the letters "TM".
_MARKS = str.maketrans("", "", "®™℠©")


def _is_punct(ch: str) -> bool:
    # Punctuation (P*: quotes, brackets, dashes, "&") goes; symbols (S*) stay: "$" and "€"
    # belong to a MONEY value.
    return unicodedata.category(ch).startswith("P")


def _keeps_dot(text: str) -> bool:
    """A final dot that belongs to the name: "U.S.", "S.A.", "Acme Inc.", "Jones Jr."."""
    if _ABBREVIATION_END.search(text):
        return True
    last = text.rpartition(" ")[2].casefold().translate(_LEGAL_FORM_PUNCT)
    return bool(text.rpartition(" ")[0]) and (last in LEGAL_FORMS or last in ("jr", "sr"))


def _strip_punct(text: str, *, keep_abbreviation: bool) -> str:
    """Trim punctuation/space at both ends; optionally keep the dot ending "U.S."."""
    start, end = 0, len(text)
    while start < end and (_is_punct(text[start]) or text[start].isspace()):
        start += 1
    while end > start and (_is_punct(text[end - 1]) or text[end - 1].isspace()):
        if keep_abbreviation and text[end - 1] == "." and _keeps_dot(text[start:end]):
            break
        end -= 1
    return text[start:end]


def _drop_legal_form(text: str) -> str:
    head, _, last = text.rpartition(" ")
    # Never drop the only word: "Corporation" alone is still a name.
    if head and last.casefold().translate(_LEGAL_FORM_PUNCT) in LEGAL_FORMS:
        return head
    return text


def _tidy(text: str, *, display: bool) -> str:
    text = _WS.sub(" ", text)
    leading_the = _LEADING_THE_LOWER if display else _LEADING_THE_ANY_CASE
    previous = None
    # Each rule can expose another ("the Acme Co., Ltd.'s" -> ... -> "Acme"): run to a fixpoint.
    while text != previous:
        previous = text
        text = _strip_punct(text, keep_abbreviation=display)
        text = _POSSESSIVE.sub("", text)
        text = leading_the.sub("", text)
        if not display:
            # The key ignores the legal form; the display name keeps it ("Harbour Bank plc").
            text = _drop_legal_form(text)
    return text


def canonical_key(text: str, label: str = "") -> str:
    """Identity key for an entity's surface text; the same under every label.

    Trademark and copyright signs dropped, NFKC + casefold, whitespace collapsed, surrounding
    punctuation, quotes and brackets stripped, leading "the " and possessive "'s" dropped,
    trailing legal forms (:data:`LEGAL_FORMS`: plc, Ltd, Inc., GmbH, S.A., S.r.l., ...) dropped
    from names of two words or more. ``label`` is accepted for compatibility and ignored. Pure, stable
    (the key of a key is itself).
    """
    del label  # deliberately unused: see the module docstring
    return _tidy(unicodedata.normalize("NFKC", text.translate(_MARKS)).casefold(), display=False)


def canonical_name(text: str, label: str = "") -> str:
    """Display form: original casing, whitespace collapsed, same trimming as the key.

    Differs from the key's trimming in keeping the legal form ("Harbour Bank plc"), a final
    abbreviation dot ("U.S.", "S.A.") and a capitalised leading "The" ("The Hague"). ``label`` is
    ignored, as for the key.
    """
    del label
    return _tidy(unicodedata.normalize("NFKC", text.translate(_MARKS)), display=True)


def name_without_legal_form(text: str) -> str:
    """The display name without its trailing legal form(s): "Harbour Bank plc" -> "Harbour Bank"
    (a vocabulary matches both)."""
    name = canonical_name(text)
    previous = None
    while name != previous:
        previous = name
        name = _strip_punct(_drop_legal_form(name), keep_abbreviation=False)
    return name


def is_meaningful(key: str, label: str) -> bool:
    """A key worth keeping: non-empty, and with a letter unless it is a DATE/MONEY value."""
    if not key:
        return False
    if label in VALUE_LABELS:
        return True
    return any(ch.isalpha() for ch in key)
