"""Planted-edit benchmark: copies of articles with edits we planted ourselves, scanned with the
originals; measures how many planted edits are reported with the right type and place, and
whether any `number` divergence appears that we did not plant.

Planted per copy: a changed number, a respelled name (vowel change, same transliteration
skeleton), a dropped sentence (-> `omitted`), an added sentence (-> `added`), and junk lines (->
`excluded`, never `added`), each in the copy's language. English bases are the seed articles; all
seeds are scanned too, as distractors on the same story. French, Spanish and German bases are the
articles written for the tests (tests/fixtures: the French and Spanish versions of seeds, a French
AFP edition, a German dpa dispatch), each language scanned with its bases, their copies and the
English seeds. Records are dated (originals a day earlier) as a real feed would be.

Usage: python benchmarks/planted.py [--variants 3] [--seed 0] [--languages en,fr,es,de] [--json FILE]
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
FIXTURES = ROOT / "tests" / "fixtures"
#: bases in other languages (written for the tests): their planted copies are scanned per language
OTHER_BASES = {"fr": [FIXTURES / "crosslingual" / "fr_000_afp.txt", FIXTURES / "crosslingual" / "fr_002_half.txt",
                      FIXTURES / "newsroom" / "fr_afp_edition.txt"],
               "es": [FIXTURES / "crosslingual" / "es_003_part.txt"],
               "de": [FIXTURES / "newsroom" / "de_dpa.txt"]}
LANGUAGES = ("en", *OTHER_BASES)

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

#: per language: sentences an outlet might add, and junk lines of its newsrooms (-> excluded)
POOLS = {
    "fr": (["Les autorités de la province du nord ont annoncé l'ouverture d'une nouvelle station d'épuration avant "
            "la fin de l'été.",
            "Une commission parlementaire doit publier la semaine prochaine son rapport sur les marchés publics.",
            "Plusieurs universités ont indiqué que leurs examens d'entrée se tiendraient en ligne cette année."],
           ["Lire aussi : Le pétrole recule sur fond d'inquiétudes", "Suivez-nous sur WhatsApp et Telegram",
            "Inscrivez-vous à notre newsletter", "Publicité"]),
    "es": (["Las autoridades de la provincia del norte anunciaron que una nueva planta potabilizadora abrirá antes "
            "del verano.",
            "Una comisión parlamentaria publicará la próxima semana su informe sobre la contratación pública.",
            "Varias universidades indicaron que sus exámenes de acceso se harán en línea este año."],
           ["Leer también: El petróleo cae por temores sobre la demanda", "Síguenos en WhatsApp y Telegram",
            "Suscríbete a nuestra newsletter", "Publicidad"]),
    "de": (["Die Behörden der nördlichen Provinz kündigten an, dass vor Ende des Sommers eine neue Kläranlage in "
            "Betrieb gehen soll.",
            "Ein Ausschuss des Parlaments will in der kommenden Woche seinen Bericht zur Vergabe vorlegen.",
            "Mehrere Universitäten teilten mit, dass ihre Aufnahmeprüfungen in diesem Jahr online stattfinden."],
           ["Lesen Sie auch: Ölpreis fällt wegen Sorgen um die Nachfrage", "Folgen Sie uns auf WhatsApp",
            "Jetzt den Newsletter abonnieren und nichts verpassen!", "Anzeige"]),
}
#: a figure in any of these languages' formats (5,200 / 5.200 / 5 200), not a decimal's first part
_NUM_ANY = re.compile(r"(?<![\w.,])(\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+|\d{2,})(?![\w])(?![.,]\d)")
_NAME_ANY = re.compile(r"(?<=[\w,] )([A-ZÀ-Þ][a-zà-ÿ]{4,})\b")


def _body_lines(lines: list[str]) -> list[int]:
    # story lines only: long, ending like a sentence, not a labelled box ("Know more: ...") nor a
    # promo ("Folgen Sie uns auf WhatsApp: ... direkt auf Ihr Handy."), which is no story text to drop
    from provenance.clean import classify_block

    return [i for i, ln in enumerate(lines) if i > 2 and len(ln.split()) >= 10 and ln.rstrip()[-1:] in '.!?"”'
            and not re.match(r"^\s*[\w’' ]{2,20}:\s", ln) and classify_block(ln.strip()) is None]


def _respell(word: str, rng: random.Random) -> str | None:
    swaps = {"a": "e", "e": "i", "i": "e", "o": "u", "u": "o"}
    spots = [k for k in range(1, len(word) - 1) if word[k] in swaps]
    if not spots:
        return None
    k = rng.choice(spots)
    return word[:k] + swaps[word[k]] + word[k + 1:]


def _figure(raw: str) -> int:
    return int(re.sub(r"\D", "", raw))


def _names_in(line: str, lang: str) -> list[re.Match]:
    """Names to respell: in English a capitalised word after a lower-case word or a comma; in other
    languages one that is rare as a word of the language and of English (German capitalises
    every noun: "Regierung" is no name)."""
    if lang == "en":
        return [m for m in _NAME.finditer(line) if not m.group(1).isupper()]
    from wordfreq import zipf_frequency

    return [m for m in _NAME_ANY.finditer(line) if len(m.group(1)) <= 12  # (not a compound noun)
            and zipf_frequency(m.group(1).lower(), lang) < 2.5 and zipf_frequency(m.group(1).lower(), "en") < 3.5]


def plant(text: str, rng: random.Random, lang: str = "en") -> tuple[str, list[dict]]:
    """Return the edited copy (of `text`, in `lang`) and the list of planted edits (type, texts)."""
    lines = text.split("\n")
    body = _body_lines(lines)
    rng.shuffle(body)
    edits: list[dict] = []
    used: set[int] = set()
    number = _NUM if lang == "en" else _NUM_ANY
    for i in body:  # a changed number
        m = next((m for m in number.finditer(lines[i]) if not 1900 <= _figure(m.group(1)) <= 2100), None)
        if m:
            old = m.group(1)
            value = _figure(old)
            new_value = value + max(1, round(value * rng.choice([0.15, 0.2, 0.3, 0.4])))
            sep = re.sub(r"\d", "", old)[:1]  # the thousands separator the text uses, if any
            new = f"{new_value:,}".replace(",", sep) if sep else str(new_value)
            lines[i] = lines[i][:m.start(1)] + new + lines[i][m.end(1):]
            edits.append({"type": "number", "source_text": old, "target_text": new})
            used.add(i)
            break
    for i in body:  # a respelled name
        if i in used:
            continue
        m = next(iter(_names_in(lines[i], lang)), None)
        new = _respell(m.group(1), rng) if m else None
        if m and new:
            lines[i] = lines[i][:m.start(1)] + new + lines[i][m.end(1):]
            edits.append({"type": "name", "source_text": m.group(1), "target_text": new})
            used.add(i)
            break
    drop = next(i for i in body if i not in used)
    used.add(drop)
    edits.append({"type": "omitted", "source_text": lines[drop][:60], "target_text": ""})
    added_pool, junk_pool = (ADDED_POOL, JUNK_POOL) if lang == "en" else POOLS[lang]
    added = rng.choice(added_pool)
    after = next(i for i in body if i not in used)
    junk = rng.sample(junk_pool, 2)
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


def planted_copies(variants: int, seed: int, lang: str = "en") -> list[tuple[dict, str, list[dict]]]:
    """`variants` edited copies of each base of `lang`, as dated records (originals are dated
    2020-06-11, copy k 2020-06-(11+k)): `(record, base id, planted edits)`."""
    rng = random.Random(seed)
    out = []
    for base, text in _bases(lang):
        for v in range(variants):
            copy_text, edits = plant(text, rng, lang)
            out.append(({"id": f"{base if lang != 'en' else base[:3]}-copy{v + 1}", "text": copy_text,
                         "date": f"2020-06-{12 + v}"}, base, edits))
    return out


def _bases(lang: str) -> list[tuple[str, str]]:
    """(id, text) of the bases of `lang`."""
    paths = [SEEDS / f"{b}.txt" for b in BASES] if lang == "en" else OTHER_BASES[lang]
    return [(p.stem, p.read_text("utf-8")) for p in paths]


def build_corpus(folder: Path, variants: int, seed: int, lang: str = "en") -> dict[str, dict]:
    """Write `feed.jsonl` into `folder` (the seeds, the other bases of `lang` and the copies);
    return {copy id: {"base": id, "edits": [...]}}."""
    records = [{"id": p.stem, "text": p.read_text("utf-8"), "date": "2020-06-11"} for p in sorted(SEEDS.glob("*.txt"))]
    if lang != "en":
        records += [{"id": base, "text": text, "date": "2020-06-11"} for base, text in _bases(lang)]
    truth = {}
    for record, base, edits in planted_copies(variants, seed, lang):
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
        return any(d["type"] == "number" and _same_figure(d["target_text"], edit["target_text"]) for d in divs)
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


def _same_figure(reported: str, planted: str) -> bool:
    """The reported number is the planted figure, with its scale word if the text has one ("54
    Millionen" for a planted 54)."""
    return reported == planted or reported.startswith(planted + " ")


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
                              if d["type"] == "number" and not any(_same_figure(d["target_text"], n)
                                                                   for n in planted_numbers)]
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


