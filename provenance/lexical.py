"""The lexical evidence channel, independent of the embedding model.

Character n-grams (3-4, inside word boundaries, accents folded, TF-IDF weighted) link passages
that share names, numbers and cognates, and so survive translation far better than an
English-only sentence model does. Quotations are found here too, because a passage that matches
only inside a quotation is weaker evidence of copying (everyone quotes the same statement).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

if TYPE_CHECKING:  # sklearn takes seconds to import; a re-scan served from the cache needs none of it
    from sklearn.feature_extraction.text import TfidfVectorizer


NGRAM_RANGE = (3, 4)

# Opening -> closing quotation marks; straight double quotes pair with themselves.
_QUOTE_PAIRS = {"“": "”", "«": "»", "„": "“", '"': '"'}
_QUOTE_MARK = re.compile('[“”«»„"]')


#: Hashed feature space of char n-grams: columns are fixed by the n-gram itself, so one document's
#: rows never depend on the rest of the scan (they can be cached per document) and two documents'
#: rows always line up. 2**24 buckets: at the ~150k distinct n-grams of a 50-article story, under
#: 1% of n-grams share a bucket with another, which moves cosines by noise only.
HASH_FEATURES = 2**24


def pair_norms(x: np.ndarray | sparse.spmatrix) -> np.ndarray:
    """Norms of the sums of adjacent rows of `x` (dense or sparse): `||x_i + x_(i+1)||`, (m-1,)."""
    if sparse.issparse(x):
        x = sparse.csr_matrix(x)
        sq = np.asarray(x.multiply(x).sum(axis=1), dtype=np.float64).ravel()
        adjacent = np.asarray(x[:-1].multiply(x[1:]).sum(axis=1), dtype=np.float64).ravel()
        return np.sqrt(np.maximum(sq[:-1] + sq[1:] + 2.0 * adjacent, 0.0))
    sq = np.einsum("ij,ij->i", x, x)
    adjacent = np.einsum("ij,ij->i", x[:-1], x[1:])
    return np.sqrt(np.maximum(sq[:-1] + sq[1:] + 2.0 * adjacent, 0.0))


def char_ngram_counts(texts: list[str]) -> sparse.csr_matrix:
    """Raw char 3-4-gram counts (inside word boundaries, lower-cased, accents folded), rows =
    texts, columns = hashed n-grams (`HASH_FEATURES`): the matrix scikit-learn's
    `HashingVectorizer(analyzer="char_wb", ngram_range=NGRAM_RANGE, strip_accents="unicode",
    alternate_sign=False, norm=None)` gives, without importing scikit-learn (1.3-1.9 s in every
    process that computes features; tests/test_stages.py checks both agree)."""
    known = _WORD_COLUMNS
    if len(known) >= WORD_COLUMNS_KEPT:
        known.clear()
    words = [_WHITE_SPACES.sub(" ", _folded(romanized(t))).split() for t in texts]
    rows = rows_through_memo(words, known, lambda new: hashed_column_rows([_word_ngrams(w) for w in new],
                                                                          HASH_FEATURES))
    return counts_matrix(rows, HASH_FEATURES)


def rows_through_memo(rows: list[list[str]], memo: dict, make: Callable[[list[str]], Iterable]) -> list[list]:
    """Each row's words mapped to their values in `memo`; the words it lacks are made in one call
    (`make(words)` gives their values, in order) and kept there. The values are read from a copy
    held here (another thread may empty the memo meanwhile)."""
    found = {w: memo.get(w) for w in dict.fromkeys(w for row in rows for w in row)}
    new = [w for w, x in found.items() if x is None]
    if new:
        made = dict(zip(new, make(new), strict=True))
        found.update(made)
        memo.update(made)
    return [[found[w] for w in row] for row in rows]


def hashed_column_rows(rows: list[list[str]], n_features: int) -> list[np.ndarray]:
    """`hashed_columns` of each row of features (read-only), all hashed in one call: the features
    of many words at once (a call per word cost more in numpy overhead than in hashing)."""
    cols = hashed_columns([f for row in rows for f in row], n_features)
    cols.flags.writeable = False
    ends = np.cumsum([len(row) for row in rows]).tolist()
    return [cols[lo:hi] for lo, hi in zip([0, *ends[:-1]], ends, strict=True)]


#: Each word's hashed n-gram columns (`char_ngram_counts` works word by word, as the "char_wb"
#: analyser does, and words recur across sentences and documents). Emptied when it holds this many.
_WORD_COLUMNS: dict[str, np.ndarray] = {}
WORD_COLUMNS_KEPT = 100_000


_SURROGATE = re.compile("[\ud800-\udfff]")


def hashed_counts(rows: Iterable[Iterable[str]], n_features: int) -> sparse.csr_matrix:
    """Counts of each row's string features hashed into `n_features` columns, float32 CSR with
    sorted indices: scikit-learn's `FeatureHasher(input_type="string", alternate_sign=False)`
    (signed 32-bit MurmurHash3 of the UTF-8 bytes, seed 0, by `mmh3`; column |h| mod n). Rows are
    hashed one at a time (a long document's n-grams are never all held as strings); a feature
    with a lone surrogate (no UTF-8 form, where scikit-learn raises) is hashed by its
    surrogate-escaped bytes."""
    return counts_matrix([[hashed_columns(row if isinstance(row, list) else list(row), n_features)] for row in rows],
                         n_features)


def hashed_columns(features: list[str], n_features: int) -> np.ndarray:
    """`hashed_counts`' column of each feature, (len(features),) int64."""
    import mmh3

    if _SURROGATE.search("".join(features)):  # mmh3 crashes on such a str
        features = [f.encode("utf-8", "surrogatepass") for f in features]  # type: ignore[misc]
    h = np.fromiter(map(mmh3.hash, features), dtype=np.int64, count=len(features))
    # scikit-learn maps -2**31 (whose abs overflows 32 bits) to (2**31 - 1 - (n - 1)) mod n
    return np.where(h == -2**31, (2**31 - 1 - (n_features - 1)) % n_features, np.abs(h) % n_features)


def counts_matrix(rows: list[list[np.ndarray]], n_features: int) -> sparse.csr_matrix:
    """The counts matrix of rows given as their hashed columns (`hashed_columns`), each row in
    parts (one per word where words' columns are kept)."""
    parts = [p for row in rows for p in row]
    cols = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    indptr = np.concatenate([[0], np.cumsum([sum(len(p) for p in row) for row in rows], dtype=np.int64)])
    m = sparse.csr_matrix((np.ones(len(cols), np.float32), cols.astype(np.int32), indptr),
                          shape=(len(rows), n_features))
    m.sum_duplicates()  # sorts the indices too
    return m


_WHITE_SPACES = re.compile(r"\s\s+")


def _folded(text: str) -> str:
    """Lower case without accents (scikit-learn's `lowercase=True, strip_accents="unicode"`)."""
    text = text.lower()
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _word_ngrams(word: str) -> list[str]:
    """Character n-grams (`NGRAM_RANGE`) of one word padded with a space on both sides; a word
    shorter than an n gives itself once (scikit-learn's "char_wb" analyzer, word by word)."""
    lo, hi = NGRAM_RANGE
    w = f" {word} "
    size = len(w)
    out: list[str] = []
    for n in range(lo, hi + 1):
        if size <= n:
            out.append(w)  # the whole (short) word, once for all n
            break
        out += [w[i:i + n] for i in range(size - n + 1)]
    return out


# Runs of letters (and their marks) of scripts other than Latin: Greek to Devanagari and the other
# Indic scripts, then Georgian, CJK, Hangul; general punctuation and Latin Extended Additional stay.
_OTHER_SCRIPT = re.compile(r"[\u0370-\u1dff\u2c00-\ud7ff\uf900-\ufaff]+")


def romanized(text: str) -> str:
    """`text` in Latin letters when it holds letters of another script (`anyascii`: Путин ->
    Putin), so that names, numbers and loanwords share n-grams across scripts; Latin text is
    returned unchanged, and so is punctuation (curly quotes, dashes)."""
    if not _OTHER_SCRIPT.search(text):
        return text
    from anyascii import anyascii

    return _OTHER_SCRIPT.sub(lambda m: anyascii(m.group(0)), text)


def compact_columns(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """`counts` with only the columns some row uses (same order): hashed rows have 2**24 columns,
    which sparse products would otherwise pay for."""
    cols, indices = used_columns(counts)
    return sparse.csr_matrix((counts.data, indices, counts.indptr), shape=(counts.shape[0], len(cols)))


def used_columns(counts: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """The columns some row of `counts` uses (ascending) and each entry's position among them, in
    `counts.indices`' dtype. The used columns are marked in one pass over them, not sorted
    (np.unique: 221k entries of 116 articles here, ~30 ms; this ~18 ms)."""
    if not counts.nnz:
        return np.zeros(0, counts.indices.dtype), counts.indices[:0].copy()
    used = np.zeros(counts.shape[1], bool)
    used[counts.indices] = True
    cols = np.flatnonzero(used).astype(counts.indices.dtype)
    return cols, np.searchsorted(cols, counts.indices).astype(counts.indices.dtype)


def scope_idf(counts: sparse.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """Smoothed IDF over the given rows, as sklearn's TfidfVectorizer computes it:
    `ln((1 + n) / (1 + df)) + 1`."""
    sub = counts[rows]
    df = np.bincount(sub.indices, minlength=counts.shape[1]).astype(np.float64)
    n = sub.shape[0]
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


def tfidf_rows(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear TF-IDF rows (`1 + ln(count)` times `idf`), L2-normalised: equal to
    `fit_char_ngrams` fitted on the rows that gave `idf` (up to float rounding)."""
    m = counts.copy().astype(np.float32)
    m.data = (1.0 + np.log(m.data)) * idf[m.indices]
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return (sparse.diags(inv.astype(np.float32)) @ m).tocsr()


@dataclass(frozen=True)
class DocNgrams:
    """One document's char n-grams in compact form: `cols` (sorted column ids of a shared
    vocabulary), `log_tf` (sentences x len(cols), sparse CSR: `1 + ln(count)` where the n-gram
    occurs) and `df` (how many of its sentences hold each column). Sparse, as a long document
    holds tens of thousands of sentences and of distinct n-grams."""

    cols: np.ndarray
    log_tf: sparse.csr_matrix
    df: np.ndarray


def doc_ngrams(counts: sparse.csr_matrix) -> DocNgrams:
    """`DocNgrams` of the rows of one document in a `char_ngram_counts` matrix."""
    counts = counts.tocsr()
    cols, inv = np.unique(counts.indices, return_inverse=True)
    # its own indptr: eliminating zeros rewrites it in place (the features' matrix must not change)
    local = sparse.csr_matrix((counts.data.astype(np.float64), inv.ravel(), counts.indptr.copy()),
                              shape=(counts.shape[0], len(cols)))
    local.sum_duplicates()
    local.data = np.where(local.data > 0, local.data, 0.0)
    local.eliminate_zeros()
    local.data = 1.0 + np.log(np.maximum(local.data, 1.0))
    return DocNgrams(cols, local, np.bincount(local.indices, minlength=len(cols)).astype(np.float64))


@dataclass(frozen=True)
class PairTfidf:
    """TF-IDF rows of two documents for their alignment, restricted to the n-grams both use (no
    other column adds to a product of a row of one and a row of the other): `a` (m, S) and `b`
    (n, S), sparse CSR (a small document's: a dense array), each row scaled by its norm over all
    its columns; `a_pair_norms` (m-1,) and `b_pair_norms` (n-1,): norms of the sums of adjacent
    rows over all their columns."""

    a: sparse.csr_matrix | np.ndarray
    b: sparse.csr_matrix | np.ndarray
    a_pair_norms: np.ndarray
    b_pair_norms: np.ndarray


def pair_tfidf(a: DocNgrams, b: DocNgrams) -> PairTfidf:
    """Sublinear TF-IDF of two documents with IDF over their own sentences
    (`ln((1 + n) / (1 + df)) + 1`, as `scope_idf`): the same products and norms as
    `tfidf_rows(counts, scope_idf(counts, rows of a and b))`, at the cost of the shared columns.
    Time and memory grow with the documents' n-gram occurrences (sparse throughout)."""
    pos = np.searchsorted(b.cols, a.cols)
    hit = pos < len(b.cols)
    hit[hit] = b.cols[pos[hit]] == a.cols[hit]
    in_a, in_b = np.flatnonzero(hit), pos[hit]
    n = a.log_tf.shape[0] + b.log_tf.shape[0]
    sides = []
    for d, own, other, other_df in ((a, in_a, in_b, b.df), (b, in_b, in_a, a.df)):
        df = d.df.copy()
        df[own] += other_df[other]
        idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        rows = d.log_tf.shape[0]
        if rows * len(d.cols) <= PAIR_DENSE_MAX:
            sides.append(_dense_side(d.log_tf, idf, own))
            continue
        shared, adjacent = [], []
        # in chunks of rows (one row of overlap for the adjacent norms): a long document's weighted
        # copy is never held whole, only its shared columns
        for lo in range(0, max(rows, 1), PAIR_CHUNK_ROWS):
            hi = min(rows, lo + PAIR_CHUNK_ROWS)
            w = d.log_tf[lo:min(rows, hi + 1)]
            w.data = w.data * idf[w.indices]
            norms = np.sqrt(np.asarray(w.multiply(w).sum(axis=1)).ravel())
            w.data *= np.repeat(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0), np.diff(w.indptr))
            shared.append(w[:hi - lo][:, own])
            adjacent.append(pair_norms(w))
        sides.append((sparse.vstack(shared, format="csr"), np.concatenate(adjacent)))
    return PairTfidf(sides[0][0], sides[1][0], sides[0][1], sides[1][1])


#: rows of one document weighted at a time by `pair_tfidf`
PAIR_CHUNK_ROWS = 4096
#: a document whose sentences x n-grams fit in this many cells is weighted as a dense array (an
#: article of 40 sentences: ~200k cells); sparse matrices cost more in overhead than they save there
PAIR_DENSE_MAX = 1_000_000


def _dense_side(log_tf: sparse.csr_matrix, idf: np.ndarray, own: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`pair_tfidf`'s weighted shared columns and adjacent-pair norms of one small document."""
    w = log_tf.toarray()
    w *= idf
    norms = np.sqrt(np.einsum("ij,ij->i", w, w))
    w *= np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)[:, None]
    return np.ascontiguousarray(w[:, own]), pair_norms(w)


def fit_char_ngrams(texts: list[str]) -> tuple[TfidfVectorizer, sparse.csr_matrix]:
    """Fit char 3-4-gram TF-IDF on `texts`; return the vectoriser and the (n, F) L2-normalised rows."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAM_RANGE, lowercase=True,
                          strip_accents="unicode", sublinear_tf=True, min_df=1, dtype=np.float32)
    if not texts:
        return vec, sparse.csr_matrix((0, 0), dtype=np.float32)
    mat = vec.fit_transform(texts)
    return vec, mat.tocsr()


def quote_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) spans of quotations in `text`, quote marks included.

    Curly and angle quotes carry their direction. Straight double quotes are paired by a scan: a
    quote right after end punctuation (`,` `.` ...) with no quotation open is an orphan closer (the
    opener was lost in scraping) and is ignored; otherwise quotes open and close in turn. No
    quotation crosses a line break.
    """
    spans: list[tuple[int, int]] = []
    if not _QUOTE_MARK.search(text):
        return spans
    for line_m in re.finditer(r"[^\n]+", text):
        line, base = line_m.group(0), line_m.start()
        open_at: int | None = None
        closer = ""
        for mark in _QUOTE_MARK.finditer(line):  # nothing but a quote mark changes the state
            i, ch = mark.start(), mark.group(0)
            if open_at is None:
                if ch in _QUOTE_PAIRS and ch != "”":
                    if ch == '"':
                        prev = _last_char_before(line, i, " \u00a0\u202f")
                        if prev and prev in ",.;:!?…":
                            # orphan closer: the opener was lost in scraping. When nothing else is
                            # quoted before it, the quotation runs from the line start.
                            if not spans or spans[-1][1] <= base:
                                lead = len(line) - len(line.lstrip())
                                spans.append((base + lead, base + i + 1))
                            continue
                    open_at, closer = i, _QUOTE_PAIRS[ch]
            elif ch == closer or (closer == '"' and ch == "”"):
                spans.append((base + open_at, base + i + 1))
                open_at = None
    return spans


def _last_char_before(text: str, pos: int, skip: str) -> str:
    """The last character of `text[:pos]` that is not in `skip` ("" if none): `text[:pos].rstrip(skip)[-1:]`
    without copying all of `text[:pos]`, which made a scan of a long text quadratic in its length."""
    width = 64
    while True:
        lo = max(0, pos - width)
        tail = text[lo:pos].rstrip(skip)
        if tail or lo == 0:
            return tail[-1:]
        width *= 4


def _blank_quotes(text: str) -> str:
    chars = list(text)
    for a, b in quote_spans(text):
        chars[a:b] = " " * (b - a)
    return "".join(chars)


@lru_cache(maxsize=65536)
def quoted_share(text: str) -> float:
    """Share of the non-space characters of `text` that lie inside quotation marks."""
    total = len(re.sub(r"\s", "", text))
    if not total:
        return 0.0
    inside = sum(len(re.sub(r"\s", "", text[a:b])) for a, b in quote_spans(text))
    return inside / total
