"""What reference lists and citations hold: authors, cited authors, journals and cited titles.

Research articles and encyclopaedia pages end in reference lists the model reads badly: authors
written surname first ("Sargatal, Jordi (eds.)") or with initials after the surname ("Kokot T
Klakla K 2012", PubMed/Vancouver style) come out as a surname apart from a given name, or as
organisations and places; the title of a cited work ("(1996). The Origins of Agriculture in
Europe") comes out as an organisation; an abbreviated journal ("Filaria J 2007 6 12") as a person.

* :func:`reference_authors` finds the authors of a reference list in a unit's text, one person
  each, as written, and :func:`with_reference_authors` puts them in place of the model's pieces;
* :func:`is_cited_author` and :func:`is_inverted_person` tell a span that is a person's name by
  what follows it ("Semba et al., 2013") or by its shape ("Foster, Richard");
* :func:`is_cited_title` tells a span that opens or sits inside the title of a cited work;
* :func:`is_journal` tells a span followed by a reference's year, volume and pages.

Pure: strings and mentions in, values out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from docflow.core.entity_names import canonical_key, canonical_name
from tasks.steps.entities.spans import Found, Mention

__all__ = [
    "BIBLIOGRAPHY_NAME",
    "is_cited_author",
    "is_cited_title",
    "is_inverted_person",
    "is_journal",
    "reference_authors",
    "with_reference_authors",
]

_YEAR = r"(?:19|20)\d\d[a-z]?"
_MONTH = r"(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? )"
# A surname: "Sargatal", "McHugh", "O'Brien", "Nowakowska-Zajdel", "Ziółko" (not an acronym).
_LOWER = r"(?:(?![A-Z])[^\W\d_]|['’])"
_SURNAME = r"(?:Ma?c|O['’])?[A-ZÀ-ÖØ-Þ]" + _LOWER + r"+(?:-[A-ZÀ-ÖØ-Þ]" + _LOWER + r"+)?"
_PARTICLE = r"(?:(?:de|De|van|Van|von|Von|den|der|del|da|Da|das|dos|du|le|Le|la|La|di|Di|ten|ter) )"

# "Carboneras, Carlos (1992).", "Elliott, Andrew; Sargatal, Jordi (eds.)", "de Kloet, Siwo R. (July
# 1988)": a reference list's authors, surname first. Matched on the text, since the model reads
# them as two names, or as a surname and a first name apart.
_GIVEN = r"(?:[A-Z][a-zà-ÿ'’\-]+|[A-Z]\.)"
BIBLIOGRAPHY_NAME = re.compile(
    r"(?<![\w'’\-])"
    + _PARTICLE
    + r"?"
    + _SURNAME
    + r"(?: "
    + _SURNAME
    + r")?, "
    + _GIVEN
    + r"(?: "
    + _GIVEN
    + r"){0,2}"
    r"(?=\s*(?:;|\(" + _MONTH + r"?(?:\d{1,2} )?(?:19|20)\d\d|\(eds?\.?\)|,\s+eds?\.|\.\s*\((?:19|20)\d\d))"
)

# "Brodziak A Ziółko E Muc-Wierzgoń M Nowakowska-Zajdel E Kokot T": surnames with their initials
# after them, three or more in a row (two could be "Washington DC"). A JATS article lays each
# surname and its initials out as paragraphs of their own, so any whitespace separates them.
_VANCOUVER_AUTHOR = r"(?P<surname>" + _PARTICLE + r"*" + _SURNAME + r")(?P<gap>\s+)[A-Z]{1,3}(?:\s+[A-Z])?(?![\w'’\-])"
_VANCOUVER_RUN = re.compile(
    r"(?<![\w'’\-])"
    + _VANCOUVER_AUTHOR.replace("?P<surname>", "").replace("?P<gap>", "")
    + r"(?:,?\s+"
    + _VANCOUVER_AUTHOR.replace("?P<surname>", "").replace("?P<gap>", "")
    + r"){2,}"
)
_ONE_AUTHOR = re.compile(_VANCOUVER_AUTHOR)


def reference_authors(text: str) -> Iterator[tuple[int, str, bool]]:
    """``(offset, name, initials_after)`` of each reference-list author in ``text``, as written:
    "Sargatal, Jordi", "Kokot T"; the surname alone ("Kokot") when a line break parts it from its
    initials. ``initials_after`` tells the second form (PubMed/Vancouver) from the first."""
    for match in BIBLIOGRAPHY_NAME.finditer(text):
        yield match.start(), match.group().rstrip(), False
    for run in _VANCOUVER_RUN.finditer(text):
        for author in _ONE_AUTHOR.finditer(run.group()):
            name = author.group() if author.group("gap") == " " else author.group("surname")
            yield run.start() + author.start(), name, True


_CITED = re.compile(
    r"^(?:\s+et\s+al\b|\s+and\s+[A-Z][\w'’\-]+,?\s+\(?" + _YEAR + r"(?:[);,\s]|$)|,\s+" + _YEAR + r"(?:[);]|\s|$)"
    r"|\s+\(" + _YEAR + r"\)|\s+" + _YEAR + r",\s+pp?\.)"
)


def is_cited_author(following: str) -> bool:
    """The text after a name makes it a citation's author: "Semba et al., 2013", "Higman 2012",
    "Hancks and Kazazian, 2016", "Zhang (2008)", "Langmead and Salzberg, 2012" in a table."""
    return bool(_CITED.match(following[:40]))


_INVERTED_NAME = re.compile(r"^[A-Z][\w'’\-]+, [A-Z][a-z][\w'’\-]*(?: [A-Z]\.)?$")


def is_inverted_person(text: str) -> bool:
    """ "Foster, Richard", "Ross, James M.": a person's name as a bibliography writes it."""
    return bool(_INVERTED_NAME.match(text))


