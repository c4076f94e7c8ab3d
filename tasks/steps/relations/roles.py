"""What one occurrence of a name can be in a relationship, from its label, its words and its context. Pure.

The recognisers mix organisation, person and place labels up; the words of a name ("Hoteles Alba"),
the words around it ("la société X", "headquartered in X", "X, who ...", "X, an independent research
institute") and the document's layout (a street line, a state code before a ZIP code) say better
what it is. :func:`occurrence_role` gives one of ``PER``, ``ORG``, ``LOC``, ``AMB`` (an organisation or
a place), ``FAC``, ``DATE``, ``GENERIC`` (no end of a relationship, read as words: a stand-in, a street)
or ``PART`` (no end either, but a name that stands between two others: a fragment of a longer name,
two names read as one). It never changes the stored entities, only how the relation rules read them.
"""

from __future__ import annotations

import re

__all__ = ["cut_name_parts", "occurrence_role", "role_title_parts"]

# Words that make a name an organisation whatever its label ("Hoteles Alba", "Consorcio Eólico del
# Ebro", "Banque Populaire"), and legal forms.
_ORGANISATION_WORDS = re.compile(
    r"\b(?:group|groupe|grupo|holding|hoteles?|hôtels?|transportes?|naviera|industrias?|industries|"
    r"consorcio|consortium|fundación|fondation|foundation|universi(?:ty|té|dad)|banco|banque|bank|caja|"
    r"compañía|company|société|sociedad|cabinet|despacho|bufete|lavander[íi]as?|conservas|aceites|"
    r"distribuciones|energías?|énergies?|telecom\w*|laboratoire|laboratorios?|clínica|clinique|"
    r"association|asociación|federation|fédération|federación|institut[oe]?|institute|agency|agence|"
    r"avocats|abogados|brasserie|ateliers?|pumps|partners|capital|consulting|advisory|systems|software|"
    r"technologies|solutions|services|logistics|cosmétiques|distribution|matériaux|composites|usinage|fret|"
    r"foods|markets|grocers|energy|grid|instruments|holdings?|participations|industries|pharma|"
    r"biologics|diagnostics|chemicals|components|shipping|drainage|creamery|pescados|inversiones|"
    r"agencia|ministry|ministère|ministerio|tribunal|court|council|conseil|consejo|comisión|commission|"
    r"corp\.?|corporation|inc\.?|ltd\.?|llc|plc|gmbh|s\.?a\.?s?\.?u?\.?|s\.?l\.?u?\.?|sarl|sas|ag|nv|bv|spa|srl)\b",
    re.IGNORECASE,
)
# Names that are organs or stand-ins, not entities of their own: a relation to "the Board" or
# "la Sociedad" is no relation to a named organisation.
_GENERIC = frozenset(
    [
        "board",
        "directors",
        "consejo",
        "conseil",
        "sociedad",
        "société",
        "company",
        "compañía",
        "grupo",
        "groupe",
        "group",
        "administración",
        "comisión",
        "commission",
        "agreement",
        "contrato",
        "contract",
        "client",
        "cliente",
        "supplier",
        "proveedor",
        "sala",
        "décision",
        "decision",
        "décret",
        "decreto",
        "acuerdo",
        "madame",
        "monsieur",
        "señor",
        "señora",
        "sir",
        "madam",
        "mr",
        "mrs",
        "ms",
    ]
)
# A name right after one of these prepositions is used as a place ("con sede en Barcelona").
_LOCATIVE = re.compile(
    r"(?:\b(?:in|at|near|from|en|à|au|aux|dans|desde|près de|cerca de|départements? de|régions? de|"
    r"provincia de|comunidad de|region of|state of))\s+(?:the\s+|la\s+|le\s+|l'|el\s+)?$",
    re.IGNORECASE,
)
# A name right after these words is a place whatever its label (the recognisers take "Rotterdam" for a
# person often enough): where a company is based, registered or has its seat.
_SEAT_BEFORE = re.compile(
    r"(?:\b(?:headquartered|based|located|registered|incorporated|domiciled|situated)\s+(?:in|at)"
    r"|\bsiège(?: social)?(?: est)?(?: situé| fixé| établi)?\s+(?:à|en)"
    r"|\b(?:basée?s?|située?s?|implantée?s?|domiciliée?s?)\s+à"
    r"|\bsede(?: social)?\s+en|\b(?:domiciliad|ubicad|radicad)[ao]s?\s+en)\s+(?:the\s+|la\s+|le\s+|el\s+)?$",
    re.IGNORECASE,
)
# A street is part of an address, not a place something is located in ("Calle de Serrano 41").
_STREET = re.compile(
    r"^(?:calle|c/|avenida|avda\.?|paseo|plaza|carrer|rue|avenue|boulevard|bd|chemin|allée|quai|impasse|"
    r"street|road|lane|drive)\b",
    re.IGNORECASE,
)
# A name in quotes after an indefinite article is a thing named (a programme, a product), not a party:
# 'developed a "Revenue Recovery Initiative"', 'lance une « Offre Verte »'.
_NAMED_THING_BEFORE = re.compile(r"\b(?:a|an|un|une|una)\s+[\"“«]\s*$", re.IGNORECASE)
_CLOSING_QUOTE_AFTER = re.compile(r"^\s*[\"”»]")
# A point of the compass is a direction, not a named place ("présente dans le Sud Ouest, le Sud Est").
_COMPASS = re.compile(
    r"^(?:nord|sud|est|ouest|north|south|east|west|norte|sur|este|oeste)(?:[\s-]+(?:nord|sud|est|ouest|east|west|este|oeste))?$",
    re.IGNORECASE,
)
_STREET_END = re.compile(
    r"\b(?:street|st\.?|road|rd\.?|way|avenue|ave\.?|lane|drive|boulevard|blvd\.?|parkway|plaza|square)$", re.IGNORECASE
)
# A house number opens the line ("45 Harbor Way", "910 Travis"); a postcode has five digits or more ("25000 Besançon").
_HOUSE_NUMBER = re.compile(r"(?:^|\n)\s*\d{1,4}[a-zA-Z]?,?\s+$")
# A state's two-letter code before a ZIP code is part of the postal line ("Boston, MA 02110"), not a place of its own.
_STATE_CODE = re.compile(r"^[A-Z]{2}$")
_ZIP_AFTER = re.compile(r"^\s+\d{5}(?:-\d{4})?\b")
# A name followed by a relative pronoun for people is a person's ("Helena Stroud, who used to run...");
# a name where someone works is an organisation's ("trabajó en Uría Menéndez", "works at Baker").
_PERSON_AFTER = re.compile(r"^\s*,\s*(?:who|whom|qui|quien|quienes)\b", re.IGNORECASE)
_WORKPLACE_BEFORE = re.compile(
    r"\b(?:works?|worked|working)\s+(?:at|for)\s+$|\btrabaj(?:a|ó|aba|an|aron)\s+(?:en|para)\s+$"
    r"|\b(?:travaill(?:e|é|ait|ent)|exerc(?:e|é|ait))\s+(?:chez|pour)\s+$|\bchez\s+$",
    re.IGNORECASE,
)
# A name right after one of these nouns is an organisation's ("la société X", "du groupe X").
_ORGANISATION_BEFORE = re.compile(
    r"\b(?:société|sociétés|groupe|group|grupo|sociedad|company|firm|cabinet|holding|enseigne|filiale|filial|"
    r"subsidiary|banque d'affaires|banque|bank|consultora|empresa|compañía|startup|laboratoire|patronal|"
    # a business named by what it does: "la malterie Grains d'Or", "the carmaker Renault"
    r"malterie|usine|clinique|brasserie|coopérative|fabricant|distributeur|constructeur|opérateur|"
    r"cooperativa|fabricante|distribuidora|aseguradora|naviera|bodega|"
    r"manufacturer|maker|carmaker|retailer|developer|insurer|lender|airline|carrier|brewery|cooperative)"
    r"\s+(?:anonyme\s+|anónima\s+)?$",
    re.IGNORECASE,
)
_LIST_JOIN = re.compile(
    r"^\s*(?:,|and|et|y|e|ou|o|or)\s*(?:,\s*)?(?:(?:en|à|au|aux|in|de|du|des|del)\s+)?(?:(?:la|le|el|the)\s+|l')?$",
    re.IGNORECASE,
)

