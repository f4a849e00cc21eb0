"""Encoder backends compared in one run: speed, drift and what the drift does to verdicts.

For each backend (`torch`, `onnx`, `onnx-int8`; see provenance/backends.py):
- sentences per second encoding the speed corpus of benchmarks/run.py (each distinct sentence
  once, the order of backends alternated over two rounds, best of the two; ratios to torch);
- cosine of each vector to torch's (mean and minimum);
- whether every document's verdict (relation, derived_from) and alignments (source and target
  spans) equal torch's on the seeds, the planted-edit corpus (benchmarks/planted.py) and the
  multilingual fixtures (French/Spanish translations of the seeds, newsroom furniture in 8
  languages, and the shipped newstest extract).

Usage: python benchmarks/backends.py [--backends torch,onnx,onnx-int8] [--json FILE]
Uses the public API only; runs from a bare clone.
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

# runnable as `python benchmarks/NAME.py` from a checkout, not only with -m
_sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "benchmarks" / "corpora" / "iraq-2020" / "articles"
FIXTURES = ROOT / "tests" / "fixtures"


def corpora(tmp: Path) -> dict[str, list[Path]]:
    """The corpora whose verdicts are compared, by name -> paths to scan."""
    from benchmarks import planted

    planted_dir = tmp / "planted"
    planted_dir.mkdir()
    planted.build_corpus(planted_dir, 3, 0)
    out = {"seeds": [SEEDS], "planted": [planted_dir], "crosslingual": [SEEDS, FIXTURES / "crosslingual"],
           "newsroom": [FIXTURES / "newsroom"]}
    out["newstest"] = [ROOT / "benchmarks" / "corpora" / "newstest" / "records.jsonl"]
    return out


def outcome(report: dict) -> dict:
    """What must not change: each document's verdict and its alignments' spans."""
    return {d["id"]: {"relation": d["relation"], "derived_from": d["derived_from"],
                      "alignments": [(a["source_span"], a["target_span"]) for a in d.get("alignments", [])]}
            for d in report["documents"]}


def differences(a: dict, b: dict) -> dict:
    verdicts = sorted(k for k in a if k in b and (a[k]["relation"], a[k]["derived_from"]) !=
                      (b[k]["relation"], b[k]["derived_from"]))
    aligned = sorted(k for k in a if k in b and a[k]["alignments"] != b[k]["alignments"])
    return {"documents": len(a), "verdicts_changed": verdicts, "alignments_changed": aligned}


def speed_sentences(tmp: Path) -> list[str]:
    from benchmarks.run import build_speed_corpus
    from provenance import load_paths, prepare

    folder = tmp / "speed"
    build_speed_corpus(folder, 2, 10, 30)
    prepared, _ = prepare(load_paths([folder]).documents)
    return list(dict.fromkeys(t for p in prepared for t in p.sentence_texts))


def run(names: list[str], cache_dir: Path) -> dict:
    from provenance import build_report, load_model, scan

    with tempfile.TemporaryDirectory() as tmp:
        sentences = speed_sentences(Path(tmp))
        corp = corpora(Path(tmp))
        models = {n: load_model(backend=n, cache_dir=cache_dir) for n in names}
        for m in models.values():
            m.encode(sentences[:32])  # loads (and for ONNX exports) the model, warms it up
        times: dict[str, list[float]] = {n: [] for n in names}
        vectors = {}
        for order in (names, names[::-1]):
            for n in order:
                t = time.perf_counter()
                vectors[n] = models[n].encode(sentences)
                times[n].append(time.perf_counter() - t)
        res: dict = {"sentences": len(sentences), "backends": {}}
        ref = "torch" if "torch" in names else names[0]
        outcomes = {}
        for n in names:
            cos = np.sum(vectors[n] * vectors[ref], axis=1)
            best = min(times[n])
            outcomes[n] = {c: outcome(build_report(scan(paths, embedder=models[n]))) for c, paths in corp.items()}
            res["backends"][n] = {"seconds": round(best, 2), "runs": [round(x, 2) for x in times[n]],
                                  "sentences_per_second": round(len(sentences) / best, 1),
                                  "speedup": round(min(times[ref]) / best, 2),
                                  "cosine_mean": round(float(cos.mean()), 4), "cosine_min": round(float(cos.min()), 4),
                                  "corpora": {c: differences(outcomes[ref][c], o) for c, o in outcomes[n].items()}}
    return res


def print_table(res: dict) -> None:
    print(f"speed corpus: {res['sentences']} distinct sentences")
    print("backend     sentences/s  speedup  cosine mean  cosine min  verdicts/alignments changed")
    for n, b in res["backends"].items():
        changed = "; ".join(f"{c}: {len(d['verdicts_changed'])}/{len(d['alignments_changed'])} of {d['documents']}"
                            for c, d in b["corpora"].items())
        print(f"{n:11} {b['sentences_per_second']:11.1f} {b['speedup']:8.2f} {b['cosine_mean']:12.4f}"
              f" {b['cosine_min']:11.4f}  {changed}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="torch,onnx,onnx-int8", help="comma-separated, the reference first")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as cache:
        res = run([b.strip() for b in args.backends.split(",") if b.strip()], Path(cache))
    print_table(res)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
