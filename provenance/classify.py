"""Stage: classify. Evidence per document pair, relations, story clusters (credits: `attribution`).

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

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

import numpy as np

from .attribution import Credit, find_credits
from .direction import REPLICA, SIBLINGS, Direction, Lean, judge, parse_date
from .errors import check_range
from .evidence import PairEvidence
from .graph import UnionFind
from .lineage import Lineage, acyclic, split

SOURCE, COPY, REWRITE, TRANSLATION, INDEPENDENT, UNRELATED = (
    "source", "copy", "rewrite", "translation", "independent", "unrelated")
RELATIONS = (SOURCE, COPY, REWRITE, TRANSLATION, INDEPENDENT, UNRELATED)


@dataclass(frozen=True)
class ClassifySettings:
    """Thresholds of the verdicts (shares are of the target's story text; see `is_derived`)."""

    #: the detail path to derivation: rarity-weighted share of the target's names and numbers
    #: its source carries ...
    derived_detail_share: float = 0.33
    #: ... with at least this share of the target aligned
    derived_aligned_share: float = 0.15
    #: aligned blocks below which no pair is derived
    min_blocks: int = 2
    #: a derivative is a `copy` when its aligned text is this similar to the source's (1 = same) ...
    copy_verbatim: float = 0.75
    #: ... over at least this share of it (else a `rewrite`)
    copy_aligned_share: float = 0.6
    #: share of the target aligned near-verbatim that makes a pair derived with no details at all
    verbatim_link_share: float = 0.5
    #: centroid cosine of two documents' sentence vectors for one story (with shared details) ...
    story_similarity: float = 0.6
    #: ... and the details they must share besides
    story_min_details: int = 4
    #: shared details that make one story alone (across languages, or without model coverage)
    story_details_alone: int = 8
    #: details (names, numbers) a pair must share for the detail path to show derivation
    min_shared_details: int = 3
    #: across languages: share of the target aligned in order that makes a translation ...
    translation_aligned_share: float = 0.6
    #: ... with at least this detail share
    translation_detail_share: float = 0.2
    #: across languages: share of the target aligned in order that makes a translation with no
    #: details at all (names and numbers are inflected, transliterated or dropped in translation),
    #: over at least `translation_min_blocks` aligned blocks, when the two are each other's best
    #: aligned match in another language. Unrelated articles in two languages align under a fifth
    #: of their text (newstest2014: at most 0.19, true pairs 0.4 to 1.0); articles on one story
    #: align more, which the mutual-best condition leaves to the other paths.
    translation_alignment_share: float = 0.4
    translation_min_blocks: int = 3
    #: ... and at least this many shared details: a news text and its translation keep a name or a
    #: number; generic sentences (Tatoeba pseudo-articles) in two languages align by chance
    translation_min_details: int = 1
    #: the tree's root is preferred as a parent when within this of the best derivation score
    source_preference: float = 0.1
    #: a parent counts only within this much of the target's best derivation score
    parent_margin: float = 0.15

    def __post_init__(self):
        counts = ("min_blocks", "story_min_details", "story_details_alone", "min_shared_details",
                  "translation_min_blocks", "translation_min_details")
        check_range(self, counts, low=1)
        check_range(self, [n for n in self.__dict__ if n not in counts], 0, 1)


@dataclass(frozen=True)
class Verdict:
    doc: int
    relation: str
    derived_from: int | None
    cluster: int | None
    evidence: PairEvidence | None
    derivation_score: float = 0.0
    #: index of the document's lineage in the scan (None: in none)
    lineage: int | None = None
    #: how sure the arrow to `derived_from` is (None when not derived)
    direction: Direction | None = None


@dataclass(frozen=True)
class Cluster:
    index: int
    source: int | None
    members: tuple[int, ...]
    agency: str | None
    credits: tuple[Credit, ...] = field(default=())
    photo_credits: tuple[Credit, ...] = field(default=())
    lineages: tuple[Lineage, ...] = field(default=())


def is_derived(e: PairEvidence, st: ClassifySettings, mutual: frozenset[tuple[int, int]] = frozenset()) -> bool:
    """Whether the evidence shows the target derives from (or shares a wire with) the source.
    `mutual`: (target, source) pairs in two languages that are each other's best aligned match
    (`mutual_best_across_languages`)."""
    if e.blocks < st.min_blocks:
        return False
    # near-verbatim text links a pair only when some of it is the target's own prose: shared
    # quotations alone come from a common primary source
    if e.aligned_share >= st.verbatim_link_share and e.verbatim >= st.copy_verbatim and \
            e.own_aligned_share >= st.derived_aligned_share:
        return True
    # across languages, most of the text aligned in order plus shared names/numbers is a
    # translation even where few details survive (a partial translation shares fewer)
    if e.cross_lingual and e.aligned_share >= st.translation_aligned_share and \
            e.shared_details >= st.min_shared_details and e.detail_share >= st.translation_detail_share:
        return True
    if e.cross_lingual and (e.target, e.source) in mutual and e.aligned_share >= st.translation_alignment_share \
            and e.blocks >= st.translation_min_blocks and e.shared_details >= st.translation_min_details:
        return True
    return (e.detail_share >= st.derived_detail_share and e.aligned_share >= st.derived_aligned_share
            and e.shared_details >= st.min_shared_details)


def mutual_best_across_languages(evidence: list[PairEvidence]) -> frozenset[tuple[int, int]]:
    """(target, source) pairs in two languages where each is the other's best match in another
    language by aligned share (ties by index): the one translation among same-story articles."""
    best: dict[int, tuple[float, int]] = {}
    for e in evidence:
        if e.cross_lingual and e.blocks:
            cand = (e.aligned_share, -e.source)
            if e.target not in best or cand > best[e.target]:
                best[e.target] = cand
    top = {t: -b[1] for t, b in best.items()}
    return frozenset((t, s) for t, s in top.items() if top.get(s) == t)


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
    shared = shared_counts(doc_details)
    same = shared >= settings.story_details_alone
    np.fill_diagonal(same, False)
    both = np.asarray(covered, bool)
    ii, jj = np.nonzero(np.triu(~same & (shared >= settings.story_min_details) & both[:, None] & both[None, :], 1))
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):  # the cosine of these pairs only, as before
        same[i, j] = same[j, i] = float(centroids[i] @ centroids[j]) >= settings.story_similarity
    return same


