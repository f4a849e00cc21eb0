"""Archives (`provenance index ...`) and the embedding cache."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from provenance import archive as arch
from provenance import index_add, index_info, index_remove, scan
from provenance.cache import CachedEmbedder
from provenance.cli import main
from provenance.errors import ArchiveError
from tests.conftest import ROOT, SEEDS, FakeEmbedder

WIRE, RFI, AM, NAT, COPY = (f"{x}.txt" for x in ("000_dd2761f3083befb7", "001_2a7d6a1efb716f92",
                                                   "002_a744cf46346e926e", "003_c07afd8436c39a75",
                                                   "004_26451090c78396de"))


def seeds(*names):
    return [str(SEEDS / n) for n in names]


@pytest.mark.model
def test_new_articles_are_checked_against_the_archive(tmp_path, default_model):
    index_add("wire", seeds(WIRE, AM, NAT), tmp_path, embedder=default_model)
    new = tmp_path / "today"
    new.mkdir()
    for n in (RFI, COPY):
        shutil.copy(SEEDS / n, new)
    from provenance import build_report

    report = build_report(scan([new], embedder=default_model, index="wire", index_dir=tmp_path))
    docs = {d["id"]: d for d in report["documents"]}
    assert report["archive"] == "wire"
    assert docs["000_dd2761f3083befb7"]["archived"] is True
    assert docs["004_26451090c78396de"]["relation"] == "copy"
    assert docs["004_26451090c78396de"]["derived_from"] == "000_dd2761f3083befb7"
    assert docs["001_2a7d6a1efb716f92"]["derived_from"] == "000_dd2761f3083befb7"
    # archived spans point into the archived text, which the report carries
    wire = docs["000_dd2761f3083befb7"]["text"]
    for a in docs["004_26451090c78396de"]["alignments"]:
        assert wire[slice(*a["source_span"])].strip()


def test_add_info_remove(tmp_path):
    emb = FakeEmbedder()
    res = index_add("a", seeds(WIRE, AM), tmp_path, embedder=emb)
    assert res.added == ("000_dd2761f3083befb7", "002_a744cf46346e926e")
    again = index_add("a", seeds(WIRE, NAT), tmp_path, embedder=emb)
    assert again.added == ("003_c07afd8436c39a75",)
    assert "already in index 'a'" in again.skipped[0].reason
    info = index_info("a", tmp_path)
    assert info["documents"] == 3 and info["model"] == "fake/bag-of-words" and info["dimension"] == 256
    assert info["index_type"] == "flat" and info["size_on_disk"] > 0
    assert info["vectors"] == sum(d.rows[1] - d.rows[0] for d in arch.load("a", tmp_path).documents)
    gone = index_remove("a", ["002_a744cf46346e926e", "nope"], tmp_path)
    assert gone.removed == ("002_a744cf46346e926e",) and gone.skipped[0].path == "nope"
    after = arch.load("a", tmp_path)
    assert after.ids == ["000_dd2761f3083befb7", "003_c07afd8436c39a75"]
    # rows stay contiguous and in order after removal
    assert after.documents[0].rows[0] == 0 and after.documents[1].rows[0] == after.documents[0].rows[1]
    assert len(list((tmp_path / "a").glob("gen-*"))) == 1  # old generations are cleaned up


def test_mismatched_model_and_corruption_are_refused(tmp_path):
    index_add("a", seeds(WIRE), tmp_path, embedder=FakeEmbedder())
    with pytest.raises(ArchiveError, match="was built with model 'fake/bag-of-words'"):
        arch.load("a", tmp_path, model="other/model")
    with pytest.raises(ArchiveError, match="holds 256-dimensional vectors"):
        arch.load("a", tmp_path, dimension=384)
    gen = (tmp_path / "a" / "CURRENT").read_text().strip()
    with open(tmp_path / "a" / gen / "vectors.npy", "r+b") as fh:
        fh.seek(200)
        fh.write(b"\xff\xff\xff\xff")
    with pytest.raises(ArchiveError, match="is corrupted .*checksum"):
        arch.load("a", tmp_path)
    res = CliRunner().invoke(main, ["index", "info", "a", "--index-dir", str(tmp_path)])
    assert res.exit_code == 1 and res.output.startswith("Error: index 'a'") and len(res.output.splitlines()) == 1


def test_a_model_with_the_same_name_but_other_files_is_refused(tmp_path):
    class Fingerprinted(FakeEmbedder):
        def __init__(self, fingerprint):
            super().__init__()
            self.fingerprint = fingerprint

    index_add("a", seeds(WIRE), tmp_path, embedder=Fingerprinted("1111"))
    assert index_info("a", tmp_path)["model_fingerprint"] == "1111"
    index_add("a", seeds(AM), tmp_path, embedder=Fingerprinted("1111"))
    with pytest.raises(ArchiveError, match="another model named 'fake/bag-of-words'"):
        index_add("a", seeds(NAT), tmp_path, embedder=Fingerprinted("2222"))
    with pytest.raises(ArchiveError, match="another model named"):
        scan(seeds(COPY), embedder=Fingerprinted("2222"), index="a", index_dir=tmp_path)
    index_remove("a", [index_info("a", tmp_path)["ids"][0]], tmp_path)
    assert index_info("a", tmp_path)["model_fingerprint"] == "1111"  # kept through a removal
    index_add("b", seeds(WIRE), tmp_path, embedder=FakeEmbedder())  # a model known by id only
    scan(seeds(COPY), embedder=Fingerprinted("2222"), index="b", index_dir=tmp_path)


def test_sigkill_mid_write_leaves_previous_index_usable(tmp_path):
    index_add("a", seeds(WIRE), tmp_path, embedder=FakeEmbedder())
    before = arch.load("a", tmp_path).ids
    marker = tmp_path / "paused"
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from tests.conftest import FakeEmbedder\n"
        "from provenance import index_add\n"
        f"index_add('a', [{str(SEEDS / COPY)!r}], {str(tmp_path)!r}, embedder=FakeEmbedder())\n")
    env = dict(os.environ, PROVENANCE_TEST_PAUSE_BEFORE_COMMIT="60", PROVENANCE_TEST_PAUSE_MARKER=str(marker))
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline:
        time.sleep(0.1)
    assert marker.exists(), "the writer never reached the commit point"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert list((tmp_path / "a").glob("gen-*.tmp-*"))  # the half-written generation is there...
    assert arch.load("a", tmp_path).ids == before       # ...but the live index is the old one, whole
    res = index_add("a", seeds(COPY), tmp_path, embedder=FakeEmbedder())  # lock released, leftovers cleaned
    assert res.added == ("004_26451090c78396de",)
    assert not list((tmp_path / "a").glob("gen-*.tmp-*"))


def test_a_second_writer_is_refused_while_one_holds_the_lock(tmp_path):
    with arch.locked("a", tmp_path):
        with pytest.raises(ArchiveError, match="being updated by another process"):
            with arch.locked("a", tmp_path):
                pass


def test_cache_encodes_only_unseen_texts(tmp_path):
    inner = FakeEmbedder()
    cached = CachedEmbedder(inner, tmp_path / "cache")
    first = cached.encode(["a b c", "d e f", "a b c"])
    assert inner.encoded == 2 and cached.misses == 2
    second = cached.encode(["a b c", "g h i"])
    assert inner.encoded == 3 and cached.hits == 1  # a repeat inside one call is deduplicated, not a hit
    assert (second[0] == first[0]).all()
    # a fresh process sees the same cache
    again = CachedEmbedder(FakeEmbedder(), tmp_path / "cache")
    again.encode(["d e f"])
    assert again.inner.encoded == 0


def test_rescan_with_one_new_article_encodes_only_that_article(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for n in (WIRE, AM, NAT):
        shutil.copy(SEEDS / n, folder)
    inner = FakeEmbedder()
    cached = CachedEmbedder(inner, tmp_path / "cache")
    first = scan([folder], embedder=cached)
    cold = inner.encoded
    shutil.copy(SEEDS / COPY, folder)
    second = scan([folder], embedder=cached)
    seen = {t for p in first.prepared for t in p.sentence_texts}
    new_texts = {t for p in second.prepared if p.doc.id.startswith("004") for t in p.sentence_texts} - seen
    assert 0 < len(new_texts) and inner.encoded - cold == len(new_texts)  # verbatim copies of 000 were cached


def test_index_cli_round_trip(tmp_path, monkeypatch):
    monkeypatch.setattr("provenance.embed.load_model", lambda name=None, **kw: FakeEmbedder())
    runner = CliRunner()
    res = runner.invoke(main, ["index", "add", "wire", *seeds(WIRE, AM), "--index-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "added 2 document(s); now 2 documents" in res.output
    res = runner.invoke(main, ["index", "info", "wire", "--index-dir", str(tmp_path), "--ids"])
    assert "documents    2" in res.output and "002_a744cf46346e926e" in res.output
    out = tmp_path / "r.json"
    res = runner.invoke(main, ["scan", *seeds(COPY), "--index", "wire", "--index-dir", str(tmp_path), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["archive"] == "wire"
    res = runner.invoke(main, ["index", "remove", "wire", "000_dd2761f3083befb7", "--index-dir", str(tmp_path)])
    assert res.exit_code == 0 and "now 1 documents" in res.output
    res = runner.invoke(main, ["scan", *seeds(COPY), "--index", "missing", "--index-dir", str(tmp_path)])
    assert res.exit_code == 1 and "does not exist" in res.output


def test_warm_rescan_reuses_languages_and_pair_alignments_exactly(tmp_path):
    from provenance import build_report

    folder = tmp_path / "in"
    folder.mkdir()
    for n in (WIRE, AM, COPY):
        shutil.copy(SEEDS / n, folder)
    cached = CachedEmbedder(FakeEmbedder(), tmp_path / "cache")
    cold = build_report(scan([folder], embedder=cached))
    warm = build_report(scan([folder], embedder=cached))
    assert warm["documents"] == cold["documents"] and warm["clusters"] == cold["clusters"]
    plain = build_report(scan([folder], embedder=FakeEmbedder()))  # no cache at all: same report
    assert plain["documents"] == cold["documents"]
    assert cached.get("langid", "no such key") is None
    n_pairs = cached._db.execute("SELECT COUNT(*) FROM kv WHERE ns = 'pair'").fetchone()[0]
    n_langs = cached._db.execute("SELECT COUNT(*) FROM kv WHERE ns = 'langid'").fetchone()[0]
    assert n_pairs >= 1 and n_langs == 3


def test_a_new_article_in_a_story_realigns_no_pair_aligned_before(tmp_path, monkeypatch):
    import provenance.pairs as pl
    from provenance import build_report

    folder = tmp_path / "in"
    folder.mkdir()
    for n in (WIRE, AM, COPY):
        shutil.copy(SEEDS / n, folder)
    aligned: list[frozenset] = []
    real = pl.align_pair
    monkeypatch.setattr(pl, "align_pair", lambda pa, pb, *a, **k: aligned.append(frozenset((pa.doc.id, pb.doc.id)))
                        or real(pa, pb, *a, **k))
    cached = CachedEmbedder(FakeEmbedder(), tmp_path / "cache")
    scan([folder], embedder=cached)
    cold = set(aligned)
    assert frozenset(("000_dd2761f3083befb7", "004_26451090c78396de")) in cold
    aligned.clear()
    shutil.copy(SEEDS / RFI, folder)  # joins the story of 000 and 004, changing its statistics
    warm = build_report(scan([folder], embedder=cached))
    assert any("001_2a7d6a1efb716f92" in pair for pair in aligned)
    assert not cold & set(aligned)
    plain = build_report(scan([folder], embedder=FakeEmbedder()))
    assert warm["documents"] == plain["documents"] and warm["clusters"] == plain["clusters"]


def test_semantic_lists_carried_over_between_scans_equal_a_full_search():
    # a day's folder changes between scans: articles added, removed, reordered, duplicated; the
    # lists carried over from the last scan must always equal a search from scratch
    import numpy as np

    from provenance.knn import knn_other_groups
    from provenance.match import MatchSettings
    from provenance.retrieve import semantic_knn

    rng = np.random.default_rng(7)
    settings = MatchSettings(k=2, search_depth=2)
    docs = []
    for _ in range(9):
        v = rng.normal(size=(int(rng.integers(1, 12)), 8)).astype(np.float32)
        docs.append(v / np.linalg.norm(v, axis=1, keepdims=True))
    docs.append(docs[0])  # an identical text under another name
    keys = [f"text-{i}" for i in range(9)] + ["text-0"]
    from provenance.results import ResultStore

    store = ResultStore(_DictStore())
    scans = [[0, 1, 2, 3], [0, 1, 2, 3, 4], [0, 2, 3, 4, 5], [5, 4, 3, 2, 0, 9], [9, 0, 6, 7, 8, 1],
             [9, 0, 6, 7, 8, 1], [2]]
    for chosen in scans:
        vecs = np.vstack([docs[i] for i in chosen])
        doc_of_row = np.repeat(np.arange(len(chosen)), [len(docs[i]) for i in chosen])
        (s, r) = semantic_knn(vecs, doc_of_row, [keys[i] for i in chosen], "m", settings, store)
        (s0, r0) = knn_other_groups(vecs, doc_of_row, settings.k * settings.search_depth)
        assert np.allclose(s, s0, atol=1e-5), chosen
        # the same rows, up to the order of equal cosines (copies of one sentence; their order
        # rests on float rounding)
        tied = np.isclose(s0[:, :, None], s0[:, None, :], atol=1e-5).sum(axis=2) > 1
        same_vector = (vecs[r] == vecs[r0]).all(axis=2)
        assert ((r == r0) | same_vector | tied).all(), chosen


class _DictStore(dict):
    """A `ResultStore` backend in memory."""

    def get_many(self, ns, keys, keep=False):
        return {k: self[ns, k] for k in keys if (ns, k) in self}

    def put(self, ns, key, value, keep=False):
        self[ns, key] = value


def _rows_searched_again(monkeypatch) -> list[int]:
    """Filled with the rows each `knn_other_groups_sparse_extend` call of `retrieve` searches again,
    besides the new ones."""
    import provenance.retrieve as retrieve

    searched: list[int] = []
    real = retrieve.knn_other_groups_sparse_extend

    def counting(mat, groups, k, excludes, known, lists, added):
        searched.append(mat.shape[0] - len(known) - len(added))
        return real(mat, groups, k, excludes, known, lists, added)

    monkeypatch.setattr(retrieve, "knn_other_groups_sparse_extend", counting)
    return searched


def test_lexical_lists_carried_over_a_rolling_folder_equal_a_full_search_and_skip_rows_that_keep_their_depth(
        monkeypatch):
    # the lexical channel's lists (two searches: all documents, other languages only) across scans
    # that add, remove and reorder articles: always a fresh search's lists; a list that named a
    # removed article's sentence keeps its depth from its spare entries instead of being searched again
    import numpy as np
    from scipy import sparse

    import provenance.retrieve as retrieve
    from provenance.knn import knn_other_groups_sparse_multi
    from provenance.match import MatchSettings
    from provenance.results import ResultStore

    rng = np.random.default_rng(3)
    settings = MatchSettings(k=2, search_depth=2)
    docs, langs = [], []
    for i in range(12):
        m = rng.random((int(rng.integers(1, 10)), 30)) * (rng.random((1, 30)) < 0.5)
        m[:, i % 30] += 1.0  # no empty row
        docs.append(m / np.linalg.norm(m, axis=1, keepdims=True))
        langs.append("en" if i % 3 else "fr")
    store = ResultStore(_DictStore())
    searched = _rows_searched_again(monkeypatch)
    scans = [list(range(8)), [*range(8), 8], [0, 1, 2, 3, 4, 5, 6, 7, 9], [9, 7, 6, 5, 4, 3, 2, 1, 0, 10],
             [10, 0, 1, 2, 3, 4, 5, 6, 11], [2, 3]]
    for chosen in scans:
        mat = sparse.csr_matrix(np.vstack([docs[i] for i in chosen]))
        doc_of_row = np.repeat(np.arange(len(chosen)), [len(docs[i]) for i in chosen])
        languages = np.array([langs[i] for i in chosen for _ in docs[i]])
        excludes = [None, languages]
        got = retrieve._sparse_lists(mat, doc_of_row, excludes, settings, store, [f"d{i}" for i in chosen], "x")
        full = knn_other_groups_sparse_multi(mat, doc_of_row, settings.k * settings.search_depth, excludes)
        if 8 in chosen:  # rows whose lists name article 8's sentences, which the next scan drops
            of_8 = np.flatnonzero(doc_of_row == chosen.index(8))
            naming_8 = sum(int(np.isin(r0, of_8).any(axis=1).sum()) for _, r0 in full)
        for (s, r), (s0, r0) in zip(got, full, strict=True):
            assert np.allclose(s, s0, atol=1e-5), chosen
            tied = np.isclose(s0[:, :, None], s0[:, None, :], atol=1e-5).sum(axis=2) > 1
            assert ((r == r0) | tied).all(), chosen
    # the scan that dropped article 8 searched few rows again, not every row whose list named it
    assert len(searched) == len(scans) - 1
    assert searched[1] < naming_8 / 2


def test_archived_languages_are_stored_and_reused(tmp_path, monkeypatch):
    index_add("a", seeds(WIRE, AM), tmp_path, embedder=FakeEmbedder())
    stored = arch.load("a", tmp_path).documents[0].languages
    assert stored["document"] == "en" and len(stored["paragraphs"]) > 5
    calls = []
    import provenance.archive_ops as pl

    real = pl.identify
    monkeypatch.setattr(pl, "identify", lambda seg: calls.append(seg.doc.id) or real(seg))
    scan(seeds(COPY), embedder=FakeEmbedder(), index="a", index_dir=tmp_path)
    assert "000_dd2761f3083befb7" not in calls and "002_a744cf46346e926e" not in calls


def test_scan_against_a_large_archive_analyses_only_what_the_index_retrieves(tmp_path):
    import random

    # an archive of 150 unrelated short "articles" plus the AFP carrier
    rng = random.Random(0)
    words = ("market council harvest river festival museum railway budget orchestra league vaccine "
             "satellite bridge election storm archive theatre factory").split()
    other = tmp_path / "other"
    other.mkdir()
    for k in range(150):
        sents = [" ".join(rng.choice(words) for _ in range(12)).capitalize() + "." for _ in range(6)]
        (other / f"other-{k:03d}.txt").write_text("\n".join(sents) + "\n", "utf-8")
    index_add("big", [str(other), *seeds(WIRE)], tmp_path, embedder=FakeEmbedder())
    result = scan(seeds(COPY), embedder=FakeEmbedder(), index="big", index_dir=tmp_path)
    analysed = [p.doc.id for p in result.prepared]
    assert "000_dd2761f3083befb7" in analysed
    assert len(analysed) < 20  # not the 151 archived documents
    v = {result.prepared[x.doc].doc.id: x for x in result.verdicts}
    assert result.prepared[v["004_26451090c78396de"].derived_from].doc.id == "000_dd2761f3083befb7"


def test_int8_vectors_never_join_a_float32_archive(tmp_path):
    """`--backend onnx-int8` vectors differ from float32 ones (torch and onnx agree): an archive
    built with one refuses the other, in one line naming the backend to pass."""
    fp32, int8 = FakeEmbedder(), FakeEmbedder()
    fp32.fingerprint, fp32.backend = "abc123", "onnx"
    int8.fingerprint, int8.backend = "abc123", "onnx-int8"
    index_add("a", seeds(WIRE, AM), tmp_path, embedder=fp32)
    with pytest.raises(ArchiveError, match=r"float32 vectors but this model gives int8 ones: pass --backend onnx"):
        index_add("a", seeds(NAT), tmp_path, embedder=int8)
    with pytest.raises(ArchiveError, match="int8"):
        scan(seeds(NAT), embedder=int8, index="a", index_dir=tmp_path)
    torch = FakeEmbedder()
    torch.fingerprint, torch.backend = "abc123", "torch"
    assert index_add("a", seeds(NAT), tmp_path, embedder=torch).added  # torch and onnx vectors mix


def test_kept_lists_that_ran_into_cosines_of_zero_are_not_searched_again_and_equal_a_full_search(monkeypatch):
    # gloss rows share lemmas with few sentences, so their lists run into cosines of 0: such a list
    # holds every positive cosine, and merging the new rows' products and listing the cosines of 0
    # as a search does (lowest rows each may list first) gives a full search's list (these rows of
    # 0s and 1s have products that round the same however they are summed)
    import numpy as np
    from scipy import sparse

    import provenance.retrieve as retrieve
    from provenance.knn import knn_other_groups_sparse_multi
    from provenance.match import MatchSettings
    from provenance.results import ResultStore

    rng = np.random.default_rng(5)
    settings = MatchSettings(k=2, search_depth=2)
    width = settings.k * settings.search_depth * retrieve.SPARE_DEPTH
    docs = []
    for i in range(12):
        m = (rng.random((int(rng.integers(2, 8)), 80)) < 0.04) * 1.0
        m[:, i] += 1.0
        docs.append(m / np.linalg.norm(m, axis=1, keepdims=True))
    searched, ran_into_zero = _rows_searched_again(monkeypatch), []
    store = ResultStore(_DictStore())
    for chosen in [list(range(8)), [*range(8), 8], [0, 1, 2, 3, 4, 5, 6, 7, 9], [9, 7, 6, 5, 4, 3, 2, 1, 0, 10],
                   [10, 0, 1, 2, 3, 4, 5, 6, 11]]:
        mat = sparse.csr_matrix(np.vstack([docs[i] for i in chosen]))
        doc_of_row = np.repeat(np.arange(len(chosen)), [len(docs[i]) for i in chosen])
        languages = np.array(["fr" if i % 3 == 0 else "en" for i in chosen for _ in docs[i]])
        (s, r), = retrieve._sparse_lists(mat, doc_of_row, [languages], settings, store,
                                         [f"d{i}" for i in chosen], "gloss-knn")
        (s0, r0), = knn_other_groups_sparse_multi(mat, doc_of_row, width // retrieve.SPARE_DEPTH, [languages])
        assert np.array_equal(r, r0) and np.array_equal(s, s0), chosen
        (kept, _), = knn_other_groups_sparse_multi(mat, doc_of_row, width, [languages])
        ran_into_zero.append(int((kept[:, -1] == 0).sum()))
    assert len(searched) == 4 and min(ran_into_zero) >= 6
    assert sum(searched) < sum(ran_into_zero[:-1]) / 3  # it was every one of them


def test_kept_lists_tied_at_their_depth_keep_a_fresh_search_order_without_searching_them_again(monkeypatch):
    # copies of one text tie exactly: a list whose depth falls among equal cosines must name the
    # lowest rows, as a fresh search does. A tie the last scan settled stands while the head of its
    # list is unchanged (articles only added here): those rows are not searched again every scan
    import numpy as np
    from scipy import sparse

    import provenance.retrieve as retrieve
    from provenance.knn import knn_other_groups_sparse_multi
    from provenance.match import MatchSettings
    from provenance.results import ResultStore

    rng = np.random.default_rng(5)
    settings = MatchSettings(k=2, search_depth=2)
    base = [(rng.random((int(rng.integers(2, 6)), 12)) < 0.4).astype(float) + np.eye(12)[:1] for _ in range(4)]
    docs = [base[i % 4] for i in range(14)]  # every text three or four times: exact ties everywhere
    store = ResultStore(_DictStore())
    again: list[int] = []
    real = retrieve.knn_other_groups_sparse_rows
    monkeypatch.setattr(retrieve, "knn_other_groups_sparse_rows",
                        lambda mat, groups, k, ex, rows: again.append(len(rows)) or real(mat, groups, k, ex, rows))
    for n in range(6, 15):
        chosen = list(range(n))
        mat = sparse.csr_matrix(np.vstack([docs[i] for i in chosen]))
        mat = sparse.diags(1 / np.sqrt(np.asarray(mat.multiply(mat).sum(axis=1)).ravel())) @ mat
        doc_of_row = np.repeat(np.arange(n), [len(docs[i]) for i in chosen])
        excludes = [None]
        (got,) = retrieve._sparse_lists(mat.tocsr(), doc_of_row, excludes, settings, store,
                                        [f"d{i}" for i in chosen], "x")
        (full,) = knn_other_groups_sparse_multi(mat.tocsr(), doc_of_row, settings.k * settings.search_depth,
                                                excludes)
        assert np.array_equal(got[1], full[1]) and np.allclose(got[0], full[0], atol=1e-6), n
    tied_rows = len(doc_of_row)
    assert sum(again) < tied_rows * 2  # new rows and changed heads only (each scan's tied rows before: 196 here)
