"""Stage: language identification. langdetect, per document and per paragraph.

langdetect is randomised; `DetectorFactory.seed = 0` makes it deterministic (same input, same
answer). Paragraphs too short for a reliable guess take the document's language, and so do
paragraphs whose function words vote clearly for it (`clearly`); langdetect decides the rest.
langdetect's profiles are read from a compact copy kept beside the lexicons (`_factory`).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from langdetect import DetectorFactory, LangDetectException
from langdetect.detector import Detector
from langdetect.lang_detect_exception import ErrorCode
from langdetect.utils.ngram import NGram

from .lexicon_files import keep, lexicon_dir
from .segment import Segmented

DetectorFactory.seed = 0

#: Paragraphs shorter than this (characters) inherit the document language.
MIN_PARAGRAPH_CHARS = 60
UNKNOWN = "und"


@dataclass(frozen=True)
class Languages:
    """`document`: ISO 639-1 code (or "und"); `paragraphs`: one code per `Segmented.paragraphs`;
    `shares`: share of story characters per language, rounded to 3 places."""

    document: str
    paragraphs: tuple[str, ...]
    shares: tuple[tuple[str, float], ...]
    declared: str | None = None


@lru_cache(maxsize=8192)
def detect(text: str) -> tuple[str, float]:
    """Best language of `text` and its probability; ("und", 0.0) when undecidable. Memoised:
    with the seed reset on every call the answer depends on the text alone, and copies of a
    wire repeat whole paragraphs."""
    DetectorFactory.seed = 0  # another library may have reseeded it
    try:  # langdetect's `detect_langs`, over `_factory`'s profiles
        detector = _Detector(_factory().create())
        detector.append(text)
        langs = detector.get_probabilities()
    except LangDetectException:
        return UNKNOWN, 0.0
    if not langs:
        return UNKNOWN, 0.0
    best = langs[0]
    return _norm(best.lang), float(best.prob)


class _Detector(Detector):
    """langdetect's `Detector` (made from one `factory.create()` gives) with its inner loop on numpy
    arrays: each trial multiplies a language's probability by the same sums, in the same order, and
    normalises by the same left-to-right sum, so the probabilities are langdetect's bit for bit
    (tests/test_stages.py compares them), in ~60% of the time (1,805 Tatoeba and newstest texts:
    1.63 -> 1.03 s): langdetect's loop over the 55 languages in Python was most of a detection,
    and detection ~0.5 CPU-s of a cold scan of the speed corpus."""

    def __init__(self, made: Detector):
        self.__dict__.update(made.__dict__)
        self._rows = _rows(self.word_lang_prob_map)

    def _detect_block(self):
        """langdetect's `_detect_block`: the same draws from its seeded generator, the same products
        in the same order, normalised after the first n-gram and then after every fifth, until
        converged or at the iteration limit. Each trial's factors are one array (a row per distinct
        n-gram of the text: the sums `_update_lang_prob` makes) and the draws index it, without a
        method call, a `random.choice` frame and two lookups per n-gram (with `_extract_ngrams` below:
        1,720 Tatoeba and newstest texts in ~65-80% of the time, alternated processes)."""
        self.cleaning_text()
        ngrams = self._extract_ngrams()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        self.langprob = [0.0] * len(self.langlist)
        at: dict[str, int] = {}
        picks = [at.setdefault(w, len(at)) for w in ngrams]  # what is drawn: the same count as the n-grams
        rows = np.concatenate([self._row(w) for w in at]).reshape(len(at), -1)  # (vstack: 2x slower)
        rng = self.random
        rng.seed(self.seed)
        # `random.choice(seq)` is `seq[rng._randbelow(len(seq))]`: the same draws, without its frame per
        # n-gram (the test comparing every probability with langdetect's would see any other draw)
        below, n_picks, limit, threshold = rng._randbelow, len(picks), self.ITERATION_LIMIT, self.CONV_THRESHOLD
        for _ in range(self.n_trial):
            prob = self._init_probability()
            alpha = self.alpha + rng.gauss(0.0, 1.0) * self.ALPHA_WIDTH
            factors = alpha / self.BASE_FREQ + rows
            prob *= factors[picks[below(n_picks)]]
            i = 0  # (the limit is a multiple of 5: checked where langdetect checks it)
            while not (self._normalize_prob(prob) > threshold or i >= limit):
                for _ in range(5):
                    prob *= factors[picks[below(n_picks)]]
                i += 5
            for j in range(len(self.langprob)):
                self.langprob[j] += prob[j] / self.n_trial

    def _extract_ngrams(self) -> list[str]:
        """langdetect's `_extract_ngrams`: its `NGram` buffer's steps (`add_char`) on local
        variables, and each distinct character normalised once a process (`_normalized`); the same
        n-grams in the same order (the pure-Python loop was a fifth of a detection)."""
        known = self.word_lang_prob_map
        result: list[str] = []
        grams, capital = " ", False
        for ch in self.text:
            ch = _NORMALIZED.get(ch) or _normalized(ch)
            last = grams[-1]
            if last == " ":
                grams, capital = " ", False
                if ch == " ":
                    continue  # (langdetect's buffer stays " ": no n-gram to take)
            elif len(grams) >= 3:
                grams = grams[1:]
            grams += ch
            if ch.isupper():
                if last.isupper():
                    capital = True
            else:
                capital = False
            if capital:
                continue
            for n in (1, 2, 3):
                if len(grams) < n:
                    break
                w = grams[-n:]
                if w != " " and w in known:
                    result.append(w)
        return result

    def _row(self, word: str) -> np.ndarray:
        row = self._rows.get(word)
        if row is None:
            row = self._rows[word] = np.array(self.word_lang_prob_map[word], dtype=np.float64)
        return row

    def _init_probability(self):
        start = [1.0 / len(self.langlist)] * len(self.langlist) if self.prior_map is None else self.prior_map
        return np.array(start, dtype=np.float64)

    def _normalize_prob(self, prob):
        values = prob.tolist()
        total = sum(values)  # Python's built-in sum of a list of floats, as langdetect's
        prob /= total
        return max(values) / total  # (a division by a positive number keeps the order)


#: `NGram.normalize` of each character met (it depends on the character alone)
_NORMALIZED: dict[str, str] = {}


def _normalized(ch: str) -> str:
    if len(_NORMALIZED) >= 1 << 16:
        _NORMALIZED.clear()
    out = _NORMALIZED[ch] = NGram.normalize(ch)  # returned as made (another thread may empty the memo)
    return out


def _rows(profiles) -> dict[str, np.ndarray]:
    """Each n-gram's probabilities in `profiles` as an array, made as detections ask for them."""
    held = _ROWS.get(id(profiles))
    if held is None or held[0] is not profiles:  # (the map is held too, so its id is not reused)
        held = _ROWS[id(profiles)] = (profiles, {})
    return held[1]


