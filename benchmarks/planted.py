"""Planted-edit benchmark: copies of articles with edits we planted ourselves, scanned with the
originals; measures how many planted edits are reported with the right type and place, and
whether any `number` divergence appears that we did not plant.

Planted per copy: a changed number, a respelled name (vowel change, same transliteration
skeleton), a dropped sentence (-> `omitted`), an added sentence (-> `added`), and junk lines (->
`excluded`, never `added`). Bases are the seed articles; all seeds are scanned too, as
distractors on the same story. Records are dated (originals a day earlier) as a real feed would be.

Usage: python -m benchmarks.planted [--variants 3] [--seed 0] [--json FILE]
Uses the public API only.
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
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "benchmarks" / "corpora" / "iraq-2020" / "articles"
BASES = ["000_dd2761f3083befb7", "001_2a7d6a1efb716f92", "002_a744cf46346e926e", "003_c07afd8436c39a75"]

ADDED_POOL = [
    "Officials in the northern province said a new water treatment plant would open before the end of summer.",
    "A separate parliamentary committee is expected to publish its review of public procurement rules next week.",
    "Local traders reported that fuel queues had eased after deliveries resumed at the main depot on Tuesday.",
    "The football federation confirmed that the national league would restart behind closed doors in August.",
    "Several universities said they would move their autumn entrance examinations online this year.",
]
JUNK_POOL = ["Advertisement", "Read more: Oil prices slip as demand worries grow", "Follow us on Twitter and Facebook",
             "Sign up for our newsletter", "Share this article", "3 min read"]
_NUM = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d{2,})(?![\w])")
_NAME = re.compile(r"(?<=[a-z,] )([A-Z][a-z]{4,})\b")


def _body_lines(lines: list[str]) -> list[int]:
    # story lines only: long, ending like a sentence, and not a labelled box ("Know more: ...")
    return [i for i, ln in enumerate(lines) if i > 2 and len(ln.split()) >= 10 and ln.rstrip()[-1:] in '.!?"”'
            and not re.match(r"^\s*[\w’' ]{2,20}:\s", ln)]


def _respell(word: str, rng: random.Random) -> str | None:
    swaps = {"a": "e", "e": "i", "i": "e", "o": "u", "u": "o"}
    spots = [k for k in range(1, len(word) - 1) if word[k] in swaps]
    if not spots:
        return None
    k = rng.choice(spots)
    return word[:k] + swaps[word[k]] + word[k + 1:]


def plant(text: str, rng: random.Random) -> tuple[str, list[dict]]:
    """Return the edited copy and the list of planted edits (type, texts)."""
    lines = text.split("\n")
    body = _body_lines(lines)
    rng.shuffle(body)
    edits: list[dict] = []
    used: set[int] = set()
    for i in body:  # a changed number
        m = next((m for m in _NUM.finditer(lines[i]) if not 1900 <= int(m.group(1).replace(",", "")) <= 2100), None)
        if m:
            old = m.group(1)
            value = int(old.replace(",", ""))
            new_value = value + max(1, round(value * rng.choice([0.15, 0.2, 0.3, 0.4])))
            new = f"{new_value:,}" if "," in old else str(new_value)
            lines[i] = lines[i][:m.start(1)] + new + lines[i][m.end(1):]
            edits.append({"type": "number", "source_text": old, "target_text": new})
            used.add(i)
            break
    for i in body:  # a respelled name
        if i in used:
            continue
        m = next((m for m in _NAME.finditer(lines[i]) if not m.group(1).isupper()), None)
        new = _respell(m.group(1), rng) if m else None
        if m and new:
            lines[i] = lines[i][:m.start(1)] + new + lines[i][m.end(1):]
            edits.append({"type": "name", "source_text": m.group(1), "target_text": new})
            used.add(i)
            break
    drop = next(i for i in body if i not in used)
    used.add(drop)
    edits.append({"type": "omitted", "source_text": lines[drop][:60], "target_text": ""})
    added = rng.choice(ADDED_POOL)
    after = next(i for i in body if i not in used)
    junk = rng.sample(JUNK_POOL, 2)
    out = []
    for i, ln in enumerate(lines):
        if i == drop:
            continue
        out.append(ln)
        if i == after:
            out += ["", added, "", junk[0], ""]
    out.insert(len(out) // 2, junk[1])
    edits.append({"type": "added", "source_text": "", "target_text": added})
    edits += [{"type": "excluded", "source_text": "", "target_text": j} for j in junk]
    return "\n".join(out), edits


def planted_copies(variants: int, seed: int) -> list[tuple[dict, str, list[dict]]]:
    """`variants` edited copies of each base, as dated records (originals are dated 2020-06-11,
    copy k 2020-06-(11+k)): `(record, base id, planted edits)`."""
    rng = random.Random(seed)
    out = []
    for base in BASES:
        text = (SEEDS / f"{base}.txt").read_text("utf-8")
        for v in range(variants):
            copy_text, edits = plant(text, rng)
            out.append(({"id": f"{base[:3]}-copy{v + 1}", "text": copy_text, "date": f"2020-06-{12 + v}"},
                        base, edits))
    return out


def build_corpus(folder: Path, variants: int, seed: int) -> dict[str, dict]:
    """Write `feed.jsonl` into `folder`; return {copy id: {"base": id, "edits": [...]}}."""
    records = [{"id": p.stem, "text": p.read_text("utf-8"), "date": "2020-06-11"} for p in sorted(SEEDS.glob("*.txt"))]
    truth = {}
    for record, base, edits in planted_copies(variants, seed):
        records.append(record)
        truth[record["id"]] = {"base": base, "edits": edits}
    with open(folder / "feed.jsonl", "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return truth


def _found(doc: dict, edit: dict) -> bool:
    divs = doc["divergences"]
    t = edit["type"]
    if t == "number":
        return any(d["type"] == "number" and d["target_text"] == edit["target_text"] for d in divs)
    if t == "name":
        return any(d["type"] == "name" and d["target_text"] == edit["target_text"] for d in divs)
    if t == "omitted":
        return any(d["type"] == "omitted" and edit["source_text"][:40] in d["source_text"] for d in divs)
    if t == "added":
        return any(d["type"] == "added" and edit["target_text"] in d["target_text"] for d in divs)
    if t == "excluded":
        ok = any(e["text"] == edit["target_text"] for e in doc["excluded"])
        return ok and not any(d["type"] == "added" and edit["target_text"] in d["target_text"] for d in divs)
    raise ValueError(t)


def evaluate(report: dict, truth: dict) -> dict:
    docs = {d["id"]: d for d in report["documents"]}
    per_type: dict[str, list[int]] = {}
    missed, relation_ok, unplanted_numbers = [], 0, []
    for cid, t in truth.items():
        doc = docs.get(cid)
        if doc is None:
            continue
        relation_ok += int(doc["derived_from"] == t["base"] and doc["relation"] == "copy")
        planted_numbers = {e["target_text"] for e in t["edits"] if e["type"] == "number"}
        unplanted_numbers += [(cid, d["source_text"], d["target_text"]) for d in doc["divergences"]
                              if d["type"] == "number" and d["target_text"] not in planted_numbers]
        for e in t["edits"]:
            ok = _found(doc, e) if doc["derived_from"] == t["base"] else False
            per_type.setdefault(e["type"], [0, 0])
            per_type[e["type"]][0] += 1
            per_type[e["type"]][1] += int(ok)
            if not ok:
                missed.append((cid, e["type"], e["target_text"] or e["source_text"]))
    planted = sum(v[0] for v in per_type.values())
    found = sum(v[1] for v in per_type.values())
    return {"copies": len(truth), "copies_linked_to_their_base_as_copy": relation_ok,
            "planted": planted, "found_with_right_type": found, "recall": round(found / planted, 4) if planted else 0,
            "per_type": {k: {"planted": v[0], "found": v[1]} for k, v in sorted(per_type.items())},
            "unplanted_number_divergences": unplanted_numbers, "missed": missed}


def run(variants: int = 3, seed: int = 0, embedder=None) -> dict:
    from provenance import build_report, scan

    with tempfile.TemporaryDirectory() as tmp:
        truth = build_corpus(Path(tmp), variants, seed)
        report = build_report(scan([tmp], embedder=embedder))
    return evaluate(report, truth)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    res = run(args.variants, args.seed)
    print(f"{'type':10} planted found")
    for k, v in res["per_type"].items():
        print(f"{k:10} {v['planted']:7d} {v['found']:5d}")
    print(f"recall {res['recall']:.1%} ({res['found_with_right_type']}/{res['planted']}); copies linked to their "
          f"base as copy: {res['copies_linked_to_their_base_as_copy']}/{res['copies']}; unplanted number "
          f"divergences: {len(res['unplanted_number_divergences'])}")
    for m in res["missed"]:
        print("  missed:", m)
    for u in res["unplanted_number_divergences"]:
        print("  unplanted number:", u)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
