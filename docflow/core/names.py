"""File names as data: the exact identity of a file, and the form that is safe to store and show.

A file name is user input. It is never used as a path or an object key (keys are content hashes);
it is stored and displayed, so it must be text PostgreSQL accepts and must not be able to disguise
itself in a terminal or a web page.
"""

from __future__ import annotations

import re
import unicodedata

# C0/C1 controls, and the bidirectional overrides/isolates/marks that make "invoice\u202etxt.exe"
# display as "invoiceexe.txt" in a UI or terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MAX_DISPLAY_CHARS = 255


def storable_path(name: str) -> str:
    """The exact name as text PostgreSQL can store: a file's identity in the intake ledger.

    Linux names are bytes; Python shows bytes that are not UTF-8 as lone surrogates, which no
    database accepts. Those become ``\\xNN``; every other character is kept as is, so two
    different files never share a key (unlike :func:`display_name`, which normalises and shortens).
    """
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        try:
            return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate that did not come from undecodable bytes
            return name.encode("utf-8", "backslashreplace").decode("utf-8")


def base_name(name: str) -> str:
    """The last part of a path-like name ("../../evil.txt" -> "evil.txt", "C:\\a\\b.pdf" -> "b.pdf").

    A name that arrives with a path (an upload's ``filename``, a mail attachment's) keeps only its
    file name: the folders it claims are the sender's, not a place here. A name with nothing left
    ("..", "/") stays as it was, to be shown as given.
    """
    last = re.split(r"[/\\]", name)[-1]
    return last if last not in ("", ".", "..") else name


def display_name(name: str) -> str:
    """A filename safe to store and show: NFC, control characters replaced, bounded length."""
    cleaned = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", unicodedata.normalize("NFC", storable_path(name)))
    return cleaned if len(cleaned) <= MAX_DISPLAY_CHARS else cleaned[:120] + "…" + cleaned[-120:]