_ROWS: dict[int, tuple[object, dict[str, np.ndarray]]] = {}


# --- langdetect's profiles --------------------------------------------------------------------
# langdetect reads its 55 profiles from JSON files in every process that detects a language: 0.27 s,
# paid by every CLI scan that meets a new paragraph. They are copied once per machine beside the
# lexicons (`langdetect-KEY.npz`, 2.3 MB: the 184,000 non-zero probabilities of 87,600 n-grams), keyed
# by `PROFILES_FORMAT`, langdetect's loading code and its profile files (in the order the folder lists
# them, which is langdetect's language order), and read back in 0.03-0.06 s; each n-gram's row of
# probabilities is made when a text first asks for it (`_Profiles`). Same floats, same language order:
# detection is unchanged.

#: Bumped when the layout of the kept copy of langdetect's profiles changes.
PROFILES_FORMAT = 1


def load_profiles() -> None:
    """Read langdetect's profiles now (before forking workers, which then share them); a failure
    is left to `detect`, which answers "und"."""
    try:
        _factory()
    except LangDetectException:
        pass


@cache
def _factory() -> DetectorFactory:
    """langdetect's `DetectorFactory` with every profile loaded, from the kept copy when there is
    one (a copy that cannot be read whole, for whatever reason, is read from langdetect's files
    again, and replaced)."""
    from langdetect.detector_factory import PROFILES_DIRECTORY

    path = _profiles_path(Path(PROFILES_DIRECTORY))
    if path is not None and path.is_file():
        try:
            return _read_profiles(path)
        except Exception:  # noqa: BLE001 -- empty, cut short, another layout: langdetect's own files then
            pass
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    keys = list(factory.word_lang_prob_map)
    if path is not None and len(factory.langlist) < 256 and not any("\0" in k for k in [*keys, *factory.langlist]):
        keep(path, lambda fh: _write_profiles(fh, factory, keys))
    return factory


