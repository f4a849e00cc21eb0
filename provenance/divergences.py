"""Divergences a fact-checker can act on: one row per real change, each with a severity.

`refine` removes the noise that per-passage checks leave behind:
- a quotation reported dropped from an aligned passage *and* added to it is one change: in a
  translation it is the same quotation in the other language (no divergence at all); in one
  language it is one altered quotation (with its word diff);
- a quotation inside an added passage is reported once, as that passage (subtype `quote`);
- in a translation, a source passage and a derivative passage that sit in the same gap between
  aligned passages (the aligner could not pair them across languages) are one `reworded` row
  (subtype `unaligned`), not an omission plus an addition.
Exonyms (Irak / Iraq) never reach this point: `compare` keys names across languages.

`severity` ranks a divergence: `substantive` (numbers, quotations, attribution, a name replaced
by another, a quotation added), `editorial` (passages omitted, added or reworded) or `cosmetic`
(a name respelled, a rewording that changes only punctuation, case, small words or an acronym's
expansion: "US" / "United States").
"""

from __future__ import annotations

import re
from dataclasses import replace

SUBSTANTIVE, EDITORIAL, COSMETIC = "substantive", "editorial", "cosmetic"
SEVERITIES = (SUBSTANTIVE, EDITORIAL, COSMETIC)

#: per language, words whose change alone leaves a sentence saying the same: articles, prepositions,
#: conjunctions, auxiliaries, "also", "then" (never a negation; elided ones: `ELIDED`); other
#: languages are read as English
SMALL_WORDS = {
    "en": frozenset("the a an of in on at to and or for by with from that its their is was has had have be been this "
                    "it as also then just".split()),
    "fr": frozenset("le la les un une des du de à au aux en dans sur pour par avec et ou que qui "
                    "est était a avait ont été ce cet cette ces son sa ses leur leurs aussi également puis alors "
                    "ainsi".split()),
    "es": frozenset("el la los las lo un una unos unas de del a al en con por para y o que es era ha había han "
                    "sido este esta estos estas su sus también luego entonces así".split()),
    "de": frozenset("der die das den dem des ein eine einen einem einer eines von vom zu zum zur in im an am auf für "
                    "mit aus und oder dass ist war hat hatte haben wurde sein seine ihr ihre auch dann so".split()),
    "it": frozenset("il lo la i gli le un uno una di del della dei degli delle a al alla ai in nel nella "
                    "con per su da e o che è era ha aveva hanno stato suo sua suoi sue anche poi così".split()),
    "pt": frozenset("o a os as um uma uns umas de do da dos das em no na nos nas com por para e ou que é era foi "
                    "tem tinha têm este esta estes estas seu sua seus suas também depois então assim".split()),
}
_PUNCT = re.compile(r"^[\W_]+$")
#: an elided article or preposition before a word: l', d', qu', dell', all'... ("l'ambassadeur"); not a
#: pronoun ("m'a menacé" / "t'a menacé" are two statements)
ELIDED = re.compile(r"^(?:[dl]|qu|dell|all|dall|nell|sull)['’](?=\w)", re.IGNORECASE)


def _inside(span, outer) -> bool:
    return span is not None and outer is not None and outer[0] <= span[0] and span[1] <= outer[1]


