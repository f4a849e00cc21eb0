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
    story_similarity: float = 0.6
    story_min_details: int = 4
    story_details_alone: int = 8
    #: details (names, numbers) a pair must share for the detail path to show derivation
    min_shared_details: int = 3
    translation_aligned_share: float = 0.6
    translation_detail_share: float = 0.2
    source_preference: float = 0.1
    #: a parent counts only within this much of the target's best derivation score
    parent_margin: float = 0.15

    def __post_init__(self):
        for name, v in self.__dict__.items():
            if name in ("min_blocks", "story_min_details", "story_details_alone", "min_shared_details"):
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
    shared_details: int = 0


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
    dshare = detail_share(dt, ds, detail_weight) if detail_weight is not None else 0.0
    return PairEvidence(
        target=t, source=s, blocks=len(blocks),
        aligned_share=round(float(aligned / lens.sum()), 4) if lens.sum() else 0.0,
        own_aligned_share=round(float(own_aligned / own.sum()), 4) if own.sum() else 0.0,
        detail_share=round(float(dshare), 4),
        verbatim=round(float(vt_num / vt_den), 4) if vt_den else 0.0,
        mean_score=round(float(np.mean(scores)), 4) if scores else 0.0,
        cross_lingual=pt.langs.document != ps.langs.document,
        shared_details=len(dt & ds),
    )


def detail_share(target_details: frozenset[str], source_details: frozenset[str], weight: dict[str, float]) -> float:
    """Rarity-weighted share of the target's details (names, numbers) that the source has too;
    `weight` is the story's rarity of each detail (floor 0.05)."""
    wsum = sum(max(weight.get(k, 0.05), 0.05) for k in target_details)
    if not wsum:
        return 0.0
    shared = sum(max(weight.get(k, 0.05), 0.05) for k in target_details & source_details)
    return round(float(shared / wsum), 4)


def is_derived(e: PairEvidence, st: ClassifySettings) -> bool:
    """Whether the evidence shows the target derives from (or shares a wire with) the source."""
    if e.blocks < st.min_blocks:
        return False
    if e.aligned_share >= st.verbatim_link_share and e.verbatim >= st.copy_verbatim:
        return True
    # across languages, most of the text aligned in order plus shared names/numbers is a
    # translation even where few details survive (a partial translation shares fewer)
    if e.cross_lingual and e.aligned_share >= st.translation_aligned_share and \
            e.shared_details >= st.min_shared_details and e.detail_share >= st.translation_detail_share:
        return True
    return (e.detail_share >= st.derived_detail_share and e.aligned_share >= st.derived_aligned_share
            and e.shared_details >= st.min_shared_details)


def derivation_score(e: PairEvidence) -> float:
    """A single figure for ranking candidate parents: aligned share, details and wording."""
    return round(0.5 * e.aligned_share + 0.3 * e.detail_share + 0.2 * e.verbatim * e.aligned_share, 4)


def same_story_matrix(centroids: np.ndarray, covered: list[bool], doc_details, settings: ClassifySettings
                      ) -> np.ndarray:
    """Which documents report the same story: (n, n) bool.

    Two signals must agree where the model covers both languages: centroid cosine of their
    sentence embeddings >= `story_similarity` *and* at least `story_min_details` shared details
    (names, numbers). Generic everyday texts can be close in embedding space (0.8 between
    unrelated Tatoeba sets) but share no details; articles on one news story share a dozen and
    more. Across languages, or with no model coverage, `story_details_alone` shared details are
    needed."""
    n = len(covered)
    same = np.zeros((n, n), dtype=bool)
    for i in range(n):
        for j in range(i + 1, n):
            shared = len(doc_details[i] & doc_details[j])
            ok = shared >= settings.story_details_alone
            if not ok and covered[i] and covered[j]:
                ok = shared >= settings.story_min_details and float(centroids[i] @ centroids[j]) >= \
                    settings.story_similarity
            same[i, j] = same[j, i] = ok
    return same


