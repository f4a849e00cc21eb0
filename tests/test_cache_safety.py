"""The cache is never fatal: a file locked by another process is waited for a while, then done
without, never set aside; scans share a file; a damaged file is set aside; a folder that cannot
be written means a scan without the cache. Each case warns in one line and the scan exits 0."""

from __future__ import annotations

import errno
import multiprocessing
import os
import pathlib
import shutil
import sqlite3
import subprocess
import sys
from contextlib import contextmanager

import numpy as np
import pytest
from click.testing import CliRunner

from provenance import cache as c
from provenance import cache_admin, scan
from provenance.cache import CachedEmbedder
from provenance.cli import main
from tests.conftest import SEEDS, FakeEmbedder

FILES = ["000_dd2761f3083befb7.txt", "004_26451090c78396de.txt"]


@pytest.fixture(autouse=True)
def short_waits(monkeypatch):
    """Waits of a fraction of a second: these tests hold locks on purpose."""
    monkeypatch.setattr(c, "BUSY_TIMEOUT", 0.3)
    monkeypatch.setattr(c, "RETRY_TIMEOUT", 0.1)


@pytest.fixture
def models(monkeypatch):
    """The fake embedders the CLI loads, in order (to count what each run encoded)."""
    made: list[FakeEmbedder] = []

    def load(name=None, **kw):
        made.append(FakeEmbedder())
        return made[-1]

    monkeypatch.setattr("provenance.embed.load_model", load)
    return made