def _profiles_path(folder: Path) -> Path | None:
    """Where the copy of the profiles in `folder` is kept (None when they cannot be listed): named
    by langdetect's loading code and the profile files, in the order `os.listdir` gives them (as
    `DetectorFactory.load_profile` reads them: that order is its language order)."""
    from langdetect import detector_factory

    try:
        code = Path(detector_factory.__file__).stat()
        files = [(name, (st := (folder / name).stat()).st_size, st.st_mtime_ns) for name in os.listdir(folder)]
    except OSError:
        return None
    stamp = f"{PROFILES_FORMAT}|{code.st_size}|{code.st_mtime_ns}|{files}"
    return lexicon_dir() / f"langdetect-{hashlib.sha256(stamp.encode()).hexdigest()[:16]}.npz"


def _write_profiles(fh, factory: DetectorFactory, keys: list[str]) -> None:
    rows = factory.word_lang_prob_map
    counts, cols, vals = [], [], []
    for key in keys:
        found = [(j, p) for j, p in enumerate(rows[key]) if p]
        counts.append(len(found))
        cols += [j for j, _ in found]
        vals += [p for _, p in found]
    np.savez(fh, keys=_joined(keys), langs=_joined(factory.langlist), counts=np.array(counts, np.uint8),
             cols=np.array(cols, np.uint8), vals=np.array(vals, np.float64))


def _joined(texts: list[str]) -> np.ndarray:
    return np.frombuffer("\0".join(texts).encode("utf-8"), np.uint8)


def _read_profiles(path: Path) -> DetectorFactory:
    with np.load(path) as z:
        keys = z["keys"].tobytes().decode("utf-8").split("\0")
        langs = z["langs"].tobytes().decode("utf-8").split("\0")
        counts, cols, vals = z["counts"], z["cols"].tolist(), z["vals"].tolist()
    if len(counts) != len(keys) or int(counts.sum()) != len(vals) or len(cols) != len(vals) or max(cols) >= len(langs):
        raise ValueError(f"{path}: inconsistent profile copy")
    factory = DetectorFactory()
    factory.langlist = langs
    starts = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]).tolist()
    factory.word_lang_prob_map = _Profiles(keys, starts, cols, vals, len(langs))
    return factory


class _Profiles(dict):
    """langdetect's n-gram -> [probability per language] map, with each n-gram's list made when
    first asked for (langdetect only tests membership and reads rows)."""

    def __init__(self, keys: list[str], starts: list[int], cols: list[int], vals: list[float], width: int):
        super().__init__(zip(keys, range(len(keys)), strict=True))
        self._starts, self._cols, self._vals, self._width = starts, cols, vals, width

    def __getitem__(self, ngram: str) -> list[float]:
        row = dict.__getitem__(self, ngram)
        if type(row) is int:
            at = row
            row = [0.0] * self._width
            for k in range(self._starts[at], self._starts[at + 1]):
                row[self._cols[k]] = self._vals[k]
            dict.__setitem__(self, ngram, row)
        return row


