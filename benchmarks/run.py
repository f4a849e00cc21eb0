"""Speed and quality benchmark, measured in one run.

Quality corpus (labelled, 200+ pairs): the five seeds, the French/Spanish translations in
tests/fixtures/crosslingual, copies of the seeds with planted edits (benchmarks/planted.py),
rewrites of the seeds that touch every sentence (benchmarks/perturb.py), and 120 WMT14 news
articles (benchmarks/corpora/newstest: Czech, Russian and Hindi originals, 45 with their English
translation). Labelled: copies (planted copies -> their base, 004 -> 000), rewrites (001 -> 000,
each perturbed rewrite -> its seed), translations (fr_000 -> 000, fr_002 -> 002, es_003 -> 003,
the newstest pairs) and independent pairs that must not be linked (the seeds' own independent
reports against the story's source; newstest articles of different stories).

Speed corpus: the quality corpus, plus rewrites of the seeds in which every sentence is touched
(benchmarks/perturb.py: copies repeat sentences, and the scan encodes each distinct sentence
once, so a corpus of copies flatters speed), plus many-story Tatoeba feeds (English article,
its translation and a rewrite per story; Tatoeba, CC BY 2.0 FR), as a day's folder holds many
stories.

Measured (ratios are taken in the same run, so they hold across machines better than the
absolute times, which are printed with the machine's description):
- overhead_ratio: end-to-end scan time of the speed corpus (model loaded, nothing cached) / bare
  `encode` time of all its sentences: the best of three cold scans, each in a fresh process that
  has loaded the model and scanned other articles (benchmarks/cold_scan.py: a process keeps what
  it works out per text for its next scans, so a scan in this one would not be cold), against
  the best of four encodes here, taken in turn (timings on a shared machine drift by 10-20%
  between runs, and a neighbour's burst can slow any one run); also given against its distinct
  sentences (full run only);
- own work: the same cold scans with the model loaded but the timed scan's vectors read from a
  file (benchmarks/cold_scan.py --vectors): the scan's own CPU seconds (its threads and forked
  workers; the least of three runs), per 1,000 sentences too, and wall time; unlike
  overhead_ratio, which falls as the scan's own work shrinks but rises as the encoder gets faster,
  these measure the scan's code alone;
- warm_speedup: that cold scan / warm re-scan of the same corpus plus one new article (a fresh
  rewrite of a seed, joining its story) after a scan in this process filled a cache; the warm
  time is the median of five runs, each with another new article (the first after the filling
  scan renumbers the documents after it, and so is the slowest);
- encoders: paragraphs per second of each encoder backend (torch, onnx, onnx-int8) on the same
  paragraphs, and the cosine of their vectors to torch's;
- scaling: paragraphs per second and process peak RSS at growing corpus sizes;
- cli: the `provenance` command's wall time, a process each (benchmarks/cli_start.py): a cold scan of
  the speed corpus, unchanged re-scans and re-scans with one new article, start-up included; and the
  rounds of one `scan --watch` process that a new article sets off (the time it prints: noticed to
  report written);
- ann: query latency of one article (its sentences, k=10) against N synthetic 384-d vectors per
  index type, with index memory and recall@10 against exact search;
- baselines: (a) sentence-transformers `util.paraphrase_mining` over all paragraphs, then difflib
  per linked document pair; (b) MinHash LSH (datasketch) over word 3-shingles. For each: time
  and recall of copies, rewrites and translations next to provenance's own.
- with --stress (and in the full run): warm_speedup on a one-story corpus (the quality corpus
  plus seed rewrites only), where the new article must be aligned with every other article.

Usage: python benchmarks/run.py [--quick] [--stress] [--json FILE]
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

# runnable as `python benchmarks/NAME.py` from a checkout, not only with -m
_sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import difflib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "benchmarks" / "corpora" / "iraq-2020" / "articles"
FIXTURES = ROOT / "tests" / "fixtures" / "crosslingual"
NEWSTEST = ROOT / "benchmarks" / "corpora" / "newstest"
KINDS = ("copy", "rewrite", "translation", "independent")
WIDE_REWRITES = 30
WIDE_INDEPENDENT = 110


def machine() -> dict:
    cpu = platform.processor()
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    import faiss
    import onnxruntime

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem, 1), "python": platform.python_version(),
            "torch": version("torch"),  # not imported: see `main`
            "onnxruntime": onnxruntime.__version__, "faiss": faiss.__version__, "platform": platform.platform()}


def build_corpus(folder: Path, variants: int, wide: bool = False) -> list[tuple[str, str, str]]:
    """Write the labelled corpus as dated JSON records; return (document, other, kind) triples:
    `copy`, `rewrite`, `translation` (the document derives from the other) or `independent` (the two
    must not be linked). `wide`: also `WIDE_REWRITES` rewrites of the seeds (benchmarks/perturb.py)
    and the shipped newstest articles (benchmarks/corpora/newstest: WMT14 cs/ru/hi originals with
    their English translations, and articles with one side only), so that every kind has dozens of
    pairs; independent pairs are then the seeds' own independent reports against the story's
    source, plus `WIDE_INDEPENDENT` pairs of newstest articles drawn from different stories."""
    from benchmarks.perturb import rewrites
    from benchmarks.planted import planted_copies

    folder.mkdir(parents=True, exist_ok=True)
    records = [{"id": p.stem, "text": p.read_text("utf-8"), "date": "2020-06-11"}
               for p in [*SEEDS.glob("*.txt"), *FIXTURES.glob("*.txt")]]
    truth = [("004_26451090c78396de", "000_dd2761f3083befb7", "copy"),
             ("001_2a7d6a1efb716f92", "000_dd2761f3083befb7", "rewrite"),
             ("fr_000_afp", "000_dd2761f3083befb7", "translation"),
             ("fr_002_half", "002_a744cf46346e926e", "translation"),
             ("es_003_part", "003_c07afd8436c39a75", "translation")]
    for record, base, _ in planted_copies(variants, seed=0):
        records.append(record)
        truth.append((record["id"], base, "copy"))
    if wide:
        gold = json.loads((SEEDS.parent / "gold.json").read_text("utf-8"))["documents"]
        truth += [(d, "000_dd2761f3083befb7", "independent") for d, g in sorted(gold.items())
                  if g["relation"] == ["independent"]]
        for record, base in rewrites(WIDE_REWRITES, seed=7):
            records.append(record)
            truth.append((record["id"], base, "rewrite"))
        records += _newstest(truth)
    # dated records, as a feed would give them: with several exact copies of an article and no
    # dates, which copy is the original is undecidable, for provenance and baselines alike
    for r in records:
        (folder / f"{r['id']}.json").write_text(json.dumps(r, ensure_ascii=False), "utf-8")
    return truth


def _newstest(truth: list) -> list[dict]:
    import random

    lines = (NEWSTEST / "records.jsonl").read_text("utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    gold = json.loads((NEWSTEST / "truth.json").read_text("utf-8"))
    for pairs in gold["pairs"].values():
        truth += [(xx, en, "translation") for xx, en in pairs]
    story = {r["id"]: r["id"].rsplit("-", 1)[0] for r in records}
    others = [(a, b) for i, a in enumerate(sorted(story)) for b in sorted(story)[i + 1:] if story[a] != story[b]]
    truth += [(a, b, "independent") for a, b in random.Random(0).sample(others, WIDE_INDEPENDENT)]
    return records


def recall(linked: set[frozenset], truth) -> dict:
    """Per kind, the share of its labelled pairs that the method linked (for `independent`, lower
    is better: each one linked is a false link)."""
    out = {}
    for kind in KINDS:
        pairs = [frozenset((d, s)) for d, s, k in truth if k == kind]
        out[kind] = round(sum(p in linked for p in pairs) / len(pairs), 3) if pairs else None
    return out


def _false_links(linked: set[frozenset], truth) -> int:
    """Links between two documents that are not labelled as deriving one from the other."""
    return len(linked - {frozenset((d, s)) for d, s, k in truth if k != "independent"})


def run_provenance(folder: Path, truth, embedder) -> dict:
    from provenance import build_report, scan

    t = time.perf_counter()
    report = build_report(scan([folder], embedder=embedder))
    elapsed = time.perf_counter() - t
    linked = {frozenset((d["id"], d["derived_from"])) for d in report["documents"] if d["derived_from"]}
    # a lineage's root derives from a document of another lineage (the report's derivation graph):
    # claims as much as a document's own `derived_from`, right or wrong
    linked |= {frozenset((g["root"], g["derived_from"]["document"])) for c in report["clusters"]
               for g in c.get("lineages") or () if g.get("derived_from")}
    return {"seconds": round(elapsed, 2), "recall": recall(linked, truth), "false_links": _false_links(linked, truth)}


def paragraphs_of(folder: Path) -> tuple[list[str], list[str]]:
    from provenance import load_paths, prepare

    prepared, _ = prepare(load_paths([folder]).documents)
    texts, owners = [], []
    for p in prepared:
        for q in p.seg.paragraphs:
            texts.append(p.doc.text[q.start:q.end])
            owners.append(p.doc.id)
    return texts, owners


def run_naive(folder: Path, truth, embedder) -> dict:
    """paraphrase_mining over all paragraphs (sentence-transformers' vectors-in twin, on the same
    model and backend as provenance), then difflib on each document pair it links."""
    import torch
    from sentence_transformers import util

    texts, owners = paragraphs_of(folder)
    t = time.perf_counter()
    vecs = torch.from_numpy(np.ascontiguousarray(embedder.encode(texts)))
    mined = util.paraphrase_mining_embeddings(vecs, top_k=10)
    pairs: dict[frozenset, int] = {}
    for score, i, j in mined:
        if score >= 0.8 and owners[i] != owners[j]:
            key = frozenset((owners[i], owners[j]))
            pairs[key] = pairs.get(key, 0) + 1
    docs = {}
    for t_, o in zip(texts, owners, strict=True):
        docs.setdefault(o, []).append(t_)
    linked = set()
    for key, n in pairs.items():
        a, b = sorted(key)
        ratio = difflib.SequenceMatcher(None, "\n".join(docs[a]), "\n".join(docs[b]), autojunk=False).quick_ratio()
        if n >= 2 and ratio >= 0.3:
            linked.add(key)
    elapsed = time.perf_counter() - t
    return {"seconds": round(elapsed, 2), "recall": recall(linked, truth), "false_links": _false_links(linked, truth)}


def run_minhash(folder: Path, truth) -> dict:
    from datasketch import MinHash, MinHashLSH

    texts, owners = paragraphs_of(folder)
    docs: dict[str, list[str]] = {}
    for t_, o in zip(texts, owners, strict=True):
        docs.setdefault(o, []).append(t_)
    t = time.perf_counter()
    lsh = MinHashLSH(threshold=0.3, num_perm=128)
    sigs = {}
    for d, paras in docs.items():
        words = " ".join(paras).lower().split()
        m = MinHash(num_perm=128, seed=1)
        for k in range(len(words) - 2):
            m.update(" ".join(words[k:k + 3]).encode("utf-8"))
        sigs[d] = m
        lsh.insert(d, m)
    linked = {frozenset((d, o)) for d, m in sigs.items() for o in lsh.query(m) if o != d}
    elapsed = time.perf_counter() - t
    return {"seconds": round(elapsed, 3), "recall": recall(linked, truth), "false_links": _false_links(linked, truth)}


def encoders(folder: Path, names: tuple[str, ...], limit: int = 400) -> dict:
    """Paragraphs per second of each encoder backend on the same `limit` paragraphs of the speed
    corpus (after a warm-up; ONNX files exported beforehand), and their cosine to torch's vectors."""
    from provenance import load_model

    texts = list(dict.fromkeys(paragraphs_of(folder)[0]))[:limit]
    out, ref = {}, None
    for name in names:
        # the exported ONNX files are kept where scans keep them (the cache folder): a user exports
        # them once per machine, and so does the benchmark
        model = load_model(backend=name)
        model.encode(texts[:16])
        t = time.perf_counter()
        vecs = model.encode(texts)
        elapsed = time.perf_counter() - t
        ref = vecs if ref is None else ref
        cos = np.sum(vecs * ref, axis=1)
        out[name] = {"paragraphs": len(texts), "seconds": round(elapsed, 2),
                     "paragraphs_per_second": round(len(texts) / elapsed, 1),
                     "cosine_to_torch_mean": round(float(cos.mean()), 4),
                     "cosine_to_torch_min": round(float(cos.min()), 4)}
    return out


