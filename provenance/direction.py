"""Stage: direction. Which of two related documents is the original, and how sure the scan is.

A derivation arrow is only as good as its evidence. Dates settle it when both documents carry
one and they differ. Without dates, text cues lean one way or the other (each cue is signed:
positive when the candidate source looks like the original):

* `furniture`: page furniture (newsletter, social, "Read more" lines) the target carries on top of
  all of the source's: copies pick up their carrier's furniture (two pages that each carry
  furniture of their own, two outlets' pages, say nothing; a reworded line counts as shared);
* `truncation`: the source's last paragraphs that the target lacks: editors cut from the end;
* `fuller`: how much more of the target the source explains than the other way round (a cut copy
  is explained by its source in full, not the reverse);
* `signals`: traces of translation (`attribution.translation_signals`) in the target only;
* `foreign letters`: words in the target written in the source's letters (a name with Czech
  diacritics in an English text, a Cyrillic word in a Hindi one): a translator keeps them, the
  original writer has no reason to.
* `source words`: words of the target that are common words of the source's language and uncommon
  in the target's, carried over verbatim or transliterated (a dish, a title, a local name:
  "sabji", "Khushbu", "Rospotrebnadzor" in an English text): a translator leaves untranslatable
  terms of the source's world in place; an original writer reaches for them less often.

The weights (`WEIGHTS`) are a logistic regression's (no intercept) on planted-edit copies of the
seed articles, the newstest2014 translations the benchmark's figures do not draw (196 articles with
their English translation: 44 Czech, 79 Russian, 63 Hindi) and a syndicated copy and a reprint of
two seeds (`python benchmarks/direction.py --only calibrate`): furniture 2.0 (its sign right in 18
of 21 copies; with the translations in the fit 1.0, 19 of 34: a translation carries its own page's
furniture, and 2.0 is kept for the copies' sake), truncation 2.3 and fuller 2.3 (1 of 1 each),
foreign letters fitted 5.0 (28 of 28, all Czech originals: capped at 3.0, as no English original in
that data could show the cue misleading), source words 2.3 (fitted 2.34; its sign right in 107 of
125 pairs), signals 1.5 (a prior: none of those pairs had one). On those held-out pairs the lean alone establishes the
direction of 32 of 43 linked Czech pairs (30 right), 31 of 78 Russian (29 right) and 22 of 47
Hindi (18 right: Hindi news writes English words in Devanagari freely, "lifestyle", "Microsoft",
so words shared across the pair mislead there more often). The newstest2014 data holds originals
in Czech, Russian and Hindi only: how often the cues mislead for an English original could not be
measured. When the combined lean is weak the direction is reported as not established, in words.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from .attribution import translation_signals
from .errors import InputError

DERIVED, SIBLINGS, REPLICA = "derived", "siblings", "replica"

#: weight of each text cue in the lean (logit of "the source is the original")
WEIGHTS = {"furniture": 2.0, "truncation": 2.3, "fuller": 2.3, "signals": 1.5, "foreign letters": 3.0,
           "source words": 2.3}
#: `source words`: a word counts when it is common in the source's language (wordfreq Zipf at least
#: this: once per million words) and uncommon in the target's (Zipf below `TARGET_RARE_ZIPF`)
SOURCE_COMMON_ZIPF = 3.0
TARGET_RARE_ZIPF = 2.5
#: confidence at or above which a direction from text cues is established
ESTABLISHED = 0.8
#: confidence of a direction settled by dates
DATED = 0.99


@dataclass(frozen=True)
class Lean:
    """Text cues for "source is the original of target": `score` (a logit: > 0 leans to the
    source, < 0 to the target) and the cues that moved it, in words."""

    score: float = 0.0
    basis: tuple[str, ...] = ()
    #: each cue's signed value before weighting, (name, value)
    cues: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Direction:
    """How sure the scan is that a document derives from its parent rather than the reverse.

    Attributes:
        established: the evidence settles the direction (dates, or text cues past `ESTABLISHED`).
        confidence: probability that the arrow points the right way (0.5: a coin toss).
        basis: the reasons, in words.
        kind: "derived" (one copied, rewrote or translated the other), "siblings" (two carriers of
            one wire, neither the original) or "replica" (the same text, carried twice).
    """

    established: bool
    confidence: float
    basis: tuple[str, ...] = field(default=())
    kind: str = DERIVED

    def words(self) -> str:
        """One line for the terminal and the HTML view."""
        if self.kind == SIBLINGS:
            return self.basis[0] if self.basis else "siblings: both carry one text"
        why = "; ".join(self.basis)
        if self.established:
            return f"direction established ({why})"
        return f"direction undetermined: {why}" if why else "direction undetermined"


def parse_date(raw: str | None) -> str | None:
    """A date as a sortable ISO string, or None when absent or unparseable."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).isoformat()
    except ValueError:
        pass
    for fmt in ("%b %d, %Y", "%d %B %Y", "%B %d, %Y", "%d/%m/%Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(raw, fmt).isoformat()
        except ValueError:
            continue
    return None


def read_dates(path: str | Path) -> dict[str, str]:
    """`--dates FILE.csv`: rows of (document id or file name, date), an optional header row.

    Raises:
        InputError: the file is missing, or a row has no date or one that cannot be read.
    """
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text("utf-8-sig").splitlines()))
    except OSError as exc:
        raise InputError(f"cannot read dates file {path}: {exc.strerror or exc}; give a CSV of id,date rows") from None
    out: dict[str, str] = {}
    for k, row in enumerate(rows, 1):
        if not row or not row[0].strip() or row[0].startswith("#"):
            continue
        if len(row) < 2 or parse_date(row[1]) is None:
            if k == 1:  # a header row
                continue
            raise InputError(f"{path}, line {k}: expected 'id or file name,date' with an ISO date "
                             f"(2020-06-11), got {','.join(row)!r}; fix that row")
        out[row[0].strip()] = row[1].strip()
    return out


