"""`--engine spark` gives the local engine's documents: same relation, parent and alignments, on
the seed corpus (real model), on planted-edit copies, and on a scan of several stories in several
languages (more than one component: the blocking must keep every pair the local engine links
together). Bad input becomes `skipped` rows, never a failed job; `--output-dir` writes part files
that read back. One SparkSession (local[2]) for the whole test session: it takes seconds to start."""

from __future__ import annotations

import json
import shutil

import pytest

from benchmarks.planted import build_corpus
from provenance import build_report, scan, validate_report
from provenance.embed import HashingEmbedder
from provenance.spark_blocks import BlockSettings, blocking_keys, components
from provenance.spark_engine import build_spark_report, scan_spark, write_output_dir

from .conftest import ROOT, SEEDS

FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="session")
def spark():
    from provenance.spark_engine import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


def _documents(report: dict) -> dict:
    return {d["id"]: (d["relation"], d["derived_from"], d["alignments"]) for d in report["documents"]}


def _same_as_local(spark, paths, embedder, comps: dict | None = None) -> dict:
    res = scan_spark(paths, spark, embedder=embedder)
    if comps is not None:  # document id -> its component
        comps.update({r["id"]: r["comp"] for r in res.results.filter("kind = 'document'").collect()})
    got = build_spark_report(res)
    validate_report(got)
    want = build_report(scan(paths, embedder=embedder))
    assert _documents(got) == _documents(want)
    assert got["skipped"] == want["skipped"]
    return got


def test_seed_corpus_with_the_real_model_matches_the_local_engine(spark, seed_report):
    got = build_spark_report(scan_spark([str(SEEDS)], spark))
    validate_report(got)
    assert _documents(got) == _documents(seed_report)
    assert got["tool"]["backend"] == seed_report["tool"]["backend"] == "onnx"
    assert [c["members"] for c in got["clusters"]] == [c["members"] for c in seed_report["clusters"]]


def test_planted_edit_copies_match_the_local_engine(spark, tmp_path):
    build_corpus(tmp_path, variants=2, seed=0)
    got = _same_as_local(spark, [str(tmp_path)], HashingEmbedder())
    assert sum(d["relation"] in ("copy", "rewrite") for d in got["documents"]) >= 8


def test_several_stories_and_languages_match_the_local_engine(spark):
    paths = [str(SEEDS), str(FIXTURES / "crosslingual"), str(FIXTURES / "newsroom")]
    comps: dict = {}
    got = _same_as_local(spark, paths, HashingEmbedder(), comps)
    assert len(got["documents"]) == 10
    # the translations are analysed with their sources (blocking links across languages); on ten
    # documents every shared number and name is rare, so both stories fall in one component
    assert comps["de_dpa"] == comps["fr_afp_edition"] and comps["fr_000_afp"] == comps["000_dd2761f3083befb7"]


