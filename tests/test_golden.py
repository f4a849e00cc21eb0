"""Golden report for the seed corpus: any change in verdicts, spans or divergences shows up here.

Masked: absolute paths (made relative to the repo) and float noise below 1e-3 (BLAS differences
between machines). Regenerate after an intended change with `UPDATE_GOLDEN=1 pytest tests/test_golden.py`
and review the diff.
"""

import json
import os

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.model
GOLDEN = ROOT / "tests" / "golden" / "iraq-2020.report.json"


def normalise(obj):
    if isinstance(obj, float):
        return round(obj, 3)
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k == "path" and isinstance(v, str) and v.startswith(str(ROOT)):
                v = os.path.relpath(v, ROOT)
            if k == "version":
                continue
            out[k] = normalise(v)
        return out
    if isinstance(obj, list):
        return [normalise(x) for x in obj]
    return obj


def test_seed_report_matches_golden(seed_report):
    got = normalise(seed_report)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n", "utf-8")
    want = json.loads(GOLDEN.read_text("utf-8"))
    assert got["documents"] == want["documents"]
    assert got["clusters"] == want["clusters"]
    assert got == want
