"""The HTML side-by-side view of a report: one self-contained file (inline CSS and script, no
network at view time). Built from the JSON report plus the documents' texts, so what the page
shows is exactly what the report claims.

Per story cluster: its source, agency credit and reconstructed wire; per derived document, the
source and the derivative side by side, aligned passages numbered and linked both ways, changed
words highlighted, divergences listed by type, page furniture greyed.
"""

from __future__ import annotations

import html as _html
import os
import re
from datetime import UTC, datetime, timedelta

from jinja2 import Environment, PackageLoader, select_autoescape

from .compare import token_opcodes
from .summary import doc_name, safe_url, shorten, story_names


def _changed_ranges(a: str, b: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Character ranges of the words that differ between `a` and `b` (word-level diff)."""
    ta, tb, ops = token_opcodes(a, b, fold_case=True)
    ra, rb = [], []
    for op, i1, i2, j1, j2 in ops:
        if op == "equal":
            continue
        if i2 > i1:
            ra.append((ta[i1][0], ta[i2 - 1][1]))
        if j2 > j1:
            rb.append((tb[j1][0], tb[j2 - 1][1]))
    return ra, rb


def render_text(text: str, marks: list[tuple[int, int, str, str | None]]) -> str:
    """HTML for `text` with `marks` (start, end, css class, element id or None). Marks may nest
    or overlap: the text is cut at every boundary and each piece carries the classes over it."""
    cuts = sorted({0, len(text), *[m[0] for m in marks], *[m[1] for m in marks]})
    out = []
    anchors: dict[int, list[str]] = {}
    for m in marks:
        if m[3]:
            anchors.setdefault(m[0], []).append(m[3])  # a reused source sentence starts several passages
    for a, b in zip(cuts, cuts[1:], strict=False):
        for anchor_id in anchors.get(a, ()):
            out.append(f'<a class="anchor" id="{anchor_id}"></a>')
        classes = sorted({m[2] for m in marks if m[0] <= a and b <= m[1]})
        piece = _html.escape(text[a:b])
        out.append(f'<span class="{" ".join(classes)}">{piece}</span>' if classes else piece)
    return "".join(out)


def build_view(report: dict, texts: dict[str, str]) -> dict:
    """The data the template needs: per derived document, both texts marked up."""
    docs = {d["id"]: d for d in report["documents"]}
    pairs = []
    for d in report["documents"]:
        src_id = d["derived_from"]
        if not src_id:
            continue
        st, tt = texts[src_id], texts[d["id"]]
        s_marks: list = [(e["span"][0], e["span"][1], "excluded", None) for e in docs[src_id]["excluded"]]
        t_marks: list = [(e["span"][0], e["span"][1], "excluded", None) for e in d["excluded"]]
        slug = re.sub(r"\W", "_", d["id"])
        for k, a in enumerate(d["alignments"], start=1):
            (sa, sb), (ta, tb) = a["source_span"], a["target_span"]
            cls = f"al {a['kind']}" + (" moved" if a.get("moved") else "")
            s_marks.append((sa, sb, cls, f"{slug}-s{k}"))
            t_marks.append((ta, tb, cls, f"{slug}-t{k}"))
            # word-level highlights where they inform: light edits (a reworded passage differs
            # almost everywhere, and a wall of strike-through hides what matters)
            if a["kind"] == "edited" or (a["kind"] == "reworded" and a.get("similarity", 0) >= 0.6):
                ra, rb = _changed_ranges(st[sa:sb], tt[ta:tb])
                s_marks += [(sa + x, sa + y, "del", None) for x, y in ra]
                t_marks += [(ta + x, ta + y, "ins", None) for x, y in rb]
        for v in d["divergences"]:
            if v["type"] in ("omitted",) and v["source_span"]:
                s_marks.append((*v["source_span"], "omitted", None))
            if v["type"] in ("added",) and v["target_span"]:
                t_marks.append((*v["target_span"], "added", None))
        by_type: dict[str, list] = {}
        for v in d["divergences"]:
            by_type.setdefault(v["type"], []).append(v)
        pairs.append({
            "doc": d, "source": docs[src_id], "slug": slug,
            "links": [{"k": k, "kind": a["kind"], "score": a["score"]} for k, a in enumerate(d["alignments"], 1)],
            "source_html": render_text(st, _labelled(s_marks)),
            "target_html": render_text(tt, _labelled(t_marks)),
            "divergences": sorted(by_type.items()),
        })
    names = {i: _name(d) for i, d in docs.items()}
    stories = {cid: {"full": h, "named": h != cid}
               for cid, h in story_names(report).items()}
    return {"report": report, "pairs": pairs, "docs": docs, "names": names, "stories": stories,
            "inputs": _inputs(report)}


def _name(d: dict) -> dict:
    """A document's display parts: outlet, title (the detected title when none was given), date,
    the link (http/https only, else None) and the id, shown small."""
    return {"id": d["id"], "outlet": d.get("outlet"), "title": d.get("title"), "date": d.get("date"),
            "url": safe_url(d.get("url")), "text": doc_name(d)}


def _inputs(report: dict) -> str | None:
    """The folder the scanned documents share, when they share one."""
    paths = [d["path"] for d in report["documents"] if d.get("path")]
    try:
        common = os.path.commonpath(paths) if paths else None
    except ValueError:
        return None
    return common or None


def _labelled(marks):
    return sorted(marks, key=lambda m: (m[0], -m[1]))


def render_html(report: dict, texts: dict[str, str], generated: str | None = None) -> str:
    """The page for `report`. `generated` (ISO 8601) is the scan time shown in the header; it is
    the current UTC time by default and lives in the page only, so the JSON report stays
    byte-identical between runs."""
    env = Environment(loader=PackageLoader("provenance", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["shorten"] = shorten
    generated = generated or datetime.now(UTC).isoformat(timespec="seconds")
    return env.get_template("report.html.j2").render(generated=generated, generated_label=_when(generated),
                                                     **build_view(report, texts))


def _when(iso: str) -> str:
    """'2020-08-19 14:05 UTC' for an ISO timestamp; the timestamp itself when it does not parse."""
    try:
        t = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if t.tzinfo is not None and t.utcoffset() == timedelta(0):
        return t.strftime("%Y-%m-%d %H:%M UTC")
    return t.strftime("%Y-%m-%d %H:%M") + (t.strftime(" %z") if t.tzinfo else "")


def result_texts(result) -> dict[str, str]:
    return {p.doc.id: p.doc.text for p in result.prepared}
