"""English words written in another script: Hindi news writes पुलिस (police), कॉलेज (college),
एडमिशन (admission) and spells acronyms out letter by letter (एसटीएफ: STF), and a bilingual
dictionary knows few of them. The gloss channel asks here for the English word behind a word its
dictionary lacks.

* Acronyms: a word made entirely of the names of Latin letters in Devanagari (एस, टी, एफ) is
  the acronym they spell.
* Loanwords: the word is transliterated (`anyascii`) and reduced to a sound key that forgives
  what a change of script changes (vowels, voicing of s, c/k/s, doubled letters); English words
  of `wordfreq`'s list with the same key are candidates, scored by how close their letters are
  (`rapidfuzz`'s normalised Indel similarity, times the share of Hindi's written vowels the
  English word has too). The closest is taken when it is close enough and about as common in
  English as the word is in Hindi (a loanword keeps its frequency; a native word or a name that
  merely sounds like a rare English word does not), a commoner word winning a near tie.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .names import romanize

#: English words considered: `wordfreq`'s commonest (Zipf >= about 2.5), alphabetic, 3+ letters.
ENGLISH_VOCABULARY = 50_000
#: least letter similarity (0..1, on the two spellings reduced by `_phonetic`) for a loanword
MIN_SIMILARITY = 0.75
#: least length of a sound key: shorter keys (बाइक "bk") meet too many English words
MIN_KEY = 3
#: a loanword keeps about the frequency its English word has (पार्टी 5.5 in Hindi, party 5.4 in
#: English); a common native word that happens to sound like a rare English word (लेकिन 6.4,
#: "lookin" 3.1) does not: the English word may be at most this much rarer (Zipf)
MAX_ZIPF_DROP = 1.5
#: an English word frequent enough may be this much less similar than the closest, rarer one
RUNNER_UP_GAP = 0.1
#: similarity one Zipf unit of English frequency is worth when choosing among close candidates
FREQUENCY_WEIGHT = 0.05

# Latin letter names as Hindi writes them, longest first (डब्ल्यू before डी)
_LETTERS = {
    "ए": "a", "बी": "b", "सी": "c", "डी": "d", "ई": "e", "एफ": "f", "जी": "g", "एच": "h", "आई": "i",
    "जे": "j", "के": "k", "एल": "l", "एम": "m", "एन": "n", "ओ": "o", "पी": "p", "क्यू": "q", "आर": "r",
    "एस": "s", "टी": "t", "यू": "u", "वी": "v", "डब्ल्यू": "w", "डब्लू": "w", "एक्स": "x", "वाई": "y",
    "जेड": "z", "ज़ेड": "z",
}
_LETTER_RE = re.compile("|".join(sorted(map(re.escape, _LETTERS), key=len, reverse=True)))
# Hindi plural / oblique endings a loanword takes (कॉलेजों, कंपनियों, मैचों)
_HINDI_ENDINGS = ("ियों", "ियां", "ियाँ", "यों", "ों", "ें", "ओं", "एं")


def acronym(word: str) -> str | None:
    """The Latin acronym a Devanagari word spells letter by letter (एसटीएफ -> "stf"), or None.
    At least two letters, and the whole word must be letter names."""
    out, pos = [], 0
    while pos < len(word):
        m = _LETTER_RE.match(word, pos)
        if m is None:
            return None
        out.append(_LETTERS[m.group(0)])
        pos = m.end()
    return "".join(out) if len(out) >= 2 else None


_EN_RULES = [("sch", "sk"), ("oo", "u"), ("tch", "C"), ("ch", "C"), ("sh", "S"), ("ck", "k"), ("qu", "kv"),
             ("ph", "f"), ("th", "t"), ("gh", "g"), ("x", "ks"), ("q", "k"), ("w", "v"), ("z", "s"), ("j", "s"),
             ("y", "i")]
_HI_RULES = [("ch", "C"), ("c", "C"), ("sh", "S"), ("kh", "k"), ("gh", "g"), ("th", "t"), ("dh", "d"),
             ("ph", "f"), ("bh", "b"), ("jh", "s"), ("z", "s"), ("j", "s"), ("w", "v"), ("y", "i")]
_SOFT = re.compile(r"c(?=[eiy])")
_SOFT_G = re.compile(r"g(?=[ei])")


def _phonetic(text: str, english: bool) -> str:
    """`text` (ASCII, lower case) respelled so English spelling and a transliteration meet:
    affricates as C, s/z/j/sh as s, English soft c and soft g as s, oo as u, a first vowel as a."""
    t = text
    if english:
        t = _SOFT.sub("s", t)
        t = _SOFT_G.sub("s", t)
        rules = _EN_RULES
    else:
        rules = _HI_RULES
    for a, b in rules:
        t = t.replace(a, b)
    t = t.replace("c", "k").replace("S", "s")
    if t[:1] in ("e", "i", "o", "u"):  # a first vowel is the least certain (एडमिशन "edmisn", admission)
        t = "a" + t[1:]
    return re.sub(r"(.)\1+", r"\1", t)


def _key(phonetic: str) -> str:
    """Consonants of a `_phonetic` spelling (a first vowel as "a"), "h" dropped."""
    if not phonetic:
        return ""
    first = "a" if phonetic[0] in "aeiou" else phonetic[0]
    return re.sub(r"(.)\1+", r"\1", first + re.sub(r"[aeiouh]", "", phonetic[1:]))


def load() -> None:
    """Build the English index now (before worker processes fork, so that they share it)."""
    _english_index()


@lru_cache(maxsize=1)
def _english_index() -> dict[str, tuple[tuple[str, str], ...]]:
    """Sound key -> ((English word, its `_phonetic` spelling), ...), commonest word first."""
    from wordfreq import top_n_list

    out: dict[str, list[tuple[str, str]]] = {}
    for word in top_n_list("en", ENGLISH_VOCABULARY):
        if len(word) >= 3 and word.isascii() and word.isalpha():
            ph = _phonetic(word, True)
            key = _key(ph)
            if len(key) >= MIN_KEY:
                out.setdefault(key, []).append((word, ph))
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=65536)
def loanword(word: str) -> str | None:
    """The English word a Devanagari word transliterates (पुलिस -> "police", कॉलेजों -> "college"),
    or None when no English word is close enough, or the closest is far rarer in English than the
    word is in Hindi (a name, or a native word)."""
    from rapidfuzz.fuzz import ratio

    from .glossary import zipf

    floor = zipf(word, "hi") - MAX_ZIPF_DROP
    forms = [word] + [word[:-len(e)] for e in _HINDI_ENDINGS if word.endswith(e) and len(word) > len(e) + 1]
    scored = []  # (similarity, -rank, English word)
    index = _english_index()
    for form in forms:
        ph = _phonetic(romanize(form).lower(), False)
        for rank, (english, eph) in enumerate(index.get(_key(ph), ())):
            scored.append((ratio(ph, eph) / 100 * _vowels_kept(ph, eph), -rank, english))
    if not scored:
        return None
    top = max(scored)[0]
    # the closest English word frequent enough; a name (कॉलेज: "coles") may sound closer than the
    # loanword (college), but a word far behind the closest one is a coincidence (अनिल: anil, anal)
    close = [s for s in scored if s[0] >= max(MIN_SIMILARITY, top - RUNNER_UP_GAP)]
    fits = [s for s in close if zipf(s[2]) >= floor]
    # among those, a commoner word wins a near tie (कॉलेजों: college 0.91 over Coles 1.0)
    return max(fits, key=lambda s: s[0] + FREQUENCY_WEIGHT * zipf(s[2]))[2] if fits else None


_CONSONANTS = re.compile(r"[^aeiou]")


def _vowels_kept(hindi: str, english: str) -> float:
    """Share of the vowels Hindi writes (between consonants) that the English word has there too:
    Hindi leaves the inherent vowel unwritten (कंपनी "kmpni", company), but a written vowel is
    sounded (विनोद "vinod" is not "wind")."""
    def groups(t: str) -> list[str]:
        t = re.sub(r"(.)\1+", r"\1", t.replace("h", ""))
        return _CONSONANTS.split(t)

    h, e = groups(hindi), groups(english)
    if len(h) != len(e):
        return 1.0
    written = [i for i, g in enumerate(h) if g]
    return sum(1 for i in written if e[i]) / len(written) if written else 1.0
