"""Weights of the lexical channel's columns that do not depend on the scan: an inverse document
frequency estimated from each language's word frequencies (wordfreq), not from the articles scanned.

Why not the scan's own IDF: with it, the weight of every n-gram (and so every sentence's nearest
lexical neighbours) changed whenever an article was added or removed. Two articles' candidate
pairing then depended on which other articles happened to be scanned beside them, the Spark engine
(which weighs each connected component on its own) could disagree with the local one, and a re-scan
with one new article had to search every sentence again. With weights fixed by the language, a
sentence's weighted row depends on its own text and language alone, so the search keeps the lists
of the last scan and only searches the new sentences (`retrieve.lexical_search`).

The estimate: wordfreq gives each word's share of running text in a language. An n-gram's expected
occurrences per word are the sum, over the words that contain it, of their shares times its count
in them (character n-grams stay inside words, so word lists are all they need); a sentence of
`SENTENCE_WORDS` words holds it with probability `p = 1 - exp(-SENTENCE_WORDS * rate)`, and the
weight is scikit-learn's smoothed IDF over `PSEUDO_SENTENCES` such sentences:
`ln((1 + N) / (1 + N p)) + 1`. " th" in English weighs about 1, an n-gram no common word holds
about 10.2 (names, numbers, a rare word: what copying shares and topic alone does not). Gloss
tokens (English lemmas) are weighed by the lemma's own share in English; name skeletons as rare.

On the benchmark's 212 labelled pairs these weights link exactly what the scan-wide IDF linked
(copies 1.0, rewrites 0.71, translations 1.0, independent 0.0, 8 false links), and the golden seed
report is unchanged. A language wordfreq has no list for (Gujarati, Thai, Estonian among
langdetect's) gets the same weight for every n-gram: plain sublinear TF, which on the same pairs
also links exactly the same. Tables are built once per machine and language (0.5-2 s) and kept
beside the lexicons (`lexicons/weights-KIND-LANG-KEY.npz`).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import numpy as np
from scipy import sparse

from .lexical import HASH_FEATURES, hashed_counts
from .lexicon_files import keep
from .wordfreqs import wordfreq_languages

#: Bumped when the tables' construction changes, so tables kept on disk are rebuilt.
WEIGHTS_FORMAT = 1
#: Words of a language's frequency list that make its table (about 90-97% of running text).
TABLE_WORDS = 50_000
#: Words in the sentence the probabilities are taken for (a news sentence's usual length).
SENTENCE_WORDS = 20
#: Sentences of the notional corpus the IDF is taken over (sets the rarest weight, ln(N + 1) + 1).
PSEUDO_SENTENCES = 10_000
#: Weight of a column that no common word of the language holds.
RARE = float(np.log(1.0 + PSEUDO_SENTENCES) + 1.0)


def _idf(rate: np.ndarray) -> np.ndarray:
    p = -np.expm1(-SENTENCE_WORDS * np.asarray(rate, dtype=np.float64))
    return (np.log((1.0 + PSEUDO_SENTENCES) / (1.0 + PSEUDO_SENTENCES * p)) + 1.0).astype(np.float32)


def _words(lang: str) -> list[tuple[str, float]]:
    """The `TABLE_WORDS` commonest words of `lang` with their shares of running text, shares scaled
    to sum to one over the words kept."""
    from wordfreq import get_frequency_dict

    items = sorted(get_frequency_dict(lang, "best").items(), key=lambda kv: (-kv[1], kv[0]))[:TABLE_WORDS]
    total = sum(f for _, f in items) or 1.0
    return [(w, f / total) for w, f in items]


def _table_from_rows(counts: sparse.csr_matrix, shares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(columns ascending, weights) from one row of counts per word and the words' shares."""
    rate = np.asarray(counts.T @ shares, dtype=np.float64).ravel()
    cols = np.flatnonzero(rate).astype(np.int64)
    return cols, _idf(rate[cols])


def _build_ngrams(lang: str) -> tuple[np.ndarray, np.ndarray]:
    from .lexical import char_ngram_counts

    words = _words(lang)
    counts = char_ngram_counts([w for w, _ in words])
    return _table_from_rows(counts, np.array([f for _, f in words]))


def _build_gloss() -> tuple[np.ndarray, np.ndarray]:
    from .gloss import GLOSS_FEATURES
    from .glossary import ENGLISH_STOP_WORDS, lemma

    shares: dict[str, float] = {}
    for w, f in _words("en"):
        low = w.lower()
        if low in ENGLISH_STOP_WORDS:
            continue
        token = "w:" + lemma(low, "en").lower()
        shares[token] = shares.get(token, 0.0) + f
    tokens = sorted(shares)
    counts = hashed_counts(([t] for t in tokens), GLOSS_FEATURES)
    return _table_from_rows(counts, np.array([shares[t] for t in tokens]))


