"""wordfreq's Zipf frequencies, for plain words without importing wordfreq.

Every process that met a new text imported wordfreq (its tokenizer's regexes, langcodes, ftfy:
~0.3 s) and read a language's list into a dict (~0.2 s for English) to look up a few hundred
words: the direction cue's word lists, German noun tests, gloss tokens. For a language whose words
wordfreq reads as they are written (`_plain_language`: its regex tokenizer, NFC, case folding and
no transliteration, mark removal or letter rewriting), a word that is already NFC and case-folded
and made only of letters that join into one word between two Latin letters (the table's
alphabet, tried with wordfreq's own tokenizer: not CJK, Thai, superscript digits, marks; the
underscore joins too) is one token that wordfreq looks up as it is, so its Zipf value depends on
the list alone. Those values are computed once per machine, with wordfreq's own `zipf_frequency`
(one word per frequency band: the value depends on the band only), and kept beside the lexicons
(`zipf-LANG-KEY.npz`: the words sorted as UTF-8 in one byte string, each word's band, each band's
value and frequency, the alphabet), where a lookup is a binary search (~10 us; loading a table
takes 20-90 ms). A word not listed gets 0, as from wordfreq. A word that wordfreq's case folding
turns into such a word (Straße: strasse), or into such words joined by single hyphens or spaces
(États-Unis, porte-parole, von Tom: wordfreq's tokenizer breaks there, as Unicode's word boundaries
do), is what wordfreq makes of those words: one word's value, or the several frequencies combined
by wordfreq's own arithmetic (`_combined`); French and German text is full of them, and each sent a
process to import wordfreq and read its list (0.35 s for French). A word with ASCII digits
(Covid-19, G7, A320, 2019) is priced as wordfreq 3 prices numbers (`_token_freq`: its list's entry
for the word with each run of digits in zeros, times a year's or Benford's likelihood per run), from
the list's words of letters and digits, kept too. Anything else (other digits or signs, languages
wordfreq only matches to a list, such as hr or no, a table that cannot be kept) asks wordfreq.
tests/test_weights.py checks the values against wordfreq's."""

from __future__ import annotations

import math
import re
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

#: Bumped when the tables' layout or construction changes.
ZIPF_FORMAT = 4
#: `wordfreq.zipf_frequency`'s default minimum as a frequency (`zipf_to_freq(0.0)`).
_MINIMUM = 10**0.0 / 1e9
#: Where wordfreq's tokenizer breaks between two words of a table's alphabet, and nothing else does.
_BREAKS = re.compile("[- ]")
#: Runs of digits that wordfreq prices as numbers (`wordfreq.numbers.MULTI_DIGIT_RE`, ASCII digits here)
_DIGIT_RUNS = re.compile("[0-9]{2,}")
_NO_DIGITS = str.maketrans("", "", "0123456789")


@cache
def wordfreq_languages() -> frozenset[str]:
    """The languages wordfreq has a list for: its `available_languages("best")`, read from the
    names of its data files as it reads them, without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("wordfreq")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    found = set()
    for folder in spec.submodule_search_locations:
        for path in Path(folder, "data").glob("*.msgpack.gz"):
            name, _, lang = path.name.split(".")[0].partition("_")
            if not path.name.startswith("_") and name in ("small", "large") and lang:
                found.add(lang)
    return frozenset(found)


@lru_cache(maxsize=200_000)
def zipf(word: str, lang: str) -> float:
    """`wordfreq.zipf_frequency(word, lang)`; 0 where wordfreq has no list for `lang`."""
    table = _table(lang) if lang in wordfreq_languages() else None
    if table is not None:
        if _plain(word, table.alphabet):
            return table.get(word)
        tokens = _tokens(word, table.alphabet, table.numbers)
        if tokens is not None:
            freqs = [_token_freq(table, t) for t in tokens]
            return _combined(freqs) if None not in freqs else _combined([])
    from wordfreq import zipf_frequency

    try:
        return zipf_frequency(word, lang)
    except (LookupError, ValueError):
        return 0.0


def prepare(lang: str) -> None:
    """Read (or build and keep) `lang`'s table ahead of any scan (`cache_admin.prepare`)."""
    if lang in wordfreq_languages():
        _table(lang)


def _plain(word: str, alphabet: frozenset[str]) -> bool:
    """Whether wordfreq reads `word` as one token as written (see the module docstring)."""
    return alphabet.issuperset(word) and word == word.casefold() and unicodedata.is_normalized("NFC", word)


def _tokens(word: str, alphabet: frozenset[str], numbers: bool) -> list[str] | None:
    """The tokens wordfreq reads in `word` (NFC, case-folded, cut at single hyphens and spaces)
    when each is a plain word of `alphabet` (with `numbers`: or of its letters and ASCII digits,
    which join into one word); None otherwise (wordfreq is asked then)."""
    folded = unicodedata.normalize("NFC", word).casefold()
    tokens = _BREAKS.split(folded)
    if all(t and _plain(t.translate(_NO_DIGITS) if numbers else t, alphabet) for t in tokens):
        return tokens
    return None


