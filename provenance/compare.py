"""Stage: compare. How a derived document departs from its source, as typed divergences.

Types: `number` (a quantity changed; "twelve" = "a dozen" = 12 is no change), `name` (a name
respelled or transliterated, `variant`; or a different name in an otherwise edited sentence,
`replaced`), `quote` (a quotation altered, dropped or added), `omitted` (a source passage the
derivative does not carry), `added` (a derivative passage with no source), `reworded` (aligned
passages whose wording differs beyond the above, with a word-level diff).

Every divergence carries `source_span` / `target_span` ([start, end) offsets into the source's and
the derivative's texts, or None for the side that has nothing).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from .align import AlignedBlock
from .divergences import ELIDED, refine
from .lexical import quote_spans
from .mentions import calendar_words, name_vocabulary, names, numbers
from .names import spelled_alike
from .speech import acronym, other_named_speaker, same_speaker, speakers, unread_speaker

VERBATIM, EDITED, REWORDED, TRANSLATED = "verbatim", "edited", "reworded", "translated"
_WORD = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class AlignmentRecord:
    source_span: tuple[int, int]
    target_span: tuple[int, int]
    score: float
    kind: str
    similarity: float
    moved: bool
    source_sentences: int
    target_sentences: int


@dataclass(frozen=True)
class Divergence:
    type: str
    source_span: tuple[int, int] | None
    target_span: tuple[int, int] | None
    source_text: str
    target_text: str
    subtype: str | None = None
    diff: tuple = ()


@dataclass(frozen=True)
class DocComparison:
    """How a target document diverges from its source: every aligned passage (`alignments`, spans
    into both texts), every divergence, and the shares of the target by kind of passage (`summary`).
    Holds no document indices: the scan keys it by the target."""

    alignments: tuple[AlignmentRecord, ...]
    divergences: tuple[Divergence, ...]
    shares: tuple[tuple[str, float], ...] = ()  # `summary`'s items: the value is immutable (`results.SHARED`)

    @property
    def summary(self) -> dict[str, float]:
        """Shares of the target by kind of passage ("verbatim", "edited", "reworded", "translated",
        "added") and the share of the source it leaves out ("omitted_of_source")."""
        return dict(self.shares)


@lru_cache(maxsize=16)
def text_vocabulary(text: str) -> frozenset[str]:
    """`mentions.name_vocabulary` of one text, kept for the next pair: a long document compared with
    several others is read once (call it before forking the comparisons to share it)."""
    return frozenset(name_vocabulary([text]))


def _story(p) -> str:
    """The document text with page furniture blanked (offsets unchanged)."""
    chars = list(p.doc.text)
    for b in p.seg.clean.excluded:
        chars[b.start:b.end] = " " * (b.end - b.start)
    return "".join(chars)


def _span(p, idx: tuple[int, ...]) -> tuple[int, int]:
    ss = p.seg.sentences
    return ss[idx[0]].start, ss[idx[-1]].end


def _norm_ws(s: str) -> str:
    s = s.replace("\u00a0", " ").replace("’", "'").replace("‘", "'")
    s = re.sub(r"[“”«»„]", '"', s)
    s = s.replace("–", "-").replace("—", "-").replace("--", "-")
    return re.sub(r"\s+", " ", s).strip()


def token_opcodes(a: str, b: str, fold_case: bool = False
                  ) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[tuple]]:
    """Word-level diff of `a` and `b`: the (start, end) spans of their words (and punctuation
    marks), and difflib's opcodes over those tokens (compared case-folded with `fold_case`)."""
    ta = [m.span() for m in _WORD.finditer(a)]
    tb = [m.span() for m in _WORD.finditer(b)]
    wa = [a[x:y].lower() if fold_case else a[x:y] for x, y in ta]
    wb = [b[x:y].lower() if fold_case else b[x:y] for x, y in tb]
    return ta, tb, difflib.SequenceMatcher(a=wa, b=wb, autojunk=False).get_opcodes()


def word_diff(a: str, b: str) -> tuple[tuple[str, str, str], ...]:
    """Word-level diff: tuples `(op, source_words, target_words)`, op in equal/replace/delete/insert."""
    ta, tb, ops = token_opcodes(a, b)
    wa, wb = [a[x:y] for x, y in ta], [b[x:y] for x, y in tb]
    return tuple((op, " ".join(wa[i1:i2]), " ".join(wb[j1:j2])) for op, i1, i2, j1, j2 in ops)


