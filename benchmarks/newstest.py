"""Translation links and sentence alignment on WMT14 news articles (Czech, Russian, Hindi originals
with their English human translations, ../shared/data/newstest2014; credit "WMT14 news test set
(Bojar et al., 2014)").

The pooled corpus: per language, 15 articles with their English translation (the pairs) and 10
articles with one side only (5 original, 5 English), drawn with a fixed seed; 120 JSON records
(`id`, `text`, `language`), segments joined as paragraphs. One scan with the default model (or
`--fake`, a bag-of-words embedder), then per language: pairs linked as translation (x/15), false
links (a link between two documents that are not each other's translation), and sentence-alignment
precision / recall / F1 against the gold (segment N <-> segment N), with the report's aligned
spans mapped to segment indices; recall counts every segment of the 15 pairs, linked or not.

Usage: python benchmarks/newstest.py [--data DIR] [--seed N] [--fake] [--cache-dir DIR] [--json FILE]
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

# runnable as `python benchmarks/NAME.py` from a checkout, not only with -m
_sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import json
import random
import re
import sys
import tempfile
import time
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "newstest2014"
LANGS = ("cs", "ru", "hi")
PAIRS_PER_LANG = 15
UNPAIRED_PER_LANG = 10  # half original, half English: 30 in all
MIN_SEGMENTS = 4
_DOC_RE = re.compile(r'<doc docid="([^"]+)"[^>]*>(.*?)</doc>', re.S)
_SEG_RE = re.compile(r"<seg id=\"?(\d+)\"?>(.*?)</seg>", re.S)


def read_sgm(path: Path) -> dict[str, list[str]]:
    """docid -> segments in id order. The top-level domain is cut from the docid: one file of a pair
    may write "1025-jagran.com" where the other writes "1025-jagran"."""
    out = {}
    for docid, body in _DOC_RE.findall(path.read_text("utf-8")):
        segs = sorted((int(i), unescape(s).strip()) for i, s in _SEG_RE.findall(body))
        out[re.sub(r"\.(com|cz|ru|in|org|net)$", "", docid)] = [s for _, s in segs]
    return out


def build_corpus(data: Path, seed: int = 0) -> tuple[list[dict], dict]:
    """The pooled records and the truth: {"pairs": {lang: [(foreign id, english id)]}, "segments": {id: n}}."""
    rng = random.Random(seed)
    records: list[dict] = []
    truth: dict = {"pairs": {}, "unpaired": []}
    for lang in LANGS:
        src = data / f"newstest2014-{lang}en-src.{lang}.sgm"
        eng = data / f"newstest2014-{lang}en-src.en.sgm"
        if not src.is_file() or not eng.is_file():
            raise FileNotFoundError(f"newstest2014 data not found in {data} (expected {src.name} and {eng.name}); "
                                    "it ships in shared/data/newstest2014 beside the checkout, or pass --data DIR")
        xx, en = read_sgm(src), read_sgm(eng)
        ids = sorted(d for d in xx if d in en and len(xx[d]) == len(en[d]) and len(xx[d]) >= MIN_SEGMENTS)
        chosen = rng.sample(ids, PAIRS_PER_LANG + UNPAIRED_PER_LANG)
        truth["pairs"][lang] = []
        for k, docid in enumerate(chosen):
            xx_id, en_id = f"{lang}-{docid}-{lang}", f"{lang}-{docid}-en"
            sides = [(xx_id, xx[docid], lang), (en_id, en[docid], "en")]
            if k >= PAIRS_PER_LANG:  # unpaired: one side only, alternating
                sides = [sides[k % 2]]
                truth["unpaired"].append(sides[0][0])
            else:
                truth["pairs"][lang].append((xx_id, en_id))
            records += [{"id": i, "text": "\n\n".join(segs), "language": code} for i, segs, code in sides]
    return records, truth


def segment_ranges(text: str) -> list[tuple[int, int]]:
    """[start, end) of each paragraph (= gold segment) of a scanned document's text."""
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]+)*", text)]


def _segs(span, ranges) -> set[int]:
    if not span:
        return set()
    a, b = span
    return {i for i, (s, e) in enumerate(ranges) if s < b and a < e}