# An apposition that says what a name is: "Deltares, an independent research institute based in Delft".
# The noun must head the apposition (followed by punctuation or a complement), so "a company director"
# is no organisation.
_ORGANISATION_APPOSITION = re.compile(
    # (not the French "a" of a verb: "Vincent Aubry, a quitté la coopérative en décembre")
    r"^\s*,\s*(?!a\s+[a-zà-ÿ]+(?:é|i|is|it|u|us)\s)(?:(?:a|an|the|its|une?|la|le|el|una?)\s+|l')?(?:(?!(?:of|de|du|del|des)\s)[a-zà-ÿ-]+\s+){0,3}?"
    r"(?:institute|company|firm|agency|bank|startup|start-up|developer|manufacturer|maker|supplier|provider|"
    r"operator|consortium|association|university|laboratory|insurer|retailer|producer|fund|group|charity|"
    r"cooperative|société|entreprise|groupe|cabinet|coopérative|empresa|compañía|sociedad|consultora|"
    r"cooperativa|fabricante|proveedor|distribuidora)"
    r"(?=\s*[,.;(]|\s+(?:based|headquartered|of|in|from|for|with|that|which|whose|basée?|dont|qui|spécialisée?|"
    r"implantée?|con|de|del|du|des|en|à|specialised|specializing|specialising)\b)"
)
# A one-word name right after a person and "of"/"from"/"at" is where the person works ("Ravi Menon of Quantix").
_OF_AFTER_PERSON = re.compile(r"^\s*,?\s*(?:of|from|at|chez)\s+$", re.IGNORECASE)
# A capitalised institution word and "of"/"de" just before a name: the name is the tail of a longer one the
# recogniser cut ("Clinique des Alpes" read as "Alpes", "Banque de France" as "France").
_NAME_HEAD_BEFORE = re.compile(
    r"\b(?:Clinique|Clínica|Clinic|Hôpital|Hospital|Université|Universidad|University|Banque|Banco|Bank|Caisse|Caja|"
    r"Institut|Instituto|Institute|École|Escuela|School|Musée|Museo|Museum|Fondation|Fundación|Foundation|"
    r"Ministère|Ministerio|Ministry|Chambre|Cámara|Chamber|Tribunal|Court|Hôtel|Hotel|Collège|Colegio|College)"
    r"\s+(?:de\s+la|de\s+los|de\s+las|des|du|del|de|d'|of\s+the|of)\s*$"
)
# Two names of two words or more joined by "and"/"y"/"et" are two entities read as one
# ("Alantra Agencia de Valores y Alantra SGIIC"); "Johnson and Johnson", "Securities and Exchange
# Commission" have a one-word side.
_TWO_NAMES = re.compile(r"^(?P<left>.+?)\s+(?:and|y|et|e)\s+(?P<right>[A-ZÀ-Þ].+)$")
_CAPITALISED = re.compile(r"\b[A-ZÀ-Þ0-9][\w'&.-]*")


