"""Stage: retrieve candidate sentence pairs. Semantic neighbours from the sentence vectors (with
the last scan's neighbour lists carried over where they still hold), lexical neighbours from
character n-gram TF-IDF. `match` turns them into candidate document pairs."""

from __future__ import annotations

import hashlib

import numpy as np
from scipy import sparse

from .features import DocFeatures
from .knn import knn_other_groups, knn_other_groups_extend
from .lexical import compact_columns, scope_idf, tfidf_rows
from .match import MatchSettings, gloss_pairs, lexical_pairs
from .preparation import Prepared
from .results import ResultStore


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
    counts = np.bincount(doc_of_row, minlength=len(doc_keys)).astype(np.int64)
    slot = store.key("knn", "semantic-knn", model_id, depth)
    prev = store.get("knn", slot)
    result = _carried_over(vecs, doc_of_row, doc_keys, counts, depth, prev) if prev is not None else None
    if result is None:
        result = knn_other_groups(vecs, doc_of_row, depth)
    store.put("knn", slot, (tuple(doc_keys), counts.tolist(), result[0], result[1].astype(np.int32)))
    return result


def _carried_over(vecs, doc_of_row, doc_keys, counts, depth, prev) -> tuple[np.ndarray, np.ndarray] | None:
    """The last scan's lists `prev` mapped to this scan's rows and extended with the new rows;
    None when nothing of them is usable."""
    offsets = np.concatenate([[0], np.cumsum(counts)])
    prev_keys, prev_counts, prev_scores, prev_rows = prev
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
    rows = np.where(prev_rows >= 0, row_map[np.maximum(prev_rows, 0)], -1).astype(np.int64)
    usable = (row_map >= 0) & ~((prev_rows >= 0) & (rows < 0)).any(axis=1)
    if not usable.any():
        return None
    scores = np.asarray(prev_scores, dtype=np.float32)[usable]
    rows = rows[usable]
    # re-sorted by the rows' new order, which breaks ties
    order = np.lexsort((np.where(rows >= 0, rows, len(vecs)), -np.where(rows >= 0, scores, -np.inf)), axis=1)
    rows, scores = np.take_along_axis(rows, order, axis=1), np.take_along_axis(scores, order, axis=1)
    known = row_map[usable]
    perm = np.argsort(known, kind="stable")
    added = np.flatnonzero(~seen[doc_of_row])
    return knn_other_groups_extend(vecs, doc_of_row, depth, known[perm], scores[perm], rows[perm], added)


def lexical_search(prepared: list[Prepared], feats: list[DocFeatures], settings: MatchSettings,
                   store: ResultStore | None = None) -> dict[tuple[int, int], float]:
    """Sentence pairs mined from char n-gram TF-IDF (IDF over the whole scan) between documents,
    and between languages where the scan mixes them (`match.lexical_pairs`), there also from the
    gloss rows (`gloss`: English lemmas through bilingual dictionaries). Needs no vectors.

    The IDF spans the scan, so one new article changes every list; with `store`, an unchanged
    scan (the same features, languages and settings, in order) gets the last result back."""
    if store is None or not store.enabled:
        return _lexical_search(prepared, feats, settings)
    key = store.key("lexical-search", settings, [(p.langs.document, _rows_digest(f)) for p, f in zip(
        prepared, feats, strict=True)])
    found = store.get("lexical-search", key)
    if found is None:
        found = _lexical_search(prepared, feats, settings)
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


def _lexical_search(prepared: list[Prepared], feats: list[DocFeatures], settings: MatchSettings
                    ) -> dict[tuple[int, int], float]:
    doc_of_row = np.repeat(np.arange(len(prepared)), [len(p.seg.sentences) for p in prepared])
    if not len(doc_of_row):
        return {}
    counts = compact_columns(sparse.vstack([f.counts for f in feats]).tocsr())
    lexical = tfidf_rows(counts, scope_idf(counts, np.arange(len(doc_of_row))))
    del counts  # a long document's n-grams are the largest arrays of the search
    languages = np.array([prepared[d].langs.document for d in doc_of_row])
    out = lexical_pairs(lexical, doc_of_row, settings, languages=languages)
    if len(set(languages)) > 1:
        glosses = compact_columns(sparse.vstack([f.gloss for f in feats]).tocsr())
        glosses = tfidf_rows(glosses, scope_idf(glosses, np.arange(len(doc_of_row))))
        for key, m in gloss_pairs(glosses, doc_of_row, languages, settings).items():
            out[key] = max(out.get(key, 0.0), m)
    return out
