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