def dated(documents, dates: dict[str, str]):
    """`documents` with `meta["date"]` set from `dates` (keyed by id, file name or file stem)."""
    from dataclasses import replace

    out = []
    for d in documents:
        name = Path(d.path.split("#")[0]).name
        date = dates.get(d.id) or dates.get(name) or dates.get(Path(name).stem)
        out.append(replace(d, meta={**d.meta, "date": date}) if date else d)
    return out


def _story_sentences(p) -> list[int]:
    roles = [para.role for para in p.seg.paragraphs]
    return [i for i, s in enumerate(p.seg.sentences) if roles[s.paragraph] == "body"] or \
        list(range(len(p.seg.sentences)))


def _tail_share(p, covered: set[int]) -> float:
    """Share of `p`'s body text after its last aligned sentence."""
    body = _story_sentences(p)
    if not body or not covered:
        return 0.0
    last = max(covered)
    lens = {i: p.seg.sentences[i].end - p.seg.sentences[i].start for i in body}
    total = sum(lens.values())
    return sum(v for i, v in lens.items() if i > last) / total if total else 0.0


def _furniture(p) -> Counter:
    """`p`'s page-furniture lines (a multiset: a copy that adds an "Advertisement" line to a page
    that had one carries two)."""
    return Counter(" ".join(p.doc.text[b.start:b.end].split()).casefold() for b in p.seg.clean.excluded)


_WORD = re.compile(r"\w+")


def _unshared(a: Counter, b: Counter) -> tuple[int, int]:
    """How many furniture lines of `a` and of `b` the other lacks; a line reworded (half its words or
    more in common with a line of the other: "Read more: X", "Read also: X") is shared."""
    only_b = list((b - a).elements())
    words_b = [set(_WORD.findall(x)) for x in only_b]
    left_a = 0
    for x in (a - b).elements():
        wx = set(_WORD.findall(x))
        k = next((k for k, wy in enumerate(words_b) if wy is not None and len(wx & wy) >= 0.5 * len(wx | wy)), None)
        if k is None:
            left_a += 1
        else:
            words_b[k] = None
    return left_a, sum(w is not None for w in words_b)
#: a word in any script (`\w` alone cuts a Devanagari word at its vowel signs and viramas)
_ANY_WORD = re.compile(r"(?:\w|[\u0900-\u0963\u0971-\u097f])+")


def _script(ch: str) -> str:
    o = ord(ch)
    if o < 0x250:
        return "latin"
    if 0x400 <= o < 0x530:
        return "cyrillic"
    if 0x900 <= o < 0x980:
        return "devanagari"
    if 0x600 <= o < 0x700:
        return "arabic"
    return "other"


def _foreign_words(t, s) -> int:
    """Words of the target in letters its language does not use, that the source has verbatim: a
    non-Latin word in a Latin-script text, a word with diacritics in an English one. (Latin words
    in a Cyrillic or Devanagari text do not count: original writers keep brand and foreign names
    in Latin letters too.)"""
    foreign = _foreign_candidates(t.doc.text, t.langs.document == "en")
    return len(foreign & _words(s.doc.text)) if foreign else 0


@lru_cache(maxsize=4096)
def _words(text: str) -> frozenset[str]:
    """The distinct words of `text` (cached: `pair_leans` asks once per pair, a text is in many)."""
    return frozenset(_WORD.findall(text))