# What comes before a cited work's title: "Thorpe, I. J. (1996). The ", "(2000). \"Long-Term Pair
# Bonds in ", "Klakla K 2012 The ".
_TITLE_OPENS = re.compile(
    r"(?:\(" + _MONTH + r"?(?:\d{1,2} )?" + _YEAR + r"\)\.\s*(?:[\"“][^\"”]*)?|\b[A-Z]{1,3} " + _YEAR + r" )"
    r"(?:(?:The|A|An)\s+)?$"
)


def is_cited_title(before: str) -> bool:
    """``before`` (the text up to a span) ends where a cited work's title starts, or inside a quoted
    title after a reference's year: the span is (part of) the title, not an organisation."""
    return bool(_TITLE_OPENS.search(before[-200:]))


_JOURNAL_FOLLOWS = re.compile(r"^\s+" + _YEAR + r"(?:;\s*|\s+)\d+\s*(?:\(\d+\)\s*)?[:\s]\s*[\de]")


def is_journal(following: str) -> bool:
    """The text after a name is a reference's year, volume and pages ("Filaria J 2007 6 12",
    "Nat Clim 2016;6: 452"): the name is a journal's, abbreviated."""
    return bool(_JOURNAL_FOLLOWS.match(following[:40]))


def with_reference_authors(found: list[Found], chunk_texts: Mapping[int, str]) -> list[Found]:
    """``found`` with the authors of reference lists in ``chunk_texts`` (:func:`reference_authors`)
    as one person each, in place of the pieces the model made of them; vocabulary mentions stay.

    An author written surname first is added even where the model saw nothing; one written with
    initials after only replaces a model span ("Nowakowska" read as an organisation): that form's
    shape is looser, so it corrects what the model read rather than adding names of its own, and
    keeps the model span's standing (a span alone in its unit needs the name in running text).
    """
    spans: dict[int, list[Found]] = {}
    for f in found:
        if f.mention.source != "vocabulary":
            spans.setdefault(f.mention.chunk_index, []).append(f)
    people: list[Found] = []
    for chunk_index, chunk_text in chunk_texts.items():
        for start, text, initials_after in reference_authors(chunk_text):
            end = start + len(text)
            under = [f for f in spans.get(chunk_index, ()) if f.mention.char_start < end and start < f.mention.char_end]
            if initials_after and not under:
                continue
            mention = Mention(chunk_index, text, "PERSON", start, end, canonical_key(text), canonical_name(text))
            # A corrected span keeps what the model's span was worth: a lone word needs running text.
            people.append(Found(mention, initials_after and all(f.no_context for f in under)))
    if not people:
        return found
    taken = {(f.mention.chunk_index, f.mention.char_start, f.mention.char_end) for f in people}
    kept = [
        f
        for f in found
        if f.mention.source == "vocabulary"
        or not any(
            c == f.mention.chunk_index and s < f.mention.char_end and f.mention.char_start < e for c, s, e in taken
        )
    ]
    return sorted([*kept, *people], key=lambda f: (f.mention.chunk_index, f.mention.char_start))
