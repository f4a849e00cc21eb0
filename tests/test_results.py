"""The result cache never serves a value that other code produced: keys carry a digest of the
package's source, so an upgrade (or any edit to a stage) recomputes instead of reusing."""

from __future__ import annotations

import shutil
from pathlib import Path

import provenance
from provenance import CachedEmbedder, ResultStore, scan
from provenance.hashing import code_digest, source_digest
from tests.conftest import SEEDS, FakeEmbedder


def test_any_edit_to_the_package_changes_the_code_digest(tmp_path):
    package = Path(provenance.__file__).parent
    copy = tmp_path / "provenance"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert source_digest(copy) == code_digest()
    with open(copy / "align.py", "a", encoding="utf-8") as fh:
        fh.write("\n# a changed threshold, say\n")
    assert source_digest(copy) != code_digest()


def test_values_written_by_older_code_are_not_served(tmp_path, monkeypatch):
    import provenance.pairs as pairs

    aligned = []
    real = pairs.align_pair
    monkeypatch.setattr(pairs, "align_pair", lambda pa, pb, *a, **k: aligned.append((pa.doc.id, pb.doc.id))
                        or real(pa, pb, *a, **k))
    cached = CachedEmbedder(FakeEmbedder(), tmp_path / "cache")
    scan([SEEDS], embedder=cached)
    first = len(aligned)
    assert first > 0
    aligned.clear()
    scan([SEEDS], embedder=cached)
    assert aligned == []  # same code: every alignment comes from the cache

    # the same cache file read by other code (an upgrade): nothing of the old results is served
    monkeypatch.setattr(ResultStore, "__init__", _with_code("0" * 16))
    scan([SEEDS], embedder=cached)
    assert len(aligned) == first


def _with_code(code: str):
    real = ResultStore.__init__

    def init(self, backend=None, code_=None):
        real(self, backend, code)

    return init


def test_a_store_without_backend_computes_everything():
    store = ResultStore(None)
    calls = []
    out = store.memoise("ns", [1, 2, 2], lambda x: (x,), lambda x: calls.append(x) or x * 10)
    assert out == [10, 20, 20] and calls == [1, 2, 2]
    assert store.get("ns", store.key("ns", 1)) is None


def test_an_unchanged_rescan_reuses_the_lexical_search_and_a_new_article_searches_its_rows_only(tmp_path,
                                                                                                monkeypatch):
    """A lexical row's weights depend on its own text and language (`weights`): an unchanged re-scan
    gets the whole result back, and a new article's re-scan keeps every other sentence's neighbour
    lists and searches the new sentences only, with the result of a scan without a cache."""
    import provenance.retrieve as retrieve
    from provenance import build_report

    searches, full, extended, weighed = [], [], [], []
    for name, log in (("_lexical_search", searches), ("knn_other_groups_sparse_multi", full),
                      ("knn_other_groups_sparse_extend", extended), ("weighted_rows", weighed)):
        real = getattr(retrieve, name)
        monkeypatch.setattr(retrieve, name, lambda *a, _real=real, _log=log, **k: _log.append(len(a[0]) if isinstance(
            a[0], list) else a[0].shape[0]) or _real(*a, **k))
    cached = CachedEmbedder(FakeEmbedder(), tmp_path / "cache")
    first = scan([SEEDS], embedder=cached)
    again = scan([SEEDS], embedder=cached)
    assert searches == [5] and len(full) == 1 and extended == []  # the re-scan was served from the cache
    assert [v.relation for v in again.verdicts] == [v.relation for v in first.verdicts]
    extra = tmp_path / "extra.txt"
    extra.write_text(next(SEEDS.glob("000_*.txt")).read_text("utf-8").replace("Iraq", "Irak"), "utf-8")
    weighed.clear()
    warm = scan([SEEDS, extra], embedder=cached)
    assert searches == [5, 6] and len(full) == 1 and len(extended) == 1  # no full search again
    # the other articles' weighted rows were kept in this process's memory: the new one's weighed only
    assert weighed == [len(next(p for p in warm.prepared if p.doc.path == str(extra)).seg.sentences)]
    plain = scan([SEEDS, extra], embedder=FakeEmbedder())
    assert build_report(warm)["documents"] == build_report(plain)["documents"]
    # one language, then several (the lexical channel searches twice), then one again
    from tests.conftest import ROOT

    mixed = [SEEDS, extra, ROOT / "tests" / "fixtures" / "crosslingual"]
    for paths in (mixed, [SEEDS, extra]):
        warm = scan(paths, embedder=cached)
        assert build_report(warm)["documents"] == build_report(scan(paths, embedder=FakeEmbedder()))["documents"]


