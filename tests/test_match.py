"""Retrieval: kNN across documents and ratio-margin scoring, on hand-built vectors."""

import numpy as np
import pytest
from scipy import sparse

from provenance.errors import ConfigError
from provenance.knn import (
    knn_other_groups,
    knn_other_groups_extend,
    knn_other_groups_sparse,
    knn_other_groups_sparse_extend,
    knn_other_groups_sparse_multi,
)
from provenance.match import MatchSettings, candidate_pairs, mined_pairs, ratio_margin


def unit(*rows):
    x = np.asarray(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_ratio_margin_formula():
    # cos 0.9; x's neighbourhood averages 0.6, y's 0.3: margin = 0.9 / 0.45
    assert ratio_margin(0.9, 0.6, 0.3) == pytest.approx(2.0)
    assert ratio_margin(0.5, 0.0, 0.0) == 0.0  # no neighbourhood: no margin


def test_knn_excludes_own_document_and_matches_brute_force():
    rng = np.random.default_rng(0)
    x = unit(*rng.normal(size=(30, 8)))
    groups = np.repeat(np.arange(6), 5)
    scores, rows = knn_other_groups(x, groups, k=3)
    sims = x @ x.T
    for i in range(30):
        other = [j for j in range(30) if groups[j] != groups[i]]
        expect = sorted(other, key=lambda j: (-sims[i, j], j))[:3]
        assert list(rows[i]) == expect
        assert np.allclose(scores[i], sims[i, expect], atol=1e-5)
    s2, r2 = knn_other_groups_sparse(sparse.csr_matrix(x), groups, k=3)
    assert (r2 == rows).all() and np.allclose(s2, scores, atol=1e-5)


def brute_force_knn(sims, groups, k, labels=None):
    """Top `k` by cosine kept to `ranking.SCORE_DIGITS` decimals (closer cosines are equal), then by row."""
    from provenance.ranking import SCORE_DIGITS

    sims = np.round(sims, SCORE_DIGITS)
    n = len(sims)
    out = []
    for i in range(n):
        other = [j for j in range(n) if groups[j] != groups[i] and (labels is None or labels[j] != labels[i])]
        out.append(sorted(other, key=lambda j: (-sims[i, j], j))[:k])
    return out


@pytest.mark.parametrize("sorted_groups", [True, False])
def test_sparse_knn_with_common_columns_and_label_exclusion_matches_brute_force(sorted_groups):
    # char n-gram rows: a few columns most rows hold (" th", "the") go through the dense product,
    # the rest through the sparse one; the sum must rank neighbours exactly as the plain product
    rng = np.random.default_rng(3)
    n, cols = 90, 400
    x = np.zeros((n, cols), np.float32)
    x[:, :6] = rng.random((n, 6)) * (rng.random((n, 6)) < 0.8)  # common columns
    rare = rng.random((n, cols - 6)) < 0.03
    x[:, 6:] = rare * rng.random((n, cols - 6))
    x[:, 6 + np.arange(n) % 50] += 0.5  # no empty row
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    groups = np.repeat(np.arange(15), 6)
    if not sorted_groups:
        groups = rng.permutation(groups)
    labels = np.array(["en", "fr", "en", "de", "en"] * 18)
    sims = x @ x.T
    (s1, r1), (s2, r2) = knn_other_groups_sparse_multi(sparse.csr_matrix(x), groups, 5, [None, labels], block=32)
    for rows, scores, expect in ((r1, s1, brute_force_knn(sims, groups, 5)),
                                 (r2, s2, brute_force_knn(sims, groups, 5, labels))):
        for i in range(n):
            got = rows[i][rows[i] >= 0]
            assert len(got) == len(expect[i])
            # the same neighbours in the same order, but where cosines tie up to rounding
            assert np.allclose(sims[i, got], sims[i, expect[i]], atol=2e-6)
            clear = sims[i, expect[i]] > sims[i, expect[i]].min() + 2e-6
            assert set(np.asarray(expect[i])[clear]) <= set(got.tolist())
            assert np.allclose(scores[i][:len(expect[i])], sims[i, expect[i]], atol=1e-5)


def test_sparse_search_is_exact_and_the_same_on_any_number_of_cores(monkeypatch):
    """A scan's lexical search splits its rows over threads: the lists must equal a brute-force
    search, and be identical (scores bit for bit) whatever the number of threads."""
    from provenance import knn

    rng = np.random.default_rng(11)
    n, cols = knn.THREADED_ROWS_MIN + 150, 300
    x = (rng.random((n, cols)) < 0.05) * rng.random((n, cols)).astype(np.float32)
    x[:, :4] += rng.random((n, 4)) * 0.3  # common columns
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    groups = np.repeat(np.arange(n // 10 + 1), 10)[:n]
    labels = np.array(["en", "fr", "de"])[groups % 3]
    runs = []
    for threads in (1, 2, 3):
        monkeypatch.setattr(knn, "_search_threads", lambda rows, t=threads: t)
        runs.append(knn_other_groups_sparse_multi(sparse.csr_matrix(x), groups, 6, [None, labels]))
    for other in runs[1:]:
        for (s_a, r_a), (s_b, r_b) in zip(runs[0], other, strict=True):
            assert np.array_equal(s_a, s_b) and np.array_equal(r_a, r_b)
    sims = x.astype(np.float64) @ x.T.astype(np.float64)
    expect = brute_force_knn(sims, groups, 6)
    rows = runs[0][0][1]
    agree = sum(list(rows[i][rows[i] >= 0]) == expect[i] for i in range(n))
    assert agree >= n - 5  # float32 against float64 products: a near-tie may swap


def test_dense_search_is_the_same_on_any_number_of_cores(monkeypatch):
    """The semantic search runs its batches of queries side by side: the lists must be identical
    (scores bit for bit) on one core or many, as a report must not depend on the machine's cores,
    and equal a brute-force search."""
    from provenance import knn

    rng = np.random.default_rng(5)
    n = 3 * knn.SEARCH_BATCH + 37
    x = rng.standard_normal((n, 48)).astype(np.float32)
    x[n // 2:] = x[: n - n // 2] + 0.3 * rng.standard_normal((n - n // 2, 48)).astype(np.float32)  # near copies
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    groups = np.repeat(np.arange(n // 7 + 1), 7)[:n]
    runs = []
    for cores in (1, 2, 4):
        monkeypatch.setattr(knn, "usable_cores", lambda c=cores: c)
        runs.append(knn_other_groups(x, groups, 8))
    for s, r in runs[1:]:
        assert np.array_equal(s, runs[0][0]) and np.array_equal(r, runs[0][1])
    expect = brute_force_knn(x.astype(np.float64) @ x.T.astype(np.float64), groups, 8)
    rows = runs[0][1]
    assert sum(list(rows[i]) == expect[i] for i in range(n)) >= n - 5  # float32 against float64: near-ties


def test_knn_extend_equals_a_full_search():
    # the lists of an earlier scan's sentences, plus a new article: merged lists == full search
    rng = np.random.default_rng(5)
    for trial in range(20):
        sizes = rng.integers(1, 9, size=int(rng.integers(2, 9)))
        groups = np.repeat(np.arange(len(sizes)), sizes)
        x = unit(*rng.normal(size=(len(groups), 6)))
        new_docs = rng.choice(len(sizes), size=int(rng.integers(0, len(sizes))), replace=False)
        added = np.flatnonzero(np.isin(groups, new_docs))
        old = np.flatnonzero(~np.isin(groups, new_docs))
        s_old, r_old = knn_other_groups(x[old], groups[old], 4)
        r_old = np.where(r_old >= 0, old[np.maximum(r_old, 0)], -1)
        # some old rows come without a list (their list named a removed sentence): searched in full
        keep = rng.random(len(old)) < 0.7
        s, r = knn_other_groups_extend(x, groups, 4, old[keep], s_old[keep], r_old[keep], added, block=3)
        s_full, r_full = knn_other_groups(x, groups, 4)
        assert (r == r_full).all(), trial
        assert np.allclose(s, s_full, atol=1e-5)
    with pytest.raises(ConfigError, match="both known and added"):
        knn_other_groups_extend(x, groups, 4, np.array([0]), s_full[:1], r_full[:1], np.array([0]))


def test_sparse_knn_extend_equals_a_full_search_for_every_search():
    # the lexical channel's lists of an earlier scan, plus new articles: merged lists == full search,
    # both for the search among all documents and among other-language documents only
    rng = np.random.default_rng(11)
    for trial in range(20):
        sizes = rng.integers(1, 9, size=int(rng.integers(2, 9)))
        groups = np.repeat(np.arange(len(sizes)), sizes)
        langs = rng.integers(0, 2, size=len(sizes))[groups]
        dense = rng.random((len(groups), 12)) * (rng.random((len(groups), 12)) < 0.4)
        dense[:, 0] += 0.01  # no empty row
        mat = sparse.csr_matrix(unit(*dense))
        excludes = [None, langs]
        new_docs = rng.choice(len(sizes), size=int(rng.integers(0, len(sizes))), replace=False)
        added = np.flatnonzero(np.isin(groups, new_docs))
        old = np.flatnonzero(~np.isin(groups, new_docs))
        before = knn_other_groups_sparse_multi(mat[old], groups[old], 4, [None, langs[old]])
        keep = rng.random(len(old)) < 0.7  # the others are searched in full
        lists = [(s[keep], np.where(r >= 0, old[np.maximum(r, 0)], -1)[keep]) for s, r in before]
        got = knn_other_groups_sparse_extend(mat, groups, 4, excludes, old[keep], lists, added, block=3)
        full = knn_other_groups_sparse_multi(mat, groups, 4, excludes)
        for (s, r), (s_full, r_full) in zip(got, full, strict=True):
            assert np.allclose(s, s_full, atol=1e-5), trial
            tied = np.isclose(s_full[:, :, None], s_full[:, None, :], atol=1e-5).sum(axis=2) > 1
            assert ((r == r_full) | tied).all(), trial
    with pytest.raises(ConfigError, match="both known and added"):
        knn_other_groups_sparse_extend(mat, groups, 4, [None], np.array([0]), [(full[0][0][:1], full[0][1][:1])],
                                       np.array([0]))


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_a_new_articles_rows_ranked_from_the_products_the_extension_made_are_those_of_a_search(monkeypatch, share):
    # a warm scan's new rows are searched from the transpose of their products with every row (which
    # the extension computes for the known rows anyway): the same sums, bit for bit, so the very
    # lists a product of their own gives, ties and their order included
    from provenance import knn

    monkeypatch.setattr(knn, "SPARSE_TOP_SHARE", share)
    rng = np.random.default_rng(7)
    for trial in range(60):
        n, cols = int(rng.integers(5, 300)), int(rng.integers(5, 2000))
        mat = sparse.random(n, cols, density=float(rng.uniform(0.002, 0.2)), format="csr", dtype=np.float32,
                            random_state=trial)
        if trial % 2:  # quarters: exact sums in any order, ties; otherwise any floats, bits compared
            mat.data = np.round(mat.data * 4) / 4
        mat.sort_indices()
        added = np.sort(rng.choice(n, int(rng.integers(1, min(n, 40))), replace=False))
        groups = rng.integers(0, max(2, n // 5), n)
        langs = rng.integers(0, 2, n)
        given = knn._transposed_products(mat @ mat[added].T.tocsr())
        own = knn.knn_other_groups_sparse_rows(mat, groups, 8, [None, langs], added)
        got = knn.knn_other_groups_sparse_rows(mat, groups, 8, [None, langs], added, products=given)
        for (s, r), (s_own, r_own) in zip(got, own, strict=True):
            assert np.array_equal(s.view(np.uint32), s_own.view(np.uint32)) and np.array_equal(r, r_own), trial


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_lists_of_some_rows_equal_the_full_search_exactly_however_sparse_their_products(monkeypatch, share):
    # rows searched again in a warm scan (`knn_other_groups_sparse_rows`) must name exactly the
    # neighbours a cold scan's search does, ties included, whether their products are ranked dense
    # or sparse (most products 0: the cosines of 0 listed by lowest row, as the full search does)
    from provenance import knn

    monkeypatch.setattr(knn, "SPARSE_TOP_SHARE", share)
    rng = np.random.default_rng(5)
    for trial in range(40):
        sizes = rng.integers(1, 7, size=int(rng.integers(2, 12)))
        groups = np.repeat(np.arange(len(sizes)), sizes)
        langs = rng.integers(0, 3, size=len(sizes))[groups]
        dense = (rng.integers(0, 3, (len(groups), 10)) * (rng.random((len(groups), 10)) < 0.15)).astype(float)
        dense[np.arange(len(groups)), rng.integers(0, 10, len(groups))] += 1.0  # ties and many zeros
        mat = sparse.csr_matrix(unit(*dense))
        excludes = [None, langs]
        k = int(rng.integers(1, 12))
        queries = rng.choice(len(groups), size=int(rng.integers(1, len(groups) + 1)), replace=False)
        got = knn.knn_other_groups_sparse_rows(mat, groups, k, excludes, queries, block=4)
        full = knn_other_groups_sparse_multi(mat, groups, k, excludes)
        for (s, r), (s_full, r_full) in zip(got, full, strict=True):
            assert np.array_equal(r, r_full[queries]), trial
            assert np.allclose(s, s_full[queries], atol=2e-6), trial


def test_margin_prefers_a_distinctive_pair_over_a_hub():
    x = unit([1, 0, 0, 0],          # row 0, doc 0: the query sentence
             [0.8, 0.6, 0, 0],      # row 1, doc 1: its true counterpart (cos 0.80)
             [0.85, 0, 0.37, 0.37],  # row 2, doc 2: a hub, closer to row 0 by raw cosine
             [0.8, 0, 0.5, 0.3],    # rows 3-4, docs 3-4: the hub's crowded neighbourhood
             [0.8, 0, 0.3, 0.5])
    groups = np.arange(5)
    scores, rows = knn_other_groups(x, groups, k=2)
    mined = mined_pairs(scores, rows, floor=0.0, threshold=0.0)
    assert x[0] @ x[2] > x[0] @ x[1]          # a raw cosine cut-off would pick the hub
    assert mined[(0, 1)] > mined[(0, 2)]       # the ratio margin picks the true pair


def test_candidate_pairs_link_documents_sharing_sentences():
    # doc 0 and doc 1 share three sentences; doc 2 is about something else
    base = np.eye(12, dtype=np.float32)
    doc0 = base[[0, 1, 2, 3]]
    doc1 = np.vstack([base[0], base[1] * 0.9 + base[5] * 0.1, base[2], base[6]])
    doc2 = base[[8, 9, 10, 11]]
    x = unit(*np.vstack([doc0, doc1, doc2]))
    groups = np.repeat([0, 1, 2], 4)
    pairs = candidate_pairs(x, None, groups, MatchSettings(k=2, semantic_floor=0.5))
    assert [(p.a, p.b) for p in pairs] == [(0, 1)]
    assert pairs[0].sentence_pairs >= 3


def test_settings_are_validated():
    with pytest.raises(ConfigError, match="k must be"):
        MatchSettings(k=0)
    with pytest.raises(ConfigError, match="margin"):
        MatchSettings(margin=10)


def test_exact_copies_are_candidates_even_when_margins_collapse():
    # one article and four exact copies: each sentence's k neighbours are all perfect matches,
    # so every ratio margin is 1.0; the duplicate floor must still link them
    base = np.eye(6, dtype=np.float32)[:4]
    x = np.vstack([base] * 5)
    groups = np.repeat(np.arange(5), 4)
    scores, rows = knn_other_groups(x, groups, k=4)
    assert mined_pairs(scores, rows, floor=0.0, threshold=1.06) == {}  # margin alone finds nothing
    pairs = candidate_pairs(x, None, groups, MatchSettings(k=4))
    assert {(p.a, p.b) for p in pairs} >= {(0, 1), (0, 2), (0, 3), (0, 4)}


def test_top_k_breaks_ties_the_same_with_or_without_torch(monkeypatch):
    import sys

    import torch

    from provenance.ranking import _top_k

    rng = np.random.default_rng(3)
    sims = np.round(rng.random((50, 40)), 1).astype(np.float32)  # many equal values
    sims[:, 5:9] = 0.95  # four columns tied near the top of every row
    sims[7] = -np.inf  # a row with nothing left to find
    with_torch = _top_k(sims, 6)
    monkeypatch.delitem(sys.modules, "torch")
    without = _top_k(sims, 6)
    assert "torch" not in sys.modules and torch is not None
    for (va, ca), (vb, cb) in zip(zip(*with_torch, strict=True), zip(*without, strict=True), strict=True):
        assert sorted(ca.tolist()) == sorted(cb.tolist())
        assert np.array_equal(np.sort(va), np.sort(vb))
    # the k-th place is filled with the lowest tied columns
    kth = np.sort(sims[0])[-6]
    chosen = set(without[1][0].tolist())
    above = set(np.flatnonzero(sims[0] > kth).tolist())
    assert chosen == above | set(np.flatnonzero(sims[0] == kth)[:6 - len(above)].tolist())


def test_top_k_never_touches_a_torch_another_thread_is_still_importing(monkeypatch):
    """The model loads in a worker thread while the lexical search runs: a half-imported torch in
    sys.modules must not be used (calling it deadlocked both threads)."""
    import sys
    import types
    from importlib.machinery import ModuleSpec

    from provenance.ranking import _top_k

    half = types.ModuleType("torch")
    half.__spec__ = ModuleSpec("torch", None)
    half.__spec__._initializing = True  # what importlib sets while the module's code runs

    def topk(*a, **k):
        raise AssertionError("used a torch that was still being imported")
    half.topk = topk
    monkeypatch.setitem(sys.modules, "torch", half)
    sims = np.arange(12, dtype=np.float32).reshape(3, 4)
    values, cols = _top_k(sims, 2)
    assert [sorted(r) for r in cols.tolist()] == [[2, 3], [2, 3], [2, 3]]


@pytest.mark.parametrize("cells", [1, 1 << 22])
def test_sparse_ranking_lists_the_cosines_of_0_as_a_dense_ranking_does(monkeypatch, cells):
    # rows sharing few products with the others (gloss rows) end their lists in cosines of 0, which a
    # dense ranking lists by lowest column among those the row may list: found for many rows at once,
    # in chunks of (group, label) combinations
    from provenance import ranking

    monkeypatch.setattr(ranking, "ZERO_FILL_CELLS", cells)
    rng = np.random.default_rng(3)
    for trial in range(60):
        n, m = int(rng.integers(2, 40)), int(rng.integers(1, 15))
        groups = rng.integers(0, int(rng.integers(1, 8)), n)  # in any order
        labels = np.array(["en", "fr", "ru"])[rng.integers(0, 3, n)] if trial % 2 else None
        queries = rng.choice(n, size=m)
        product = rng.integers(0, 3, (m, n)) * (rng.random((m, n)) < 0.2) / 2.0  # ties and many zeros
        k = int(rng.integers(1, n + 3))
        dense = product.copy()
        dense[groups[queries][:, None] == groups[None, :]] = -np.inf
        if labels is not None:
            dense[labels[queries][:, None] == labels[None, :]] = -np.inf
        want_s, want_r = ranking._sorted_top(dense, min(k, n))
        got_s, got_r = ranking._sparse_sorted_top(sparse.csr_matrix(product), min(k, n), groups, queries, labels)
        assert np.array_equal(got_r, want_r), trial
        assert np.array_equal(got_s, want_s), trial


@pytest.mark.parametrize("kind", ["distinct", "ties", "excluded", "zeros"])
def test_top_k_from_a_sample_takes_the_largest_and_the_lowest_columns_among_equals(kind):
    """Wide rows are ranked from a sample of their columns (`ranking._sampled_top_k`); what it
    takes must be a full sort's top k, ties at the k-th place going to the lowest columns, or
    lists would change with the routine that found them."""
    from provenance import ranking

    rng = np.random.default_rng(7)
    for _ in range(60):
        k = int(rng.integers(1, 20))
        rows, n = int(rng.integers(1, 30)), int(rng.integers(ranking.SAMPLED_TOP_MIN_COLUMNS * k, 600))
        sims = rng.random((rows, n)).astype(np.float32)
        if kind == "ties":
            sims = np.round(sims, 1)
        elif kind == "excluded":
            sims[rng.random((rows, n)) < 0.6] = -np.inf
        elif kind == "zeros":
            sims[rng.random((rows, n)) < 0.8] = 0.0
        for values, cols in (ranking._sampled_top_k(sims, k), ranking._top_k(sims, k)):  # torch's, if loaded
            for r in range(rows):
                expected = np.argsort(-sims[r], kind="stable")[:k]  # highest first, lowest column among equals
                assert sorted(cols[r].tolist()) == sorted(expected.tolist())
                assert np.array_equal(np.sort(values[r]), np.sort(sims[r, expected]))


def _doc_pairs_one_by_one(sem_pairs, lex_pairs, doc_of_row, min_pairs):
    """`doc_pairs` as it was written first, sentence pair by sentence pair."""
    per_doc = {}
    for channel, pairs in (("sem", sem_pairs), ("lex", lex_pairs)):
        for (i, j), m in pairs.items():
            da, db = int(doc_of_row[i]), int(doc_of_row[j])
            rec = per_doc.setdefault((min(da, db), max(da, db)), {"all": set(), "sem": 0, "lex": 0, "best": 0.0})
            rec["all"].add((i, j))
            rec[channel] += 1
            rec["best"] = max(rec["best"], m)
    return [(a, b, len(r["all"]), r["sem"], r["lex"], round(r["best"], 4)) for (a, b), r in sorted(per_doc.items())
            if len(r["all"]) >= min_pairs]


def test_doc_pairs_counts_each_sentence_pair_once_across_channels():
    """Document pairs from the mined sentence pairs of both channels, array-wide: the same pairs,
    counts, best margins and order as pair by pair, on random mined pairs that the channels share
    in part (a sentence pair both mined counts once), margins of 0 and -0.0 included."""
    from provenance.match import doc_pairs

    rng = np.random.default_rng(11)
    for trial in range(40):
        n_docs = int(rng.integers(1, 9))
        doc_of_row = np.sort(rng.integers(0, n_docs, int(rng.integers(2, 60))))
        n = len(doc_of_row)
        rows = [(int(i), int(j)) for i, j in rng.integers(0, n, (int(rng.integers(0, 80)), 2)) if i < j]
        values = [0.0, -0.0, 0.5, 1.25, 3.0, 1.0000001]
        sem = {ij: float(rng.choice(values)) for ij in rows if rng.random() < 0.6}
        lex = {ij: float(rng.choice(values)) for ij in rows if rng.random() < 0.6}
        settings = MatchSettings(min_sentence_pairs=int(rng.integers(1, 4)))
        got = [(p.a, p.b, p.sentence_pairs, p.semantic_pairs, p.lexical_pairs, p.best_margin)
               for p in doc_pairs(sem, lex, doc_of_row, settings)]
        want = _doc_pairs_one_by_one(sem, lex, doc_of_row, settings.min_sentence_pairs)
        assert got == want, trial
        assert all(repr(g[5]) == repr(w[5]) for g, w in zip(got, want, strict=True))  # no -0.0
        assert all(type(x) is int for g in got for x in g[:5])
