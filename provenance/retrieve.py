"""Stage: retrieve candidate sentence pairs. Semantic neighbours from the sentence vectors,
lexical neighbours from character n-gram and gloss rows weighted by language (`weights`); both
with the last scan's neighbour lists carried over where they still hold. `match` turns them into
candidate document pairs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
from scipy import sparse

from .features import DocFeatures
from .hashing import digest
from .knn import (
    knn_other_groups,
    knn_other_groups_extend,
    knn_other_groups_sparse_extend,
    knn_other_groups_sparse_multi,
)
from .lexical import compact_columns
from .match import MatchSettings, gloss_pairs, lexical_excludes, lexical_pairs
from .preparation import Prepared
from .results import ResultStore
from .weights import table_key, weighted_rows

Lists = list[tuple[np.ndarray, np.ndarray]]


def semantic_knn(vecs: np.ndarray, doc_of_row: np.ndarray, doc_keys: list[str], model_id: str,
                 settings: MatchSettings, store: ResultStore | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each sentence's nearest sentences of other documents (`knn.knn_other_groups`), carried
    over from the last scan in `store`: a sentence vector depends on its text and the model alone,
    so a list from the last scan still holds for the documents still here, unless it names a
    sentence of a document now gone. Only the other sentences are searched, and the new articles'
    sentences merged into the kept lists (`knn.knn_other_groups_extend`): exact up to float
    rounding (and the order of equal cosines). `doc_keys`: a digest of each document's text, in
    order. One slot per model and search depth: the last scan wins."""
    depth = settings.k * settings.search_depth
    if store is None or not store.enabled or not len(vecs):
        return knn_other_groups(vecs, doc_of_row, depth)
    (result,) = _kept_lists(
        store, store.key("knn", "semantic-knn", model_id, depth), doc_of_row, doc_keys,
        lambda: [knn_other_groups(vecs, doc_of_row, depth)],
        lambda known, lists, added: [knn_other_groups_extend(vecs, doc_of_row, depth, known, *lists[0], added)])
    return result


def _kept_lists(store: ResultStore, slot: str, doc_of_row: np.ndarray, doc_keys: list[str],
                search: Callable[[], Lists], extend: Callable[[np.ndarray, Lists, np.ndarray], Lists]) -> Lists:
    """Neighbour lists (one `(scores, rows)` pair per search) from the last scan's in `slot`,
    mapped to this scan's rows and extended (`extend(known rows, their lists, added rows)`), or
    from `search()` when none are usable; this scan's lists are kept in the slot."""
    counts = np.bincount(doc_of_row, minlength=len(doc_keys)).astype(np.int64)
    prev = store.get("knn", slot)
    result = _carried_over(doc_of_row, doc_keys, counts, prev, extend) if prev is not None else None
    if result is None:
        result = search()
    store.put("knn", slot, (tuple(doc_keys), counts.tolist(), [(s, r.astype(np.int32)) for s, r in result]))
    return result


def _carried_over(doc_of_row, doc_keys, counts, prev, extend) -> Lists | None:
    """The last scan's lists `prev` mapped to this scan's rows and extended with the new rows;
    None when nothing of them is usable."""
    n = len(doc_of_row)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    prev_keys, prev_counts, prev_lists = prev
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
    mapped = [np.where(r >= 0, row_map[np.maximum(r, 0)], -1).astype(np.int64) for _, r in prev_lists]
    usable = row_map >= 0
    for (_, r), rows in zip(prev_lists, mapped, strict=True):
        usable &= ~((r >= 0) & (rows < 0)).any(axis=1)
    if not usable.any():
        return None
    known = row_map[usable]
    perm = np.argsort(known, kind="stable")
    lists = []
    for (s, _), rows in zip(prev_lists, mapped, strict=True):
        scores, rows = np.asarray(s, dtype=np.float32)[usable], rows[usable]
        # re-sorted by the rows' new order, which breaks ties
        order = np.lexsort((np.where(rows >= 0, rows, n), -np.where(rows >= 0, scores, -np.inf)), axis=1)
        lists.append((np.take_along_axis(scores, order, axis=1)[perm], np.take_along_axis(rows, order, axis=1)[perm]))
    return extend(known[perm], lists, np.flatnonzero(~seen[doc_of_row]))


