"""Stage 9, compare: how a derived document departs from its source, as typed divergences.

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
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from .align import AlignedBlock
from .lexical import Mention, name_vocabulary, names, numbers, quote_spans

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
    source: int
    target: int
    alignments: tuple[AlignmentRecord, ...]
    divergences: tuple[Divergence, ...]
    summary: dict = field(default_factory=dict)


def _span(p, idx: tuple[int, ...]) -> tuple[int, int]:
    ss = p.seg.sentences
    return ss[idx[0]].start, ss[idx[-1]].end


def _norm_ws(s: str) -> str:
    s = s.replace("\u00a0", " ").replace("’", "'").replace("‘", "'")
    s = re.sub(r"[“”«»„]", '"', s)
    s = s.replace("–", "-").replace("—", "-").replace("--", "-")
    return re.sub(r"\s+", " ", s).strip()


def word_diff(a: str, b: str) -> tuple[tuple[str, str, str], ...]:
    """Word-level diff: tuples `(op, source_words, target_words)`, op in equal/replace/delete/insert."""
    wa, wb = _WORD.findall(a), _WORD.findall(b)
    sm = difflib.SequenceMatcher(a=wa, b=wb, autojunk=False)
    return tuple((op, " ".join(wa[i1:i2]), " ".join(wb[j1:j2])) for op, i1, i2, j1, j2 in sm.get_opcodes())


def compare_pair(src, tgt, blocks: tuple[AlignedBlock, ...] | list[AlignedBlock]) -> DocComparison:
    """Divergences of `tgt` (a Prepared) from `src`, given blocks oriented src -> tgt."""
    stext, ttext = src.doc.text, tgt.doc.text
    cross = src.langs.document != tgt.langs.document
    known = name_vocabulary([stext, ttext])
    records: list[AlignmentRecord] = []
    divs: list[Divergence] = []
    shares = {VERBATIM: 0, EDITED: 0, REWORDED: 0, TRANSLATED: 0}
    for blk in blocks:
        sa, sb = _span(src, blk.src)
        ta, tb = _span(tgt, blk.tgt)
        s_str, t_str = stext[sa:sb], ttext[ta:tb]
        sim = fuzz.ratio(_norm_ws(s_str), _norm_ws(t_str)) / 100.0
        if sim >= 0.97:
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
        explained: list[str] = []
        divs.extend(_number_divs(stext, ttext, sa, sb, ta, tb, explained))
        divs.extend(_name_divs(stext, ttext, sa, sb, ta, tb, known, kind, explained))
        divs.extend(_quote_divs(stext, ttext, sa, sb, ta, tb, explained))
        if kind in (EDITED, REWORDED):
            diff = word_diff(s_str, t_str)
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
            if len(ttext[a + qa:a + qb]) > 12:
                divs.append(Divergence("quote", None, (a + qa, a + qb), "", ttext[a + qa:a + qb], subtype="added"))
    tgt_total = sum(tgt.seg.sentences[j].end - tgt.seg.sentences[j].start for j in range(len(tgt.seg.sentences)))
    src_total = sum(s.end - s.start for s in src.seg.sentences)
    omitted_chars = sum(src.seg.sentences[i].end - src.seg.sentences[i].start
                        for i in range(len(src.seg.sentences)) if i not in used_s)
    summary = {k: round(v / tgt_total, 4) if tgt_total else 0.0 for k, v in shares.items()}
    summary["added"] = round(added_chars / tgt_total, 4) if tgt_total else 0.0
    summary["omitted_of_source"] = round(omitted_chars / src_total, 4) if src_total else 0.0
    divs.sort(key=lambda d: ((d.target_span or d.source_span or (0, 0))[0] if d.target_span else 10**9,
                             (d.source_span or (0, 0))[0], d.type))
    return DocComparison(-1, -1, tuple(records), tuple(divs), summary)


def _explained(op: tuple[str, str, str], explained: list[str]) -> bool:
    changed = (op[1] + " " + op[2]).split()
    words = {w.lower() for e in explained for w in _WORD.findall(e)}
    return all(w.lower() in words or not w.strip('"\'“”«»[]()') for w in changed)


def _is_year(v: float) -> bool:
    return 1800 <= v <= 2100 and float(v).is_integer()


def _number_divs(stext, ttext, sa, sb, ta, tb, explained) -> list[Divergence]:
    sn = numbers(stext[sa:sb])
    tn = numbers(ttext[ta:tb])
    s_left = list(sn)
    t_left = []
    for m in tn:
        hit = next((x for x in s_left if x.key == m.key), None)
        if hit is not None:
            s_left.remove(hit)
        else:
            t_left.append(m)
    out = []
    for sm, tm in zip(list(s_left), list(t_left), strict=False):
        vs, vt = float(sm.key), float(tm.key)
        if _is_year(vs) != _is_year(vt) or not vs or not vt or max(vs, vt) / min(vs, vt) > 10:
            continue
        s_str, t_str = stext[sa + sm.start:sa + sm.end], ttext[ta + tm.start:ta + tm.end]
        out.append(Divergence("number", (sa + sm.start, sa + sm.end), (ta + tm.start, ta + tm.end), s_str, t_str))
        explained += [s_str, t_str]
    return out


def _surface(tok: str) -> str:
    import unicodedata

    t = unicodedata.normalize("NFKD", tok).encode("ascii", "ignore").decode().lower()
    return t


def _name_divs(stext, ttext, sa, sb, ta, tb, known, kind, explained) -> list[Divergence]:
    sn: list[Mention] = names(stext[sa:sb], known)
    tn: list[Mention] = names(ttext[ta:tb], known)
    out = []
    t_used = set()
    s_unmatched = []
    for m in sn:
        s_tok = stext[sa + m.start:sa + m.end]
        match = None
        for k, x in enumerate(tn):
            if k in t_used or x.key != m.key:
                continue
            match = k
            break
        if match is None:
            s_unmatched.append(m)
            continue
        t_used.add(match)
        x = tn[match]
        t_tok = ttext[ta + x.start:ta + x.end]
        if _surface(s_tok) != _surface(t_tok):
            out.append(Divergence("name", (sa + m.start, sa + m.end), (ta + x.start, ta + x.end), s_tok, t_tok,
                                  subtype="variant"))
            explained += [s_tok, t_tok]
    if kind == EDITED:
        t_unmatched = [x for k, x in enumerate(tn) if k not in t_used]
        for m, x in zip(s_unmatched, t_unmatched, strict=False):
            s_tok, t_tok = stext[sa + m.start:sa + m.end], ttext[ta + x.start:ta + x.end]
            if fuzz.ratio(_surface(s_tok), _surface(t_tok)) >= 75:
                sub = "variant"
            else:
                sub = "replaced"
            out.append(Divergence("name", (sa + m.start, sa + m.end), (ta + x.start, ta + x.end), s_tok, t_tok,
                                  subtype=sub))
            explained += [s_tok, t_tok]
    return out


def _quote_inner(s: str) -> str:
    return _norm_ws(s).strip('" ')


def _quote_divs(stext, ttext, sa, sb, ta, tb, explained) -> list[Divergence]:
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
        elif len(s_in) > 12:
            out.append(Divergence("quote", (a, b), None, stext[a:b], "", subtype="dropped"))
            explained.append(stext[a:b])
    for k, (c, d) in enumerate(tq):
        if k not in t_used and len(_quote_inner(ttext[c:d])) > 12:
            out.append(Divergence("quote", None, (c, d), "", ttext[c:d], subtype="added"))
            explained.append(ttext[c:d])
    return out


def _runs(p, idx: list[int]) -> list[tuple[int, ...]]:
    """Group sentence indices into runs of consecutive sentences in the same or adjacent paragraphs."""
    runs: list[list[int]] = []
    for i in idx:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return [tuple(r) for r in runs]
