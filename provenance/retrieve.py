"""Stage: retrieve candidate sentence pairs. Semantic neighbours from the sentence vectors,
lexical neighbours from character n-gram and gloss rows weighted by language (`weights`); both
with the last scan's neighbour lists carried over where they still hold. `match` turns them into
candidate document pairs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse

from .features import DocFeatures, rows_keys
from .knn import (
    knn_other_groups,
    knn_other_groups_extend,
    knn_other_groups_rows,
    knn_other_groups_sparse_extend,
    knn_other_groups_sparse_multi,
    knn_other_groups_sparse_rows,
    nonnegative,
)
from .lexical import compact_columns, used_columns
from .match import MatchSettings, gloss_pairs, lexical_excludes, lexical_pairs
from .preparation import Prepared
from .ranking import SCORE_DIGITS
from .results import ResultStore
from .weights import table_key, weighted_rows

Lists = list[tuple[np.ndarray, np.ndarray]]


#: Neighbour lists are kept this many times deeper than the search needs: a list that named
#: sentences of articles since removed (a folder that rolls over) still reaches the search's depth
#: after dropping them, and is not searched again.
SPARE_DEPTH = 2
#: Cosines closer than this count as equal when a kept list is judged: a sentence carried by many
#: copies has neighbours of equal cosine, whose order a fresh search settles by row, and cosines
#: computed in two scans may differ in their last bits.
TIE = 1e-5
#: A process that scans again writes its lists for the next process at most this often (it reads
#: its own from memory; any older lists are carried over correctly, only with more rows to search):
#: ~2.5 MB, 10-20 ms of each warm re-scan of 117 articles here.
KEPT_WRITE_SECONDS = 30.0
#: Kept lists larger than this (in bytes) are not kept: a scan of millions of sentences searches
#: afresh rather than write hundreds of megabytes per scan (SQLite refuses values over 1 GB).
KEPT_BYTES_MAX = 2**28


def semantic_knn(vecs: np.ndarray, doc_of_row: np.ndarray, doc_keys: list[str], model_id: str,
                 settings: MatchSettings, store: ResultStore | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each sentence's nearest sentences of other documents (`knn.knn_other_groups`), carried
    over from the last scan in `store`: a sentence vector depends on its text and the model alone,
    so a list from the last scan still holds for the documents still here (`_carried_over`). Only
    the other sentences are searched, and the new articles' sentences merged into the kept lists
    (`knn.knn_other_groups_extend`): the lists of a fresh search. `doc_keys`: a digest of each
    document's text, in order. One slot per model and search depth: the last scan wins."""
    depth = settings.k * settings.search_depth
    if store is None or not store.enabled or not len(vecs):
        return knn_other_groups(vecs, doc_of_row, depth)
    (result,) = _kept_lists(
        store, store.key("knn", "semantic-knn", model_id, depth), doc_of_row, doc_keys, depth,
        [settings.semantic_floor],
        lambda width: [knn_other_groups(vecs, doc_of_row, width)],
        lambda known, lists, added, width: [knn_other_groups_extend(vecs, doc_of_row, width, known, *lists[0],
                                                                    added)],
        lambda rows, width: [knn_other_groups_rows(vecs, doc_of_row, width, rows)])
    return result


