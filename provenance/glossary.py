"""Bilingual dictionaries for the gloss channel: each word of a non-English text mapped to the
English words a dictionary gives for it, so a translation and its original share words even when
they share no script and no cognates (Czech "vláda" and English "government").

The dictionaries are FreeDict's, in the dictd format Debian ships (`apt-get install
dict-freedict-ces-eng dict-freedict-eng-ces`, installed by `scripts/setup.sh`), read from
`/usr/share/dictd` and `/usr/local/share/dictd`, or from `$PROVENANCE_DICT_DIR` instead (folders
separated by `os.pathsep`). Both directions are used: `xxx-eng` maps headwords to translations, and
`eng-xxx` read backwards maps each translation to its English headword (for most languages the
English-to-X dictionary is the larger one). Words are lemmatised with `simplemma` on both sides.

A language without a dictionary gets no translations: its names and numbers still meet their
English counterparts (they pass through transliterated), and the scan warns once, in one line.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from .lexicon_files import checked, drop_superseded, keep_checked

#: Folders searched for `freedict-*.index` / `.dict.dz` files, after `$PROVENANCE_DICT_DIR`.
SYSTEM_DICT_DIRS = ("/usr/share/dictd", "/usr/local/share/dictd")

#: Other dictd dictionaries between a language and English, by file name (without `.index`) and
#: direction (True: from the language to English): where FreeDict's are small (eng-rus: 1,700
#: entries), Debian carries others (`mueller7-dict`: Müller's English-Russian, 46,000 entries).
OTHER_DICTIONARIES = {"ru": (("mueller7", False),)}

#: At most this many English words per foreign word (dictionaries list the main senses first).
MAX_SENSES = 4

#: Bumped when the parsing changes, so lexicons cached on disk are rebuilt.
LEXICON_FORMAT = 8

#: The gloss of a function word: a word that an English-to-X dictionary gives first for an English
#: stop word, and that has no commoner English sense (Hindi होना "be", देना "give" and the other
#: light verbs of compound verbs), has that sense only, which the gloss leaves out like the English
#: stop word, rather than its rarer senses, which are noise ("stand", "fall", "charge", "station"
#: for होना). Forward (X-to-English) dictionaries list their senses in order and are left alone
#: (on Tatoeba German gained nothing from the rule).
FUNCTION = ("",)

_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_WORD = re.compile(r"[^\W\d_][\w\u0900-\u0963\u0966-\u097f'\u2019-]*", re.UNICODE)
_NOISE = re.compile(r"\[[^\]]*\]|<[^>]*>|\([^)]*\)|\{[^}]*\}|/[^/]*/|(?<!\w)_\w+\.")
_NUMBERED = re.compile(r"(?:^|(?<=[\s;,]))\d+[.)]\s*")
_SKIP_LINE = re.compile(r"^\s*(\"|see:|synonyms?:|note:|antonyms?:|see also)", re.I)
_SENSE_SEP = re.compile(r"[,;]")


@dataclass(frozen=True)
class Lexicon:
    """Foreign word (lower case, and its lemma) -> English lemmas, for one language.

    Attributes:
        lang: ISO 639-1 code of the foreign language.
        words: foreign word -> up to `MAX_SENSES` English lemmas, main sense first (a dict, or
            the kept trie of one: `_lexicon`).
        sources: the dictionary files it was read from (empty: no dictionary found).
        fingerprint: changes when the files or the parsing change (part of feature cache keys).
    """

    lang: str
    words: Mapping[str, tuple[str, ...]]
    sources: tuple[str, ...]
    fingerprint: str

    def translate(self, word: str) -> tuple[str, ...]:
        """English lemmas for `word`: looked up as written, as its lemma, then in lower case
        (case tells German "Sagen", sayings, from "sagen", to say)."""
        for form in (word, lemma(word, self.lang), word.lower(), lemma(word.lower(), self.lang)):
            found = self.words.get(form)
            if found is not None:
                return found
        return ()


def dict_dirs() -> list[Path]:
    """The folders searched for dictionaries, in order: `$PROVENANCE_DICT_DIR` when set (folders
    separated by `os.pathsep`; set it empty to use no dictionary), else `SYSTEM_DICT_DIRS`."""
    env = os.environ.get("PROVENANCE_DICT_DIR")
    if env is not None:
        return [Path(p) for p in env.split(os.pathsep) if p]
    return [Path(p) for p in SYSTEM_DICT_DIRS]


def dictionary_files(lang: str) -> list[tuple[Path, Path, bool]]:
    """(index, data, forward) for each FreeDict dictionary between `lang` and English found on
    this machine: `forward` is True for `xxx-eng`, False for `eng-xxx`."""
    code = alpha3(lang)
    if code is None:
        return []
    out = []
    names = ((f"freedict-{code}-eng", True), (f"freedict-eng-{code}", False), *OTHER_DICTIONARIES.get(lang, ()))
    for name, forward in names:
        for folder in dict_dirs():
            index, data = folder / f"{name}.index", folder / f"{name}.dict.dz"
            if not data.is_file():
                data = folder / f"{name}.dict"
            if index.is_file() and data.is_file():
                out.append((index, data, forward))
                break
    return out


#: `alpha3` of the languages langdetect tells apart, as langcodes gives them: a scan looks them up
#: every time, and importing langcodes costs 70 ms of a re-scan (tests/test_gloss.py checks the table)
ALPHA3 = {
    "af": "afr", "ar": "ara", "bg": "bul", "bn": "ben", "ca": "cat", "cs": "ces", "cy": "cym", "da": "dan",
    "de": "deu", "el": "ell", "en": "eng", "es": "spa", "et": "est", "fa": "fas", "fi": "fin", "fr": "fra",
    "gu": "guj", "he": "heb", "hi": "hin", "hr": "hrv", "hu": "hun", "id": "ind", "it": "ita", "ja": "jpn",
    "kn": "kan", "ko": "kor", "lt": "lit", "lv": "lav", "mk": "mkd", "ml": "mal", "mr": "mar", "ne": "nep",
    "nl": "nld", "no": "nor", "pa": "pan", "pl": "pol", "pt": "por", "ro": "ron", "ru": "rus", "sk": "slk",
    "sl": "slv", "so": "som", "sq": "sqi", "sv": "swe", "sw": "swa", "ta": "tam", "te": "tel", "th": "tha",
    "tl": "fil", "tr": "tur", "uk": "ukr", "ur": "urd", "vi": "vie", "zh": "zho",
}


def alpha3(lang: str) -> str | None:
    """ISO 639-3 (terminology) code of an ISO 639-1 code, as FreeDict names its files."""
    if lang in ALPHA3:
        return ALPHA3[lang]
    import langcodes

    try:
        return langcodes.Language.get(lang).to_alpha3()
    except (LookupError, ValueError):
        return None


def read_dictd(index: Path, data: Path) -> list[tuple[str, str]]:
    """(headword, definition) of every entry of a dictd dictionary (`.index` and `.dict[.dz]`)."""
    raw = gzip.open(data).read() if data.suffix == ".dz" else data.read_bytes()
    out = []
    for line in index.read_text("utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or parts[0].startswith("00database"):
            continue
        start, size = _b64(parts[1]), _b64(parts[2])
        out.append((parts[0], raw[start:start + size].decode("utf-8", errors="replace")))
    return out


def _b64(s: str) -> int:
    n = 0
    for c in s:
        n = n * 64 + _B64.get(c, 0)
    return n


def translations(definition: str) -> tuple[str, list[str]]:
    """(headword, translations) of one FreeDict entry: the first line names the headword
    (pronunciation and part of speech after it); the others list senses, comma- or
    semicolon-separated, with examples, cross-references and domain labels left out."""
    lines = definition.split("\n")
    head = _NOISE.sub(" ", lines[0]).replace("~", " ").strip()
    out = []
    for line in lines[1:]:
        if not line.strip() or _SKIP_LINE.match(line):
            continue
        line = _NOISE.sub(" ", _NUMBERED.sub(";", line)).replace("~", " ")
        out += [p for p in map(str.strip, _SENSE_SEP.split(line)) if p]
    return head, out


def build_lexicon(lang: str, files: list[tuple[Path, Path, bool]]) -> dict[str, tuple[str, ...]]:
    """The foreign-word -> English lemmas mapping from `files` (`dictionary_files`). Only
    one-word foreign entries are kept (the text is glossed word by word); multi-word English
    translations keep their content words."""
    senses: dict[str, dict[str, int]] = {}  # foreign word -> English lemma -> rank key
    english: dict[str, tuple[str, ...]] = {}

    def content(text: str) -> tuple[str, ...]:
        if text not in english:
            words = _WORD.findall(text.lower())
            kept = [w for w in words if w not in ENGLISH_STOP_WORDS]
            english[text] = (tuple(lemma(w, "en").lower() for w in kept) if 0 < len(kept) <= 3
                             else FUNCTION if len(words) == 1 else ())
        return english[text]

    for index, data, forward in files:
        for _, definition in read_dictd(index, data):
            head, trans = translations(definition)
            pairs = ([(head, t) for t in trans] if forward else [(t, head) for t in trans])
            for k, (foreign, eng) in enumerate(pairs):
                if _single_word(foreign):
                    got = senses.setdefault(foreign, {})
                    for word in content(eng):
                        if not word and (forward or k):
                            continue  # "when: когда, время": only the first translation of a stop word is one
                        # forward senses first, in the dictionary's order; then by English frequency
                        got.setdefault(word, len(got) if forward else 1000)
    return {k: _ranked(v) for k, v in senses.items() if v}


def _ranked(candidates: dict[str, int]) -> tuple[str, ...]:
    """The `MAX_SENSES` best English lemmas: a forward dictionary's senses in its order, then the
    commonest English words (a reverse dictionary lists a foreign word under every English
    headword it translates, alphabetically: "vláda" under administration, cabinet, ..., government)."""
    if len(set(candidates.values())) == len(candidates):  # a forward dictionary's senses: its order alone
        order = sorted(candidates, key=candidates.__getitem__)
    else:
        order = sorted(candidates, key=lambda w: (candidates[w], -zipf(w) if w else -8.0))
    return FUNCTION if order[0] == FUNCTION[0] else tuple(w for w in order if w)[:MAX_SENSES]


def zipf(word: str, lang: str = "en") -> float:
    """wordfreq's Zipf frequency of `word` in `lang` (0 where wordfreq has no list for it;
    `wordfreqs.zipf`, which needs no wordfreq import for plain words)."""
    from .wordfreqs import zipf as wordfreq_zipf

    return wordfreq_zipf(word, lang)


def _single_word(s: str) -> bool:
    m = _WORD.fullmatch(s)
    return m is not None


def fingerprint(lang: str) -> str:
    """Changes when `lang`'s dictionary files or the parsing change; needs no dictionary read."""
    files = dictionary_files(lang)
    if not files:
        return f"{lang}:none"
    stamp = "|".join(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for i, d, _ in files for p in (i, d))
    return hashlib.sha256(f"{LEXICON_FORMAT}|{lang}|{stamp}".encode()).hexdigest()[:16]