def refine(divs: list, records, cross: bool, word_diff) -> list:
    """`divs` (compare's `Divergence`s) without double reports; see the module docstring.
    `records`: the pair's `AlignmentRecord`s; `cross`: whether the two texts' languages differ;
    `word_diff(a, b)`: compare's word-level diff (passed in: compare imports this module)."""
    drop: set[int] = set()
    out = list(divs)
    for r in records:  # quotations dropped and added inside one aligned passage
        gone = [k for k, d in enumerate(out) if d.type == "quote" and d.subtype == "dropped"
                and _inside(d.source_span, r.source_span) and k not in drop]
        new = [k for k, d in enumerate(out) if d.type == "quote" and d.subtype == "added"
               and _inside(d.target_span, r.target_span) and k not in drop]
        for a, b in zip(gone, new, strict=False):
            drop.update((a, b))
            if not cross:
                s, t = out[a], out[b]
                out.append(replace(s, target_span=t.target_span, target_text=t.target_text, subtype="altered",
                                   diff=word_diff(s.source_text, t.target_text)))
    for k, d in enumerate(out):  # a quotation inside an added passage: the passage says it
        if d.type == "added" and k not in drop:
            inner = [j for j, q in enumerate(out) if q.type == "quote" and q.subtype == "added" and j not in drop
                     and _inside(q.target_span, d.target_span)]
            if inner:
                drop.update(inner)
                out[k] = replace(d, subtype="quote")
    if cross:
        _pair_gaps(out, records, drop)
    return [d for k, d in enumerate(out) if k not in drop]


def _pair_gaps(out: list, records, drop: set[int]) -> None:
    """Cross-lingual: an omitted and an added passage in the same gap between aligned passages,
    of comparable length, become one `reworded` (`unaligned`) row (appended to `out`)."""
    fixed = [r for r in records if not r.moved]

    def gap(pos: int, side: int) -> int:
        return sum(1 for r in fixed if (r.source_span, r.target_span)[side][1] <= pos)

    gone = [k for k, d in enumerate(out) if d.type == "omitted" and k not in drop]
    new = [k for k, d in enumerate(out) if d.type == "added" and k not in drop]
    for a in gone:
        s = out[a]
        for b in new:
            t = out[b]
            if b in drop or gap(s.source_span[0], 0) != gap(t.target_span[0], 1):
                continue
            ls, lt = s.source_span[1] - s.source_span[0], t.target_span[1] - t.target_span[0]
            if 0.4 <= lt / max(ls, 1) <= 2.5:
                drop.update((a, b))
                out.append(replace(s, type="reworded", target_span=t.target_span, target_text=t.target_text,
                                   subtype="unaligned"))
                break


def severity(d, lang: str = "en") -> str:
    """`substantive`, `editorial` or `cosmetic` for a `Divergence` (or its report dict) of a
    derivative in `lang` (what counts as a small word)."""
    get = d.get if isinstance(d, dict) else lambda k: getattr(d, k)
    kind, sub = get("type"), get("subtype")
    if kind in ("number", "quote", "attribution"):
        return SUBSTANTIVE
    if kind == "name":
        return SUBSTANTIVE if sub == "replaced" else COSMETIC
    if kind == "added" and sub == "quote":
        return SUBSTANTIVE
    small = SMALL_WORDS.get(lang, SMALL_WORDS["en"])
    if kind == "reworded" and get("diff") and all(_cosmetic(op, small) for op in get("diff") if op[0] != "equal"):
        return COSMETIC
    return EDITORIAL


def _initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w[:1].isupper())


def _cosmetic(op, small: frozenset[str]) -> bool:
    """Whether one word-diff operation changes only punctuation, case, small words or spells an
    acronym out ("US" -> "United States")."""
    a = [w for w in op[1].split() if not _PUNCT.match(w)]
    b = [w for w in op[2].split() if not _PUNCT.match(w)]
    if [w.lower() for w in a] == [w.lower() for w in b]:
        return True
    if all(w.lower() in small for w in a + b):
        return True
    # (an elided article is a small word too: "l'ambassadeur" / "un ambassadeur")
    core_a = [ELIDED.sub("", w) for w in a if w.lower() not in small]
    core_b = [ELIDED.sub("", w) for w in b if w.lower() not in small]
    if [w.lower() for w in core_a] == [w.lower() for w in core_b]:
        return True
    for x, y in ((core_a, core_b), (core_b, core_a)):
        if len(x) == 1 and x[0].isupper() and 2 <= len(x[0]) <= 5 and x[0] == _initials(y):
            return True
    return False
