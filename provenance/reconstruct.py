"""Stage: reconstruct the wire. Within a story, the source and its direct copies are carriers of
one wire dispatch; where each cut something else, together they give back more of the wire than
any one of them."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from .classify import COPY, Cluster, Verdict
from .compare import DocComparison
from .graph import UnionFind
from .hashing import of_objects


@dataclass(frozen=True)
class Passage:
    """One passage of a reconstructed wire: the chosen text (`doc`, `span`) and every carrier's
    version of it (`carriers`: (doc index, (start, end)) pairs)."""

    doc: int
    span: tuple[int, int]
    carriers: tuple[tuple[int, tuple[int, int]], ...]


@dataclass(frozen=True)
class Reconstruction:
    carriers: tuple[int, ...]
    passages: tuple[Passage, ...]
    unplaced: tuple[tuple[int, tuple[int, int]], ...]


def reconstruct_wire(prepared, source: int, copies: dict[int, DocComparison]) -> Reconstruction:
    """The most probable original text behind a source and its copies.

    Passages follow the source's order; a passage groups source sentences that some carrier
    aligned together. For each passage the version is chosen whose words the other carriers bear
    out most (`_best_version`), then the most complete (the longest; editors cut more often than
    they add), so a clause one carrier cut survives from another, while what one outlet added to
    its edited copy (an opener, an attribution, a synonym) is not taken for the wire's where
    other carriers kept the wire's words. Passages only a copy has, aligned to nothing, are listed
    as `unplaced` (the wire's or that outlet's own: two carriers cannot tell).

    Args:
        source: index of the cluster's source.
        copies: doc index -> its comparison against `source` (only direct copies of the source).
    """
    sp = prepared[source]
    n = len(sp.seg.sentences)
    sets = UnionFind(n)
    # source sentence index of each span start, to map alignment records back to sentences
    starts = {s.start: i for i, s in enumerate(sp.seg.sentences)}
    ends = {s.end: i for i, s in enumerate(sp.seg.sentences)}
    versions: dict[int, dict[int, list[tuple[int, int]]]] = {}
    for doc, cmp_ in sorted(copies.items()):
        for rec in cmp_.alignments:
            i0, i1 = starts.get(rec.source_span[0]), ends.get(rec.source_span[1])
            if i0 is None or i1 is None:
                continue
            for i in range(i0 + 1, i1 + 1):
                sets.union(i0, i)
            versions.setdefault(i0, {}).setdefault(doc, []).append(rec.target_span)
    passages = []
    for idx in sets.groups():
        if idx != list(range(idx[0], idx[-1] + 1)):  # non-contiguous (a moved passage): keep source order
            idx = list(range(idx[0], idx[-1] + 1))
        span = (sp.seg.sentences[idx[0]].start, sp.seg.sentences[idx[-1]].end)
        carriers = [(source, span)]
        for doc in sorted(copies):
            spans = [s for i in idx for s in versions.get(i, {}).get(doc, [])]
            if spans:
                carriers.append((doc, (min(a for a, _ in spans), max(b for _, b in spans))))
        best_doc, best_span = _best_version(prepared, carriers, source)
        passages.append(Passage(best_doc, best_span, tuple(carriers)))
    # merge passages whose chosen spans overlap (a copy merged what the source split)
    merged: list[Passage] = []
    for p in passages:
        if merged and merged[-1].doc == p.doc and p.span[0] < merged[-1].span[1]:
            last = merged.pop()
            carriers = {}
            for d, s in last.carriers + p.carriers:
                a, b = carriers.get(d, s)
                carriers[d] = (min(a, s[0]), max(b, s[1]))
            p = Passage(p.doc, (last.span[0], max(last.span[1], p.span[1])), tuple(sorted(carriers.items())))
        merged.append(p)
    unplaced = []
    for doc, cmp_ in sorted(copies.items()):
        unplaced += [(doc, d.target_span) for d in cmp_.divergences if d.type == "added" and d.target_span]
    return Reconstruction((source, *sorted(copies)), tuple(merged), tuple(unplaced))


_WORD = re.compile(r"\w+")


@lru_cache(maxsize=1 << 15)
def _word_counts(text: str, a: int, b: int) -> Counter:
    """The words of `text[a:b]`, case-folded, with their counts (never changed by callers): kept,
    as every scan reconstructs every story again from mostly the same passages."""
    return Counter(_WORD.findall(text[a:b].casefold()))


def _best_version(prepared, carriers: list[tuple[int, tuple[int, int]]], source: int) -> tuple[int, tuple[int, int]]:
    """The carrier version of a passage that is not empty, with the most words that another
    carrier's version also has (counted with their repeats) less those that none has, then the
    fewest of the latter, then the longest, then the source's. Two carriers bear each other out
    equally, so the longer is taken, as it always was; among more, a version's own additions count
    against it (an attribution two outlets happened to add alike gains one borne-out word and costs
    one of its own), the words it replaced still count for the versions that kept them, and a clause
    is kept where a second carrier has it (with three carriers, one the source cut and a single copy
    kept is now left out: nothing bears it out)."""
    counts = [_word_counts(prepared[d].doc.text, a, b) for d, (a, b) in carriers]
    if len(counts) > 2:
        top: dict[str, tuple[int, int]] = {}  # word -> its highest and second-highest count among the versions
        for c in counts:
            for w, n in c.items():
                first, second = top.get(w, (0, 0))
                top[w] = (n, first) if n >= first else (first, max(second, n))
        support = [sum(min(n, top[w][1] if n == top[w][0] else top[w][0]) for w, n in c.items()) for c in counts]
    else:
        support = [0] * len(counts)
    own = [c.total() - s if len(counts) > 2 else 0 for c, s in zip(counts, support, strict=True)]
    best = max(range(len(carriers)), key=lambda k: (counts[k].total() > 0, support[k] - own[k], -own[k],
                                                    carriers[k][1][1] - carriers[k][1][0], carriers[k][0] == source))
    return carriers[best]


def reconstruct_stories(prepared, verdicts: list[Verdict], clusters: list[Cluster],
                        comparisons: dict[int, DocComparison]) -> dict[int, Reconstruction]:
    """The wire reconstruction of every story whose source has direct copies (cluster index ->)."""
    out: dict[int, Reconstruction] = {}
    for c in clusters:
        if c.source is None:
            continue
        copies = {v.doc: comparisons[v.doc] for v in verdicts
                  if v.cluster == c.index and v.derived_from == c.source and v.relation == COPY}
        if copies:
            # remembered for the very texts, segmentation and comparisons it reads (a process
            # that scans again reconstructed every story again: ~10 ms for 30 stories here)
            docs = sorted(copies)
            sp = prepared[c.source]
            out[c.index] = of_objects(
                "reconstruction", (sp.doc.text, sp.seg.sentences, *(prepared[d].doc.text for d in docs),
                                   *(copies[d] for d in docs)),
                lambda source=c.source, copies=copies: reconstruct_wire(prepared, source, copies), (c.source, *docs))
    return out