@lru_cache(maxsize=4096)
def _foreign_candidates(text: str, english: bool) -> frozenset[str]:
    """The words of a Latin-script `text` that `_foreign_words` may count (none when the text is
    mostly in another script)."""
    if _main_script(text) != "latin":
        return frozenset()
    return frozenset(w for w in _words(text) if len(w) >= 3 and w[0].isalpha() and
                     (_script(w[0]) != "latin" or (english and not w.isascii())))


@lru_cache(maxsize=4096)
def _main_script(text: str) -> str:
    """The script most letters of `text`'s first 5,000 characters are in (cached per text); a tie
    goes to the script met first. Each distinct character is looked at once (a cold scan's ~120
    texts took ~50 ms one character at a time, in the scan's one-process stretch before the leans)."""
    scripts: Counter[str] = Counter()
    for c, n in Counter(text[:5000]).items():  # in the order characters first occur: ties as before
        if c.isalpha():
            scripts[_script(c)] += n
    return scripts.most_common(1)[0][0] if scripts else "other"


#: `_lang_words` lists of this process: (text, language, cross, common) -> list; filled from the
#: result cache by `pair_leans` (a word's frequency takes loading wordfreq's lists of its language)
_LANG_WORDS: dict[tuple[str, str, bool, bool], dict[str, str]] = {}
LANG_WORDS_KEPT = 8192


def _load_word_lists(items) -> None:
    """Each language's word frequencies read once here, not once in every worker process."""
    from .names import zipf

    for lang in sorted({x[1] for x in items}):
        zipf("the", lang)


def _lang_words(text: str, lang: str, cross: bool, common: bool) -> dict[str, str]:
    """Key -> word for the words of `text` common in `lang` (`common`) or, otherwise, uncommon in
    it and written in the text's own script. Keys meet across the pair: a word with its case ending
    cut and accents folded, or, across scripts (`cross`), the consonant skeleton of its
    transliteration (सब्जी and "sabji" are both "sbg")."""
    key = (text, lang, cross, common)
    if key not in _LANG_WORDS:
        if len(_LANG_WORDS) >= LANG_WORDS_KEPT:
            _LANG_WORDS.clear()
        _LANG_WORDS[key] = _lang_words_of(*key)
    return _LANG_WORDS[key]


def _lang_words_of(text: str, lang: str, cross: bool, common: bool) -> dict[str, str]:
    from .names import fold, is_latin, romanize, skeleton, strip_inflection, zipf

    latin = _main_script(text) == "latin"
    out: dict[str, str] = {}
    for w in dict.fromkeys(_ANY_WORD.findall(text)):  # in text order: the word shown for a key is its first
        if len(w) < 3 or not w[0].isalpha():
            continue
        z = zipf(w, lang)
        if (z < SOURCE_COMMON_ZIPF) if common else (z >= TARGET_RARE_ZIPF or is_latin(w) != latin):
            continue
        base = strip_inflection(w, lang)
        key = skeleton(romanize(base)) if cross else fold(base)
        if len(key) >= 3:
            out.setdefault(key, w)
    return out


def _source_words(t, s) -> list[str]:
    """Words of `t` uncommon in its language that are common words of `s`'s language, found in `s`
    (verbatim or transliterated), sorted."""
    tl, sl = t.langs.document, s.langs.document
    if not tl or not sl:
        return []
    cross = _main_script(t.doc.text) != _main_script(s.doc.text)
    mine = _lang_words(t.doc.text, tl, cross, False)
    theirs = _lang_words(s.doc.text, sl, cross, True)
    return sorted(mine[k] for k in mine.keys() & theirs.keys())