def test_bad_input_is_skipped_with_the_local_reasons_and_parts_read_back(spark, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "empty.txt").write_text("")
    (src / "short.txt").write_text("Too short.")
    (src / "broken.json").write_text("{not json")
    (src / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (src / "bad.jsonl").write_text('{"id": "x", "text": ""}\nnot json\n')
    for p in sorted(SEEDS.glob("*.txt"))[:3]:
        shutil.copy(p, src / p.name)
    got = _same_as_local(spark, [str(src)], HashingEmbedder())
    assert len(got["skipped"]) == 6 and len(got["documents"]) == 3

    out = tmp_path / "out"
    summary = write_output_dir(scan_spark([str(src)], spark, embedder=HashingEmbedder()), out)
    assert (summary["documents"], summary["skipped"]) == (3, 6)
    assert json.loads((out / "summary.json").read_text("utf-8"))["relations"] == summary["relations"]
    docs = [json.loads(ln) for p in sorted((out / "documents").glob("part-*")) for ln in p.read_text().splitlines()]
    assert sorted(d["id"] for d in docs) == sorted(d["id"] for d in got["documents"])
    skipped = [json.loads(ln) for p in (out / "skipped").glob("part-*") for ln in p.read_text().splitlines()]
    assert sorted(s["path"] for s in skipped) == sorted(s["path"] for s in got["skipped"])

    # a corpus written by Spark (JSON-lines part files in a folder, or a glob of them) reads back
    corpus = tmp_path / "corpus"
    records = [{"id": p.stem, "text": p.read_text("utf-8")} for p in sorted(SEEDS.glob("*.txt"))]
    spark.createDataFrame(records).coalesce(2).write.json(str(corpus))
    assert _documents(_same_as_local(spark, [str(corpus)], HashingEmbedder())) == _documents(
        build_spark_report(scan_spark([str(corpus / "part-*.json")], spark, embedder=HashingEmbedder())))


def test_blocking_keys_come_from_the_document_alone_and_sample_shared_shingles():
    words = "the minister said on tuesday that the new bridge over the river would open in june next year"
    a = blocking_keys([words.capitalize() + "."], [["n:minister", "2021"]], BlockSettings(sample=1))
    b = blocking_keys(["Reuters: " + words + "."], [["2021"]], BlockSettings(sample=1))
    assert "d:n:minister" in a and "d:2021" in b
    assert len({k for k in a if k.startswith("s:")} & set(b)) == 14  # every shared 5-gram
    sampled = blocking_keys([words], [], BlockSettings(sample=4))
    assert set(sampled) < set(blocking_keys([words], [], BlockSettings(sample=1)))


def test_components_are_computed_in_spark(spark):
    vertices = spark.createDataFrame([(i,) for i in range(7)], "uid long")
    links = spark.createDataFrame([(0, 3), (3, 5), (1, 2), (5, 6)], "a long, b long")
    got = {r["uid"]: r["comp"] for r in components(vertices, links).collect()}
    assert got == {0: 0, 3: 0, 5: 0, 6: 0, 1: 1, 2: 1, 4: 4}


def test_cli_writes_a_report_and_part_files_from_a_glob(spark, tmp_path):
    from click.testing import CliRunner

    from provenance.cli import main

    pattern = str(FIXTURES / "crosslingual" / "*.txt")
    res = CliRunner().invoke(main, ["scan", pattern, "--engine", "spark", "--spark-master", "local[2]", "-q",
                                    "-o", str(tmp_path / "r.json"), "--output-dir", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "r.json").read_text("utf-8"))
    assert sorted(d["id"] for d in report["documents"]) == ["es_003_part", "fr_000_afp", "fr_002_half"]
    assert json.loads((tmp_path / "out" / "summary.json").read_text("utf-8"))["documents"] == 3
    assert not spark.sparkContext._jsc.sc().isStopped()  # the test session's Spark is left running


def test_missing_pyspark_or_java_is_one_line_naming_the_fix(monkeypatch, tmp_path):
    import sys

    from click.testing import CliRunner

    from provenance.cli import main

    (tmp_path / "a.txt").write_text("x" * 200)
    monkeypatch.setitem(sys.modules, "pyspark", None)
    res = CliRunner().invoke(main, ["scan", str(tmp_path), "--engine", "spark"])
    assert res.exit_code == 1
    assert res.output.strip().splitlines()[-1] == ("Error: --engine spark needs pyspark: pip install "
                                                   "'provenance[spark]' (or rerun scripts/setup.sh)")
    monkeypatch.delitem(sys.modules, "pyspark")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    res = CliRunner().invoke(main, ["scan", str(tmp_path), "--engine", "spark"])
    assert "Error: --engine spark needs Java 17 or later: install a JDK" in res.output


def test_output_dir_needs_the_spark_engine(tmp_path):
    from click.testing import CliRunner

    from provenance.cli import main

    res = CliRunner().invoke(main, ["scan", str(SEEDS), "--output-dir", str(tmp_path)])
    assert res.exit_code == 2 and "--output-dir needs --engine spark" in res.output


def test_the_local_engine_takes_quoted_globs_too(tmp_path, fake_embedder, monkeypatch):
    from click.testing import CliRunner

    from provenance import cli

    monkeypatch.setattr(cli, "_embedder", lambda *a, **k: fake_embedder)
    res = CliRunner().invoke(cli.main, ["scan", str(SEEDS / "00[01]_*.txt"), "-q", "-o", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    ids = [d["id"] for d in json.loads((tmp_path / "r.json").read_text("utf-8"))["documents"]]
    assert ids == ["000_dd2761f3083befb7", "001_2a7d6a1efb716f92"]
    res = CliRunner().invoke(cli.main, ["scan", str(tmp_path / "*.nothing")])
    assert res.exit_code == 1 and "the pattern matches no file" in res.output


def test_html_passages_and_dates_on_spark_match_the_local_engine(spark, tmp_path):
    """--html, --passages and --dates work as they do locally: the same documents (direction
    included: the dates decide it), an HTML view quoting the texts, the same passage rows."""
    from click.testing import CliRunner

    from provenance.cli import main

    (tmp_path / "in").mkdir()
    build_corpus(tmp_path / "in", variants=1, seed=0)
    records = [json.loads(line) for line in (tmp_path / "in" / "feed.jsonl").read_text("utf-8").splitlines()]
    dates = tmp_path / "dates.csv"
    dates.write_text("document,date\n" + "".join(f"{r['id']},2020-06-{10 + k % 9:02d}\n"
                                                 for k, r in enumerate(records)), "utf-8")
    outs = {}
    for engine in ("local", "spark"):
        out = tmp_path / engine
        out.mkdir()
        res = CliRunner().invoke(main, ["scan", str(tmp_path / "in"), "--engine", engine, "--spark-master", "local[2]",
                                        "-q", "--dates", str(dates), "-o", str(out / "r.json"),
                                        "--html", str(out / "r.html"), "--passages", str(out / "p.jsonl")])
        assert res.exit_code == 0, res.output
        outs[engine] = out
    local, got = (json.loads((outs[e] / "r.json").read_text("utf-8")) for e in ("local", "spark"))
    assert _documents(got) == _documents(local)
    assert [d["direction"] for d in got["documents"]] == [d["direction"] for d in local["documents"]]
    assert any("dated 2020-06" in " ".join(d["direction"]["basis"]) for d in got["documents"] if d["direction"])
    html = (outs["spark"] / "r.html").read_text("utf-8")
    assert all(html.count(r["text"].split("\n")[0][:40]) for r in records)  # every text is quoted
    assert (outs["spark"] / "p.jsonl").read_text("utf-8") == (outs["local"] / "p.jsonl").read_text("utf-8")


class _LoggedEmbedder(HashingEmbedder):
    """Appends how many texts each call encodes to a file: Spark's executors are other processes."""

    def __init__(self, log):
        super().__init__()
        self.log = str(log)

    def encode(self, texts):
        with open(self.log, "a", encoding="utf-8") as fh:
            fh.write(f"{len(texts)}\n")
        return super().encode(texts)


def test_an_over_long_document_is_encoded_within_the_budget_as_locally(spark, tmp_path):
    """A book beside the seeds, over `max_semantic_sentences`: Spark encodes that many of its
    sentences only, after blocking (its component's lexical pairs pick them, as the local scan's
    pick them over the scan), and here, where the book's component holds every document it pairs
    with, the same sentences, relations and alignments as the local engine, with the warning."""
    from dataclasses import replace

    from provenance.settings import ScanSettings

    from .test_semantic_budget import INSIDE, LIMIT, write_book

    (tmp_path / "in").mkdir()
    paths = [str(write_book(tmp_path / "in")), str(SEEDS)]
    settings = replace(ScanSettings(), max_semantic_sentences=LIMIT)
    log = tmp_path / "encoded.log"
    res = scan_spark(paths, spark, embedder=_LoggedEmbedder(log), settings=settings)
    comps = {r["id"]: r["comp"] for r in res.results.filter("kind = 'document'").collect()}
    got = build_spark_report(res)
    validate_report(got)
    local = scan(paths, embedder=HashingEmbedder(), settings=settings, workers=1)
    want = build_report(local)
    seed_sentences = sum(len(p.seg.sentences) for p in local.prepared if p.doc.id != "book")
    assert sum(int(x) for x in log.read_text("utf-8").split()) <= LIMIT + seed_sentences
    # the seeds inside the book share its component, where its sentences are picked
    assert all(comps[p.stem] == comps["book"] for p in INSIDE)
    assert _documents(got) == _documents(want)
    mark = next(d for d in got["documents"] if d["id"] == "book")["semantic_sentences"]
    assert mark == next(d for d in want["documents"] if d["id"] == "book")["semantic_sentences"]
    assert mark["encoded"] == LIMIT
    budget = [w for w in got["warnings"] if "--max-semantic-sentences" in w]
    assert len(budget) == 1 and budget == [w for w in want["warnings"] if "--max-semantic-sentences" in w]