def evaluate(result, report: dict, truth: dict) -> dict:
    """Per language: found / 15, false links, alignment P/R/F1."""
    docs = {d["id"]: d for d in report["documents"]}
    texts = {p.doc.id: p.doc.text for p in result.prepared}
    lang_of = {x: lang for lang, prs in truth["pairs"].items() for pr in prs for x in pr}
    lang_of.update({x: x.split("-")[0] for x in truth["unpaired"]})
    true_links = {frozenset(pr) for prs in truth["pairs"].values() for pr in prs}
    out = {lang: {"linked": 0, "pairs": len(prs), "false_links": [], "tp": 0, "pred": 0, "gold": 0}
           for lang, prs in truth["pairs"].items()}
    for d in report["documents"]:
        parent = d["derived_from"]
        if parent is None:
            continue
        row = out[lang_of[d["id"]]]
        if frozenset((d["id"], parent)) not in true_links:
            row["false_links"].append(f"{d['id']} {d['relation']} of {parent}")
            continue
        row["linked"] += d["relation"] == "translation"
        src_r, tgt_r = segment_ranges(texts[parent]), segment_ranges(texts[d["id"]])
        pred = {(i, j) for a in d["alignments"]
                for i in _segs(a["source_span"], src_r) for j in _segs(a["target_span"], tgt_r)}
        row["pred"] += len(pred)
        row["tp"] += sum(i == j for i, j in pred)
    for lang, prs in truth["pairs"].items():
        out[lang]["gold"] = sum(len(segment_ranges(texts[x])) for x, _ in prs if x in texts)
        r = out[lang]
        p = r["tp"] / r["pred"] if r["pred"] else 0.0
        rec = r["tp"] / r["gold"] if r["gold"] else 0.0
        r.update(precision=round(p, 3), recall=round(rec, 3), f1=round(2 * p * rec / (p + rec) if p + rec else 0.0, 3))
    missing = [x for prs in truth["pairs"].values() for pr in prs for x in pr if x not in docs]
    return {"languages": out, "not_scanned": missing}


def run(data: Path = DEFAULT_DATA, seed: int = 0, fake: bool = False, model: str | None = None,
        cache_dir: Path | None = None) -> dict:
    if str(ROOT) not in sys.path:  # run as a script: this checkout's package, not an installed one
        sys.path.insert(0, str(ROOT))
    from provenance import CachedEmbedder, HashingEmbedder, build_report, load_model, scan

    records, truth = build_corpus(data, seed)
    embedder = HashingEmbedder(256, None, "fake/bag-of-words") if fake else load_model(model)
    if cache_dir is not None:  # sentence vectors reused across runs (results are keyed by the code)
        embedder = CachedEmbedder(embedder, cache_dir)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "newstest-pooled.json"
        path.write_text(json.dumps(records, ensure_ascii=False), "utf-8")
        t0 = time.perf_counter()
        result = scan([path], embedder=embedder)
        seconds = time.perf_counter() - t0
    res = evaluate(result, build_report(result), truth)
    res.update(model=embedder.model_id, articles=len(records), seed=seed, scan_seconds=round(seconds, 1))
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the newstest2014 .sgm files")
    ap.add_argument("--seed", type=int, default=0, help="seed for drawing the articles (default 0)")
    ap.add_argument("--fake", action="store_true",
                    help="bag-of-words embedder instead of the default model: a smoke test of the harness (it claims "
                         "every language, so cross-lingual pairs get no lexical boost and none is linked)")
    ap.add_argument("--model", default=None, help="model id or path (default: the bundled default model)")
    ap.add_argument("--cache-dir", type=Path, help="cache folder for sentence vectors (default: no cache)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args(argv)
    try:
        res = run(args.data, args.seed, args.fake, args.model, args.cache_dir)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"newstest2014 pooled corpus: {res['articles']} articles, seed {res['seed']}, model {res['model']}, "
          f"scan {res['scan_seconds']} s")
    print(f"{'lang':5} {'linked':>7} {'false':>6} {'P':>6} {'R':>6} {'F1':>6}")
    for lang, r in res["languages"].items():
        print(f"{lang}-en {r['linked']:>4}/{r['pairs']:<2} {len(r['false_links']):>6} {r['precision']:>6.3f} "
              f"{r['recall']:>6.3f} {r['f1']:>6.3f}")
        for fl in r["false_links"]:
            print(f"      false link: {fl}")
    if res["not_scanned"]:
        print(f"not scanned: {', '.join(res['not_scanned'])}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