def compare_pair(src, tgt, blocks: tuple[AlignedBlock, ...] | list[AlignedBlock]) -> DocComparison:
    """Divergences of `tgt` (a Prepared) from `src`, given blocks oriented src -> tgt."""
    stext, ttext = src.doc.text, tgt.doc.text
    langs = (src.langs.document, tgt.langs.document)
    cross = langs[0] != langs[1]
    known = text_vocabulary(stext) | text_vocabulary(ttext)
    s_quotes = [_quote_inner(stext[a:b]) for a, b in quote_spans(_story(src))]
    t_quotes = [_quote_inner(ttext[a:b]) for a, b in quote_spans(_story(tgt))]
    records: list[AlignmentRecord] = []
    divs: list[Divergence] = []
    shares = {VERBATIM: 0, EDITED: 0, REWORDED: 0, TRANSLATED: 0}
    for blk in blocks:
        sa, sb = _span(src, blk.src)
        ta, tb = _span(tgt, blk.tgt)
        s_str, t_str = stext[sa:sb], ttext[ta:tb]
        s_norm, t_norm = _norm_ws(s_str), _norm_ws(t_str)
        sim = fuzz.ratio(s_norm, t_norm) / 100.0
        if s_norm == t_norm:  # verbatim means identical but for spacing and quote marks
            kind = VERBATIM
        elif cross:
            kind = TRANSLATED
        elif sim >= 0.7:
            kind = EDITED
        else:
            kind = REWORDED
        shares[kind] += tb - ta
        records.append(AlignmentRecord((sa, sb), (ta, tb), blk.score, kind, round(sim, 4), blk.moved,
                                       len(blk.src), len(blk.tgt)))
        if kind == VERBATIM:
            continue
        diff = word_diff(s_str, t_str) if kind != TRANSLATED else ()
        explained: list[str] = []
        divs.extend(_number_divs(stext, ttext, sa, sb, ta, tb, explained, diff, langs))
        dates = _date_divs(stext, ttext, sa, sb, ta, tb, explained, langs)
        divs.extend(dates)
        divs.extend(_name_divs(stext, ttext, sa, sb, ta, tb, known, kind, explained, diff, langs,
                               dated=({d.source_span for d in dates}, {d.target_span for d in dates})))
        qdivs = _quote_divs(stext, ttext, sa, sb, ta, tb, explained, s_quotes, t_quotes)
        divs.extend(qdivs)
        # (a quotation in two languages reads as one dropped and one added: there any counts as shared)
        shares_quote = bool(quote_spans(s_str)) and bool(quote_spans(t_str)) and (cross or not any(
            d.subtype in ("added", "dropped") for d in qdivs))
        divs.extend(_attribution_divs(stext, ttext, sa, sb, ta, tb, explained, kind, shares_quote, langs))
        if kind in (EDITED, REWORDED):
            residual = [d for d in diff if d[0] != "equal" and not _explained(d, explained)]
            if residual:
                divs.append(Divergence("reworded", (sa, sb), (ta, tb), s_str, t_str,
                                       subtype=kind, diff=diff))
    # passages one side has and the other not
    used_s = {i for b in blocks for i in b.src}
    used_t = {j for b in blocks for j in b.tgt}
    for run in _runs(src, [i for i in range(len(src.seg.sentences)) if i not in used_s]):
        a, b = _span(src, run)
        divs.append(Divergence("omitted", (a, b), None, stext[a:b], ""))
    added_chars = 0
    for run in _runs(tgt, [j for j in range(len(tgt.seg.sentences)) if j not in used_t]):
        a, b = _span(tgt, run)
        added_chars += b - a
        divs.append(Divergence("added", None, (a, b), "", ttext[a:b]))
        for qa, qb in quote_spans(ttext[a:b]):
            inner = _quote_inner(ttext[a + qa:a + qb])
            if len(inner) > 12 and not _quote_known(inner, s_quotes, ""):
                divs.append(Divergence("quote", None, (a + qa, a + qb), "", ttext[a + qa:a + qb], subtype="added"))
    tgt_total = sum(tgt.seg.sentences[j].end - tgt.seg.sentences[j].start for j in range(len(tgt.seg.sentences)))
    src_total = sum(s.end - s.start for s in src.seg.sentences)
    omitted_chars = sum(src.seg.sentences[i].end - src.seg.sentences[i].start
                        for i in range(len(src.seg.sentences)) if i not in used_s)
    summary = {k: round(v / tgt_total, 4) if tgt_total else 0.0 for k, v in shares.items()}
    summary["added"] = round(added_chars / tgt_total, 4) if tgt_total else 0.0
    summary["omitted_of_source"] = round(omitted_chars / src_total, 4) if src_total else 0.0
    divs = refine(list(dict.fromkeys(divs)), records, cross, word_diff)  # a reused passage reports once
    divs.sort(key=lambda d: ((d.target_span or d.source_span or (0, 0))[0] if d.target_span else 10**9,
                             (d.source_span or (0, 0))[0], d.type))
    return DocComparison(tuple(records), tuple(divs), tuple(summary.items()))


