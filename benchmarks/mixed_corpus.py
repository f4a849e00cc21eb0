"""A mixed-language folder of 50+ articles for checking that translation links appear only where
they should.

Contents: the five seed articles and the French/Spanish fixtures (tests/fixtures/crosslingual),
plus pseudo-articles of 12 Tatoeba sentences each (Tatoeba, CC BY 2.0 FR) in English, French,
Spanish and German. Each pseudo-article uses its own sentences, so two of them are on different
"stories" unless one is the other's translation: for some sentence sets both the English and
the foreign article are included (true translation pairs), for the rest only one side.

Usage: python -m benchmarks.mixed_corpus FOLDER   (then scan FOLDER)
"""

from __future__ import annotations

import sys as _sys
from pathlib import Path as _Path

# runnable as `python benchmarks/NAME.py` from a checkout, not only with -m
_sys.path.insert(0, str(_Path(__file__).resolve().parent.parent))

import json
import shutil
from pathlib import Path

from benchmarks.tatoeba import DEFAULT_DATA, PAIRS, load_pair

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "benchmarks" / "corpora" / "iraq-2020" / "articles"
FIXTURES = ROOT / "tests" / "fixtures" / "crosslingual"
CHUNK = 12


def build(folder: Path, data: Path = DEFAULT_DATA, pairs_per_lang: int = 3, english_only: int = 6,
          foreign_only: int = 6) -> dict:
    """Write the corpus; return {"translations": {foreign id: english id}, "pseudo": [ids]}."""
    folder.mkdir(parents=True, exist_ok=True)
    for p in [*SEEDS.glob("*.txt"), *FIXTURES.glob("*.txt")]:
        shutil.copy(p, folder / p.name)
    truth: dict = {"translations": {}, "pseudo": []}
    for lang in PAIRS:
        foreign, english = load_pair(data, lang)
        chunks = [range(k * CHUNK, (k + 1) * CHUNK) for k in range(len(foreign) // CHUNK)]
        k = 0
        for role, count in (("pair", pairs_per_lang), ("en", english_only), ("xx", foreign_only)):
            for _ in range(count):
                idx = chunks[k]
                k += 1
                en_id, xx_id = f"tatoeba-{lang}-{k:02d}-en", f"tatoeba-{lang}-{k:02d}-{lang}"
                if role in ("pair", "en"):
                    (folder / f"{en_id}.txt").write_text("\n".join(english[i] for i in idx) + "\n", "utf-8")
                    truth["pseudo"].append(en_id)
                if role in ("pair", "xx"):
                    (folder / f"{xx_id}.txt").write_text("\n".join(foreign[i] for i in idx) + "\n", "utf-8")
                    truth["pseudo"].append(xx_id)
                if role == "pair":
                    truth["translations"][xx_id] = en_id
    return truth


def evaluate(report: dict, truth: dict) -> dict:
    docs = {d["id"]: d for d in report["documents"]}
    pairs = {frozenset((a, b)) for a, b in truth["translations"].items()}
    found, false_links = 0, []
    for d in report["documents"]:
        if not d["derived_from"]:
            continue
        link = frozenset((d["id"], d["derived_from"]))
        is_pseudo = d["id"] in truth["pseudo"] or d["derived_from"] in truth["pseudo"]
        if link in pairs:
            found += 1
        elif is_pseudo:
            false_links.append((d["id"], d["relation"], d["derived_from"]))
    wrong_story = [(a, b) for a, b in truth["translations"].items()
                   if docs[a]["cluster"] is None or docs[a]["cluster"] != docs[b]["cluster"]]
    return {"articles": len(docs), "skipped": len(report["skipped"]), "true_translation_pairs": len(pairs),
            "found": found, "false_links": false_links, "pairs_not_clustered_together": wrong_story}


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", default="mixed-corpus", type=Path, help="where to write the articles")
    target = ap.parse_args().folder
    truth = build(target)
    print(f"built {target}: {len(list(target.iterdir()))} articles, {len(truth['translations'])} true "
          f"translation pairs among the Tatoeba pseudo-articles:")
    print(json.dumps(truth["translations"], indent=1))