def test_a_new_process_rescanning_reuses_the_source_words_lists(tmp_path, monkeypatch, default_model):
    """The direction cue's word lists (wordfreq look-ups) come from the cache in a later process."""
    import provenance.direction as direction
    from tests.conftest import ROOT

    made = []
    real = direction._lang_words_of
    monkeypatch.setattr(direction, "_lang_words_of", lambda *a: made.append(a[1:]) or real(*a))
    cached = CachedEmbedder(default_model, tmp_path / "cache")
    paths = [SEEDS, ROOT / "tests" / "fixtures" / "crosslingual"]
    direction._LANG_WORDS.clear()
    first = scan(paths, embedder=cached)
    assert made  # pairs in two languages read the lists
    made.clear()
    direction._LANG_WORDS.clear()  # as a new process starts
    again = scan(paths, embedder=cached)
    assert made == []
    assert [v.direction for v in again.verdicts] == [v.direction for v in first.verdicts]


def test_a_rescan_reuses_each_pairs_direction_lean_and_computes_the_new_pairs_only(tmp_path, monkeypatch):
    """A lean depends on its two documents and their alignment alone: kept between scans, the same
    as a scan without a cache computes, and computed again only for pairs with a new article."""
    import provenance.direction as direction

    made = []
    real = direction.lean
    monkeypatch.setattr(direction, "lean", lambda t, s, *a, **k: made.append((t.doc.id, s.doc.id)) or real(t, s, *a,
                                                                                                           **k))
    cached = CachedEmbedder(FakeEmbedder(), tmp_path / "cache")
    first = scan([SEEDS], embedder=cached)
    assert made
    made.clear()
    again = scan([SEEDS], embedder=cached)
    assert made == []
    plain = scan([SEEDS], embedder=FakeEmbedder())
    assert [v.direction for v in again.verdicts] == [v.direction for v in first.verdicts] == \
        [v.direction for v in plain.verdicts]
    made.clear()
    extra = tmp_path / "extra.txt"
    extra.write_text(next(SEEDS.glob("000_*.txt")).read_text("utf-8").replace("Iraq", "Irak"), "utf-8")
    scan([SEEDS, extra], embedder=cached)
    assert made and all("extra" in t or "extra" in s for t, s in made)



def _mutable_parts(value, path="") -> list[str]:
    """Where `value` holds something a scan could change in place: lists, dicts, sets, objects of
    classes other than frozen dataclasses, writable arrays."""
    import dataclasses

    import numpy as np
    from scipy import sparse

    if isinstance(value, (str, bytes, int, float, bool, type(None), np.generic)):
        return []
    if isinstance(value, np.ndarray):
        return [] if not value.flags.writeable and not value.dtype.hasobject else [path + ": writable array"]
    if sparse.issparse(value):
        return [p for name in ("data", "indices", "indptr") for p in _mutable_parts(getattr(value, name),
                                                                                     f"{path}.{name}")]
    if isinstance(value, (tuple, frozenset)):
        return [p for i, x in enumerate(value) for p in _mutable_parts(x, f"{path}[{i}]")]
    if dataclasses.is_dataclass(value) and value.__dataclass_params__.frozen:
        return [p for f in dataclasses.fields(value) for p in _mutable_parts(getattr(value, f.name),
                                                                              f"{path}.{f.name}")]
    return [f"{path}: {type(value).__name__}"]