def classify(prepared, evidence: list[PairEvidence], same_story: np.ndarray, covered: list[bool],
             settings: ClassifySettings = ClassifySettings(), credits: list[Credit] | None = None
             ) -> tuple[list[Verdict], list[Cluster]]:
    """Relations and story clusters from pair evidence (see the module docstring).

    1. A target links to a candidate parent when the evidence shows derivation and that parent
       is competitive with the target's best explanation (within `parent_margin` of its
       derivation score): shared background with a third article is no link.
    2. Linked documents form derivation trees; each tree's root is the member that explains the
       others best (among the earliest, when all are dated).
    3. Trees and loose documents on the same story form a story cluster. The main tree (agency
       text credit, then size) gives the cluster its `source`; roots of other trees in the story
       are `independent`, and their own derivatives point at them.
    """
    n = len(prepared)
    ev = {(e.target, e.source): e for e in evidence}
    dates = {i: _date(prepared[i]) for i in range(n)}

    def possible_parent(e: PairEvidence) -> bool:  # a document cannot derive from a later one
        ds, dt = dates[e.source], dates[e.target]
        return ds is None or dt is None or ds <= dt

    best_score: dict[int, float] = defaultdict(float)
    for e in evidence:
        if is_derived(e, settings) and possible_parent(e):
            best_score[e.target] = max(best_score[e.target], derivation_score(e))
    linked: dict[int, set[int]] = defaultdict(set)
    for e in evidence:
        if is_derived(e, settings) and possible_parent(e) and \
                derivation_score(e) >= best_score[e.target] - settings.parent_margin:
            linked[e.target].add(e.source)
            linked[e.source].add(e.target)
    comps = _components(n, linked)
    comp_of = {m: c for c, members in enumerate(comps) for m in members}

    credits = find_credits(prepared) if credits is None else credits
    text_credit_docs = {c.doc for c in credits if c.kind == "text"}
    parent: dict[int, int | None] = {}
    scores: dict[int, float] = {}
    roots = []
    for members in comps:
        root = _root(members, prepared, ev, dates, text_credit_docs)
        roots.append(root)
        parent[root] = None
        for t in members:
            if t != root:
                parent[t], scores[t] = _parent(t, root, members, ev, linked, dates, settings)

    # story clusters: derivation trees and loose documents joined by story similarity
    units = [list(m) for m in comps] + [[i] for i in range(n) if i not in comp_of]
    groups = _group_units(units, same_story)

    verdicts: dict[int, Verdict] = {}
    clusters_raw = []
    for group in groups:
        members = sorted(m for u in group for m in u)
        trees = [u for u in group if len(u) > 1]
        if len(members) == 1:
            verdicts[members[0]] = Verdict(members[0], UNRELATED, None, None, None)
            continue
        main = max(trees, key=lambda u: (any(m in text_credit_docs for m in u), len(u),
                                         -min(u))) if trees else None
        main_root = roots[comp_of[main[0]]] if main else None
        for m in members:
            if m in comp_of and parent.get(m) is not None:
                p = parent[m]
                e = ev.get((m, p))
                verdicts[m] = Verdict(m, _relation(e, prepared[m], prepared[p], settings), p, None, e, scores[m])
            elif m == main_root:
                verdicts[m] = Verdict(m, SOURCE, None, None, None)
            else:
                verdicts[m] = Verdict(m, INDEPENDENT, None, None, None)
        clusters_raw.append((members, main_root, set(main) if main else set()))

    clusters_raw.sort(key=lambda c: min(c[0]))
    clusters = []
    cluster_of = {}
    for k, (members, src, main) in enumerate(clusters_raw):
        for m in members:
            cluster_of[m] = k
        text = tuple(x for x in credits if x.doc in main and x.kind == "text")
        photo = tuple(x for x in credits if x.doc in members and x.kind == "photo")
        counts = Counter(x.agency for x in text)
        agency = min(counts, key=lambda a: (-counts[a], a)) if counts else None
        clusters.append(Cluster(k, src, tuple(members), agency, text, photo))
    out = []
    for i in range(n):
        v = verdicts[i]
        out.append(Verdict(v.doc, v.relation, v.derived_from, cluster_of.get(i), v.evidence, v.derivation_score))
    return out, clusters


def _components(n: int, linked: dict[int, set[int]]) -> list[list[int]]:
    seen: set[int] = set()
    comps = []
    for start in range(n):
        if start in seen or not linked[start]:
            continue
        stack, members = [start], []
        seen.add(start)
        while stack:
            x = stack.pop()
            members.append(x)
            for y in sorted(linked[x]):
                if y not in seen:
                    seen.add(y)
                    stack.append(y)
        comps.append(sorted(members))
    return comps