def _explained(op: tuple[str, str, str], explained: list[str]) -> bool:
    changed = (op[1] + " " + op[2]).split()
    words = {w.lower() for e in explained for w in _WORD.findall(e)}
    return all(w.lower() in words or not w.strip('"\'“”«»[]()') for w in changed)


def _is_year(v: float) -> bool:
    return 1800 <= v <= 2100 and float(v).is_integer()


_STOP = {"the", "a", "an", "of", "in", "on", "at", "to", "and", "or", "for", "by", "with", "from", "its", "their",
         "some", "about", "around", "roughly", "nearly", "almost", "than", "more", "less", "over", "under", "just",
         "le", "la", "les", "de", "des", "du", "et", "en", "el", "los", "las", "y", "der", "die", "das", "und"}


def _context(text: str, start: int, end: int) -> set[str]:
    """The words around a number (two before, three after; an elided article cut: "d'urgence" is
    "urgence"), as 5-letter stems."""
    before = [ELIDED.sub("", w) for w in _WORD.findall(text[max(0, start - 40):start])[-2:]]
    after = [ELIDED.sub("", w) for w in _WORD.findall(text[end:end + 50])[:3]]
    return {w.lower()[:5] for w in before + after if w.isalpha() and len(w) >= 3 and w.lower() not in _STOP}




def _in_replace_op(diff, s_str: str, t_str: str) -> bool:
    return any(op == "replace" and s_str in a and t_str in b for op, a, b in diff)


def _unpaired(sn: list, tn: list) -> tuple[list, list]:
    """The mentions of each side left once equal keys are paired, each with the first one free."""
    s_left, t_left = list(sn), []
    for m in tn:
        hit = next((x for x in s_left if x.key == m.key), None)
        if hit is not None:
            s_left.remove(hit)
        else:
            t_left.append(m)
    return s_left, t_left


def _number_divs(stext, ttext, sa, sb, ta, tb, explained, diff=(), langs: tuple[str, str] = ("en", "en")
                 ) -> list[Divergence]:
    """Changed quantities (read in each side's language, `langs`): numbers without an equal
    counterpart on the other side, paired when their neighbouring words agree (or a word-diff
    replacement holds both) and their magnitudes are comparable. A number dropped with its clause
    is not a changed number. In a translated block only numbers written in digits are paired
    (`_figure`): a translation says "thirty" as "tři desítky" (three tens) and "2:30" as "halb
    drei" (half three), whose neighbour "Boston" paired 2 with drei. And there neighbours are
    words of two languages and seldom agree ("roughly 5,200 US troops" / "ongeveer 5.500
    Amerikaanse militairen"): the one number left on each side is paired when their magnitudes
    are comparable, as nothing else in the block could be its counterpart."""
    s_block, t_block = stext[sa:sb], ttext[ta:tb]
    cross = langs[0] != langs[1]
    s_left, t_left = _unpaired(numbers(s_block, langs[0]), numbers(t_block, langs[1]))
    if cross:
        s_left = [m for m in s_left if _figure(s_block, m)]
        t_left = [m for m in t_left if _figure(t_block, m)]
    out = []
    for sm in list(s_left):
        s_str = s_block[sm.start:sm.end]
        s_ctx = _context(s_block, sm.start, sm.end)
        for tm in t_left:
            if not _comparable(float(sm.key), float(tm.key)):
                continue
            t_str = t_block[tm.start:tm.end]
            # (a scale word is no part of the replacement: "47 millions" turned "54 millions" replaces 47)
            if not (s_ctx & _context(t_block, tm.start, tm.end)
                    or _in_replace_op(diff, s_str.split()[0], t_str.split()[0])):
                continue
            out.append(Divergence("number", (sa + sm.start, sa + sm.end), (ta + tm.start, ta + tm.end),
                                  s_str, t_str))
            explained += [s_str, t_str]
            s_left.remove(sm)
            t_left.remove(tm)
            break
    if (cross and len(s_left) == len(t_left) == 1 and _comparable(float(s_left[0].key), float(t_left[0].key), 3)
            and _same_measure(_unit(s_block, s_left[0]), _unit(t_block, t_left[0]))):
        (sm,), (tm,) = s_left, t_left
        s_str, t_str = s_block[sm.start:sm.end], t_block[tm.start:tm.end]
        out.append(Divergence("number", (sa + sm.start, sa + sm.end), (ta + tm.start, ta + tm.end), s_str, t_str))
        explained += [s_str, t_str]
    return out