def shared_counts(doc_details) -> np.ndarray:
    """(n, n) int: how many details (names, numbers) each two documents share, from one product of
    their document x detail incidence (a warm re-scan of 117 articles intersected 6,786 pairs of
    sets in Python, ~4 ms)."""
    from scipy import sparse

    index: dict[str, int] = {}
    rows = [[index.setdefault(d, len(index)) for d in details] for details in doc_details]
    cols = np.fromiter((c for row in rows for c in row), np.int64, sum(map(len, rows)))
    owner = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
    inc = sparse.csr_matrix((np.ones(len(cols), np.int32), (owner, cols)), shape=(len(rows), len(index)))
    return (inc @ inc.T).toarray()


def classify(prepared, evidence: list[PairEvidence], same_story: np.ndarray, covered: list[bool],
             settings: ClassifySettings = ClassifySettings(), credits: list[Credit] | None = None,
             leans: dict[tuple[int, int], Lean] | None = None, replicas: dict[int, int] | None = None
             ) -> tuple[list[Verdict], list[Cluster]]:
    """Relations, lineages and story clusters from pair evidence (see the module docstring).

    1. A target links to a candidate parent when the evidence shows derivation and that parent
       is competitive with the target's best explanation (within `parent_margin` of its
       derivation score): shared background with a third article is no link. Replicas
       (`replicas`: carrier -> representative, `lineage.replica_groups`) take part through their
       representative only, and hang from it.
    2. Linked documents form derivation trees; each tree's root is the member that explains the
       others best (among the earliest, when all are dated; `leans`, the text cues of
       `direction.pair_leans`, break near ties). A rewrite or translation that others derive from
       starts a lineage of its own (`lineage.split`); every lineage root is a `source`.
    3. Trees and loose documents on the same story form a story cluster. The main lineage (not
       derived from another, size, then agency text credit) gives the cluster its `source`; loose
       documents are `independent`.
    """
    n = len(prepared)
    replicas = replicas or {}
    leans = leans or {}
    rep_evidence = [e for e in evidence if e.target not in replicas and e.source not in replicas]
    ev = {(e.target, e.source): e for e in evidence}
    dates = {i: parse_date(prepared[i].doc.meta.get("date")) for i in range(n)}
    linked = _links(rep_evidence, dates, settings)
    for m, r in replicas.items():
        linked[m].add(r)
        linked[r].add(m)
    comps = _components(n, linked)
    comp_of = {m: c for c, members in enumerate(comps) for m in members}
    credits = find_credits(prepared) if credits is None else credits
    text_agencies: dict[int, set[str]] = defaultdict(set)
    for c in credits:
        if c.kind == "text":
            text_agencies[c.doc].add(c.agency)
    roots = [_root([m for m in members if m not in replicas], prepared, ev, dates, text_agencies, leans, linked)
             for members in comps]
    parent: dict[int, int | None] = {}
    scores: dict[int, float] = {}
    for members, root in zip(comps, roots, strict=True):
        here: dict[int, int | None] = {root: None}
        for t in members:
            if t in replicas:
                pair = (t, replicas[t])
                here[t], scores[t] = replicas[t], derivation_score(ev[pair]) if pair in ev else 1.0
            elif t != root:
                here[t], scores[t] = _parent(t, root, [m for m in members if m not in replicas], ev, linked, dates,
                                             settings)
        parent.update(acyclic(here, root))
    for t, r in replicas.items():  # a carrier of a derived text derives from that text's parent
        if parent.get(r) is not None:
            parent[t] = parent[r]
    relation = {t: COPY if replicas.get(t) == p else _relation(ev.get((t, p)), prepared[t], prepared[p], settings)
                for t, p in parent.items() if p is not None}
    trees = [split(root, members, parent, lambda m: m not in replicas and relation.get(m) in (REWRITE, TRANSLATION))
             for members, root in zip(comps, roots, strict=True)]
    drawn = _drawn_from(roots, comps, ev, dates, settings, leans)
    parent.update(drawn)
    lineage_roots = {r for tree in trees for r, _ in tree[1:]} | set(drawn)
    return _clustered(n, prepared, comps, comp_of, trees, parent, relation, scores, lineage_roots, ev,
                      same_story, credits, (dates, leans, replicas, [q.doc.id for q in prepared]))


