"""Nearest neighbours of each sentence among the sentences of *other* documents: dense vectors
through FAISS (`knn_other_groups`, and `knn_other_groups_extend` to add new rows to lists kept
from an earlier search), sparse TF-IDF rows through blocked sparse products
(`knn_other_groups_sparse_multi`). Memory and time grow linearly with the rows: queries go in
bounded batches, and a long document is never searched against itself."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import sparse

from .errors import ConfigError
from .index import VectorIndex, reproducible_faiss
from .parallel import usable_cores
from .ranking import _merged, _refill_zeros, _sorted_top, _sparse_sorted_top

#: Documents (groups) of at most this many rows are searched together: each batch of queries asks
#: FAISS for `k +` the largest such group's size and drops the query's own-document rows. A longer
#: document's rows are searched among the other documents' rows only (a range search on each side
#: of it), so no query asks for more than `k + GROUP_SEARCH_MAX` neighbours and the sentences of one
#: document are never compared with each other: asking for `k + largest group` made a 40,000-sentence
#: article search every sentence against every other (time and memory quadratic in its length).
GROUP_SEARCH_MAX = 256
#: Queries per search call: bounds the (queries x neighbours) result arrays. The calls of one
#: search run side by side on the usable cores (FAISS releases the GIL; each on one thread):
#: a cold scan's search of 2,386 sentences waits alone after the encoding, 240 ms in one call,
#: 121 ms in calls of 256 on two threads. The batches do not depend on the thread count, so
#: neither do the scores (a product's last bits depend on how many queries share its call).
SEARCH_BATCH = 256
#: Entries of one block of similarities (rows x columns) held at a time by the exact searches
#: (`knn_other_groups_sparse_multi`, `knn_other_groups_extend`): 64 MB of float32.
BLOCK_CELLS = 2**24


def knn_other_groups(vectors: np.ndarray, groups: np.ndarray, k: int, max_group: int | None = None,
                     batch: int = SEARCH_BATCH) -> tuple[np.ndarray, np.ndarray]:
    """Top-`k` neighbours of each row among rows of *other* groups, by inner product (FAISS, exact).

    Returns `(scores, rows)` of shape (n, k), best first (ties: lower row first); missing
    neighbours are row -1, score 0. Each row is compared with every row of the other groups; rows
    of a group larger than `max_group` (default `GROUP_SEARCH_MAX`) are not compared with each
    other, so time grows with n x (n - own group) and memory with n, besides `batch` x
    (k + max_group) per search (several at once, `_side_by_side`).
    """
    n = len(vectors)
    groups = np.asarray(groups)
    if len(groups) != n:
        raise ConfigError(f"got {n} vectors but {len(groups)} group labels")
    if n == 0:
        return np.zeros((0, k), np.float32), np.zeros((0, k), np.int64)
    return _search_other_groups(vectors, groups, k, np.arange(n), max_group, batch)


def _side_by_side(fn, items, threads: int | None = None) -> None:
    """`fn(x)` for each of `items` on `threads` threads (default: the usable cores, at most
    `MAX_SEARCH_THREADS`); each `fn(x)` writes its own rows of an output. numpy's products and
    partitions, and FAISS's searches, release the GIL."""
    items = list(items)
    threads = min(len(items), max(1, min(MAX_SEARCH_THREADS, usable_cores())) if threads is None else threads)
    if threads <= 1:
        for x in items:
            fn(x)
        return
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(fn, items):  # (raises the first error)
            pass


def _group_order(groups: np.ndarray) -> np.ndarray | None:
    """None when the groups ascend (each group's rows consecutive, as the pipeline's documents),
    else the stable order that sorts them."""
    if len(groups) < 2 or bool(np.all(groups[1:] >= groups[:-1])):
        return None
    return np.argsort(groups, kind="stable")


