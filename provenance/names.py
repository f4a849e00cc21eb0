"""What counts as a name in each language, and how names in other scripts and other languages'
place names meet their English form.

* Scripts: a word in a non-Latin script (Cyrillic, Devanagari, Greek, Arabic, ...) is
  transliterated with `anyascii` before its skeleton is taken, so Путин, पुतिन and Putin meet.
  Slavic case endings are cut first (Путина, Путиным; Babiše, Babišem are Putin and Babiš).
* German capitalises every noun: a capitalised word that is common in German and far rarer in
  English (`wordfreq` Zipf frequencies, cached) and that German's lemma lists know is a noun, not a
  name ("Regierung", "Polizei"); names are about as frequent in both ("Merkel", "Berlin"), or in
  no word list (a mayor Feichtinger).
* Devanagari has no capital letters: a word counts as a name when it is rare in Hindi or when its
  transliteration is a common English word-form of a name (पुतिन "putin", ओबामा "obama").
* Exonyms: country names from CLDR (through `babel`) in the text's language, the CLDR exemplar
  cities of the time zones, and a short list of major cities CLDR does not name (Genf / Genève
  / Geneva), each mapped to its English name, so a translation's place names share a key.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .wordfreqs import zipf as wordfreq_zipf

#: languages that capitalise every noun
NOUN_CAPITALISING = frozenset({"de", "lb"})
#: Zipf frequency in German from which a capitalised word may be a common noun, and the lead over
#: its English frequency that makes it one (Regierung 5.2 vs 1.1; Merkel 4.8 vs 3.4). On Tatoeba's
#: 1,000 German sentences: 1,744 name mentions without the rule, 286 with it (English side: 214),
#: and every name the English side shares still found
NOUN_MIN_ZIPF = 2.0
#: the longest head of a German compound looked up ("Unterkunft", "Versicherung", "Verantwortlichkeit")
COMPOUND_HEAD_CHARS = 24
NOUN_ZIPF_LEAD = 2.0
#: a Devanagari word rarer than this in Hindi, or whose transliteration is at least this frequent
#: in English, is read as a name
HINDI_RARE_ZIPF = 3.0
HINDI_ENGLISH_ZIPF = 2.5
#: English month names: capitalised in English, loanwords in Hindi (नवंबर, navambar: November)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")

_ANUSVARA = re.compile(r"[\u0901\u0902](?=([\u092a-\u092e])?)")
_DEVANAGARI = re.compile(r"[\u0900-\u0963\u0971-\u097F]+")
_DEVANAGARI_LATIN = {"\u091a": "ch", "\u0921\u093c": "r", "\u095c": "r", "\u0922\u093c": "rh", "\u095d": "rh"}
_DEVANAGARI_ENGLISH = re.compile("|".join(sorted(_DEVANAGARI_LATIN, key=len, reverse=True)))
_CYRILLIC_ENDINGS = ("ами", "ями", "ого", "его", "ому", "ему", "ыми", "ими", "ым", "им", "ом", "ем", "ой",
                     "ей", "ую", "юю", "ах", "ях", "ы", "и", "у", "ю", "е", "а", "я")
_CZECH_ENDINGS = ("ovi", "ové", "ech", "ích", "ách", "ům", "em", "ou", "ovy", "u", "e", "ě", "a", "y", "i")
_SLAVIC = frozenset({"cs", "sk", "pl", "ru", "uk", "bg", "sr", "hr", "sl", "be"})

# Major cities whose English name CLDR's time-zone cities do not give: English -> other forms.
_CITIES = {
    "Geneva": ("Genf", "Genève", "Ginevra", "Ginebra", "Ženeva", "Женева", "जिनेवा"),
    "Munich": ("München", "Monaco di Baviera", "Múnich", "Mnichov", "Мюнхен", "म्यूनिख"),
    "Cologne": ("Köln", "Colonia", "Kolín", "Кёльн"),
    "Beijing": ("Peking", "Pékin", "Pechino", "Pekín", "Пекин", "बीजिंग"),
    "Washington": ("Вашингтон", "वाशिंगटन", "वॉशिंगटन"),
    "Venice": ("Venedig", "Venise", "Venezia", "Venecia", "Benátky", "Венеция"),
    "Florence": ("Florenz", "Firenze", "Florencia", "Florencie", "Флоренция"),
    "Naples": ("Neapel", "Napoli", "Nápoles", "Neapol", "Неаполь"),
    "Milan": ("Mailand", "Milano", "Milán", "Milán", "Милан"),
    "Strasbourg": ("Straßburg", "Strasburgo", "Estrasburgo", "Štrasburk", "Страсбург"),
    "The Hague": ("Den Haag", "La Haye", "L'Aia", "La Haya", "Haag", "Гаага"),
    "Prague": ("Praha", "Praze", "Prahy", "Prahu", "Prahou", "Prag", "Praga", "Прага", "Праге", "Праги", "प्राग"),
    "Mumbai": ("Bombay", "मुंबई", "Мумбаи"),
    "Delhi": ("दिल्ली", "Дели"),
    "New Delhi": ("Neu-Delhi", "नई दिल्ली", "Нью-Дели"),
}


_TRANSLIT = [("dh", "z"), ("th", "t"), ("kh", "k"), ("gh", "g"), ("sh", "s"), ("ch", "s"), ("ph", "f"),
             ("ou", "u"), ("oo", "u"), ("q", "k"), ("c", "k"), ("x", "ks"), ("w", "u"), ("y", "i"),
             ("j", "g")]


def skeleton(token: str) -> str:
    """Consonant skeleton of a Latin-script name: accents, `al-`/`bin`/`de` and the like, doubled
    letters and vowels after the first letter go, spelling variants merge (Kadhimi, Kazimi: kzm)."""
    t = unicodedata.normalize("NFKD", token.lower())
    t = "".join(ch for ch in t if ch.isalpha() or ch in "-' ")
    t = re.sub(r"^(?:(?:al|el|ul|bin|ibn|abu|abd)[-\s']|(?:de|da|di|van|von)\s)", "", t)  # (de Gaulle: Gaulle)
    t = re.sub(r"[-'\s]", "", t)
    for a, b in _TRANSLIT:
        t = t.replace(a, b)
    if not t:
        return ""
    return re.sub(r"(.)\1+", r"\1", t[0] + re.sub(r"[aeiouh]", "", t[1:]))


#: what a loose skeleton merges: how German, French and English write one foreign name (al-Kasimi /
#: al-Kadhimi, Ghassem / Qasem, Lawrow / Lavrov, Selenskyj / Zelensky, Netanjahu / Netanyahu, Jelzin /
#: Yeltsin)
_LOOSE = str.maketrans("zgw", "skv")


def spelled_alike(a: str, b: str) -> bool:
    """Whether names `a` and `b` are one name as two languages spell it: a loose skeleton of three
    consonants or more in common (`loose_skeletons`) and most letters shared (ratio >= 62: Lavrov /
    Lawrow 67, Jelzin / Yeltsin 62, al-Kasimi / al-Kadhimi 84; Jones / Yanes 60, Kirk / Greg 25:
    their loose skeletons meet, but they are other names)."""
    from rapidfuzz import fuzz

    shared = loose_skeletons(a) & loose_skeletons(b)
    return any(len(k) >= 3 for k in shared) and fuzz.ratio(fold(a), fold(b)) >= 62


def loose_skeletons(token: str) -> frozenset[str]:
    """`skeleton`s of `token` with s, z and ts, k and g, v and w merged, and a j also read as y: two
    spellings of one name share one. Only for telling a respelling from another name, never for
    matching (too loose for that)."""
    token = re.sub(r"t[sz]", "z", token)  # German z is English ts (Jelzin / Yeltsin)
    forms = {token, re.sub(r"j", "y", re.sub(r"J", "Y", token))}
    return frozenset(re.sub(r"(.)\1+", r"\1", skeleton(f.translate(_LOOSE)).translate(_LOOSE)) for f in forms)


# Characters that lower-case to one character, which Python's `re` ignoring case matches with the
# characters of the same lower case and no other (checked against every letter of the agencies' names
# and the number words: "ı", "İ", "ſ" and "µ" are left out): ASCII, Latin-1 and Latin Extended A/B,
# Cyrillic, Arabic, Devanagari, general punctuation
_LOWER_AS_IGNORECASE = re.compile(
    "[\x00-\x7f\u00a0-\u00b4\u00b6-\u012f\u0132-\u017e\u0180-\u024f\u0400-\u04ff\u0600-\u06ff"
    "\u0900-\u097f\u2000-\u206f]*")


def lower_as_ignorecase(text: str) -> bool:
    """Whether a case-sensitive pattern of lower-case names finds in `text.lower()` what the same
    pattern ignoring case finds in `text` (nearly all text: see `_LOWER_AS_IGNORECASE`)."""
    return _LOWER_AS_IGNORECASE.fullmatch(text) is not None


def fold(s: str) -> str:
    """Lower-cased, accents removed: the lookup form of a name."""
    t = unicodedata.normalize("NFKD", s.lower())
    return "".join(ch for ch in t if not unicodedata.combining(ch) or _is_indic_mark(ch))


def _is_indic_mark(ch: str) -> bool:
    return "\u0900" <= ch <= "\u0DFF"  # Indic vowel signs and viramas carry letters, not accents


def is_latin(token: str) -> bool:
    """Whether every letter of `token` is a Latin letter (ASCII or Latin-1/Extended)."""
    return all(ch < "\u0250" for ch in token if ch.isalpha())


@lru_cache(maxsize=65536)
def romanize(token: str) -> str:
    """`token` in Latin letters: unchanged when it is Latin already, else transliterated
    (`anyascii`: Путин -> Putin, पुतिन -> putin)."""
    if is_latin(token):
        return token
    from anyascii import anyascii

    # anusvara and candrabindu: the nasal of the next consonant, written "m" before a labial
    # (नवंबर, November) and "n" elsewhere (दीपेंद्र, Dipendra)
    token = _ANUSVARA.sub(lambda m: "\u092e\u094d" if m.group(1) else "\u0928\u094d", token)
    # as English spells Indian names: च "ch" (anyascii: "c"; Sachin), ड़ ढ़ "r" (Chandigarh)
    return anyascii(_DEVANAGARI_ENGLISH.sub(lambda m: _DEVANAGARI_LATIN[m.group(0)], token))


def strip_inflection(token: str, lang: str | None) -> str:
    """`token` without a Slavic case ending (Путина -> Путин, Babišem -> Babiš), for languages
    that decline names; at least four letters are kept."""
    script_cyrillic = any("\u0400" <= ch <= "\u04ff" for ch in token)
    if script_cyrillic:
        endings = _CYRILLIC_ENDINGS
    elif lang in _SLAVIC:
        endings = _CZECH_ENDINGS
    else:
        return token
    low = token.lower()
    for e in endings:
        if low.endswith(e) and len(low) - len(e) >= 4:
            return token[:-len(e)]
    return token


def zipf(word: str, lang: str) -> float:
    """`wordfreq` Zipf frequency of the lower-cased `word` in `lang` (0 for unknown languages;
    `wordfreqs.zipf`, which needs no wordfreq import for plain words)."""
    return wordfreq_zipf(word.lower(), lang)


@lru_cache(maxsize=65536)
def common_noun(token: str, lang: str | None) -> bool:
    """Whether capitalised `token` is a common noun of a noun-capitalising language (German
    "Regierung", "Flüchtlingsunterkunft"), not a name. Long compounds count by their last part."""
    if lang not in NOUN_CAPITALISING:
        return False
    if _noun(token, lang):
        return True
    low = token.lower()
    if len(low) >= 10:  # compound: the head noun is the last part (Flüchtlings|unterkunft), of at most
        # `COMPOUND_HEAD_CHARS` (each try looks up a word: over a whole long token, the square of its length)
        return any(_noun(low[i:], lang, head=True) for i in range(max(4, len(low) - COMPOUND_HEAD_CHARS), len(low) - 3))
    return False


def _noun(word: str, lang: str, head: bool = False) -> bool:
    """Common in `lang`, far rarer in English, and a word `lang`'s lemma lists know: a surname
    German news uses often enough (Feichtinger: Zipf 2.1 in German, 0 in English) is in no word
    list, a noun is (the lists hold names too, which the frequencies have already told apart). A
    compound's `head` must be a noun there (capitalised: "dienst" of Nachrichtendienst; "enger"
    of Feichtenger is an adjective); a whole word may be an adjective made a noun ("Besseres")."""
    z = zipf(word, lang)
    if z < NOUN_MIN_ZIPF or z - zipf(word, "en") < NOUN_ZIPF_LEAD:
        return False
    from .glossary import known_word

    last = re.split(r"[\s-]", word)[-1]  # "von Brot": the noun
    forms = (last[:1].upper() + last[1:],) if head else (last[:1].upper() + last[1:], last.lower())
    return any(known_word(w, lang) is not False for w in forms)


def devanagari_tokens(text: str):
    """(start, end, token) of each Devanagari word of `text`."""
    for m in _DEVANAGARI.finditer(text):
        yield m.start(), m.end(), m.group(0)


@lru_cache(maxsize=65536)
def devanagari_name(token: str) -> bool:
    """Whether a Devanagari word reads as a name: a known place, rare in Hindi, or transliterated
    to a frequent English word-form (पुतिन "putin") that is not itself a Hindi loanword."""
    if len(token) < 2:
        return False
    if place_name(token, "hi") is not None:
        return True
    rom = romanize(token).lower()
    if len(rom) < 3:
        return False
    if skeleton(rom) in _month_skeletons():
        return True
    hi = zipf(token, "hi")
    return hi < HINDI_RARE_ZIPF or (zipf(rom, "en") >= HINDI_ENGLISH_ZIPF and hi < 5.0)


@lru_cache(maxsize=1)
def _month_skeletons() -> frozenset[str]:
    return frozenset(skeleton(m) for m in _MONTHS if len(skeleton(m)) >= 3)


@lru_cache(maxsize=64)
def _skeletons(lang: str) -> dict[str, str]:
    """Skeleton of a place name in `lang` (transliterated, case ending cut) -> its English name,
    where only one place has that skeleton: finds declined forms (Женеве, Ženevě: Geneva)."""
    seen: dict[str, set[str]] = {}
    for name, english in _gazetteer(lang).items():
        if " " not in name:
            seen.setdefault(skeleton(romanize(strip_inflection(name, lang))), set()).add(english)
    return {k: next(iter(v)) for k, v in seen.items() if len(k) >= 3 and len(v) == 1}


@lru_cache(maxsize=64)
def _gazetteer(lang: str) -> dict[str, str]:
    """Folded place name in `lang` -> its English name: CLDR countries and time-zone cities, and
    `_CITIES`."""
    out: dict[str, str] = {}
    try:
        from babel import Locale, UnknownLocaleError

        loc, en = Locale.parse(lang), Locale("en")
    except (ImportError, ValueError, UnknownLocaleError):
        loc = en = None
    if loc is not None:
        en_names = en.territories
        for code, name in loc.territories.items():
            if isinstance(code, str) and code.isalpha() and code in en_names:
                out.setdefault(fold(name), en_names[code])
        for zone, info in loc.time_zones.items():
            city = info.get("city") if hasattr(info, "get") else None
            if city and "/" in zone:
                out.setdefault(fold(city), zone.rsplit("/", 1)[1].replace("_", " "))
    for english, others in _CITIES.items():
        for other in others:
            out.setdefault(fold(other), english)
    return out


@lru_cache(maxsize=65536)
def place_name(token: str, lang: str | None) -> str | None:
    """English name of the place `token` names in `lang` (Genf -> Geneva, Irak -> Iraq, Ирака ->
    Iraq), or None. English text and unknown languages are not looked up."""
    if not lang or lang == "en":
        return None
    table = _gazetteer(lang)
    for form in (token, strip_inflection(token, lang)):
        hit = table.get(fold(form))
        if hit is not None:
            return hit
    if lang in _SLAVIC:  # declined forms; elsewhere a loose skeleton meets too many common words
        return _skeletons(lang).get(skeleton(romanize(strip_inflection(token, lang))))
    return None


def same_place(a: str, a_lang: str | None, b: str, b_lang: str | None) -> bool:
    """Whether `a` (in `a_lang`) and `b` (in `b_lang`) name the same place (Irak / Iraq)."""
    pa = place_name(a, a_lang) or (a if a_lang in (None, "en") else None)
    pb = place_name(b, b_lang) or (b if b_lang in (None, "en") else None)
    return pa is not None and pb is not None and fold(pa) == fold(pb)
