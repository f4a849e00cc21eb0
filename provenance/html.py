"""The HTML view of a report: one self-contained file (inline CSS and script, no network at view
time). Built from the JSON report plus the documents' texts, so what the page shows is exactly
what the report claims.

Per story: its source, agency credit and reconstructed wire; per derived document, its
divergences grouped by severity (each with context, word diff and a link that brings both
versions into view), then the source and the derivative side by side, one row per aligned
passage (omitted and added passages on rows of their own, page furniture greyed). Articles not
derived from anything can be opened to read. A toolbar filters documents by text, relation and
language; a print stylesheet prints every passage.
"""

from __future__ import annotations

import html as _html
import os
import re
from datetime import UTC, datetime, timedelta

from jinja2 import Environment, PackageLoader, select_autoescape

from .compare import token_opcodes
from .divergences import SEVERITIES, severity
from .summary import doc_name, safe_url, shorten, story_names

_LABELS = {("number", None): "number changed", ("number", "date"): "day or month changed",
           ("name", "variant"): "name respelled", ("name", "replaced"): "name replaced",
           ("quote", "altered"): "quotation altered",
           ("quote", "dropped"): "quotation dropped", ("quote", "added"): "quotation added",
           ("attribution", "changed"): "attribution changed", ("attribution", "removed"): "attribution removed",
           ("omitted", None): "passage omitted", ("added", None): "passage added",
           ("added", "quote"): "passage with a quotation added", ("reworded", "edited"): "passage edited",
           ("reworded", "reworded"): "passage reworded",
           ("reworded", "unaligned"): "passages not matched (one on each side)"}
_KIND_WORDS = {"verbatim": "carried word for word", "edited": "lightly edited", "reworded": "reworded",
               "translated": "translated"}


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


def _cell(text: str, span, marks: list) -> str:
    """HTML of `text[span]` with the marks that fall inside it (clipped, offsets made local)."""
    a, b = span
    local = [(max(x, a) - a, min(y, b) - a, c, i) for x, y, c, i in marks if x < b and y > a or x == y == a]
    return render_text(text[a:b], sorted(local, key=lambda m: (m[0], -m[1])))


def _rows(d: dict, src_doc: dict) -> list[dict]:
    """The side-by-side rows of a derived document: aligned passages (both sides), omitted and
    added passages and page furniture (one side), in the derivative's order, with source-only
    rows placed before the first later passage of the source."""
    rows, src_only = [], []
    for k, a in enumerate(d["alignments"], start=1):
        rows.append({"k": k, "kind": a["kind"], "moved": a.get("moved", False), "sim": a.get("similarity"),
                     "s": a["source_span"], "t": a["target_span"]})
    for v in d["divergences"]:
        if v["type"] == "omitted":
            src_only.append({"kind": "omitted", "s": v["source_span"], "t": None})
        elif v["type"] == "added":
            rows.append({"kind": "added", "s": None, "t": v["target_span"], "quote": v.get("subtype") == "quote"})
        elif v.get("subtype") == "unaligned":
            rows.append({"kind": "unaligned", "s": v["source_span"], "t": v["target_span"]})
    rows += [{"kind": "excluded", "s": None, "t": e["span"], "reason": e["reason"]} for e in d["excluded"]]
    src_only += [{"kind": "excluded", "s": e["span"], "t": None, "reason": e["reason"]} for e in src_doc["excluded"]]
    rows.sort(key=lambda r: (r["t"][0], r["t"][1]))
    for r in sorted(src_only, key=lambda r: r["s"][0]):
        at = next((i for i, x in enumerate(rows) if x["s"] and not x.get("moved") and x["s"][0] > r["s"][0]
                   and x["kind"] != "excluded"), len(rows))
        rows.insert(at, r)
    merged: list[dict] = []
    for r in rows:  # consecutive furniture: one row (what lies between on each side is furniture or blank)
        last = merged[-1] if merged else None
        if last and r["kind"] == last["kind"] == "excluded":
            for side in ("s", "t"):
                if r[side]:
                    last[side] = ([min(last[side][0], r[side][0]), max(last[side][1], r[side][1])]
                                  if last[side] else r[side])
        else:
            merged.append(dict(r))
    return merged


def _row_title(r: dict) -> str:
    """What a row is, in words (the passage's tooltip)."""
    if r["kind"] in _KIND_WORDS:
        words = f"passage {r['k']}: {_KIND_WORDS[r['kind']]}"
        if r["kind"] in ("edited", "reworded") and r.get("sim") is not None:
            words += f", {r['sim']:.0%} of the wording the same"
        return words + ("; moved: in another place than in the source" if r.get("moved") else "")
    return {"omitted": "omitted: in the source, not in the derivative",
            "added": "added: in the derivative, not in the source",
            "unaligned": "not matched: a passage in each text at this place that could not be paired",
            "excluded": f"page furniture ({r.get('reason')}), not matched"}[r["kind"]]


