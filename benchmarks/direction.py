"""Direction and lineage benchmark: is the arrow right, and does the report say when it is a guess?

Corpora (all built here from the seeds and shared data; the public API only):

* `lineages`: the five seeds plus a syndicated copy of 002 and a reprint of 003 -> the lineages,
  their roots, and the relations of 002 and 003 (both should be `source`).
* `planted`: planted-edit copies of the seeds (`benchmarks/planted.py`), scanned as undated .txt
  files and again as dated JSON records -> per pair: linked, direction established, right.
* `newstest`: the newstest2014 translations (`benchmarks/newstest.py`, the origlang side is the
  original) -> the same figures for the translation pairs, and the cues that carried them.
* `replicas`: the planted copies and translations again, each article carried by four outlets
  byte for byte -> cycles, and pairs found with replicas vs without.

* `perturb`: the seeds and 200 rewrites of them (`benchmarks/perturb.py`), one story -> the
  lineages and the seed families in each.
* `calibrate` (not run by default): fits the cue weights on other draws of the same corpora.

Usage: python benchmarks/direction.py [--only calibrate,lineages,planted,newstest,replicas,perturb] [--json FILE]
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

# runnable as `python benchmarks/NAME.py` from a checkout, not only with -m
_sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchmarks import newstest, planted

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "benchmarks" / "corpora" / "iraq-2020" / "articles"
OUTLETS = 4


def seed_records() -> list[dict]:
    return [{"id": p.stem, "text": p.read_text("utf-8")} for p in sorted(SEEDS.glob("*.txt"))]


def syndicated(records: list[dict]) -> list[dict]:
    """A syndicated copy of 002 (last paragraph cut, a partner line appended) and a reprint of 003
    (its own header and furniture)."""
    by_id = {r["id"][:3]: r["text"] for r in records}
    paras = by_id["002"].rstrip().split("\n\n")
    long = [k for k, p in enumerate(paras) if len(p.split()) >= 25]
    kept = paras[:long[-2]]  # the last two story paragraphs cut, as a partner site trims to fit
    copy_002 = "\n\n".join(kept) + "\n\nThis article was syndicated from a partner site.\n\nShare this article"
    copy_003 = "Reprinted with permission\n\n" + by_id["003"].rstrip() + "\n\nSign up for our newsletter"
    return [{"id": "900-syndicated-002", "text": copy_002}, {"id": "901-reprint-003", "text": copy_003}]


def scan_records(records: list[dict], embedder, as_txt: bool = False):
    from provenance import scan

    with tempfile.TemporaryDirectory() as tmp:
        if as_txt:
            for r in records:
                (Path(tmp) / f"{r['id']}.txt").write_text(r["text"], "utf-8")
        else:
            (Path(tmp) / "feed.json").write_text(json.dumps(records, ensure_ascii=False), "utf-8")
        return scan([tmp], embedder=embedder)


def judge_pairs(report: dict, pairs: list[tuple[str, str]]) -> dict:
    """Per (original, derived) pair: linked either way, direction established, arrow right."""
    docs = {d["id"]: d for d in report["documents"]}
    rows = {"pairs": len(pairs), "linked": 0, "established": 0, "right": 0, "right_any": 0, "cues": Counter(),
            "wrong": []}
    for orig, der in pairs:
        d, o = docs.get(der), docs.get(orig)
        if d is None or o is None:
            continue
        if d["derived_from"] == orig:
            link, right = d, True
        elif o["derived_from"] == der:
            link, right = o, False
        else:
            continue
        rows["linked"] += 1
        rows["right_any"] += right
        direction = link["direction"] or {}
        if direction.get("established"):
            rows["established"] += 1
            rows["right"] += right
            # a cue's name, without the words it quotes ("... (Horáček, Kolín)")
            rows["cues"].update(re.sub(r" \(.*\)$", "", b) for b in direction["basis"])
            if not right:
                rows["wrong"].append(f"{orig} reported as derived from {der}")
    rows["cues"] = dict(rows["cues"].most_common(6))
    return rows


def run_lineages(embedder) -> dict:
    from provenance import build_report

    records = seed_records()
    report = build_report(scan_records(records + syndicated(records), embedder, as_txt=True))
    rel = {d["id"][:3]: d["relation"] for d in report["documents"]}
    lineages = [(x["root"][:3], sorted(m[:3] for m in x["members"])) for c in report["clusters"] for x in c["lineages"]]
    return {"lineages": lineages, "relation_002": rel["002"], "relation_003": rel["003"],
            "relations": rel, "story_sources": [c["source"] for c in report["clusters"]]}


def planted_pairs(variants: int = 2, seed: int = 0) -> tuple[list[dict], list[tuple[str, str]]]:
    records = [{"id": p.stem, "text": p.read_text("utf-8"), "date": "2020-06-11"} for p in sorted(SEEDS.glob("*.txt"))]
    pairs = []
    for record, base, _ in planted.planted_copies(variants, seed):
        records.append(record)
        pairs.append((base, record["id"]))
    return records, pairs


def run_planted(embedder) -> dict:
    from provenance import build_report

    records, pairs = planted_pairs()
    undated = [{"id": r["id"], "text": r["text"]} for r in records]
    return {"undated": judge_pairs(build_report(scan_records(undated, embedder, as_txt=True)), pairs),
            "dated": judge_pairs(build_report(scan_records(records, embedder)), pairs)}


def newstest_pairs() -> tuple[list[dict], list[tuple[str, str]]]:
    records, truth = newstest.build_corpus(newstest.DEFAULT_DATA, 0)
    return records, [pr for prs in truth["pairs"].values() for pr in prs]  # (origlang side, English)


def newstest_heldout(lang: str) -> tuple[list[dict], list[tuple[str, str]]]:
    """Every `lang` article with its English translation that the figures' draw (`newstest_pairs`)
    leaves out, neither as a pair nor as a lone side: calibration data the figures never see."""
    records, _ = newstest.build_corpus(newstest.DEFAULT_DATA, 0)
    drawn = {r["id"].rsplit("-", 1)[0] for r in records}
    data = newstest.DEFAULT_DATA
    xx = newstest.read_sgm(data / f"newstest2014-{lang}en-src.{lang}.sgm")
    en = newstest.read_sgm(data / f"newstest2014-{lang}en-src.en.sgm")
    out, pairs = [], []
    for docid in sorted(d for d in xx if d in en and len(xx[d]) == len(en[d]) >= newstest.MIN_SEGMENTS):
        if f"{lang}-{docid}" in drawn:
            continue
        out += [{"id": f"{lang}-{docid}-{lang}", "text": "\n\n".join(xx[docid]), "language": lang},
                {"id": f"{lang}-{docid}-en", "text": "\n\n".join(en[docid]), "language": "en"}]
        pairs.append((f"{lang}-{docid}-{lang}", f"{lang}-{docid}-en"))
    return out, pairs


def run_newstest(embedder) -> dict:
    from provenance import build_report

    records, pairs = newstest_pairs()
    report = build_report(scan_records(records, embedder))
    out = judge_pairs(report, pairs)
    out["by_language"] = {}
    for lang in newstest.LANGS:
        rows = judge_pairs(report, [p for p in pairs if p[0].startswith(f"{lang}-")])
        out["by_language"][lang] = {k: rows[k] for k in ("linked", "established", "right", "cues")}
    return out


def replicate(records: list[dict], outlets: int = OUTLETS) -> list[dict]:
    """Each record carried by `outlets` outlets byte for byte (ids suffixed @1..@N)."""
    return [{**r, "id": f"{r['id']}@{k}"} for r in records for k in range(1, outlets + 1)]


def found_pairs(report: dict, pairs: list[tuple[str, str]], carriers: bool) -> int:
    """Pairs linked either way; with `carriers`, between any carriers of the two texts."""
    def text_of(doc_id: str) -> str:
        return doc_id.split("@")[0] if carriers else doc_id

    links = {frozenset((text_of(d["id"]), text_of(d["derived_from"]))) for d in report["documents"]
             if d["derived_from"]}
    return sum(frozenset(p) in links for p in pairs)


def cycles(report: dict) -> int:
    parent = {d["id"]: d["derived_from"] for d in report["documents"]}
    n = 0
    for start in parent:
        seen, x = {start}, parent[start]
        while x is not None and x not in seen:
            seen.add(x)
            x = parent.get(x)
        n += x == start
    return n


def run_replicas(embedder) -> dict:
    from provenance import build_report

    p_records, p_pairs = planted_pairs(1)
    n_records, n_pairs = newstest_pairs()
    n_records = [r for r in n_records if r["id"].startswith("cs-")]
    n_pairs = [p for p in n_pairs if p[0].startswith("cs-")]
    records, pairs = p_records + n_records, p_pairs + n_pairs
    plain = build_report(scan_records(records, embedder))
    rep = build_report(scan_records(replicate(records), embedder))
    return {"pairs": len(pairs), "found_without_replicas": found_pairs(plain, pairs, False),
            "found_with_replicas": found_pairs(rep, pairs, True), "cycles": cycles(rep)}


def run_perturb(embedder, n: int = 200) -> dict:
    """The seeds and `n` rewrites of them (`benchmarks/perturb.py`) in one story: per lineage, its
    root and the seed families of its members; documents others derive from that are labelled
    `independent`; the family of the story's source."""
    from benchmarks import perturb
    from provenance import build_report

    records = seed_records() + [r for r, _ in perturb.rewrites(n)]
    report = build_report(scan_records(records, embedder))

    def family(doc_id: str) -> str:
        return doc_id[:3] if not doc_id.startswith("rw") else doc_id.rsplit("-", 1)[1]

    parents = {d["derived_from"] for d in report["documents"] if d["derived_from"]}
    lineages = [{"id": x["id"], "root": x["root"], "families": dict(Counter(family(m) for m in x["members"])),
                 "derived_from": x["derived_from"] and x["derived_from"]["lineage"]}
                for c in report["clusters"] for x in c["lineages"]]
    return {"documents": len(records), "stories": len(report["clusters"]), "lineages": lineages,
            "parents_labelled_independent": sorted(d["id"] for d in report["documents"]
                                                   if d["id"] in parents and d["relation"] == "independent"),
            "story_source_family": [family(c["source"]) for c in report["clusters"] if c["source"]]}