def has_dictionary(lang: str) -> bool:
    """Whether words of `lang` can be glossed in English: English itself, or a dictionary found."""
    return lang == "en" or bool(dictionary_files(lang))


def lexicon(lang: str) -> Lexicon:
    """The `Lexicon` of `lang` (empty when no dictionary is installed), built once per process
    and cached on disk beside the embedding cache (`lexicons/`), keyed by `fingerprint`."""
    return _lexicon(lang, fingerprint(lang))


@cache
def _lexicon(lang: str, key: str) -> Lexicon:
    files = dictionary_files(lang)
    if not files:
        return Lexicon(lang, {}, (), key)
    sources = tuple(str(d) for _, d, _ in files)
    path = _cache_folder() / f"lexicon-{lang}-{key}.marisa"
    trie = _mapped(path)  # German's 10 MB of senses were unpickled in 0.19 s
    if trie is not None:
        return Lexicon(lang, _TrieSenses(trie), sources, key)
    words = build_lexicon(lang, files)
    trie = senses_trie(words)
    if trie is not None:
        _keep_trie(path, trie)  # other dictionaries' deleted
    return Lexicon(lang, words, sources, key)


def _mapped(path: Path | None):
    """The `marisa_trie.BytesTrie` kept at `path`, mapped into memory; None when there is none
    whole (missing, cut short, damaged: `lexicon_files.checked`), to be built again and replaced."""
    import marisa_trie

    if path is None or not checked(path):
        return None
    try:
        trie = marisa_trie.BytesTrie()
        trie.mmap(str(path))
        return trie
    except Exception:  # noqa: BLE001 -- not a trie after all
        return None


