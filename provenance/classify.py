"""Stage 10, classify: evidence per document pair, relations, story clusters, agency credits.

Relations (METER's wholly / partially / non-derived, made finer):

* `source`: the member of a story cluster the others derive from (the fuller carrier of the wire);
* `copy`: derived, mostly verbatim (light edits, trims);
* `rewrite`: derived, reworded; `translation`: derived, in another language;
* `independent`: on the same story, not derived (may share quotations from a common primary
  source, which by themselves are no evidence of copying);
* `unrelated`: on no story shared with another input.

Derivation evidence for a target T against a candidate source S combines
`aligned_share` (share of T's sentences aligned to S), `detail_share` (share of T's own specific
details, names and numbers outside quotations, weighted by rarity, that S carries too) and
`verbatim` (character similarity of the aligned text). Independent reporting of one event shares
the background facts that every article carries, which the rarity weighting discounts; a
derivative shares the incidental details of its source.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz

from .align import AlignedBlock
from .errors import ConfigError
from .lexical import quoted_share

SOURCE, COPY, REWRITE, TRANSLATION, INDEPENDENT, UNRELATED = (
    "source", "copy", "rewrite", "translation", "independent", "unrelated")
RELATIONS = (SOURCE, COPY, REWRITE, TRANSLATION, INDEPENDENT, UNRELATED)


@dataclass(frozen=True)
class ClassifySettings:
    derived_detail_share: float = 0.33
    derived_aligned_share: float = 0.15
    min_blocks: int = 2
    copy_verbatim: float = 0.75
    copy_aligned_share: float = 0.6
    #: share of the target aligned near-verbatim that makes a pair derived with no details at all
    verbatim_link_share: float = 0.5
    story_similarity: float = 0.5
    source_preference: float = 0.1

    def __post_init__(self):
        for name, v in self.__dict__.items():
            if name == "min_blocks":
                if v < 1:
                    raise ConfigError(f"min_blocks must be >= 1, got {v}")
            elif not 0 <= v <= 1:
                raise ConfigError(f"{name} must be in [0, 1], got {v}")


@dataclass(frozen=True)
class PairEvidence:
    """How much of `target` is explained by `source` (document indices)."""

    target: int
    source: int
    blocks: int
    aligned_share: float
    own_aligned_share: float
    detail_share: float
    verbatim: float
    mean_score: float
    cross_lingual: bool


@dataclass(frozen=True)
class Credit:
    """An agency credit found in a document: `kind` is "text" or "photo"."""

    doc: int
    agency: str
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Verdict:
    doc: int
    relation: str
    derived_from: int | None
    cluster: int | None
    evidence: PairEvidence | None
    derivation_score: float = 0.0


@dataclass(frozen=True)
class Cluster:
    index: int
    source: int | None
    members: tuple[int, ...]
    agency: str | None
    credits: tuple[Credit, ...] = field(default=())
    photo_credits: tuple[Credit, ...] = field(default=())


def _sent_texts(p, idx):
    t = p.doc.text
    return [t[p.seg.sentences[i].start:p.seg.sentences[i].end] for i in idx]


def pair_evidence(prepared, a: int, b: int, blocks: tuple[AlignedBlock, ...], doc_details, detail_weight,
                  target_is_b: bool) -> PairEvidence:
    """Evidence that the target (b if `target_is_b` else a) derives from the other document."""
    t, s = (b, a) if target_is_b else (a, b)
    pt, ps = prepared[t], prepared[s]
    tsent = pt.sentence_texts
    lens = np.array([len(x) for x in tsent], dtype=float)
    qshare = np.array([quoted_share(x) for x in tsent])
    own = lens * (1 - qshare)
    covered: set[int] = set()      # target sentences aligned (a sentence may sit in several blocks
    own_covered: set[int] = set()  # when the second pass reused it; it counts once)
    vt_num = vt_den = 0.0
    scores = []
    for blk in blocks:
        t_idx = blk.tgt if target_is_b else blk.src
        s_idx = blk.src if target_is_b else blk.tgt
        t_txt = " ".join(_sent_texts(pt, t_idx))
        s_txt = " ".join(_sent_texts(ps, s_idx))
        blk_len = sum(lens[i] for i in t_idx)
        covered.update(t_idx)
        if quoted_share(t_txt) < 0.5:
            own_covered.update(t_idx)
        vt_num += fuzz.ratio(t_txt, s_txt) / 100.0 * blk_len
        vt_den += blk_len
        scores.append(blk.score)
    aligned = float(sum(lens[i] for i in covered))
    own_aligned = float(sum(own[i] for i in own_covered))
    dt, ds = doc_details[t], doc_details[s]
    wsum = sum(max(detail_weight[k], 0.05) for k in dt)
    dshare = sum(max(detail_weight[k], 0.05) for k in dt & ds) / wsum if wsum else 0.0
    return PairEvidence(
        target=t, source=s, blocks=len(blocks),
        aligned_share=round(float(aligned / lens.sum()), 4) if lens.sum() else 0.0,
        own_aligned_share=round(float(own_aligned / own.sum()), 4) if own.sum() else 0.0,
        detail_share=round(float(dshare), 4),
        verbatim=round(float(vt_num / vt_den), 4) if vt_den else 0.0,
        mean_score=round(float(np.mean(scores)), 4) if scores else 0.0,
        cross_lingual=pt.langs.document != ps.langs.document,
    )


def is_derived(e: PairEvidence, st: ClassifySettings) -> bool:
    """Whether the evidence shows the target derives from (or shares a wire with) the source."""
    if e.blocks < st.min_blocks:
        return False
    if e.aligned_share >= st.verbatim_link_share and e.verbatim >= st.copy_verbatim:
        return True
    return e.detail_share >= st.derived_detail_share and e.aligned_share >= st.derived_aligned_share


def derivation_score(e: PairEvidence) -> float:
    """A single figure for ranking candidate parents: aligned share, details and wording."""
    return round(0.5 * e.aligned_share + 0.3 * e.detail_share + 0.2 * e.verbatim * e.aligned_share, 4)


def story_similarity(i: int, j: int, centroids: np.ndarray, covered: list[bool], doc_details, detail_weight
                     ) -> float:
    """Whether two documents are on the same story: centroid cosine where the model covers both
    languages, else the unweighted overlap of their details (names, numbers)."""
    di, dj = doc_details[i], doc_details[j]
    overlap = len(di & dj) / max(1, min(len(di), len(dj)))
    if covered[i] and covered[j]:
        return float(max(float(centroids[i] @ centroids[j]), overlap))
    return float(overlap)


def classify(prepared, evidence: list[PairEvidence], centroids: np.ndarray, doc_details, detail_weight,
             covered: list[bool], settings: ClassifySettings = ClassifySettings()
             ) -> tuple[list[Verdict], list[Cluster]]:
    n = len(prepared)
    ev = {(e.target, e.source): e for e in evidence}
    linked: dict[int, set[int]] = defaultdict(set)
    for e in evidence:
        if is_derived(e, settings):
            linked[e.target].add(e.source)
            linked[e.source].add(e.target)
    # derivation components
    comp_of: dict[int, int] = {}
    comps: list[list[int]] = []
    for start in range(n):
        if start in comp_of or not linked[start]:
            continue
        stack, members = [start], []
        comp_of[start] = len(comps)
        while stack:
            x = stack.pop()
            members.append(x)
            for y in sorted(linked[x]):
                if y not in comp_of:
                    comp_of[y] = len(comps)
                    stack.append(y)
        comps.append(sorted(members))

    credits = find_credits(prepared)
    text_credit_docs = {c.doc for c in credits if c.kind == "text"}
    verdicts: dict[int, Verdict] = {}
    sources: list[int] = []
    for members in comps:
        def explains(m: int, members=members) -> float:
            return sum(ev[(o, m)].aligned_share for o in members if o != m and (o, m) in ev)

        # A document cannot derive from a later one: when every member is dated, the source is
        # among the earliest.
        dates = {m: _date(prepared[m]) for m in members}
        pool = members
        if all(d is not None for d in dates.values()):
            first = min(dates.values())
            pool = [m for m in members if dates[m] == first]
        src = max(pool, key=lambda m: (round(explains(m), 3), m in text_credit_docs, prepared[m].story_chars, -m))
        sources.append(src)
        verdicts[src] = Verdict(src, SOURCE, None, None, None)
        for t in members:
            if t == src:
                continue
            def not_later(m: int, t=t, dates=dates) -> bool:
                return dates[m] is None or dates[t] is None or dates[m] <= dates[t]

            options = [(derivation_score(ev[(t, m)]), m) for m in members
                       if m != t and (t, m) in ev and m in linked[t] and not_later(m)]
            if not options:  # linked only through others: take the best-explaining member
                options = [(derivation_score(ev[(t, m)]), m) for m in members
                           if m != t and (t, m) in ev and not_later(m)]
            if not options:
                options = [(0.0, src)]
            # ties go to the earlier document, then to the lower index
            best_score, best = max(options, key=lambda o: (o[0], _neg(dates[o[1]]), -o[1]))
            if (t, src) in ev and derivation_score(ev[(t, src)]) >= best_score - settings.source_preference:
                best, best_score = src, derivation_score(ev[(t, src)])
            e = ev.get((t, best))
            verdicts[t] = Verdict(t, _relation(e, prepared[t], prepared[best], settings), best, None, e, best_score)

    # independents: attach to the derivation cluster they share a story with, else group by story
    story = {}
    for i in range(n):
        for j in range(i + 1, n):
            story[(i, j)] = story[(j, i)] = story_similarity(i, j, centroids, covered, doc_details, detail_weight)
    comp_members = [list(m) for m in comps]
    loose = [i for i in range(n) if i not in comp_of]
    for i in loose:
        best_c, best_s = None, settings.story_similarity
        for c, members in enumerate(comps):
            s = max(story[(i, m)] for m in members)
            if s >= best_s:
                best_c, best_s = c, s
        if best_c is not None:
            comp_members[best_c].append(i)
            comp_of[i] = best_c
            verdicts[i] = Verdict(i, INDEPENDENT, None, None, None)
    rest = [i for i in loose if i not in comp_of]
    groups: list[list[int]] = []
    for i in rest:
        for g in groups:
            if any(story[(i, j)] >= settings.story_similarity for j in g):
                g.append(i)
                break
        else:
            groups.append([i])
    for g in groups:
        if len(g) > 1:
            comp_members.append(sorted(g))
            sources.append(None)  # type: ignore[arg-type]
            for i in g:
                comp_of[i] = len(comp_members) - 1
                verdicts[i] = Verdict(i, INDEPENDENT, None, None, None)
        else:
            verdicts[g[0]] = Verdict(g[0], UNRELATED, None, None, None)

    # number clusters in order of their smallest member, for stable ids
    order = sorted(range(len(comp_members)), key=lambda c: min(comp_members[c]))
    clusters = []
    new_index = {}
    for k, c in enumerate(order):
        new_index[c] = k
        members = tuple(sorted(comp_members[c]))
        src = sources[c]
        derived = {m for m in members if verdicts[m].relation not in (INDEPENDENT,)}
        text = tuple(x for x in credits if x.doc in derived and x.kind == "text")
        photo = tuple(x for x in credits if x.doc in members and x.kind == "photo")
        counts = Counter(x.agency for x in text)
        agency = min(counts, key=lambda a: (-counts[a], a)) if counts else None
        clusters.append(Cluster(k, src, members, agency, text, photo))
    out = []
    for i in range(n):
        v = verdicts[i]
        cl = new_index.get(comp_of[i]) if i in comp_of else None
        out.append(Verdict(v.doc, v.relation, v.derived_from, cl, v.evidence, v.derivation_score))
    return out, clusters


def _relation(e: PairEvidence | None, target, source, st: ClassifySettings) -> str:
    if target.langs.document != source.langs.document:
        return TRANSLATION
    if e is not None and e.verbatim >= st.copy_verbatim and e.aligned_share >= st.copy_aligned_share:
        return COPY
    return REWRITE


def _neg(date: str | None) -> str:
    """Sort key that puts earlier dates first under max()."""
    return "".join(chr(0x10FFFF - ord(c)) for c in date) if date else ""


def _date(p) -> str | None:
    """The document's date as a sortable ISO string, or None when absent or unparseable."""
    from datetime import datetime

    raw = (p.doc.meta.get("date") or "").strip()
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