def cue_rows(result, pairs: list[tuple[str, str]]) -> list[dict]:
    """The text cues of each linked (original, derived) pair, as `direction.lean` saw them."""
    from provenance.direction import pair_leans

    ids = [p.doc.id for p in result.prepared]
    leans = pair_leans(result.prepared, result.alignments, result.evidence)
    rows = []
    for orig, der in pairs:
        if orig in ids and der in ids:
            t, s = ids.index(der), ids.index(orig)
            if result.verdicts[t].derived_from == s or result.verdicts[s].derived_from == t:
                rows.append(dict(leans[(t, s)].cues) if (t, s) in leans else {})
    return rows


def calibrate(embedder) -> dict:
    """Fit the cue weights (a logistic regression without intercept: the lean of "A is the original
    of B" is minus that of the reverse) on corpora the figures above do not use: planted copies
    drawn with seeds 1 and 2, the newstest articles the figures' draw leaves out (`newstest_heldout`,
    one scan per language), and the seeds with a syndicated copy and a reprint. Prints each cue's
    weight and how often its sign was right, and per newstest language how often the lean alone,
    at the fitted weights, would establish the direction and be right."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from provenance.direction import ESTABLISHED, WEIGHTS

    rows = []
    for seed in (1, 2):
        records, pairs = planted_pairs(2, seed)
        rows += cue_rows(scan_records([{"id": r["id"], "text": r["text"]} for r in records], embedder, True), pairs)
    by_lang = {}
    for lang in newstest.LANGS:
        records, pairs = newstest_heldout(lang)
        by_lang[lang] = cue_rows(scan_records(records, embedder), pairs)
        rows += by_lang[lang]
    seeds = seed_records()
    rows += cue_rows(scan_records(seeds + syndicated(seeds), embedder, True),
                     [("002_a744cf46346e926e", "900-syndicated-002"), ("003_c07afd8436c39a75", "901-reprint-003")])
    names = sorted(WEIGHTS)
    x = np.array([[r.get(k, 0.0) for k in names] for r in rows])
    keep = np.abs(x).sum(axis=1) > 0
    xs = np.vstack([x[keep], -x[keep]])
    ys = np.r_[np.ones(keep.sum()), np.zeros(keep.sum())]
    fit = LogisticRegression(fit_intercept=False, C=10.0).fit(xs, ys)
    out = {"pairs": len(rows), "with_a_cue": int(keep.sum()), "weights": {}}
    for k, name in enumerate(names):
        seen = x[:, k] != 0
        out["weights"][name] = {"fitted": round(float(fit.coef_[0][k]), 2), "pairs": int(seen.sum()),
                                "sign_right": int((x[seen, k] > 0).sum())}
    w = fit.coef_[0]
    for lang, lrows in by_lang.items():
        score = np.array([[r.get(k, 0.0) for k in names] for r in lrows]) @ w if lrows else np.zeros(0)
        est = np.abs(score) >= np.log(ESTABLISHED / (1 - ESTABLISHED))
        out[f"newstest {lang}"] = {"linked": len(lrows), "established": int(est.sum()),
                                   "right": int((score[est] > 0).sum())}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="lineages,planted,newstest,replicas,perturb")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    from provenance import load_model

    embedder = load_model()
    runs = {"calibrate": calibrate, "perturb": run_perturb, "lineages": run_lineages, "planted": run_planted,
            "newstest": run_newstest, "replicas": run_replicas}
    res = {}
    for name in args.only.split(","):
        res[name] = runs[name](embedder)
        print(f"{name}: {json.dumps(res[name], ensure_ascii=False)}", flush=True)
    for name, rows in [("planted undated", res.get("planted", {}).get("undated")),
                       ("planted dated", res.get("planted", {}).get("dated")), ("newstest", res.get("newstest"))]:
        if rows:
            est = rows["established"]
            print(f"{name:16} linked {rows['linked']}/{rows['pairs']}  established {est}/{rows['linked']} "
                  f"({est / max(rows['linked'], 1):.0%})  right {rows['right']}/{est} "
                  f"({rows['right'] / max(est, 1):.0%})")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