def _clustered(n, prepared, comps, comp_of, trees, parent, relation, scores, lineage_roots, ev, same_story,
               credits, context) -> tuple[list[Verdict], list[Cluster]]:
    """Verdicts and numbered clusters once the trees and their lineages are known."""
    units = [list(m) for m in comps] + [[i] for i in range(n) if i not in comp_of]
    tree_of = {min(members): tree for members, tree in zip(comps, trees, strict=True)}
    verdicts: dict[int, Verdict] = {}
    clusters_raw = []
    text_credit_docs = {c.doc for c in credits if c.kind == "text"}
    for group in _group_units(units, same_story):
        members = sorted(m for u in group for m in u)
        if len(members) == 1:
            verdicts[members[0]] = Verdict(members[0], UNRELATED, None, None, None)
            continue
        lineages = [(r, ms) for u in group if len(u) > 1 for r, ms in tree_of[min(u)]]
        for m in members:
            p = parent.get(m)
            if p is not None and m not in lineage_roots:
                verdicts[m] = Verdict(m, relation[m], p, None, ev.get((m, p)), scores.get(m, 0.0))
            else:
                root_of_lineage = any(r == m for r, _ in lineages)
                verdicts[m] = Verdict(m, SOURCE if root_of_lineage else INDEPENDENT, None, None, None)
        # the main lineage: one of its own (not drawn from another), the most carriers, then an
        # agency text credit (a piece quoting someone who "told AFP" is no wire carrier by that alone)
        main = max(lineages, key=lambda rm: (rm[0] not in lineage_roots, len(rm[1]),
                                             any(x in text_credit_docs for x in rm[1]), -rm[0])) if lineages else None
        clusters_raw.append((members, main[0] if main else None, set(main[1]) if main else set(), lineages))
    return _numbered(n, verdicts, clusters_raw, credits, parent, context)


def _links(evidence: list[PairEvidence], dates: dict, settings: ClassifySettings) -> dict[int, set[int]]:
    """Which documents derive from which (both ways): a target links to a parent when the evidence
    shows derivation, the parent is not later, and it is within `parent_margin` of the target's
    best explanation."""
    def possible_parent(e: PairEvidence) -> bool:  # a document cannot derive from a later one
        ds, dt = dates[e.source], dates[e.target]
        return ds is None or dt is None or ds <= dt

    mutual = mutual_best_across_languages(evidence)
    best_score: dict[int, float] = defaultdict(float)
    for e in evidence:
        if is_derived(e, settings, mutual) and possible_parent(e):
            best_score[e.target] = max(best_score[e.target], derivation_score(e))
    linked: dict[int, set[int]] = defaultdict(set)
    for e in evidence:
        if is_derived(e, settings, mutual) and possible_parent(e) and \
                derivation_score(e) >= best_score[e.target] - settings.parent_margin:
            linked[e.target].add(e.source)
            linked[e.source].add(e.target)
    return linked


