"""Details: the numbers and names a text states, normalised so that two outlets' spellings meet
("5,200" and "5 200"; "douze" and 12; Kadhimi and Kazimi; Путин and Putin), with their spans.
Outside quotations they are an outlet's own specific details (`details`)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from .lexical import _blank_quotes, _last_char_before
from .names import (
    NOUN_CAPITALISING,
    common_noun,
    devanagari_name,
    devanagari_tokens,
    lower_as_ignorecase,
    place_name,
    romanize,
    skeleton,
    strip_inflection,
)

_NUM_WORDS = {
    # English
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
    "dozen": 12, "a dozen": 12, "half a dozen": 6, "a hundred": 100, "a thousand": 1000,
    # French
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8,
    "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "cent": 100,
    "douzaine": 12, "une douzaine": 12, "mille": 1000,
    # Spanish
    "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8,
    "nueve": 9, "diez": 10, "doce": 12, "quince": 15, "veinte": 20, "treinta": 30, "cuarenta": 40,
    "cincuenta": 50, "cien": 100, "docena": 12, "una docena": 12, "mil": 1000,
    # German
    "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8,
    "neun": 9, "zehn": 10, "elf": 11, "zwölf": 12, "zwanzig": 20, "dreißig": 30, "hundert": 100,
    "dutzend": 12, "ein dutzend": 12, "tausend": 1000,
    # Czech and Russian (two to ten, where the word is no other common word)
    "dva": 2, "dvě": 2, "tři": 3, "čtyři": 4, "pět": 5, "šest": 6, "sedm": 7, "osm": 8, "devět": 9, "deset": 10,
    "два": 2, "две": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9,
    "десять": 10,
}
# "one"/"un"/"uno" as numbers are too ambiguous (pronouns, articles); they never count as details.
_AMBIGUOUS_NUM_WORDS = {"one", "un", "une", "uno", "una", "eins", "sept", "mil", "dos"}
#: Italian and Portuguese number words, read in a text of their own language only: many are other
#: words or names elsewhere (English "due to", German "sei", Otto, Audi's Quattro, the surname
#: Trenta, Czech "nove", French "tu dois", German "Dez."). "cento" after "per"/"por" is a percentage.
_LANGUAGE_NUM_WORDS = {
    "it": {"due": 2, "tre": 3, "quattro": 4, "cinque": 5, "sei": 6, "sette": 7, "otto": 8, "nove": 9, "dieci": 10,
           "undici": 11, "dodici": 12, "tredici": 13, "quattordici": 14, "quindici": 15, "sedici": 16,
           "diciassette": 17, "diciotto": 18, "diciannove": 19, "venti": 20, "trenta": 30, "quaranta": 40,
           "cinquanta": 50, "sessanta": 60, "settanta": 70, "ottanta": 80, "novanta": 90, "cento": 100,
           "dozzina": 12, "una dozzina": 12},
    "pt": {"dois": 2, "duas": 2, "três": 3, "quatro": 4, "cinco": 5, "seis": 6, "sete": 7, "oito": 8, "nove": 9,
           "dez": 10, "onze": 11, "doze": 12, "treze": 13, "catorze": 14, "quinze": 15, "dezasseis": 16,
           "dezesseis": 16, "dezassete": 17, "dezessete": 17, "dezoito": 18, "dezanove": 19, "dezenove": 19,
           "vinte": 20, "trinta": 30, "quarenta": 40, "cinquenta": 50, "sessenta": 60, "setenta": 70,
           "oitenta": 80, "noventa": 90, "cem": 100, "cento": 100, "dúzia": 12, "uma dúzia": 12},
}
_SCALES = {
    "thousand": 1e3, "million": 1e6, "millions": 1e6, "billion": 1e9, "billions": 1e9, "trillion": 1e12,
    "mille": 1e3, "millier": 1e3, "milliers": 1e3, "milliard": 1e9, "milliards": 1e9,
    "mil": 1e3, "millón": 1e6, "millones": 1e6, "mil millones": 1e9,
    "tausend": 1e3, "millionen": 1e6, "milliarde": 1e9, "milliarden": 1e9,
    "mila": 1e3, "milione": 1e6, "milioni": 1e6, "miliardo": 1e9, "miliardi": 1e9,
    "milhão": 1e6, "milhões": 1e6, "mil milhões": 1e9, "bilhão": 1e9, "bilhões": 1e9,
    "m": 1e6, "bn": 1e9, "k": 1e3,
    "mio": 1e6, "mio.": 1e6, "mrd": 1e9, "mrd.": 1e9,
    "milion": 1e6, "miliony": 1e6, "milionů": 1e6, "milionu": 1e6, "miliard": 1e9, "miliardy": 1e9,
    "miliardů": 1e9, "tisíc": 1e3, "tis.": 1e3,
    "млн": 1e6, "млн.": 1e6, "миллион": 1e6, "миллиона": 1e6, "миллионов": 1e6, "млрд": 1e9, "млрд.": 1e9,
    "миллиард": 1e9, "миллиарда": 1e9, "миллиардов": 1e9, "тыс": 1e3, "тыс.": 1e3, "тысяч": 1e3,
    "हजार": 1e3, "हज\u093cार": 1e3, "लाख": 1e5, "करोड": 1e7, "करोड\u093c": 1e7,
}
_DIGITS = r"\d{1,3}(?:['’]\d{3})+(?:\.\d+)?|" \
    r"\d{1,3}(?:[,\u00a0\u202f ]\d{3})+(?:\.\d+)?|\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?"
_SCALE_ALT = "|".join(sorted((re.escape(w) for w in _SCALES), key=len, reverse=True))


@cache
def _number_words(lang: str | None) -> tuple[re.Pattern, dict[str, int], frozenset[str]]:
    """For a text in `lang` (None: any): the pattern of a number (digits or words, and a scale),
    the number words read and a word of each (its last: the pattern finds a number word only as
    whole words)."""
    words = {**_NUM_WORDS, **_LANGUAGE_NUM_WORDS.get(lang or "", {})}
    alt = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.,])(?P<num>{_DIGITS}|(?:{alt}))(?:[\s-]+(?P<scale>{_SCALE_ALT}))?"
                         rf"(?![\w\u0900-\u097f])", re.IGNORECASE)
    return pattern, words, frozenset(w.split()[-1] for w in words)


@dataclass(frozen=True)
class Mention:
    """A detail in a text: `kind` "number" or "name", its normalised `key`, and [start, end)."""

    kind: str
    key: str
    start: int
    end: int


def _parse_digits(s: str) -> float | None:
    # any decimal digit system (Devanagari ०-९, Arabic-Indic ٠-٩) read as ASCII digits
    s = "".join(str(unicodedata.digit(ch)) if ch.isdigit() and not ch.isascii() else ch for ch in s)
    s = s.replace("\u00a0", " ").replace("\u202f", " ")
    if re.fullmatch(r"\d{1,3}(?:['’]\d{3})+(?:\.\d+)?", s):  # Swiss grouping: 63'453
        return float(re.sub(r"['’]", "", s))
    if re.fullmatch(r"\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?", s):
        return float(s.replace(",", "").replace(" ", ""))
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", s):  # German/Spanish grouping: 5.200 or 1.500,5
        return float(s.replace(".", "").replace(",", "."))
    if re.fullmatch(r"\d+,\d+", s):  # decimal comma (1,5 millions)
        whole, frac = s.split(",")
        return float(f"{whole}.{frac}") if len(frac) != 3 else float(whole + frac)
    try:
        return float(s)
    except ValueError:
        return None


_ANY_DIGIT = re.compile(r"\d")
_WORD_TOKEN = re.compile(r"\w+")


def _may_hold_numbers(text: str, tokens: frozenset[str]) -> bool:
    """False only where the number pattern finds nothing: text whose lower case matches the number
    words as the regex's case folding does (`names.lower_as_ignorecase`) without a digit or a word
    of a number word (`tokens`). Most sentences, in ~1/5 of the regex's time."""
    if not lower_as_ignorecase(text) or _ANY_DIGIT.search(text):
        return True
    return not tokens.isdisjoint(_WORD_TOKEN.findall(text.lower()))