def _resorted(scores: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each list sorted by score descending, then row ascending, -1 rows last."""
    valid = rows >= 0
    order = np.lexsort((np.where(valid, rows, np.iinfo(np.int64).max), np.where(valid, -scores, np.inf)), axis=1)
    return np.take_along_axis(scores, order, axis=1), np.take_along_axis(rows, order, axis=1)


def _unpermuted(perm: np.ndarray, scores: np.ndarray, rows: np.ndarray, queries: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Lists found on rows reordered by `perm` (row i there is row perm[i] here), renumbered and
    re-sorted; `queries`: where each list goes (default: `perm`, one list per row)."""
    mapped = np.where(rows >= 0, perm[np.maximum(rows, 0)], -1)
    if queries is None:
        out_s, out_r = np.empty_like(scores), np.empty_like(mapped)
        out_s[perm], out_r[perm] = scores, mapped
        scores, mapped = out_s, out_r
    return _resorted(scores, mapped)


def _search_other_groups(vectors: np.ndarray, groups: np.ndarray, k: int, queries: np.ndarray,
                         max_group: int | None = None, batch: int = SEARCH_BATCH
                         ) -> tuple[np.ndarray, np.ndarray]:
    """`knn_other_groups` for the rows `queries` only: (len(queries), k) each."""
    max_group = GROUP_SEARCH_MAX if max_group is None else max_group
    perm = _group_order(groups)
    if perm is not None:
        inv = np.empty_like(perm)
        inv[perm] = np.arange(len(perm))
        s, r = _search_other_groups(vectors[perm], groups[perm], k, inv[queries], max_group, batch)
        return _unpermuted(perm, s, r, queries)
    n = len(vectors)
    out_s = np.zeros((len(queries), k), np.float32)
    out_r = np.full((len(queries), k), -1, np.int64)
    if not len(queries):
        return out_s, out_r
    index = VectorIndex(vectors.shape[1])
    index.add(vectors)
    labels, start, size = np.unique(groups, return_index=True, return_counts=True)
    which = np.searchsorted(labels, groups[queries])
    q_size = size[which]
    small = np.flatnonzero(q_size <= max_group)
    if len(small):
        width = min(n, k + int(q_size[small].max()))

        def search(lo: int) -> None:  # each batch its own rows of the output
            reproducible_faiss()  # this thread's OpenMP setting: one thread
            at = small[lo:lo + batch]
            s, r = index.search(vectors[queries[at]], width)
            out_s[at], out_r[at] = _keep_other_groups(s, r, groups, k, groups[queries[at]])

        _side_by_side(search, range(0, len(small), batch))
    for g in np.unique(which[q_size > max_group]).tolist():
        r0, r1 = int(start[g]), int(start[g] + size[g])
        spans = [span for span in ((0, r0), (r1, n)) if span[1] > span[0]]
        mine = np.flatnonzero(which == g)
        for lo in range(0, len(mine) if spans else 0, batch):
            at = mine[lo:lo + batch]
            found = [index.search(vectors[queries[at]], k, rows=span) for span in spans]
            s, r = _resorted(np.concatenate([f[0] for f in found], axis=1),
                             np.concatenate([f[1] for f in found], axis=1))
            out_s[at], out_r[at] = s[:, :k], r[:, :k]
    return out_s, out_r


def knn_other_groups_rows(vectors: np.ndarray, groups: np.ndarray, k: int, queries: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """`knn_other_groups(vectors, groups, k)`'s lists of the rows `queries` only: (len(queries), k)."""
    return _search_other_groups(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(groups), k,
                                np.asarray(queries, dtype=np.int64))


def knn_other_groups_extend(vectors: np.ndarray, groups: np.ndarray, k: int, known: np.ndarray,
                            known_scores: np.ndarray, known_rows: np.ndarray, added: np.ndarray, block: int = 2048
                            ) -> tuple[np.ndarray, np.ndarray]:
    """`knn_other_groups(vectors, groups, k)` when some rows' lists are known already (from an earlier
    scan of the same sentences): only the products that involve the other rows are computed, so
    adding one article to a scanned corpus costs a few thousand products instead of a full search.
    Same result as the full search up to float rounding of the cosines, which can order equal
    cosines (copies of one sentence) otherwise: the full search's own order among them rests on
    rounding too.

    Args:
        known: (m,) rows whose lists are given, ascending.
        known_scores, known_rows: (m, k) their top-k among the rows of other groups that are not
            in `added`, in the order `knn_other_groups` gives (score descending, then row), rows
            as indices into `vectors`, -1 past the end.
        added: rows that were not searched when the lists were made (a new article's sentences);
            they are merged into the known lists. All rows not in `known` are searched in full.
    """
    n = len(vectors)
    groups = np.asarray(groups)
    known = np.asarray(known, dtype=np.int64)
    added = np.asarray(added, dtype=np.int64)
    if len(groups) != n:
        raise ConfigError(f"got {n} vectors but {len(groups)} group labels")
    if known_scores.shape != (len(known), k) or known_rows.shape != (len(known), k):
        raise ConfigError(f"known lists must have shape ({len(known)}, {k})")
    if np.isin(added, known).any():
        raise ConfigError("a row cannot be both known and added")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    out_s = np.zeros((n, k), np.float32)
    out_r = np.full((n, k), -1, np.int64)
    kk = min(k, n)
    # rows without a list: against every row of the other groups
    searched = _others(n, known)
    if len(searched):
        out_s[searched], out_r[searched] = _search_other_groups(vectors, groups, k, searched)
    out_s[known], out_r[known] = known_scores, known_rows
    if not len(added):
        return out_s, out_r
    # known rows: their lists merged with the added rows
    added_t = np.ascontiguousarray(vectors[added].T)
    block = max(1, min(block, BLOCK_CELLS // (k + len(added))))
    for lo in range(0, len(known), block):
        q = known[lo:lo + block]
        listed = known_rows[lo:lo + block]
        fresh = vectors[q] @ added_t
        fresh[groups[q][:, None] == groups[added][None, :]] = -np.inf
        out_s[q, :kk], out_r[q, :kk] = _merged(known_scores[lo:lo + block], listed, fresh, added, kk)
    return out_s, out_r


def knn_other_groups_sparse_extend(mat: sparse.csr_matrix, groups: np.ndarray, k: int, excludes: list,
                                   known: np.ndarray, known_lists: list, added: np.ndarray, block: int = 2048
                                   ) -> list[tuple[np.ndarray, np.ndarray]]:
    """`knn_other_groups_sparse_multi(mat, groups, k, excludes)` when some rows' lists are known
    already, as `knn_other_groups_extend` is for dense rows: rows without lists are searched
    against every row, the known lists (`known_lists`: one `(scores, rows)` pair per entry of
    `excludes`, each (len(known), k)) merged with the products of the `added` rows only. Same
    result as the full search up to float rounding of the cosines."""
    n = mat.shape[0]
    groups = np.asarray(groups)
    known = np.asarray(known, dtype=np.int64)
    added = np.asarray(added, dtype=np.int64)
    if len(groups) != n:
        raise ConfigError(f"got {n} rows but {len(groups)} group labels")
    if len(known_lists) != len(excludes) or any(s.shape != (len(known), k) or r.shape != (len(known), k)
                                                 for s, r in known_lists):
        raise ConfigError(f"known lists must be one ({len(known)}, {k}) pair per search")
    if np.isin(added, known).any():
        raise ConfigError("a row cannot be both known and added")
    excludes = [None if e is None else np.asarray(e) for e in excludes]
    mat = sparse.csr_matrix(mat)
    outs = [(np.zeros((n, k), np.float32), np.full((n, k), -1, np.int64)) for _ in excludes]
    kk = min(k, n)
    added_t = mat[added].T.tocsr()
    # the products of every row with the added ones at once where they fit (the known rows are
    # most rows: selecting them first copied the whole matrix), else block by block
    every = mat @ added_t if len(added) and n * len(added) <= BLOCK_CELLS else None
    searched = _others(n, known)
    if len(searched):
        # the rows searched are the added ones (a new article's): their products with every row are
        # those, transposed, and the same sums (`_transposed_products`)
        given = (_transposed_products(every) if every is not None and mat.has_canonical_format
                 and np.array_equal(searched, added) else None)
        for (out_s, out_r), (s, r) in zip(outs, knn_other_groups_sparse_rows(mat, groups, k, excludes, searched,
                                                                            block, given), strict=True):
            out_s[searched], out_r[searched] = s, r
    for (out_s, out_r), (ks, kr) in zip(outs, known_lists, strict=True):
        out_s[known], out_r[known] = ks, kr
    step = max(1, min(block, BLOCK_CELLS // (k + len(added))))
    every = every.toarray() if every is not None else None
    for lo in range(0, len(known) if len(added) else 0, step):
        q = known[lo:lo + step]
        fresh = every[q] if every is not None else (mat[q] @ added_t).toarray()
        fresh[groups[q][:, None] == groups[added][None, :]] = -np.inf
        for (out_s, out_r), exclude, (ks, kr) in zip(outs, excludes, known_lists, strict=True):
            f = fresh if exclude is None else np.where(exclude[q][:, None] == exclude[added][None, :], -np.inf, fresh)
            out_s[q, :kk], out_r[q, :kk] = _merged(ks[lo:lo + step], kr[lo:lo + step], f, added, kk)
    if len(known) and nonnegative(mat):
        for (out_s, out_r), exclude in zip(outs, excludes, strict=True):
            _refill_zeros(out_s, out_r, known, groups, exclude, n)
    return outs


def _transposed_products(products: sparse.csr_matrix) -> sparse.csr_matrix:
    """`mat[rows] @ mat.T` from `products = mat @ mat[rows].T`: the transpose holds the very same
    sums, bit for bit, where `mat`'s rows list each of their columns once and in order (canonical: a
    sparse product adds each entry's terms in the order of its left row's columns, here the shared
    columns ascending either way, and a product of two floats does not depend on their order)."""
    return products.T.tocsr()


def _others(n: int, rows: np.ndarray) -> np.ndarray:
    """The rows of `range(n)` not in `rows`, ascending (`np.setdiff1d` sorts both: ~1.5 ms here)."""
    mask = np.ones(n, bool)
    mask[rows] = False
    return np.flatnonzero(mask)


def knn_other_groups_sparse_rows(mat: sparse.csr_matrix, groups: np.ndarray, k: int, excludes: list,
                                 queries: np.ndarray, block: int = 2048, products: sparse.csr_matrix | None = None
                                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """`knn_other_groups_sparse_multi(mat, groups, k, excludes)`'s lists of the rows `queries`
    only: (len(queries), k) per search. `products`: `mat[queries] @ mat.T`, where the caller has it."""
    n = mat.shape[0]
    groups = np.asarray(groups)
    queries = np.asarray(queries, dtype=np.int64)
    excludes = [None if e is None else np.asarray(e) for e in excludes]
    mat = sparse.csr_matrix(mat)
    outs = [(np.zeros((len(queries), k), np.float32), np.full((len(queries), k), -1, np.int64)) for _ in excludes]
    kk = min(k, n)
    mat_t = mat.T.tocsr() if products is None else None
    positive_only = nonnegative(mat)
    step = max(1, min(block, BLOCK_CELLS // max(n, 1)))
    for lo in range(0, len(queries), step):
        q = queries[lo:lo + step]
        product = mat[q] @ mat_t if products is None else products[lo:lo + step]
        if positive_only and product.nnz <= SPARSE_TOP_SHARE * len(q) * n:
            # most products are 0 (gloss rows, rare words): ranked without a dense copy
            product.sum_duplicates()
            for (out_s, out_r), exclude in zip(outs, excludes, strict=True):
                out_s[lo:lo + len(q), :kk], out_r[lo:lo + len(q), :kk] = _sparse_sorted_top(
                    product, kk, groups, q, exclude)
            continue
        base = product.toarray()
        base[groups[q][:, None] == groups[None, :]] = -np.inf
        for (out_s, out_r), exclude in zip(outs, excludes, strict=True):
            if exclude is not None:
                base_e = np.where(exclude[q][:, None] == exclude[None, :], -np.inf, base)
            out_s[lo:lo + len(q), :kk], out_r[lo:lo + len(q), :kk] = _sorted_top(
                base if exclude is None else base_e, kk)
    return outs


def nonnegative(mat: sparse.csr_matrix) -> bool:
    """Whether no entry of `mat` is negative (n-gram and gloss rows): then a product of 0 is the
    lowest there is, and lists that run into it can be completed without a search."""
    return not len(mat.data) or bool(mat.data.min() >= 0)


#: `knn_other_groups_sparse_rows` ranks a block's products without a dense copy where at most
#: this share of them is non-zero (sorting the non-zero ones costs more than a dense top-k above it)
SPARSE_TOP_SHARE = 0.05


def knn_other_groups_sparse(mat: sparse.csr_matrix, groups: np.ndarray, k: int, block: int = 2048,
                            exclude_same: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Same as `knn_other_groups` for sparse L2-normalised rows (exact, blockwise products).
    `exclude_same`: labels per row (e.g. languages); rows sharing the query's label are skipped too."""
    return knn_other_groups_sparse_multi(mat, groups, k, [exclude_same], block)[0]


def _mask_same(sims: np.ndarray, labels: np.ndarray, lo: int, hi: int) -> None:
    """Set `sims[i - lo, j]` to -inf where rows i (in lo:hi) and j share a label. Labels in runs
    (sentence rows grouped by document) take one slice per run instead of an n x n comparison."""
    if len(labels) > 1 and labels.dtype.kind in "iu" and np.all(labels[1:] >= labels[:-1]):
        for lab in np.unique(labels[lo:hi]).tolist():
            r0, r1 = np.searchsorted(labels, lab, "left"), np.searchsorted(labels, lab, "right")
            sims[max(r0, lo) - lo:min(r1, hi) - lo, r0:r1] = -np.inf
    else:
        sims[labels[lo:hi, None] == labels[None, :]] = -np.inf


#: columns held in at least this share of the rows go to a dense BLAS product (see below)
DENSE_COLUMN_SHARE = 1 / 24
#: at most this many dense columns, and at most BLOCK_CELLS entries in their dense copy (rows x
#: columns float32)
DENSE_COLUMNS_MAX = 1024


def _product_parts(mat: sparse.csr_matrix, groups: np.ndarray) -> tuple[np.ndarray, sparse.csr_matrix]:
    """(dense, rest) with `dense @ dense.T + rest @ rest.T` equal to `mat @ mat.T` between rows of
    different groups (up to float rounding).

    Columns that occur in one group only are dropped: they add nothing between groups (rows keep
    the norms they had). A sparse product costs about the sum over columns of (rows holding the
    column)^2, so the few char n-grams that most sentences share (" th", "the", "ed ") make most of
    the work and fill the product with small entries: those columns go to a dense block that BLAS
    multiplies many times faster per multiply-add."""
    n = mat.shape[0]
    _, inverse = np.unique(groups, return_inverse=True)
    g = inverse.ravel().astype(np.int64)
    csc = mat.tocsc()
    df = np.diff(csc.indptr)
    used = np.flatnonzero(df)
    spread = np.zeros(mat.shape[1], bool)  # column held by two groups or more
    if len(used):
        g_entries, starts = g[csc.indices], csc.indptr[used]
        spread[used] = np.minimum.reduceat(g_entries, starts) != np.maximum.reduceat(g_entries, starts)
    heavy = np.flatnonzero(spread & (df >= max(2, int(n * DENSE_COLUMN_SHARE))))
    most = min(DENSE_COLUMNS_MAX, BLOCK_CELLS // max(n, 1))
    if len(heavy) > most:
        heavy = np.sort(heavy[np.argsort(-df[heavy], kind="stable")[:most]])
    spread[heavy] = False
    dense = csc[:, heavy].toarray() if len(heavy) else np.zeros((n, 0), np.float32)
    return np.ascontiguousarray(dense, dtype=np.float32), csc[:, np.flatnonzero(spread)].tocsr()


def knn_other_groups_sparse_multi(mat: sparse.csr_matrix, groups: np.ndarray, k: int,
                                  excludes: list[np.ndarray | None], block: int = 2048,
                                  max_group: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """`knn_other_groups_sparse` once per entry of `excludes`, from one set of products.

    Rows go through in blocks of at most `block` rows and `BLOCK_CELLS` products; the rows of a
    group larger than `max_group` (default `GROUP_SEARCH_MAX`) are multiplied with the other groups'
    rows only, so a long document's sentences are not compared with each other."""
    max_group = GROUP_SEARCH_MAX if max_group is None else max_group
    n = mat.shape[0]
    groups = np.asarray(groups)
    outs = [(np.zeros((n, k), np.float32), np.full((n, k), -1, np.int64)) for _ in excludes]
    if n == 0:
        return outs
    perm = _group_order(groups)
    if perm is not None:
        inner = knn_other_groups_sparse_multi(mat.tocsr()[perm], groups[perm], k,
                                              [None if e is None else np.asarray(e)[perm] for e in excludes],
                                              block, max_group)
        return [_unpermuted(perm, s, r) for s, r in inner]
    dense, rest = _product_parts(mat.tocsr(), groups)
    rest_t = rest.T.tocsc()  # column slices for long groups
    rest_t_rows = rest_t.tocsr()  # products of row blocks: CSR @ CSR, no conversion per block
    dense_t = np.ascontiguousarray(dense.T)
    kk = min(k, n)
    _, start, size = np.unique(groups, return_index=True, return_counts=True)
    step = max(1, min(block, BLOCK_CELLS // n))
    if n >= THREADED_ROWS_MIN:  # at least 4 blocks, to share among threads; whatever the number of
        step = min(step, -(-n // 4))  # cores, the same blocks (float sums do not depend on it)
    blocks = list(_row_blocks(start, size, n, step, max_group))
    threads = _search_threads(n)

    def search(lo, hi, cols, rest_o, dense_o):
        """One block of rows: products, then each search's top `k`. Blocks write disjoint rows."""
        base = (rest[lo:hi] @ rest_o).toarray()
        base += dense[lo:hi] @ dense_o
        if cols is None:
            _mask_same(base, groups, lo, hi)
        _block_top(base, lo, hi, cols, kk, outs, excludes)

    small = [(lo, hi) for lo, hi, big in blocks if big is None]
    _side_by_side(lambda b: search(b[0], b[1], None, rest_t_rows, dense_t), small, threads)
    own = None
    for lo, hi, big in blocks:
        if big is None:
            continue
        if big != own:  # the columns of the other groups, once per long group
            own = big
            cols = np.concatenate([np.arange(0, big[0]), np.arange(big[1], n)])
            rest_o, dense_o = rest_t[:, cols], np.ascontiguousarray(dense_t[:, cols])
        search(lo, hi, cols, rest_o, dense_o)
    return outs


#: rows from which `knn_other_groups_sparse_multi` splits its blocks over threads
THREADED_ROWS_MIN = 1024


#: threads of one search at most
MAX_SEARCH_THREADS = 4


def _search_threads(n: int) -> int:
    """Threads for an exact search over `n` rows: the usable cores, one below `THREADED_ROWS_MIN`."""
    return 1 if n < THREADED_ROWS_MIN else max(1, min(MAX_SEARCH_THREADS, usable_cores()))


def _block_top(base: np.ndarray, lo: int, hi: int, cols: np.ndarray | None, kk: int, outs: list,
               excludes: list) -> None:
    """Write the top `kk` of rows `lo:hi` (their products `base`, `cols`: the row of each column of
    `base`, None: column j is row j) into each search's `outs`."""
    for (out_s, out_r), exclude in zip(outs, excludes, strict=True):
        if exclude is None:
            width = min(kk, base.shape[1])
            if width:
                out_s[lo:hi, :width], out_r[lo:hi, :width] = _sorted_top(base, width, cols)
            continue
        # rows of each label against the columns of the other labels only (a few small copies
        # of `base` instead of one masked copy of it)
        exclude = np.asarray(exclude)
        col_labels = exclude if cols is None else exclude[cols]
        for lab in np.unique(exclude[lo:hi]):
            rows = lo + np.flatnonzero(exclude[lo:hi] == lab)
            sel = np.flatnonzero(col_labels != lab)
            width = min(kk, len(sel))
            if width:
                out_s[rows, :width], out_r[rows, :width] = _sorted_top(
                    base[np.ix_(rows - lo, sel)], width, sel if cols is None else cols[sel])


def _row_blocks(start: np.ndarray, size: np.ndarray, n: int, step: int, max_group: int):
    """`(lo, hi, big)` blocks of at most `step` consecutive rows of sorted groups (`start`, `size`
    per group): rows of groups with at most `max_group` rows together (`big` None), a larger
    group's rows on their own, with `big` its (first, end) rows."""
    lo = 0
    for r0, r1 in [(int(a), int(a + c)) for a, c in zip(start, size, strict=True) if c > max_group] + [(n, n)]:
        for a in range(lo, r0, step):
            yield a, min(a + step, r0), None
        for a in range(r0, r1, step):
            yield a, min(a + step, r1), (r0, r1)
        lo = r1


def _keep_other_groups(scores, rows, groups, k, query_groups=None):
    """The first `k` neighbours of each list that lie in another group than its query's (in the
    order given); `query_groups`: the group of each list's query (default: list i is row i's)."""
    n = len(rows)
    out_s = np.zeros((n, k), np.float32)
    out_r = np.full((n, k), -1, np.int64)
    if n == 0:
        return out_s, out_r
    groups = np.asarray(groups)
    query_groups = groups if query_groups is None else np.asarray(query_groups)
    keep = (rows >= 0) & (groups[np.where(rows >= 0, rows, 0)] != query_groups[:, None])
    order = np.argsort(~keep, axis=1, kind="stable")[:, :k]  # kept columns first, in order
    taken = np.take_along_axis(keep, order, axis=1)
    width = order.shape[1]
    out_s[:, :width] = np.where(taken, np.take_along_axis(scores, order, axis=1), 0.0)
    out_r[:, :width] = np.where(taken, np.take_along_axis(rows, order, axis=1), -1)
    return out_s, out_r
