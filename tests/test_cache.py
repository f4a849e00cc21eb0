"""The embedding cache's upkeep: last-used stamps, `provenance cache info|prune|clear`, and one
file per model (by the digest of its files, not its folder name)."""

from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np
from click.testing import CliRunner

from provenance import build_report, cache_admin, scan
from provenance import cache as c
from provenance.cache import CachedEmbedder
from provenance.cli import main
from provenance.embed import model_fingerprint
from tests.conftest import SEEDS, FakeEmbedder


def _age(path, days: int, table: str = "emb") -> None:
    """Pretend every entry of `table` was last used `days` days ago."""
    db = sqlite3.connect(path)
    with db:
        db.execute(f"UPDATE {table} SET used = ?", (c.today() - days,))
    db.close()


def _folder(tmp_path, names):
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for n in names:
        shutil.copy(SEEDS / n, folder)
    return folder


def test_prune_drops_only_entries_unused_for_longer_and_a_rescan_recomputes_them(tmp_path, monkeypatch):
    folder = _folder(tmp_path, ["000_dd2761f3083befb7.txt", "004_26451090c78396de.txt"])
    inner = FakeEmbedder()
    cached = CachedEmbedder(inner, tmp_path / "cache")
    cold = json.dumps(build_report(scan([folder], embedder=cached)), sort_keys=True)
    vectors = cached.encode(["a sentence only this test uses"])
    later = c.today() + 40  # 40 days on, the same process (a watch) asks for one vector again
    monkeypatch.setattr(c, "today", lambda: later)
    monkeypatch.setattr(cache_admin, "today", lambda: later)
    cached.count_missing(["a sentence only this test uses"])  # what a scan asks first (torch backend)
    cached.encode(["a sentence only this test uses"])  # read (from memory) today: stamped again
    r = cache_admin.prune(30, tmp_path / "cache")
    assert r["removed_vectors"] == inner.encoded - 1 and r["removed_results"] > 0
    assert r["bytes_after"] < r["bytes_before"]
    (entry,) = cache_admin.info(tmp_path / "cache")
    assert entry["vectors"] == 1 and entry["results"] == {}
    again = CachedEmbedder(FakeEmbedder(), tmp_path / "cache")
    assert (again.encode(["a sentence only this test uses"]) == vectors).all() and again.inner.encoded == 0
    warm = json.dumps(build_report(scan([folder], embedder=again)), sort_keys=True)
    assert warm == cold and again.inner.encoded > 0


def test_a_scan_stamps_what_it_reads_so_prune_keeps_it(tmp_path):
    folder = _folder(tmp_path, ["000_dd2761f3083befb7.txt", "004_26451090c78396de.txt"])
    cached = CachedEmbedder(FakeEmbedder(), tmp_path / "cache")
    scan([folder], embedder=cached)
    _age(cached.path, 90)
    _age(cached.path, 90, "kv")
    rescan = CachedEmbedder(FakeEmbedder(), tmp_path / "cache")
    scan([folder], embedder=rescan)
    assert rescan.inner.encoded == 0
    r = cache_admin.prune(1, tmp_path / "cache")
    assert r["removed_vectors"] == 0 and r["removed_results"] == 0


