"""What the gloss channel (bilingual dictionaries, `provenance.gloss`) adds to a cold scan of the
benchmark speed corpus (`benchmarks/run.py`: the seeds, planted copies, rewrites and many-story
Tatoeba feeds in English, French, Spanish and German), as a ratio measured in one run.

The sentence vectors are encoded once (that time is the cold scan's main part and does not depend
on the channel); the model-free rest of the scan then runs with the channel (A) and without it
(B: no gloss rows, no gloss search, no gloss alignment), alternating, best of `--repeat` each:

    added = (A - B) / (encode + A)

Reading each dictionary the first time on a machine (parsing and lemmatising it, then cached in
the cache folder's `lexicons/`) is a one-time cost, printed apart.

Usage: python benchmarks/gloss_cost.py [--repeat N] [--rewrites N] [--stories N]
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

# runnable as `python benchmarks/NAME.py` from a checkout, not only with -m
_sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import contextlib
import tempfile
import time
from pathlib import Path

import numpy as np


class Precomputed:
    """An embedder that serves vectors encoded beforehand (so a scan times only its own work)."""

    def __init__(self, inner, texts: list[str]):
        self.model_id, self.dimension, self.languages = inner.model_id, inner.dimension, inner.languages
        unique = list(dict.fromkeys(texts))
        t = time.perf_counter()
        vecs = inner.encode(unique)
        self.encode_seconds = time.perf_counter() - t
        self.vectors = dict(zip(unique, vecs, strict=True))

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self.vectors[t] for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)


@contextlib.contextmanager
def without_gloss():
    """The scan as it was before the gloss channel: no rows, no search, no alignment channel."""
    from scipy import sparse

    from provenance import features, pairs, retrieve
    from provenance.gloss import GLOSS_FEATURES

    saved = (features.gloss_counts, retrieve.gloss_pairs, pairs.has_dictionary)
    features.gloss_counts = lambda texts, lang: sparse.csr_matrix((len(texts), GLOSS_FEATURES), dtype=np.float32)
    retrieve.gloss_pairs = lambda *a, **k: {}
    pairs.has_dictionary = lambda lang: False
    try:
        yield
    finally:
        features.gloss_counts, retrieve.gloss_pairs, pairs.has_dictionary = saved


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2, help="runs of each variant (best taken; default 2)")
    ap.add_argument("--rewrites", type=int, default=10, help="seed rewrites in the corpus (default 10, as --quick)")
    ap.add_argument("--stories", type=int, default=30, help="Tatoeba stories in the corpus (default 30, as --quick)")
    args = ap.parse_args(argv)

    from benchmarks.run import build_speed_corpus
    from provenance import load_model, load_paths, prepare, scan_documents
    from provenance.glossary import lexicon

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "speed"
        build_speed_corpus(folder, 2, args.rewrites, args.stories)
        docs = load_paths([folder]).documents
        prepared, _ = prepare(docs)
        langs = sorted({p.langs.document for p in prepared} - {"en"})
        t = time.perf_counter()
        sizes = {lang: len(lexicon(lang).words) for lang in langs}
        first_read = time.perf_counter() - t
        embedder = Precomputed(load_model(None), [t for p in prepared for t in p.sentence_texts])
        runs: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(args.repeat):
            for name in ("with", "without"):
                ctx = without_gloss() if name == "without" else contextlib.nullcontext()
                with ctx:
                    t = time.perf_counter()
                    scan_documents(docs, embedder)
                    runs[name].append(time.perf_counter() - t)
    a, b = min(runs["with"]), min(runs["without"])
    added = (a - b) / (embedder.encode_seconds + a)
    print(f"speed corpus: {len(docs)} documents, languages {', '.join(['en', *langs])}; dictionary words "
          + ", ".join(f"{k} {v}" for k, v in sizes.items()))
    print(f"encode {embedder.encode_seconds:.1f} s; model-free scan with gloss {a:.2f} s, without {b:.2f} s "
          f"(runs: {[round(x, 2) for x in runs['with']]} / {[round(x, 2) for x in runs['without']]})")
    print(f"gloss channel adds {100 * added:.1f}% to a cold scan (target <= 10%)")
    print(f"dictionaries read in {first_read:.1f} s this run (first read on a machine parses them; then cached)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
