"""The shipped report schema and the check every report passes before it is written."""

from __future__ import annotations

import copy

import jsonschema
import pytest

from provenance.report import ReportSchemaError, schema, validate_report


def _broken_variants(report: dict):
    doc = report["documents"][1]
    yield "relation", lambda r: r["documents"][1].__setitem__("relation", "plagiarism")
    yield "missing lineage", lambda r: r["documents"][1].pop("lineage")
    yield "id as number", lambda r: r["documents"][1].__setitem__("id", 7)
    if doc.get("direction"):
        yield "confidence type", lambda r: r["documents"][1]["direction"].__setitem__("confidence", "high")
    yield "schema version", lambda r: r.__setitem__("schema_version", "0.1")
    yield "clusters", lambda r: r.__setitem__("clusters", {"a": 1})


def test_the_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(schema())


def test_the_fast_check_agrees_with_the_reference_validator(seed_report):
    """Reports are checked with a compiled validator read as draft 7; the reference, jsonschema
    reading the schema as the draft 2020-12 it declares, must give the same answer."""
    report = seed_report
    jsonschema.validate(report, schema())
    validate_report(report)
    for name, breaking in _broken_variants(report):
        bad = copy.deepcopy(report)
        breaking(bad)
        assert not jsonschema.Draft202012Validator(schema()).is_valid(bad), name
        with pytest.raises(ReportSchemaError, match="report breaks its schema"):
            validate_report(bad)


def test_the_compiled_check_is_kept_for_the_next_process_and_a_spoilt_copy_is_not_trusted(
        seed_report, tmp_path, monkeypatch):
    """The validator's source and bytecode are written once beside the lexicons, and a later
    process (here: the per-process memo cleared) runs the validator from them. A copy that no
    longer loads is deleted and the validator compiled in memory, which still rejects a broken
    report; the next process writes the copy again."""
    from provenance import report as report_mod

    monkeypatch.setenv("PROVENANCE_CACHE_DIR", str(tmp_path))
    folder = tmp_path / "lexicons"
    try:
        report_mod._compiled_schema.cache_clear()
        validate_report(seed_report)
        kept = list(folder.glob("report_validator_*.py"))
        assert len(kept) == 1 and list((folder / "__pycache__").glob(kept[0].stem + ".*.pyc"))
        report_mod._compiled_schema.cache_clear()
        assert report_mod._compiled_schema().__code__.co_filename == str(kept[0])  # run from the kept file
        validate_report(seed_report)
        kept[0].write_text("def validate(:\n", "utf-8")  # spoilt, its bytecode too
        for pyc in (folder / "__pycache__").glob("*.pyc"):
            pyc.write_bytes(pyc.read_bytes()[:20])
        report_mod._compiled_schema.cache_clear()
        validate_report(seed_report)
        bad = copy.deepcopy(seed_report)
        bad["schema_version"] = "0.1"
        with pytest.raises(ReportSchemaError, match="report breaks its schema"):
            validate_report(bad)
        assert not kept[0].exists()  # deleted, so that
        report_mod._compiled_schema.cache_clear()
        assert report_mod._compiled_schema().__code__.co_filename == str(kept[0])  # the next one writes it again
    finally:
        report_mod._compiled_schema.cache_clear()
