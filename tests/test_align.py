"""Alignment core on hand-built vectors (no model)."""

import numpy as np
import pytest
from scipy import sparse

from provenance.align import AlignSettings, Channel, align, similarity_matrices
from provenance.errors import ConfigError

# Five orthogonal "meanings" in 5-d space; each row below is one sentence.
E = np.eye(5, dtype=np.float32)


def ch(src, tgt, w=1.0):
    return [Channel("test", np.asarray(src, np.float32), np.asarray(tgt, np.float32), w)]


def pairs(blocks):
    return [(b.src, b.tgt) for b in blocks]


def test_identical_sequences_align_one_to_one():
    blocks = align(ch(E[:4], E[:4]))
    assert pairs(blocks) == [((0,), (0,)), ((1,), (1,)), ((2,), (2,)), ((3,), (3,))]
    assert all(b.score == pytest.approx(1.0) for b in blocks)


def test_dropped_and_added_sentences_are_skipped():
    src = E[[0, 1, 2, 3]]          # target lacks meaning 2 and adds meaning 4
    tgt = E[[0, 1, 4, 3]]
    blocks = align(ch(src, tgt))
    assert pairs(blocks) == [((0,), (0,)), ((1,), (1,)), ((3,), (3,))]


def test_two_source_sentences_merged_into_one_target_sentence():
    merged = (E[1] + E[2]) / np.sqrt(2)   # target sentence says what source sentences 1 and 2 said
    blocks = align(ch(E[[0, 1, 2, 3]], np.vstack([E[0], merged, E[3]])))
    assert pairs(blocks) == [((0,), (0,)), ((1, 2), (1,)), ((3,), (2,))]
    assert blocks[1].score == pytest.approx(1.0, abs=1e-5)


def test_one_source_sentence_split_into_two_target_sentences():
    merged = (E[1] + E[2]) / np.sqrt(2)
    blocks = align(ch(np.vstack([E[0], merged, E[3]]), E[[0, 1, 2, 3]]))
    assert pairs(blocks) == [((0,), (0,)), ((1,), (1, 2)), ((2,), (3,))]


def test_merge_forbidden_where_not_joinable():
    merged = (E[1] + E[2]) / np.sqrt(2)
    blocks = align(ch(E[[0, 1, 2, 3]], np.vstack([E[0], merged, E[3]])),
                   src_joinable=np.array([True, False, True]))
    # without the merge, the target sentence takes the first of the two (cos 0.707) in order
    assert ((1, 2), (1,)) not in pairs(blocks)
    assert ((1,), (1,)) in pairs(blocks)


def test_moved_passage_found_by_second_pass():
    # target moves source sentence 0 to the end
    blocks = align(ch(E[[0, 1, 2, 3]], E[[1, 2, 3, 0]]))
    found = {(b.src, b.tgt): b for b in blocks}
    assert ((0,), (3,)) in found and found[((0,), (3,))].moved
    assert not found[((1,), (0,))].moved


def test_second_pass_can_reuse_a_source_sentence():
    # a rewrite spreads source sentence 1 over two separate target sentences
    blocks = align(ch(E[[0, 1, 2]], E[[1, 2, 1]]))
    reused = [b for b in blocks if b.reused]
    assert len(reused) == 1 and reused[0].src == (1,)


def test_nothing_aligns_below_threshold():
    assert align(ch(E[[0, 1]], E[[2, 3]])) == []


def test_channels_are_weighted():
    # channel A says the pair matches, channel B says it does not
    a = Channel("a", E[[0]], E[[0]], 0.75)
    b = Channel("b", E[[1]], E[[2]], 0.25)
    s11, _, _ = similarity_matrices([a, b])
    assert s11[0, 0] == pytest.approx(0.75)


def test_invalid_settings_and_shapes_are_refused():
    with pytest.raises(ConfigError, match="threshold"):
        AlignSettings(threshold=2)
    with pytest.raises(ConfigError, match="expected 2 source"):
        similarity_matrices([Channel("a", E[:2], E[:2], 1), Channel("b", E[:3], E[:2], 1)])


def _reference_dp(s11, s21, s12, sj, tj, tau, pen):
    """The monotone recurrence cell by cell, as written in the module docstring."""
    m, n = s11.shape
    dp = np.zeros((m + 1, n + 1))
    back = np.zeros((m + 1, n + 1), dtype=np.int8)
    back[1:, 0] = 1
    back[0, 1:] = 2
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            best, move = dp[i - 1, j], 1
            if dp[i, j - 1] > best:
                best, move = dp[i, j - 1], 2
            g = s11[i - 1, j - 1] - tau
            if g > 0 and dp[i - 1, j - 1] + g > best:
                best, move = dp[i - 1, j - 1] + g, 3
            if i >= 2 and sj[i - 2] and s21[i - 2, j - 1] > max(s11[i - 2, j - 1], s11[i - 1, j - 1]) + pen:
                g = 1.5 * (s21[i - 2, j - 1] - tau) - pen
                if g > 0 and dp[i - 2, j - 1] + g > best:
                    best, move = dp[i - 2, j - 1] + g, 4
            if j >= 2 and tj[j - 2] and s12[i - 1, j - 2] > max(s11[i - 1, j - 2], s11[i - 1, j - 1]) + pen:
                g = 1.5 * (s12[i - 1, j - 2] - tau) - pen
                if g > 0 and dp[i - 1, j - 2] + g > best:
                    best, move = dp[i - 1, j - 2] + g, 5
            dp[i, j], back[i, j] = best, move
    return back


