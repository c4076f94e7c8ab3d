"""A project vocabulary matched in a document with spaCy's entity ruler.

Matching a vocabulary against a document's text (:meth:`VocabularyRuler.apply`) replaces every
model entity that a vocabulary span overlaps; a span of an alias carries its entry's canonical key
and display name, so "HB" and "Harbour Bank plc" are one entity. The entries themselves and the
file formats are :mod:`docflow.core.vocabulary`.

Pure apart from building the spaCy matcher (cached per process by content hash).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from docflow.core.entity_names import canonical_key
from docflow.core.vocabulary import VocabularyEntry, is_acronym, vocabulary_hash

__all__ = ["VocabularyRuler", "vocabulary_ruler"]

_CACHE_SIZE = 8


class VocabularyRuler:
    """An ``EntityRuler`` over one vocabulary, and the entry behind each of its keys.

    Entries sharing a key (a name or alias of one equals, once canonical, another's) resolve
    to the first entry listing it.
    """

    def __init__(self, entries: Sequence[VocabularyEntry], nlp: Any) -> None:
        from spacy.pipeline import EntityRuler

        self.hash = vocabulary_hash(entries)
        self.entries: tuple[VocabularyEntry, ...] = tuple(entries)
        self._nlp = nlp
        self._by_key: dict[str, VocabularyEntry] = {}
        for entry in self.entries:
            for form in (entry.name, *entry.aliases):
                self._by_key.setdefault(canonical_key(form), entry)
        self._ruler = EntityRuler(nlp, name="vocabulary", phrase_matcher_attr="LOWER", overwrite_ents=True)
        patterns: list[dict[str, Any]] = []
        for entry in self.entries:
            for form in entry.surface_forms():
                pattern: str | list[dict[str, str]] = form
                if is_acronym(form):
                    pattern = [{"ORTH": token.text} for token in nlp.make_doc(form)]
                patterns.append({"label": entry.label, "pattern": pattern, "id": entry.key})
        if patterns:
            self._ruler.add_patterns(patterns)

    def entry_for_key(self, key: str) -> VocabularyEntry | None:
        """The entry whose name or alias has canonical key ``key``."""
        return self._by_key.get(key)

    def apply(self, doc: Any) -> Any:
        """Set the vocabulary's spans on ``doc`` (in place), dropping model spans they overlap.

        A vocabulary span's ``id_`` is its entry's canonical key.
        """
        if self.entries:
            self._ruler(doc)
        return doc


_cache: OrderedDict[tuple[str, int], tuple[Any, VocabularyRuler]] = OrderedDict()
_cache_lock = threading.Lock()


def vocabulary_ruler(entries: Sequence[VocabularyEntry], *, nlp: Any) -> VocabularyRuler:
    """The :class:`VocabularyRuler` for ``entries`` on ``nlp``'s tokenizer, built once per content.

    Cached per process by (content hash, pipeline): asking again with equal entries returns
    the same ruler; a changed vocabulary (an entry added, removed or edited) builds a new one.
    The few most recent vocabularies are kept.
    """
    key = (vocabulary_hash(entries), id(nlp))
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] is nlp:
            _cache.move_to_end(key)
            return cached[1]
    ruler = VocabularyRuler(entries, nlp)
    with _cache_lock:
        _cache[key] = (nlp, ruler)
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return ruler