@pytest.fixture
def articles(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for n in FILES:
        shutil.copy(SEEDS / n, folder)
    return folder


def _scan(articles, out, *options):
    """`provenance scan` through CliRunner: (exit status, warning lines, report text)."""
    res = CliRunner().invoke(main, ["scan", str(articles), "-q", "-o", str(out), *options])
    warnings = [line for line in res.stderr.splitlines() if line.startswith("warning:")]
    return res.exit_code, warnings, out.read_text("utf-8") if out.exists() else None


HOLDER = """
import sqlite3, sys
path, mode = sys.argv[1], sys.argv[2]
db = sqlite3.connect(path, isolation_level=None, timeout=10)
if mode == "open":  # a scan between its transactions: the file open, nothing locked for writing
    db.execute("SELECT COUNT(*) FROM meta").fetchall()
else:
    db.execute(mode)
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('holder', 'committed')")
print("holding", flush=True)
sys.stdin.readline()
if mode != "open":
    db.execute("COMMIT")
print("done", flush=True)
"""


@contextmanager
def held(path, mode: str):
    """Another process has cache file `path` open while the block runs: `mode` is "open" (idle) or
    the statement that starts its write transaction, committed after the block (which must work)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), mode], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "holding", proc.stderr.read()
        yield
        out, err = proc.communicate("\n", timeout=60)
        assert proc.returncode == 0 and out.strip() == "done", err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _make_cache(folder, texts=("kept",), journal: str | None = None) -> pathlib.Path:
    cached = CachedEmbedder(FakeEmbedder(), folder)
    cached.encode(list(texts))
    cached.close()
    if journal is not None:  # a file left in another journal mode (by an older version, say)
        db = sqlite3.connect(cached.path, isolation_level=None)
        assert db.execute(f"PRAGMA journal_mode = {journal}").fetchone()[0] == journal
        db.close()
    return cached.path


def _set_aside(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".corrupt" in p.name)


def _damage_pages(path) -> None:
    """Overwrite the start of every page but the first (header and schema) and the `meta` table's
    (small: one page and one of its index): the file opens, and every read of vectors or results
    meets malformed pages."""
    assert not pathlib.Path(f"{path}-wal").exists()  # all in the main file
    db = sqlite3.connect(path)
    meta = {page for (page,) in db.execute("SELECT rootpage FROM sqlite_master WHERE tbl_name = 'meta'")}
    db.close()
    data = bytearray(path.read_bytes())
    size = int.from_bytes(data[16:18], "big")
    for page in range(2, len(data) // size + 1):
        if page not in meta:
            data[(page - 1) * size:(page - 1) * size + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


# --- a locked file ---------------------------------------------------------------------------

@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_a_file_locked_by_another_process_is_done_without_never_set_aside(tmp_path, articles, models, journal):
    folder = tmp_path / "cache"
    path = _make_cache(folder, journal=journal)
    code, warnings, plain = _scan(articles, tmp_path / "plain.json", "--no-cache")
    assert code == 0 and warnings == []
    with held(path, "BEGIN EXCLUSIVE"):  # its commit after the scan must still work
        code, warnings, report = _scan(articles, tmp_path / "report.json", "--cache-dir", str(folder))
    assert code == 0 and report == plain
    assert len(warnings) == 1 and f"cache file {path} is locked by another process" in warnings[0], warnings
    assert "delete" not in warnings[0] and "clear" not in warnings[0]
    assert path.exists() and _set_aside(folder) == []
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key = 'holder'").fetchone() == ("committed",)
    db.close()
    code, warnings, report = _scan(articles, tmp_path / "again.json", "--cache-dir", str(folder))
    assert code == 0 and warnings == [] and report == plain
    code, warnings, report = _scan(articles, tmp_path / "warm.json", "--cache-dir", str(folder))
    assert code == 0 and warnings == [] and report == plain and models[-1].encoded == 0


def test_a_write_that_cannot_get_the_lock_is_kept_for_the_next_flush(tmp_path):
    folder = tmp_path / "cache"
    path = _make_cache(folder)
    cached = CachedEmbedder(FakeEmbedder(), folder)
    with held(path, "BEGIN IMMEDIATE"):
        first = cached.encode(["kept", "new text"])  # reads never wait in WAL mode
        cached.put("ns", "key", {"a": 1})
        assert cached.get("ns", "key") == {"a": 1} and cached.count_missing(["new text"]) == 0
        assert cached.inner.encoded == 1
    cached.flush()  # the lock is free again
    assert cached.warnings == []
    again = CachedEmbedder(FakeEmbedder(), folder)
    assert np.array_equal(again.encode(["kept", "new text"]), first) and again.inner.encoded == 0
    assert again.get("ns", "key") == {"a": 1}


def test_writes_still_locked_at_the_end_are_dropped_with_one_warning(tmp_path):
    folder = tmp_path / "cache"
    path = _make_cache(folder)
    with held(path, "BEGIN IMMEDIATE"):
        cached = CachedEmbedder(FakeEmbedder(), folder)
        cached.encode(["new text"])
        cached.put("ns", "key", 1)
        cached.close()
    assert cached.warnings == [f"cache file {path} is locked by another process: 2 new entries of this run were "
                               "not saved (a later scan computes them again)"]
    assert _set_aside(folder) == []


def test_two_caches_on_one_file_do_not_wait_for_each_other(tmp_path):
    folder = tmp_path / "cache"
    a = CachedEmbedder(FakeEmbedder(), folder)
    b = CachedEmbedder(FakeEmbedder(), folder)
    a.encode(["from a"])
    a.put("ns", "a", "result of a")  # a scan between its writes holds no lock
    b.encode(["from b"])
    b.put("ns", "b", "result of b")
    b.flush()
    a.flush()
    assert a.warnings == [] and b.warnings == []
    fresh = CachedEmbedder(FakeEmbedder(), folder)
    fresh.encode(["from a", "from b"])
    assert fresh.inner.encoded == 0 and fresh.get_many("ns", ["a", "b"]) == {"a": "result of a", "b": "result of b"}


def _write_beside_others(args) -> list[str]:
    """One of several processes writing to one cache file, run by multiprocessing: a scan, then
    rounds of encoding (a transaction per call), results and flushes, each with a new
    `CachedEmbedder`."""
    articles, cache_dir, n = args
    cached = CachedEmbedder(FakeEmbedder(), cache_dir)
    scan([articles], embedder=cached, workers=1)
    cached.close()
    warnings = cached.warnings
    for r in range(3):
        cached = CachedEmbedder(FakeEmbedder(), cache_dir)
        for lo in range(0, 300, 50):
            cached.encode([f"text {i} of process {n}" for i in range(lo, lo + 50)] +
                          [f"shared text {i}" for i in range(lo, lo + 50)])
            cached.put("ns", f"{n}-{r}-{lo}", list(range(lo)))
        cached.flush()
        cached.close()
        warnings += cached.warnings
    return warnings


def test_concurrent_writers_on_one_cache_file_all_succeed_and_keep_their_entries(tmp_path, articles):
    cache_dir = tmp_path / "cache"
    # forked where possible: a spawned process would spend seconds importing the package
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    with multiprocessing.get_context(method).Pool(3) as pool:
        warnings = pool.map(_write_beside_others, [(articles, cache_dir, n) for n in range(3)], chunksize=1)
    assert warnings == [[], [], []]
    fresh = CachedEmbedder(FakeEmbedder(), cache_dir)
    texts = [f"text {i} of process {n}" for n in range(3) for i in range(300)]
    texts += [f"shared text {i}" for i in range(300)]
    assert np.array_equal(fresh.encode(texts), FakeEmbedder().encode(texts)) and fresh.inner.encoded == 0
    keys = [f"{n}-{r}-{lo}" for n in range(3) for r in range(3) for lo in range(0, 300, 50)]
    assert fresh.get_many("ns", keys) == {k: list(range(int(k.split("-")[2]))) for k in keys}
    scan([articles], embedder=fresh, workers=1)
    assert fresh.inner.encoded == 0 and fresh.warnings == [] and _set_aside(cache_dir) == []


# --- a damaged file ----------------------------------------------------------------------------

def test_damaged_pages_mean_a_scan_without_the_cache_and_the_file_set_aside(tmp_path, articles, models):
    folder = tmp_path / "cache"
    code, warnings, cold = _scan(articles, tmp_path / "cold.json", "--cache-dir", str(folder))
    assert code == 0 and warnings == []
    (path,) = cache_admin.cache_files(folder)
    _damage_pages(path)
    code, warnings, report = _scan(articles, tmp_path / "damaged.json", "--cache-dir", str(folder))
    assert code == 0 and report == cold
    (aside,) = _set_aside(folder)
    assert warnings == [f"warning: cache file {path} was damaged (database disk image is malformed): set aside as "
                        f"{aside}; this run goes on without the cache, the next one starts a new one"]
    code, warnings, report = _scan(articles, tmp_path / "new.json", "--cache-dir", str(folder))
    assert code == 0 and warnings == [] and report == cold and models[-1].encoded > 0
    code, warnings, report = _scan(articles, tmp_path / "warm.json", "--cache-dir", str(folder))
    assert code == 0 and warnings == [] and report == cold and models[-1].encoded == 0


def test_a_damaged_file_another_process_has_open_is_left_until_it_is_closed(tmp_path):
    folder = tmp_path / "cache"
    path = _make_cache(folder, [f"text {i}" for i in range(50)])
    _damage_pages(path)
    with held(path, "open"):
        cached = CachedEmbedder(FakeEmbedder(), folder)
        assert np.array_equal(cached.encode(["text 1"]), FakeEmbedder().encode(["text 1"]))
        assert cached.warnings == [f"cache file {path} is damaged (database disk image is malformed): this run goes "
                                   "on without the cache; once no other scan uses it, run `provenance cache clear "
                                   "--yes` or delete it"]
        assert _set_aside(folder) == []
    cached = CachedEmbedder(FakeEmbedder(), folder)  # the next run
    cached.encode(["text 1"])
    assert len(_set_aside(folder)) == 1 and "set aside" in cached.warnings[0]


def test_a_file_that_is_not_a_database_is_set_aside_and_a_new_one_started(tmp_path):
    folder = tmp_path / "cache"
    path = _make_cache(folder)
    path.write_bytes(b"not a database" * 100)
    cached = CachedEmbedder(FakeEmbedder(), folder)
    (aside,) = _set_aside(folder)
    assert cached.warnings == [f"cache file {path} was damaged (file is not a database): set aside as {aside}; "
                               "starting a new one"]
    cached.encode(["new text"])
    cached.close()
    fresh = CachedEmbedder(FakeEmbedder(), folder)
    fresh.encode(["new text"])
    assert fresh.inner.encoded == 0 and fresh.warnings == []


def test_cache_commands_name_each_damaged_file_in_one_line_and_go_on_with_the_others(tmp_path):
    folder = tmp_path / "cache"
    path = _make_cache(folder, [f"text {i}" for i in range(50)])
    healthy = CachedEmbedder(FakeEmbedder(dimension=8), folder)
    healthy.encode(["one"])
    healthy.close()
    _damage_pages(path)
    fix = f"Error: cache file {path} is damaged (database disk image is malformed): run `provenance cache clear " \
          "--yes` or delete it"
    runner = CliRunner()
    res = runner.invoke(main, ["cache", "info", "--cache-dir", str(folder)])
    assert res.exit_code == 1 and res.stderr.splitlines() == [fix]
    assert str(healthy.path) in res.stdout and "1 vectors" in res.stdout
    res = runner.invoke(main, ["cache", "prune", "--unused-for", "0", "--cache-dir", str(folder)])
    assert res.exit_code == 1 and res.stderr.splitlines() == [fix]
    assert res.stdout.startswith("removed 0 vectors and 0 results from 1 file(s)")
    res = runner.invoke(main, ["cache", "clear", "--yes", "--cache-dir", str(folder)])
    assert res.exit_code == 0 and res.stderr == "" and list(folder.iterdir()) == []


# --- cache commands on a locked file ----------------------------------------------------------

def test_cache_info_on_a_locked_file_says_so_and_never_advises_deleting_it(tmp_path):
    folder = tmp_path / "cache"
    path = _make_cache(folder, journal="delete")
    runner = CliRunner()
    with held(path, "BEGIN EXCLUSIVE"):
        res = runner.invoke(main, ["cache", "info", "--cache-dir", str(folder)])
    assert res.exit_code == 1 and res.stderr.splitlines() == [
        f"Error: cache file {path} is locked by another process (a scan or prune still running?): try again when it "
        "has finished"]
    assert path.exists() and _set_aside(folder) == []
    res = runner.invoke(main, ["cache", "info", "--cache-dir", str(folder)])
    assert res.exit_code == 0 and "1 vectors" in res.stdout


def test_cache_info_reads_a_file_in_wal_mode_while_a_scan_writes(tmp_path):
    folder = tmp_path / "cache"
    path = _make_cache(folder)
    with held(path, "BEGIN IMMEDIATE"):
        res = CliRunner().invoke(main, ["cache", "info", "--cache-dir", str(folder)])
    assert res.exit_code == 0 and "1 vectors" in res.stdout and res.stderr == ""


def test_cache_prune_and_clear_leave_a_file_another_process_holds(tmp_path):
    folder = tmp_path / "cache"
    path = _make_cache(folder)
    runner = CliRunner()
    with held(path, "BEGIN IMMEDIATE"):
        res = runner.invoke(main, ["cache", "prune", "--unused-for", "0", "--cache-dir", str(folder)])
    assert res.exit_code == 1 and "is locked by another process" in res.stderr and "delete" not in res.stderr
    assert len(res.stderr.splitlines()) == 1
    with held(path, "open"):
        res = runner.invoke(main, ["cache", "clear", "--yes", "--cache-dir", str(folder)])
    assert res.exit_code == 1 and res.stderr.splitlines() == [
        f"Error: cache file {path} is in use by another process (a scan still running?): not deleted; run "
        "`provenance cache clear` again when it has finished"]
    assert path.exists()
    res = runner.invoke(main, ["cache", "clear", "--yes", "--cache-dir", str(folder)])
    assert res.exit_code == 0 and list(folder.iterdir()) == []


# --- a folder that cannot be written ---------------------------------------------------------

def _one_unwritable_warning(warnings: list[str], folder) -> None:
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(f"warning: cannot write the embedding cache in {folder} (")
    assert warnings[0].endswith("this run goes on without it; pass --cache-dir with a writable folder, or --no-cache")


def test_a_cache_dir_below_a_file_means_a_scan_without_the_cache(tmp_path, articles, models):
    (tmp_path / "file").write_text("a file, not a folder")
    code, warnings, plain = _scan(articles, tmp_path / "plain.json", "--no-cache")
    folder = tmp_path / "file" / "cache"
    code, warnings, report = _scan(articles, tmp_path / "report.json", "--cache-dir", str(folder))
    assert code == 0 and report == plain
    _one_unwritable_warning(warnings, folder)
    assert "Not a directory" in warnings[0]


def test_index_add_with_an_unusable_cache_dir_goes_on_and_says_so(tmp_path, articles, models):
    (tmp_path / "file").write_text("a file, not a folder")
    folder = tmp_path / "file" / "cache"
    res = CliRunner().invoke(main, ["index", "add", "wires", str(articles), "--index-dir", str(tmp_path / "idx"),
                                    "--cache-dir", str(folder)])
    assert res.exit_code == 0 and "added 2 document(s)" in res.stdout
    _one_unwritable_warning([line for line in res.stderr.splitlines() if line.startswith("warning:")], folder)


def test_a_read_only_file_system_means_a_scan_without_the_cache(tmp_path, articles, models, monkeypatch):
    folder = tmp_path / "cache"
    mkdir = pathlib.Path.mkdir

    def read_only(self, *args, **kwargs):
        if self == folder:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return mkdir(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "mkdir", read_only)
    code, warnings, report = _scan(articles, tmp_path / "report.json", "--cache-dir", str(folder))
    assert code == 0 and report is not None
    _one_unwritable_warning(warnings, folder)


@pytest.mark.parametrize("existing", [None, "wal", "delete"])
def test_a_cache_sqlite_may_only_read_means_a_scan_without_the_cache(tmp_path, articles, models, monkeypatch,
                                                                      existing):
    folder = tmp_path / "cache"
    if existing:  # in WAL mode SQLite cannot even read it; in the other, writes fail
        _make_cache(folder, journal=existing)
    else:
        folder.mkdir()
    # what SQLite does in a folder or on a file the user may not write (tests may run as root)
    monkeypatch.setattr(c, "open_db", lambda path, timeout, create=True: sqlite3.connect(
        f"file:{path}?mode=ro", uri=True, timeout=timeout, isolation_level=None, check_same_thread=False))
    code, warnings, report = _scan(articles, tmp_path / "report.json", "--cache-dir", str(folder))
    assert code == 0 and report is not None
    _one_unwritable_warning(warnings, folder)
