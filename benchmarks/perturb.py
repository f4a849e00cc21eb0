"""Larger corpora for measuring speed at realistic cost: seed rewrites, and many-story feeds.

Copies of a wire repeat its sentences, and the scan encodes each distinct sentence once, so a
corpus of copies is cheap to embed and flatters every speed figure. Here each article is a light
rewrite of a seed in which every sentence is touched (synonyms, an added connective or
attribution, a dropped or moved paragraph), as outlets do: every sentence is new text the model
must encode, and all articles belong to one story (the hardest case for pair counts).

A day's feed holds many stories, not one: `tatoeba_stories` makes them from the Tatoeba pairs
(benchmarks/corpora/tatoeba; Tatoeba, CC BY 2.0 FR). Each story is an English pseudo-article of
consecutive sentences, its French, Spanish or German translation and a rewrite of the English
(same perturbation as above). Records are dated JSON, like a feed.

Usage: python -m benchmarks.perturb FOLDER [--n 30] [--stories 0] [--seed 0]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "benchmarks" / "corpora" / "iraq-2020" / "articles"

SYNONYMS = {
    "said": ["stated", "added", "told reporters"], "says": ["states", "adds"], "announced": ["declared", "unveiled"],
    "troops": ["soldiers", "forces", "personnel"], "soldiers": ["troops", "service members"],
    "forces": ["troops", "units"], "government": ["administration", "cabinet"], "attack": ["assault", "strike"],
    "attacks": ["assaults", "strikes"], "country": ["nation"], "countries": ["nations", "states"],
    "officials": ["authorities", "sources"], "statement": ["declaration", "communique"],
    "about": ["around", "roughly"], "roughly": ["about", "some"], "began": ["started", "launched"],
    "reduce": ["cut", "scale down"], "withdrawal": ["pullout", "drawdown"], "talks": ["negotiations", "discussions"],
    "meeting": ["session", "gathering"], "expected": ["set", "due"], "important": ["key", "major"],
    "because": ["as", "since"], "however": ["though", "yet"], "also": ["further", "in addition"],
    "killed": ["left dead", "claimed the lives of"], "week": ["seven days"], "months": ["months' time"],
    "agreed": ["consented", "settled"], "support": ["backing", "help"], "security": ["safety"],
    "region": ["area"], "capital": ["city"], "weeks": ["weeks' time"], "presence": ["deployment"],
    "groups": ["factions", "organisations"], "group": ["faction", "organisation"], "hit": ["struck", "targeted"],
    "strong": ["firm", "robust"], "new": ["fresh", "latest"], "major": ["large", "significant"],
}
OPENERS = ["Meanwhile, ", "In addition, ", "Separately, ", "At the same time, ", "Earlier, "]
LOWERABLE = {"The", "A", "An", "In", "On", "It", "He", "She", "They", "This", "That", "These", "Those", "But",
             "And", "As", "At", "After", "Before", "While", "When", "There", "Its", "His", "Her", "Their"}
JUNK = ["Advertisement", "Read more: Markets steady as oil slips", "Follow us on Twitter", "Share this article",
        "Subscribe to our newsletter", "Related: What the talks mean for the region"]
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"])")
_WORD = re.compile(r"\b[a-z]+\b")


def rewrite_sentence(sentence: str, rng: random.Random) -> str:
    """Touch every sentence: swap up to three words for synonyms, else add a connective or an
    attribution, so no sentence survives verbatim."""
    words = [m for m in _WORD.finditer(sentence) if m.group(0) in SYNONYMS]
    rng.shuffle(words)
    chosen = sorted(words[:3], key=lambda m: m.start(), reverse=True)
    out = sentence
    for m in chosen:
        out = out[:m.start()] + rng.choice(SYNONYMS[m.group(0)]) + out[m.end():]
    if out == sentence or rng.random() < 0.25:
        first = out.split(" ", 1)[0]
        if first in LOWERABLE and len(out.split(" ", 1)) == 2:
            out = rng.choice(OPENERS) + first.lower() + " " + out.split(" ", 1)[1]
        elif out.endswith("."):
            out = out[:-1] + rng.choice([", according to reports.", ", sources said.", ", it was reported."])
        else:
            out = rng.choice(OPENERS) + out
    return out


def rewrite(text: str, rng: random.Random) -> str:
    """Rewrite an article line by line (the seeds keep one paragraph per line); short lines (page
    furniture, bylines) stay as they are; about one paragraph in ten is dropped and one in ten
    swapped with its neighbour; two furniture lines are inserted."""
    out: list[str] = []
    for ln in text.split("\n"):
        if len(ln.split()) < 6:
            out.append(ln)
            continue
        if len(ln.split()) >= 8 and rng.random() < 0.1:
            continue
        out.append(" ".join(rewrite_sentence(s, rng) for s in _SENT.split(ln.strip())))
    for i in range(len(out) - 1):
        if out[i].strip() and out[i + 1].strip() and rng.random() < 0.1:
            out[i], out[i + 1] = out[i + 1], out[i]
    for j in rng.sample(JUNK, 2):
        out.insert(rng.randrange(1, len(out)), j)
    return "\n".join(out)


def rewrites(n: int, seed: int = 0) -> list[tuple[dict, str]]:
    """`n` rewritten articles, cycling over the seeds: `(record, base id)`."""
    rng = random.Random(seed)
    bases = sorted(SEEDS.glob("*.txt"))
    out = []
    for k in range(n):
        base = bases[k % len(bases)]
        text = rewrite(base.read_text("utf-8"), rng)
        out.append(({"id": f"rw{seed}-{k:03d}-{base.stem[:3]}", "text": text, "date": f"2020-06-{12 + k % 7}"},
                    base.stem))
    return out


def tatoeba_stories(n: int, sentences: int = 20, seed: int = 0, data: Path | None = None) -> list[dict]:
    """`n` stories of three articles each (English, translation, English rewrite), cycling over
    French, Spanish and German; each story uses its own sentences."""
    from benchmarks.tatoeba import DEFAULT_DATA, PAIRS, load_pair

    rng = random.Random(seed)
    pairs = {lang: load_pair(data or DEFAULT_DATA, lang) for lang in PAIRS}
    out = []
    for k in range(n):
        lang = PAIRS[k % len(PAIRS)]
        foreign, english = pairs[lang]
        lo = (k // len(PAIRS)) * sentences
        if lo + sentences > len(english):
            raise ValueError(f"{n} stories of {sentences} sentences need more than the Tatoeba data holds")
        en = [english[i] for i in range(lo, lo + sentences)]
        xx = [foreign[i] for i in range(lo, lo + sentences)]
        # paragraphs of two sentences, as a short news item
        def article(sents):
            return "\n\n".join(" ".join(sents[i:i + 2]) for i in range(0, len(sents), 2))
        rewritten = [rewrite_sentence(x, rng) for x in en]
        story = f"story{k:03d}"
        out += [{"id": f"{story}-en", "text": article(en), "date": "2020-06-11"},
                {"id": f"{story}-{lang}", "text": article(xx), "date": "2020-06-12"},
                {"id": f"{story}-en-rw", "text": article(rewritten), "date": "2020-06-12"}]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--stories", type=int, default=0, help="Tatoeba stories of three articles to add")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    records = [r for r, _ in rewrites(args.n, args.seed)] + tatoeba_stories(args.stories, seed=args.seed)
    for record in records:
        (args.folder / f"{record['id']}.json").write_text(json.dumps(record, ensure_ascii=False), "utf-8")
    print(f"wrote {len(records)} articles to {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
