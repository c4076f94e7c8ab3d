"""The sentence patterns, per language: what the words between two names must look like for each kind.

A :class:`Pattern` reads a pair of entities ``a`` (first in the sentence) and ``b``: their roles
(PER, ORG, LOC, FAC) must be in ``a``/``b``; ``mid`` must match the whole text between them; ``pre``
(if set) the end of the text before ``a``; ``post`` (if set) the start of the text after ``b``. The
relation goes ``a → b``, or ``b → a`` with ``swap``. The first pattern of the list that reads a pair
is the one that holds, so the specific come before the general. Texts are lower-cased; other
entities appear as ``⟨org⟩``, ``⟨per⟩``, ``⟨loc⟩`` (patterns keep them out of their fillers, ``[^⟨⟩]``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tasks.steps.relations.lexicon import ROLE

__all__ = ["NOT_REVIEWING", "ORGAN", "Pattern", "gap", "its_sites_in", "place_gap", "role_phrase"]

PER, ORG, LOC, FAC, AMB = "PER", "ORG", "LOC", "FAC", "AMB"
PARTY = (ORG, PER, FAC, AMB)  # recognisers swap these labels often; the trigger words decide
COMPANY = (ORG, FAC, AMB)
PLACE = (LOC, AMB)
PERSON = (PER,)
ORGANISATION = (ORG, FAC, AMB)


@dataclass(frozen=True)
class Pattern:
    kind: str
    producer: str
    a: tuple[str, ...]
    b: tuple[str, ...]
    mid: str
    pre: str | None = None
    post: str | None = None
    swap: bool = False
    confidence: float = 0.8
    far: bool = False  # long filler allowed, checked on the parse through ``trigger``
    trigger: str = ""
    role: str = ""  # the role (ROLE_AT) or detail when the pattern has no group for it
    subject: bool = False  # ``a`` is the subject of the verb in ``mid``: not when a preposition governs it
    conjoined: bool = False  # ``a`` may be the subject of a second verb after "and" ("... and hosted in B")
    between: bool = False  # other names may stand between the two (the pattern says where)
    not_after: str = ""  # ``a`` must not follow this (end of ``pre``): "founded by X" is no subsidiary
    blocked_by: tuple[str, ...] | None = None  # roles that may not stand between (default: those of a and b)
    _compiled: tuple[re.Pattern[str], re.Pattern[str] | None, re.Pattern[str] | None] = field(
        init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        compiled = (
            re.compile(self.mid, re.DOTALL),
            re.compile(f"(?:{self.pre})$", re.DOTALL) if self.pre else None,
            re.compile(self.post, re.DOTALL) if self.post else None,
        )
        object.__setattr__(self, "_compiled", compiled)

    def match(self, mid: str, pre: str, post: str) -> dict[str, str] | None:
        """The named groups of a match (``role``, ``former``), or None."""
        mid_re, pre_re, post_re = self._compiled
        found = mid_re.fullmatch(mid)
        if found is None:
            return None
        groups = {k: v for k, v in found.groupdict().items() if v}
        for regex, text, anchored in ((pre_re, pre, False), (post_re, post, True)):
            if regex is None:
                continue
            other = regex.match(text) if anchored else regex.search(text)
            if other is None:
                return None
            groups.update({k: v for k, v in other.groupdict().items() if v})
        return groups


def gap(n: int) -> str:
    """Up to ``n`` characters holding no other entity and no clause break."""
    return rf"[^⟨⟩;]{{0,{n}}}?"


def place_gap(n: int) -> str:
    """Up to ``n`` characters holding no clause break, places allowed ("registered in ⟨loc⟩ with its office in")."""
    after_locative = "(?:(?<=in )|(?<=en )|(?<=à )|(?<=au )|(?<=at ))"
    return rf"(?:[^⟨⟩;]|{after_locative}⟨(?:loc|amb)⟩){{0,{n}}}?"


ART = r"(?:(?:the|a|an|la|le|les|el|los|las|un|una|une|lo)\s+|l'|d')?"
TITLE = (
    r"(?:(?:m\.|mme\.?|mr\.?|mrs\.?|ms\.?|dr\.?|d\.|dña\.?|dª|don|doña|maître|me|sr\.?|sra\.?|professor|prof\.?)\s*)*"
)
NOUN = (
    r"(?:(?:société|sociétés|sociedad|groupe|grupo|group|cabinet|banque d'affaires|banque|bank|firm|company|"
    r"empresa|compañía|holding|enseigne|startup|laboratoire|consultora|patronal|pôle|fondo de inversiones|"
    r"fondo de inversión|fonds|entidad|société anonyme|sociedad anónima|operadora|plataforma)\s+)?"
)
# A company's organ between a role and the company: "chairman of the board of directors of X",
# "presidente ejecutivo del consejo de administración de X", "membre du conseil de surveillance de X".
ORGAN = (
    r"(?:(?:board of directors|board|supervisory board|executive committee|audit committee|"
    r"conseil d'administration|conseil de surveillance|directoire|comité exécutif|comité de direction|"
    r"consejo de administración|comisión ejecutiva|comité de dirección|comité ejecutivo|junta directiva)"
    r"\s+(?:of|de|del|du|d')\s*(?:(?:the|la|le|el)\s+|l')?)?"
)
# A regulator that authorises, approves or examines an acquisition is no party to it ("La CNMC ha
# autorizado la adquisición de X por parte de Y"): put first in a pattern's ``mid``.
NOT_REVIEWING = (
    r"(?![^⟨⟩;]{0,60}\b(?:autoriz|aprob|approv|authori[sz]|autoris|clear|examin|notifi|review|analy[sz]|analiz)\w*\b)"
)
# Up to three lower-case words before a name ("la malterie", "the startup"), none a preposition that
# would make the name a complement ("purchase by X").
LOWER_WORDS = r"(?:(?!(?:by|par|por|from|de|del|of)\s)[a-zà-ÿ'-]+\s+){0,3}?"


def role_phrase(language: str) -> str:
    """A role phrase: a title and up to a few words around it ("directrice financière adjointe")."""
    return rf"(?P<role>(?:[\w'&.-]+\s+){{0,3}}?{ROLE[language]}(?:\s+[\w'&.-]+){{0,4}}?)"


# Where a company's own sites are: "Hoteles Alba ... para sus seis hoteles de Asturias".
_SITES = {
    "en": (r"its|their", r"hotels|stores|shops|plants|factories|offices|branches|warehouses|restaurants|sites|mines|farms",
           r"in|across"),
    "fr": (r"ses|leurs", r"hôtels|magasins|boutiques|usines|bureaux|agences|entrepôts|restaurants|sites|implantations",
           r"en|à|au|aux|dans"),
    "es": (r"sus", r"hoteles|tiendas|plantas|fábricas|oficinas|sucursales|almacenes|restaurantes|centros|establecimientos",
           r"de|en"),
}  # fmt: skip


def its_sites_in(language: str) -> Pattern:
    """``OPERATES_IN``: the sentence's first name, its subject, has its sites ("its N stores") in a place.

    Other names may stand between (the object of the verb), but not one joined to the possessive
    ("bought Beta and its stores in Spain": Beta's stores).
    """
    possessive, sites, prepositions = _SITES.get(language, _SITES["en"])
    return Pattern(
        "OPERATES_IN",
        "pattern:its-sites-in",
        COMPANY,
        PLACE,
        rf"(?![^;]*⟨\w+⟩\s*,?\s*(?:and|y|et)\s+(?:{possessive})\b)[^;]{{0,160}}?\b(?:{possessive})\s+"
        rf"(?:[\w-]+\s+){{0,2}}?(?P<role>{sites})\s+(?:{prepositions})\s+{ART}",
        pre=r"^\s*",
        subject=True,
        between=True,
        confidence=0.6,
    )
