"""The command line, through click's CliRunner (model replaced by the fake embedder)."""

import json
import re

import pytest
from click.testing import CliRunner

from provenance.cli import main
from tests.conftest import SEEDS, FakeEmbedder


@pytest.fixture(autouse=True)
def no_real_model(monkeypatch):
    monkeypatch.setattr("provenance.embed.load_model", lambda name=None, **kw: FakeEmbedder())


def all_commands(group, prefix=()):
    import click

    for name, cmd in group.commands.items():
        yield prefix + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, prefix + (name,))


def test_every_command_has_help():
    runner = CliRunner()
    assert main.help and main.help.strip()
    for path, cmd in all_commands(main):
        assert cmd.help and cmd.help.strip(), f"{' '.join(path)} has no help text"
        res = runner.invoke(main, [*path, "--help"])
        assert res.exit_code == 0
        assert "Usage: main " + " ".join(path) in res.output or "Usage: provenance" in res.output


def test_help_documents_exit_codes():
    res = CliRunner().invoke(main, ["scan", "--help"])
    assert "Exit status" in res.output and "2  usage error" in res.output


def test_bad_path_is_a_usage_error():
    res = CliRunner().invoke(main, ["scan", "/no/such/folder"])
    assert res.exit_code == 2
    assert "does not exist" in res.output
    assert "Traceback" not in res.output


def test_scan_writes_report_and_prints_summary(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that every name and id is shown whole
    out = tmp_path / "report.json"
    res = CliRunner().invoke(main, ["scan", str(SEEDS), "-o", str(out)])
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text("utf-8"))
    assert report["schema_version"] == "2.0"
    assert report["tool"]["model"] == "fake/bag-of-words"
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["#", "document", "lang", "relation", "from", "taken", "used", "div", "story"]
    for k, doc in enumerate(report["documents"], start=1):
        row = next(line for line in lines if line.startswith(f"{k} "))
        assert doc["title"] in row and doc["id"] in row and f" {doc['relation']} " in row
        if doc["derived_from"]:
            substantive = sum(v["severity"] == "substantive" for v in doc["divergences"])
            shares = rf" {doc['coverage']:.0%}\s+{doc['source_used']:.0%}\s+{substantive}/{len(doc['divergences'])} "
            assert re.search(shares, row), row
    assert lines[-1] == "To see each copy beside its source, rerun with --html FILE."
    assert max(len(line) for line in lines) <= 200