def _numbered(n: int, verdicts: dict[int, Verdict], clusters_raw: list, credits: list[Credit], parent: dict,
              context) -> tuple[list[Verdict], list[Cluster]]:
    """Clusters numbered by their first member, with their credits and lineages (numbered across
    the scan by cluster, then root); verdicts with their cluster, lineage and direction."""
    dates, leans, replicas, ids = context
    clusters_raw.sort(key=lambda c: min(c[0]))
    clusters = []
    cluster_of: dict[int, int] = {}
    lineage_of: dict[int, int] = {}
    raw_lineages = []
    for k, (members, src, _main, lineages) in enumerate(clusters_raw):
        for m in members:
            cluster_of[m] = k
        for root, ms in sorted(lineages, key=lambda rm: (rm[0] != src, min(rm[1]))):
            for m in ms:
                lineage_of[m] = len(raw_lineages)
            raw_lineages.append((k, root, ms))
    all_lineages: dict[int, list[Lineage]] = {}
    for idx, (k, root, ms) in enumerate(raw_lineages):
        via = parent.get(root)
        text = tuple(x for x in credits if x.doc in ms and x.kind == "text")
        all_lineages.setdefault(k, []).append(Lineage(
            idx, root, tuple(ms), lineage_of.get(via) if via is not None else None, via, _agency(text), text,
            judge(dates[root], dates[via], leans.get((root, via))) if via is not None else None))
    for k, (members, src, main, _) in enumerate(clusters_raw):
        text = tuple(x for x in credits if x.doc in main and x.kind == "text")
        photo = tuple(x for x in credits if x.doc in members and x.kind == "photo")
        clusters.append(Cluster(k, src, tuple(members), _agency(text), text, photo, tuple(all_lineages.get(k, ()))))
    lineage_by_index = {x.index: x for ls in all_lineages.values() for x in ls}
    out = []
    for i in range(n):
        v = replace(verdicts[i], cluster=cluster_of.get(i), lineage=lineage_of.get(i))
        if v.derived_from is not None:
            v = replace(v, direction=_direction(v, lineage_by_index[v.lineage], dates, leans, replicas,
                                                       ids[lineage_by_index[v.lineage].root]))
        out.append(v)
    return out, clusters


def _agency(text_credits) -> str | None:
    counts = Counter(x.agency for x in text_credits)
    return min(counts, key=lambda a: (-counts[a], a)) if counts else None


def _direction(v: Verdict, lineage: Lineage, dates, leans, replicas, root_id: str) -> Direction:
    """The direction of `v`'s derivation: a replica of its parent's text, a sibling carrier of
    its lineage's wire (a verbatim copy with no dates to order them), or derived (`judge`)."""
    t, p = v.doc, v.derived_from
    found = judge(dates[t], dates[p], leans.get((t, p)))
    if replicas.get(t) == p:
        return Direction(found.established and dates[t] is not None, found.confidence if dates[t] else 0.5,
                         ("the same text as its parent" + ("; " + found.basis[0] if dates[t] else ""),), REPLICA)
    dated = dates[t] is not None and dates[p] is not None and dates[t] != dates[p]
    if v.relation == COPY and lineage.agency and lineage.derived_from is None and not dated:
        return Direction(False, 0.5, (f"both carry the {lineage.agency} wire; fullest carrier: {root_id}",),
                         SIBLINGS)
    return found


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


def _drawn_from(roots, comps, ev, dates, settings, leans) -> dict[int, int]:
    """Tree root -> the member of another tree it derives from, where the evidence shows it (a
    rewrite whose own copies explain it better than its source, so that it was not linked to the
    source directly): that tree's lineage draws on the other's. Two roots that explain each other
    are ordered by the text cues (`leans`); no chain of lineages comes back to itself."""
    tree_of = {m: k for k, members in enumerate(comps) for m in members}
    wanted = set(roots)
    of_root: dict[int, list] = {}  # each root's evidence as a target, in `ev`'s order
    for e in ev.values():
        if e.target in wanted:
            of_root.setdefault(e.target, []).append(e)
    options = []
    for k, root in enumerate(roots):
        found = [(derivation_score(e), e.source) for e in of_root.get(root, ())
                 if e.source in tree_of and tree_of[e.source] != k and is_derived(e, settings)
                 and (dates[root] is None or dates[e.source] is None or dates[e.source] <= dates[root])]
        if found:
            via = max(found)[1]
            options.append((leans[(root, via)].score if (root, via) in leans else 0.0, -k, root, via))
    out: dict[int, int] = {}
    for _, _, root, via in sorted(options, reverse=True):
        seen, x = {tree_of[root]}, via
        while x is not None and tree_of.get(x) not in seen:
            seen.add(tree_of[x])
            x = out.get(roots[tree_of[x]])
        if x is None:
            out[root] = via
    return out