def test_a_process_scanning_again_gets_the_same_answers_from_the_values_it_kept_in_memory(tmp_path, monkeypatch):
    """The values of `results.SHARED` namespaces (and of `REMEMBERED` ones) are kept
    decoded for the next scans of the process and handed to each: they must be immutable (nothing
    a scan does changes them: a read-only array raises where a stage writes into one), and the
    answers must be those of a process reading everything from the file."""
    from provenance import build_report
    from provenance.results import REMEMBERED, SHARED
    from tests.conftest import ROOT

    extra = tmp_path / "extra.txt"
    extra.write_text(next(SEEDS.glob("000_*.txt")).read_text("utf-8").replace("Iraq", "Irak"), "utf-8")
    paths = [SEEDS, ROOT / "tests" / "fixtures" / "crosslingual"]
    cached = CachedEmbedder(FakeEmbedder(), tmp_path / "cache")
    scan(paths, embedder=cached)
    scan([*paths, extra], embedder=cached)  # reads the first scan's values back: kept from here on
    kept = dict(cached.kept.items())
    assert {ns for ns, _ in kept} == SHARED | REMEMBERED | {""}  # and the vectors ("")
    for (ns, _key), value in kept.items():
        assert _mutable_parts(value) == [], (ns, _mutable_parts(value))

    reads = []
    real = CachedEmbedder._select
    # values read back (a stamp's look-up of keys and days reads none)
    monkeypatch.setattr(CachedEmbedder, "_select", lambda self, sql, keys, *params: (
        " value" in sql or " vec" in sql) and reads.extend((params[0] if params else "", k) for k in keys)
        or real(self, sql, keys, *params))
    again = scan(paths, embedder=cached)  # the new article gone: what the last scan read is in memory
    assert not set(reads) & set(kept)  # not read from the file again
    assert len([r for r in reads if r[0] in SHARED]) < len(kept) / 20
    fresh = CachedEmbedder(FakeEmbedder(), tmp_path / "cache", memory_bytes=0)  # a new process
    for got in (again, scan([*paths, extra], embedder=cached)):
        paths_now = paths if got is again else [*paths, extra]
        expected = build_report(scan(paths_now, embedder=fresh))
        report = build_report(got)
        for part in ("documents", "clusters", "warnings", "skipped"):
            assert report.get(part) == expected.get(part), part


def test_lexical_rows_kept_between_scans_are_those_a_scan_from_nothing_computes():
    """A process that scans again keeps each article's weighted rows and the last scan's columns
    (`retrieve._lexical_rows`): articles added, removed or reordered, the matrix is the one a scan
    without them computes, bit for bit (cosines, and so ties between neighbours, depend on it)."""
    import numpy as np
    from scipy import sparse

    from provenance import load_paths, prepare
    from provenance.features import docs_features, rows_keys
    from provenance.kept import KeptValues
    from provenance.lexical import compact_columns
    from provenance.retrieve import _lexical_rows
    from provenance.weights import weighted_rows
    from tests.conftest import ROOT

    prepared, _ = prepare(load_paths([SEEDS, ROOT / "tests" / "fixtures" / "crosslingual"]).documents)
    feats = docs_features(prepared)
    keys = rows_keys(prepared)
    store = ResultStore(type("Backend", (), {"kept": KeptValues()})())
    n = len(prepared)
    for kind in ("ngram", "gloss"):
        for docs in (range(n - 2), range(n), range(1, n), [n - 1, *range(n - 1)], range(n)):
            counts = [feats[d].counts if kind == "ngram" else feats[d].gloss for d in docs]
            langs = np.concatenate([[prepared[d].langs.document] * len(prepared[d].seg.sentences) for d in docs])
            got = _lexical_rows(counts, langs, kind, store, [keys[d] for d in docs])
            want = compact_columns(weighted_rows(sparse.vstack(counts).tocsr(), langs, kind))
            assert got.shape == want.shape
            assert np.array_equal(got.indptr, want.indptr) and np.array_equal(got.indices, want.indices)
            assert np.array_equal(got.data.view(np.uint32), want.data.view(np.uint32))
    assert {ns for (ns, _), _ in store.backend.kept.items()} == {"weighted", "columns"}