def _keep_trie(path: Path, trie) -> None:
    """Keep `trie` at `path` (`lexicon_files.keep_checked`: other keys' files deleted), and the
    pickles an earlier version kept under that name."""
    if keep_checked(path, trie.tobytes()):
        drop_superseded(path, f"{path.name.rsplit('-', 1)[0]}-*.pickle")


def senses_trie(words: Mapping[str, tuple[str, ...]]):
    """`words` as a `marisa_trie.BytesTrie` that `_TrieSenses` reads back (None when a sense holds
    a NUL, which separates them)."""
    import marisa_trie

    if any("\0" in w for senses in words.values() for w in senses):
        return None
    return marisa_trie.BytesTrie((k, "".join(f"{w}\0" for w in senses).encode("utf-8")) for k, senses in words.items())


class _TrieMap(Mapping):
    """A read-only str-keyed mapping over a `marisa_trie.BytesTrie`, each value decoded by
    `_decode` from the first bytes stored under its key. A key with a lone surrogate raises
    UnicodeEncodeError, as simplemma's own dict view does."""

    __slots__ = ("_trie",)

    def __init__(self, trie):
        self._trie = trie

    def _decode(self, value: bytes):
        raise NotImplementedError

    def get(self, key: str, default=None):
        if "\0" in key:  # marisa-trie < 1.4.2 misreads a key holding NUL; none is stored
            return default
        found = self._trie.get(key)
        return self._decode(found[0]) if found else default

    def __getitem__(self, key: str):
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self):
        return self._trie.iterkeys()

    def __len__(self) -> int:
        return len(self._trie)


