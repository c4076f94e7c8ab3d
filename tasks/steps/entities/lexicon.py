"""Word lists the entity rules use (:mod:`.names`, :mod:`.units`, :mod:`.resolution`), in one place.

Compared case-folded. English first; French and Spanish where the same rule applies to them.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Determiners that start a span but not a name ("the United States").
ARTICLES = _words("a an her his its our that the their these this those")

# Forms of address, compared case-folded without a final ".".
HONORIFICS = _words(
    "dame dom don doña dr dña esq father fr frau herr hon honorable honourable hr lady lord madame me "
    "messrs mgr miss mlle mm mme monsieur mr mrs ms mx prof professor rev reverend senor senora señor "
    "señora sir sr sra sres srta"
)

# Offices, ranks, roles and qualifiers written before a person's name.
TITLES = _words(
    "acting admiral agent all-rounder ambassador analyst archbishop attorney barrister batsman bishop "
    "bowler capt captain cardinal catcher ceo cfo chair chairman chairperson chairwoman champion "
    "chancellor chief cio co-founder coach cofounder col colonel commander commissioner congressman "
    "congresswoman constable coo corporal correspondent counsel cto dealer defence defender defense "
    "deputy detective director director-general directors economist economy editor education ex "
    "executive finance foreign former forward founder general goalkeeper gov governor head health "
    "incoming inspector interim interior judge junior justice keeper king late lawyer lieutenant lt "
    "magistrate maj major manager managing mayor midfielder minister new officer opener outgoing "
    "partner pitcher player pope premier president prime prince princess private quarterback queen "
    "rep reporter representative rookie secretary sen senator senior sergeant sgt sheriff skipper "
    "solicitor spokesman spokesperson spokeswoman state striker superintendent then trade trader "
    "trainer treasurer veteran vice winger"
)

# Offices named before the organisation that holds them ("VP of ...", "Head of ...").
OFFICE_WORDS = _words("avp board chair department evp head member office svp vp")

# Address units that end a street name's span ("Cameron Street Ste. 305").
ADDRESS_UNITS = _words("apt bldg box fl floor po rm room ste suite unit")

# Nationalities and the like, dropped only before a person's name ("American Dennis Mitchell");
# an organisation keeps them ("American Airlines").
DEMONYMS = _words(
    "afghan african albanian algerian american arab argentine argentinian armenian asian australian "
    "austrian bangladeshi belarusian belgian bolivian bosnian brazilian british bulgarian canadian "
    "chilean chinese colombian croatian cuban czech danish dutch east ecuadorian egyptian english "
    "estonian ethiopian european filipino finnish french georgian german ghanaian greek hungarian "
    "icelandic indian indonesian iranian iraqi irish israeli italian jamaican japanese jordanian "
    "kazakh kenyan korean lankan latin latvian lebanese libyan lithuanian malaysian mexican mongolian "
    "moroccan nigerian north norwegian pakistani palestinian panamanian paraguayan peruvian polish "
    "portuguese romanian russian saudi scottish serbian slovak slovenian south spanish sri swedish "
    "swiss syrian taiwanese tajik thai tunisian turkish ukrainian uruguayan uzbek venezuelan "
    "vietnamese welsh west zimbabwean"
)

# Connectors inside names ("Bank of America", "Caja de Ahorros").
MINOR_WORDS = _words("& and at de del des du et for in la of on the to y")

# Name particles that may start a person's name in lower case ("de Gaulle", "van Gogh").
PARTICLES = _words("al bin da das de del della den der di dos du el ibn la le ten ter van von")

# Words that make a reference, not a name, when they start a span with a number after them or
# stand alone: "Item 12", "CHAPTER VII", "Fig", "Rule 405 of Regulation S-T".
REFERENCE_WORDS = _words(
    "annex appendix article chap chapter clause eq equation exhibit fig figs figure form item items "
    "no nos note notes p page pages para paragraph part phase plate pp round rule schedule section "
    "sections stage step subpart table tier vol volume"
)

# A last word that makes a span a heading, a document or a line of accounts rather than a name:
# "Supplementary Financial Information", "Amended and Restated Bylaws", "Equity Incentive Plan
# Awards", "Board of Directors", "Series A Preferred Stock", "Accounting Standards Update". (An
# organisation named so is rare next to how often headings,
# contracts and filings read like this.)
GENERIC_HEADS = _words(
    "abstract acknowledgements acknowledgments activities agreement agreements articles assets award "
    "awards background bibliography bylaws charter comments compensation complaint conclusion "
    "conclusions conditions contents controls covenant covenants customers definitions directors "
    "disclosure disclosures discussion earnings employees exhibits expenses governance guidelines "
    "highlights holders income index information instructions introduction lawsuit leverage "
    "liabilities litigation management matters methodology methods motion notes objectives officers "
    "operations outlook overview owners plan plans policies policy procedure procedures proceedings "
    "preferred ratio references report reports requirements results revenue revenues schedules securities "
    "settlement shareholders statement statements stock stockholders summary taxes terms transactions update"
)

# Lower case in a restored heading unless the document writes them otherwise.
FUNCTION_WORDS = _words(
    "a about across after against all among an and any are as at be been before behind being between "
    "beyond but by can con could de des did do does down du during each el en et every for from had "
    "has have here how if in into is it its la las le les los may might must near no nor not of off "
    "on onto or out over para per por shall should since so some such than that the then there these "
    "this those through to toward towards un una under une until up upon v via vs was were what when "
    "where which while who whom whose why will with within without would y yes"
)

# Words of one or two small letters in running text (English, French, Spanish, Portuguese, Italian;
# common abbreviations and units). Any other such piece is part of a word broken by a PDF layout.
SHORT_WORDS = _words(
    "a à e è i o ó u y ad al am an as at au be by ce da de do du el em en et ex go he id if il in is "
    "it la le lo me mi my na ne no nu of oh ok on or os ou pp se si so su te to tu un up us vs we ya yo "
    "dr mr ms st nd rd th eg ie cm mm km kg mg ml ha"
)