def _root(members, prepared, ev, dates, text_credit_docs) -> int:
    """The member that explains the others best; among the earliest when every member is dated."""
    def explains(m: int) -> float:
        return sum(ev[(o, m)].aligned_share for o in members if o != m and (o, m) in ev)

    pool = members
    if all(dates[m] is not None for m in members):
        first = min(dates[m] for m in members)
        pool = [m for m in members if dates[m] == first]
    # copies of a wire share its language: the root comes from the tree's majority language (a
    # translation and its original explain each other equally well)
    langs = Counter(prepared[m].langs.document for m in members)
    top = max(langs.values())
    majority = {lg for lg, c in langs.items() if c == top}
    if len(majority) == 1 and any(prepared[m].langs.document in majority for m in pool):
        pool = [m for m in pool if prepared[m].langs.document in majority]
    return max(pool, key=lambda m: (round(explains(m), 3), m in text_credit_docs, prepared[m].story_chars, -m))


def _parent(t, root, members, ev, linked, dates, settings) -> tuple[int, float]:
    """The member `t` derives from: its best-scoring linked member that is not later-dated, with a
    preference for the tree's root when that is nearly as good (a copy of a copy of the wire is
    still attributed to the fullest carrier unless the intermediate explains it clearly better)."""
    def not_later(m: int) -> bool:
        return dates[m] is None or dates[t] is None or dates[m] <= dates[t]

    options = [(derivation_score(ev[(t, m)]), m) for m in members
               if m != t and (t, m) in ev and m in linked[t] and not_later(m)]
    if not options:
        options = [(derivation_score(ev[(t, m)]), m) for m in members if m != t and (t, m) in ev and not_later(m)]
    if not options:
        return root, 0.0
    best_score, best = max(options, key=lambda o: (o[0], _neg(dates[o[1]]), -o[1]))
    if (t, root) in ev and root in linked[t] and not_later(root) and \
            derivation_score(ev[(t, root)]) >= best_score - settings.source_preference:
        return root, derivation_score(ev[(t, root)])
    return best, best_score


def _group_units(units: list[list[int]], same: np.ndarray) -> list[list[list[int]]]:
    """Join units (trees and loose documents) whose members share a story (single linkage)."""
    parent = list(range(len(units)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a in range(len(units)):
        for b in range(a + 1, len(units)):
            if any(same[i, j] for i in units[a] for j in units[b]):
                parent[find(b)] = find(a)
    groups: dict[int, list[list[int]]] = defaultdict(list)
    for k, u in enumerate(units):
        groups[find(k)].append(u)
    return [groups[r] for r in sorted(groups, key=lambda r: min(min(u) for u in groups[r]))]


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


# --- translation signals in same-language text -------------------------------------------------

@dataclass(frozen=True)
class Signal:
    """A trace of translation in a document's own language: `kind`, and the span that shows it."""

    kind: str
    start: int
    end: int


# French typography keeps a (non-breaking) space inside quotation marks; machine translation
# carries it over: "\u00a0 significant progress \u00a0".
_SPACED_QUOTE = re.compile(r"[\"“«][\u00a0\u202f][ \u00a0\u202f]*\w|\w[ \u00a0\u202f]*[\u00a0\u202f][\"”»]")
# Page labels that read as word-for-word translations of French/Spanish/German labels.
_CALQUES = {
    "publicity": "Publicité (advertising)", "text by": "Texte par", "read also": "Lire aussi",
    "to read also": "À lire aussi", "on the same subject": "Sur le même sujet",
    "receive all": "Recevez toute", "publicidad": "Publicidad",
}
_CALQUE_RE = re.compile(r"^(" + "|".join(re.escape(k) for k in _CALQUES) + r")\b", re.IGNORECASE)


def translation_signals(p) -> list[Signal]:
    """Traces that a text was translated (typically machine-translated from French), found in its
    own language: spaced quotation marks, calqued page labels. Reported as signals only: one kind
    alone proves little, and none of them changes a relation."""
    text = p.doc.text
    out = []
    for m in _SPACED_QUOTE.finditer(text):
        out.append(Signal("spaced quotation marks (French typography)", m.start(), m.end()))
    for b in p.seg.clean.blocks:
        s = text[b.start:b.end]
        m = _CALQUE_RE.match(s)
        if m:
            out.append(Signal(f"calqued label ('{m.group(1)}' reads as {_CALQUES[m.group(1).lower()]})",
                              b.start, b.start + m.end()))
    return out


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
    return [c for di, p in enumerate(prepared) for c in doc_credits(p, di)]


def doc_credits(p, di: int = 0) -> list[Credit]:
    """The agency credits of one document (`Credit.doc` = `di`)."""
    from .clean import photo_credit

    out: list[Credit] = []
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