def _date_divs(stext, ttext, sa, sb, ta, tb, explained, langs: tuple[str, str]) -> list[Divergence]:
    """A day or a month changed (`mentions.calendar_words`, in each side's language): after the
    weekdays and months both sides name are paired, the one weekday (or month) left on each side,
    as a `number` of subtype `date` ("on Monday" / "on Tuesday", "Thursday" / "vendredi")."""
    s_block, t_block = stext[sa:sb], ttext[ta:tb]
    s_left, t_left = _unpaired(calendar_words(s_block, langs[0]), calendar_words(t_block, langs[1]))
    out = []
    for kind in "dm":  # (a weekday and a month are no pair: "on Monday" / "le 3 mars" may both be right)
        s_k, t_k = [m for m in s_left if m.key[0] == kind], [m for m in t_left if m.key[0] == kind]
        if len(s_k) == len(t_k) == 1:
            (sm,), (tm,) = s_k, t_k
            s_str, t_str = s_block[sm.start:sm.end], t_block[tm.start:tm.end]
            out.append(Divergence("number", (sa + sm.start, sa + sm.end), (ta + tm.start, ta + tm.end), s_str, t_str,
                                  subtype="date"))
            explained += [s_str, t_str]
    return out


def _figure(text: str, m) -> bool:
    """Whether number mention `m` of `text` is written in digits ("5,200", "5.500", "1.5 million";
    not "twelve", "a dozen") and is not part of a time or a score ("2:30", "3:1")."""
    return (text[m.start:m.start + 1].isdigit()
            and text[m.start - 1:m.start] != ":" and text[m.end:m.end + 1] != ":")


def _comparable(vs: float, vt: float, factor: float = 10) -> bool:
    """Whether `vs` may have been changed into `vt`: both years or neither, neither zero, within
    `factor` of each other."""
    return _is_year(vs) == _is_year(vt) and bool(vs) and bool(vt) and max(vs, vt) / min(vs, vt) <= factor


#: what a figure measures, from the word or sign beside it: a translation converts clock times,
#: units and currencies ("2 p.m." / "14 Uhr", "100 mph" / "160 km/h", "$1.2 billion" / "1,1 milliard
#: d'euros"), so a figure left on each side is only paired when both measure the same (or nothing)
#: (no "est" nor "cet" among the time zones: French "is", "this")
_MEASURES = [(re.compile(p, re.IGNORECASE), unit) for p, unit in (
    (r"a\.?m\.?|p\.?m\.?|uhr|h|hrs?|heures?|horas?|ore|o['’]clock|gmt|utc|cest|bst|edt|часов|час", "time"),
    (r"\$|us\$|usd|dollars?|dólares|dollari|долларов|доллара", "usd"),
    (r"€|eur|euros?|евро", "eur"), (r"£|gbp|pounds sterling|sterling|livres sterling|libras", "gbp"),
    (r"mph|miles per hour", "mph"), (r"km/h|kph|kmh|km/std", "kmh"),
    (r"fahrenheit|°f|f°", "degf"), (r"celsius|°c|c°", "degc"),
    (r"degrees?|grad|degrés|grados|gradi|°", "deg"),
    (r"miles?|meilen|milles|millas|miglia", "mile"),
    (r"km|kilomet(?:er|re)s?|kilomètres?|kilómetros?|chilometri", "km"),
    (r"feet|foot|ft", "ft"), (r"m|met(?:er|re)s?|mètres?|metros?|metri", "m"),
    (r"lbs?|pounds", "lb"), (r"kg|kilos?|kilogram(?:me)?s?|kilogramm", "kg"),
)]


