"""Alignment core on hand-built vectors (no model)."""

import numpy as np
import pytest

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