def lexical_search(prepared: list[Prepared], feats: list[DocFeatures], settings: MatchSettings,
                   store: ResultStore | None = None) -> dict[tuple[int, int], float]:
    """Sentence pairs mined from char n-gram rows (`weights.weighted_rows`) between documents, and
    between languages where the scan mixes them (`match.lexical_pairs`), there also from the gloss
    rows (`gloss`: English lemmas through bilingual dictionaries). Needs no vectors.

    A row's weights depend on its own text and language, so with `store` the neighbour lists of
    the last scan are carried over as the semantic ones are (`semantic_knn`), and an unchanged scan
    (the same features, languages and settings, in order) gets the last result back whole."""
    if store is None or not store.enabled:
        return _lexical_search(prepared, feats, settings)
    doc_keys = [digest(p.langs.document, _rows_digest(f)) for p, f in zip(prepared, feats, strict=True)]
    key = store.key("lexical-search", settings, table_key(), doc_keys)
    found = store.get("lexical-search", key)
    if found is None:
        found = _lexical_search(prepared, feats, settings, store, doc_keys)
        store.put("lexical-search", key, found)
    return found


def _rows_digest(f: DocFeatures) -> str:
    """Digest of one document's n-gram and gloss count rows (all `lexical_search` reads of it)."""
    h = hashlib.sha256()
    for m in (f.counts, f.gloss):
        h.update(repr((m.shape, m.indptr.dtype, m.indices.dtype, m.data.dtype)).encode())
        for arr in (m.indptr, m.indices, m.data):
            h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def _lexical_search(prepared: list[Prepared], feats: list[DocFeatures], settings: MatchSettings,
                    store: ResultStore | None = None, doc_keys: list[str] | None = None
                    ) -> dict[tuple[int, int], float]:
    doc_of_row = np.repeat(np.arange(len(prepared)), [len(p.seg.sentences) for p in prepared])
    if not len(doc_of_row):
        return {}
    languages = np.array([prepared[d].langs.document for d in doc_of_row])
    lexical = compact_columns(weighted_rows(sparse.vstack([f.counts for f in feats]).tocsr(), languages))
    excludes = lexical_excludes(languages)
    searches = _sparse_lists(lexical, doc_of_row, excludes, settings, store, doc_keys, "lexical-knn")
    out = lexical_pairs(lexical, doc_of_row, settings, languages, searches)
    if len(excludes) > 1:
        glosses = compact_columns(weighted_rows(sparse.vstack([f.gloss for f in feats]).tocsr(), languages, "gloss"))
        (search,) = _sparse_lists(glosses, doc_of_row, [languages], settings, store, doc_keys, "gloss-knn")
        for key, m in gloss_pairs(glosses, doc_of_row, languages, settings, search).items():
            out[key] = max(out.get(key, 0.0), m)
    return out


def _sparse_lists(mat: sparse.csr_matrix, doc_of_row: np.ndarray, excludes: list, settings: MatchSettings,
                  store: ResultStore | None, doc_keys: list[str] | None, name: str) -> Lists:
    """The neighbour lists of `mat`'s rows for each of `excludes` (`knn.knn_other_groups_sparse_multi`),
    carried over from the last scan in `store` (one slot per kind of rows and search)."""
    depth = settings.k * settings.search_depth
    if store is None or not store.enabled or doc_keys is None:
        return knn_other_groups_sparse_multi(mat, doc_of_row, depth, excludes)
    slot = store.key("knn", name, depth, len(excludes), table_key())
    return _kept_lists(
        store, slot, doc_of_row, doc_keys, lambda: knn_other_groups_sparse_multi(mat, doc_of_row, depth, excludes),
        lambda known, lists, added: knn_other_groups_sparse_extend(mat, doc_of_row, depth, excludes, known, lists,
                                                                   added))