class _TrieSenses(_TrieMap):
    """A lexicon's words (foreign word -> English senses): each word's senses, each followed by NUL
    (so that no sense, and the one empty sense of a function word, stay apart)."""

    __slots__ = ()

    def _decode(self, value: bytes) -> tuple[str, ...]:
        return tuple(value.decode("utf-8").split("\0")[:-1])


def _cache_folder() -> Path:
    from .lexicon_files import lexicon_dir

    return lexicon_dir()


#: scikit-learn's `ENGLISH_STOP_WORDS` (BSD-3; the Glasgow Information Retrieval Group's list), kept
#: here so that glossing needs no scikit-learn import (seconds per process); tests/test_gloss.py
#: checks it is still scikit-learn's list.
ENGLISH_STOP_WORDS = frozenset((
    "a about above across after afterwards again against all almost alone along already also although always "
    "am among amongst amoungst amount an and another any anyhow anyone anything anyway anywhere are around as "
    "at back be became because become becomes becoming been before beforehand behind being below beside "
    "besides between beyond bill both bottom but by call can cannot cant co con could couldnt cry de describe "
    "detail do done down due during each eg eight either eleven else elsewhere empty enough etc even ever "
    "every everyone everything everywhere except few fifteen fifty fill find fire first five for former "
    "formerly forty found four from front full further get give go had has hasnt have he hence her here "
    "hereafter hereby herein hereupon hers herself him himself his how however hundred i ie if in inc indeed "
    "interest into is it its itself keep last latter latterly least less ltd made many may me meanwhile might "
    "mill mine more moreover most mostly move much must my myself name namely neither never nevertheless next "
    "nine no nobody none noone nor not nothing now nowhere of off often on once one only onto or other others "
    "otherwise our ours ourselves out over own part per perhaps please put rather re same see seem seemed "
    "seeming seems serious several she should show side since sincere six sixty so some somehow someone "
    "something sometime sometimes somewhere still such system take ten than that the their them themselves "
    "then thence there thereafter thereby therefore therein thereupon these they thick thin third this those "
    "though three through throughout thru thus to together too top toward towards twelve twenty two un under "
    "until up upon us very via was we well were what whatever when whence whenever where whereafter whereas "
    "whereby wherein whereupon wherever whether which while whither who whoever whole whom whose why will "
    "with within without would yet you your yours yourself yourselves"
).split())


# --- lemmas --------------------------------------------------------------------------------------
# simplemma ships each language's lemma dictionary lzma-compressed and front-coded, and decodes it in
# every process that lemmatises a word of that language: 1.0-1.6 s for German, Spanish or Russian (a
# million entries each), paid by every CLI scan that reads a new article in one of them. Each is
# decoded once per machine here (through simplemma's public factory) and kept beside the lexicons
# as a MARISA trie (`lemmas-LANG-KEY.marisa`, marisa-trie, the store simplemma's own low-memory
# backend uses: German 7 MB), keyed by `LEMMA_FORMAT`, simplemma's version and the data file; a
# later process checks its CRC (`lexicon_files.checked`, ~10 ms) and maps it into memory (0.2 ms)
# instead of unpickling a dict (German 0.39 s,
# Spanish 0.24 s: what a CLI scan meeting one new article in them paid), and looks a word up in ~2
# us (a scan asks ~1.2 times per distinct word). The lemmas are simplemma's own (same dictionaries,
# same strategy; tested against simplemma).

