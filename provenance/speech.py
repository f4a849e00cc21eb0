"""Who said it: the speaker a passage gives for what it reports, in the languages wire services
write in. English "..., X said", "said X.", "according to X"; French "a déclaré X.", "selon X";
Spanish "dijo X.", "según X"; German "sagte X.", ", so X.", "laut X"; Italian "ha detto X.",
"secondo X"; Portuguese "disse X.", "segundo X". A speaker is a name (capitalised words) or a
phrase led by an article ("the statement", "la déclaration", "der Minister"); pronouns say
nothing about who and are left out. Only these forms are read (not "X said that ..." opening a
sentence): they are what an edit of who said it changes, and they are unambiguous.

Used by `compare` to report an attribution changed or removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from .mentions import name_key

_UPPER = "A-ZÀ-ÖØ-Þ"
#: a speaker phrase led by an article ends at punctuation: "according to the ministry of defence,"
_PHRASE_END = r"(?=\s*[.,;:!?)\"”»]|\s*$)"


@dataclass(frozen=True)
class _Language:
    """One language's attribution forms, as regular expressions: `verbs` (speech verbs, with their
    auxiliaries), `articles` (what leads a speaker phrase, with the space after it), `according`
    ("according to"),
    `links` (small words inside a name: "al-", "bin", "de", "von"), `pronouns` and `small`
    (words that tell no two speakers apart: articles, prepositions)."""

    verbs: str
    articles: str
    according: str
    links: str
    pronouns: frozenset[str]
    small: frozenset[str]


#: words that tell no two speakers apart (nor, in `compare`, two numbers' contexts): articles,
#: prepositions, hedges
SMALL_WORDS = frozenset(
    "the a an of in on at to and or for by with from its their some about around roughly nearly almost than "
    "more less over under just le la les de des du et en el los las y der die das und".split())

LANGUAGES = {
    "en": _Language(
        verbs="said|says|told|added|stated|declared|announced|insisted|warned|noted|explained|wrote|tweeted",
        articles=r"(?:the|a|an|one of the|two|three)\s+", according=r"\baccording to",
        links=r"al-\w+|bin|de|of|the|for",
        pronouns=frozenset("he she they it we i you".split()), small=SMALL_WORDS),
    "fr": _Language(
        verbs=r"(?:(?:a|avait|ont|avaient)\s+)?(?:déclaré|dit|affirmé|indiqué|ajouté|souligné|expliqué|précisé|"
              r"estimé|assuré|annoncé|averti|écrit|confié|rappelé|insisté|martelé|lancé|jugé|relevé|tweeté)"
              r"|déclare|affirme|indique|ajoute|souligne|explique|précise|estime|assure|annonce|avertit|écrit|"
              r"confie|rappelle|martèle|juge|relève",
        articles=r"(?:le|la|les|un|une|des|du)\s+|l['’]", according=r"\bselon|\bd['’]après",
        links=r"al-\w+|ben|de|du|des|d['’]\w+|la|le", pronouns=frozenset("il elle ils elles on".split()),
        small=SMALL_WORDS | frozenset("l un une au aux à dans sur pour par avec".split())),
    "es": _Language(
        verbs=r"(?:(?:ha|había|han)\s+)?(?:dicho|afirmado|declarado|señalado|asegurado|explicado|indicado|"
              r"añadido|advertido|anunciado|escrito)"
              r"|dijo|afirmó|declaró|señaló|añadió|aseguró|explicó|indicó|advirtió|anunció|escribió|subrayó|"
              r"destacó|agregó|precisó|sostuvo|manifestó|reconoció|dice|afirma|asegura|señala|explica|indica|"
              r"añade|agrega|advierte|sostiene",
        articles=r"(?:el|la|los|las|un|una)\s+", according=r"\bsegún|\bde acuerdo con",
        links=r"al-\w+|bin|de|del|de la|y", pronouns=frozenset("él ella ellos ellas usted".split()),
        small=SMALL_WORDS | frozenset("un una al con por para sobre".split())),
    "de": _Language(
        verbs=r"sagte|sagt|sagten|erklärte|erklärt|erklärten|betonte|betont|warnte|warnt|schrieb|schreibt|"
              r"meinte|meint|kritisierte|versicherte|berichtete|unterstrich|ergänzte|bekräftigte",
        articles=r"(?:der|die|das|dem|den|des|ein|eine|einer|einem)\s+", according=r"\blaut|,\s*so",
        links=r"al-\w+|bin|von|van|der|de|zu", pronouns=frozenset("er sie es man".split()),
        small=SMALL_WORDS | frozenset("dem den des ein eine einer einem von vom zu zur zum im am".split())),
    "it": _Language(
        verbs=r"(?:(?:ha|aveva|hanno)\s+)?(?:detto|dichiarato|affermato|spiegato|aggiunto|sottolineato|precisato|"
              r"annunciato|scritto|avvertito|ribadito)"
              r"|dice|afferma|spiega|aggiunge|sottolinea|precisa|dichiara|ribadisce",
        articles=r"(?:il|lo|la|i|gli|le|un|una|uno)\s+|l['’]", according=r"\bsecondo",
        links=r"al-\w+|bin|de|di|del|della|da", pronouns=frozenset("lui lei loro egli".split()),
        small=SMALL_WORDS | frozenset("il lo i gli l un uno una di della dei degli".split())),
    "pt": _Language(
        verbs=r"disse|afirmou|declarou|explicou|acrescentou|salientou|sublinhou|garantiu|anunciou|escreveu|"
              r"advertiu|diz|afirma|explica|acrescenta|garante|sublinha",
        articles=r"(?:o|a|os|as|um|uma)\s+", according=r"\bsegundo|\bde acordo com",
        links=r"al-\w+|bin|de|da|do|dos|das", pronouns=frozenset("ele ela eles elas".split()),
        small=SMALL_WORDS | frozenset("o a os as um uma do da dos das".split())),
}


@cache
def _patterns(lang: str) -> tuple[re.Pattern, re.Pattern]:
    """`lang`'s (after, according) patterns: "[,"»] X said" or "said X[.,]"; "according to X"."""
    spec = LANGUAGES[lang]
    name = rf"[{_UPPER}][\w.'’\-]*(?:\s+(?:[{_UPPER}][\w.'’\-]*|{spec.links}))*"
    phrase = rf"(?:{spec.articles})[\w\- ]{{2,40}}?"
    after = re.compile(rf"[,\"”»]\s*(?P<speaker>{name}|{phrase})\s+(?:{spec.verbs})\b"
                       rf"|\b(?:{spec.verbs})\s+(?P<speaker2>{name}|{phrase})[.,]")
    according = re.compile(rf"(?i:{spec.according})\s+(?P<speaker>{name}|{phrase}{_PHRASE_END})")
    return after, according