def _unit(block: str, m) -> str | None:
    """What the figure `m` of `block` measures (`_MEASURES`), from the sign before it and the two
    words after it (the more specific one: "95 degrees Fahrenheit" is degf), or None."""
    before = re.search(r"(\S{1,3})\s?$", block[max(0, m.start - 4):m.start])
    words = re.findall(r"[^\W\d_]+(?:/[^\W\d_]+)?|[$€£°][a-z]?", block[m.end:m.end + 30])[:2]
    found = None
    for token in ([before.group(1)] if before else []) + words:
        for pattern, unit in _MEASURES:
            if pattern.fullmatch(token):
                found = unit if found in (None, "deg") else found
                break
    return found


def _same_measure(a: str | None, b: str | None) -> bool:
    """Whether two figures' measures allow one to be the other changed: neither a clock time, and
    the same measure (or none) on both sides."""
    return "time" not in (a, b) and a == b


def _surface(tok: str) -> str:
    import unicodedata

    t = unicodedata.normalize("NFKD", tok).encode("ascii", "ignore").decode().lower()
    return re.sub(r"^(al|el)[-\s]", "", t)


def _word_forms(a: str, b: str) -> bool:
    """Iraq / Iraqi, Iran / Iranian: one name's derived form, not a respelling."""
    short, long_ = sorted((a, b), key=len)
    return long_.startswith(short) and len(short) >= 3


def _name_divs(stext, ttext, sa, sb, ta, tb, known, kind, explained, diff=(), langs=(None, None),
               dated: tuple[set, set] = (set(), set())) -> list[Divergence]:
    """Respelled names (same transliteration skeleton, different spelling) and, in lightly edited
    passages, names replaced by other names (a word-diff replacement of one name by another).
    `langs`: (source, target) languages, for what is a name (a German noun is not: "Außenminister"
    turned "Innenminister" is a rewording, as "foreign minister" turned "interior minister" is).
    Across two languages names of one key are one name as each language writes it (Irak / Iraq,
    Путин / Poutine / Putin, Babišem / Babiš: the keys carry exonyms, transliteration and case
    endings), so they are no divergence."""
    s_block, t_block = stext[sa:sb], ttext[ta:tb]
    s_lang, t_lang = langs
    cross = s_lang != t_lang
    sn = [m for m in names(s_block, known, s_lang) if not acronym(s_block[m.start:m.end])]
    tn = [m for m in names(t_block, known, t_lang) if not acronym(t_block[m.start:m.end])]
    out = []
    t_used: set[int] = set()
    s_matched: set[int] = set()
    for si, m in enumerate(sn):
        s_tok = s_block[m.start:m.end]
        for k, x in enumerate(tn):
            if k in t_used or x.key != m.key:
                continue
            t_tok = t_block[x.start:x.end]
            t_used.add(k)
            s_matched.add(si)
            a, b = _surface(s_tok), _surface(t_tok)
            if a != b and not _word_forms(a, b) and not cross:
                out.append(Divergence("name", (sa + m.start, sa + m.end), (ta + x.start, ta + x.end), s_tok, t_tok,
                                      subtype="variant"))
                explained += [s_tok, t_tok]
            break
    if kind == EDITED:
        s_keys = {m.key for m in sn}
        t_keys = {x.key for x in tn}
        # a weekday or month reported changed (`dated`: `_date_divs`'s source and target spans) is
        # no replaced name too
        for si, m in enumerate(sn):
            if si in s_matched or m.key in t_keys or (sa + m.start, sa + m.end) in dated[0]:
                continue
            s_tok = s_block[m.start:m.end]
            for k, x in enumerate(tn):
                if k in t_used or x.key in s_keys or (ta + x.start, ta + x.end) in dated[1]:
                    continue
                t_tok = t_block[x.start:x.end]
                if _in_replace_op(diff, s_tok, t_tok):
                    t_used.add(k)
                    # (a spelling of one name in another language's way: al-Kasimi / al-Kadhimi)
                    sub = "variant" if spelled_alike(s_tok, t_tok) else "replaced"
                    out.append(Divergence("name", (sa + m.start, sa + m.end), (ta + x.start, ta + x.end),
                                          s_tok, t_tok, subtype=sub))
                    explained += [s_tok, t_tok]
                    break
    return out