def run(variants: int = 3, seed: int = 0, embedder=None, lang: str = "en") -> dict:
    """`evaluate`'s figures for the planted copies of `lang`'s bases, scanned with their bases and
    the seeds."""
    from provenance import build_report, scan

    with tempfile.TemporaryDirectory() as tmp:
        truth = build_corpus(Path(tmp), variants, seed, lang)
        report = build_report(scan([tmp], embedder=embedder))
    return evaluate(report, truth)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--languages", default=",".join(LANGUAGES), help=f"of {', '.join(LANGUAGES)}")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    langs = [x.strip() for x in args.languages.split(",") if x.strip()]
    if bad := [x for x in langs if x not in LANGUAGES]:
        ap.error(f"no bases in {', '.join(bad)}: choose from {', '.join(LANGUAGES)}")
    from provenance import load_model

    embedder = load_model()
    results = {lang: run(args.variants, args.seed, embedder, lang) for lang in langs}
    types = sorted({k for res in results.values() for k in res["per_type"]})
    print(f"{'type':10} " + "  ".join(f"{lang:>9}" for lang in langs) + "   (found / planted)")
    for k in types:
        cells = [results[lang]["per_type"].get(k, {"found": 0, "planted": 0}) for lang in langs]
        print(f"{k:10} " + "  ".join(f"{c['found']:>4} / {c['planted']:<2}" for c in cells))
    for lang, res in results.items():
        print(f"{lang}: recall {res['recall']:.1%} ({res['found_with_right_type']}/{res['planted']}); copies linked "
              f"to their base as copy: {res['copies_linked_to_their_base_as_copy']}/{res['copies']}; unplanted "
              f"number divergences: {len(res['unplanted_number_divergences'])}")
        for m in res["missed"]:
            print("  missed:", m)
        for u in res["unplanted_number_divergences"]:
            print("  unplanted number:", u)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