def lean(t, s, t_covered: set[int], s_covered: set[int], t_share: float, s_share: float,
         signal_kinds: tuple[int, int] | None = None) -> Lean:
    """The text cues for "`s` is the original of `t`" (both `preparation.Prepared`).

    Args:
        t_covered, s_covered: sentence indices of each side that the pair's alignment covers.
        t_share: share of `t` that `s` explains (aligned); `s_share`: the reverse.
        signal_kinds: kinds of translation signal in `t` and `s`, when the caller counted them.
    """
    cues: dict[str, float] = {}
    words: list[str] = []
    ft, fs = _furniture(t), _furniture(s)
    # only a page that carries all of the other's furniture and more says which is the copy: two
    # pages that each carry furniture of their own (each outlet's) say nothing
    more, less = _unshared(ft, fs)
    furn = more - less if not (more and less) else 0
    if furn:
        cues["furniture"] = max(-1.0, min(1.0, furn / 2))
        words.append(("target" if furn > 0 else "source") + " carries page furniture the other lacks")
    trunc = _tail_share(s, s_covered) - _tail_share(t, t_covered)
    if abs(trunc) >= 0.1:
        cues["truncation"] = trunc
        words.append("target truncates the source's last paragraphs" if trunc > 0
                     else "source lacks the target's last paragraphs")
    full = t_share - s_share
    if abs(full) >= 0.1:
        cues["fuller"] = full
        words.append("the source explains more of the target than the reverse" if full > 0
                     else "the target explains more of the source than the reverse")
    kt, ks = signal_kinds or (_signal_kinds(t), _signal_kinds(s))
    sig = kt - ks
    if sig:
        cues["signals"] = max(-1, min(1, sig))
        words.append("translation signals in the " + ("target" if sig > 0 else "source"))
    if t.langs.document != s.langs.document:
        fw = _foreign_words(t, s) - _foreign_words(s, t)
        if fw:
            cues["foreign letters"] = max(-1.0, min(1.0, fw / 3))
            words.append(("target" if fw > 0 else "source") + " keeps words in the other's letters")
        ts, st = _source_words(t, s), _source_words(s, t)
        if len(ts) != len(st):
            cues["source words"] = max(-1.0, min(1.0, (len(ts) - len(st)) / 3))
            side, kept = ("target", ts) if len(ts) > len(st) else ("source", st)
            words.append(f"{side} keeps words of the other's language ({', '.join(kept[:3])})")
    score = sum(WEIGHTS[k] * v for k, v in cues.items())
    return Lean(round(score, 4), tuple(words), tuple(sorted((k, round(v, 4)) for k, v in cues.items())))


def _signal_kinds(p) -> int:
    return len({x.kind.split(" (")[0] for x in translation_signals(p)})


def judge(t_date: str | None, s_date: str | None, cue: Lean | None) -> Direction:
    """The direction of "target derives from source" from dates and text cues."""
    if t_date and s_date and t_date != s_date:
        if s_date < t_date:
            return Direction(True, DATED, (f"dated {s_date[:10]} vs {t_date[:10]}",))
        return Direction(False, 1 - DATED, (f"dates point the other way ({s_date[:10]} vs {t_date[:10]})",))
    cue = cue or Lean()
    conf = round(1 / (1 + math.exp(-cue.score)), 3)
    dates = "same date" if t_date and s_date else "no dates"
    if conf >= ESTABLISHED:
        return Direction(True, conf, cue.basis)
    strength = "text cues point the other way" if conf <= 1 - ESTABLISHED else "weak textual evidence"
    return Direction(False, conf, (dates, strength, *cue.basis))


def pair_leans(prepared, alignments, evidence, min_blocks: int = 2, store=None, workers: int | None = 1
               ) -> dict[tuple[int, int], Lean]:
    """`lean` both ways for every aligned pair with at least `min_blocks` blocks: (target, source)
    -> `Lean`. `alignments`: `result.PairAlignment`s (side a is the source side of their blocks);
    `evidence`: `classify.PairEvidence`s, for the aligned shares. `store`: a `results.ResultStore`
    that keeps each lean between scans (a lean depends on the two documents, the sentences the
    alignment covers and the aligned shares alone) and each text's source-words lists. The leans
    not kept are computed by `workers` processes (a cold scan's ~900: 0.3 s on one core)."""
    from .cache import today
    from .results import ResultStore

    store = store or ResultStore(None)
    share = {(e.target, e.source): e.aligned_share for e in evidence}
    # each document once (a document in many pairs was keyed once per pair: ~1,800 keys a scan for ~120 documents)
    keys = {i: _text_key(prepared[i]) for i in sorted({i for al in alignments if len(al.blocks) >= min_blocks
                                                       for i in (al.a, al.b)})} if store.enabled else {}
    remember = bool(keys) and store.remembers  # a process whose cache keeps values between scans
    day = today()
    out: dict[tuple[int, int], Lean | None] = {}
    jobs = []  # (target, source, target's covered sentences, source's, aligned shares)
    memo = []  # each job's key in `_LEANS`, and its blocks
    stale = []  # cache keys of the leans kept here that the cache last saw used before today
    for al in alignments:
        if len(al.blocks) < min_blocks:
            continue
        covered = None
        for t, s, side in ((al.b, al.a, 1), (al.a, al.b, 0)):
            ts, st = share.get((t, s), 0.0), share.get((s, t), 0.0)
            mk = (keys[t], keys[s], id(al.blocks), side, ts, st) if remember else None
            found = _LEANS.get(mk) if remember else None
            out[t, s] = found[1] if found is not None and found[0] is al.blocks else None
            if out[t, s] is not None and found[3] < day:
                stale.append(found[2])
                _LEANS[mk] = (*found[:3], day)
            if out[t, s] is None:
                if covered is None:
                    covered = (tuple(sorted({i for blk in al.blocks for i in blk.src})),
                               tuple(sorted({i for blk in al.blocks for i in blk.tgt})))
                jobs.append((t, s, covered[side], covered[1 - side], ts, st))
                memo.append((mk, al.blocks))
    signals: dict[int, int] = {}

    def kinds(i: int) -> int:
        if i not in signals:
            signals[i] = _signal_kinds(prepared[i])
        return signals[i]

    def compute(job) -> Lean:
        t, s, tc, sc, ts, st = job
        return lean(prepared[t], prepared[s], set(tc), set(sc), ts, st, signal_kinds=(kinds(t), kinds(s)))

    leans = store.memoise("lean", jobs, lambda job: (keys[job[0]], keys[job[1]], *job[2:]), compute, workers,
                          before=lambda todo: _recall_lang_words(prepared, {tuple(sorted(j[:2])) for j in todo},
                                                                 store, workers),
                          min_per_worker=LEANS_PER_WORKER)
    for job, (mk, blocks), x in zip(jobs, memo, leans, strict=True):
        out[job[:2]] = x
        if mk is not None:
            if len(_LEANS) >= LEANS_KEPT:
                _LEANS.clear()
            _LEANS[mk] = (blocks, x, store.key("lean", keys[job[0]], keys[job[1]], *job[2:]), day)
    store.touch("lean", stale)  # kept from `cache prune` as if read: a process may watch for weeks
    return out


