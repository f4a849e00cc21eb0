"""The command line a new user meets: outputs checked before the scan, unsupported files named,
Ctrl-C in one line, help with examples, `index list`, slips with `--index` and `--model`, and the
per-passage export. Fake embedder."""

import csv
import json
import shutil

import pytest
from click.testing import CliRunner

from provenance.cli import main
from tests.conftest import SEEDS, FakeEmbedder

WIRE, COPY = "000_dd2761f3083befb7.txt", "004_26451090c78396de.txt"


@pytest.fixture(autouse=True)
def no_real_model(monkeypatch):
    monkeypatch.setattr("provenance.embed.load_model", lambda name=None, **kw: FakeEmbedder())


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    for n in (WIRE, COPY):
        shutil.copy(SEEDS / n, d)
    return d


def _no_scan(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("the scan ran before the arguments were checked")
    monkeypatch.setattr("provenance.pipeline.scan", boom)


def test_unsupported_document_types_are_named_and_listed_as_skipped(folder, tmp_path):
    (folder / "memo.pdf").write_bytes(b"%PDF-1.4\n")
    (folder / "letter.docx").write_bytes(b"PK\x03\x04")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8")  # not a document: passed over silently
    out = tmp_path / "r.json"
    res = CliRunner().invoke(main, ["scan", str(folder), "-o", str(out)])
    assert res.exit_code == 0, res.output
    warnings = [line for line in res.stderr.splitlines() if "unsupported file type" in line]
    assert len(warnings) == 2 and all(line.startswith("warning: skipped ") for line in warnings)
    skipped = {s["path"].rsplit("/", 1)[-1]: s["reason"] for s in json.loads(out.read_text())["skipped"]}
    assert set(skipped) == {"memo.pdf", "letter.docx"} and "save it as text" in skipped["memo.pdf"]


def test_passages_export_has_one_row_per_aligned_passage(folder, tmp_path):
    out, csv_path, jsonl_path = tmp_path / "r.json", tmp_path / "p.csv", tmp_path / "p.jsonl"
    for path in (csv_path, jsonl_path):
        res = CliRunner().invoke(main, ["scan", str(folder), "-o", str(out), "--passages", str(path)])
        assert res.exit_code == 0, res.output
    report = json.loads(out.read_text())
    copy = next(d for d in report["documents"] if d["derived_from"])
    rows = [json.loads(line) for line in jsonl_path.read_text("utf-8").splitlines()]
    assert len(rows) == len(copy["alignments"]) > 5
    text = (SEEDS / COPY).read_text("utf-8")
    for k, (row, a) in enumerate(zip(rows, copy["alignments"], strict=True), start=1):
        assert (row["passage"], row["target_id"], row["source_id"]) == (k, copy["id"], copy["derived_from"])
        assert [row["target_start"], row["target_end"]] == a["target_span"] and row["kind"] == a["kind"]
        assert row["target_text"] == text[a["target_span"][0]:a["target_span"][1]]
    assert any(v["type"] == "quote" and v["severity"] == "substantive" for r in rows for v in r["divergences"])
    with open(csv_path, newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert [r["target_text"] for r in table] == [r["target_text"] for r in rows]
    assert any("quote/altered (substantive)" in r["divergences"] for r in table)


@pytest.mark.parametrize("args, message", [
    (["--passages", "p.xlsx"], "name the file .csv or .jsonl"),
    (["-o", "no/such/dir/r.json"], "does not exist; create it first"),
    (["--html", "no/such/dir/r.html"], "does not exist; create it first"),
    (["--index", "indexes/wires"], "--index takes an archive name, not a path: use --index wires --index-dir indexes"),
    (["--model", "./models/missing"], "model folder ./models/missing does not exist"),
])
def test_slips_fail_before_the_scan_with_the_fix(folder, monkeypatch, tmp_path, args, message):
    _no_scan(monkeypatch)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["scan", str(folder), *args])
    assert res.exit_code == 1 and message in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1


def test_ctrl_c_is_one_line_and_keeps_the_earlier_report(folder, monkeypatch, tmp_path):
    out = tmp_path / "r.json"
    out.write_text("earlier report\n")

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr("provenance.pipeline.scan", interrupted)
    res = CliRunner().invoke(main, ["scan", str(folder), "-o", str(out)])
    assert res.exit_code == 130
    assert res.output.strip().splitlines() == [f"Interrupted: no new files written; the earlier {out} kept as it was."]
    assert out.read_text() == "earlier report\n"


def test_ctrl_c_before_any_command_runs_is_one_line(monkeypatch, capsys):
    from provenance import cli

    def interrupted(**k):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "main", interrupted)
    with pytest.raises(SystemExit) as exc:
        cli.run()
    assert exc.value.code == 130 and capsys.readouterr().err == "Interrupted.\n"


def test_subcommand_help_has_examples_and_not_the_scans_exit_codes():
    runner = CliRunner()
    for path in (["index", "add"], ["index", "list"], ["index", "info"], ["cache", "prune"]):
        res = runner.invoke(main, [*path, "--help"])
        assert res.exit_code == 0 and "Examples:" in res.output and f"provenance {' '.join(path)}" in res.output
        assert "skipped" not in res.output and "report not writable" not in res.output
    scan_help = runner.invoke(main, ["scan", "--help"]).output
    assert "Examples:" in scan_help and "--passages passages.csv" in scan_help and "130  interrupted" in scan_help


def test_index_list_names_each_archive(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["index", "list", "--index-dir", str(tmp_path)])
    assert res.exit_code == 0 and res.output.startswith("no archives in ")
    res = runner.invoke(main, ["index", "add", "wires", str(SEEDS / WIRE), "--index-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    (tmp_path / "broken").mkdir()
    res = runner.invoke(main, ["index", "list", "--index-dir", str(tmp_path)])
    lines = res.output.splitlines()
    assert any(line.startswith("wires ") and " 1 documents  fake/bag-of-words" in line for line in lines)
    assert res.exit_code == 1 and any(line.startswith("Error: broken: ") for line in lines)
