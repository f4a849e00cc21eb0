"""One cold scan, timed in a fresh process: the default model loaded, a warm-up scan of articles
that share no sentence with FOLDER done (imports, langdetect's profiles and the lexicons read;
`run.warm_up_articles`), then a scan of FOLDER into an empty cache. Prints {"seconds": ...,
"cpu_seconds": ...} as its last line (CPU: this process's threads and its forked workers).

A scan keeps what it works out per text in memory for the process's next scans (languages,
numbers and names, n-gram columns, leans: a `scan --watch` process, or a notebook scanning the
same folder again, gains from them), and the benchmark's own process has scanned the quality
corpus, which the speed corpus contains, before it times anything: scans timed there were
not cold. Run by `benchmarks/run.py` for the overhead ratio and the cold side of the warm
speed-up.

With --vectors FILE (an .npz of FOLDER's sentence `texts`, a JSON list, and their `vectors`,
from the default model; `write_vectors` writes one), the warm-up runs the model as before and the
timed scan takes its vectors from the file: the same scan, on the same path (the model's id,
backend and device), without the encoding. Its CPU seconds are the scan's own work, whatever the
encoder's speed (`run.py`: own_cpu_seconds). Its wall time is not the scan's share of a real
one: with every vector at hand at once, the work done beside the encoding in a real scan
overlaps differently.

Usage: python benchmarks/cold_scan.py FOLDER --warm-up FOLDER [--vectors FILE]
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

_sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

#: rows per `on_batch` call of `GivenVectors.encode`, as the default ONNX encoder's batches
GIVEN_BATCH = 8


class GivenVectors:
    """A stand-in for a sentence-transformers model whose `encode` returns vectors read from a
    file (`write_vectors`), reporting them in batches through `on_batch` as a model that
    streams does. A text the file lacks is an error: the timing would no longer be the scan's."""

    def __init__(self, path: Path):
        with np.load(path, allow_pickle=False) as data:
            texts = json.loads(str(data["texts"]))
            self.vectors = dict(zip(texts, np.asarray(data["vectors"], np.float32), strict=True))

    def encode(self, texts, stop=None, on_batch=None, **_ignored) -> np.ndarray:
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            raise KeyError(f"{len(missing)} texts have no vector in the file, e.g. {missing[0][:60]!r}")
        vecs = np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)
        for lo in range(0, len(texts), GIVEN_BATCH) if on_batch is not None else ():
            rows = np.arange(lo, min(lo + GIVEN_BATCH, len(texts)))
            on_batch(rows, vecs[rows])
        return vecs


def write_vectors(path: Path, texts: list[str], vectors: np.ndarray) -> None:
    """Write `texts` and their `vectors` for `GivenVectors` (the texts as one JSON string: numpy's
    fixed-width strings would drop a text's trailing NULs and pad every text to the longest)."""
    np.savez(path, texts=np.array(json.dumps(texts, ensure_ascii=False)), vectors=np.asarray(vectors, np.float32))


def given_embedder(model, path: Path):
    """`model` (an `embed.SentenceTransformerEmbedder`, loaded) with its vectors read from `path`."""
    from provenance.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(GivenVectors(path), model.model_id, model.languages, model.batch_size,
                                       model.fingerprint, model.dimension, backend=model.backend,
                                       device=model.device)


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv=None) -> int:
    from provenance import CachedEmbedder, load_model, scan
    from provenance.parallel import wait_for_workers

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--warm-up", type=Path, required=True, help="articles scanned first, untimed (none of FOLDER's)")
    ap.add_argument("--vectors", type=Path, help=".npz of texts and vectors: the timed scan runs without the model")
    args = ap.parse_args(argv)
    embedder = load_model()
    with tempfile.TemporaryDirectory() as tmp:
        scan([args.warm_up], embedder=CachedEmbedder(embedder, Path(tmp) / "warm-up"))
        timed = given_embedder(embedder, args.vectors) if args.vectors is not None else embedder
        cached = CachedEmbedder(timed, Path(tmp) / "cold")
        wait_for_workers()  # the warm-up's workers counted before, not in the timed scan
        c, t = _cpu_seconds(), time.perf_counter()
        scan([args.folder], embedder=cached)
        seconds = time.perf_counter() - t
        wait_for_workers()  # its last workers' CPU time counted once they are reaped
        cpu = _cpu_seconds() - c
    print(json.dumps({"seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
