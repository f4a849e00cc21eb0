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
value, the alphabet), where a lookup is a binary search (~10 us; loading a table takes 20-90 ms).
A word not listed gets 0, as from wordfreq. Anything else (other words, languages wordfreq only
matches to a list, such as hr or no, a table that cannot be kept) asks wordfreq.
tests/test_weights.py checks the values against wordfreq's."""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

#: Bumped when the tables' layout or construction changes.
ZIPF_FORMAT = 3


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
    if table is not None and _plain(word, table.alphabet):
        return table.get(word)
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


class ZipfTable:
    """The Zipf values of a language's plain words (see the module docstring)."""

    def __init__(self, arrays):
        """`arrays`: those `_build` makes, or the file they were saved to."""
        self.blob, self.starts, self.bands = arrays["blob"].tobytes(), arrays["starts"], arrays["bands"]
        self.values = arrays["values"].tolist()
        self.alphabet = frozenset(str(arrays["alphabet"]))

    def get(self, word: str) -> float:
        key = word.encode("utf-8")
        starts = self.starts
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            here = self.blob[int(starts[mid]):int(starts[mid + 1])]
            if here < key:
                lo = mid + 1
            elif here > key:
                hi = mid
            else:
                return self.values[int(self.bands[mid])]
        return 0.0


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


def _key(lang: str) -> str:
    import hashlib
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("wordfreq")
    except PackageNotFoundError:
        release = "none"
    h = hashlib.sha256(f"{ZIPF_FORMAT}|{lang}|wordfreq {release}|".encode())
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
    return "".join(sorted(ch for ch in chars
                          if (ch.isalpha() or ch == "_") and simple_tokenize(f"a{ch}a") == [f"a{ch}a"]))


def _build(lang: str) -> dict[str, np.ndarray]:
    from wordfreq import get_frequency_dict, zipf_frequency

    if not _plain_language(lang):
        return {"plain": np.array(False)}
    freqs = get_frequency_dict(lang, "best")
    alphabet = frozenset(_alphabet(freqs))
    band_of: dict[float, int] = {}
    values: list[float] = []
    rows = []
    for word, freq in freqs.items():
        if not _plain(word, alphabet):
            continue
        if freq not in band_of:
            band_of[freq] = len(values)
            values.append(zipf_frequency(word, lang))  # wordfreq's own rounding, once per band
        rows.append((word.encode("utf-8"), band_of[freq]))
    rows.sort()
    starts = np.cumsum([0] + [len(w) for w, _ in rows], dtype=np.int64)
    return {"plain": np.array(True), "blob": np.frombuffer(b"".join(w for w, _ in rows), dtype=np.uint8),
            "starts": starts, "bands": np.array([b for _, b in rows], dtype=np.int32),
            "values": np.array(values, dtype=np.float64), "alphabet": np.array("".join(sorted(alphabet)))}