def test_a_cache_file_from_before_the_stamps_is_upgraded_in_place(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    inner = FakeEmbedder()
    path = folder / f"{c.PREFIX}fake_bag-of-words-{inner.dimension}.sqlite"
    vec = inner.encode(["old text"])[0]
    db = sqlite3.connect(path)  # the schema of earlier versions: no `used`, no `meta`
    db.execute("CREATE TABLE emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
    db.execute("CREATE TABLE kv (ns TEXT, key TEXT, value BLOB, PRIMARY KEY (ns, key))")
    probe = CachedEmbedder.__new__(CachedEmbedder)
    probe.model_id = inner.model_id
    db.execute("INSERT INTO emb VALUES (?, ?)", (probe._key("old text"), vec.tobytes()))
    db.commit()
    db.close()
    cached = CachedEmbedder(FakeEmbedder(), folder)
    assert cached.path == path
    assert (cached.encode(["old text"])[0] == vec).all() and cached.inner.encoded == 0
    assert cache_admin.info(folder)[0]["last_used"] is not None


def test_same_folder_name_other_weights_gets_its_own_cache(tmp_path):
    a, b, copy = tmp_path / "a" / "model", tmp_path / "b" / "model", tmp_path / "copy" / "model"
    for folder, weights in ((a, b"\x01" * 5000), (b, b"\x02" * 5000)):
        folder.mkdir(parents=True)
        (folder / "config.json").write_text('{"hidden_size": 8}')
        (folder / "model.safetensors").write_bytes(weights)
    shutil.copytree(a, copy)
    assert model_fingerprint(a) != model_fingerprint(b)
    assert model_fingerprint(a) == model_fingerprint(copy)  # content, not location or mtime

    class Named(FakeEmbedder):
        model_id = "model"

        def __init__(self, fingerprint):
            super().__init__()
            self.fingerprint = fingerprint

    ca = CachedEmbedder(Named(model_fingerprint(a)), tmp_path / "cache")
    cb = CachedEmbedder(Named(model_fingerprint(b)), tmp_path / "cache")
    assert ca.path != cb.path
    ca.encode(["shared text"])
    cb.encode(["shared text"])
    assert cb.inner.encoded == 1  # not served model a's vector


def test_cache_cli_info_prune_clear(tmp_path):
    runner = CliRunner()
    folder = tmp_path / "cache"
    res = runner.invoke(main, ["cache", "info", "--cache-dir", str(folder)])
    assert res.exit_code == 0 and "no embedding cache" in res.output
    cached = CachedEmbedder(FakeEmbedder(), folder)
    cached.encode(["one", "two"])
    (folder / "unrelated.txt").write_text("not ours")
    res = runner.invoke(main, ["cache", "info", "--cache-dir", str(folder)])
    assert res.exit_code == 0 and "fake/bag-of-words" in res.output and "2 vectors" in res.output
    _age(cached.path, 10)
    res = runner.invoke(main, ["cache", "prune", "--unused-for", "5", "--cache-dir", str(folder)])
    assert res.exit_code == 0 and "removed 2 vectors" in res.output
    res = runner.invoke(main, ["cache", "prune", "--cache-dir", str(folder)])
    assert res.exit_code == 2  # --unused-for is required
    res = runner.invoke(main, ["cache", "clear", "--cache-dir", str(folder)], input="n\n")
    assert res.exit_code == 1 and cached.path.exists()  # declined
    cached.close()  # clear leaves a file a scan still has open
    res = runner.invoke(main, ["cache", "clear", "--yes", "--cache-dir", str(folder)])
    assert res.exit_code == 0 and not cached.path.exists() and (folder / "unrelated.txt").exists()


def test_an_unreadable_cache_file_is_named_in_one_line(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / f"{c.PREFIX}broken-8.sqlite").write_bytes(b"not a database" * 100)
    res = CliRunner().invoke(main, ["cache", "info", "--cache-dir", str(folder)])
    assert res.exit_code == 1 and "broken-8.sqlite" in res.output and "cache clear" in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_vectors_survive_a_round_trip_bit_for_bit(tmp_path):
    inner = FakeEmbedder()
    cached = CachedEmbedder(inner, tmp_path / "cache")
    texts = [f"text number {i}" for i in range(1200)]  # more than one SQL chunk
    first = cached.encode(texts)
    second = CachedEmbedder(FakeEmbedder(), tmp_path / "cache").encode(texts)
    assert np.array_equal(first, second)


def test_a_scan_keeps_its_lexicons_in_the_cache_folder_given_and_cache_clear_deletes_them(tmp_path, monkeypatch):
    """--cache-dir holds everything the tool caches: the lexicon files too (n-gram weights, lemma
    lists, dictionaries), which `cache info` counts and `cache clear` deletes; the default folder
    gets none of them."""
    from provenance import weights
    from tests.conftest import SEEDS

    default = tmp_path / "default"
    monkeypatch.setenv("PROVENANCE_CACHE_DIR", str(default))
    weights._cached_table.cache_clear()  # as in a new process, which reads or builds the tables
    folder = tmp_path / "given"
    runner = CliRunner()
    res = runner.invoke(main, ["scan", str(SEEDS), "--cache-dir", str(folder), "-o", str(tmp_path / "r.json")])
    weights._cached_table.cache_clear()
    assert res.exit_code == 0, res.output
    built = list((folder / "lexicons").glob("weights-ngram-en-*.npz"))
    assert built and not (default / "lexicons").exists()
    res = runner.invoke(main, ["cache", "info", "--cache-dir", str(folder)])
    assert res.exit_code == 0 and "lexicon file(s)" in res.output
    (folder / "lexicons" / "notes.txt").write_text("not ours")
    res = runner.invoke(main, ["cache", "clear", "--yes", "--cache-dir", str(folder)])
    assert res.exit_code == 0 and not any(p.exists() for p in built)
    assert (folder / "lexicons" / "notes.txt").exists()
    assert not list(folder.glob("*.sqlite"))


def test_lexicon_files_of_earlier_keys_are_deleted_when_their_successors_are_written(seed_report, tmp_path,
                                                                                    monkeypatch):
    """An upgrade (another dictionary, simplemma, schema or version of the code) writes lexicon files
    under new keys; the files of the old keys, which nothing reads again, are deleted then instead of
    piling up (a dictionary lexicon is up to 10 MB, a lemma list up to 74 MB). Other files stay."""
    import sys

    from provenance import glossary, report, weights

    folder = tmp_path / "cache" / "lexicons"
    monkeypatch.setenv("PROVENANCE_CACHE_DIR", str(tmp_path / "cache"))
    tag = f"cpython-{sys.version_info.major}{sys.version_info.minor}"
    stale = [folder / "lexicon-fr-0123456789abcdef.pickle", folder / "lemmas-fr-0123456789abcdef.pickle",
             folder / "weights-ngram-fr-0123456789abcdef.npz", folder / "report_validator_0123456789abcdef.py",
             folder / "__pycache__" / f"report_validator_0123456789abcdef.{tag}.pyc"]
    kept = [folder / "lexicon-es-0123456789abcdef.pickle", folder / "notes.txt",
            folder / "__pycache__" / "report_validator_0123456789abcdef.cpython-99.pyc"]  # another Python's
    for p in stale + kept:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"old")
    memos = (glossary._lexicon, glossary._dictionary, glossary._lemmatizer, glossary.lemma, weights._cached_table,
             report._compiled_schema)
    for memo in memos:
        memo.cache_clear()
    try:
        assert glossary.lexicon("fr").words and glossary.lemma("chevaux", "fr") == "cheval"
        weights.prepare_tables("fr")
        report.validate_report(seed_report)
    finally:
        for memo in memos:
            memo.cache_clear()
    assert not [p for p in stale if p.exists()]
    assert all(p.exists() for p in kept)
    assert {p.name.split("-")[0] for p in folder.glob("*-fr-*")} == {"lexicon", "lemmas", "weights"}
    assert len(list(folder.glob("report_validator_*.py"))) == 1


def test_a_lexicon_file_whose_writing_fails_leaves_nothing_behind(tmp_path):
    """A lexicon file is written whole or not at all: an error while writing (a full disk, a value
    that does not serialise) leaves neither the file nor its temporary file."""
    import pytest

    from provenance.lexicon_files import write_cache_file

    def fails(fh, exc):
        fh.write(b"half")
        raise exc

    path = tmp_path / "lexicons" / "zipf-en-0123456789abcdef.npz"
    assert write_cache_file(path, lambda fh: fails(fh, OSError(28, "No space left on device"))) is False
    with pytest.raises(TypeError):
        write_cache_file(path, lambda fh: fails(fh, TypeError("cannot pickle")))
    assert list(path.parent.iterdir()) == []
    assert write_cache_file(path, lambda fh: fh.write(b"whole")) and path.read_bytes() == b"whole"


def test_a_save_of_many_entries_writes_each_once_over_several_statements(tmp_path):
    """Entries go to the file many to a statement (fewer than SQLite's old 999 parameters each):
    1,000 new vectors and 700 results, some replacing older values, all read back as written."""
    texts = [f"sentence number {i}" for i in range(1000)]
    cached = CachedEmbedder(FakeEmbedder(), tmp_path)
    for i in range(700):
        cached.put("ns", f"k{i}", {"old": i})
    cached.flush()
    want = cached.encode(texts)
    for i in range(700):
        cached.put("ns", f"k{i}", [i, "new"])
    cached.flush()
    again = CachedEmbedder(FakeEmbedder(), tmp_path)
    assert np.array_equal(again.encode(texts), want) and again.inner.encoded == 0
    assert again.get_many("ns", [f"k{i}" for i in range(700)]) == {f"k{i}": [i, "new"] for i in range(700)}
    (entry,) = cache_admin.info(tmp_path)
    assert entry["vectors"] == 1000 and entry["results"] == {"ns": 700}