def _pair_view(d: dict, src_doc: dict, st: str, tt: str) -> dict:
    """Rows (marked-up cells) and divergences (grouped by severity) of one derived document."""
    slug = re.sub(r"\W", "_", d["id"])
    s_marks = [(e["span"][0], e["span"][1], "excluded", None) for e in src_doc["excluded"]]
    t_marks = [(e["span"][0], e["span"][1], "excluded", None) for e in d["excluded"]]
    for a in d["alignments"]:
        (sa, sb), (ta, tb) = a["source_span"], a["target_span"]
        # word-level highlights where they inform: light edits (a reworded passage differs
        # almost everywhere, and a wall of strike-through hides what matters)
        if a["kind"] == "edited" or (a["kind"] == "reworded" and a.get("similarity", 0) >= 0.6):
            ra, rb = _changed_ranges(st[sa:sb], tt[ta:tb])
            s_marks += [(sa + x, sa + y, "del", None) for x, y in ra]
            t_marks += [(ta + x, ta + y, "ins", None) for x, y in rb]
    groups: dict[str, list] = {s: [] for s in SEVERITIES}
    for j, v in enumerate(d["divergences"], start=1):
        sev = v.get("severity") or severity(v)
        pin = v["type"] in ("number", "name", "quote", "attribution")  # not whole passages: their row says it
        for side, span, marks in (("s", v["source_span"], s_marks), ("t", v["target_span"], t_marks)):
            if span:
                name = f"{slug}-d{j}{side}"  # the id on its anchor, a class on every piece of it
                marks.append((span[0], span[1], f"dv dv-{sev} {name}" if pin else f"dvp {name}", name))
        groups[sev].append({"j": j, "v": v, "label": _LABELS.get((v["type"], v.get("subtype")), v["type"]),
                            "source": _context(st, v["source_span"], v, "source"),
                            "target": _context(tt, v["target_span"], v, "target")})
    rows = _rows(d, src_doc)
    for r in rows:
        r["title"] = _row_title(r)
        r["s_html"] = _cell(st, r["s"], s_marks) if r["s"] else None
        r["t_html"] = _cell(tt, r["t"], t_marks) if r["t"] else None
    return {"doc": d, "source": src_doc, "slug": slug, "rows": rows,
            "groups": [(s, groups[s]) for s in SEVERITIES if groups[s]]}


def _context(text: str, span, v: dict, side: str, width: int = 70) -> str:
    """HTML: the divergence's text on one side, with its word diff when the report has one, or
    with a little of the surrounding text (changed words marked)."""
    if not span:
        return ""
    cls = "del" if side == "source" else "ins"
    if v.get("diff") and v["source_text"] and v["target_text"]:  # the word diff, in the texts' own spacing
        ra, rb = _changed_ranges(v["source_text"], v["target_text"])
        own = v["source_text"] if side == "source" else v["target_text"]
        return render_text(own, [(x, y, cls, None) for x, y in (ra if side == "source" else rb)])
    a, b = span
    if v["type"] in ("omitted", "added") or v.get("subtype") == "unaligned":
        return _html.escape(shorten(text[a:b], 320))
    before = " ".join(text[max(0, a - width):a].split()[1:] if a > width else text[:a].split())
    after = " ".join(text[b:b + width].split()[:-1] if len(text) > b + width else text[b:].split())
    return (("…" if a > width else "") + _html.escape(before) + f' <span class="{cls}">{_html.escape(text[a:b])}'
            f'</span> ' + _html.escape(after) + ("…" if len(text) > b + width else ""))


def build_view(report: dict, texts: dict[str, str]) -> dict:
    """The data the template needs: per derived document its rows and divergences; per story its
    members; the filters' choices."""
    docs = {d["id"]: d for d in report["documents"]}
    pairs = {d["id"]: _pair_view(d, docs[d["derived_from"]], texts[d["derived_from"]], texts[d["id"]])
             for d in report["documents"] if d["derived_from"]}
    names = {i: _name(d) for i, d in docs.items()}
    stories = {cid: {"full": h, "named": h != cid} for cid, h in story_names(report).items()}
    loose = [d["id"] for d in report["documents"] if not d["cluster"]]
    return {"report": report, "pairs": pairs, "docs": docs, "names": names, "stories": stories,
            "inputs": _inputs(report), "loose": loose, "texts": {i: _plain(texts[i], docs[i]) for i in docs},
            "filters": {i: {"s": " ".join([names[i]["text"], i, d.get("outlet") or "", d["relation"],
                                           d["language"]]).lower(), "r": d["relation"], "l": d["language"]}
                        for i, d in docs.items()},
            "relations": sorted({d["relation"] for d in docs.values()}),
            "languages": sorted({d["language"] for d in docs.values()}),
            "severity_counts": {i: _counts(d) for i, d in docs.items()}}


def _counts(d: dict) -> dict[str, int]:
    out = dict.fromkeys(SEVERITIES, 0)
    for v in d["divergences"]:
        out[v.get("severity") or severity(v)] += 1
    return out


def _plain(text: str, d: dict) -> str:
    """HTML of a whole document with its page furniture greyed (for articles not derived)."""
    return render_text(text, sorted([(e["span"][0], e["span"][1], "excluded", None) for e in d["excluded"]]))


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


def render_html(report: dict, texts: dict[str, str], generated: str | None = None) -> str:
    """The page for `report`. `generated` (ISO 8601) is the scan time shown in the header; it is
    the current UTC time by default and lives in the page only, so the JSON report stays
    byte-identical between runs."""
    env = Environment(loader=PackageLoader("provenance", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["shorten"] = shorten
    env.filters["pct"] = lambda x: "–" if x is None else f"{x:.0%}"
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