#: Bumped when the kept lemma dictionaries' layout changes (pickled dicts -> MARISA tries now).
LEMMA_FORMAT = 2
#: Lemma dictionaries kept in memory at once (simplemma keeps 8 too).
LEMMA_LANGUAGES_KEPT = 8


@lru_cache(maxsize=200_000)
def lemma(word: str, lang: str) -> str:
    """simplemma's lemma of `word` in `lang` (the word itself where it has none)."""
    if lang not in _lemma_languages():
        return word
    try:
        return _lemmatizer().lemmatize(word, lang)
    except (ValueError, KeyError):
        return word


def known_word(word: str, lang: str) -> bool | None:
    """Whether `lang`'s lemma dictionary holds `word` as written (an inflected form or a lemma);
    None where there is no dictionary for `lang`."""
    if lang not in _lemma_languages():
        return None
    try:
        lemmas = _dictionary(lang)
    except (ValueError, KeyError):
        return None
    # (Swiss German writes ss for ß: Massnahme, Aussenminister)
    return word in lemmas or (lang == "de" and "ss" in word and word.replace("ss", "ß") in lemmas)


def load_lemmas(lang: str) -> None:
    """Read `lang`'s lemma dictionary now (before forking workers, which then share it)."""
    if lang in _lemma_languages():
        _dictionary(lang)


@cache
def _lemma_languages() -> frozenset[str]:
    from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

    return frozenset(SUPPORTED_LANGUAGES)


@cache
def _lemmatizer():
    from simplemma import Lemmatizer
    from simplemma.strategies import DefaultStrategy

    # simplemma.lemmatize(word, lang) is this lemmatizer over its default (decoding) factory
    return Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=_PickledDictionaries()))


class _PickledDictionaries:
    """A simplemma `DictionaryFactory` over `_dictionary`."""

    def get_dictionary(self, lang: str) -> Mapping[str, str]:
        return _dictionary(lang)


@lru_cache(maxsize=LEMMA_LANGUAGES_KEPT)
def _dictionary(lang: str) -> Mapping[str, str]:
    """`lang`'s lemma dictionary: the kept trie mapped into memory, or decoded by simplemma (and
    kept). Raises ValueError for a language simplemma does not cover, as simplemma does."""
    import marisa_trie
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    path = _cache_path(lang)
    trie = _mapped(path)
    if trie is not None:
        return _TrieLemmas(trie)
    decoded = DefaultDictionaryFactory(cache_max_size=0).get_dictionary(lang)
    trie = marisa_trie.BytesTrie((k, v.encode("utf-8")) for k, v in decoded.items())
    if path is not None:
        _keep_trie(path, trie)  # an earlier simplemma's deleted
    return _TrieLemmas(trie)


class _TrieLemmas(_TrieMap):
    """A lemma dictionary as simplemma reads one (a str -> str mapping; it calls `get`): UTF-8 lemmas."""

    __slots__ = ()

    def _decode(self, value: bytes) -> str:
        return value.decode("utf-8")


def _cache_path(lang: str) -> Path | None:
    """Where `lang`'s decoded dictionary is kept: named by `LEMMA_FORMAT`, simplemma's version and
    its data file's size and time (None when simplemma has no file for `lang`)."""
    import simplemma
    from simplemma.strategies.dictionaries.dictionary_factory import DATA_FOLDER

    data = Path(DATA_FOLDER) / f"{lang}.plzma"
    if not data.is_file():
        return None
    st = data.stat()
    stamp = f"{LEMMA_FORMAT}|{simplemma.__version__}|{lang}|{st.st_size}|{st.st_mtime_ns}"
    return _cache_folder() / f"lemmas-{lang}-{hashlib.sha256(stamp.encode()).hexdigest()[:16]}.marisa"


def missing_dictionaries(languages: set[str]) -> list[str]:
    """The languages of `languages` (other than English) with no dictionary on this machine."""
    return sorted(lang for lang in languages if not has_dictionary(lang))


def missing_dictionary_warning(languages: list[str]) -> str:
    """One line naming the languages without a dictionary and how to install one."""
    packages = " ".join(f"dict-freedict-{alpha3(lang) or lang}-eng" for lang in languages)
    return (f"no bilingual dictionary for {', '.join(languages)}: matching those languages with others relies on "
            f"names, numbers and character n-grams; install one (Debian: apt-get install {packages}) or point "
            "PROVENANCE_DICT_DIR at a folder of dictd files")
