"""Cross-lingual sentence retrieval on Tatoeba (1,000 French, Spanish and German sentences with
their English translations, benchmarks/corpora/tatoeba; Tatoeba, CC BY 2.0 FR).

For each foreign sentence, is the top-1 English sentence among the 1,000 its translation?
Scored: the semantic channel alone (the model), the lexical channel alone (character 3-4-gram
TF-IDF), the gloss channel alone (English lemmas through the installed bilingual dictionaries,
`provenance.gloss`), all three combined with the weights the pipeline uses for languages the model
does not cover, the same combination scored by ratio margin, and with the Gale-Church length prior too
(`combined_margin_length`: how the pipeline aligns such pairs).

Usage: python -m benchmarks.tatoeba [--model NAME_OR_PATH] [--json FILE] [--data DIR]
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

# runnable as `python benchmarks/NAME.py` from a checkout, not only with -m
_sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / "benchmarks" / "corpora" / "tatoeba"  # shipped in the repo (Tatoeba, CC BY 2.0 FR)
PAIRS = ("fra", "spa", "deu")


def load_pair(data: Path, lang: str) -> tuple[list[str], list[str]]:
    if not (data / f"tatoeba.{lang}-eng.{lang}").is_file():
        raise FileNotFoundError(f"Tatoeba data not found in {data}: it ships in benchmarks/corpora/tatoeba "
                                "(pass --data DIR to point elsewhere)")
    foreign = (data / f"tatoeba.{lang}-eng.{lang}").read_text("utf-8").splitlines()
    english = (data / f"tatoeba.{lang}-eng.eng").read_text("utf-8").splitlines()
    if len(foreign) != len(english):
        raise SystemExit(f"{data}: {lang} has {len(foreign)} lines but eng has {len(english)}")
    return foreign, english


def top1(sim: np.ndarray) -> float:
    return float(np.mean(np.argmax(sim, axis=1) == np.arange(len(sim))))


def margin(sim: np.ndarray, k: int = 4) -> np.ndarray:
    row = np.sort(sim, axis=1)[:, ::-1][:, :k].mean(axis=1)
    col = np.sort(sim, axis=0)[::-1][:k].mean(axis=0)
    return sim / ((row[:, None] + col[None, :]) / 2)


def run(model: str | None = None, data: Path = DEFAULT_DATA, embedder=None) -> dict:
    from scipy import sparse

    from provenance import load_model
    from provenance.align import AlignSettings
    from provenance.gloss import gloss_counts
    from provenance.glossary import lexicon
    from provenance.lexical import fit_char_ngrams, scope_idf, tfidf_rows
    from provenance.settings import ChannelWeights

    embedder = embedder or load_model(model)
    w = ChannelWeights()
    sem_w = w.semantic * w.uncovered_semantic_factor
    total = sem_w + w.lexical + w.gloss  # the detail channel is left out: Tatoeba has few names/numbers
    alpha = sem_w / (sem_w + w.lexical)
    out = {"model": embedder.model_id, "pairs": {}, "combined_semantic_weight": round(sem_w / total, 3),
           "combined_gloss_weight": round(w.gloss / total, 3)}
    for lang in PAIRS:
        foreign, english = load_pair(data, lang)
        fs, es = embedder.encode(foreign), embedder.encode(english)
        sem = fs @ es.T
        _, mat = fit_char_ngrams(foreign + english)
        lex = (mat[: len(foreign)] @ mat[len(foreign):].T).toarray()
        code = {"fra": "fr", "spa": "es", "deu": "de"}[lang]
        counts = sparse.vstack([gloss_counts(foreign, code), gloss_counts(english, "en")]).tocsr()
        g = tfidf_rows(counts, scope_idf(counts, np.arange(counts.shape[0])))
        gloss = (g[: len(foreign)] @ g[len(foreign):].T).toarray()
        both = (sem_w * sem + w.lexical * lex + w.gloss * gloss) / total
        two = alpha * sem + (1 - alpha) * lex
        lengths = np.abs(np.log(np.array([len(x) for x in foreign], float)[:, None]
                                / np.array([len(x) for x in english], float)[None, :]))
        prior = np.exp(-AlignSettings().length_penalty * lengths)
        best_alpha = max(np.linspace(0, 1, 21), key=lambda a: top1(a * sem + (1 - a) * lex))
        out["pairs"][f"{lang}-eng"] = {
            "n": len(foreign),
            "dictionary_words": len(lexicon(code).words),
            "semantic": round(top1(sem), 4),
            "lexical": round(top1(lex), 4),
            "gloss": round(top1(gloss), 4),
            "semantic+lexical": round(top1(two), 4),
            "combined": round(top1(both), 4),
            "combined_margin": round(top1(margin(both)), 4),
            "combined_margin_length": round(top1(margin(np.maximum(both, 0) * prior)), 4),
            "semantic_margin": round(top1(margin(sem)), 4),
            "lexical_margin": round(top1(margin(lex)), 4),
            "oracle_weight": round(float(best_alpha), 2),
            "oracle_weight_margin": round(top1(margin(best_alpha * sem + (1 - best_alpha) * lex)), 4),
        }
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    res = run(args.model, args.data)
    cols = ["semantic", "lexical", "gloss", "semantic+lexical", "combined", "combined_margin",
            "combined_margin_length"]
    print(f"Tatoeba top-1 retrieval, model {res['model']} (weights in combination: semantic "
          f"{res['combined_semantic_weight']}, gloss {res['combined_gloss_weight']})")
    print(f"{'pair':9} {'dict words':>10} " + " ".join(f"{c:>{max(len(c), 8)}}" for c in cols))
    for pair, r in res["pairs"].items():
        print(f"{pair:9} {r['dictionary_words']:>10} " + " ".join(f"{r[c]:>{max(len(c), 8)}.3f}" for c in cols))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
