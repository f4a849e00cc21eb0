"""Ranking of neighbour lists: each query's best `k` candidates, best first, cosines rounded to
`SCORE_DIGITS` decimals and equal ones by row, whichever routine found them (a full search, lists
kept from an earlier scan merged with new rows, sparse products ranked without a dense copy).
Every search in `knn` ranks through here, so ties are settled the same way however a list was
computed; a cosine computed in two ways (a dense BLAS part plus a sparse rest, or one sparse
product) can still round 1e-6 apart."""

from __future__ import annotations

import sys

import numpy as np
from scipy import sparse

#: Decimals kept of a cosine before neighbours are ranked (float32 products differ in the 7th).
SCORE_DIGITS = 6
#: `_sparse_sorted_top` looks for the columns of cosine 0 of at most this many (combination x
#: column) cells at a time
ZERO_FILL_CELLS = 1 << 22


def nonzero_2d(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.nonzero(mask)` of a 2-D mask (rows, then columns, row by row in ascending order), from
    one flat pass: numpy's 2-D path took ~3x as long (4.4 against 1.6 ms on a 591 x 2,362 block)."""
    return np.divmod(np.flatnonzero(mask), max(mask.shape[1], 1))


def _merged(listed_s: np.ndarray, listed_r: np.ndarray, fresh: np.ndarray, added: np.ndarray, kk: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """The top `kk` of known lists (`listed_s`, `listed_r`, in `_sorted_top`'s order) and the added
    rows' products with the same queries (`fresh`, -inf where excluded), in `_sorted_top`'s order.
    A full list that every added product ranks below (most of them: a new article shares little
    with most sentences) is its own answer; the others are ranked again."""
    listed = np.where(listed_r >= 0, listed_s.astype(np.result_type(listed_s, fresh)), -np.inf)
    kept = np.round(listed, SCORE_DIGITS)  # as `_sorted_top` rounds them
    if kk == listed_r.shape[1]:
        out_s, out_r = np.where(listed_r >= 0, kept, 0.0), listed_r.copy()
        # ranked again: a list a product equal to a listed cosine may enter (ties go by row), or
        # one whose order the rounding here would change (kept lists were sorted by their own)
        ordered = ((kept[:, :-1] > kept[:, 1:]) | ((kept[:, :-1] == kept[:, 1:])
                                                   & (listed_r[:, :-1] < listed_r[:, 1:]))).all(axis=1)
        redo = np.flatnonzero(~ordered | (np.round(fresh, SCORE_DIGITS).max(axis=1, initial=-np.inf)
                                          >= kept.min(axis=1)))
    else:
        out_s, out_r = np.zeros((len(listed_r), kk), kept.dtype), np.full((len(listed_r), kk), -1, np.int64)
        redo = np.arange(len(listed_r))
    if len(redo):
        cand_s = np.concatenate([listed[redo], fresh[redo]], axis=1)
        cand_r = np.concatenate([listed_r[redo], np.broadcast_to(added, (len(redo), len(added)))], axis=1)
        out_s[redo], out_r[redo] = _sorted_top(cand_s, kk, cand_r)
    return out_s, out_r


def _refill_zeros(out_s: np.ndarray, out_r: np.ndarray, known: np.ndarray, groups: np.ndarray,
                  exclude: np.ndarray | None, n: int) -> None:
    """In place: the lists of `known` rows that end in cosines of 0 (or in no entry) get them as a
    search lists them, the lowest rows each may list and holds no positive cosine with
    (`_sparse_sorted_top`), after their positive cosines. Exact for a list that held every
    positive cosine before the merge (a kept list that ran into cosines of 0); for any other, the
    entries it changes lie below its bound, which no later scan trusts."""
    sub_s, sub_r = out_s[known], out_r[known]
    tail = ((sub_r >= 0) & (sub_s <= 0)) | (sub_r < 0)
    redo = np.flatnonzero(tail.any(axis=1))
    if not len(redo):
        return
    s, r = sub_s[redo], sub_r[redo]
    positive = (r >= 0) & (s > 0)
    at, slot = np.nonzero(positive)
    product = sparse.csr_matrix((s[at, slot], (at, r[at, slot])), shape=(len(redo), n))
    rows = known[redo]
    out_s[rows], out_r[rows] = _sparse_sorted_top(product, out_s.shape[1], groups, rows, exclude)


def _sparse_sorted_top(product: sparse.csr_matrix, k: int, groups: np.ndarray, queries: np.ndarray,
                       exclude: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """`_sorted_top` of the rows of `product` (queries x n, no negative entry), with the columns of
    the query's own group (and, with `exclude`, of its label) left out, without a dense copy:
    a row's positive products (rounded to `SCORE_DIGITS`) in `_sorted_top`'s order, then, where
    fewer than `k`, its cosines of 0, which `_sorted_top` lists by column: the lowest columns the
    row may list and holds no positive product with."""
    m, n = product.shape
    out_s = np.zeros((m, k), np.float32)
    out_r = np.full((m, k), -1, np.int64)
    row = np.repeat(np.arange(m), np.diff(product.indptr))
    col = product.indices.astype(np.int64)
    values = np.round(product.data, SCORE_DIGITS)  # in its own dtype, as `_sorted_top` rounds it
    g_q = groups[queries]
    keep = (values > 0) & (groups[col] != g_q[row])
    e_q = None
    if exclude is not None:
        e_q = exclude[queries]
        keep &= exclude[col] != e_q[row]
    row, col, values = row[keep], col[keep], values[keep]
    order = np.lexsort((col, -values, row))
    row, col, values = row[order], col[order], values[order]
    starts = np.searchsorted(row, np.arange(m + 1))  # each row's positive products: starts[i]:starts[i + 1]
    rank = np.arange(len(row)) - starts[row]
    top = rank < k
    out_s[row[top], rank[top]] = values[top]
    out_r[row[top], rank[top]] = col[top]
    positives = np.diff(starts)
    short = np.flatnonzero(positives < k)
    if not len(short):
        return out_s, out_r
    # each short row's (group, label) "combination": the columns it may list are the same for all
    # rows of one, so the first `width` of them are found once per combination, all at once
    # (a Python loop over them cost ~0.1 ms each: ~1,000 gloss rows of a warm re-scan are short)
    have = positives[short]
    width = k + int(have.max())  # enough whatever a row holds
    if e_q is None:
        combo_g, combo_of = np.unique(g_q[short], return_inverse=True)
        combo_e = None
    else:
        pairs = np.stack([np.unique(g_q[short], return_inverse=True)[1].ravel(),
                          np.unique(e_q[short], return_inverse=True)[1].ravel()], axis=1)
        _, first_of, combo_of = np.unique(pairs, axis=0, return_index=True, return_inverse=True)
        combo_g, combo_e = g_q[short[first_of]], e_q[short[first_of]]
    combo_of = combo_of.ravel()
    first = np.full((len(combo_g), width), n, np.int64)  # n: no column (fewer than `width` allowed)
    step = max(1, ZERO_FILL_CELLS // max(n, 1))
    for lo in range(0, len(combo_g), step):
        allowed = groups[None, :] != combo_g[lo:lo + step, None]
        if combo_e is not None:
            allowed &= exclude[None, :] != combo_e[lo:lo + step, None]
        rank = np.cumsum(allowed, axis=1)
        c_at, col_at = nonzero_2d(allowed & (rank <= width))
        first[lo + c_at, rank[c_at, col_at] - 1] = col_at
    # which of its `first` columns each short row holds a positive product with: found in one
    # search over the rows of `first` laid end to end, each shifted above the one before
    local = np.repeat(np.arange(len(short)), have)  # each short row's positive products, row after row
    at = np.repeat(starts[short] - (np.cumsum(have) - have), have) + np.arange(int(have.sum()))
    shift = combo_of[local] * (n + 1)
    flat = (first + np.arange(len(first))[:, None] * (n + 1)).ravel()
    pos = np.minimum(np.searchsorted(flat, col[at] + shift), len(flat) - 1)
    hit = flat[pos] == col[at] + shift
    held = np.zeros((len(short), width), bool)
    held[local[hit], pos[hit] - combo_of[local[hit]] * width] = True
    cols = first[combo_of]
    free = ~held & (cols < n)
    slot = have[:, None] + np.cumsum(free, axis=1) - 1  # where each free column would go
    take = free & (slot < k)
    r_i, c_i = np.nonzero(take)
    out_r[short[r_i], slot[r_i, c_i]] = cols[r_i, c_i]
    return out_s, out_r


def _top_k(sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The `k` largest entries of each row and their columns (unordered). Among entries equal to a
    row's k-th largest, the lowest columns are taken, so the answer is the same whichever routine
    found it: torch's topk where torch is loaded already (several times faster than numpy's
    argpartition on wide rows), numpy's otherwise (a re-scan served from the cache never loads
    torch)."""
    torch = sys.modules.get("torch")
    if torch is not None and getattr(getattr(torch, "__spec__", None), "_initializing", False):
        torch = None  # another thread is still importing it (the model loads beside this): using a
        # half-imported torch here deadlocks both threads
    if torch is None:
        if k >= 1 and sims.shape[1] >= SAMPLED_TOP_MIN_COLUMNS * k:
            return _sampled_top_k(sims, k)
        cols = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        values = np.take_along_axis(sims, cols, axis=1)
    else:
        found = torch.topk(torch.from_numpy(np.ascontiguousarray(sims)), k, dim=1, sorted=False)
        values, cols = found.values.numpy(), found.indices.numpy().astype(np.int64)
    return _ties_lowest(sims, values, cols, k)


def _ties_lowest(sims: np.ndarray, values: np.ndarray, cols: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """`values` and `cols`, the `k` largest entries of each row of `sims` as some routine chose
    them, with the lowest columns taken among entries equal to a row's k-th largest."""
    kth = values.min(axis=1, initial=np.inf)[:, None]
    above = (sims > kth).sum(axis=1)
    tied = np.flatnonzero(above + (sims == kth).sum(axis=1) > k)
    for r in tied.tolist():  # ties at the k-th place (copies repeat sentences): lowest columns
        row = sims[r]
        pick = np.concatenate([np.flatnonzero(row > kth[r, 0]), np.flatnonzero(row == kth[r, 0])[:k - above[r]]])
        cols[r], values[r] = pick, row[pick]
    return values, cols


#: `_top_k` on numpy samples every `SAMPLE_STRIDE`-th column of rows at least this many times
#: longer than `k` (`_sampled_top_k`)
SAMPLED_TOP_MIN_COLUMNS = 8
SAMPLE_STRIDE = 4
#: rows with more than this many times `k` entries at or above their sample's k-th largest are
#: ranked whole (many equal entries: copies, cosines of 0)
SAMPLED_CANDIDATES_MAX = 8


def _sampled_top_k(sims: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """`_top_k` by numpy, from a sample: the k-th largest of every `SAMPLE_STRIDE`-th entry of a
    row is at most the row's k-th largest, so the row's top `k` lie among its entries at or above
    it (~4k of the row's n, found in one pass); those are ranked, highest first and, among equal
    ones, lowest column first, which is `_top_k`'s choice. Rows where that leaves fewer than `k`
    or more than `SAMPLED_CANDIDATES_MAX * k` candidates are ranked whole. (A cold scan ranked
    ~10M products: one partition of every row cost ~0.19 s, this ~0.1 s.)"""
    rows, n = sims.shape
    values = np.empty((rows, k), sims.dtype)
    cols = np.empty((rows, k), np.int64)
    if rows == 0:
        return values, cols
    sample = sims[:, ::SAMPLE_STRIDE]
    floor = np.partition(sample, sample.shape[1] - k, axis=1)[:, sample.shape[1] - k]
    mask = sims >= floor[:, None]
    counts = mask.sum(axis=1)
    whole = np.flatnonzero((counts < k) | (counts > SAMPLED_CANDIDATES_MAX * k))
    if len(whole):
        mask[whole] = False
        counts[whole] = 0
    r, c = nonzero_2d(mask)  # row by row, columns ascending
    if len(r):
        width = int(counts.max())
        at = np.arange(len(r)) - np.repeat(np.cumsum(counts) - counts, counts)
        cand = np.full((rows, width), -np.inf, sims.dtype)
        cand_c = np.zeros((rows, width), np.int64)
        cand[r, at], cand_c[r, at] = sims[r, c], c
        # highest first; the sort is stable, so equal entries keep column order (padding after them)
        order = np.argsort(-cand, axis=1, kind="stable")[:, :k]
        values[:], cols[:] = np.take_along_axis(cand, order, axis=1), np.take_along_axis(cand_c, order, axis=1)
    if len(whole):
        sub = sims[whole]
        part = np.argpartition(-sub, k - 1, axis=1)[:, :k]
        values[whole], cols[whole] = _ties_lowest(sub, np.take_along_axis(sub, part, axis=1), part, k)
    return values, cols


def _sorted_top(sims: np.ndarray, k: int, cols: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top `k` of each row, best first (ties: lower column first), -inf entries given as -1 rows.
    `cols`: the global column of each column of `sims` (default: its position), one row of them
    per row of `sims` where they differ. Cosines are rounded to `SCORE_DIGITS` decimals first, so
    that cosines equal but for float rounding (copies of a sentence, the same product computed in
    two ways) are equal, and ordered by row whichever way they were computed."""
    psims, part = _top_k(np.round(sims, SCORE_DIGITS), k)
    if cols is not None:
        part = np.take_along_axis(cols, part, axis=1) if cols.ndim == 2 else cols[part]
    order = np.lexsort((part, -psims), axis=1)
    rows = np.take_along_axis(part, order, axis=1)
    sc = np.take_along_axis(psims, order, axis=1)
    valid = np.isfinite(sc)
    return np.where(valid, sc, 0.0), np.where(valid, rows, -1)