def _root(members, prepared, ev, dates, text_agencies, leans, linked) -> int:
    """The member that explains the others best; among the earliest when every member is dated.
    Text cues (`leans`: (target, source) -> `direction.Lean`) add up to half a document's worth
    of explanation, so they settle near ties (an edited copy and its original explain each other
    about equally) and leave a fuller carrier of a wire in place. Between texts that explain each
    other equally (a translation and its original), the one whose agency credits the others repeat
    comes first: a French edition crediting "(AFP)" and "avec dpa" carries the dpa piece, not the
    other way round."""
    def acknowledged(m: int) -> int:
        own = text_agencies.get(m)
        return sum(1 for o in members if o != m and own and own <= text_agencies.get(o, set()))

    def explains(m: int) -> float:
        # averaged over the members compared with `m`, per other member: how many pairs retrieval
        # happened to compare (a carrier with page furniture on top is another's near neighbour less
        # often) must not decide which text the others derive from
        shares = [ev[(o, m)].aligned_share for o in members if o != m and (o, m) in ev]
        cues = [math.tanh(leans[(o, m)].score) for o in members if o in linked[m] and (o, m) in leans]
        own = sum(shares) / len(shares) if shares else 0.0
        cue = sum(cues) / len(cues) if cues else 0.0
        return (len(members) - 1) * (own + 0.5 * cue)

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
    ranked = sorted(pool, key=lambda m: (round(explains(m), 3), acknowledged(m), m in text_agencies,
                                         prepared[m].story_chars, -m), reverse=True)
    # a near-best candidate that the text cues clearly show copied another near-best one is no
    # root: among many copies, one of them can explain the others about as well as the original
    near = _head_to_head([m for m in ranked if explains(m) >= 0.9 * explains(ranked[0])], members, ev, leans, linked)
    for m in near:
        if not any(leans[(m, c)].score > 1.0 for c in near if c != m and (m, c) in leans):
            return m
    return ranked[0]


#: near-best root candidates compared head to head (the best-ranked ones)
HEAD_TO_HEAD = 16


def _head_to_head(near: list[int], members, ev, leans, linked) -> list[int]:
    """`near` reordered by head-to-head wins (ties keep their order): two candidates are compared
    on the members that were compared with both, and on each other. Averages over all comparisons
    can mislead when retrieval compared one candidate mostly with easy members (a wire's full
    carrier with nine of a trimmed carrier's copies, a rewrite of it with twenty-four)."""
    near, rest = near[:HEAD_TO_HEAD], near[HEAD_TO_HEAD:]  # bounded: pairs of candidates times members

    def value(o: int, m: int) -> float | None:
        if (o, m) not in ev:
            return None
        cue = math.tanh(leans[(o, m)].score) if o in linked[m] and (o, m) in leans else 0.0
        return ev[(o, m)].aligned_share + 0.5 * cue

    wins = Counter()
    for i, m in enumerate(near):
        for c in near[i + 1:]:
            diff = 0.0
            for o in members:
                vm, vc = value(o, m), value(o, c)
                if o not in (m, c) and vm is not None and vc is not None:
                    diff += vm - vc
            direct_m, direct_c = value(c, m), value(m, c)
            if direct_m is not None and direct_c is not None:
                diff += direct_m - direct_c
            if abs(diff) > 1e-9:
                wins[m if diff > 0 else c] += 1
    return sorted(near, key=lambda m: -wins[m]) + rest


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
    """Join units (trees and loose documents; disjoint) whose members share a story (single
    linkage): units a < b join where `same[i, j]` for some i of a and j of b."""
    sets = UnionFind(len(units))
    unit_of = np.full(same.shape[0], -1, np.int64)
    for k, u in enumerate(units):
        unit_of[u] = k
    ii, jj = np.nonzero(same)
    ua, ub = unit_of[ii], unit_of[jj]
    joined = (ua >= 0) & (ua < ub)  # a document of a unit before the other's shares its story
    for a, b in set(zip(ua[joined].tolist(), ub[joined].tolist(), strict=True)):
        sets.union(a, b)
    groups = [[units[k] for k in g] for g in sets.groups()]
    return sorted(groups, key=lambda g: min(min(u) for u in g))


def _relation(e: PairEvidence | None, target, source, st: ClassifySettings) -> str:
    if target.langs.document != source.langs.document:
        return TRANSLATION
    if e is not None and e.verbatim >= st.copy_verbatim and e.aligned_share >= st.copy_aligned_share:
        return COPY
    return REWRITE


def _neg(date: str | None) -> str:
    """Sort key that puts earlier dates first under max()."""
    return "".join(chr(0x10FFFF - ord(c)) for c in date) if date else ""