def numbers(text: str, lang: str | None = None) -> list[Mention]:
    """Quantities in `text` (in `lang`, where known), normalised: "5,200", "5 200" and "5200" are
    all 5200; "twelve", "a dozen", "douze", "dodici" and "zwölf" are 12; "1.5 million" is 1500000.
    Keys are canonical numbers."""
    lang = lang if lang in _LANGUAGE_NUM_WORDS else None
    return list(_kept_numbers(text, lang) if len(text) <= KEPT_TEXT_CHARS else _find_numbers(text, lang))


#: texts whose mentions are kept (`numbers`, `_cap_tokens`): a wire's sentences come back in every
#: copy of it, and each aligned block of a source once for every pair it is compared in; longer
#: texts (whole documents, asked for once a scan) are not, as the count bounds the memory
TEXTS_KEPT = 16384
KEPT_TEXT_CHARS = 2000


def _find_numbers(text: str, lang: str | None = None) -> tuple[Mention, ...]:
    out: list[Mention] = []
    pattern, words, tokens = _number_words(lang)
    if not _may_hold_numbers(text, tokens):
        return ()
    for m in pattern.finditer(text):
        raw = m.group("num")
        low = raw.lower()
        if low in words:
            if low in _AMBIGUOUS_NUM_WORDS and not m.group("scale"):
                continue
            if low == "cento" and re.search(r"\bp[eo]r\s+$", text[max(0, m.start() - 5):m.start()], re.IGNORECASE):
                continue  # "per cento", "por cento": per cent
            value: float | None = float(words[low])
        else:
            value = _parse_digits(raw)
        if value is None:
            continue
        start = m.start()
        # "a dozen": include the article in the span when present
        if low == "dozen" and text[max(0, start - 2):start].lower() == "a ":
            start -= 2
        if m.group("scale"):
            value *= _SCALES[m.group("scale").lower()]
        key = str(int(value)) if float(value).is_integer() else f"{value:g}"
        out.append(Mention("number", key, start, m.end()))
    return tuple(out)


