"""Over-long documents added to an archive (`index add`) or scanned against one (`scan --index`):
at most `max_semantic_sentences` of their sentences are encoded, as in a local scan; the archive
stores which sentences have vectors (`encoded`), and a later scan never reads a missing vector as
a zero vector. Archives from before (schema 1) still load."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

from provenance import archive as arch
from provenance import archive_ops, index_add, index_remove, scan
from provenance.archive_meta import Damaged, check_meta
from provenance.cli import main
from provenance.errors import ArchiveError
from provenance.report import build_report, validate_report
from provenance.settings import ScanSettings
from tests.conftest import SEEDS, FakeEmbedder
from tests.test_semantic_budget import INSIDE, LIMIT, write_book

CAPPED = replace(ScanSettings(), max_semantic_sentences=LIMIT)


@pytest.fixture
def book(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    return write_book(folder)


def _meta(root):
    gdir = root / (root / "CURRENT").read_text("utf-8").strip()
    return json.loads((gdir / "meta.json").read_text("utf-8"))


def _seed_sentences(result, but: str = "book") -> int:
    return sum(len(p.seg.sentences) for p in result.prepared if p.doc.id != but)


def test_index_add_encodes_a_long_document_within_the_budget(book, tmp_path):
    embedder = FakeEmbedder()
    res = index_add("a", [book, SEEDS], tmp_path, embedder=embedder, settings=CAPPED)
    local = scan([book, SEEDS], embedder=FakeEmbedder(), settings=CAPPED, workers=1)
    n_book = next(len(p.seg.sentences) for p in local.prepared if p.doc.id == "book")
    assert n_book > 240 and embedder.encoded <= LIMIT + _seed_sentences(local)
    assert len(res.warnings) == 1 and str(book) in res.warnings[0] and f"{n_book} sentences" in res.warnings[0]
    meta = _meta(tmp_path / "a")
    assert meta["schema_version"] == 2 and meta["rows"] == res.vectors == LIMIT + _seed_sentences(local)
    stored = {d["id"]: d for d in meta["documents"]}
    assert not any("encoded" in d for i, d in stored.items() if i != "book")
    # the batch is the scan: the same sentences as a local scan of the same inputs picks
    book_index = [p.doc.id for p in local.prepared].index("book")
    assert stored["book"]["encoded"] == list(local.semantic_sentences[book_index])
    assert stored["book"]["limit"] == LIMIT and not any("limit" in d for i, d in stored.items() if i != "book")
    loaded = arch.load("a", tmp_path)
    assert next(d for d in loaded.documents if d.doc.id == "book").encoded == tuple(stored["book"]["encoded"])
    # removing another document keeps the book's selection and its vectors
    before = loaded.vectors[slice(*next(d.rows for d in loaded.documents if d.doc.id == "book"))]
    index_remove("a", [INSIDE[0].stem], tmp_path)
    after = arch.load("a", tmp_path)
    kept = next(d for d in after.documents if d.doc.id == "book")
    assert kept.encoded == tuple(stored["book"]["encoded"]) and np.array_equal(after.vectors[slice(*kept.rows)], before)
    assert kept.limit == LIMIT


def test_cli_index_add_warns_and_takes_the_flag(book, tmp_path, monkeypatch):
    monkeypatch.setattr("provenance.embed.load_model", lambda name=None, **kw: FakeEmbedder())
    res = CliRunner().invoke(main, ["index", "add", "a", str(book), "--index-dir", str(tmp_path), "--no-cache",
                                    "--max-semantic-sentences", str(LIMIT)])
    assert res.exit_code == 0, res.output
    lines = [x for x in res.output.splitlines() if "--max-semantic-sentences" in x]
    assert len(lines) == 1 and lines[0].startswith("warning: ") and "book.txt" in lines[0]
    assert f"{LIMIT} vectors" in res.output
    res = CliRunner().invoke(main, ["index", "add", "b", str(book), "--index-dir", str(tmp_path), "--no-cache",
                                    "--max-semantic-sentences", "0"])
    assert res.exit_code == 0 and "--max-semantic-sentences" not in res.output
    assert _meta(tmp_path / "b")["schema_version"] == 1  # nothing left out: readable by older tools too


def test_scan_index_encodes_a_new_long_document_within_the_budget(book, tmp_path):
    index_add("a", [str(p) for p in INSIDE], tmp_path, embedder=FakeEmbedder())
    embedder = FakeEmbedder()
    result = scan([book], embedder=embedder, settings=CAPPED, index="a", index_dir=tmp_path, workers=1)
    assert embedder.encoded <= LIMIT
    report = build_report(result)
    validate_report(report)
    docs = {d["id"]: d for d in report["documents"]}
    mark = docs["book"]["semantic_sentences"]
    assert mark["encoded"] == LIMIT and mark["limit"] == LIMIT and mark["sentences"] > 240
    assert len([w for w in report["warnings"] if "--max-semantic-sentences" in w]) == 1
    ids = [p.doc.id for p in result.prepared]
    for path in INSIDE:  # each archived article is found inside the book, sentence by sentence
        seed = ids.index(path.stem)
        assert docs[path.stem]["archived"] is True
        pair = next(a for a in result.alignments if {a.a, a.b} == {seed, ids.index("book")})
        assert len(pair.blocks) >= 0.9 * len(result.prepared[seed].seg.sentences), path.name


def test_an_archived_long_document_is_compared_without_its_missing_vectors(book, tmp_path, monkeypatch):
    """New articles against an archive holding the book: the same alignments with the book as a
    local scan of them all gives, no budget warning for the archived book, and rows without a
    vector are never read (filled with NaN here, the report is the same)."""
    index_add("a", [book], tmp_path, embedder=FakeEmbedder(), settings=CAPPED)
    new = tmp_path / "new"
    new.mkdir()
    for p in INSIDE:
        shutil.copy(p, new / p.name)

    def run():
        return scan([new], embedder=FakeEmbedder(), settings=CAPPED, index="a", index_dir=tmp_path, workers=1)

    result = run()
    report = build_report(result)
    assert not any("--max-semantic-sentences" in w for w in report["warnings"])  # chosen at `index add`
    book_entry = next(d for d in report["documents"] if d["id"] == "book")
    assert book_entry["archived"] and book_entry["semantic_sentences"]["encoded"] == LIMIT
    # the limit its sentences were chosen under at `index add`, whatever this scan's limit is
    for limit in (0, 1000):
        settings = replace(CAPPED, max_semantic_sentences=limit)
        later = build_report(scan([new], embedder=FakeEmbedder(), settings=settings, index="a", index_dir=tmp_path,
                                  workers=1))
        entry = next(d for d in later["documents"] if d["id"] == "book")["semantic_sentences"]
        assert (entry["encoded"], entry["limit"]) == (LIMIT, LIMIT)

    def nan_gaps(held, encoded, sentences):
        full, mask = real(held, encoded, sentences)
        if mask is not None:
            full = full.copy()
            full[~mask] = np.nan
        return full, mask

    real = archive_ops.with_gaps
    monkeypatch.setattr(archive_ops, "with_gaps", nan_gaps)
    assert build_report(run()) == report
    monkeypatch.undo()
    ids = [p.doc.id for p in result.prepared]
    for path in INSIDE:
        seed = ids.index(path.stem)
        pair = next(a for a in result.alignments if {a.a, a.b} == {seed, ids.index("book")})
        assert len(pair.blocks) >= 0.9 * len(result.prepared[seed].seg.sentences), path.name


def test_archives_from_before_and_malformed_selections(tmp_path):
    index_add("old", [str(p) for p in INSIDE], tmp_path, embedder=FakeEmbedder())
    meta = _meta(tmp_path / "old")
    assert meta["schema_version"] == 1 and not any("encoded" in d for d in meta["documents"])
    assert all(d.encoded is None for d in arch.load("old", tmp_path).documents)
    doc = meta["documents"][0]
    n = len(doc["sentences"])
    bad = [{**doc, "encoded": x, "rows": [0, 2]} for x in ([1, 0], [0, n], ["a", 1])]
    v2 = {**meta, "schema_version": 2}
    for d in bad:
        with pytest.raises(Damaged, match=r"'encoded' is not a list of ascending sentence numbers"):
            check_meta({**v2, "documents": [d], "rows": 2})
    good = {**doc, "encoded": [0, n - 1], "rows": [0, 2]}
    check_meta({**v2, "documents": [good], "rows": 2})
    with pytest.raises(Damaged, match=r"'encoded' in a version 1 archive"):  # older tools would misread it
        check_meta({**meta, "documents": [good], "rows": 2})
    gdir = tmp_path / "old" / (tmp_path / "old" / "CURRENT").read_text("utf-8").strip()
    (gdir / "meta.sha256").unlink()
    (gdir / "meta.json").write_text(json.dumps({**meta, "schema_version": 3, "meta_checksum": None}), "utf-8")
    with pytest.raises(ArchiveError, match=r"has schema version 3, this tool reads 1 and 2; rebuild it with "):
        arch.load("old", tmp_path)
