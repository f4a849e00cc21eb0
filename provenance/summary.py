"""What a person reads first: each document's display name (outlet, title, date; the id only as a
label), each story's name (its source's headline), and the terminal summary, fitted to the
terminal's width. The JSON report (`report`) and the HTML view (`html`) both use these names."""

from __future__ import annotations


def shorten(text: str, width: int) -> str:
    """`text` cut to at most `width` characters with an ellipsis, at a word boundary where that
    loses little (a headline reads better cut between words), never wrapped."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    cut = text[:width - 1]
    space = cut.rfind(" ")
    if space >= (width - 1) * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def safe_url(url: str | None) -> str | None:
    """`url` when it is an http(s) address a page may link to; None otherwise (`javascript:`,
    `data:`, relative or malformed addresses are shown as text, never linked)."""
    from urllib.parse import urlsplit

    if not url or any(c.isspace() or ord(c) < 32 for c in url.strip()):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def doc_name(doc: dict) -> str:
    """What a reader calls a report document: "Outlet: Title (date)" with what is known, else its id."""
    outlet, title, date = doc.get("outlet"), doc.get("title"), doc.get("date")
    name = ": ".join(" ".join(x.split()) for x in (outlet, title) if x)
    if not name:
        return doc["id"] + (f" ({date})" if date else "")
    return name + (f" ({date})" if date else "")


def story_names(report: dict) -> dict[str, str]:
    """Story id -> its headline: the source's title, else the first member's that has one, else the id."""
    docs = {d["id"]: d for d in report["documents"]}
    out = {}
    for c in report["clusters"]:
        order = ([c["source"]] if c["source"] else []) + list(c["members"])
        titles = [" ".join(docs[i]["title"].split()) for i in order if i in docs and docs[i].get("title")]
        out[c["id"]] = titles[0] if titles else c["id"]
    return out


def summary_table(report: dict, width: int | None = None) -> str:
    """The terminal summary, no line longer than `width` (default: the terminal's width).

    One row per document: row number, name (outlet, title, date, then the id), language,
    relation, the row it derives from, the two coverage shares (of the article taken from the
    source, of the source used), divergences (substantive / all) and story; then one entry per
    story named by its headline; then skipped inputs. Long cells are cut with an ellipsis.
    """
    import shutil

    width = max(40, width or shutil.get_terminal_size().columns)
    docs = report["documents"]
    row_of = {d["id"]: str(k) for k, d in enumerate(docs, start=1)}
    header = ("#", "document", "lang", "relation", "from", "taken", "used", "div", "story")
    rows = []
    for d in docs:
        cov = "-" if d["coverage"] is None else f"{d['coverage']:.0%}"
        used = "-" if d.get("source_used") is None else f"{d['source_used']:.0%}"
        subst = sum(1 for v in d["divergences"] if v.get("severity") == "substantive")
        div = f"{subst}/{len(d['divergences'])}" if d["derived_from"] else "-"
        name = doc_name(d)
        if name != d["id"] and not name.startswith(d["id"] + " "):
            name += f" · {d['id']}"  # the id last: the first thing cut when space runs out
        if d.get("archived"):
            name = "(archived) " + name
        rows.append([row_of[d["id"]], name, d["language"], d["relation"],
                     row_of.get(d["derived_from"], d["derived_from"] or "-"), cov, used, div, d["cluster"] or "-"])
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header))]
    gap = 2
    room = width - (sum(widths) - widths[1]) - gap * (len(header) - 1)
    widths[1] = max(min(widths[1], room), len(header[1]))
    for r in rows:
        r[1] = shorten(r[1], widths[1]) if len(r[1]) > widths[1] else r[1]
    lines = [(" " * gap).join(c.ljust(w) for c, w in zip(h, widths, strict=True)).rstrip()
             for h in [header, *rows]]
    lines.insert(1, (" " * gap).join("-" * w for w in widths))
    lines += ["taken: share of the article from its source; used: share of the source it uses",
              "div: substantive/all divergences from the source"]
    names = story_names(report)
    for c in report["clusters"]:
        label = f" ({c['id']})"
        lines.append("Story: " + shorten(names[c["id"]], width - len("Story: ") - len(label)) + label
                     if names[c["id"]] != c["id"] else f"Story {c['id']}")
        src = f"source #{row_of[c['source']]}" if c["source"] in row_of else "no source (independent reports only)"
        agency = c["attribution"]["agency"] or "no agency credit found"
        members = ", ".join("#" + row_of.get(m, m) for m in c["members"])
        lines.append(f"  {src}; {agency}; members {members}")
        lines.extend(lineage_lines(c, docs, row_of))
    if report["skipped"]:
        lines.append(f"skipped {len(report['skipped'])} input(s):")
        lines.extend(f"  {s['path']}: {s['reason']}" for s in report["skipped"])
    return "\n".join(shorten_line(line, width) for line in lines)


def lineage_lines(cluster: dict, docs: list[dict], row_of: dict[str, str]) -> list[str]:
    """A story's lineages (root, agency, members, what it draws on), then every arrow in it whose
    direction is not established, in words."""
    def row(doc_id: str) -> str:
        return "#" + row_of.get(doc_id, doc_id)

    lines = []
    for x in cluster.get("lineages", []):
        drawn = x["derived_from"]
        tail = f"; drawn from {row(drawn['document'])} ({drawn['lineage']})" if drawn else ""
        lines.append(f"  {x['id']}: root {row(x['root'])}; {x['attribution']['agency'] or 'no agency credit'}; "
                     f"members {', '.join(row(m) for m in x['members'])}{tail}")
    members = set(cluster["members"])
    for d in docs:
        if d["id"] in members and d.get("direction") and not d["direction"]["established"]:
            text = d["direction"]["words"]
            for other in (d["derived_from"], *(x["root"] for x in cluster.get("lineages", []))):
                text = text.replace(other, row(other))
            lines.append(f"  {row(d['id'])} from {row(d['derived_from'])}: {text}")
    return lines


def shorten_line(line: str, width: int) -> str:
    """`line` cut to `width` with an ellipsis, keeping its indentation and inner spacing."""
    return line if len(line) <= width else line[:width - 1].rstrip() + "…"
