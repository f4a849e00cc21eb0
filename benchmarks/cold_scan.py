"""One cold scan, timed in a fresh process: the default model loaded, a warm-up scan of articles
that share no sentence with FOLDER done (imports, langdetect's profiles and the lexicons read;
`run.warm_up_articles`), then a scan of FOLDER into an empty cache. Prints {"seconds": ...} as
its last line.

A scan keeps what it works out per text in memory for the process's next scans (languages,
numbers and names, n-gram columns, leans: a `scan --watch` process, or a notebook scanning the
same folder again, gains from them), and the benchmark's own process has scanned the quality
corpus, which the speed corpus contains, before it times anything: scans timed there were
not cold. Run by `benchmarks/run.py` for the overhead ratio and the cold side of the warm
speed-up.

Usage: python benchmarks/cold_scan.py FOLDER --warm-up FOLDER
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

_sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import json
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    from provenance import CachedEmbedder, load_model, scan

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--warm-up", type=Path, required=True, help="articles scanned first, untimed (none of FOLDER's)")
    args = ap.parse_args(argv)
    embedder = load_model()
    with tempfile.TemporaryDirectory() as tmp:
        scan([args.warm_up], embedder=CachedEmbedder(embedder, Path(tmp) / "warm-up"))
        cached = CachedEmbedder(embedder, Path(tmp) / "cold")
        t = time.perf_counter()
        scan([args.folder], embedder=cached)
        seconds = time.perf_counter() - t
    print(json.dumps({"seconds": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
