"""Stage: match. Candidate document pairs from k-nearest-neighbour sentence search.

Scoring follows the ratio margin of Artetxe & Schwenk (2019, LASER bitext mining):

    margin(x, y) = cos(x, y) / ((mean_k cos(x, NN_k(x)) + mean_k cos(y, NN_k(y))) / 2)

which rewards a pair that stands out from each side's neighbourhood instead of a raw cosine
cut-off (a boilerplate-ish sentence is close to everything; a hub gets a high denominator).
Neighbours are searched among the *other* documents only. In small pools margins are noisy
(LASER issue 198), so a pair must also clear an absolute cosine floor per channel. The margin is
built for one-to-one bitext: when an article has several exact copies, every one of a sentence's k
neighbours is a true match and the margin falls to about 1, so a pair whose cosine reaches
`duplicate_*` is taken whatever its margin.

Two channels are searched independently and their candidates united: the semantic channel
(embedding cosines through FAISS) and the lexical one (char n-gram TF-IDF cosines). A document
pair becomes a candidate for alignment when enough of its sentence pairs are candidates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .errors import check_range
from .knn import knn_other_groups, knn_other_groups_sparse_multi


@dataclass(frozen=True)
class MatchSettings:
    """How candidate document pairs are retrieved (Artetxe & Schwenk's ratio margin over k-NN)."""

    #: neighbours whose mean cosine is the margin's denominator
    k: int = 4
    #: neighbours searched per sentence, as a multiple of k: copies of one article take several
    #: places, and a true but weaker match must still be reached
    search_depth: int = 4
    #: ratio margin a sentence pair must reach to be mined
    margin: float = 1.06
    #: and the absolute cosine it must reach (margins are noisy in small pools: LASER issue 198)
    semantic_floor: float = 0.55
    #: the same floor for character n-gram TF-IDF cosines
    lexical_floor: float = 0.30
    #: a cosine at or above this is a near-duplicate sentence, mined whatever its margin
    duplicate_semantic: float = 0.92
    #: the same for TF-IDF cosines
    duplicate_lexical: float = 0.85
    #: the TF-IDF floor between sentences of two languages (names and numbers are what survive)
    cross_lingual_floor: float = 0.10
    #: the floor for gloss cosines (English lemmas through bilingual dictionaries) between languages
    gloss_floor: float = 0.20
    #: mined sentence pairs that make two documents a candidate pair
    min_sentence_pairs: int = 2

    def __post_init__(self):
        check_range(self, ("k", "search_depth", "min_sentence_pairs"), low=1)
        check_range(self, ("margin",), 0.5, 3, "a margin threshold")
        check_range(self, ("semantic_floor", "lexical_floor", "duplicate_semantic", "duplicate_lexical",
                           "cross_lingual_floor", "gloss_floor"), -1, 1, "a cosine")


@dataclass(frozen=True)
class DocPair:
    """Candidate pair of documents `a < b` (indices into the scan's document list)."""

    a: int
    b: int
    sentence_pairs: int
    semantic_pairs: int
    lexical_pairs: int
    best_margin: float


def ratio_margin(cos_xy: np.ndarray, mean_x: np.ndarray, mean_y: np.ndarray) -> np.ndarray:
    """Ratio margin; all arguments broadcast. A zero denominator gives margin 0."""
    denom = (np.asarray(mean_x) + np.asarray(mean_y)) / 2.0
    cos_xy = np.asarray(cos_xy, dtype=np.float64)
    return np.divide(cos_xy, denom, out=np.zeros(np.broadcast(cos_xy, denom).shape), where=denom > 1e-9)


def _mean_knn(scores: np.ndarray, rows: np.ndarray, k: int | None = None,
              near: dict[int, set[int]] | None = None, duplicate: float = 2.0) -> np.ndarray:
    """Mean of each row's top-`k` neighbour scores. Neighbours that duplicate the row itself
    (score >= `duplicate`: its own copies in other documents) are no neighbourhood and are left
    out; with `near` (each row's near-duplicates, `_near_duplicates`), near-duplicate neighbours
    count once. Several copies of one article would otherwise fill the neighbourhood and sink every
    margin. Rows without two near-duplicate neighbours (most) are computed array-wide."""
    n, width = rows.shape
    k = width if k is None else k
    out = np.zeros(n)
    if n == 0:
        return out
    listed = np.cumprod(rows >= 0, axis=1).astype(bool)  # a row's list ends at its first -1
    usable = listed & (scores < duplicate)
    slow = np.zeros(n, bool)
    near = near or {}
    if near:
        nodes = np.fromiter(near, dtype=np.int64)
        slow = (np.isin(rows, nodes) & usable).sum(axis=1) >= 2
    first_k = usable & (np.cumsum(usable, axis=1) <= k)
    count = first_k.sum(axis=1)
    total = np.where(first_k, scores.astype(np.float64), 0.0).sum(axis=1)
    np.divide(total, count, out=out, where=count > 0)
    for i in np.flatnonzero(slow).tolist():
        kept: set[int] = set()
        taken, acc = 0, 0.0  # counted apart from the set: a row listed twice counts twice, as it always did
        for sc, j in zip(scores[i].tolist(), rows[i].tolist(), strict=True):
            if j < 0 or taken >= k:
                break
            if sc >= duplicate or (j in near and not near[j].isdisjoint(kept)):
                continue
            kept.add(j)
            taken += 1
            acc += sc
        out[i] = acc / taken if taken else 0.0
    return out


def _near_duplicates(scores: np.ndarray, rows: np.ndarray, duplicate: float) -> dict[int, set[int]]:
    """Each row's near-duplicates as the kNN search itself found them (one in the other's neighbour
    list with a score >= `duplicate`): no vector products."""
    near: dict[int, set[int]] = {}
    ii, jj = np.nonzero((scores >= duplicate) & (rows >= 0))
    for i, j in zip(ii.tolist(), rows[ii, jj].tolist(), strict=True):
        near.setdefault(i, set()).add(j)
        near.setdefault(j, set()).add(i)
    return near


def mined_pairs(scores: np.ndarray, rows: np.ndarray, floor: float, threshold: float,
                duplicate: float = 2.0, k: int | None = None, near: dict[int, set[int]] | None = None
                ) -> dict[tuple[int, int], float]:
    """Sentence pairs `(i, j)`, i < j, with cosine >= floor and either ratio margin >= threshold or
    cosine >= duplicate. Values are the margins. The margin's neighbourhood means use the top `k`
    (without `near`-duplicates, see `_mean_knn`) of the neighbours given; every neighbour given can be mined."""
    mean = _mean_knn(scores, rows, k, near, duplicate)
    out: dict[tuple[int, int], float] = {}
    if not len(rows):
        return out
    valid = rows >= 0
    margins = ratio_margin(scores, mean[:, None], mean[np.where(valid, rows, 0)])
    keep = valid & (scores >= floor) & ((margins >= threshold) | (scores >= duplicate))
    ii, jj = np.nonzero(keep)
    if not len(ii):
        return out
    # each pair once, (low, high), at its largest margin (at least 0), in the order first found
    other = rows[ii, jj]
    a, b = np.minimum(ii, other), np.maximum(ii, other)
    _, first, inverse = np.unique(a.astype(np.int64) * len(rows) + b, return_index=True, return_inverse=True)
    best = np.zeros(len(first))
    np.maximum.at(best, inverse.ravel(), margins[ii, jj])
    order = np.argsort(first, kind="stable")
    best += 0.0  # -0.0 -> 0.0, as max(0.0, -0.0) gave
    return dict(zip(zip(a[first[order]].tolist(), b[first[order]].tolist(), strict=True), best[order].tolist(),
                    strict=True))


def candidate_pairs(semantic: np.ndarray | None, lexical: sparse.csr_matrix | None, doc_of_row: np.ndarray,
                    settings: MatchSettings = MatchSettings(), languages: np.ndarray | None = None) -> list[DocPair]:
    """Candidate document pairs from sentence vectors; the vectors-in core of retrieval.

    Args:
        semantic: (n, d) L2-normalised sentence embeddings, or None to skip the channel.
        lexical: (n, F) L2-normalised sparse char n-gram rows, or None.
        doc_of_row: (n,) document index of each sentence row.
        languages: (n,) language of each row. When given, the lexical channel is also searched
            among other-language documents only, with margins computed in that neighbourhood:
            in a mixed pool, a sentence's nearest n-gram neighbours are same-language sentences
            of other articles, which crowd out its translation.

    Returns:
        Doc pairs sorted by (a, b) with at least `settings.min_sentence_pairs` mined sentence pairs.
    """
    sem_pairs = semantic_pairs(semantic, doc_of_row, settings) if semantic is not None else {}
    lex_pairs = lexical_pairs(lexical, doc_of_row, settings, languages) if lexical is not None else {}
    return doc_pairs(sem_pairs, lex_pairs, doc_of_row, settings)


def semantic_pairs(semantic: np.ndarray, doc_of_row: np.ndarray, settings: MatchSettings = MatchSettings(),
                   knn: tuple[np.ndarray, np.ndarray] | None = None) -> dict[tuple[int, int], float]:
    """Sentence pairs mined from embedding cosines (see `candidate_pairs`). `knn`: the result of
    `knn_other_groups(semantic, doc_of_row, settings.k * settings.search_depth)` when the caller
    has it already."""
    if not len(semantic):
        return {}
    s, r = knn if knn is not None else knn_other_groups(semantic, np.asarray(doc_of_row),
                                                        settings.k * settings.search_depth)
    return mined_pairs(s, r, settings.semantic_floor, settings.margin, settings.duplicate_semantic,
                       settings.k, _near_duplicates(s, r, settings.duplicate_semantic))


def lexical_pairs(lexical: sparse.csr_matrix, doc_of_row: np.ndarray, settings: MatchSettings = MatchSettings(),
                  languages: np.ndarray | None = None, searches: list | None = None) -> dict[tuple[int, int], float]:
    """Sentence pairs mined from char n-gram cosines (see `candidate_pairs`). Needs no model, so
    the pipeline runs it while the model encodes. `searches`: the neighbour lists of the searches
    `lexical_excludes(languages)` names, when the caller has them already."""
    if not lexical.shape[0]:
        return {}
    mixed = languages is not None and len(set(languages)) > 1
    if searches is None:
        searches = knn_other_groups_sparse_multi(lexical, np.asarray(doc_of_row), settings.k * settings.search_depth,
                                                 lexical_excludes(languages))
    s, r = searches[0]
    lex_near = _near_duplicates(s, r, settings.duplicate_lexical)
    out = mined_pairs(s, r, settings.lexical_floor, settings.margin, settings.duplicate_lexical, settings.k,
                      lex_near)
    if mixed:
        s, r = searches[1]
        for key, m in mined_pairs(s, r, settings.cross_lingual_floor, settings.margin, k=settings.k,
                                  near=lex_near).items():
            out[key] = max(out.get(key, 0.0), m)
    return out


def lexical_excludes(languages: np.ndarray | None) -> list[np.ndarray | None]:
    """The lexical channel's searches: among all other documents, and where the rows' `languages`
    mix, among other-language documents only (labels whose rows a query skips)."""
    mixed = languages is not None and len(set(languages)) > 1
    return [None, np.asarray(languages)] if mixed else [None]


def gloss_pairs(gloss: sparse.csr_matrix, doc_of_row: np.ndarray, languages: np.ndarray,
                settings: MatchSettings = MatchSettings(), search: tuple | None = None) -> dict[tuple[int, int], float]:
    """Sentence pairs between languages mined from gloss TF-IDF rows (`gloss.gloss_counts`, L2-
    normalised): each sentence searched among the other languages' sentences only, margins in that
    neighbourhood (see `candidate_pairs`). `search`: those neighbour lists, when the caller has them."""
    if not gloss.shape[0]:
        return {}
    if search is None:
        (search,) = knn_other_groups_sparse_multi(gloss, np.asarray(doc_of_row), settings.k * settings.search_depth,
                                                  [np.asarray(languages)])
    s, r = search
    return mined_pairs(s, r, settings.gloss_floor, settings.margin, k=settings.k)


def doc_pairs(sem_pairs: dict, lex_pairs: dict, doc_of_row: np.ndarray, settings: MatchSettings = MatchSettings()
              ) -> list[DocPair]:
    """Document pairs with at least `min_sentence_pairs` mined sentence pairs (distinct over both
    channels), sorted by (a, b); each with how many pairs each channel mined and the best margin
    (at least 0). Array-wide: a warm re-scan mines ~10k sentence pairs, ~14 ms in a Python loop."""
    doc_of_row = np.asarray(doc_of_row, dtype=np.int64)
    found = [(c, p) for c, p in enumerate((sem_pairs, lex_pairs)) if p]
    if not found:
        return []
    ij = np.concatenate([np.array(list(p), dtype=np.int64).reshape(-1, 2) for _, p in found])
    margins = np.concatenate([np.fromiter(p.values(), np.float64, len(p)) for _, p in found])
    channel = np.concatenate([np.full(len(p), c) for c, p in found])
    da, db = doc_of_row[ij[:, 0]], doc_of_row[ij[:, 1]]
    width = int(doc_of_row.max()) + 1
    keys, inverse = np.unique(np.minimum(da, db) * width + np.maximum(da, db), return_inverse=True)  # by (a, b)
    inverse = inverse.ravel()
    # a sentence pair lies in one document pair: its first occurrence counts it there
    _, first = np.unique(ij[:, 0] * len(doc_of_row) + ij[:, 1], return_index=True)
    counts = np.bincount(inverse[first], minlength=len(keys))
    sem = np.bincount(inverse[channel == 0], minlength=len(keys))
    lex = np.bincount(inverse[channel == 1], minlength=len(keys))
    best = np.zeros(len(keys))
    np.maximum.at(best, inverse, margins)
    best += 0.0  # -0.0 -> 0.0
    return [DocPair(int(k // width), int(k % width), int(n), int(x), int(y), round(float(m), 4))
            for k, n, x, y, m in zip(keys.tolist(), counts.tolist(), sem.tolist(), lex.tolist(), best.tolist(),
                                     strict=True)
            if n >= settings.min_sentence_pairs]
