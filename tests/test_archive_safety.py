"""Archives under damage and concurrency: a lost or dangling CURRENT, a reader racing a writer,
an edited or malformed meta.json, bad names and empty inputs. Every failure is one ArchiveError
or InputError line; nothing is lost or created silently."""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from provenance import archive as arch
from provenance import index_add, index_info, index_remove, index_repair, scan
from provenance.cli import main
from provenance.errors import ArchiveError, InputError
from tests.conftest import ROOT, SEEDS, FakeEmbedder

WIRE, RFI, AM, NAT, COPY = (f"{x}.txt" for x in ("000_dd2761f3083befb7", "001_2a7d6a1efb716f92",
                                                   "002_a744cf46346e926e", "003_c07afd8436c39a75",
                                                   "004_26451090c78396de"))
WIRE_ID, AM_ID, NAT_ID, COPY_ID = "000_dd2761f3083befb7", "002_a744cf46346e926e", "003_c07afd8436c39a75", \
    "004_26451090c78396de"


def seeds(*names):
    return [str(SEEDS / n) for n in names]


def gens(root):
    return sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.startswith("gen-") and "." not in p.name)


def cli(tmp_path, monkeypatch, *args):
    monkeypatch.setattr("provenance.embed.load_model", lambda name=None, **kw: FakeEmbedder())
    return CliRunner().invoke(main, [*args, "--index-dir", str(tmp_path)])


def one_line_error(res, start="Error: "):
    assert res.exit_code == 1, res.output
    assert res.output.startswith(start) and len(res.output.strip().splitlines()) == 1, res.output
    assert "internal error" not in res.output and "Traceback" not in res.output


@pytest.fixture
def two_docs(tmp_path):
    """Archive 'a' with WIRE and AM, in gen-000001."""
    index_add("a", seeds(WIRE, AM), tmp_path, embedder=FakeEmbedder())
    return tmp_path / "a"


@pytest.fixture
def kept_older(two_docs, tmp_path):
    """Archive 'a' with gen-000001 (WIRE, AM) kept by a reader's lock and gen-000002 (+ NAT) live."""
    with reader_holds(two_docs / "gen-000001"):
        index_add("a", seeds(NAT), tmp_path, embedder=FakeEmbedder())
    assert gens(two_docs) == ["gen-000001", "gen-000002"]
    return two_docs


class reader_holds:
    """What a reader does while loading a generation: a shared flock on its `.readers` file."""

    def __init__(self, gdir, mode=fcntl.LOCK_SH):
        self.gdir, self.mode = gdir, mode

    def __enter__(self):
        self.fh = open(self.gdir / ".readers", "rb")
        fcntl.flock(self.fh, self.mode)
        return self

    def __exit__(self, *exc):
        self.fh.close()


# --- 1. a missing, unreadable or dangling CURRENT is refused, never overwritten ------------------

def test_add_after_current_is_lost_is_refused_and_loses_nothing(two_docs, tmp_path, monkeypatch):
    (two_docs / "CURRENT").unlink()
    with pytest.raises(ArchiveError, match=r"CURRENT is missing but gen-000001 is there\): run "
                                           r"`provenance index repair a`"):
        index_add("a", seeds(NAT), tmp_path, embedder=FakeEmbedder())
    assert gens(two_docs) == ["gen-000001"]  # the only copy of WIRE and AM is still there
    res = cli(tmp_path, monkeypatch, "index", "add", "a", *seeds(NAT))
    one_line_error(res, "Error: index 'a' in ")
    assert "provenance index repair a" in res.output and "added" not in res.output
    for args in (("index", "info", "a"), ("index", "remove", "a", WIRE_ID), ("scan", *seeds(COPY), "--index", "a")):
        res = cli(tmp_path, monkeypatch, *args)
        one_line_error(res, "Error: index 'a' in ")
        assert "CURRENT is missing" in res.output
    assert gens(two_docs) == ["gen-000001"] and not (two_docs / "CURRENT").exists()
    rep = index_repair("a", tmp_path)
    assert rep.generation == "gen-000001" and rep.problem.startswith("CURRENT is missing")
    assert index_info("a", tmp_path)["ids"] == [WIRE_ID, AM_ID]
    assert index_add("a", seeds(NAT), tmp_path, embedder=FakeEmbedder()).documents == 3


