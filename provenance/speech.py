"""Who said it: the speaker a passage gives for what it reports, in the languages wire services
write in. English "..., X said", "said X.", "according to X"; French "a déclaré X.", "selon X";
Spanish "dijo X.", "según X"; German "sagte X.", ", so X.", "laut X"; Italian "ha detto X.",
"secondo X"; Portuguese "disse X.", "segundo X". A speaker is a name (capitalised words, after an
honorific: "M. Macron") or a phrase led by an article ("the statement", "la déclaration", "le
ministre de l'Intérieur", "der Minister"); pronouns say nothing about who and are left out. Only
these forms are read (not "X said that ..." opening a sentence): they are what an edit of who said
it changes, and they are unambiguous.

Used by `compare` to report an attribution changed or removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz

from .divergences import SMALL_WORDS
from .mentions import name_key
from .names import fold, spelled_alike

_UPPER = "A-ZÀ-ÖØ-Þ"
#: a speaker phrase led by an article ends at punctuation: "according to the ministry of defence,"
_PHRASE_END = r"(?=\s*[.,;:!?)\"”»]|\s*$)"
#: titles before a name: "M. Macron", "Mr Biden", "Dr. Tedros", "Frau Merkel" is a noun and a name
_HONORIFICS = r"M|MM|Mme|Mmes|Mlle|Mr|Mrs|Ms|Dr|Sr|Sra|Hr|Fr|Prof|Pr"


@dataclass(frozen=True)
class _Language:
    """One language's attribution forms, as regular expressions: `verbs` (speech verbs, with their
    auxiliaries), `articles` (what leads a speaker phrase, with the space after it), `according`
    ("according to"), `links` (small words inside a name, before a capitalised one: "bin", "de",
    "von"), and its `pronouns`."""

    verbs: str
    articles: str
    according: str
    links: str
    pronouns: frozenset[str]


LANGUAGES = {
    "en": _Language(
        verbs="said|says|told|added|stated|declared|announced|insisted|warned|noted|explained|wrote|tweeted",
        articles=r"(?:the|a|an|one of the|two|three)\s{1,3}", according=r"\baccording to",
        links=r"bin|de|of|the|for", pronouns=frozenset("he she they it we i you".split())),
    "fr": _Language(
        verbs=r"(?:(?:a|avait|ont|avaient)\s{1,3})?(?:déclaré|dit|affirmé|indiqué|ajouté|souligné|expliqué|précisé|"
              r"estimé|assuré|annoncé|averti|écrit|confié|rappelé|insisté|martelé|lancé|jugé|relevé|tweeté)"
              r"|déclare|affirme|indique|ajoute|souligne|explique|précise|estime|assure|annonce|avertit|écrit|"
              r"confie|rappelle|martèle|juge|relève",
        articles=r"(?:le|la|les|un|une|des|du)\s{1,3}|l['’]", according=r"\bselon|\bd['’]après",
        links=r"ben|de|du|des|la|le", pronouns=frozenset("il elle ils elles on".split())),
    "es": _Language(
        verbs=r"(?:(?:ha|había|han)\s{1,3})?(?:dicho|afirmado|declarado|señalado|asegurado|explicado|indicado|"
              r"añadido|advertido|anunciado|escrito)"
              r"|dijo|afirmó|declaró|señaló|añadió|aseguró|explicó|indicó|advirtió|anunció|escribió|subrayó|"
              r"destacó|agregó|precisó|sostuvo|manifestó|reconoció|dice|afirma|asegura|señala|explica|indica|"
              r"añade|agrega|advierte|sostiene",
        articles=r"(?:el|la|los|las|un|una)\s{1,3}", according=r"\bsegún|\bde acuerdo con",
        links=r"bin|de|del|de la|y", pronouns=frozenset("él ella ellos ellas usted".split())),
    "de": _Language(
        verbs=r"sagte|sagt|sagten|erklärte|erklärt|erklärten|betonte|betont|warnte|warnt|schrieb|schreibt|"
              r"meinte|meint|kritisierte|versicherte|berichtete|unterstrich|ergänzte|bekräftigte",
        articles=r"(?:der|die|das|dem|den|des|ein|eine|einer|einem)\s{1,3}", according=r"\blaut|,\s{0,3}so",
        links=r"bin|von|van|der|de|zu", pronouns=frozenset("er sie es man".split())),
    "it": _Language(
        verbs=r"(?:(?:ha|aveva|hanno)\s{1,3})?(?:detto|dichiarato|affermato|spiegato|aggiunto|sottolineato|"
              r"precisato|annunciato|scritto|avvertito|ribadito)"
              r"|dice|afferma|spiega|aggiunge|sottolinea|precisa|dichiara|ribadisce",
        articles=r"(?:il|lo|la|i|gli|le|un|una|uno)\s{1,3}|l['’]", according=r"\bsecondo",
        links=r"bin|de|di|del|della|da", pronouns=frozenset("lui lei loro egli".split())),
    "pt": _Language(
        verbs=r"disse|afirmou|declarou|explicou|acrescentou|salientou|sublinhou|garantiu|anunciou|escreveu|"
              r"advertiu|diz|afirma|explica|acrescenta|garante|sublinha",
        articles=r"(?:o|a|os|as|um|uma)\s{1,3}", according=r"\bsegundo|\bde acordo com",
        links=r"bin|de|da|do|dos|das", pronouns=frozenset("ele ela eles elas".split())),
}


def _spec(lang: str | None) -> _Language:
    return LANGUAGES[lang if lang in LANGUAGES else "en"]


@cache
def _patterns(lang: str) -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """`lang`'s (after, according, unread) patterns: "[,"»] X said" or "[,"»] said X[.,]";
    "according to X"; `unread_speaker`'s. Every run of spaces is bounded, and a phrase starts with
    a letter, so no pattern backtracks over a long run of spaces."""
    spec = _spec(lang)
    # a capitalised word of two characters or more ("U.S.", not the "M" of "M. Macron")
    word = rf"[{_UPPER}](?:[\w'’\-]|\.(?=\w))+\.?"
    name = (rf"(?:(?:{_HONORIFICS})\.?\s{{1,3}})?(?:{word}|al-\w+)"
            rf"(?:\s{{1,3}}(?:{word}|al-\w+|(?:{spec.links})\s{{1,3}}{word}))*")
    phrase = rf"(?:{spec.articles})[^\W\d_][\w'’\- ]{{1,39}}?"
    # (the verb before the speaker right after a quotation or a comma: '"...," said X.', '», a déclaré
    # X.'; elsewhere what follows the verb is its object: "a annoncé une aide d'urgence.")
    after = re.compile(rf"[,\"”»]\s{{0,3}}(?P<speaker>{name}|{phrase})\s{{1,3}}(?:{spec.verbs})\b"
                       rf"|[,\"”»]\s{{0,3}}(?:{spec.verbs})\s{{1,3}}(?P<speaker2>{name}|{phrase})[.,]")
    according = re.compile(rf"(?i:{spec.according})\s{{1,3}}(?P<speaker>{name}|{phrase}{_PHRASE_END})")
    # a speech verb with a capitalised word within three words after it: a speaker in a form not
    # read ("told reporters Robert Ford, an analyst")
    unread = re.compile(rf"\b(?:{spec.verbs})\s{{1,3}}(?:[^\W\d_][\w'’\-]*\s{{1,3}}){{0,2}}[{_UPPER}]")
    return after, according, unread


def speakers(text: str, lang: str = "en") -> list[tuple[str, int, int]]:
    """Who `text` (in `lang`; a language without forms here is read as English) says said it:
    `(speaker, start, end)`, end-exclusive offsets into `text`."""
    lang = lang if lang in LANGUAGES else "en"
    pronouns = LANGUAGES[lang].pronouns
    out = []
    for rx in _patterns(lang)[:2]:
        for m in rx.finditer(text):
            g = "speaker" if m.group("speaker") else "speaker2"
            sp = m.group(g)
            if sp and sp.lower() not in pronouns:
                out.append((sp, m.start(g), m.end(g)))
    return out


def unread_speaker(text: str, lang: str = "en") -> bool:
    """Whether `text` has one of `lang`'s speech verbs followed, within three words, by a
    capitalised word ("told reporters Robert Ford", "a déclaré M. Macron aux journalistes"):
    a speaker in a form `speakers` does not read, so where it reads none, none is not "removed"."""
    return bool(_patterns(lang if lang in LANGUAGES else "en")[2].search(text))


_WORD = re.compile(r"\w+(?:[-'’]\w+)*")
_CAPITALISED = re.compile(rf"[{_UPPER}][\w'’\-]+")


def _content_words(s: str, small: frozenset[str]) -> set[str]:
    return {w.lower()[:6] for w in _WORD.findall(s) if w.isalpha() and w.lower() not in small and len(w) >= 2}


def name_keys(s: str, lang: str | None = None) -> set[str]:
    """The name keys (`mentions.name_key`, in `lang`: transliterations and exonyms meet) of a
    speaker's capitalised words."""
    return {k for w in _CAPITALISED.findall(s) if len(k := name_key(w, lang)) >= 2}


