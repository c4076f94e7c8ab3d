"""Words the relation rules look for, per language (English, French, Spanish). Data only.

Every list is written as regular-expression alternatives (lower case: patterns match the lower-cased
text), longest first where one is a prefix of another.
"""

from __future__ import annotations

import re

__all__ = ["ROLE", "ROLE_TYPES", "FORMER", "NEGATION", "HYPOTHETICAL", "DATE", "role_type"]


def _alternatives(*words: str) -> str:
    return "(?:" + "|".join(sorted(words, key=len, reverse=True)) + ")"


# A role (a title) in each language; a role phrase is up to a few more words around one of these.
ROLE = {
    "en": _alternatives(
        "chief executive officer",
        "chief financial officer",
        "chief operating officer",
        "chief technology officer",
        "chief [a-z]+ officer",
        "ceo",
        "cfo",
        "coo",
        "cto",
        "president",
        "vice president",
        "vice-president",
        "chairman",
        "chairwoman",
        "chairperson",
        "chair",
        "director",
        "managing director",
        "executive director",
        "non-executive director",
        "founder",
        "co-founder",
        "cofounder",
        "partner",
        "managing partner",
        "general counsel",
        "counsel",
        "associate",
        "secretary",
        "company secretary",
        "treasurer",
        "head",
        "manager",
        "officer",
        "employee",
        "member",
        "board member",
        "lead",
        "leader",
        "analyst",
        "trader",
        "engineer",
        "professor",
        "lecturer",
        "researcher",
        "executive",
        "trustee",
        "governor",
        "commissioner",
        "spokesperson",
        "spokesman",
        "spokeswoman",
        "controller",
        "steward",
        "exec director",
        "owner",
        "attorney",
        "lawyer",
        "auditor",
        "adviser",
        "advisor",
        "consultant",
        "accountant",
        "economist",
        "administrator",
        "vice chair",
        "vice-chair",
    ),
    "fr": _alternatives(
        "président-directeur général",
        "présidente-directrice générale",
        "président",
        "présidente",
        "pdg",
        "vice-président",
        "vice-présidente",
        "directeur",
        "directrice",
        "dg",
        "gérant",
        "gérante",
        "associé",
        "associée",
        "avocat",
        "avocate",
        "avocate associée",
        "avocat associé",
        "fondateur",
        "fondatrice",
        "cofondateur",
        "cofondatrice",
        "administrateur",
        "administratrice",
        "membre",
        "responsable",
        "conseiller",
        "conseillère",
        "secrétaire",
        "trésorier",
        "trésorière",
        "chef",
        "ingénieur",
        "ingénieure",
        "salarié",
        "salariée",
        "employé",
        "employée",
        "collaborateur",
        "collaboratrice",
        "conservateur",
        "conservatrice",
        "délégué",
        "déléguée",
        "patron",
        "dirigeant",
        "dirigeante",
        "mandataire",
        "préfet",
        "préfète",
        "ambassadeur",
        "ambassadrice",
        "inspecteur",
        "inspectrice",
        "procureur",
        "juge",
        "magistrat",
        "magistrate",
        "recteur",
        "rectrice",
        "commissaire",
        "contrôleur",
        "contrôleuse",
        "rapporteur",
        "rapporteure",
        "chargé de mission",
        "chargée de mission",
    ),
    "es": _alternatives(
        "presidente",
        "presidenta",
        "vicepresidente",
        "vicepresidenta",
        "consejero delegado",
        "consejera delegada",
        "consejero",
        "consejera",
        "director",
        "directora",
        "director general",
        "directora general",
        "administrador único",
        "administradora única",
        "administrador",
        "administradora",
        "socio director",
        "socia directora",
        "socio",
        "socia",
        "fundador",
        "fundadora",
        "cofundador",
        "cofundadora",
        "abogado",
        "abogada",
        "gerente",
        "responsable",
        "jefe",
        "jefa",
        "miembro",
        "secretario",
        "secretaria",
        "tesorero",
        "tesorera",
        "patrono",
        "patrona",
        "magistrado",
        "magistrada",
        "empleado",
        "empleada",
        "directivo",
        "directiva",
        "ceo",
        "delegado",
        "delegada",
        "expresidente",
        "expresidenta",
        "exdirector",
        "exdirectora",
        "subdirector",
        "subdirectora",
        "juez",
        "jueza",
        "fiscal",
        "embajador",
        "embajadora",
        "interventor",
        "interventora",
        "vocal",
        "rector",
        "rectora",
        "decano",
        "decana",
        "comisionado",
        "comisionada",
    ),
}

