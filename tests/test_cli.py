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