def _initials(s: str) -> str:
    return "".join(w[0] for w in _CAPITALISED.findall(s))


def acronym(tok: str) -> bool:
    """Whether `tok` is an acronym ("US", "NATO")."""
    return tok.isupper() and len(tok) <= 5


def same_speaker(a: str, b: str, lang: str = "en") -> bool:
    """Whether two speaker phrases of one language name the same source: a shared content word,
    a name spelled two ways (one transliteration skeleton: "Kadhimi" / "Kadhemi", which the name
    check reports on its own), or an acronym and its expansion ("US" / "the United States")."""
    small = SMALL_WORDS.get(lang, frozenset()) | SMALL_WORDS["en"]
    if _content_words(a, small) & _content_words(b, small) or " ".join(a.lower().split()) == " ".join(
            b.lower().split()):
        return True
    if name_keys(a, lang) & name_keys(b, lang):
        return True
    acr_a = [w for w in a.split() if acronym(w)]
    acr_b = [w for w in b.split() if acronym(w)]
    return any(x == _initials(b) for x in acr_a) or any(x == _initials(a) for x in acr_b)


def other_named_speaker(a: str, lang_a: str, b: str, lang_b: str) -> bool:
    """Whether speaker phrases `a` (in `lang_a`) and `b` (in `lang_b`) name two different people
    or bodies: both are names (not phrases led by an article: "the statement", "la déclaration",
    "der Minister", whose capital is German's for every noun), and no word of one is a word of the
    other as its language writes it: the same name key (exonyms, scripts), the same name spelled
    another way (`names.spelled_alike`: Lavrov / Lawrow, Zelensky / Selenskyj) or nearly the same
    letters (Francis / Francesco). Phrases that are not names cannot be compared across languages without
    a dictionary."""
    if not (_named(a, lang_a) and _named(b, lang_b)):
        return False
    if name_keys(a, lang_a) & name_keys(b, lang_b) or same_speaker(a, b):
        return False
    words_a = [w for w in _CAPITALISED.findall(a) if len(w) >= 3]
    words_b = [w for w in _CAPITALISED.findall(b) if len(w) >= 3]
    return not any(spelled_alike(x, y) or fuzz.ratio(fold(x), fold(y)) >= 75 for x in words_a for y in words_b)


def _named(speaker: str, lang: str) -> bool:
    return bool(name_keys(speaker, lang)) and not re.match(rf"(?i:{_spec(lang).articles})", speaker)
