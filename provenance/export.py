"""A flat export for researchers: one row per aligned passage pair (`scan --passages FILE`).

Like passim's reuse records, each row stands alone and loads straight into pandas
(`pd.read_json(f, lines=True)` or `pd.read_csv(f)`): both documents' ids, outlets, languages,
the relation, the story, the passage's number, kind and spans, both texts, and the divergences
that fall inside the passage. `.jsonl` keeps `divergences` as a list of objects; `.csv` writes
them as one "type/subtype (severity)" string per divergence, joined by "; ".
"""

from __future__ import annotations

import csv
import io
import json
import os

from .errors import ProvenanceError
from .report import atomic_write_text

FORMATS = (".csv", ".jsonl")
FIELDS = ("source_id", "source_outlet", "source_language", "target_id", "target_outlet", "target_language",
          "relation", "story", "passage", "kind", "moved", "similarity", "source_start", "source_end",
          "target_start", "target_end", "source_text", "target_text", "divergences")


def export_format(path: str | os.PathLike) -> str:
    """`.csv` or `.jsonl` from the file name; `ProvenanceError` naming the fix otherwise."""
    suffix = os.path.splitext(str(path))[1].lower()
    if suffix not in FORMATS:
        raise ProvenanceError(f"cannot write passages to {path}: name the file .csv or .jsonl")
    return suffix


def _inside(span, outer) -> bool:
    return bool(span) and outer[0] <= span[0] and span[1] <= outer[1]


def passage_rows(report: dict, texts: dict[str, str]) -> list[dict]:
    """One dict per aligned passage of every derived document, in report order."""
    docs = {d["id"]: d for d in report["documents"]}
    rows = []
    for d in report["documents"]:
        if not d["derived_from"]:
            continue
        src = docs[d["derived_from"]]
        for k, a in enumerate(d["alignments"], start=1):
            (sa, sb), (ta, tb) = a["source_span"], a["target_span"]
            divs = [{"type": v["type"], "subtype": v.get("subtype"), "severity": v.get("severity"),
                     "source_text": v["source_text"], "target_text": v["target_text"]}
                    for v in d["divergences"]
                    if _inside(v["source_span"], (sa, sb)) or _inside(v["target_span"], (ta, tb))]
            rows.append({"source_id": src["id"], "source_outlet": src.get("outlet"), "source_language": src["language"],
                         "target_id": d["id"], "target_outlet": d.get("outlet"), "target_language": d["language"],
                         "relation": d["relation"], "story": d["cluster"], "passage": k, "kind": a["kind"],
                         "moved": bool(a.get("moved")), "similarity": a.get("similarity"),
                         "source_start": sa, "source_end": sb, "target_start": ta, "target_end": tb,
                         "source_text": texts[src["id"]][sa:sb], "target_text": texts[d["id"]][ta:tb],
                         "divergences": divs})
    return rows


def write_passages(report: dict, texts: dict[str, str], path: str | os.PathLike) -> int:
    """Write the passage rows to `path` (.csv or .jsonl, atomically); return the row count."""
    fmt = export_format(path)
    rows = passage_rows(report, texts)
    if fmt == ".jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    else:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            flat = dict(r, divergences="; ".join(
                f"{v['type']}{'/' + v['subtype'] if v['subtype'] else ''} ({v['severity']})" for v in r["divergences"]))
            writer.writerow(flat)
        text = buf.getvalue()
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise ProvenanceError(f"cannot write passages {path}: {exc.strerror or exc}") from None
    return len(rows)