# Frequent function words, with the pronouns and auxiliaries that short sentences carry: a paragraph
# whose words vote clearly for the document's language needs no second opinion. langdetect (2-8 ms
# a call here) still decides every other paragraph. On short Tatoeba paragraphs (1-3 sentences) the
# pronouns raised the share settled from 43% to 72%, `clearly`'s count of shared words to 80%, news
# function words (después, selon, nach, after) to 83%, and none was ever vouched for in another
# language (tests/test_stages.py checks both). A word common in a language without a list is left
# out ("over" is Dutch and Danish too, "also" German, "ella" and "aquí" Catalan, "desde" Portuguese):
# `dominant` counts it for the listed language alone.
_STOPWORDS = {
    "en": ("the of and to in a is that for on with as was by at from it his be are has have said were will "
           "you i we he she they not do did this what my me your can would there but an had been who "
           "about after into than their its which").split(),
    "fr": ("le la les de des du et un une est en que qui dans pour sur au aux par pas ont a été avec "
           "je tu il nous vous ils elle ne ce mon ton son sa ses mais très tout sont avait suis cette ça "
           "leur leurs aussi depuis selon entre après avant sans").split(),
    "es": ("el la los las de del y en que un una es por para con se al su lo como más fue ha "
           "yo tú él muy pero está este esta mi qué le me te nos hay estoy tengo quiero "
           "sus según también después ya dijo hasta cuando donde entre ellos ahora eso esto ese tiene hace").split(),
    "de": ("der die das und ist nicht den dem des ein eine zu mit von auf für im sich auch wurde hat "
           "ich du er sie wir es war haben habe kann mein dass aber noch schon sehr bin "
           "nach bei aus wie nur oder wenn sind werden wird").split(),
    "it": "il lo la gli le di del della e che un una è per con non si sono nel alla".split(),
    "pt": "o a os as de do da dos e que um uma é em para com não se por no na foi".split(),
}
_WORD_LOOKUP: dict[str, set[str]] = {}
for _lang, _words in _STOPWORDS.items():
    for _w in _words:
        _WORD_LOOKUP.setdefault(_w, set()).add(_lang)

# Words of neighbouring languages without a list above, which only ever count against one: a Catalan,
# Galician, Romanian or Dutch paragraph shares "el", "la", "de", "este" with the lists, a Dutch or
# Scandinavian one "in", "is", "we", "at", "for", "i" with English's, and would otherwise find nothing
# against them. Distinctive words only (none of the lists' words).
_AGAINST_ONLY = {
    "ca": "els amb dels és això aquest aquesta aquests seva seu seus molt però perquè també fins doncs".split(),
    "gl": "unha coa pola polo tamén moi xa cando".split(),
    "ro": "și în care cu pentru pe din să fost sunt acest această acesta unei unui lui lor iar".split(),
    "nl": "het een van niet zijn ook naar wordt voor bij heeft".split(),
    "sv": "och att är på inte som det av har hade när vid också eller efter skulle sina kan".split(),
    "da": "og ikke af til også blev havde hvor mellem nogle efter eller har det som kan".split(),
    "no": "og ikke av til også ble hadde hvor mellom noen etter eller har det som kan".split(),
}
_ANY_LOOKUP: dict[str, set[str]] = {w: set(langs) for w, langs in _WORD_LOOKUP.items()}
for _lang, _words in _AGAINST_ONLY.items():
    for _w in _words:
        _ANY_LOOKUP.setdefault(_w, set()).add(_lang)

#: `dominant`'s vote of each word that votes: the one list it is in, or `_UNLISTED` for a word of
#: `_AGAINST_ONLY`'s lists alone (however many of them share it: one voice, against every listed language)
_UNLISTED = ""
_VOTE: dict[str, str] = {w: (next(iter(langs)) if not langs - _STOPWORDS.keys() else _UNLISTED)
                         for w, langs in _ANY_LOOKUP.items()
                         if len(langs) == 1 or not langs & _STOPWORDS.keys()}


