"""Scale: the local engine and `--engine spark` (local[2]) on generated corpora of many stories.

Corpora (written afresh to a temporary folder, seed 0, as JSON-lines part files of 100 records):
stories of 2 to 10 articles, plus one story in every 1,000 articles carried by 60 outlets (a wire
that everyone runs). Each story's wire is 8 to 14 sentences of words drawn from wordfreq's 3,000
commonest English words, with two invented names and three numbers of its own; its carriers are
verbatim copies (with a dateline and a furniture line), rewrites (two sentences dropped, one number
changed, a sentence added) and partial copies (the first half). One article in ten is a story of
its own (nothing copies it). Text is word salad: the benchmark measures the engines' cost, not
their judgement.

Both engines use `embed.HashingEmbedder` (bag-of-words vectors, no model), so that 8,000 articles
finish on 2 cores; with a real model add the model's encoding rate (120-180 paragraphs/s on two
cores for the bundled MiniLM) to both. Each case runs in a fresh child process. Printed per case:
articles, wall time (Spark: with and without the session start), articles/s, the driver's peak
memory (the Python process; for Spark also the JVM's, which in local mode holds the executors),
and candidate pairs per article (local: pairs retrieval aligned; Spark: pairs blocking linked,
the local engine's own retrieval then runs inside each component).

Usage: python benchmarks/scale.py [--sizes 500 2000 8000] [--engines local spark] [--json FILE]
Uses the public API only.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__" and str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIZES = (500, 2000, 8000)
SYLLABLES = ["ka", "ro", "vin", "tel", "mar", "zu", "dor", "ish", "len", "qua", "bri", "sto", "fal", "nek"]


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()  # a name: capitalised mid-sentence


def _sentence(rng: random.Random, words: list[str], extra: list[str]) -> str:
    ws = rng.sample(words, rng.randint(12, 20))
    for x in extra:
        ws.insert(rng.randint(1, len(ws)), x)
    text = " ".join(ws)
    return text[0].upper() + text[1:] + "."


def _wire(rng: random.Random, words: list[str]) -> list[str]:
    names = [_name(rng), _name(rng)]
    numbers = [str(rng.randint(100, 99999)) for _ in range(3)]
    out = []
    for i in range(rng.randint(8, 14)):
        extra = [names[i % 2]] + ([numbers[i % 3]] if i % 2 == 0 else [])
        out.append(_sentence(rng, words, extra))
    return out


def _carrier(rng: random.Random, wire: list[str], words: list[str], kind: str) -> str:
    body = list(wire)
    if kind == "rewrite":
        for _ in range(2):
            body.pop(rng.randrange(1, len(body)))
        body.insert(rng.randrange(1, len(body)), _sentence(rng, words, []))
        body[0] = body[0].replace(next((w for w in body[0].split() if w.isdigit()), "#"), str(rng.randint(1, 999)))
    elif kind == "partial":
        body = body[:max(4, len(body) // 2)]
    return "\n\n".join([f"{_name(rng).upper()} (Agency) -", *body, "Sign up for our newsletter"])


def generate(folder: Path, n: int, seed: int = 0) -> int:
    """Write about `n` articles into `folder` as part files; return how many."""
    from wordfreq import top_n_list

    rng = random.Random(seed)
    words = [w for w in top_n_list("en", 3000) if w.isalpha() and len(w) > 2]
    records: list[dict] = []
    story = 0
    while len(records) < n:
        story += 1
        wire = _wire(rng, words)
        size = 60 if story % 150 == 1 else (1 if rng.random() < 0.25 else rng.randint(2, 10))
        records.append({"id": f"s{story}-wire", "text": "\n\n".join(wire), "date": "2024-01-01"})
        for k in range(size - 1):
            kind = rng.choice(["copy", "rewrite", "partial"])
            records.append({"id": f"s{story}-{kind}{k}", "text": _carrier(rng, wire, words, kind),
                            "date": "2024-01-02"})
    records = records[:n]
    for start in range(0, len(records), 100):
        with open(folder / f"part-{start // 100:05d}.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in records[start:start + 100])
    return len(records)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _jvm_peak_mib(spark) -> float | None:
    try:
        pid = spark.sparkContext._gateway.proc.pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except Exception:
        return None
    return None


def run_case(engine: str, folder: str, out: str, driver_memory: str = "1g") -> dict:
    """One scan in this process; the figures as a dict."""
    from provenance.embed import HashingEmbedder

    t0 = time.perf_counter()
    if engine == "local":
        from provenance import scan

        result = scan([folder], embedder=HashingEmbedder(), workers=2)
        docs, pairs, extra = len(result.prepared), len(result.alignments), {}
    else:
        from provenance.spark_engine import scan_spark, spark_session, write_output_dir

        spark = spark_session("local[2]", conf={"spark.driver.memory": driver_memory})
        t1 = time.perf_counter()
        res = scan_spark([folder], spark, embedder=HashingEmbedder())
        summary = write_output_dir(res, out)
        docs, pairs = summary["documents"], res.links.count()
        extra = {"session_s": round(t1 - t0, 1), "jvm_peak_mib": _jvm_peak_mib(spark),
                 "stories": summary["clusters"]}
        spark.stop()
    wall = time.perf_counter() - t0
    return {"engine": engine, "articles": docs, "wall_s": round(wall, 1), "articles_per_s": round(docs / wall, 2),
            "driver_peak_mib": round(_peak_mib()), "pairs_per_article": round(pairs / max(docs, 1), 2), **extra}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--engines", nargs="+", default=["local", "spark"], choices=["local", "spark"])
    ap.add_argument("--json", help="also write the rows to this file")
    ap.add_argument("--driver-memory", default="1g",
                    help="Spark's spark.driver.memory (in local mode the executors live in the driver's JVM)")
    ap.add_argument("--case", nargs=3, metavar=("ENGINE", "FOLDER", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(*args.case, driver_memory=args.driver_memory)))
        return
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus"
            corpus.mkdir()
            generate(corpus, n)
            for engine in args.engines:
                got = subprocess.run([sys.executable, __file__, "--case", engine, str(corpus), str(Path(tmp) / "out"),
                                      "--driver-memory", args.driver_memory], capture_output=True, text=True)
                if got.returncode:
                    sys.exit(f"{engine} at {n} articles failed:\n{got.stderr[-3000:]}")
                rows.append(json.loads(got.stdout.strip().splitlines()[-1]))
                print(json.dumps(rows[-1]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