# wordfreq 3's prices of a number (`wordfreq.numbers`), which its lists hold with every digit 0
_DIGIT_FREQS = [0.009, 0.300, 0.175, 0.124, 0.096, 0.078, 0.066, 0.057, 0.050, 0.045]
_YEAR_LOG_PEAK, _NOT_YEAR_PROB, _REFERENCE_YEAR, _PLATEAU_WIDTH = -1.9185, 0.1, 2019, 20


def _token_freq(table: ZipfTable, token: str) -> float | None:
    """wordfreq's frequency of one token, as `wordfreq._word_frequency` computes it: its list's
    entry for the token with every run of two or more digits in zeros, times `digit_freq` (per
    run: a year's likelihood for four digits, Benford's law otherwise) when that changed it; None
    when the list lacks the entry."""
    smashed = _DIGIT_RUNS.sub(lambda m: "0" * len(m.group()), token)
    freq = table.freq(smashed)
    if freq is None or smashed == token:
        return freq
    likely = 1.0
    for run in _DIGIT_RUNS.findall(token):
        likely *= _year_freq(run) if len(run) == 4 else _benford_freq(run)
    return freq * likely


def _benford_freq(digits: str) -> float:
    return _DIGIT_FREQS[int(digits[0])] / 10 ** (len(digits) - 1)


def _year_freq(digits: str) -> float:
    year = int(digits)
    if year <= _REFERENCE_YEAR:
        year_log_freq = _YEAR_LOG_PEAK - 0.0083 * (_REFERENCE_YEAR - year)
    elif _REFERENCE_YEAR < year <= _REFERENCE_YEAR + _PLATEAU_WIDTH:
        year_log_freq = _YEAR_LOG_PEAK
    else:
        year_log_freq = _YEAR_LOG_PEAK - 0.2 * (year - (_REFERENCE_YEAR + _PLATEAU_WIDTH))
    return 10.0**year_log_freq + _NOT_YEAR_PROB * _benford_freq(digits)


def _combined(freqs: list[float]) -> float:
    """wordfreq's Zipf value of a word made of tokens of these frequencies: `_word_frequency`'s sum
    of inverses and rounding to three significant digits, then `zipf_frequency`'s; no frequencies
    (a token not listed): the minimum, as wordfreq returns it."""
    if not freqs:
        return round(math.log(_MINIMUM, 10) + 9, 2)
    one_over = 0.0
    for freq in freqs:
        one_over += 1.0 / freq
    freq = max(1.0 / one_over, _MINIMUM)
    freq = round(freq, math.floor(-math.log(freq, 10)) + 3)
    return round(math.log(freq, 10) + 9, 2)


class ZipfTable:
    """The Zipf values of a language's plain words (see the module docstring)."""

    def __init__(self, arrays):
        """`arrays`: those `_build` makes, or the file they were saved to."""
        blob, starts = arrays["blob"], np.asarray(arrays["starts"], dtype=np.int64)
        self.blob = blob.tobytes()
        # Python ints without converting the arrays (a lookup reads ~20 entries of tables of 300-700k words)
        self.starts = memoryview(starts)
        self.bands = memoryview(np.asarray(arrays["bands"], dtype=np.int32))
        self.ranges = _prefix_ranges(np.frombuffer(self.blob, dtype=np.uint8), starts)
        self.values = arrays["values"].tolist()
        self.freqs = arrays["freqs"].tolist()
        self.alphabet = frozenset(str(arrays["alphabet"]))
        #: words with digits priced here (`_token_freq`): the table was built from wordfreq 3
        self.numbers = str(arrays["wordfreq"]).split(".")[0] == "3"

    def get(self, word: str) -> float:
        band = self._band(word)
        return 0.0 if band is None else self.values[band]

    def freq(self, word: str) -> float | None:
        """wordfreq's frequency of a listed plain word, None for one not listed."""
        band = self._band(word)
        return None if band is None else self.freqs[band]

    def _band(self, word: str) -> int | None:
        """The band of `word` (a binary search among the words of its first two bytes), or None."""
        key = word.encode("utf-8")
        if not key:
            return None
        found = self.ranges.get(_prefix(key))
        if found is None:
            return None
        lo, hi = found
        starts, blob = self.starts, self.blob
        while lo < hi:
            mid = (lo + hi) // 2
            here = blob[starts[mid]:starts[mid + 1]]
            if here < key:
                lo = mid + 1
            elif here > key:
                hi = mid
            else:
                return self.bands[mid]
        return None


