"""Replicas: one text carried byte for byte by several documents (a wire article several outlets
run unchanged). The scan analyses the text once, through its first carrier, and hangs the other
carriers from it afterwards: they never compete with it for a place in the derivation graph, so
retrieval's candidates are not spent on identical texts and no two carriers derive from each other."""

from __future__ import annotations

from dataclasses import replace

from .classify import COPY, SOURCE, Cluster, Verdict
from .direction import REPLICA, Direction, judge, parse_date
from .hashing import digest
from .lineage import Lineage
from .result import ScanResult


def split_replicas(segs: list) -> tuple[list, list[tuple[object, int]]]:
    """`segs` (`segment.Segmented`) without byte-identical repeats, and each repeat with the
    position of its first carrier among the kept ones."""
    first: dict[str, int] = {}
    kept, repeats = [], []
    for seg in segs:
        key = digest(seg.doc.text)
        if key in first:
            repeats.append((seg, first[key]))
        else:
            first[key] = len(kept)
            kept.append(seg)
    return kept, repeats


def add_replicas(result: ScanResult, repeats: list[tuple[object, int]]) -> ScanResult:
    """`result` with every repeat added beside its first carrier: where that carrier derives from
    a parent, the repeat does too (same relation and comparison); else the repeat is a `copy` of
    it (a `replica` direction), in its story and lineage, and a carrier that had no lineage
    becomes the `source` of one."""
    if not repeats:
        return result
    prepared = list(result.prepared)
    verdicts = list(result.verdicts)
    comparisons = dict(result.comparisons)
    semantic = dict(result.semantic_sentences)
    clusters = {c.index: c for c in result.clusters}
    n_lineages = 1 + max((x.index for c in result.clusters for x in c.lineages), default=-1)
    for seg, rep in repeats:
        doc = len(prepared)
        prepared.append(replace(prepared[rep], seg=seg))
        if rep in semantic:  # an over-long text: its carriers had the same sentences encoded
            semantic[doc] = semantic[rep]
        rv = verdicts[rep]
        if rv.derived_from is not None:  # a copy carried twice: both carriers derive from the same parent
            d = rv.direction
            same = f"carries the same text as {prepared[rep].doc.id}"
            verdicts.append(replace(rv, doc=doc, direction=d and replace(d, basis=(*d.basis, same))))
            comparisons[doc] = comparisons[rep]  # byte-identical texts: the same spans
            c = clusters[rv.cluster]
            lineages = tuple(replace(x, members=(*x.members, doc)) if x.index == rv.lineage else x
                             for x in c.lineages)
            clusters[c.index] = replace(c, members=(*c.members, doc), lineages=lineages)
            continue
        if rv.cluster is None:  # a text alone but for its carriers: a story of its own
            rv = replace(rv, relation=SOURCE, cluster=max(clusters, default=-1) + 1)
            clusters[rv.cluster] = Cluster(rv.cluster, rep, (rep,), None)
        if rv.lineage is None:
            rv = replace(rv, relation=SOURCE, lineage=n_lineages)
            c = clusters[rv.cluster]
            clusters[c.index] = replace(c, lineages=(*c.lineages, Lineage(n_lineages, rep, (rep,))))
            n_lineages += 1
        verdicts[rep] = rv
        c = clusters[rv.cluster]
        lineages = tuple(replace(x, members=(*x.members, doc)) if x.index == rv.lineage else x for x in c.lineages)
        clusters[c.index] = replace(c, members=(*c.members, doc), lineages=lineages)
        verdicts.append(Verdict(doc, COPY, rep, rv.cluster, None, 1.0, rv.lineage,
                                _direction(prepared[doc], prepared[rep])))
    ordered = tuple(sorted(clusters.values(), key=lambda c: c.index))
    return replace(result, prepared=tuple(prepared), verdicts=tuple(verdicts), clusters=ordered,
                   comparisons=comparisons, semantic_sentences=semantic)


def _direction(carrier, first) -> Direction:
    found = judge(parse_date(carrier.doc.meta.get("date")), parse_date(first.doc.meta.get("date")), None)
    same = f"the same text as {first.doc.id}"
    if found.established:
        return Direction(True, found.confidence, (same, *found.basis), REPLICA)
    return Direction(False, 0.5, (same,), REPLICA)