@pytest.mark.parametrize("content, problem", [
    (b"\xff\xfe\x00garbage", "CURRENT does not name a generation"),
    (b"", "CURRENT does not name a generation"),
    (b"gen-000009\n", "CURRENT names gen-000009, which is missing"),
])
def test_an_unreadable_or_dangling_current_is_refused(two_docs, tmp_path, content, problem):
    (two_docs / "CURRENT").write_bytes(content)
    for op in (lambda: arch.load("a", tmp_path), lambda: index_info("a", tmp_path),
               lambda: index_add("a", seeds(NAT), tmp_path, embedder=FakeEmbedder()),
               lambda: index_remove("a", [WIRE_ID], tmp_path)):
        with pytest.raises(ArchiveError, match=f"is corrupted \\({problem}.*provenance index repair a"):
            op()
    assert gens(two_docs) == ["gen-000001"]
    assert index_repair("a", tmp_path).generation == "gen-000001"
    assert arch.load("a", tmp_path).ids == [WIRE_ID, AM_ID]


def test_repair_points_at_the_newest_intact_generation_and_deletes_nothing(kept_older, tmp_path, monkeypatch):
    root = kept_older
    (root / "CURRENT").unlink()
    with open(root / "gen-000002" / "vectors.npy", "r+b") as fh:  # the newest is damaged too
        fh.seek(200)
        fh.write(b"\xff\xff\xff\xff")
    res = cli(tmp_path, monkeypatch, "index", "repair", "a")
    assert res.exit_code == 0, res.output
    assert ("warning: passed over gen-000002 (vectors.npy does not match its checksum); left in place"
            in res.output)
    assert "index a: CURRENT now names gen-000001 (2 documents" in res.output
    assert "it was unusable: CURRENT is missing but gen-000001, gen-000002 are there" in res.output
    assert gens(root) == ["gen-000001", "gen-000002"]
    assert index_info("a", tmp_path)["ids"] == [WIRE_ID, AM_ID]
    # the next writer supersedes gen-000001 only: the damaged, never-superseded gen-000002 stays
    assert index_add("a", seeds(COPY), tmp_path, embedder=FakeEmbedder()).generation == "gen-000003"
    assert gens(root) == ["gen-000002", "gen-000003"]


def test_repair_rolls_back_from_a_damaged_live_generation(kept_older, tmp_path):
    meta = kept_older / "gen-000002" / "meta.json"
    meta.write_bytes(meta.read_bytes().replace(b"Baghdad", b"Bagdad", 1))
    with pytest.raises(ArchiveError, match=r"is corrupted \(meta.json does not match its checksum in meta.sha256\): "
                                           r"run `provenance index repair a`"):
        arch.load("a", tmp_path)
    rep = index_repair("a", tmp_path)
    assert rep.generation == "gen-000001" and rep.problem.startswith("gen-000002: meta.json does not match")
    assert rep.damaged == (("gen-000002", "meta.json does not match its checksum in meta.sha256"),)


def test_repair_of_an_intact_missing_or_hopeless_archive(two_docs, tmp_path, monkeypatch):
    res = cli(tmp_path, monkeypatch, "index", "repair", "a")
    assert res.exit_code == 0 and res.output == "index a: intact (gen-000001, 2 documents); nothing to repair\n"
    assert (two_docs / "CURRENT").read_text() == "gen-000001\n"
    res = cli(tmp_path, monkeypatch, "index", "repair", "nope")
    one_line_error(res, "Error: index 'nope' in ")
    assert "does not exist" in res.output and not (tmp_path / "nope").exists()
    (two_docs / "CURRENT").unlink()
    (two_docs / "gen-000001" / "index.faiss").write_bytes(b"not faiss")
    res = cli(tmp_path, monkeypatch, "index", "repair", "a")
    one_line_error(res, "Error: index 'a' in ")
    assert "has no intact generation" in res.output and "index.faiss does not match its checksum" in res.output


# --- 5. a reader keeps the generation it started with -----------------------------------------