def _prefix(key: bytes) -> int:
    """A word's first two bytes as one number (second byte + 1, so a one-byte word has its own);
    words sorted as bytes are sorted by it."""
    return key[0] * 257 + (key[1] + 1 if len(key) > 1 else 0)


def _prefix_ranges(blob: np.ndarray, starts: np.ndarray) -> dict[int, tuple[int, int]]:
    """`_prefix` -> the (first, end) positions of the table's words that have it (the table is
    sorted): a lookup searches a few hundred words instead of all (~1,500 ranges, a few ms to build)."""
    n = len(starts) - 1
    if n <= 0:
        return {}
    first = starts[:-1]
    second = np.where(np.diff(starts) > 1, blob[np.minimum(first + 1, len(blob) - 1)].astype(np.int64) + 1, 0)
    prefixes = blob[first].astype(np.int64) * 257 + second
    cut = np.flatnonzero(np.diff(prefixes)) + 1
    lo = np.concatenate([[0], cut])
    hi = np.concatenate([cut, [n]])
    return dict(zip(prefixes[lo].tolist(), zip(lo.tolist(), hi.tolist(), strict=True), strict=True))


@cache
def _table(lang: str) -> ZipfTable | None:
    """`lang`'s table from disk, or built and kept; None for a language that is not plain, or
    when the table cannot be kept (each process would build it again: wordfreq is quicker)."""
    from .lexicon_files import lexicon_dir

    path = lexicon_dir() / f"zipf-{lang}-{_key(lang)}.npz"
    try:
        with np.load(path) as z:
            return ZipfTable(z) if z["plain"] else None
    except Exception:  # missing, truncated, another layout: built again
        pass
    from .lexicon_files import keep

    arrays = _build(lang)
    if not keep(path, lambda fh: np.savez(fh, **arrays)):  # the tables of other keys deleted
        return None
    return ZipfTable(arrays) if arrays["plain"] else None


def _release() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("wordfreq")
    except PackageNotFoundError:
        return "none"


def _key(lang: str) -> str:
    import hashlib

    h = hashlib.sha256(f"{ZIPF_FORMAT}|{lang}|wordfreq {_release()}|".encode())
    h.update(Path(__file__).read_bytes())  # how the tables are built
    return h.hexdigest()[:16]


def _plain_language(lang: str) -> bool:
    from wordfreq.language_info import get_language_info

    info = get_language_info(lang)
    return (info["tokenizer"] == "regex" and info["normal_form"] == "NFC" and not info["remove_marks"]
            and not info["dotless_i"] and info["diacritics_under"] is None and info["transliteration"] is None
            and info["lookup_transliteration"] is None)


def _alphabet(words) -> str:
    """The characters of `words` that wordfreq's tokenizer keeps inside one word between two Latin
    letters (letters of alphabetic scripts, the underscore), sorted."""
    from wordfreq.tokens import simple_tokenize

    chars = {ch for w in words for ch in w}
    # tried at a word's start and beside digits too: U+FF9F (a halfwidth sound mark) joins after a
    # letter but starts no word
    return "".join(sorted(ch for ch in chars if (ch.isalpha() or ch == "_")
                          and all(simple_tokenize(w) == [w] for w in (f"a{ch}a", f"{ch}a", f"{ch}1", f"1{ch}"))))


def _build(lang: str) -> dict[str, np.ndarray]:
    from wordfreq import get_frequency_dict, zipf_frequency

    if not _plain_language(lang):
        return {"plain": np.array(False)}
    freqs = get_frequency_dict(lang, "best")
    alphabet = frozenset(_alphabet(freqs))
    band_of: dict[float, int] = {}
    values: list[float | None] = []
    band_freqs: list[float] = []
    rows = []
    for word, freq in freqs.items():
        if not _plain(word.translate(_NO_DIGITS), alphabet):  # words of letters and digits: `_token_freq`
            continue
        band = band_of.setdefault(freq, len(band_freqs))
        if band == len(band_freqs):
            band_freqs.append(freq)
            values.append(None)
        if values[band] is None and word.translate(_NO_DIGITS) == word:
            values[band] = zipf_frequency(word, lang)  # wordfreq's own rounding, once per band
        rows.append((word.encode("utf-8"), band))
    # a band of words with digits only: never read by `get` (plain words only), its value for completeness
    values = [_combined([f]) if v is None else v for v, f in zip(values, band_freqs, strict=True)]
    rows.sort()
    starts = np.cumsum([0] + [len(w) for w, _ in rows], dtype=np.int64)
    return {"plain": np.array(True), "blob": np.frombuffer(b"".join(w for w, _ in rows), dtype=np.uint8),
            "starts": starts, "bands": np.array([b for _, b in rows], dtype=np.int32),
            "values": np.array(values, dtype=np.float64), "freqs": np.array(band_freqs, dtype=np.float64),
            "alphabet": np.array("".join(sorted(alphabet))), "wordfreq": np.array(_release())}