def test_neighbour_lists_are_written_for_the_next_process_at_most_every_so_often(tmp_path, monkeypatch):
    """A process reads its own neighbour lists from memory; the file's copy only spares the next
    process a search. Scans in quick succession write it once, a scan after `KEPT_WRITE_SECONDS`
    again, and a process that keeps nothing in memory (the CLI's one scan) every time; the next
    process's answers are those of a scan from nothing whichever lists it finds."""
    import provenance.retrieve as retrieve
    from provenance import build_report
    from provenance.results import ResultStore

    written = []
    real = ResultStore.put
    monkeypatch.setattr(ResultStore, "put", lambda self, ns, key, value: (ns == "knn" and written.append(key))
                        or real(self, ns, key, value))
    extra = tmp_path / "extra.txt"
    extra.write_text(next(SEEDS.glob("000_*.txt")).read_text("utf-8").replace("Iraq", "Irak"), "utf-8")
    cached = CachedEmbedder(FakeEmbedder(), tmp_path / "cache")
    scan([SEEDS], embedder=cached)
    first = len(written)
    assert first >= 2  # the semantic and lexical lists
    scan([SEEDS, extra], embedder=cached)
    assert len(written) == first  # kept in memory only
    monkeypatch.setattr(retrieve, "KEPT_WRITE_SECONDS", 0.0)
    other = tmp_path / "other.txt"  # (an unchanged scan finds the lexical pairs cached: no lists)
    other.write_text(extra.read_text("utf-8").replace("Irak", "Iraque"), "utf-8")
    scan([SEEDS, other], embedder=cached)
    assert len(written) == 2 * first
    one_scan = CachedEmbedder(FakeEmbedder(), tmp_path / "cache", memory_bytes=0)
    monkeypatch.setattr(retrieve, "KEPT_WRITE_SECONDS", 3600.0)
    for paths in ([SEEDS, extra], [SEEDS]):
        before = len(written)
        got = build_report(scan(paths, embedder=one_scan))
        assert len(written) > before  # (its lexical pairs are in the file: only the semantic lists made)
        assert build_report(scan(paths, embedder=FakeEmbedder())).get("pairs") == got.get("pairs")


def test_keys_remembered_by_a_process_are_those_a_digest_makes():
    """`ResultStore.key` and `hashing.digest` remember what they made (a warm re-scan made ~2,900
    keys, nearly all made before): a key found must be the key a digest makes, parts that are equal
    but not alike (True and 1) must not share one, and neither may a changed object."""
    from provenance import hashing
    from provenance.results import FORMAT_VERSION

    store = ResultStore(None, code="c0de")
    text = "Officials met in Baghdad on Tuesday. " * 100  # long: digested once per object
    for parts in [("a", 1, (1, 2)), ("a", True, (1, 2)), ("a", 1.0, (1, 2)), (text, None), (text + "!", None)]:
        for _ in range(2):  # made, then found
            assert store.key("ns", *parts) == hashing.digest("ns", FORMAT_VERSION, "c0de", *parts)
    assert len({store.key("ns", "a", x) for x in (1, True, 1.0)}) == 3
    import numpy as np

    for first, second in [((1,), (1.0,)), ((1,), (True,)), (("a", (1, 2)), ("a", (1.0, 2))),
                          (((1, 2),), ((np.int64(1), 2),)), ((0.0,), (-0.0,)), (((1, 2),), ((1, True),))]:
        for parts in (first, second, first):  # equal parts that print otherwise never share a key
            assert store.key("ns", *parts) == hashing.digest("ns", FORMAT_VERSION, "c0de", *parts), parts
    assert store.key("ns", ([1],)) == hashing.digest("ns", FORMAT_VERSION, "c0de", ([1],))  # (unhashable)
    same_text = "".join(list(text))  # equal, another object
    assert hashing.digest(same_text) == hashing.digest(text) != hashing.digest(text[:-1])
    first, second = (1, 2), (1, 3)
    made = [hashing.digest_of_objects("k", (t,), ("v",), lambda t=t: hashing.digest(t)) for t in (first, second)]
    assert made == [hashing.digest(first), hashing.digest(second)]
    assert hashing.digest_of_objects("k", (first,), ("w",), lambda: "other") == "other"  # other values