_kept_numbers = lru_cache(maxsize=TEXTS_KEPT)(_find_numbers)


_CAP_TOKEN = re.compile(r"(?<![\w'’])(?:(?:al|el|ul|bin|ibn|abu|abd|de|van|von)[-\s])?[A-ZÀ-ÖØ-Þ][\w'’\-]*\w|"
                        r"(?<![\w'’])[A-ZÀ-ÖØ-Þ]\w*")
_NAME_STOP = {
    "the", "a", "an", "in", "on", "at", "but", "and", "or", "if", "as", "for", "of", "to", "by", "with",
    "however", "after", "before", "since", "while", "when", "this", "that", "these", "those", "it", "its",
    "he", "she", "they", "we", "i", "his", "her", "their", "our", "there", "here", "what", "why", "who",
    "mr", "mrs", "ms", "dr", "le", "la", "les", "des", "du", "de", "un", "une", "el", "los", "las", "der",
    "die", "das", "ein", "eine", "und", "en", "et", "y", "o", "is", "are", "was", "were", "so", "yet",
    "again", "also", "then", "now", "some", "more", "most", "other", "such", "no", "not", "all", "both",
    "especially", "read", "publicity", "former", "new", "two", "three", "one",
}

@lru_cache(maxsize=65536)
def name_key(token: str, lang: str | None = None) -> str:
    """Transliteration skeleton of a name token, so that spellings of one name meet:
    Kadhimi, Kazimi and Kadhemi give "kzm"; Soleimani and Suleimani give "slmn". A place name
    of `lang` is keyed by its English name (Genf, Genève: Geneva); a name in another script is
    transliterated first (Путин, पुतिन: Putin), a Slavic case ending cut (Путина, Babišem)."""
    place = place_name(token, lang)
    return skeleton(place if place is not None else romanize(strip_inflection(token, lang)))


# Capitalised words that start with a letter outside Latin-1 (Č, Ł, Cyrillic, Greek): _CAP_TOKEN's
# class stops at Þ, and widening it would change what English text yields.
_OTHER_CAP = re.compile(r"(?<![\w'’])[^\W\d_A-Za-z\u00c0-\u00ff][\w'’\-]*\w|(?<![\w'’])[^\W\d_A-Za-z\u00c0-\u00ff]")