#: new articles for the warm re-scans (`warm_speedup`: one run each, the median taken)
NEW_ARTICLES = 5


def build_speed_corpus(folder: Path, variants: int, rewrites_n: int, stories: int) -> list[dict]:
    """Write the speed corpus (see the module docstring); return `NEW_ARTICLES` held-out new articles."""
    from benchmarks.perturb import rewrites, tatoeba_stories

    build_corpus(folder, variants)
    extra = [r for r, _ in rewrites(rewrites_n + NEW_ARTICLES, seed=1)]
    for r in extra[:rewrites_n] + tatoeba_stories(stories):
        (folder / f"{r['id']}.json").write_text(json.dumps(r, ensure_ascii=False), "utf-8")
    return extra[rewrites_n:]


def speed(folder: Path, embedder, new_articles: list[dict], distinct: bool = True, quick: bool = False) -> dict:
    """overhead_ratio, warm_speedup and scaling on one corpus (see the module docstring);
    `distinct`: also time the encoding of the distinct sentences alone (left out of --quick);
    `quick`: scaling at the full size only, from the scan that fills the warm re-scans' cache."""
    from provenance import load_paths, prepare

    docs = load_paths([folder]).documents
    prepared, _ = prepare(docs)
    texts = [t for p in prepared for t in p.sentence_texts]
    unique = list(dict.fromkeys(texts))
    embedder.encode(texts[:32])  # warm-up: first-call costs belong to neither side
    t = time.perf_counter()
    vectors = embedder.encode(texts)
    encode_runs = [time.perf_counter() - t]
    encode_unique = _timed(embedder.encode, unique) if distinct else None
    out: dict = {"documents": len(docs), "sentences": len(texts), "distinct_sentences": len(unique)}
    if not quick:  # (--quick: the whole corpus only, from the scan that fills the cache below)
        out["scaling"] = scaling(folder, embedder, [max(2, len(docs) // 8), max(2, len(docs) // 4), len(docs)])
    # `COLD_RUNS` end-to-end scans of the whole corpus, each in a fresh process (`cold_scan`), against
    # as many bare encodes and one more, taken in turn: best of each, as this shared machine's
    # timings drift by 10-20% between runs of the same thing
    scan_runs = []
    for _ in range(COLD_RUNS):
        scan_runs.append(cold_scan(folder))
        encode_runs.append(_timed(embedder.encode, texts))
    total, encode = min(scan_runs), min(encode_runs)
    out.update(own_work(folder, texts, vectors))
    out.update(warm_speedup(folder, embedder, new_articles, cold_seconds=total))
    if quick:
        out["scaling"] = [_scaling_row(len(docs), sum(len(p.seg.paragraphs) for p in prepared), out["fill_seconds"])]
    out.update({"encode_seconds": round(encode, 2), "encode_runs": [round(x, 2) for x in encode_runs],
                "scan_seconds": round(total, 2), "scan_runs": [round(x, 2) for x in scan_runs],
                "overhead_ratio": round(total / encode, 3)})
    if encode_unique is not None:
        # the scan encodes each distinct sentence once: its overhead against those alone
        out.update({"encode_distinct_seconds": round(encode_unique, 2),
                    "overhead_ratio_distinct": round(total / encode_unique, 3)})
    return out


#: cold scans timed for the overhead ratio (each in a fresh process)
COLD_RUNS = 3


def cold_scan(folder: Path) -> float:
    """Seconds of a cold scan of `folder`: in a fresh process (benchmarks/cold_scan.py), after a
    warm-up scan of articles that share no sentence with it (`warm_up_articles`)."""
    return _cold_scan_run(folder)["seconds"]


def _cold_scan_run(folder: Path, vectors: Path | None = None) -> dict:
    """benchmarks/cold_scan.py's figures (seconds, cpu_seconds) for `folder`; `vectors`: its --vectors."""
    with tempfile.TemporaryDirectory() as tmp:
        for r in warm_up_articles(folder):
            (Path(tmp) / f"{r['id']}.json").write_text(json.dumps(r, ensure_ascii=False), "utf-8")
        more = ["--vectors", str(vectors)] if vectors is not None else []
        try:
            done = subprocess.run([sys.executable, str(Path(__file__).with_name("cold_scan.py")), str(folder),
                                   "--warm-up", tmp, *more], capture_output=True, text=True,
                                  timeout=COLD_SCAN_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"benchmarks/cold_scan.py took over {COLD_SCAN_TIMEOUT} s") from None
    last = (done.stdout.strip().splitlines() or [""])[-1]
    try:
        if done.returncode:
            raise ValueError
        figures = json.loads(last)
        return {"seconds": float(figures["seconds"]), "cpu_seconds": float(figures["cpu_seconds"])}
    except (ValueError, KeyError, TypeError):
        why = (done.stderr.strip().splitlines() or [last or "no output"])[-1]
        raise RuntimeError(f"benchmarks/cold_scan.py failed (exit status {done.returncode}): {why}") from None


def own_work(folder: Path, texts: list[str], vectors: np.ndarray) -> dict:
    """The scan's own work: `COLD_RUNS` cold scans of `folder` as `cold_scan`'s, with the model
    loaded but the timed scan's vectors read from a file (`vectors` of `texts`, the sentences of
    `folder`); the least CPU seconds of a run (threads and forked workers: the figure to track),
    that per 1,000 sentences, and the best wall time. Unlike overhead_ratio, these do not move
    with the encoder's speed."""
    from benchmarks.cold_scan import write_vectors

    given = dict(zip(texts, vectors, strict=True))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "vectors.npz"
        write_vectors(path, list(given), np.stack(list(given.values())))
        runs = [_cold_scan_run(folder, path) for _ in range(COLD_RUNS)]
    cpu = min(r["cpu_seconds"] for r in runs)
    return {"own_cpu_seconds": round(cpu, 2), "own_cpu_per_1000_sentences": round(1000 * cpu / len(texts), 3),
            "own_seconds": round(min(r["seconds"] for r in runs), 2),
            "own_runs": [[round(r["seconds"], 2), round(r["cpu_seconds"], 2)] for r in runs]}


#: seconds a cold scan may take before the benchmark gives up on it
COLD_SCAN_TIMEOUT = 900
#: the warm-up's Tatoeba lines are looked for from here on (the speed corpus's stories use the first 400)
WARM_UP_LINE = 900
#: sentences per language in the warm-up (an English article and its translation each)
WARM_UP_SENTENCES = 10


def warm_up_articles(folder: Path) -> list[dict]:
    """An English article and its French, Spanish and German translations' articles, from Tatoeba
    pairs none of whose two sentences occurs in `folder`'s articles (the Tatoeba files repeat
    some English sentences across languages, so line numbers alone do not keep them apart)."""
    from benchmarks.tatoeba import DEFAULT_DATA, PAIRS, load_pair

    seen = "\n".join(json.loads(p.read_text("utf-8")).get("text", "") for p in sorted(folder.glob("*.json")))
    out = []
    for lang in PAIRS:
        foreign, english = load_pair(DEFAULT_DATA, lang)
        picked = [k for k in range(WARM_UP_LINE, len(english)) if english[k] not in seen and foreign[k] not in seen]
        picked = picked[:WARM_UP_SENTENCES]
        if len(picked) < WARM_UP_SENTENCES:
            raise RuntimeError(f"the Tatoeba {lang} data holds too few sentences outside {folder} for a warm-up")
        for side, lines in (("en", english), (lang, foreign)):
            text = "\n\n".join(" ".join(lines[k] for k in picked[i:i + 2]) for i in range(0, len(picked), 2))
            out.append({"id": f"warm-up-{lang}-{side}", "text": text, "date": "2020-06-10"})
    return out


def _timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


def warm_speedup(folder: Path, embedder, new_articles: list[dict], cold_seconds: float | None = None) -> dict:
    """A scan filling a cache, then a warm re-scan with each of `new_articles` added in turn (see
    the module docstring); the speed-up is over `cold_seconds` (default: a cold scan in a fresh
    process, `cold_scan`). The filling scan's time is given too: a scan in a process that has
    scanned these texts before (not cold: it finds what it worked out then in memory)."""
    from provenance import CachedEmbedder, scan

    cold = cold_scan(folder) if cold_seconds is None else cold_seconds
    with tempfile.TemporaryDirectory() as cache:
        cached = CachedEmbedder(embedder, cache)
        t = time.perf_counter()
        scan([folder], embedder=cached)
        fill = time.perf_counter() - t
        warm = _warm_runs(folder, cached, new_articles)
    w = float(np.median(warm))
    return {"cold_seconds": round(cold, 2), "fill_seconds": round(fill, 2), "warm_seconds": round(w, 3),
            "warm_runs": [round(x, 3) for x in warm], "warm_speedup": round(cold / w, 2)}


def _warm_runs(folder: Path, cached, new_articles: list[dict]) -> list[float]:
    from provenance import scan

    warm = []
    for record in new_articles:
        path = folder / f"new-{record['id']}.json"
        path.write_text(json.dumps(record, ensure_ascii=False), "utf-8")
        try:
            t = time.perf_counter()
            scan([folder], embedder=cached)
            warm.append(time.perf_counter() - t)
        finally:
            path.unlink()
    return warm


def scaling(folder: Path, embedder, sizes: list[int]) -> list[dict]:
    """Scan growing subsets (ascending, so the process peak RSS after each is that size's peak);
    subsets keep whole stories together as far as file order allows (files sort by story)."""
    from provenance import load_paths, scan_documents

    docs = sorted(load_paths([folder]).documents, key=lambda d: d.id)
    out = []
    for n in sizes:
        subset = docs[:n]
        t = time.perf_counter()
        res = scan_documents(subset, embedder)
        elapsed = time.perf_counter() - t
        out.append(_scaling_row(len(subset), sum(len(p.seg.paragraphs) for p in res.prepared), elapsed))
    return out


def _scaling_row(documents: int, paragraphs: int, seconds: float) -> dict:
    return {"documents": documents, "paragraphs": paragraphs, "seconds": round(seconds, 2),
            "paragraphs_per_second": round(paragraphs / seconds, 1),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def ann(n_vectors: int, dim: int = 384, query_sentences: int = 30, hnsw_max: int = 200_000, seed: int = 0) -> list:
    """Query latency of one article against `n_vectors` synthetic vectors, per index type."""
    import faiss

    from provenance.index import build_faiss_index, index_bytes

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(2000, dim)).astype(np.float32)
    data = rng.standard_normal(size=(n_vectors, dim), dtype=np.float32)
    data *= 0.6
    data += centres[rng.integers(0, 2000, n_vectors)]
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    queries = data[rng.choice(n_vectors, query_sentences, replace=False)] + 0.05 * rng.normal(
        size=(query_sentences, dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    exact = faiss.IndexFlatIP(dim)
    exact.add(data)
    _, truth = exact.search(queries, 10)
    out = []
    for kind in ("flat", "ivf-sq8", "hnsw-sq8"):
        n = n_vectors if kind != "hnsw-sq8" else min(n_vectors, hnsw_max)
        t = time.perf_counter()
        index = exact if kind == "flat" else build_faiss_index(data[:n], kind)
        build = time.perf_counter() - t
        index.search(queries[:2], 10)
        reps = []
        for _ in range(2 if kind == "flat" else 5):  # exact search of 1M vectors: ~1 s a time
            t = time.perf_counter()
            _, got = index.search(queries, 10)
            reps.append(time.perf_counter() - t)
        if n == n_vectors:
            rec = float(np.mean([len(set(g) & set(tr)) / 10 for g, tr in zip(got, truth, strict=True)]))
        else:
            rec = None
        out.append({"index": kind, "vectors": n, "build_seconds": round(build, 1),
                    "query_seconds": round(float(np.median(reps)), 4),
                    "memory_mib": round(index_bytes(index) / 2**20, 1),
                    "recall_at_10": None if rec is None else round(rec, 3)})
    faiss.omp_set_num_threads(1)
    return out


def main(argv=None) -> int:
    from benchmarks.cli_start import cli_times

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller corpora and runs (under 3 minutes here)")
    ap.add_argument("--stress", action="store_true", help="also the one-story warm re-scan (always in a full run)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    from provenance import load_model

    embedder = load_model()
    variants = 5
    res: dict = {"machine": machine(), "quick": args.quick, "backend": embedder.backend}
    parts: dict[str, float] = {"model load": time.perf_counter() - t0}
    res["part_seconds"] = parts

    def timed_part(name, fn, *a, **kw):
        t = time.perf_counter()
        out = fn(*a, **kw)
        parts[name] = round(time.perf_counter() - t, 1)
        return out

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        truth = timed_part("corpora", build_corpus, folder, variants, wide=True)
        n_docs = len(list(folder.glob("*.json")))
        res["corpus"] = {"documents": n_docs, "labelled_pairs": {k: sum(1 for *_, x in truth if x == k) for k in KINDS}}
        res["provenance"] = timed_part("quality: provenance", run_provenance, folder, truth, embedder)
        # the scans are timed before anything loads torch (the baselines' paraphrase mining and the
        # encoder comparison do), in a process like the `provenance` command's, which never imports it
        # with the default backend: after those two, warm re-scans here took ~0.05-0.1 s longer (the
        # mechanism not found: neither torch's topk, which `ranking` then uses, nor its thread count)
        fast = Path(tmp) / "speed"
        new = build_speed_corpus(fast, 2, 10 if args.quick else 30, 30 if args.quick else 60)
        res["speed"] = timed_part("speed", speed, fast, embedder, new, distinct=not args.quick, quick=args.quick)
        res["cli"] = timed_part("cli", cli_times, fast, new)
        if args.stress or not args.quick:
            stress = Path(tmp) / "stress"
            stress_new = build_speed_corpus(stress, 2, 30, 0)
            res["stress"] = {"documents": len(list(stress.glob("*.json"))),
                             **timed_part("stress", warm_speedup, stress, embedder, stress_new)}
        res["speed"]["torch_loaded"] = "torch" in sys.modules  # False: timed as `provenance scan` runs
        res["baselines"] = {
            "paraphrase_mining+difflib": timed_part("quality: paraphrase mining", run_naive, folder, truth, embedder),
            "minhash_lsh": timed_part("quality: minhash", run_minhash, folder, truth)}
        res["encoders"] = timed_part("encoders", encoders, fast, ("torch", "onnx", "onnx-int8"),
                                     120 if args.quick else 1000)
    # --quick: 50k vectors (IVF training on 100k took 16 of the part's 26 s, which left the
    # whole run ~10 s under its 3 minutes on a busy machine); the full run measures 1M
    res["ann"] = timed_part("ann", ann, 50_000 if args.quick else 1_000_000,
                            hnsw_max=10_000 if args.quick else 200_000)
    parts["model load"] = round(parts["model load"], 1)
    res["total_seconds"] = round(time.perf_counter() - t0, 1)
    # the headline figures, at the top level of the JSON
    for key in ("overhead_ratio", "overhead_ratio_distinct", "warm_speedup"):
        res[key] = res["speed"].get(key)
    print_table(res)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n", "utf-8")
    return 0


def print_table(r: dict) -> None:
    m, sp = r["machine"], r["speed"]
    print(f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; python {m['python']}, torch {m['torch']}, "
          f"faiss {m['faiss']}")
    print(f"quality corpus: {r['corpus']['documents']} documents; labelled pairs {r['corpus']['labelled_pairs']}")
    print(f"backend: {r['backend']} (the default); encoders on the speed corpus's paragraphs:")
    for name, e in r["encoders"].items():
        print(f"  {name:10} {e['paragraphs_per_second']:7.1f} paragraphs/s ({e['paragraphs']} in {e['seconds']} s), "
              f"cosine to torch mean {e['cosine_to_torch_mean']}, min {e['cosine_to_torch_min']}")
    print(f"speed corpus: {sp['documents']} documents, {sp['sentences']} sentences "
          f"({sp['distinct_sentences']} distinct)")
    distinct = (f"; against the distinct sentences ({sp['encode_distinct_seconds']} s): "
                f"{sp['overhead_ratio_distinct']}" if "overhead_ratio_distinct" in sp else "")
    print(f"overhead_ratio {sp['overhead_ratio']} (scan {sp['scan_seconds']} s, best of {sp['scan_runs']} / encode "
          f"{sp['encode_seconds']} s, best of {sp['encode_runs']}){distinct}")
    print(f"the scan's own work (cold scans with the vectors given, model loaded): {sp['own_cpu_seconds']} CPU-s, "
          f"{sp['own_cpu_per_1000_sentences']} per 1,000 sentences (least of the runs; its forked workers "
          f"included), {sp['own_seconds']} s of wall; runs [wall, CPU-s] {sp['own_runs']}")
    print(f"warm_speedup {sp['warm_speedup']} (cold {sp['cold_seconds']} s / warm {sp['warm_seconds']} s, median of "
          f"{sp['warm_runs']}; the scan that filled the cache, in a process that had scanned these texts: "
          f"{sp['fill_seconds']} s)")
    cli = r.get("cli", {})
    if "skipped" in cli:
        print(f"CLI: not measured ({cli['skipped']})")
    elif cli:
        print(f"CLI, a process each, start-up included: cold scan {cli['cold_seconds']} s; unchanged re-scan "
              f"{cli['unchanged_seconds']} s; with one new article {cli['one_new_article_seconds']} s; a `scan "
              f"--watch` round with one new article {cli['watch_round_seconds']} s")
    if "stress" in r:
        st = r["stress"]
        print(f"one-story stress: {st['documents']} documents, warm_speedup {st['warm_speedup']} "
              f"(cold {st['cold_seconds']} s / warm {st['warm_seconds']} s)")
    print("scaling:      docs  paragraphs   seconds  paragraphs/s  peak RSS MiB")
    for s in sp["scaling"]:
        print(f"          {s['documents']:8d} {s['paragraphs']:11d} {s['seconds']:9.2f}"
              f" {s['paragraphs_per_second']:13.1f} {s['peak_rss_mib']:13.1f}")
    print("ann:       index      vectors  build s  query s (1 article)  memory MiB  recall@10")
    for a in r["ann"]:
        print(f"          {a['index']:9} {a['vectors']:9d} {a['build_seconds']:8.1f} {a['query_seconds']:20.4f}"
              f" {a['memory_mib']:11.1f} {a['recall_at_10'] if a['recall_at_10'] is not None else '-':>10}")
    n = r["corpus"]["labelled_pairs"]
    print(f"quality (share of labelled pairs linked; {sum(n.values())} pairs: {n['copy']} copy, {n['rewrite']} "
          f"rewrite, {n['translation']} translation, {n['independent']} independent, where a link is wrong):")
    print("          method                     seconds   copy  rewrite  translation  independent  false links")
    rows = [("provenance", r["provenance"])] + list(r["baselines"].items())
    for name, q in rows:
        rc = q["recall"]
        print(f"          {name:26} {q['seconds']:7.2f} {rc['copy']:6} {rc['rewrite']:8} {rc['translation']:12}"
              f" {rc['independent']:12} {q['false_links']:12}")
    print(f"total {r['total_seconds']} s (" + ", ".join(f"{k} {v} s" for k, v in r["part_seconds"].items()) + ")")


if __name__ == "__main__":
    sys.exit(main())