def test_a_process_scanning_again_judges_anew_only_the_stories_that_changed(tmp_path, monkeypatch):
    """A process that scans again keeps what it worked out from the very objects a scan gets back
    (a pair's evidence, its leans, a story's reconstruction): an unchanged re-scan weighs no
    evidence and reconstructs no story again, and where an article's details change or one is
    added in front of the others (every document after it renumbered), the answers are those of a
    process that scans once."""
    import provenance.pairs as pairs
    import provenance.reconstruct as reconstruct
    from provenance import build_report

    made = {"evidence": 0, "wire": 0}
    real_evidence, real_wire = pairs.pair_evidence, reconstruct.reconstruct_wire

    def counted(kind, fn):
        def run(*args, **kwargs):
            made[kind] += 1
            return fn(*args, **kwargs)
        return run

    monkeypatch.setattr(pairs, "pair_evidence", counted("evidence", real_evidence))
    monkeypatch.setattr(reconstruct, "reconstruct_wire", counted("wire", real_wire))
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    wire = next(SEEDS.glob("000_*.txt")).read_text("utf-8")
    (folder / "500_copy.txt").write_text(wire.replace("5,200", "5,300"), "utf-8")  # a copy: a story to rebuild
    cached = CachedEmbedder(FakeEmbedder(), tmp_path / "cache")
    scan([folder], embedder=cached)
    assert made["wire"] > 0
    scan([folder], embedder=cached)  # from here on, the values come back as the same objects
    made.update(evidence=0, wire=0)
    scan([folder], embedder=cached)
    assert made == {"evidence": 0, "wire": 0}

    edited = sorted(folder.glob("*.txt"))[1]
    edited.write_text(edited.read_text("utf-8") + "\n\nOfficials in Kirkuk said 4,321 families had returned.\n",
                      "utf-8")  # new details: the story's rarity weights change
    copy = folder / "500_copy.txt"
    copy.write_text(copy.read_text("utf-8")[:len(wire) // 2], "utf-8")  # the copy cut: its story rebuilt
    first = folder / "0.txt"  # another story, in front of every other document
    first.write_text("Heavy snow closed the mountain passes of Tyrol on Monday, and the Austrian rail "
                     "operator OeBB said 40 trains were cancelled.\n\n" * 6, "utf-8")
    for rounds in range(2):
        if rounds:
            first.unlink()  # every document numbered as before it came
        made.update(evidence=0, wire=0)
        got = build_report(scan([folder], embedder=cached))
        assert made["evidence"] > 0
        expected = build_report(scan([folder], embedder=CachedEmbedder(FakeEmbedder(), tmp_path / "fresh",
                                                                        memory_bytes=0)))
        for part in ("documents", "clusters", "warnings", "skipped"):
            assert got.get(part) == expected.get(part), part


def test_evidence_kept_between_scans_follows_each_documents_details():
    """`pair_evidences` (asked to keep) reuses a story's rarity weights and a pair's evidence while
    the pair's alignment and every detail set of its story are the very objects they were made
    from: a document whose details changed (a new set object) gets the evidence worked out anew."""
    import provenance.pairs as pairs
    from provenance.align import AlignedBlock
    from provenance.evidence import PairStats, detail_sum, pair_evidence
    from provenance.features import detail_weights
    from provenance.match import DocPair

    def value(share):
        stats = PairStats(blocks=2, aligned_share=share, own_aligned_share=share, verbatim=0.9, mean_score=0.8,
                          cross_lingual=False)
        return (AlignedBlock((0,), (0,), 0.9), AlignedBlock((1,), (1,), 0.8)), stats, stats

    aligned = {(0, 1): value(0.5), (1, 2): value(0.7)}
    cands = [DocPair(0, 1, 2, 2, 0, 0.5), DocPair(1, 2, 2, 2, 0, 0.5)]
    story = [frozenset({0, 1, 2})] * 3

    def expected(details):  # what the evidence is, worked out directly
        weights = detail_weights(details, range(3))
        return [e for c in cands for t, s, stats in ((c.b, c.a, aligned[c.a, c.b][1]), (c.a, c.b, aligned[c.a, c.b][2]))
                for e in [pair_evidence(t, s, stats, details[t], details[s], weights,
                                        detail_sum(details[t], weights))]]

    details = [frozenset({"Kirkuk", "2020"}), frozenset({"Kirkuk", "Basra"}), frozenset({"Basra", "40"})]
    first = pairs.pair_evidences(cands, aligned, details, story, keep=True)[1]
    assert first == expected(details) and pairs.pair_evidences(cands, aligned, details, story, keep=True)[1] == first
    changed = [details[0], frozenset({"Kirkuk", "Basra", "Mosul", "4,321"}), details[2]]
    got = pairs.pair_evidences(cands, aligned, changed, story, keep=True)[1]
    assert got != first and got == expected(changed)


def test_leans_kept_between_scans_follow_each_pairs_blocks_and_shares(tmp_path, monkeypatch):
    """A lean kept by the process is used for the very blocks it was worked out from and the same
    aligned shares only: other blocks (other covered sentences) or other shares give the lean a
    first scan computes."""
    import dataclasses

    import provenance.direction as direction
    from provenance.results import ResultStore

    result = scan([SEEDS], embedder=FakeEmbedder())
    monkeypatch.setattr(direction, "lean", lambda t, s, tc, sc, ts, st, **_: direction.Lean(
        len(tc) + 10 * len(sc) + ts + 100 * st))
    store = ResultStore(CachedEmbedder(FakeEmbedder(), tmp_path / "cache"))
    als, evidence = list(result.alignments), list(result.evidence)
    first = direction.pair_leans(result.prepared, als, evidence, store=store)
    assert first and direction.pair_leans(result.prepared, als, evidence, store=store) == first
    cut = [dataclasses.replace(al, blocks=al.blocks[:-1]) if len(al.blocks) > 2 else al
           for al in als]  # the last block left out: other covered sentences
    shares = [dataclasses.replace(e, aligned_share=e.aligned_share / 2) for e in evidence]
    for alignments, ev in ((cut, evidence), (als, shares)):
        got = direction.pair_leans(result.prepared, alignments, ev, store=store)
        expected = direction.pair_leans(result.prepared, alignments, ev, store=ResultStore(None))  # keeps nothing
        assert got == expected and got != first
    # a process that runs for days stamps the leans it keeps as used, once a day, so that `cache prune`
    # does not drop them
    import provenance.cache as cache

    touched = []
    monkeypatch.setattr(CachedEmbedder, "touch", lambda self, ns, keys: touched.extend((ns, k) for k in keys))
    monkeypatch.setattr(cache, "today", lambda real=cache.today: real() + 1)
    assert direction.pair_leans(result.prepared, als, evidence, store=store) == first
    assert len(touched) == len(first) and {ns for ns, _ in touched} == {"lean"}
    touched.clear()
    direction.pair_leans(result.prepared, als, evidence, store=store)
    assert touched == []