#: a word character beyond Latin-1: only a word starting with one can be an `_OTHER_CAP` name
_BEYOND_LATIN1 = re.compile(r"[^\W\x00-\xff]")


def _cap_tokens(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, token) of capitalised words, in text order."""
    return _kept_cap_tokens(text) if len(text) <= KEPT_TEXT_CHARS else _find_cap_tokens(text)


def _find_cap_tokens(text: str) -> tuple[tuple[int, int, str], ...]:
    found = [(m.start(), m.end(), m.group(0)) for m in _CAP_TOKEN.finditer(text)]
    if _BEYOND_LATIN1.search(text):  # a letter beyond Latin-1 (not only curly quotes or dashes)
        found += [(m.start(), m.end(), m.group(0)) for m in _OTHER_CAP.finditer(text) if m.group(0)[0].isupper()]
        found.sort()
    return tuple(found)


_kept_cap_tokens = lru_cache(maxsize=TEXTS_KEPT)(_find_cap_tokens)


#: what may stand between a name and the punctuation that makes it sentence-initial
_OPENERS = " \u00a0\"“«‘'("


def _sentence_initial(text: str, start: int) -> bool:
    before = _last_char_before(text, start, _OPENERS + "„")
    return not before or before in ".!?:;\n—–-।"


#: a name's particle that is a preposition or an article outside English ("de Passau", "el Gobierno",
#: "al Senato", "von Feuerwehr"), unless a name goes before it and no place follows ("Charles de
#: Gaulle"; "Gobierno de España" is of Spain)
_PREPOSITION = re.compile(r"(?:al|el|ul|de|van|von)\s+", re.IGNORECASE)


def _after_a_name(text: str, start: int, lang: str | None) -> bool:
    """Whether a name goes right before `start` ("Charles" of "Charles de Gaulle"): a capitalised
    word that neither opens its sentence ("Selon de Gaulle") nor is a German noun ("Der
    Bürgermeister von Passau")."""
    prev = _capital_before(text, start)
    return prev is not None and not common_noun(prev, lang)


def _capital_before(text: str, start: int) -> str | None:
    """The capitalised word right before `start` (only spaces between), unless it opens its sentence."""
    lo = max(0, start - 40)
    prev = re.search(r"(\w[\w'’\-]*)\s+$", text[lo:start])
    if prev and prev.group(1)[0].isupper() and not _sentence_initial(text, lo + prev.start(1)):
        return prev.group(1)
    return None


def names(text: str, known: set[str] | None = None, lang: str | None = None) -> list[Mention]:
    """Capitalised name tokens of `text` with their skeleton keys (see `name_key`).

    A capitalised word at the start of a sentence counts only if it is in `known` (lower-cased
    tokens seen capitalised mid-sentence somewhere in the corpus), so "Tensions" is no name. In a
    noun-capitalising language (`lang` "de") a common noun is no name either ("Regierung");
    Devanagari words, which have no case, count when they read as names (`names.devanagari_name`)."""
    out = []
    for start, end, tok in _cap_tokens(text):
        if lang not in (None, "en") and (m := _PREPOSITION.match(tok)) and (
                not _after_a_name(text, start, lang) or place_name(tok[m.end():], lang) is not None):
            start, tok = start + m.end(), tok[m.end():]  # "la ville de Passau", "Gobierno de España"
        low = tok.lower()
        if low in _NAME_STOP or len(tok) < 2:
            continue
        if _sentence_initial(text, start) and (known is None or low not in known):
            continue
        if lang in NOUN_CAPITALISING and place_name(tok, lang) is None and common_noun(tok, lang):
            continue
        key = name_key(tok, lang)
        if len(key) >= 2:
            out.append(Mention("name", "n:" + key, start, end))
    if "\u0900" <= max(text, default=" "):
        for start, end, tok in devanagari_tokens(text):
            if devanagari_name(tok) and len(key := name_key(tok, lang or "hi")) >= 2:
                out.append(Mention("name", "n:" + key, start, end))
        out.sort(key=lambda m: m.start)
    return out


#: weekdays (Monday first) and months of the languages wire services write in, per language (a
#: text is read in its own: Italian "mai" is "never"); indices agree across languages
_WEEKDAYS = {"en": "monday tuesday wednesday thursday friday saturday sunday",
             "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
             "es": "lunes martes miércoles jueves viernes sábado domingo",
             "de": "montag dienstag mittwoch donnerstag freitag samstag sonntag",
             "it": "lunedì martedì mercoledì giovedì venerdì sabato domenica",
             "pt": "segunda-feira terça-feira quarta-feira quinta-feira sexta-feira sábado domingo"}
_MONTHS = {"en": "january february march april may june july august september october november december",
           "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
           "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
           "de": "januar februar märz april mai juni juli august september oktober november dezember",
           "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
           "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro"}
_CALENDAR = {lang: {w: f"{kind}{i}" for kind, table in (("d", _WEEKDAYS), ("m", _MONTHS))
                    for i, w in enumerate(table[lang].split(), 1)} for lang in _WEEKDAYS}
_CALENDAR["de"] |= {"sonnabend": "d6", "jänner": "m1"}
_CALENDAR["es"] |= {"setiembre": "m9"}
_CALENDAR_RE = {lang: re.compile(r"(?<![\w-])(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")(?![\w-])",
                                 re.IGNORECASE) for lang, words in _CALENDAR.items()}