def occurrence_role(text: str, *, start: int, end: int, role: str, previous: tuple[int, str] | None) -> str:
    """The role of the name ``text[start:end]``, labelled ``role`` (see above); ``previous`` is the
    ``(end, role)`` of the occurrence before it, if any."""
    name = text[start:end]
    bare = re.sub(r"^(?:the|la|le|les|el|los|las|l')\s*", "", name.casefold()).strip(" .,")
    # The words just before it, in its own line and table cell: a column header is no context.
    before = re.split(r"[\n|]", text[max(0, start - 30) : start])[-1]
    after = text[end : end + 120]
    if role in ("PER", "ORG", "AMB", "LOC") and (
        bare in _GENERIC
        or _COMPASS.match(bare)
        or _is_street(text, name, role, end, before)
        or (_NAMED_THING_BEFORE.search(before) and _CLOSING_QUOTE_AFTER.match(text[end : end + 3]))
    ):
        return "GENERIC"  # a stand-in ("the Board"), a direction, a street, a thing named: no end
    if role in ("PER", "ORG", "AMB", "LOC") and _is_fragment(name, before):
        return "PART"  # a piece of a longer name, or two names: still a name between two others, but no end
    if role in ("LOC", "AMB", "PER") and (
        _ORGANISATION_WORDS.search(name) or _ORGANISATION_BEFORE.search(before) or _ORGANISATION_APPOSITION.match(after)
    ):
        return "ORG"
    if role == "PER" and _SEAT_BEFORE.search(before):
        return "LOC"
    if role == "PER" and _WORKPLACE_BEFORE.search(before):
        return "ORG"
    if (
        role == "PER"
        and previous is not None
        and previous[1] == "PER"
        and " " not in name
        and _OF_AFTER_PERSON.match(text[previous[0] : start])
    ):
        return "ORG"
    if role in ("ORG", "AMB") and _PERSON_AFTER.match(text[end : end + 12]):
        return "PER"
    if role != "AMB":
        return role
    if _LOCATIVE.search(before):
        return "LOC"
    between = re.sub(r"\s*\([^()]{0,12}\)", "", text[previous[0] : start]) if previous is not None else ""
    if previous is not None and previous[1] == "LOC" and _LIST_JOIN.match(between):
        return "LOC"  # listed with a place: "en España, Portugal y México", "de la Loire (42) et de la Saône"
    return "AMB"


