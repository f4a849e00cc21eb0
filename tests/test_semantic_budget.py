"""Over-long documents (more sentences than `max_semantic_sentences`, a tiny limit here so the tests
stay fast): only so many of their sentences get sentence vectors, the user is told so in one line
and in the report, the rest of the text is still matched by names, numbers and n-grams, and a
sentence without a vector is never taken for evidence either way."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

from provenance import scan
from provenance.align import AlignSettings, Channel, align, similarity_matrices
from provenance.report import build_report, validate_report
from provenance.semantic_budget import semantic_rows
from provenance.settings import ScanSettings
from tests.conftest import SEEDS, FakeEmbedder

INSIDE = [sorted(SEEDS.glob(f"{k}_*.txt"))[0] for k in ("000", "001", "003")]  # 27, 30 and 32 sentences
#: over the book's sentences, not over any seed article's
LIMIT = 32


def _filler(n: int, seed: int = 0) -> list[str]:
    """`n` distinct sentences of everyday words, sharing no name or number with the seeds."""
    rng = random.Random(seed)
    words = ("garden morning river window teacher quietly bread yellow bicycle market summer village "
             "kitchen letter mountain coffee evening music winter station library children").split()
    return [" ".join(rng.choice(words) for _ in range(9)).capitalize() + f" number{k}." for k in range(n)]


@pytest.fixture
def long_doc(tmp_path):
    return write_book(tmp_path)


def write_book(folder):
    """A book-length text (for a limit of 32 sentences): filler, and three whole seed articles (89
    sentences) between stretches of filler; beside the five seeds."""
    parts = [" ".join(_filler(60))]
    for k, p in enumerate(INSIDE):
        parts += [p.read_text("utf-8").strip(), " ".join(_filler(20 if k < 2 else 60, seed=k + 1))]
    text = "\n\n".join(parts) + "\n"
    path = folder / "book.txt"
    path.write_text(text, "utf-8")
    return path


def _settings(cap: int) -> ScanSettings:
    return replace(ScanSettings(), max_semantic_sentences=cap)


def test_rows_chosen_are_those_paired_lexically_then_spread_evenly():
    # document 0: 3 sentences (under the limit), document 1: 10 sentences (rows 3..12)
    lexical = {(0, 5): 1.2, (1, 9): 1.5, (2, 5): 1.1}  # rows 9 and 5 of document 1 paired with document 0
    mask = semantic_rows([3, 10], lexical, cap=4)
    assert mask[:3].all()  # a short document keeps every vector
    chosen = np.flatnonzero(mask[3:]) + 3
    assert len(chosen) == 4 and {5, 9} <= set(chosen.tolist())
    rest = sorted(set(chosen.tolist()) - {5, 9})
    assert rest[0] == 3 and rest[-1] == 12  # the filling spans the document, first to last
    # the limit holds even when more rows are paired: the best margins win
    assert np.flatnonzero(semantic_rows([3, 10], lexical, cap=1)[3:]).tolist() == [9 - 3]
    assert semantic_rows([3, 10], lexical, cap=10) is None  # nothing over the limit
    assert semantic_rows([3, 10], lexical, cap=0) is None  # 0: no limit


def test_a_row_without_a_vector_weighs_neither_for_nor_against():
    rng = np.random.default_rng(3)
    lex = rng.normal(size=(4, 8))
    lex /= np.linalg.norm(lex, axis=1, keepdims=True)
    sem = np.zeros((4, 6))  # no sentence has a vector...
    present = np.array([True, False, False, True])
    sem[present] = rng.normal(size=(2, 6))  # ...but the first and last
    sem[present] /= np.linalg.norm(sem[present], axis=1, keepdims=True)
    both = [Channel("semantic", sem, sem, 0.6, src_present=present, tgt_present=present),
            Channel("lexical", lex, lex, 0.3)]
    s11, s21, s12 = similarity_matrices(both)
    lex_only, lex21, _ = similarity_matrices([Channel("lexical", lex, lex, 0.3)])
    full, _, _ = similarity_matrices([Channel("semantic", sem, sem, 0.6), Channel("lexical", lex, lex, 0.3)])
    # a cell with a row missing its vector: the lexical channel alone (not 0.6 x cosine 0 + 0.3 x lexical)
    assert s11[1, 2] == pytest.approx(lex_only[1, 2]) and s11[0, 1] == pytest.approx(lex_only[0, 1])
    assert s11[1, 1] == pytest.approx(1.0) and full[1, 1] == pytest.approx(1 / 3)
    assert s11[0, 3] == pytest.approx(full[0, 3])  # both present: as before
    assert s21[0, 1] == pytest.approx(lex21[0, 1])  # a merge with a missing row: lexical alone
    # an identical text whose middle sentences have no vector is still aligned one to one
    blocks = align(both, AlignSettings())
    assert [(b.src, b.tgt) for b in blocks] == [((i,), (i,)) for i in range(4)]


def test_a_long_document_is_scanned_with_a_bounded_encode_and_says_so(long_doc):
    embedder = FakeEmbedder()
    result = scan([long_doc, SEEDS], embedder=embedder, settings=_settings(LIMIT), workers=1)
    ids = [p.doc.id for p in result.prepared]
    book = ids.index("book")
    n_book = len(result.prepared[book].seg.sentences)
    seeds_sentences = sum(len(p.seg.sentences) for i, p in enumerate(result.prepared) if i != book)
    assert n_book > 240
    assert embedder.encoded <= LIMIT + seeds_sentences  # the book: 32 sentences, not all of them
    warning = [w for w in result.warnings if "--max-semantic-sentences" in w]
    assert len(warning) == 1 and str(long_doc) in warning[0] and f"{n_book} sentences" in warning[0]
    assert "\n" not in warning[0]
    report = build_report(result)
    validate_report(report)
    docs = {d["id"]: d for d in report["documents"]}
    mark = docs["book"]["semantic_sentences"]
    assert mark["encoded"] == LIMIT and mark["sentences"] == n_book and mark["limit"] == LIMIT
    spans = result.prepared[book].sentence_spans
    inside = [r for r, (a, b) in enumerate(spans) if any(x <= a and b <= y for x, y in mark["spans"])]
    assert len(inside) == LIMIT and inside == sorted(result.semantic_sentences[book])
    assert not any("semantic_sentences" in d for i, d in docs.items() if i != "book")
    assert report["tool"]["settings"]["max_semantic_sentences"] == LIMIT
    # the seed articles inside the book are still found, sentence by sentence, though the book's
    # copies of 57 of their 89 sentences have no vector
    for path in INSIDE:
        seed = ids.index(path.stem)
        pair = next(a for a in result.alignments if {a.a, a.b} == {seed, book})
        seed_rows = {r for blk in pair.blocks for r in (blk.src if pair.a == seed else blk.tgt)}
        assert len(seed_rows) >= 0.9 * len(result.prepared[seed].seg.sentences), path.name


def test_vectors_outside_the_mask_are_never_read(long_doc):
    from provenance.load import load_paths
    from provenance.pipeline import analyse
    from provenance.preparation import prepare

    loaded = load_paths([long_doc, SEEDS])
    prepared, _ = prepare(loaded.documents)
    texts = [t for p in prepared for t in p.sentence_texts]
    sizes = [len(p.seg.sentences) for p in prepared]
    vecs = FakeEmbedder().encode(texts)
    mask = np.ones(len(texts), bool)
    ids = [p.doc.id for p in prepared]
    book = ids.index("book")
    start = sum(sizes[:book])
    mask[start + 10:start + sizes[book]] = False  # the seeds' copies in the book: none has a vector
    settings = _settings(10)
    zeros, noise = vecs.copy(), vecs.copy()
    zeros[~mask] = 0.0
    noise[~mask] = np.nan  # anything reading these rows would spread NaN
    result = analyse(prepared, zeros, "fake", None, settings, encoded=mask, workers=1)
    a = build_report(result)
    assert a == build_report(analyse(prepared, noise, "fake", None, settings, encoded=mask, workers=1))
    assert [d["semantic_sentences"]["encoded"] for d in a["documents"] if "semantic_sentences" in d] == [10]
    for path in INSIDE:  # found by the other channels alone
        seed = ids.index(path.stem)
        pair = next(x for x in result.alignments if {x.a, x.b} == {seed, book})
        assert len(pair.blocks) >= 0.9 * sizes[seed]


def test_cached_results_follow_the_limit(long_doc, tmp_path):
    """Which sentences of the book get vectors depends on the other articles of the scan: a warm
    scan of other articles gives that scan's cold report, never alignments or neighbours cached
    under the first selection; and another limit gives that limit's report."""
    import shutil

    from provenance.cache import CachedEmbedder

    fewer = tmp_path / "fewer"
    fewer.mkdir()
    for p in INSIDE[:2]:
        shutil.copy(p, fewer / p.name)

    def run(paths, cap, cache):
        embedder = CachedEmbedder(FakeEmbedder(), tmp_path / "cache") if cache else FakeEmbedder()
        try:
            return build_report(scan([long_doc, *paths], embedder=embedder, settings=_settings(cap), workers=1))
        finally:
            if cache:
                embedder.close()

    first = run([SEEDS], LIMIT, True)
    assert run([SEEDS], LIMIT, True)["documents"] == first["documents"]
    warm, cold = run([fewer], LIMIT, True), run([fewer], LIMIT, False)
    assert warm["documents"] == cold["documents"]
    spans = [d["semantic_sentences"]["spans"] for r in (first, cold) for d in r["documents"] if d["id"] == "book"]
    assert spans[0] != spans[1]  # another selection indeed
    unlimited = run([SEEDS], 0, True)
    assert unlimited["documents"] == run([SEEDS], 0, False)["documents"]
    assert not any("semantic_sentences" in d for d in unlimited["documents"])


def test_cli_flag_and_warning(long_doc, tmp_path, monkeypatch):
    from provenance.cli import main

    monkeypatch.setattr("provenance.embed.load_model", lambda name=None, **kw: FakeEmbedder())
    out = tmp_path / "r.json"
    res = CliRunner().invoke(main, ["scan", str(long_doc), str(SEEDS), "--max-semantic-sentences", str(LIMIT), "-o",
                                    str(out), "--no-cache", "-q"])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.output.splitlines() if "--max-semantic-sentences" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: ") and "book.txt" in lines[0]
    report = json.loads(out.read_text("utf-8"))
    assert next(d for d in report["documents"] if d["id"] == "book")["semantic_sentences"]["encoded"] == LIMIT
    res = CliRunner().invoke(main, ["scan", str(long_doc), str(SEEDS), "--max-semantic-sentences", "-1"])
    assert res.exit_code == 2 and re.search(r"-1 is not in the range x>=0", res.output)