# What kind of role a title is (the vocabulary: officer, director, employee, founder, member,
# counsel, chair); first match wins.
ROLE_TYPES: list[tuple[str, re.Pattern[str]]] = [
    ("founder", re.compile(r"found|fondat|fundad|cofound|cofond|cofund")),
    ("counsel", re.compile(r"counsel|lawyer|attorney|avocat|abogad|legal|juridique")),
    ("chair", re.compile(r"\bchair|présidence du conseil|président du conseil|presidente del consejo|presid|présid")),
    ("officer", re.compile(r"consejer[oa] delegad")),  # the Spanish chief executive
    ("director", re.compile(r"non-executive|board|administrat|consejer|trustee|director\b(?! general)")),
    (
        "officer",
        re.compile(
            r"chief|ceo|cfo|coo|cto|officer|pdg|\bdg\b|directeur|directrice|director|dirig|head|gérant|gerente|manag|secret|treasur|trésor|tesor|exec|vice"
        ),
    ),
    ("member", re.compile(r"member|membre|miembro|partner|associ|socio|socia|patron")),
]


def role_type(role: str) -> str:
    role = role.casefold()
    for name, pattern in ROLE_TYPES:
        if pattern.search(role):
            return name
    return "employee"


# A role or tie that has ended.
FORMER = {
    "en": r"\b(?:former(?:ly)?|ex-|previously|used to|until|then|erstwhile|left|retired|resigned)\b",
    "fr": r"\b(?:ancien(?:ne)?|auparavant|ex-|précédemment|jusqu'(?:à|en)|a quitté|démission|relevé|sortant(?:e)?)",
    "es": r"\b(?:anteriormente|antiguo|antigua|ex-?\w*|hasta (?:ahora|\d{4})|relevo|dimisión|saliente|fue)\b",
}
# Negation in the clause between two names: the relation is denied, not stated.
NEGATION = {
    "en": r"\b(?:not|no|never|neither|nor|nobody|none|n't|without|unlike|denied|denies)\b",
    "fr": r"\b(?:ne|n'|pas|jamais|aucun(?:e)?|ni|sans|dément)\b|\bn[’']",
    "es": r"\b(?:no|nunca|jamás|ningún|ninguna|ni|sin|niega)\b",
}
# Intentions, talks and possibilities: stated as not (yet) true (the month of May is no "may").
HYPOTHETICAL = {
    "en": r"\b(?:consider(?:s|ing|ed)?|(?<!in )(?<!of )may(?!\s+\d)|might|could|would|talks?|rumou?r(?:s|ed)?|intends?|intention|plans? to|weigh(?:s|ing)?|explor(?:e|es|ing)|potential|possible|proposed|offer for|bid for|in talks)\b",
    "fr": r"\b(?:envisag\w*|pourrai\w*|pourrait|intention|négociations?|discussions?|rumeurs?|projet de|étudie|potentiel\w*|éventuel\w*)\b",
    "es": r"\b(?:estudia\w*|podría\w*|conversaciones|negociaciones|intención|posible|eventual\w*|rumores?|barajan?)\b",
}

_MONTHS = {
    "en": "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec",
    "fr": "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre",
    "es": "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre",
}
# A date as written: day month year, month day, year; month year; ISO; a bare year after "in"/"en".
DATE = {
    language: re.compile(
        rf"\b(?:\d{{1,2}}(?:er|º|°)?\s+(?:de\s+)?(?:{months})\.?(?:\s+(?:de\s+)?\d{{4}})?"
        rf"|(?:{months})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
        rf"|(?:{months})\s+(?:de\s+)?\d{{4}}"
        rf"|\d{{4}}-\d{{2}}-\d{{2}}"
        rf"|(?<=\b(?:in|en|au|el|le) )(?:19|20)\d{{2}})\b",
        re.IGNORECASE,
    )
    for language, months in _MONTHS.items()
}