def _is_street(text: str, name: str, role: str, end: int, before: str) -> bool:
    """A street or a postal code in an address line, not a place something is in."""
    if _STREET.match(name) or _STREET_END.search(name):
        return True
    if role != "LOC" and _HOUSE_NUMBER.search("\n" + before):
        return True  # "910 Travis": a name the recogniser did not take for a town, after a house number
    return bool(_STATE_CODE.match(name) and _ZIP_AFTER.match(text[end : end + 12]))


def _is_fragment(name: str, before: str) -> bool:
    """The tail of a longer name the recogniser cut, or two names read as one."""
    if _NAME_HEAD_BEFORE.search(before):
        return True
    two = _TWO_NAMES.match(name)
    return two is not None and all(len(_CAPITALISED.findall(two.group(side))) >= 2 for side in ("left", "right"))


# "Head of Partnerships, Brightline Energy": a department named in a role title, before the organisation.
_ROLE_HEAD_BEFORE = re.compile(
    r"\b(?:head|director|vice[- ]president|vp|chief|manager|lead|jefe|jefa|director|directora|responsable|"
    r"directeur|directrice|chef)\s+(?:of|for|de|del|du|des|de la)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_BEFORE_ORGANISATION = re.compile(r"^\s*(?:,|at|@|chez|en)\s*$", re.IGNORECASE)


def role_title_parts(text: str, occurrences: list[tuple[int, int, str]]) -> set[int]:
    """Positions of the names that are part of a role title, among ``occurrences`` (start, end, role) in order.

    A name right after "Head of", "Director of", "responsable de" ... and followed by an organisation
    (", Brightline Energy", " at Acme") is the department the role heads, not where it is held.
    """
    parts: set[int] = set()
    for position, (start, end, role) in enumerate(occurrences[:-1]):
        following = occurrences[position + 1]
        if (
            role in ("ORG", "AMB")
            and following[2] in ("ORG", "AMB", "FAC")
            and _ROLE_HEAD_BEFORE.search(text[max(0, start - 40) : start])
            and _BEFORE_ORGANISATION.match(text[end : following[0]])
        ):
            parts.add(position)
    return parts


_OF_PLACE = re.compile(r"^\s+(?:de|del|du|des|of)\s+$|^\s+d'$")


def cut_name_parts(text: str, occurrences: list[tuple[int, int, str]]) -> set[int]:
    """Positions of an organisation's name cut before "de <place>", and of that place, among ``occurrences``.

    "Fundación Bancaria Caixa d'Estalvis i Pensions de Barcelona" read as an organisation and a
    place, "Ateliers de Vitré" as "Ateliers" and "Vitré": the organisation's name runs on, so neither
    piece is an end of a relationship (an organisation is never stated to be in a place this way).
    """
    parts: set[int] = set()
    for position, (_start, end, role) in enumerate(occurrences[:-1]):
        following = occurrences[position + 1]
        if role == "ORG" and following[2] in ("LOC", "AMB") and _OF_PLACE.match(text[end : following[0]]):
            after = text[following[1] : following[1] + 3]
            if not re.match(r"^\s*(?:de|del|du|d')\b", after):  # "X de Y de Z": let the longer reading be
                parts.update((position, position + 1))
    return parts