def _kept_lists(store: ResultStore, slot: str, doc_of_row: np.ndarray, doc_keys: list[str], depth: int,
                floors: list[float], search: Callable[[int], Lists],
                extend: Callable[[np.ndarray, Lists, np.ndarray, int], Lists],
                research: Callable[[np.ndarray, int], Lists], zeros_known: bool = False) -> Lists:
    """Neighbour lists of `depth` (one `(scores, rows)` pair per search, one search per entry of
    `floors`: the lowest cosine that search's pairs are mined at): the last scan's in `slot`
    mapped to this scan's rows and extended (`extend(known rows, their lists, added rows, width)`,
    `research(rows, width)` for rows whose lists cannot be trusted), or `search(width)` when none
    are usable. This scan's lists are kept in the slot `SPARE_DEPTH`
    times deeper, each with its bound (`_carried_over`). `zeros_known`: no score is below 0 and
    `extend` lists the cosines of 0 as a search does (sparse rows), so a list that ran into them
    holds every candidate and is usable whatever its length."""
    width = depth * SPARE_DEPTH
    counts = np.bincount(doc_of_row, minlength=len(doc_keys)).astype(np.int64)
    prev = store.recall("knn", [slot]).get(slot) or store.get("knn", slot)
    found = (_carried_over(doc_of_row, doc_keys, counts, prev, depth, width, floors, extend, research, zeros_known)
             if prev is not None else None)
    if found is None:
        result = search(width)
        found = result, [_bounds(s, r) for s, r in result]
    result, bounds = found
    kept = [(s, r.astype(np.int32)) for s, r in result]
    if sum(s.nbytes + r.nbytes for s, r in kept) <= KEPT_BYTES_MAX:
        value = (tuple(doc_keys), tuple(counts.tolist()), tuple(kept), tuple(b.astype(np.float32) for b in bounds))
        store.put_now_and_then("knn", slot, value, KEPT_WRITE_SECONDS)
    return [(s[:, :depth], r[:, :depth]) for s, r in result]


