"""One very long document (megabytes, tens of thousands of sentences, possibly on one line): every
stage's cost must grow linearly with its length. No timings here: the tests check what bounds the
cost (how much each call is given or asked for) and that the linear code gives the answers of the
quadratic code it replaced. `benchmarks/big_doc.py` measures time and memory."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse

from provenance import align as align_mod
from provenance import knn, lexical, match, mentions
from provenance import segment as segment_mod
from provenance.align import AlignSettings, Channel, align, align_anchored, anchor_chain, anchor_regions
from provenance.clean import clean
from provenance.index import VectorIndex
from provenance.load import Document
from provenance.segment import MAX_PARAGRAPH_CHARS, segment, split_sentences
from tests.conftest import SEEDS, FakeEmbedder
from tests.test_align import _reference_dp

# --- the quadratic originals, kept as references ----------------------------------------------


def _old_quote_open_at(para: str, pos: int) -> bool:
    before, after = para[:pos], para[pos:]
    curly_open = sum(before.count(q) for q in "“«„") - sum(before.count(q) for q in "”»")
    if curly_open > 0 and any(q in after for q in "”»"):
        return True
    straight_before = before.count('"')
    return straight_before % 2 == 1 and '"' in after and after.count('"') % 2 == 1


def _old_split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    end = len(text) if end is None else end
    para = text[start:end]
    spans = []
    cur = 0
    for m in segment_mod._BOUNDARY.finditer(para):
        cut = m.start()
        close = re.match(r"(?:[\"'’\)\]]|[\u00a0\u202f ]*[”»])*", para[cut:])
        sent_end = cut + len(close.group(0)) if close else cut
        tok = segment_mod._previous_token(para, cut)
        if tok in segment_mod._ABBREVIATIONS or re.fullmatch(r"[a-z]", tok) or re.fullmatch(r"(\w\.)+\w", tok):
            continue
        if _old_quote_open_at(para, cut):
            continue
        piece = para[cur:sent_end]
        if piece.strip():
            spans.append((cur, sent_end))
        cur = m.end()
    if para[cur:].strip():
        spans.append((cur, len(para)))
    out = []
    for a, b in spans:
        seg = para[a:b]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg) - len(seg.rstrip())
        out.append((start + a + lead, start + b - trail))
    return out


def _old_quote_spans(text: str) -> list[tuple[int, int]]:
    pairs = {"“": "”", "«": "»", "„": "“", '"': '"'}
    spans: list[tuple[int, int]] = []
    for line_m in re.finditer(r"[^\n]+", text):
        line, base = line_m.group(0), line_m.start()
        open_at, closer = None, ""
        for i, ch in enumerate(line):
            if open_at is None:
                if ch in pairs and ch != "”":
                    if ch == '"':
                        prev = line[:i].rstrip(" \u00a0\u202f")
                        if prev and prev[-1] in ",.;:!?…":
                            if not spans or spans[-1][1] <= base:
                                lead = len(line) - len(line.lstrip())
                                spans.append((base + lead, base + i + 1))
                            continue
                    open_at, closer = i, pairs[ch]
            elif ch == closer or (closer == '"' and ch == "”"):
                spans.append((base + open_at, base + i + 1))
                open_at = None
    return spans


def _old_names_before(text: str, pos: int) -> str:
    return text[:pos].rstrip(" \u00a0\"“«‘'(")[-1:]


# pieces that exercise the boundary, abbreviation and quotation rules
_PIECES = ["Mr.", "U.S.", "J.", "e.g.", "Word", "word", "Élan", "42", " ", "  ", "\n", "\u00a0", ".", "!", "?", "…",
           ". ", "? ", '"', "“", "”", "«", "»", "„", "'", "’", "(", ")", "[", "]", ",", " said", " «\u00a0", "\u00a0»"]
texts = st.lists(st.sampled_from(_PIECES), max_size=60).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, st.integers(0, 10), st.integers(0, 10))
def test_split_sentences_gives_the_answers_of_the_quadratic_original(text, cut_a, cut_b):
    assert split_sentences(text) == _old_split_sentences(text)
    start, end = min(cut_a, len(text)), max(len(text) - cut_b, 0)
    if start <= end:
        assert split_sentences(text, start, end) == _old_split_sentences(text, start, end)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_quote_spans_and_the_name_lookbehind_give_the_original_answers(text):
    assert lexical.quote_spans(text) == _old_quote_spans(text)
    for pos in range(len(text) + 1):
        assert lexical._last_char_before(text, pos, mentions._OPENERS) == _old_names_before(text, pos)


def test_quote_state_reads_each_character_once(monkeypatch):
    text = ("He said “it is over. We go home.” Then he left. " * 2000) + '"Unclosed. Still. Open.'
    read = []
    original = segment_mod._QuoteState.open_at

    def counting(self, pos):
        read.append(pos - self.pos)
        return original(self, pos)

    monkeypatch.setattr(segment_mod._QuoteState, "open_at", counting)
    spans = split_sentences(text)
    assert len(spans) == 2003 and sum(read) <= len(text)  # one pass, not one per boundary


# --- segmentation of a long one-line text -----------------------------------------------------


def _seed_sentences() -> list[str]:
    out = []
    for p in sorted(SEEDS.glob("*.txt")):
        for line in p.read_text("utf-8").splitlines():
            out += [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", line.strip()) if len(s.split()) >= 6]
    return list(dict.fromkeys(out))


def _long_text(chars: int, sep: str = " ", seed: int = 0) -> str:
    """Sentences mixed from halves of the seed articles' sentences (quote marks dropped, so every
    boundary counts), joined by `sep`, to `chars` characters."""
    rng = random.Random(seed)
    pool = [re.sub("[\"“”«»]", "", s) for s in _seed_sentences()]
    out, n = [], 0
    while n < chars:
        a, b = rng.sample(pool, 2)
        wa, wb = a.split(), b.split()
        out.append(" ".join(wa[:len(wa) // 2] + wb[len(wb) // 2:]))
        n += len(out[-1]) + len(sep)
    return sep.join(out)


def _check_segmentation(text: str, seg) -> None:
    prev_end = 0
    for s in seg.sentences:
        p = seg.paragraphs[s.paragraph]
        assert p.start <= s.start < s.end <= p.end
        assert s.start >= prev_end and not text[s.start].isspace() and not text[s.end - 1].isspace()
        prev_end = s.end
    assert all(p.end - p.start <= MAX_PARAGRAPH_CHARS for p in seg.paragraphs)
    assert all(not text[q.end:p.start].strip() for q, p in zip(seg.paragraphs, seg.paragraphs[1:], strict=False))
    # no character of the story is lost
    assert re.sub(r"\s", "", text) == re.sub(r"\s", "", "".join(text[s.start:s.end] for s in seg.sentences))


def test_a_one_line_megabyte_is_segmented_in_bounded_paragraphs():
    text = _long_text(1_000_000)
    assert "\n" not in text
    seg = segment(clean(Document("long", "long.txt", text)))
    _check_segmentation(text, seg)
    assert len(seg.paragraphs) >= len(text) // MAX_PARAGRAPH_CHARS
    assert seg.paragraphs[0].role == "title" and {p.role for p in seg.paragraphs[1:]} == {"body"}
    # cut between sentences: the sentences are those of the whole line
    assert [(s.start, s.end) for s in seg.sentences] == split_sentences(text)


def test_text_without_any_boundary_is_cut_at_spaces_then_anywhere():
    words = " ".join(["lowercase words without an end"] * 1000)  # 31k chars, no sentence boundary
    seg = segment(clean(Document("w", "w.txt", words)))
    _check_segmentation(words, seg)
    assert all(words[s.end] == " " for s in seg.sentences[:-1])  # cut between words
    blob = "x" * 9000
    assert segment_mod.bounded_paragraphs(blob, 0, len(blob)) == [
        ((0, 4000), [(0, 4000)]), ((4000, 8000), [(4000, 8000)]), ((8000, 9000), [(8000, 9000)])]



def test_a_quotation_left_open_in_a_one_line_page_does_not_merge_the_rest():
    # news style leaves a quoted paragraph's quotation open when the next paragraph goes on quoting;
    # on one line, the quotation rule would then keep every boundary up to the last closing quote
    plain = _long_text(40_000, seed=3)
    quoted = "“We stay. " + plain + " The end,” he said."
    seg = segment(clean(Document("q", "q.txt", quoted)))
    _check_segmentation(quoted, seg)
    n_plain = len(segment(clean(Document("p", "p.txt", plain))).sentences)
    assert len(seg.sentences) >= 0.9 * n_plain
    assert max(s.end - s.start for s in seg.sentences) <= MAX_PARAGRAPH_CHARS


def test_ordinary_blocks_are_segmented_as_before():
    text = (SEEDS / "000_dd2761f3083befb7.txt").read_text("utf-8")
    cd = clean(Document("s", "s.txt", text))
    seg = segment(cd)
    assert [(p.start, p.end, p.role) for p in seg.paragraphs] == [(b.start, b.end, b.role) for b in cd.kept]
    assert [(s.start, s.end) for s in seg.sentences] == \
        [span for b in cd.kept for span in _old_split_sentences(text, b.start, b.end)]


# --- neighbour searches -----------------------------------------------------------------------


def _unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _brute_force(x, groups, k):
    sims = x.astype(np.float64) @ x.T.astype(np.float64)
    out = []
    for i in range(len(x)):
        other = np.flatnonzero(groups != groups[i])
        out.append(sorted(other.tolist(), key=lambda j: (-sims[i, j], j))[:k])
    return out


@pytest.mark.parametrize("shuffle", [False, True])
def test_neighbours_asked_per_query_do_not_grow_with_a_document(monkeypatch, shuffle):
    asked = []
    original = VectorIndex.search

    def recording(self, queries, k, rows=None):
        asked.append((len(queries), k))
        return original(self, queries, k, rows)

    monkeypatch.setattr(VectorIndex, "search", recording)
    rng = np.random.default_rng(1)
    for big in (200, 2000):
        asked.clear()
        sizes = [big, 7, 12, 3, 9]
        groups = np.repeat(np.arange(len(sizes)), sizes)
        if shuffle:
            groups = rng.permutation(groups)
        x = _unit(rng.normal(size=(len(groups), 16)))
        scores, rows = knn.knn_other_groups(x, groups, 5, max_group=50, batch=300)
        assert max(k for _, k in asked) <= 5 + 50 and max(q for q, _ in asked) <= 300
        want = _brute_force(x, groups, 5)
        assert [r[r >= 0].tolist() for r in rows] == want
        assert np.allclose(scores, [[float(x[i] @ x[j]) for j in w] for i, w in enumerate(want)], atol=1e-5)


def test_the_default_search_of_ordinary_documents_is_the_old_one(monkeypatch):
    # every group within GROUP_SEARCH_MAX: one search per batch, k + the largest group wide
    asked = []
    original = VectorIndex.search
    monkeypatch.setattr(VectorIndex, "search", lambda self, q, k, rows=None: (asked.append((k, rows)),
                                                                              original(self, q, k, rows))[1])
    rng = np.random.default_rng(2)
    groups = np.repeat(np.arange(6), [30, 12, 40, 8, 25, 31])
    x = _unit(rng.normal(size=(len(groups), 8)))
    knn.knn_other_groups(x, groups, 16)
    assert asked == [(16 + 40, None)]


def test_sparse_search_multiplies_a_long_document_with_the_others_only(monkeypatch):
    shapes = []
    original = knn._sorted_top

    def recording(sims, k, cols=None):
        shapes.append(sims.shape)
        return original(sims, k, cols)

    monkeypatch.setattr(knn, "_sorted_top", recording)
    monkeypatch.setattr(knn, "BLOCK_CELLS", 4000)
    rng = np.random.default_rng(4)
    n_big, sizes = 400, [400, 6, 9, 5]
    groups = np.repeat(np.arange(len(sizes)), sizes)
    n = len(groups)
    x = np.zeros((n, 300), np.float32)
    x[:, :5] = rng.random((n, 5))  # common columns (dense part)
    x[:, 5:] = (rng.random((n, 295)) < 0.05) * rng.random((n, 295))
    x = _unit(x + 1e-3)
    labels = np.where(np.arange(n) % 3 == 0, "fr", "en")
    (s1, r1), (s2, r2) = knn.knn_other_groups_sparse_multi(sparse.csr_matrix(x), groups, 4, [None, labels],
                                                             max_group=50)
    big_blocks = [shape for shape in shapes if shape[1] == n - n_big]
    assert sum(rows for rows, _ in big_blocks) >= n_big  # the long document's rows: others' columns only
    assert all(rows * cols <= 4000 for rows, cols in shapes if cols == n)  # other blocks bounded
    assert [r[r >= 0].tolist() for r in r1] == _brute_force(x, groups, 4)
    sims = x.astype(np.float64) @ x.T
    for i in range(n):
        other = [j for j in range(n) if groups[j] != groups[i] and labels[j] != labels[i]]
        assert r2[i][r2[i] >= 0].tolist() == sorted(other, key=lambda j: (-sims[i, j], j))[:4]


def test_extending_known_lists_searches_the_new_rows_boundedly(monkeypatch):
    asked = []
    original = VectorIndex.search
    monkeypatch.setattr(VectorIndex, "search", lambda self, q, k, rows=None: (asked.append(k),
                                                                              original(self, q, k, rows))[1])
    rng = np.random.default_rng(6)
    groups = np.repeat(np.arange(4), [600, 10, 8, 12])
    x = _unit(rng.normal(size=(len(groups), 12)))
    old = np.flatnonzero(groups > 0)
    s_old, r_old = knn.knn_other_groups(x[old], groups[old], 4)
    r_old = np.where(r_old >= 0, old[np.maximum(r_old, 0)], -1)
    asked.clear()
    added = np.flatnonzero(groups == 0)  # a long new article beside three known ones
    s, r = knn.knn_other_groups_extend(x, groups, 4, old, s_old, r_old, added)
    assert asked and max(asked) == 4  # the long article's rows: against the other rows only
    s_full, r_full = knn.knn_other_groups(x, groups, 4)
    assert (r == r_full).all() and np.allclose(s, s_full, atol=1e-5)


# --- alignment ---------------------------------------------------------------------------------


def test_the_dp_skips_source_rows_without_gain_and_takes_the_same_steps():
    rng = np.random.default_rng(8)
    for _ in range(40):
        m, n = int(rng.integers(20, 120)), int(rng.integers(1, 8))
        s11 = rng.uniform(-0.2, 0.3, size=(m, n))
        hot = rng.random(m) < 0.1
        s11[hot] = rng.uniform(0.2, 1.0, size=(int(hot.sum()), n))
        s21 = np.maximum(s11[:-1], s11[1:]) + rng.uniform(-0.1, 0.1, size=(m - 1, n))
        s12 = np.maximum(s11[:, :-1], s11[:, 1:]) + rng.uniform(-0.1, 0.1, size=(m, max(n - 1, 0)))
        sj, tj = rng.random(m - 1) > 0.2, rng.random(max(n - 1, 0)) > 0.2
        got = align_mod._monotone_dp(s11, s21, s12, sj, tj, 0.4, 0.03)
        assert (got == _reference_dp(s11, s21, s12, sj, tj, 0.4, 0.03)).all()


def test_pair_tfidf_in_chunks_equals_it_whole(monkeypatch):
    a = _long_text(6000, seed=1).split(". ")
    b = _long_text(3000, seed=2).split(". ")
    counts = lexical.char_ngram_counts(a + b)
    na, nb = lexical.doc_ngrams(counts[:len(a)]), lexical.doc_ngrams(counts[len(a):])
    monkeypatch.setattr(lexical, "PAIR_DENSE_MAX", 0)  # long documents are weighted sparse
    whole = lexical.pair_tfidf(na, nb)
    monkeypatch.setattr(lexical, "PAIR_CHUNK_ROWS", 3)
    chunked = lexical.pair_tfidf(na, nb)
    assert np.allclose(chunked.a.toarray(), whole.a.toarray()) and np.allclose(chunked.b.toarray(), whole.b.toarray())
    assert np.allclose(chunked.a_pair_norms, whole.a_pair_norms) and len(whole.a_pair_norms) == len(a) - 1
    assert np.allclose(chunked.b_pair_norms, whole.b_pair_norms)


def test_detail_rows_are_normalised_and_sparse_for_long_documents(monkeypatch):
    from provenance import features
    from provenance.features import pair_detail_vectors

    a = [["n:kzm", "5200"], [], ["n:kzm"]]
    b = [["5200", "n:trmp"], ["n:kzm", "n:kzm"]]
    dense = pair_detail_vectors(a, b)  # an article pair: arrays, as the alignment reads them
    monkeypatch.setattr(features, "DENSE_CELLS", 14)  # 5 rows x 3 keys no longer fit: sparse
    long = pair_detail_vectors(a, b)
    assert not sparse.issparse(dense[0]) and sparse.issparse(long[0]) and sparse.issparse(long[1])
    for da, db in (dense, (long[0].toarray(), long[1].toarray())):
        assert da.shape == (3, 3) and db.shape == (2, 3)
        assert np.allclose(np.linalg.norm(np.vstack([da, db]), axis=1), [1, 0, 1, 1, 1])
        assert (da @ db.T)[2, 1] == pytest.approx(1.0)  # the same single key
    assert np.allclose(dense[0], long[0].toarray()) and np.allclose(dense[1], long[1].toarray())


def test_anchor_chain_and_regions():
    anchors = np.array([[0, 0], [1, 5], [2, 1], [3, 2], [3, 3], [9, 4], [5, 4]])
    chain = anchor_chain(anchors)
    assert len(chain) == 4 and (np.diff(chain, axis=0) > 0).all()  # e.g. (0, 0) (2, 1) (3, 2) (5, 4)
    assert {tuple(a) for a in chain} <= {tuple(a) for a in anchors}
    regions = anchor_regions(np.array([[i, i] for i in range(0, 100, 10)]), 100, 100, max_cells=400)
    assert all((i1 - i0) * (j1 - j0) <= 400 for i0, i1, j0, j1 in regions)
    assert regions[0][:1] == (0,) and regions[-1][1] == 100  # the whole diagonal
    assert all(r[1] == s[0] and r[3] == s[2] for r, s in zip(regions, regions[1:], strict=False))
    # far apart anchors: the stretch between them is left out, not aligned in one piece
    assert anchor_regions(np.array([[0, 0], [90, 90]]), 100, 100, max_cells=400) == [
        (0, 1, 0, 1), (90, 91, 90, 91), (91, 100, 91, 100)]


def test_a_long_pair_is_aligned_around_anchors_in_bounded_pieces(monkeypatch):
    sizes = []
    original = align_mod.similarity_matrices

    def recording(channels):
        sizes.append(channels[0].src.shape[0] * channels[0].tgt.shape[0])
        return original(channels)

    monkeypatch.setattr(align_mod, "similarity_matrices", recording)
    rng = np.random.default_rng(9)
    src = _unit(rng.normal(size=(600, 32)))
    # the target: the source with a sentence dropped every 50 and a new one every 40
    keep = [i for i in range(600) if i % 50 != 7]
    tgt_rows, truth = [], {}
    for k, i in enumerate(keep):
        if k % 40 == 5:
            tgt_rows.append(_unit(rng.normal(size=(1, 32)))[0])
        truth[i] = len(tgt_rows)
        tgt_rows.append(src[i])
    tgt = np.array(tgt_rows)
    anchors = np.array([[i, j] for i, j in truth.items() if i % 9 == 0])  # a few known pairs
    blocks = align_anchored([Channel("sem", src, tgt, 1.0)], anchors, max_cells=2500)
    assert max(sizes) <= 2500 and sum(sizes) < 600 * len(tgt) / 10
    found = {b.src[0]: b.tgt[0] for b in blocks if len(b.src) == 1 and len(b.tgt) == 1}
    assert sum(found.get(i) == j for i, j in truth.items()) >= 0.95 * len(truth)
    # a short pair is aligned in full, as before
    assert align([Channel("sem", src[:40], tgt[:40], 1.0)], AlignSettings()) == \
        align_anchored([Channel("sem", src[:40], tgt[:40], 1.0)], np.zeros((0, 2)), max_cells=1600)


# --- the whole scan ------------------------------------------------------------------------------


def test_scan_of_a_long_document_beside_short_ones_is_bounded(monkeypatch, tmp_path):
    """A long article made of the seed articles' sentences (each 20 times, mixed with new
    sentences) beside the seeds: found to share text with them, with every neighbour search
    bounded and every alignment of bounded size."""
    from provenance import pairs, scan

    asked, cells = [], []
    original_search = VectorIndex.search
    monkeypatch.setattr(VectorIndex, "search", lambda self, q, k, rows=None: (asked.append(k),
                                                                              original_search(self, q, k, rows))[1])
    original_sim = align_mod.similarity_matrices
    monkeypatch.setattr(align_mod, "similarity_matrices",
                        lambda ch: (cells.append(ch[0].src.shape[0] * ch[0].tgt.shape[0]), original_sim(ch))[1])
    monkeypatch.setattr(knn, "GROUP_SEARCH_MAX", 64)
    monkeypatch.setattr(pairs, "ALIGN_MAX_CELLS", 20_000)
    seeds = _seed_sentences()
    long_text = _long_text(60_000, sep=" ", seed=5) + " " + " ".join(seeds)
    (tmp_path / "long.txt").write_text(long_text, "utf-8")
    # not byte-identical: identical texts are replicas, analysed once and never aligned
    (tmp_path / "copy-of-long.txt").write_text(long_text + "\n\nSign up for our newsletter", "utf-8")
    result = scan([tmp_path, SEEDS], embedder=FakeEmbedder(), workers=1)
    ids = [p.doc.id for p in result.prepared]
    n_long = len(result.prepared[ids.index("long")].seg.sentences)
    assert n_long > 400
    assert max(asked) <= match.MatchSettings().k * match.MatchSettings().search_depth + 64
    assert max(cells) <= max(20_000, align_mod.REGION_MAX_CELLS)
    copy = next(v for v in result.verdicts if ids[v.doc] in ("long", "copy-of-long") and v.derived_from is not None)
    assert ids[copy.derived_from] in ("long", "copy-of-long") and copy.relation == "copy"
    assert any("too long to align in full" in w for w in result.warnings)
    found = [a for a in result.alignments if a.retrieval.sentence_pairs > 0]  # by retrieval, not as roots
    linked = {ids[a.a] for a in found} | {ids[a.b] for a in found}
    assert any(i.startswith("00") for i in linked)  # the seeds inside the long text were found
