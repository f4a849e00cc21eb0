#!/usr/bin/env python
"""Stress an archive: `provenance scan --index` running while `provenance index add` commits.

With one cache folder and one archive, each round starts a scan of today's articles against the
archive and, while it runs, adds new documents to the archive (small generated variants of the
seed corpus) with one or more `index add` processes in a row. After each round it checks that
no process failed, that every document ever added is still in the archive (`index info --ids`)
and that the scan's report validates. One line per round, then a summary; exit status 1 if any
round failed.

Uses the command line only (and `provenance.validate_report`), never the package's internals.
A failure is attributed to the embedding cache when its message is about the cache and not
about the index: the cache is another module, whose lock failures are reported apart.

    .venv/bin/python scripts/stress_archive.py --rounds 20
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "benchmarks" / "corpora" / "iraq-2020" / "articles"
#: the archive starts with these seed articles; the scans bring the others as today's articles
ARCHIVED = ("000_dd2761f3083befb7", "002_a744cf46346e926e", "003_c07afd8436c39a75")
TODAY = ("001_2a7d6a1efb716f92", "004_26451090c78396de")


def variant(text: str, rng: random.Random, tag: str) -> str:
    """A small rewrite of `text`: a dateline naming `tag`, one sentence dropped, a few words
    swapped, so that every generated document has its own text and id."""
    paras = [p for p in text.split("\n") if p.strip()]
    sentences = [s for p in paras for s in re.split(r"(?<=[.!?])\s+", p) if s]
    if len(sentences) > 4:
        del sentences[rng.randrange(1, len(sentences))]
    swaps = {"said": "stated", "Iraq": "Iraq's government", "killed": "left dead", "Tuesday": "on Tuesday"}
    out = []
    for s in sentences:
        for a, b in swaps.items():
            if rng.random() < 0.3:
                s = s.replace(a, b)
        out.append(s)
    body = "\n\n".join(" ".join(out[i:i + 3]) for i in range(0, len(out), 3))
    return f"{tag.upper()} (Stress) - update {rng.randrange(10_000)}.\n\n{body}\n"


def run(cmd: list[str], timeout: float) -> tuple[int, str, str, float]:
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - start
    except subprocess.TimeoutExpired:
        return 124, "", f"timed out after {timeout:.0f}s", time.monotonic() - start


def area(message: str) -> str:
    """Which part of the tool a failure message points at."""
    low = message.lower()
    if "cache" in low and "index '" not in low:
        return "cache"
    if "index '" in low or "archive" in low or "faiss" in low or "gen-" in low:
        return "archive"
    return "other"


def last_line(text: str) -> str:
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return lines[-1] if lines else "(no output)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=20, help="rounds of scan + concurrent adds (default 20)")
    ap.add_argument("--adds-per-round", type=int, default=2,
                    help="index add processes run one after another in each round, more while the scan "
                         "is still running (default 2)")
    ap.add_argument("--max-adds-per-round", type=int, default=4,
                    help="at most this many index add processes per round (default 4)")
    ap.add_argument("--today-variants", type=int, default=4,
                    help="new articles in each scan besides two seed articles: their encoding keeps the scan "
                         "busy between loading the archive and searching it (default 4)")
    ap.add_argument("--docs-per-add", type=int, default=1, help="new documents per index add (default 1)")
    ap.add_argument("--lead", type=float, default=8.0,
                    help="the first add starts a random 0..LEAD seconds before the scan, so that its commit "
                         "tends to fall while the scan is between loading the archive and searching it "
                         "(default 8)")
    ap.add_argument("--seed", type=int, default=0, help="random seed for variants and leads (default 0)")
    ap.add_argument("--workdir", type=Path, default=None,
                    help="folder for the archive, cache, inputs and reports (default: a new temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder afterwards")
    ap.add_argument("--model", default=None, help="passed to provenance as --model (default: its default)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds allowed per process (default 600)")
    args = ap.parse_args(argv)
    if min(args.rounds, args.adds_per_round, args.docs_per_add, args.today_variants) < 1:
        ap.error("--rounds, --adds-per-round, --docs-per-add and --today-variants must be at least 1")
    args.max_adds_per_round = max(args.max_adds_per_round, args.adds_per_round)

    from provenance import validate_report

    rng = random.Random(args.seed)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="stress-archive-"))
    work.mkdir(parents=True, exist_ok=True)
    index_dir, cache_dir = work / "indexes", work / "cache"
    prov = [sys.executable, "-m", "provenance.cli"]
    common = ["--index-dir", str(index_dir)]
    model = ["--model", args.model] if args.model else []
    name = "stress"
    seeds = {p.stem: p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt"))}
    print(f"work folder {work}; {args.rounds} rounds, {args.adds_per_round} add(s) of {args.docs_per_add} "
          f"document(s) per round", flush=True)

    code, out, err, secs = run([*prov, "index", "add", name, *(str(SEEDS / f"{s}.txt") for s in ARCHIVED),
                                *common, "--cache-dir", str(cache_dir), *model], args.timeout)
    if code != 0:
        print(f"set-up failed: index add exited {code}: {last_line(err or out)}")
        return 1
    expected = set(ARCHIVED)
    failures: list[tuple[int, str, str]] = []  # (round, area, message)
    started = time.monotonic()
    for r in range(1, args.rounds + 1):
        today = work / "today" / f"r{r:03d}"
        today.mkdir(parents=True)
        for s in TODAY:
            shutil.copy(SEEDS / f"{s}.txt", today)
        todays = [f"today-{r:03d}-{j}" for j in range(args.today_variants)]
        for j, t in enumerate(todays):
            (today / f"{t}.txt").write_text(variant(seeds[ARCHIVED[j % len(ARCHIVED)]], rng, t), "utf-8")
        report = work / "reports" / f"r{r:03d}.json"
        report.parent.mkdir(exist_ok=True)
        lead = rng.uniform(0, args.lead)
        scan_cmd = [*prov, "scan", str(today), "--index", name, *common, "--cache-dir", str(cache_dir),
                    "-o", str(report), "-q", *model]
        round_start = time.monotonic()
        scans: list[subprocess.Popen] = []

        def start_scan(cmd=scan_cmd, into=scans):
            into.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))

        timer = threading.Timer(lead, start_scan)
        timer.start()
        problems: list[tuple[str, str]] = []
        add_secs, added_now, generation = [], [], "?"
        k = 0
        while k < args.adds_per_round or (k < args.max_adds_per_round and (not scans or scans[0].poll() is None)):
            batch = work / "adds" / f"r{r:03d}-{k}"
            batch.mkdir(parents=True)
            for j in range(args.docs_per_add):
                src = rng.choice(sorted(seeds))
                doc_id = f"v{r:03d}-{k}-{j}-{src[:3]}"
                (batch / f"{doc_id}.txt").write_text(variant(seeds[src], rng, doc_id), "utf-8")
            k += 1
            code, out, err, secs = run([*prov, "index", "add", name, str(batch), *common, "--cache-dir",
                                        str(cache_dir), *model], args.timeout)
            add_secs.append(secs)
            if code != 0:
                msg = last_line(err or out)
                problems.append((area(msg), f"index add exited {code}: {msg}"))
                continue
            ids = sorted(p.stem for p in batch.glob("*.txt"))
            m = re.search(r"added (\d+) document", out)
            if not m or int(m.group(1)) != len(ids):
                problems.append(("archive", f"index add did not add {ids}: {last_line(out)}"))
            added_now += ids
            expected.update(ids)
            generation = (re.search(r"\((gen-\d+)\)", out) or [None, "?"])[1]
        timer.join()
        scan = scans[0]
        try:
            s_out, s_err = scan.communicate(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            scan.kill()
            s_out, s_err = scan.communicate()
        scan_secs = time.monotonic() - round_start - lead
        if scan.returncode != 0:
            msg = last_line(s_err or s_out)
            problems.append((area(msg), f"scan exited {scan.returncode}: {msg}"))
        else:
            try:
                rep = json.loads(report.read_text("utf-8"))
                validate_report(rep)
                ids = {d["id"] for d in rep["documents"]}
                if rep.get("archive") != name or not {*TODAY, *todays} <= ids:
                    problems.append(("archive", f"scan report lacks today's documents or the archive name: {ids}"))
            except Exception as exc:  # any invalid report is a failure of the round
                problems.append(("other", f"invalid scan report: {type(exc).__name__}: {exc}"))
        code, out, err, _ = run([*prov, "index", "info", name, *common, "--ids"], args.timeout)
        if code != 0:
            msg = last_line(err or out)
            problems.append((area(msg), f"index info exited {code}: {msg}"))
            have = set()
        else:
            lines = out.splitlines()
            start = next((i + 1 for i, x in enumerate(lines) if x.startswith("size ")), len(lines))
            have = {x.strip() for x in lines[start:] if x.strip()}  # --ids lists them after the size
            lost = sorted(expected - have)
            if lost:
                problems.append(("archive", f"lost document(s): {', '.join(lost)}"))
        gens_on_disk = len([p for p in (index_dir / name).glob("gen-*") if p.is_dir()])
        status = "ok  " if not problems else "FAIL"
        print(f"round {r:3d}/{args.rounds}  {status} scan {scan_secs:5.1f}s  adds "
              f"{'+'.join(f'{s:.1f}' for s in add_secs)}s (+{len(added_now)} -> {generation})  "
              f"archive {len(have & expected)}/{len(expected)} documents  generation dirs {gens_on_disk}"
              + "".join(f"\n    [{a}] {m}" for a, m in problems), flush=True)
        failures += [(r, a, m) for a, m in problems]

    by_area: dict[str, int] = {}
    for _, a, _ in failures:
        by_area[a] = by_area.get(a, 0) + 1
    failed_rounds = len({r for r, _, _ in failures})
    print(f"summary: {args.rounds - failed_rounds}/{args.rounds} rounds ok, {len(expected)} documents expected in "
          f"the archive; failures by area: {by_area or 'none'}; {time.monotonic() - started:.0f}s")
    if not args.keep and args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