#: Fewer leans than this per extra worker are worked out in this process alone: a lean takes ~0.5 ms
#: and a fork 11-14 ms in a process holding the model (more in a bigger one), so a warm re-scan's
#: 24-36 new leans, which forked a worker every time, were slower on two processes than on one.
LEANS_PER_WORKER = 128

#: Leans a process that scans again worked out: (both documents' `_text_key`s, the id of the pair's
#: blocks, which side the target is, the aligned shares both ways) -> (those blocks, the `Lean`, its
#: key in the cache and the day the cache last saw it used),
#: used while the blocks are that very object (a pair's alignment comes back from the cache as the
#: same object scan after scan). A warm re-scan of 117 articles keyed ~1,800 leans for the cache
#: (the covered sentences spelled out in each key), ~10 ms; now those its new pairs add.
_LEANS: dict[tuple, tuple] = {}
#: entries kept at most (emptied when full)
LEANS_KEPT = 1 << 16


def _text_key(p) -> str:
    """Digest of all a `lean` reads of a document: its text, cleaning, segmentation and languages."""
    from .hashing import digest, digest_of_objects

    seg = p.seg

    def make() -> str:  # the fields as plain tuples: a dataclass's repr costs ~10x more
        return digest(p.doc.text, [(b.start, b.end, b.role, b.excluded) for b in seg.clean.blocks],
                      [(q.start, q.end, q.role) for q in seg.paragraphs],
                      [(s.start, s.end, s.paragraph) for s in seg.sentences], p.langs)

    return digest_of_objects("lean-text", (p.doc, seg.clean.blocks, seg.paragraphs, seg.sentences, p.langs), (), make)


def _recall_lang_words(prepared, pairs, store, workers: int | None = 1) -> None:
    """The `_lang_words` lists the source-words cue will read for `pairs` (of documents) in two
    languages, from `store` or computed by `workers` processes (and kept there)."""
    from .hashing import digest

    needed = set()
    for a, b in sorted(pairs):
        pa, pb = prepared[a], prepared[b]
        la, lb = pa.langs.document, pb.langs.document
        if la and lb and la != lb:
            cross = _main_script(pa.doc.text) != _main_script(pb.doc.text)
            needed |= {(p.doc.text, p.langs.document, cross, c) for p in (pa, pb) for c in (False, True)}
    needed -= _LANG_WORDS.keys()  # this process has those already
    if not needed:
        return
    text_key = {text: digest(text) for text in {x[0] for x in needed}}
    items = sorted(needed, key=lambda x: (text_key[x[0]], x[1:]))
    values = store.memoise("source-words", items, lambda x: (text_key[x[0]], *x[1:]), lambda x: _lang_words(*x),
                           workers, before=_load_word_lists)
    if len(_LANG_WORDS) + len(items) > LANG_WORDS_KEPT:
        _LANG_WORDS.clear()
    _LANG_WORDS.update(zip(items, values, strict=True))