def test_a_scan_survives_a_writer_committing_after_it_loaded_the_archive(two_docs, tmp_path, monkeypatch):
    # the reported race: scan --index loaded gen-000001, index add then swapped in gen-000002 and
    # deleted gen-000001, and the scan reopened gen-000001/index.faiss to search it
    real_load = arch.load
    commits = []

    def load_then_commit(*args, **kwargs):
        archive = real_load(*args, **kwargs)
        if not commits:
            commits.append(None)
            commits[0] = index_add("a", seeds(NAT), tmp_path, embedder=FakeEmbedder()).generation
        return archive

    monkeypatch.setattr(arch, "load", load_then_commit)
    result = scan(seeds(COPY), embedder=FakeEmbedder(), index="a", index_dir=tmp_path)
    assert commits == ["gen-000002"] and gens(two_docs) == ["gen-000002"]  # the writer did delete it
    ids = {p.doc.id for p in result.prepared}
    assert WIRE_ID in ids and NAT_ID not in ids  # compared with the generation it started with


def test_a_writer_leaves_a_generation_a_reader_holds_for_the_next_writer(two_docs, tmp_path):
    with reader_holds(two_docs / "gen-000001"):
        index_add("a", seeds(NAT), tmp_path, embedder=FakeEmbedder())
        assert gens(two_docs) == ["gen-000001", "gen-000002"]
        assert arch.load("a", tmp_path).generation == "gen-000002"
    index_add("a", seeds(COPY), tmp_path, embedder=FakeEmbedder())
    assert gens(two_docs) == ["gen-000003"]  # both superseded generations collected


@pytest.mark.parametrize("deleting", [False, True])
def test_a_reader_that_read_current_just_before_a_commit_retries_with_the_new_one(
        kept_older, tmp_path, monkeypatch, deleting):
    # the reader read CURRENT (gen-000001), then the writer committed gen-000002 and deleted
    # gen-000001 (or is deleting it: it holds the generation's lock exclusively)
    real = arch.read_current
    stale = ["gen-000001"]
    monkeypatch.setattr(arch, "read_current", lambda root: stale.pop() if stale else real(root))
    if deleting:
        with reader_holds(kept_older / "gen-000001", fcntl.LOCK_EX):
            loaded = arch.load("a", tmp_path)
    else:
        shutil.rmtree(kept_older / "gen-000001")
        loaded = arch.load("a", tmp_path)
    assert loaded.generation == "gen-000002" and loaded.ids == [WIRE_ID, AM_ID, NAT_ID]


def test_a_reader_gives_up_with_one_line_when_the_archive_keeps_moving(kept_older, tmp_path, monkeypatch):
    def always_gone(gdir):
        raise arch.GenerationGone()

    monkeypatch.setattr(arch, "read_generation", always_gone)
    calls = iter(range(100))  # every read of CURRENT names a newer generation
    monkeypatch.setattr(arch, "read_current", lambda root: f"gen-{next(calls):06d}")
    with pytest.raises(ArchiveError, match="changed under this reader 3 times .* try again"):
        arch.load("a", tmp_path)


def test_loaded_archive_needs_no_file_afterwards(two_docs, tmp_path):
    loaded = arch.load("a", tmp_path)
    shutil.rmtree(two_docs)
    scores, rows = loaded.faiss_index().search(loaded.vectors[:2], 1)
    assert rows[:, 0].tolist() == [0, 1] and loaded.size_on_disk() > 0


def test_readers_and_a_writer_in_separate_processes_never_fail_or_lose_a_document(tmp_path):
    folder = tmp_path / "new"
    folder.mkdir()
    text = (SEEDS / AM).read_text("utf-8")
    for k in range(8):
        (folder / f"extra-{k}.txt").write_text(f"Round {k} of the test.\n{text}", "utf-8")
    index_add("a", seeds(WIRE), tmp_path, embedder=FakeEmbedder())
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from tests.conftest import FakeEmbedder\n"
        "from provenance import index_add\n"
        f"for k in range(8):\n"
        f"    index_add('a', [{str(folder)!r} + f'/extra-{{k}}.txt'], {str(tmp_path)!r}, embedder=FakeEmbedder())\n")
    writer = subprocess.Popen([sys.executable, "-c", code])
    seen = []
    while writer.poll() is None or not seen:
        a = arch.load("a", tmp_path)
        a.faiss_index().search(a.vectors[:1], 3)
        seen.append(len(a.ids))
        assert a.ids[0] == WIRE_ID and a.ids[1:] == [f"extra-{k}" for k in range(len(a.ids) - 1)]
    assert writer.wait() == 0
    assert arch.load("a", tmp_path).ids == [WIRE_ID] + [f"extra-{k}" for k in range(8)]
    assert seen == sorted(seen)