_WORDS = re.compile(r"[^\W\d_]+")


def clearly(text: str, lang: str, min_hits: int = 4, ratio: float = 3.0, min_own: int = 2) -> bool:
    """True when `text`'s function words vote for `lang`: at least `min_hits` of its words are in
    `lang`'s list, at least `min_own` different ones in no other list (`_AGAINST_ONLY`'s included),
    and those words of `lang`'s alone occur at least `ratio` times as often as the words of other
    lists that `lang`'s lacks. A word several lists share ("de", "la", "que") counts toward
    `min_hits` and nowhere else: counted for every language that has it, as before, it sent a
    French or Spanish paragraph full of such words to langdetect (short Tatoeba paragraphs: 39% of
    French and 19% of Spanish ones settled here, now 82% and 39%); counted for `lang` alone, it let
    French pass for Spanish ("Il y a un an, je te disais que la plupart de nos amis...")."""
    if lang not in _STOPWORDS:
        return False
    mine = own_hits = against = 0
    own: set[str] = set()
    for w in _WORDS.findall(text.lower()):
        langs = _ANY_LOOKUP.get(w)
        if langs is None:
            continue
        if lang not in langs:
            against += 1
            continue
        mine += 1
        if len(langs) == 1:
            own.add(w)
            own_hits += 1
    return mine >= min_hits and len(own) >= min_own and own_hits >= ratio * against


def dominant(text: str, min_hits: int = 12, ratio: float = 5.0, min_density: float = 0.05) -> str | None:
    """The language of a long text whose function words leave no doubt. Only words in a single
    language's list vote ("de" is French, Spanish and Portuguese; "les" only French), and the words
    of languages without a list (`_AGAINST_ONLY`) as one more voice; the winner needs `min_hits`
    votes, `ratio` times the runner-up's, and `min_density` of all words. None otherwise: ask
    langdetect. (Without the unlisted languages' voice a Dutch article passed for English on its
    "in", "is", "was", "we": 15 votes to 1 German and 1 Portuguese.)"""
    votes: dict[str, int] = {}
    words = _WORDS.findall(text.lower())
    for w in words:
        lg = _VOTE.get(w)
        if lg is not None:
            votes[lg] = votes.get(lg, 0) + 1
    if not votes:
        return None
    best = max(sorted(votes), key=votes.__getitem__)
    mine = votes.pop(best)
    if (best != _UNLISTED and mine >= min_hits and mine >= ratio * max(votes.values(), default=0)
            and mine >= min_density * len(words)):
        return best
    return None


def _norm(code: str) -> str:
    return code.split("-")[0].lower()


def identify(seg: Segmented) -> Languages:
    """Language of the story text of `seg` and of each of its paragraphs."""
    text = seg.doc.text
    story = "\n".join(text[p.start:p.end] for p in seg.paragraphs)
    declared = seg.doc.meta.get("language")
    if declared:
        doc_lang = _norm(declared)
    else:  # langdetect reads the whole story (14 ms for a long article); function words settle most
        doc_lang = dominant(story) or (detect(story)[0] if story.strip() else UNKNOWN)
    paras = []
    weights: Counter[str] = Counter()
    for p in seg.paragraphs:
        ptext = text[p.start:p.end]
        lang = doc_lang
        if len(ptext) >= MIN_PARAGRAPH_CHARS and not clearly(ptext, doc_lang):
            guess, prob = detect(ptext)
            if guess != UNKNOWN and prob >= 0.8:
                lang = guess
        paras.append(lang)
        weights[lang] += len(ptext)
    total = sum(weights.values()) or 1
    shares = tuple(sorted(((k, round(v / total, 3)) for k, v in weights.items()), key=lambda kv: (-kv[1], kv[0])))
    return Languages(doc_lang, tuple(paras), shares, declared)