#: languages that write days and months capitalised: there a month that is also a name beside a
#: capitalised word reads as that name (Theresa May, June Sarpong, Mai Thi Nguyen-Kim); elsewhere any
#: capitalised day or month mid-sentence is a name (Avril Haines, Julio Borges)
_CAPITALISED_CALENDAR = frozenset({"en", "de"})
_NAME_MONTHS = frozenset({"april", "may", "june", "july", "august", "mai", "juni", "juli"})


def calendar_words(text: str, lang: str | None = None) -> list[Mention]:
    """The weekdays and months `text` (in `lang`; unknown: English) names: kind "date", key "d1"-"d7"
    (Monday first) or "m1"-"m12", the same in every language. Lower-case "may" and "march" are
    English words, not months; a capitalised month that reads as part of a name is none
    (`_CAPITALISED_CALENDAR`)."""
    lang = lang if lang in _CALENDAR else "en"
    out = []
    for m in _CALENDAR_RE[lang].finditer(text):
        word = m.group()
        if word[0].isupper():
            if lang in _CAPITALISED_CALENDAR:
                if word.lower() in _NAME_MONTHS and _beside_a_capital(text, m.start(), m.end(), lang):
                    continue
            elif not _sentence_initial(text, m.start()):
                continue
        elif lang == "en":
            continue
        out.append(Mention("date", _CALENDAR[lang][word.lower()], m.start(), m.end()))
    return out


def _beside_a_capital(text: str, start: int, end: int, lang: str) -> bool:
    """Whether a capitalised word stands right before [start, end) (and does not open a sentence)
    or right after it, that is no day or month nor a German noun ("Ende Mai", "Montag Abend"): the
    day or month then reads as part of a name."""
    prev = _capital_before(text, start)
    nxt = re.match(r"\s+(\w[\w'’\-]*)", text[end:end + 40])

    def capital(word: str) -> bool:
        return word[0].isupper() and word.lower() not in _CALENDAR[lang] and not common_noun(word, lang)

    return (prev is not None and capital(prev)) or bool(nxt and capital(nxt.group(1)))


def name_vocabulary(texts: list[str]) -> set[str]:
    """Lower-cased tokens that appear capitalised in mid-sentence somewhere in `texts`."""
    vocab: set[str] = set()
    for text in texts:
        for start, _, tok in _cap_tokens(text):
            if not _sentence_initial(text, start):
                vocab.add(tok.lower())
    return vocab


def details(text: str, known: set[str] | None = None, lang: str | None = None) -> list[Mention]:
    """Numbers and names outside quotations: the outlet's own specific details (`lang`: the
    text's language, for what counts as a name)."""
    masked = outside_quotes_keep_offsets(text)
    return sorted(numbers(masked, lang) + names(masked, known, lang), key=lambda m: (m.start, m.kind))


def outside_quotes_keep_offsets(text: str) -> str:
    """`text` with each quotation blanked to spaces of the same length (offsets unchanged)."""
    return _blank_quotes(text)