def _attribution_divs(stext, ttext, sa, sb, ta, tb, explained, kind, shares_quote, langs: tuple[str, str]
                      ) -> list[Divergence]:
    """Who said it, changed or removed (`speech.speakers`, in each side's language `langs`).
    Checked in lightly edited passages and around a quotation both sides carry; in reworded or
    translated prose the phrasing of attribution varies too freely to be evidence. Across two
    languages only a name changed into another name counts (`speech.other_named_speaker`), and a
    speaker is never reported removed: the other language may say who in a way not read here; nor
    is one where the passage still names one after a speech verb (`speech.unread_speaker`: "a
    déclaré M. Macron aux journalistes")."""
    if kind != EDITED and not shares_quote:
        return []
    (s_lang, t_lang), cross = langs, langs[0] != langs[1]
    s_sp = speakers(stext[sa:sb], s_lang)
    t_sp = speakers(ttext[ta:tb], t_lang)
    out = []
    if s_sp and t_sp:
        for sp, a, b in s_sp:
            if cross:
                if not all(other_named_speaker(sp, s_lang, tsp, t_lang) for tsp, _, _ in t_sp):
                    continue
            elif any(same_speaker(sp, tsp, s_lang) for tsp, _, _ in t_sp):
                continue
            tsp, c, d = t_sp[0]
            out.append(Divergence("attribution", (sa + a, sa + b), (ta + c, ta + d), sp, tsp, subtype="changed"))
            explained += [sp, tsp]
    elif s_sp and not t_sp and not cross and quote_spans(ttext[ta:tb]) and not unread_speaker(ttext[ta:tb], t_lang):
        for sp, a, b in s_sp:
            out.append(Divergence("attribution", (sa + a, sa + b), None, sp, "", subtype="removed"))
            explained.append(sp)
    return out


def _quote_inner(s: str) -> str:
    return _norm_ws(s).strip('" ').strip()


def _quote_known(inner: str, other_quotes: list[str], other_text: str) -> bool:
    """True when a quotation's words occur on the other side: as a quotation (or a fragment of
    one), or unquoted in its text."""
    if len(inner) < 4:
        return True
    if any(fuzz.partial_ratio(inner, q) >= 85 for q in other_quotes if q):
        return True
    return fuzz.partial_ratio(inner, _norm_ws(other_text)) >= 90


def _quote_divs(stext, ttext, sa, sb, ta, tb, explained, s_all, t_all) -> list[Divergence]:
    """Quotations altered inside an aligned passage, dropped from it, or added to it. `s_all` and
    `t_all` are the inner texts of every quotation of each document (a quotation moved elsewhere
    is not dropped)."""
    sq = [(sa + a, sa + b) for a, b in quote_spans(stext[sa:sb])]
    tq = [(ta + a, ta + b) for a, b in quote_spans(ttext[ta:tb])]
    out = []
    t_used: set[int] = set()
    for a, b in sq:
        s_in = _quote_inner(stext[a:b])
        best, best_k = 0.0, None
        for k, (c, d) in enumerate(tq):
            if k in t_used:
                continue
            r = fuzz.ratio(s_in, _quote_inner(ttext[c:d]))
            if r > best:
                best, best_k = r, k
        if best_k is not None and best >= 60:
            t_used.add(best_k)
            c, d = tq[best_k]
            if s_in != _quote_inner(ttext[c:d]):
                out.append(Divergence("quote", (a, b), (c, d), stext[a:b], ttext[c:d], subtype="altered",
                                      diff=word_diff(stext[a:b], ttext[c:d])))
                explained += [stext[a:b], ttext[c:d]]
        elif len(s_in) > 12 and not _quote_known(s_in, t_all, ttext[ta:tb]):
            out.append(Divergence("quote", (a, b), None, stext[a:b], "", subtype="dropped"))
            explained.append(stext[a:b])
    for k, (c, d) in enumerate(tq):
        t_in = _quote_inner(ttext[c:d])
        if k not in t_used and len(t_in) > 12 and not _quote_known(t_in, s_all, stext[sa:sb]):
            out.append(Divergence("quote", None, (c, d), "", ttext[c:d], subtype="added"))
            explained.append(ttext[c:d])
    return out


def _runs(p, idx: list[int]) -> list[tuple[int, ...]]:
    """Group sentence indices into passages: consecutive sentences of one paragraph."""
    runs: list[list[int]] = []
    ss = p.seg.sentences
    for i in idx:
        if runs and runs[-1][-1] == i - 1 and ss[i].paragraph == ss[i - 1].paragraph:
            runs[-1].append(i)
        else:
            runs.append([i])
    return [tuple(r) for r in runs]