#: langdetect's codes for languages whose wordfreq list goes by another code
WORDFREQ_CODES = {"no": "nb", "zh-cn": "zh", "zh-tw": "zh", "tl": "fil", "hr": "sh", "sr": "sh", "bs": "sh"}


def _table(kind: str, lang: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The table of `kind` ("ngram" or "gloss") for `lang`, from disk or built (and kept); None
    where wordfreq has no list for the language."""
    lang = WORDFREQ_CODES.get(lang, lang)
    if lang not in wordfreq_languages():
        return None
    return _cached_table(kind, lang, table_key())


def prepare_tables(lang: str, gloss: bool = False) -> None:
    """Read (or build and keep) `lang`'s n-gram table, and with `gloss` the English gloss table,
    ahead of any scan (`cache_admin.prepare`)."""
    _table("ngram", lang)
    if gloss:
        _table("gloss", "en")


@cache
def table_key() -> str:
    """What the tables depend on: how they are built (this module), how words become n-grams and
    glosses (`lexical`, `gloss`, `glossary`, `names`: their source), the data and code behind those
    (wordfreq, simplemma, anyascii) and Python's Unicode tables."""
    import unicodedata
    from importlib.metadata import PackageNotFoundError, version

    h = hashlib.sha256(f"{WEIGHTS_FORMAT}|{TABLE_WORDS}|{SENTENCE_WORDS}|{PSEUDO_SENTENCES}|{HASH_FEATURES}|"
                       f"{unicodedata.unidata_version}".encode())
    for package in ("wordfreq", "simplemma", "anyascii"):
        try:
            h.update(f"|{package} {version(package)}".encode())
        except PackageNotFoundError:
            h.update(f"|{package} none".encode())
    here = Path(__file__).parent
    for module in ("weights", "lexical", "gloss", "glossary", "names"):
        h.update((here / f"{module}.py").read_bytes())
    return h.hexdigest()[:16]


@cache
def _cached_table(kind: str, lang: str, key: str) -> tuple[np.ndarray, np.ndarray]:
    from .lexicon_files import lexicon_dir

    path = lexicon_dir() / f"weights-{kind}-{lang}-{key}.npz"
    try:
        with np.load(path) as z:
            return z["cols"], z["idf"]
    except Exception:  # missing, truncated, another layout (zipfile.BadZipFile among them): rebuilt
        pass
    cols, idf = _build_gloss() if kind == "gloss" else _build_ngrams(lang)
    # the tables of other keys deleted; a table that cannot be kept is only rebuilt next time
    keep(path, lambda fh: np.savez(fh, cols=cols, idf=idf))
    return cols, idf


#: Entries weighed at a time (bounds the temporary arrays of a scan with tens of millions of n-grams).
WEIGH_CHUNK = 1 << 22


def weighted_rows(counts: sparse.csr_matrix, languages: np.ndarray, kind: str = "ngram") -> sparse.csr_matrix:
    """Sublinear TF rows (`1 + ln(count)`) times each column's weight in the row's language
    (`languages`, one per row; `kind` "gloss": the English gloss table for every row),
    L2-normalised; float32 CSR over the same columns as `counts` (hashed, not compacted). A row's
    result depends on that row alone."""
    m = sparse.csr_matrix(counts, dtype=np.float32, copy=True)
    if not m.nnz:
        return m
    sizes = np.diff(m.indptr)
    if kind == "gloss":
        names, codes = np.array(["en"]), np.zeros(len(sizes), np.int64)
    else:
        names, codes = np.unique(np.asarray(languages), return_inverse=True)
    tables = [_table(kind, str(lang)) for lang in names.tolist()]
    entry_code = np.repeat(codes.ravel().astype(np.int32), sizes)
    for lo in range(0, m.nnz, WEIGH_CHUNK):
        hi = min(m.nnz, lo + WEIGH_CHUNK)
        cols, code = m.indices[lo:hi], entry_code[lo:hi]
        weight = np.full(hi - lo, RARE, np.float32)
        for c in np.unique(code).tolist():
            at = np.flatnonzero(code == c)
            if tables[c] is None:
                weight[at] = 1.0  # no list for the language: every n-gram alike
                continue
            t_cols, t_idf = tables[c]
            pos = np.minimum(np.searchsorted(t_cols, cols[at]), max(len(t_cols) - 1, 0))
            hit = t_cols[pos] == cols[at] if len(t_cols) else np.zeros(len(at), bool)
            weight[at] = np.where(hit, t_idf[pos], RARE)
        m.data[lo:hi] = (1.0 + np.log(m.data[lo:hi])) * weight
    del entry_code
    norms = np.zeros(len(sizes))
    filled = sizes > 0
    norms[filled] = np.sqrt(np.add.reduceat(np.square(m.data, dtype=np.float64), m.indptr[:-1][filled]))
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0).astype(np.float32)
    m.data *= np.repeat(inv, sizes)
    return m