# --- agency credits ---------------------------------------------------------------------------

_AGENCIES = {
    "AFP": r"AFP|Agence France[- ]Presse", "Reuters": r"Reuters|REUTERS", "AP": r"AP|Associated Press",
    "DPA": r"dpa|DPA", "EFE": r"EFE", "ANSA": r"ANSA", "Xinhua": r"Xinhua", "Anadolu": r"Anadolu( Agency)?",
    "Bloomberg": r"Bloomberg", "UPI": r"UPI", "Kyodo": r"Kyodo", "TASS": r"TASS", "PA": r"PA Media",
}


def _ag(use: int) -> str:
    return "|".join(f"(?P<a{i}_{use}>{p})" for i, p in enumerate(_AGENCIES.values()))


_AG = _ag(0)
_TEXT_CREDIT = re.compile(
    rf"(\((?:{_ag(1)})\)"                                                     # (AFP) / BAGHDAD (AFP) -
    rf"|\b(?:told|according to|quoted by|reported by|cited by|said to|interviewed by|speaking to|"
    rf"a déclaré à|a dit à|selon|d'après|dijo a|según|sagte der|laut)\s+(?:the\s+|l'|la\s+|der\s+|la agencia\s+)?"
    rf"(?:{_ag(2)})\b"
    rf"|(?:^|\n)[^\n]{{0,40}}[-–—]\s*(?:{_ag(3)})\s*$"                          # trailing "- AFP"
    rf"|©\s*(?:{_ag(4)})\b"
    rf"|\b(?:with|additional reporting by|avec)\s+(?:{_ag(5)})\b"
    rf"|\b(?:{_ag(6)})\s+(?:reported|said|learned|contributed))", re.MULTILINE)