def test_fast_dp_takes_the_same_steps_as_the_cell_by_cell_recurrence():
    from provenance.align import _monotone_dp

    rng = np.random.default_rng(7)
    for _ in range(200):
        m, n = (int(x) for x in rng.integers(1, 14, 2))
        x, y = rng.normal(size=(m, 6)), rng.normal(size=(n, 6))
        chans = [Channel("c", x / np.linalg.norm(x, axis=1, keepdims=True),
                         y / np.linalg.norm(y, axis=1, keepdims=True), 1.0)]
        s11, s21, s12 = similarity_matrices(chans)
        sj, tj = rng.random(max(m - 1, 0)) > 0.2, rng.random(max(n - 1, 0)) > 0.2
        tau, pen = float(rng.uniform(-0.3, 0.4)), 0.03
        assert (_monotone_dp(s11, s21, s12, sj, tj, tau, pen) == _reference_dp(s11, s21, s12, sj, tj, tau, pen)).all()
    # as between real articles: few cells that can gain (the DP jumps over the others), and
    # similarities on a coarse grid, so that scores tie across the stretches it jumps
    for _ in range(300):
        m, n = (int(x) for x in rng.integers(1, 30, 2))
        s11 = np.round(rng.random((m, n)) ** 6, 1)
        s21 = np.round(rng.random((max(m - 1, 0), n)) ** 6, 1)
        s12 = np.round(rng.random((m, max(n - 1, 0))) ** 6, 1)
        sj, tj = rng.random(max(m - 1, 0)) > 0.2, rng.random(max(n - 1, 0)) > 0.2
        tau, pen = float(rng.choice([0.0, 0.2, 0.4, 0.55])), float(rng.choice([0.0, 0.03]))
        assert (_monotone_dp(s11, s21, s12, sj, tj, tau, pen) == _reference_dp(s11, s21, s12, sj, tj, tau, pen)).all()


@pytest.mark.parametrize("dense_max", [0, 10**6])
def test_pair_tfidf_equals_sparse_tfidf_over_the_pair(monkeypatch, dense_max):
    """The shared-column rows give the same cosines, 1-1 and merged, as TF-IDF over all columns,
    whether a document is weighted as a sparse matrix (long ones) or a dense array (short ones)."""
    from provenance import lexical
    from provenance.align import pair_norms, similarity_matrices
    from provenance.lexical import char_ngram_counts, doc_ngrams, pair_tfidf, scope_idf, tfidf_rows

    monkeypatch.setattr(lexical, "PAIR_DENSE_MAX", dense_max)

    a = ["The United States will reduce its troops in Iraq.", "Talks were held by video link.",
         "Nothing in common here: zzz qqq.", "The talks went on into the night."]
    b = ["Washington will cut the number of soldiers in Iraq.", "The talks, held by video, went on.",
         "Xylophone jukebox quiz."]
    counts = char_ngram_counts(a + b)
    want = tfidf_rows(counts, scope_idf(counts, np.arange(len(a) + len(b)))).toarray().astype(np.float64)
    wa, wb = want[:len(a)], want[len(a):]
    got = pair_tfidf(doc_ngrams(counts[:len(a)]), doc_ngrams(counts[len(a):]))
    assert got.a.shape[1] == got.b.shape[1] < len(np.unique(counts.indices))  # shared columns only
    assert sparse.issparse(got.a) == (dense_max == 0)
    prod = got.a @ got.b.T
    assert np.allclose(prod.toarray() if sparse.issparse(prod) else prod, wa @ wb.T, atol=1e-6)
    assert np.allclose(got.a_pair_norms, pair_norms(wa), atol=1e-6)
    assert np.allclose(got.b_pair_norms, pair_norms(wb), atol=1e-6)
    full = similarity_matrices([Channel("lex", wa, wb, 1.0)])
    shared = similarity_matrices([Channel("lex", got.a, got.b, 1.0, got.a_pair_norms, got.b_pair_norms)])
    for x, y in zip(full, shared, strict=True):
        assert np.allclose(x, y, atol=1e-6)


def test_merged_similarities_are_cosines_of_the_merged_rows():
    from provenance.align import similarity_matrices

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(5, 8)), rng.normal(size=(4, 8))
    x[2] = 0  # an empty row merges as its neighbour alone

    def unit(v):
        n = np.linalg.norm(v, axis=1, keepdims=True)
        return np.divide(v, n, out=np.zeros_like(v), where=n > 0)

    x, y = unit(x), unit(y)
    s11, s21, s12 = similarity_matrices([Channel("c", x, y, 1.0)])
    assert np.allclose(s11, x @ y.T)
    assert np.allclose(s21, unit(x[:-1] + x[1:]) @ y.T)
    assert np.allclose(s12, x @ unit(y[:-1] + y[1:]).T)
