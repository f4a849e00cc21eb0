"""What a user's input may carry that is not the article: lone surrogates, non-NFC text, invisible
characters, a few damaged bytes, loose language codes, odd ids. Each case once ended the scan or
made false divergences; now it is repaired (with a warning) and the run goes on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import unicodedata

import pytest
from click.testing import CliRunner

from provenance import build_report, scan, validate_report
from provenance.cli import main
from provenance.load import load_file, load_paths
from provenance.normalize import language_code, normalize_text
from tests.conftest import SEEDS, FakeEmbedder

AFP = (SEEDS / "000_dd2761f3083befb7.txt").read_text("utf-8")
#: Names whose letters NFD splits into base + combining mark, which the name pattern once cut.
NAMES = ("\n\nIn Bağdād, Mustafā al-Kāẓimī met Recep Tayyip Erdoğan and Jürgen Müller of the Société "
         "Générale, who promised 43 million euros to São Paulo and Zürich.\n")
ARTICLE = AFP + NAMES


def _scan(tmp_path, files: dict[str, str | bytes]):
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        target = folder / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, "utf-8")
    result = scan([str(folder)], embedder=FakeEmbedder())
    report = build_report(result)
    validate_report(report)
    return report


def _doc(report, doc_id):
    return next(d for d in report["documents"] if d["id"] == doc_id)


def test_nfd_copy_of_an_nfc_article_is_an_exact_copy(tmp_path):
    nfd = unicodedata.normalize("NFD", ARTICLE)
    assert nfd != ARTICLE
    report = _scan(tmp_path, {"a.txt": ARTICLE, "b.txt": nfd})
    b = _doc(report, "b")
    a = _doc(report, "a")
    copy = b if b["derived_from"] == "a" else a
    assert copy["relation"] == "copy"
    assert copy["divergences"] == [], copy["divergences"]
    assert b["text_basis"] == "file-normalized" and b["text"] == ARTICLE
    assert a["text_basis"] == "file" and "text" not in a
    assert any(w.startswith(str(tmp_path / "in" / "b.txt")) and "NFC" in w for w in report["warnings"])


@pytest.mark.parametrize("invisible", ["\u200b", "\u00ad", "\u200d", "\u2060"])
def test_invisible_character_inside_a_name_is_no_divergence(tmp_path, invisible):
    marked = ARTICLE.replace("Iranian", f"Ira{invisible}nian").replace("Soleimani", f"Solei{invisible}mani")
    report = _scan(tmp_path, {"a.txt": ARTICLE, "b.txt": marked})
    pair = [d for d in report["documents"] if d["derived_from"]]
    assert len(pair) == 1 and pair[0]["relation"] == "copy"
    assert pair[0]["divergences"] == []


def test_joiners_in_indic_script_are_kept():
    hindi = "क्\u200dष और र\u200dय"  # ZWJ shapes Devanagari conjuncts: meaning, not noise
    assert normalize_text(hindi) == unicodedata.normalize("NFC", hindi)


def test_one_bad_byte_in_utf8_file_is_replaced_not_mojibake(tmp_path):
    data = ARTICLE.encode("utf-8")
    at = data.index(b"Baghdad")
    damaged = data[:at] + b"\xff" + data[at:]
    path = tmp_path / "damaged.txt"
    path.write_bytes(damaged)
    docs, skipped = load_file(path)
    assert skipped == []
    (doc,) = docs
    assert doc.encoding == "utf-8"
    assert "Mustafā al-Kāẓimī" in doc.text and "Erdoğan" in doc.text
    assert doc.text.count("\ufffd") == 1
    assert any("1 invalid UTF-8 byte sequence" in n for n in doc.notes)


def test_a_cp1252_file_is_still_read_as_cp1252(tmp_path):
    text = "Le président a déclaré à Genève que les négociations reprendraient. " * 5
    path = tmp_path / "fr.txt"
    path.write_bytes(text.encode("cp1252"))
    (doc,), _ = load_file(path)
    assert doc.text == text and doc.notes == ()


def test_lone_surrogates_in_a_record_are_repaired_and_the_run_goes_on(tmp_path):
    feed = tmp_path / "feed.jsonl"
    records = [
        json.dumps({"id": "badSURid", "text": AFP[:1500] + " SUR "}).replace("SUR", "\\ud800"),
        json.dumps({"id": "good", "text": AFP}),
    ]
    feed.write_text("\n".join(records) + "\n", "utf-8")
    out = tmp_path / "r.json"
    res = CliRunner().invoke(main, ["scan", str(feed), "-o", str(out)], catch_exceptions=False,
                             env={"PROVENANCE_CACHE_DIR": str(tmp_path / "cache")})
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text("utf-8"))
    ids = sorted(d["id"] for d in report["documents"])
    assert ids == ["bad\ufffdid", "good"]
    assert "lone surrogate" in res.output


def test_index_add_survives_a_surrogate_record(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "xSUR", "text": AFP}).replace("SUR", "\\udc80") + "\n", "utf-8")
    res = CliRunner().invoke(main, ["index", "add", "wire", str(feed), "--index-dir", str(tmp_path / "ix")],
                             env={"PROVENANCE_CACHE_DIR": str(tmp_path / "cache")})
    assert res.exit_code == 0, res.output
    assert "internal error" not in res.output


@pytest.mark.parametrize("declared", ["English", "en_US", "eng", "EN", "en-GB"])
def test_loose_language_codes_mean_english(tmp_path, declared):
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps({"id": i, "text": AFP, "language": lang})
                              for i, lang in (("orig", "en"), ("copy", declared))) + "\n", "utf-8")
    result = scan([str(feed)], embedder=FakeEmbedder())
    report = build_report(result)
    docs = {d["id"]: d for d in report["documents"]}
    assert {d["language"] for d in docs.values()} == {"en"}
    assert {d["relation"] for d in docs.values()} <= {"source", "copy"}
    assert not any("translated_from" in d for d in docs.values())


def test_unreadable_language_code_is_a_warning_and_ignored(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"id": "a", "text": AFP, "language": "xx-yy"}) + "\n", "utf-8")
    loaded = load_paths([feed])
    (doc,) = loaded.documents
    assert "language" not in doc.meta
    assert any("'xx-yy' is not a language code" in w for w in loaded.warnings)


def test_language_names_and_codes():
    assert [language_code(x) for x in ("français", "Deutsch", "russian", "hin", "iw", "und", "zzz")] == [
        "fr", "de", "ru", "hi", "he", None, None]


def test_ids_with_control_characters_and_non_string_ids(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps(r) for r in (
        {"id": "two\nlines\x00", "text": AFP},
        {"id": 17, "text": AFP + "\n\nOne more paragraph about the talks in Baghdad and Washington today."},
        {"id": 3.0, "text": AFP + "\n\nAnother closing paragraph, this one on the economy of Iraq."},
        {"id": {"nested": 1}, "text": AFP + "\n\nA third ending on the militias and the rockets fired."},
    )) + "\n", "utf-8")
    loaded = load_paths([feed])
    assert [d.id for d in loaded.documents] == ["two\\nlines\\x00", "17", "3", "feed#4"]
    assert any("'id' is a JSON dict" in w for w in loaded.warnings)
    res = CliRunner().invoke(main, ["scan", str(feed)], env={"PROVENANCE_CACHE_DIR": str(tmp_path / "c"),
                                                             "COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "two\\nlines\\x00" in res.stdout
    assert "{'nested'" not in res.stdout


@pytest.fixture
def no_model(monkeypatch):
    """The output path must be refused before the model is even loaded."""
    def refuse(*args, **kwargs):
        raise AssertionError("the scan started although the output path is unusable")

    monkeypatch.setattr("provenance.embed.load_model", refuse)


@pytest.mark.parametrize("flag", ["-o", "--html"])
def test_unwritable_output_fails_before_the_scan(tmp_path, no_model, flag):
    res = CliRunner().invoke(main, ["scan", str(SEEDS), flag, str(tmp_path / "missing" / "r.out")])
    assert res.exit_code == 1
    assert res.output.startswith("Error: cannot write") and "does not exist" in res.output
    (tmp_path / "adir").mkdir()
    res = CliRunner().invoke(main, ["scan", str(SEEDS), flag, str(tmp_path / "adir")])
    assert res.exit_code in (1, 2) and "Traceback" not in res.output


def test_temp_file_of_a_killed_writer_is_cleaned_up(tmp_path):
    from provenance.report import atomic_write_text

    target = tmp_path / "r.json"
    code = (f"import sys, os, signal; sys.path.insert(0, {str(SEEDS.parents[3])!r})\n"
            "import provenance.report as r\n"
            "os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
            f"r.atomic_write_text({str(target)!r}, 'x' * 100000)\n")
    proc = subprocess.run([sys.executable, "-c", code])
    assert proc.returncode == -signal.SIGKILL
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and not target.exists()
    atomic_write_text(target, "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_a_file_read_again_is_parsed_again_only_when_its_bytes_changed(tmp_path, monkeypatch):
    # a process that scans a folder again keeps what unchanged files gave (`load.LOADED_BYTES`);
    # a file rewritten in place, the same size and the same modification second, is read anew
    import provenance.load as load

    a, b = tmp_path / "a.txt", tmp_path / "b.json"
    a.write_text("Officials met in Baghdad on Tuesday.\n", "utf-8")
    b.write_text('{"id": "b", "text": "Talks resumed in Geneva on Monday."}', "utf-8")
    parsed = []
    real = load._parsed
    monkeypatch.setattr(load, "_parsed", lambda data, path, shown: parsed.append(path.name) or real(data, path, shown))
    first = load.load_paths([tmp_path])
    assert sorted(parsed) == ["a.txt", "b.json"]
    assert load.load_paths([tmp_path]) == first and len(parsed) == 2
    stat = a.stat()
    a.write_text("Officials met in Karbala on Tuesday.\n", "utf-8")  # as long as Baghdad
    os.utime(a, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = load.load_paths([tmp_path])
    assert parsed[2:] == ["a.txt"] and "Karbala" in {d.id: d for d in again.documents}["a"].text
    from cachetools import LRUCache

    monkeypatch.setattr(load, "_LOADED", LRUCache(16, getsizeof=lambda entry: entry[0]))
    assert [d.id for d in load.load_paths([tmp_path]).documents] == ["a", "b"]  # larger than what is kept