def _agency_of(m: re.Match) -> str:
    names = list(_AGENCIES)
    for key, val in m.groupdict().items():
        if val:
            return names[int(key[1:].split("_")[0])]
    return "unknown"


def find_credits(prepared) -> list[Credit]:
    """Agency credits: text credits in story text, photo credits in captions."""
    from .clean import photo_credit

    out: list[Credit] = []
    for di, p in enumerate(prepared):
        text = p.doc.text
        for blk in p.seg.clean.blocks:
            s = text[blk.start:blk.end]
            if blk.excluded == "photo caption or credit" or (blk.excluded and photo_credit(s)):
                for m in re.finditer(rf"(?:{_AG})", s):
                    if _is_word(s, m):
                        out.append(Credit(di, _agency_of(m), "photo", blk.start + m.start(), blk.start + m.end()))
                continue
            if blk.excluded:
                continue
            for m in _TEXT_CREDIT.finditer(s):
                if not any(m.groupdict().values()):
                    continue
                out.append(Credit(di, _agency_of(m), "text", blk.start + m.start(), blk.start + m.end()))
    return out


def _is_word(s: str, m: re.Match) -> bool:
    a, b = m.start(), m.end()
    return (a == 0 or not s[a - 1].isalnum()) and (b == len(s) or not s[b].isalnum())