def _bounds(s: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Each list's bound: every candidate scoring above it is listed (the last score of a full
    list; -inf for a list that ran out of candidates)."""
    return np.where(r[:, -1] >= 0, s[:, -1], -np.inf)


def _carried_over(doc_of_row, doc_keys, counts, prev, depth, width, floors, extend, research, zeros_known=False
                  ) -> tuple[Lists, list[np.ndarray]] | None:
    """The last scan's lists `prev` mapped to this scan's rows and extended with the new rows, and
    each list's bound; None when nothing of them is usable.

    A list holds every candidate scoring above its bound (after a search, `_bounds`). Entries
    naming a sentence now gone are dropped, which leaves that true; merged with the new rows, it
    stays true above the higher of its bound and the merged list's last score. A row is searched
    again when fewer than `depth` of its kept entries score clearly (`TIE`) above the bound, or
    when the `depth`-th and the next entry of its merged list tie at a cosine that can be mined
    (at least its search's floor): a fresh search orders equal cosines by row, and cosines from two
    scans may differ in their last bits. (Which of several equal cosines below the floor a list
    names changes nothing: they are never mined, and margins read their values only.) With
    `zeros_known`, a list whose bound is 0 or less (it ran into cosines of 0: a gloss row shares a
    lemma with few sentences) lists every positive cosine, so it is kept however few it holds and
    `extend` fills in the cosines of 0 (~790 gloss rows of a warm re-scan here were searched again
    every scan before)."""
    n = len(doc_of_row)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    prev_keys, prev_counts, prev_lists, prev_bounds = prev
    if prev_lists[0][1].shape[1] != width or len(prev_lists) != len(floors):
        return None  # another depth, or a scan of one language where this one mixes them (or back)
    free: dict[str, list[int]] = {}
    for i, key in enumerate(doc_keys):
        free.setdefault(key, []).append(i)
    # row of the last scan -> row now, -1 where its document is gone (or segmented otherwise)
    row_map = np.full(int(sum(prev_counts)), -1, np.int64)
    seen = np.zeros(len(doc_keys), bool)
    at = 0
    for key, c in zip(prev_keys, prev_counts, strict=True):
        if free.get(key) and counts[free[key][0]] == c:
            d = free[key].pop(0)
            row_map[at:at + c] = np.arange(offsets[d], offsets[d] + c)
            seen[d] = True
        at += c
    usable = row_map >= 0
    monotone = bool(np.all(np.diff(row_map[row_map >= 0]) > 0))  # no document moved: see `doubtful`
    kept = []
    for (s, r), bound in zip(prev_lists, prev_bounds, strict=True):
        s = np.asarray(s, dtype=np.float32)
        rows = np.where(r >= 0, row_map[np.maximum(r, 0)], -1).astype(np.int64)
        deep = ((rows >= 0) & (s > bound[:, None] + TIE)).sum(axis=1) >= depth
        usable &= (deep | (bound <= 0)) if zeros_known else deep
        kept.append((s, rows, bound))
    if not usable.any():
        return None
    known = row_map[usable]
    perm = np.argsort(known, kind="stable")
    known = known[perm]
    lists, kept_bounds = [], []
    reordered = np.zeros(len(known), bool)
    for scores, rows, bound in kept:
        scores, rows = scores[usable][perm], rows[usable][perm]
        kept_bounds.append(bound[usable][perm])
        scores, rows, redone = _in_new_order(scores, rows, n)
        reordered |= redone
        lists.append((scores, rows))
    added = ~seen[doc_of_row]
    result = extend(known, lists, np.flatnonzero(added), width)
    doubtful = _doubted(result, lists, floors, known, added, reordered if monotone else None, depth, width)
    bounds = []
    for (s, r), bound in zip(result, kept_bounds, strict=True):
        b = _bounds(s, r)
        b[known] = np.maximum(b[known], bound)
        bounds.append(b)
    again = np.flatnonzero(doubtful)
    if len(again):
        for (s, r), b, (s2, r2) in zip(result, bounds, research(again, width), strict=True):
            s[again], r[again] = s2, r2
            b[again] = _bounds(s2, r2)
    return result, bounds


def _doubted(result: Lists, lists: Lists, floors: list[float], known: np.ndarray, added: np.ndarray,
             reordered: np.ndarray | None, depth: int, width: int) -> np.ndarray:
    """Rows (a mask) whose merged lists (`result`, from the kept `lists` of the `known` rows) a
    fresh search could order otherwise: their `depth`-th and next entries tie at a cosine that can be
    mined. A tie the last scan settled stands while the list's head is as it was, no document moved
    (`reordered` None: some did; an entry tied with a listed one and left out still comes after it)
    and no `added` row ties with it (its place among equal cosines rests on how its product was
    computed)."""
    doubtful = np.zeros(len(added), bool)
    top = min(depth + 1, width)
    for (s, r), floor, (_, listed) in zip(result, floors, lists, strict=True):
        nxt = r[known, depth] >= 0 if width > depth else np.zeros(len(known), bool)
        tied = (nxt & (s[known, depth - 1] - s[known, min(depth, width - 1)] <= TIE)
                & (s[known, depth - 1] >= floor - TIE))
        if reordered is None:
            doubtful[known] |= tied
            continue
        new_tie = (added[np.maximum(r[known], 0)] & (r[known] >= 0)
                   & (s[known] >= s[known, depth - 1][:, None] - TIE)).any(axis=1)
        doubtful[known] |= tied & (reordered | new_tie | np.any(r[known, :top] != listed[:, :top], axis=1))
    return doubtful


def _in_new_order(scores: np.ndarray, rows: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kept lists re-sorted by score (rounded) and then by their rows' new numbers, which break
    ties; entries of gone rows (-1) last; and which lists were out of that order. Only those are
    sorted (the same result as sorting all: most are in order already, as documents keep their
    order between scans and only lists that named a removed article change)."""
    key_s = -np.where(rows >= 0, np.round(scores, SCORE_DIGITS), -np.inf)
    key_r = np.where(rows >= 0, rows, n)
    ordered = ((key_s[:, :-1] < key_s[:, 1:]) | ((key_s[:, :-1] == key_s[:, 1:]) & (key_r[:, :-1] <= key_r[:, 1:])))
    redone = ~ordered.all(axis=1)
    redo = np.flatnonzero(redone)
    if len(redo):
        scores, rows = scores.copy(), rows.copy()
        order = np.lexsort((key_r[redo], key_s[redo]), axis=1)
        scores[redo] = np.take_along_axis(scores[redo], order, axis=1)
        rows[redo] = np.take_along_axis(rows[redo], order, axis=1)
    return scores, rows, redone


def lexical_search(prepared: list[Prepared], feats: list[DocFeatures], settings: MatchSettings,
                   store: ResultStore | None = None) -> dict[tuple[int, int], float]:
    """Sentence pairs mined from char n-gram rows (`weights.weighted_rows`) between documents, and
    between languages where the scan mixes them (`match.lexical_pairs`), there also from the gloss
    rows (`gloss`: English lemmas through bilingual dictionaries). Needs no vectors.

    A row's weights depend on its own text and language, so with `store` the neighbour lists of
    the last scan are carried over as the semantic ones are (`semantic_knn`), and an unchanged scan
    (the same features, languages and settings, in order) gets the last result back whole. With
    `store`, documents are keyed by what their rows depend on (`features.rows_keys`): `feats` must be
    `features.docs_features(prepared)`'s, as the scan's are."""
    if store is None or not store.enabled:
        return _lexical_search(prepared, feats, settings)
    doc_keys = rows_keys(prepared)
    key = store.key("lexical-search", settings, table_key(), doc_keys)
    found = store.get("lexical-search", key)
    if found is None:
        found = _lexical_search(prepared, feats, settings, store, doc_keys)
        store.put("lexical-search", key, found)
    else:  # the neighbour lists behind it serve the next scan that changes: kept from `cache prune`
        store.touch("knn", [_slot(store, name, settings) for name in ("lexical-knn", "gloss-knn")])
    return found


def _lexical_search(prepared: list[Prepared], feats: list[DocFeatures], settings: MatchSettings,
                    store: ResultStore | None = None, doc_keys: list[str] | None = None
                    ) -> dict[tuple[int, int], float]:
    doc_of_row = np.repeat(np.arange(len(prepared)), [len(p.seg.sentences) for p in prepared])
    if not len(doc_of_row):
        return {}
    languages = np.array([prepared[d].langs.document for d in doc_of_row])
    lexical = _lexical_rows([f.counts for f in feats], languages, "ngram", store, doc_keys)
    excludes = lexical_excludes(languages)
    searches = _sparse_lists(lexical, doc_of_row, excludes, settings, store, doc_keys, "lexical-knn")
    out = lexical_pairs(lexical, doc_of_row, settings, languages, searches)
    if len(excludes) > 1:
        glosses = _lexical_rows([f.gloss for f in feats], languages, "gloss", store, doc_keys)
        (search,) = _sparse_lists(glosses, doc_of_row, [languages], settings, store, doc_keys, "gloss-knn")
        for key, m in gloss_pairs(glosses, doc_of_row, languages, settings, search).items():
            out[key] = max(out.get(key, 0.0), m)
    return out


def _lexical_rows(counts: list[sparse.csr_matrix], languages: np.ndarray, kind: str, store: ResultStore | None,
                  doc_keys: list[str] | None) -> sparse.csr_matrix:
    """`weights.weighted_rows` of the documents' `counts` stacked (`languages`: one per row), with
    only the columns some row uses (`lexical.compact_columns`). A row's weights depend on that row
    alone, so a process that scans again keeps each document's weighted rows and weighs the new
    documents' only (`ResultStore.remember`: memory only), and keeps the last scan's columns, to
    which this scan's are mapped (`_recompacted`): the same matrix, bit for bit (a warm re-scan of
    117 articles here weighed ~220k entries, ~25 ms, and compacted them, ~20 ms)."""
    if store is None or doc_keys is None or not store.remembers:
        return compact_columns(weighted_rows(sparse.vstack(counts).tocsr(), languages, kind))
    keys = [store.key("weighted", kind, table_key(), k) for k in doc_keys]
    found = store.recall("weighted", keys)
    todo = [d for d, k in enumerate(keys) if k not in found]
    if todo:
        ends = np.cumsum([c.shape[0] for c in counts])
        rows = np.concatenate([np.arange(ends[d] - counts[d].shape[0], ends[d]) for d in todo])
        done = weighted_rows(sparse.vstack([counts[d] for d in todo]).tocsr(), languages[rows], kind)
        at = 0
        for d in todo:
            part = done[at:at + counts[d].shape[0]]
            at += counts[d].shape[0]
            found[keys[d]] = part
            store.remember("weighted", keys[d], part)
    parts = [found[k] for k in keys]
    stacked = sparse.vstack(parts, format="csr")
    slot = store.key("columns", kind, table_key())
    prev = store.recall("columns", [slot]).get(slot)
    cols, indices = _recompacted(parts, keys, prev) if prev is not None else used_columns(stacked)
    # remembered read-only with where each document's entries end (the matrix returned shares `indices`)
    store.remember("columns", slot, (cols, tuple(keys), indices, np.cumsum([p.nnz for p in parts])))
    return sparse.csr_matrix((stacked.data, indices, stacked.indptr), shape=(stacked.shape[0], len(cols)))


def _recompacted(parts: list[sparse.csr_matrix], keys: list[str], prev: tuple) -> tuple[np.ndarray, np.ndarray]:
    """`lexical.used_columns` of `parts` stacked, from the last scan's: its columns, its documents'
    keys, their entries' positions among its columns and where each document's entries end. The
    columns still used (the documents gone may leave some unused) and the new documents' make this
    scan's; the kept documents' positions are mapped to them, the new ones' looked up: no sort of
    every entry."""
    prev_cols, prev_keys, prev_indices, prev_ends = prev
    prev_local = {k: prev_indices[e - n:e] for k, e, n in zip(prev_keys, prev_ends, np.diff(prev_ends, prepend=0),
                                                              strict=True)}
    kept = [k for k in keys if k in prev_local]
    used = np.zeros(len(prev_cols), bool)
    for k in kept:
        used[prev_local[k]] = True
    fresh = [p.indices for p, k in zip(parts, keys, strict=True) if k not in prev_local]
    cols = np.union1d(prev_cols[used], np.concatenate(fresh) if fresh else prev_cols[:0]).astype(prev_cols.dtype)
    moved = np.searchsorted(cols, prev_cols).astype(prev_cols.dtype)  # unused columns' values are never read
    out = [moved[prev_local[k]] if k in prev_local else np.searchsorted(cols, p.indices).astype(prev_cols.dtype)
           for p, k in zip(parts, keys, strict=True)]
    return cols, np.concatenate(out) if out else prev_cols[:0]


def _sparse_lists(mat: sparse.csr_matrix, doc_of_row: np.ndarray, excludes: list, settings: MatchSettings,
                  store: ResultStore | None, doc_keys: list[str] | None, name: str) -> Lists:
    """The neighbour lists of `mat`'s rows for each of `excludes` (`knn.knn_other_groups_sparse_multi`),
    carried over from the last scan in `store` (one slot per kind of rows and search)."""
    depth = settings.k * settings.search_depth
    floors = ([settings.gloss_floor] if name == "gloss-knn"
              else [settings.lexical_floor, settings.cross_lingual_floor][:len(excludes)])
    if store is None or not store.enabled or doc_keys is None:
        return knn_other_groups_sparse_multi(mat, doc_of_row, depth, excludes)
    return _kept_lists(
        store, _slot(store, name, settings), doc_of_row, doc_keys, depth, floors,
        lambda width: knn_other_groups_sparse_multi(mat, doc_of_row, width, excludes),
        lambda known, lists, added, width: knn_other_groups_sparse_extend(mat, doc_of_row, width, excludes, known,
                                                                          lists, added),
        lambda rows, width: knn_other_groups_sparse_rows(mat, doc_of_row, width, excludes, rows),
        zeros_known=nonnegative(mat))


def _slot(store: ResultStore, name: str, settings: MatchSettings) -> str:
    """The store key of the last scan's lists of `name` ("lexical-knn": n-gram rows, both searches;
    "gloss-knn")."""
    return store.key("knn", name, settings.k * settings.search_depth, table_key())