def test_scan_with_html_does_not_suggest_it(tmp_path):
    res = CliRunner().invoke(main, ["scan", str(SEEDS), "--html", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    assert "--html" not in res.stdout and (tmp_path / "r.html").exists()


def test_a_scan_run_in_process_leaves_the_callers_garbage_collector_alone():
    """The console script freezes the heap after a scan (its process ends with the command); the
    command run in-process (by a caller, by these tests) must not: cycles alive then would never be
    collected."""
    import gc

    frozen = gc.get_freeze_count()
    res = CliRunner().invoke(main, ["scan", str(SEEDS), "-q"])
    assert res.exit_code == 0, res.output
    assert gc.get_freeze_count() == frozen and gc.isenabled()


def test_unloadable_model_is_one_line_error(monkeypatch, tmp_path):
    from provenance.embed import load_model as real_load
    from provenance.errors import ModelError

    monkeypatch.undo()
    res = CliRunner().invoke(main, ["scan", str(SEEDS), "--model", "someone/not-a-cached-model"])
    assert res.exit_code == 1
    assert res.output.startswith("Error: model 'someone/not-a-cached-model' cannot be loaded offline")
    assert len(res.output.strip().splitlines()) == 1
    assert "--model DIR" in res.output
    assert real_load and ModelError  # the real loader was used


def test_failed_run_never_truncates_an_existing_report(tmp_path):
    out = tmp_path / "report.json"
    out.write_text('{"previous": true}', "utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "a.txt").write_text("   \n", "utf-8")
    res = CliRunner().invoke(main, ["scan", str(empty), "-o", str(out)])
    assert res.exit_code == 1
    assert "no usable article" in res.output
    assert out.read_text("utf-8") == '{"previous": true}'
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


@pytest.mark.model
def test_a_rescan_served_from_the_cache_never_loads_the_model(tmp_path):
    """With every vector cached, `provenance scan` imports none of the model's libraries nor the
    search's (seconds of every run), and writes the same report. The cold scan runs the model
    through ONNX Runtime (the default backend), which needs no torch in the scan's process."""
    import subprocess
    import sys

    heavy = ["torch", "sentence_transformers", "transformers", "onnxruntime", "faiss", "sklearn"]
    code = ("import sys, json\n"
            "from provenance.cli import main\n"
            "try:\n"
            f"    main(['scan', {str(SEEDS)!r}, '-q', '--cache-dir', {str(tmp_path / 'c')!r}, '-o', sys.argv[1]],"
            " standalone_mode=False)\n"
            "except SystemExit:\n"
            "    pass\n"
            f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))\n")
    runs = [subprocess.run([sys.executable, "-c", code, str(tmp_path / f"r{k}.json")], capture_output=True,
                           text=True, check=True) for k in (1, 2)]
    assert json.loads(runs[0].stdout.splitlines()[-1]) == ["onnxruntime", "faiss"]  # the cold scan
    assert json.loads(runs[1].stdout.splitlines()[-1]) == []
    assert (tmp_path / "r1.json").read_bytes() == (tmp_path / "r2.json").read_bytes()


def _stepping(monkeypatch, steps):
    """`watch`'s waits run `steps` one each (then Ctrl-C), instead of sleeping."""
    import provenance.watch as watch

    waits = iter(steps)

    def step(seconds):
        next(waits, _interrupt)()

    monkeypatch.setattr(watch, "_sleep", step)


def _interrupt():
    raise KeyboardInterrupt


def test_watch_scans_again_when_an_article_arrives_and_holds_still_rewriting_the_report(tmp_path, monkeypatch):
    """`scan --watch`: a new article is scanned once it has held still for one look (a copy in
    progress is waited for), the report is rewritten with it, a folder emptied of usable articles
    is said in one line and the watch goes on, Ctrl-C while waiting ends it with status 0."""
    import shutil

    folder = tmp_path / "in"
    folder.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    for f in seeds[:3]:
        shutil.copy(f, folder / f.name)
    late, growing = folder / seeds[3].name, seeds[3].read_text("utf-8")
    out = tmp_path / "report.json"
    scans = []
    import provenance.pipeline as pipeline

    real = pipeline.scan_documents
    monkeypatch.setattr(pipeline, "scan_documents", lambda docs, *a, **k: scans.append(len(docs)) or real(docs, *a,
                                                                                                      **k))
    _stepping(monkeypatch, [
        lambda: None,                                           # nothing new
        lambda: late.write_text(growing[:400], "utf-8"),        # a copy starts...
        lambda: late.write_text(growing, "utf-8"),              # ...and is still growing at the next look
        lambda: None,                                           # held still: scanned now
        lambda: [f.unlink() for f in folder.iterdir()],         # everything gone
        lambda: None,
    ])
    res = CliRunner().invoke(main, ["scan", str(folder), "-o", str(out), "--watch", "1", "-q"])
    assert res.exit_code == 0, res.output
    assert scans == [3, 4, 0]  # the first scan, once with the finished copy (not the half-written one), none left
    report = json.loads(out.read_text("utf-8"))
    assert len(report["documents"]) == 4  # the emptied folder's failed scan left the last report as it was
    assert re.search(r"\d\d:\d\d:\d\d 1 new: scanning again", res.stderr)
    assert "no usable article" in res.stderr and "(still watching)" in res.stderr
    assert res.stderr.rstrip().endswith("stopped watching")


def test_watch_needs_the_local_engine():
    res = CliRunner().invoke(main, ["scan", str(SEEDS), "--watch", "2", "--engine", "spark"])
    assert res.exit_code == 2 and "--watch needs the local engine" in res.output


def test_a_watch_loads_the_model_and_each_languages_lexicons_before_its_first_round(tmp_path, monkeypatch):
    """A first scan served from the cache loads neither the model nor the lemma lists; `warm_up`
    loads them while the watch waits (the model past the cache, one short document per language)."""
    import provenance.features as features
    from provenance import CachedEmbedder, scan
    from provenance.watch import warm_up
    from tests.conftest import ROOT

    paths = [SEEDS, ROOT / "tests" / "fixtures" / "crosslingual"]
    inner = FakeEmbedder()
    cached = CachedEmbedder(inner, tmp_path / "cache")
    result = scan(paths, embedder=cached)
    calls, featured = inner.calls, []
    real = features.doc_features
    monkeypatch.setattr(features, "doc_features", lambda p: featured.append(p) or real(p))
    warm_up(cached, result.prepared)
    assert inner.calls == calls + 1  # encoded by the model itself, though its vector is cached
    languages = {p.langs.document for p in result.prepared}
    assert len(languages) > 1 and sorted(p.langs.document for p in featured) == sorted(languages)


def test_a_watch_of_an_empty_folder_or_a_pattern_waits_for_articles_and_refuses_outputs_it_would_read(
        tmp_path, monkeypatch):
    """An incoming folder starts empty: the watch says so and waits; a quoted glob pattern is
    expanded at each look, so a file that matches later is scanned; an output inside a watched
    folder would be read back as an article and start a round each time it is written: refused."""
    import shutil

    folder = tmp_path / "in"
    folder.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    out = tmp_path / "report.json"

    def arrive(names):
        return lambda: [shutil.copy(f, folder / f.name) for f in seeds if f.name in names]

    _stepping(monkeypatch, [arrive({seeds[0].name, seeds[1].name}), lambda: None])
    res = CliRunner().invoke(main, ["scan", str(folder / "*.txt"), "-o", str(out), "--watch", "1", "-q"])
    assert res.exit_code == 0, res.output
    assert "the pattern matches no file (still watching)" in res.stderr
    assert len(json.loads(out.read_text("utf-8"))["documents"]) == 2  # the files that matched later

    (folder / "sub").mkdir()
    for given, written in ((folder, folder / "report.json"), (folder, folder / "sub" / "view.html"),
                           (folder / "*", folder / "passages.csv")):
        res = CliRunner().invoke(main, ["scan", str(given), "-o", str(written), "--watch", "1"])
        assert res.exit_code == 1 and "is among the watched inputs" in res.output, (given, written)
    _stepping(monkeypatch, [])  # beside what it reads (another suffix, a hidden name): fine
    for written in (folder / "report.csv", folder / ".reports" / "report.json"):
        written.parent.mkdir(exist_ok=True)
        res = CliRunner().invoke(main, ["scan", str(folder), "-o", str(written), "--watch", "1", "-q"])
        assert res.exit_code == 0 and written.exists(), res.output


def test_a_watch_sees_a_file_replaced_by_one_of_the_same_size_and_time(tmp_path):
    """`rsync -a` and `cp -p` keep sizes and times: the inode and the change time still tell."""
    import os

    from provenance.watch import snapshot

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("x" * 300, "utf-8")
    b.write_text("y" * 300, "utf-8")
    st = a.stat()
    os.utime(b, ns=(st.st_atime_ns, st.st_mtime_ns))
    before = snapshot([str(a)])
    os.replace(b, a)
    assert snapshot([str(a)]) != before
