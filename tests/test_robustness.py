"""Bad input, faults and nothing lost: the messy corpus through the CLI, spans as properties over
arbitrary Unicode, and fuzzed bytes and JSON through the loaders."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.clean import clean
from provenance.cli import main
from provenance.load import Document, load_file, load_paths
from provenance.segment import segment
from tests.conftest import FakeEmbedder
from tests.make_messy_corpus import build


@pytest.mark.model
def test_messy_folder_scans_cleanly(tmp_path, default_model, monkeypatch):
    monkeypatch.setattr("provenance.embed.load_model", lambda name=None, **kw: default_model)
    info = build(tmp_path / "messy")
    out = tmp_path / "report.json"
    res = CliRunner().invoke(main, ["scan", str(tmp_path / "messy"), info["twice"], "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    report = json.loads(out.read_text("utf-8"))
    docs = {d["id"]: d for d in report["documents"]}
    assert set(docs) == {info["wire"], *info["copies"]}  # nothing else got through as an article
    cluster = docs[info["wire"]]["cluster"]
    for cid in info["copies"]:
        assert docs[cid]["relation"] == "copy", cid
        assert docs[cid]["derived_from"] == info["wire"], cid
        assert docs[cid]["cluster"] == cluster, cid
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    for name, reason in info["bad"].items():
        hits = [r for p, r in skipped.items() if p.endswith("/" + name) or p.endswith(name)]
        assert hits, f"{name} is not in skipped[]"
        assert any(re.search(reason, r) for r in hits), (name, hits)
    assert any("given twice" in r for r in skipped.values())
    # every skipped input was also warned about, one line each
    warned = [ln for ln in res.stderr.splitlines() if ln.startswith("warning: skipped ")]
    assert len(warned) == len(report["skipped"])


def test_unreadable_file_is_skipped_with_reason(tmp_path, monkeypatch):
    path = tmp_path / "locked.txt"
    path.write_text("Some article text. " * 20, "utf-8")
    real_open = open

    def deny(file, *a, **kw):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *a, **kw)

    monkeypatch.setattr("builtins.open", deny)
    docs, skipped = load_file(path)
    assert docs == [] and skipped[0].reason == "cannot be read: Permission denied"


def test_debug_shows_traceback_and_default_hides_it(tmp_path, monkeypatch):
    def boom(*a, **kw):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("provenance.pipeline.scan", boom)
    (tmp_path / "a.txt").write_text("x " * 100, "utf-8")
    plain = CliRunner().invoke(main, ["scan", str(tmp_path)])
    assert plain.exit_code == 1
    assert plain.output.strip() == ("Error: internal error: RuntimeError: simulated bug (rerun with --debug for "
                                    "the traceback, and please report it)")
    debug = CliRunner().invoke(main, ["scan", str(tmp_path), "--debug"])
    assert debug.exit_code == 1 and "Traceback" in debug.output


# --- properties: every span maps back to the exact text it claims ------------------------------

ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))
LINE = st.text(alphabet=ALPHABET, min_size=0, max_size=120)
WORDS = st.lists(st.sampled_from(
    ["The", "minister", "said", "on", "Thursday", "that", "5,200", "troops", "«", "»", "“", "”", '"', "Kadhimi",
     "would", "leave", ".", ",", "Mr.", "U.S.", "é", "日本", "مرحبا", "\u00a0", "—", "twelve", "?", "!"]),
    min_size=0, max_size=40).map(" ".join)
TEXTS = st.lists(st.one_of(LINE, WORDS), min_size=1, max_size=12).map(
    lambda lines: "\n".join(lines)) | st.lists(st.one_of(LINE, WORDS), max_size=8).map("\r\n\r\n".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_segment_spans_are_exact_and_ordered(text):
    seg = segment(clean(Document("x", "x.txt", text)))
    prev_end = 0
    for b in seg.clean.blocks:
        assert 0 <= b.start < b.end <= len(text)
        assert text[b.start:b.end] == text[b.start:b.end].strip()
        assert b.start >= prev_end
        prev_end = b.end
    for s in seg.sentences:
        p = seg.paragraphs[s.paragraph]
        assert p.start <= s.start < s.end <= p.end
        assert text[s.start:s.end].strip() == text[s.start:s.end]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.lists(WORDS, min_size=3, max_size=8), edits=st.lists(st.one_of(LINE, WORDS), max_size=4),
       data=st.data())
def test_report_spans_map_to_claimed_text(base, edits, data):
    from provenance import ScanSettings, build_report, scan_documents, validate_report
    from provenance.errors import InputError

    src = "\n".join(w + " The minister said troops would stay in the north." for w in base)
    lines = src.split("\n")
    for e in edits:
        lines.insert(data.draw(st.integers(0, len(lines))), e)
    tgt = "\n".join(lines)
    docs = [Document("src", "src.txt", src), Document("tgt", "tgt.txt", tgt)]
    try:
        result = scan_documents(docs, FakeEmbedder(), ScanSettings(min_story_chars=1))
    except InputError:
        return
    report = build_report(result)
    validate_report(report)
    texts = {"src": src, "tgt": tgt}
    for d in report["documents"]:
        t = texts[d["id"]]
        for e in d["excluded"]:
            assert t[slice(*e["span"])] == e["text"]
        s = texts.get(d["derived_from"] or "", "")
        for a in d["alignments"]:
            assert 0 <= a["target_span"][0] < a["target_span"][1] <= len(t)
            assert 0 <= a["source_span"][0] < a["source_span"][1] <= len(s)
        for v in d["divergences"]:
            if v["source_span"]:
                assert s[slice(*v["source_span"])] == v["source_text"]
            if v["target_span"]:
                assert t[slice(*v["target_span"])] == v["target_text"]


# --- fuzzing the loaders ---------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000), st.sampled_from([".txt", ".md", ".html", ".json", ".jsonl"]))
def test_loaders_never_raise_on_random_bytes(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"input{suffix}"
    path.write_bytes(data)
    docs, skipped = load_file(path)
    assert len(docs) + len(skipped) >= 1  # every input is either used or said why not
    for d in docs:
        assert isinstance(d.text, str) and d.text.strip()
    for s in skipped:
        assert s.reason and "\n" not in s.reason


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(ALPHABET),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.sampled_from(
                        ["id", "text", "title", "date", "language", "records", "x"]), c, max_size=5),
                    max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(JSON, min_size=1, max_size=5))
def test_loaders_never_raise_on_random_json(tmp_path_factory, records):
    folder = tmp_path_factory.mktemp("json")
    (folder / "one.json").write_text(json.dumps(records[0]), "utf-8")
    (folder / "many.jsonl").write_text("\n".join(json.dumps(r) for r in records), "utf-8")
    loaded = load_paths([folder])
    assert len(loaded.documents) + len(loaded.skipped) >= 2
    assert len({d.id for d in loaded.documents}) == len(loaded.documents)  # ids stay unique