def speakers(text: str, lang: str = "en") -> list[tuple[str, int, int]]:
    """Who `text` (in `lang`; a language without forms here is read as English) says said it:
    `(speaker, start, end)`, end-exclusive offsets into `text`."""
    lang = lang if lang in LANGUAGES else "en"
    pronouns = LANGUAGES[lang].pronouns
    out = []
    for rx in _patterns(lang):
        for m in rx.finditer(text):
            g = "speaker" if m.group("speaker") else "speaker2"
            sp = m.group(g)
            if sp and sp.lower() not in pronouns:
                out.append((sp, m.start(g), m.end(g)))
    return out


_WORD = re.compile(r"\w+(?:[-'’]\w+)*")
_CAPITALISED = re.compile(rf"[{_UPPER}][\w'’\-]+")


def _content_words(s: str, small: frozenset[str]) -> set[str]:
    return {w.lower()[:6] for w in _WORD.findall(s) if w.isalpha() and w.lower() not in small and len(w) >= 2}


def name_keys(s: str) -> set[str]:
    """The name keys (`mentions.name_key`: one per transliteration skeleton) of a speaker's
    capitalised words."""
    return {k for w in _CAPITALISED.findall(s) if len(k := name_key(w)) >= 2}


def _initials(s: str) -> str:
    return "".join(w[0] for w in re.findall(rf"[{_UPPER}][\w'’\-]*", s))


def acronym(tok: str) -> bool:
    """Whether `tok` is an acronym ("US", "NATO")."""
    return tok.isupper() and len(tok) <= 5


def same_speaker(a: str, b: str, lang: str = "en") -> bool:
    """Whether two speaker phrases of one language name the same source: a shared content word,
    a name spelled two ways (one transliteration skeleton: "Kadhimi" / "Kadhemi", which the name
    check reports on its own), or an acronym and its expansion ("US" / "the United States")."""
    small = LANGUAGES[lang if lang in LANGUAGES else "en"].small
    if _content_words(a, small) & _content_words(b, small) or " ".join(a.lower().split()) == " ".join(
            b.lower().split()):
        return True
    if name_keys(a) & name_keys(b):
        return True
    acr_a = [w for w in a.split() if acronym(w)]
    acr_b = [w for w in b.split() if acronym(w)]
    return any(x == _initials(b) for x in acr_a) or any(x == _initials(a) for x in acr_b)


def other_named_speaker(a: str, lang_a: str, b: str, lang_b: str) -> bool:
    """Whether speaker phrases `a` (in `lang_a`) and `b` (in `lang_b`) name two different people
    or bodies: both are names (not phrases led by an article: "the statement", "la déclaration",
    "der Minister", whose capital is German's for every noun) and they share none (nor an
    acronym's expansion). Phrases that are not names cannot be compared across languages without
    a dictionary."""
    if not (_named(a, lang_a) and _named(b, lang_b)):
        return False
    return not name_keys(a) & name_keys(b) and not same_speaker(a, b)


def _named(speaker: str, lang: str) -> bool:
    articles = LANGUAGES[lang if lang in LANGUAGES else "en"].articles
    return bool(name_keys(speaker)) and not re.match(rf"(?i:{articles})", speaker)