# --- 7. meta.json is checked, not trusted -----------------------------------------------------

def edit_meta(root, change, checksum="drop"):
    """Apply `change` to the live meta.json. checksum='drop' makes it an archive from before
    meta.sha256 existed (so only the structural checks can catch the edit); 'keep' leaves the
    old checksum; 'drop-file' removes only meta.sha256."""
    gdir = root / (root / "CURRENT").read_text().strip()
    meta = json.loads((gdir / "meta.json").read_text("utf-8"))
    change(meta)
    if checksum == "drop":
        del meta["meta_checksum"]
    if checksum in ("drop", "drop-file"):
        (gdir / "meta.sha256").unlink()
    (gdir / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")


def test_an_edited_text_is_refused_by_the_checksum(two_docs, tmp_path, monkeypatch):
    edit_meta(two_docs, lambda m: m["documents"][0].update(text=m["documents"][0]["text"].replace("Iraq", "Iran")),
              checksum="keep")
    for op in (lambda: arch.load("a", tmp_path), lambda: index_info("a", tmp_path),
               lambda: index_add("a", seeds(NAT), tmp_path, embedder=FakeEmbedder()),
               lambda: index_remove("a", [AM_ID], tmp_path),
               lambda: scan(seeds(COPY), embedder=FakeEmbedder(), index="a", index_dir=tmp_path)):
        with pytest.raises(ArchiveError, match=r"^index 'a' in .* is corrupted \(meta.json does not match its "
                                               r"checksum in meta.sha256\): rebuild it: remove .*index add a"):
            op()
    assert gens(two_docs) == ["gen-000001"]


def test_a_deleted_checksum_file_is_damage_in_a_new_archive(two_docs, tmp_path):
    edit_meta(two_docs, lambda m: None, checksum="drop-file")
    with pytest.raises(ArchiveError, match=r"is corrupted \(meta.sha256, the checksum of meta.json, is missing\)"):
        arch.load("a", tmp_path)


def test_an_archive_from_before_the_checksum_is_still_read(two_docs, tmp_path):
    edit_meta(two_docs, lambda m: None)
    assert arch.load("a", tmp_path).ids == [WIRE_ID, AM_ID]
    assert index_add("a", seeds(NAT), tmp_path, embedder=FakeEmbedder()).documents == 3
    assert (two_docs / "gen-000002" / "meta.sha256").is_file()  # the next generation has one


def _first(m):
    return m["documents"][0]


@pytest.mark.parametrize("change, problem", [
    (lambda m: _first(m).update(text=_first(m)["text"][: len(_first(m)["text"]) // 2]),
     r"document '000_dd2761f3083befb7': sentence span \[\d+, \d+\] is not within its text of \d+ characters"),
    (lambda m: m["documents"][1].update(id=_first(m)["id"]), "document '000_dd2761f3083befb7' appears twice"),
    (lambda m: _first(m).pop("text"), "document 0 has no 'text'"),
    (lambda m: m.pop("documents"), "meta.json has no 'documents'"),
    (lambda m: m.update(rows=str(m["rows"])), "'rows' is a str, expected int"),
    (lambda m: m.update(dimension=True), "'dimension' is a bool, expected int"),
    (lambda m: _first(m).update(rows=[0, "3"]), "rows .* is not a pair of integers"),
    (lambda m: _first(m).update(sentences=_first(m)["sentences"][:-1]), r"rows \[0, \d+\], expected \[0, \d+\]"),
    (lambda m: m.update(rows=m["rows"] + 1), r"the documents cover \d+ rows, 'rows' says \d+"),
    (lambda m: _first(m).update(languages={"document": "en"}), "'languages' is malformed"),
    (lambda m: m["files"].pop("index.faiss"), "no checksum for index.faiss"),
    (lambda m: m.update(documents={}), "'documents' is a dict, expected list"),
])
def test_malformed_meta_is_one_corruption_error_everywhere(two_docs, tmp_path, monkeypatch, change, problem):
    edit_meta(two_docs, change)
    before = (two_docs / "gen-000001" / "meta.json").read_bytes()
    for op in (lambda: index_info("a", tmp_path),
               lambda: index_add("a", seeds(NAT), tmp_path, embedder=FakeEmbedder()),
               lambda: index_remove("a", [AM_ID], tmp_path),
               lambda: scan(seeds(COPY), embedder=FakeEmbedder(), index="a", index_dir=tmp_path)):
        with pytest.raises(ArchiveError, match=f"^index 'a' in .* is corrupted \\(.*{problem}.*\\): rebuild it"):
            op()
    assert gens(two_docs) == ["gen-000001"]  # add and remove wrote nothing
    assert (two_docs / "gen-000001" / "meta.json").read_bytes() == before
    res = cli(tmp_path, monkeypatch, "index", "info", "a")
    one_line_error(res, "Error: index 'a' in ")


def test_vectors_that_do_not_fit_meta_are_refused(two_docs, tmp_path):
    # consistent checksums, inconsistent content: vectors of the wrong width
    gdir = two_docs / "gen-000001"
    rows = arch.load("a", tmp_path).vectors.shape[0]
    np.save(gdir / "vectors.npy", np.zeros((rows, 8), np.float32), allow_pickle=False)
    edit_meta(two_docs, lambda m: m["files"].update({"vectors.npy": hashlib.sha256(
        (gdir / "vectors.npy").read_bytes()).hexdigest()}))
    with pytest.raises(ArchiveError, match=rf"is corrupted \(vectors \({rows}, 8\) float32, expected \({rows}, 256\)"):
        arch.load("a", tmp_path)


# --- 10. names, missing archives and empty inputs create nothing --------------------------------

def test_remove_from_a_missing_archive_creates_nothing(tmp_path, monkeypatch):
    res = cli(tmp_path, monkeypatch, "index", "remove", "nope", "x")
    one_line_error(res, "Error: index 'nope' in ")
    assert "does not exist: create it with `provenance index add nope PATH...`" in res.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [("index", "add", "N", *seeds(WIRE)), ("index", "info", "N"),
                                  ("index", "remove", "N", "x"), ("index", "repair", "N"),
                                  ("scan", *seeds(COPY), "--index", "N")])
def test_a_too_long_name_is_one_line(tmp_path, monkeypatch, args):
    long = "n" * 300
    res = cli(tmp_path, monkeypatch, *[long if a == "N" else a for a in args])
    one_line_error(res, f"Error: index name '{'n' * 24}'... is 300 bytes long: use a name of at most 100 bytes")
    assert list(tmp_path.iterdir()) == []


def test_add_with_no_usable_article_is_an_error_and_creates_nothing(tmp_path, monkeypatch):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "empty.txt").write_text("", "utf-8")
    (inputs / "short.txt").write_text("Too short.", "utf-8")
    (inputs / "scan.txt").write_bytes(b"%PDF-1.4 not an article")
    out = tmp_path / "indexes"
    with pytest.raises(InputError, match="no usable article to add to index 'a'"):
        index_add("a", [inputs], out, embedder=FakeEmbedder())
    res = cli(out, monkeypatch, "index", "add", "a", str(inputs))
    one_line_error(res, "Error: no usable article to add to index 'a' (")
    for reason in ("scan.txt: binary content: looks like a PDF file", "empty.txt: empty file",
                   "short.txt: too short to match"):
        assert reason in res.output
    assert "nothing was changed" in res.output and not out.exists()


def test_add_with_no_usable_article_leaves_an_existing_archive_alone(two_docs, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", "utf-8")
    with pytest.raises(InputError, match=r"\(.*empty.txt: empty file\); nothing was changed"):
        index_add("a", [empty], tmp_path, embedder=FakeEmbedder())
    assert gens(two_docs) == ["gen-000001"] and arch.load("a", tmp_path).ids == [WIRE_ID, AM_ID]


def test_an_unwritable_index_dir_is_one_line(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x", "utf-8")
    res = cli(blocker / "sub", monkeypatch, "index", "add", "a", *seeds(WIRE))
    one_line_error(res, "Error: cannot open index 'a' in ")
    assert "check the folder's permissions" in res.output


def test_repair_that_cannot_write_current_is_one_line(two_docs, tmp_path, monkeypatch):
    (two_docs / "CURRENT").unlink()

    def read_only(root, gen):
        raise PermissionError(13, "Permission denied", str(root / "CURRENT.tmp"))

    monkeypatch.setattr(arch, "point_current", read_only)
    with pytest.raises(ArchiveError, match=r"cannot write .*CURRENT \(Permission denied\): check the folder's"):
        index_repair("a", tmp_path)
