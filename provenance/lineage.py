"""Derivation trees and the lineages within a story.

A story (cluster) holds lineages: each a root (a wire dispatch, or an outlet's own piece that
others copied, translated or rewrote) and the documents derived from it. A rewrite or translation
that others derive from in turn starts a lineage of its own, derived from its parent's lineage
(RFI's piece drawing on AFP). Replicas (one text carried by several documents) are analysed once:
only one carrier, the representative, takes part in the tree; the others hang from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .attribution import Credit
from .hashing import digest, of_objects


@dataclass(frozen=True)
class Lineage:
    """One lineage of a story: `root` and `members` (document indices, root included);
    `derived_from` the index of the lineage it draws on and `via` the document there its root
    derives from (None for a lineage of its own); `agency` and `credits`: its text credits."""

    index: int
    root: int
    members: tuple[int, ...]
    derived_from: int | None = None
    via: int | None = None
    agency: str | None = None
    credits: tuple[Credit, ...] = field(default=())
    #: how sure the link to `via` is (`direction.Direction`; None for a lineage of its own)
    direction: object = None


def replica_groups(texts: list[str]) -> dict[int, int]:
    """Documents whose texts are the same after collapsing whitespace: non-representative member
    -> representative (the first of its group). Documents without a replica are absent."""
    first: dict[str, int] = {}
    out: dict[int, int] = {}
    for i, t in enumerate(texts):
        key = of_objects("replica-key", (t,), lambda t=t: digest(" ".join(t.split())))
        if key in first:
            out[i] = first[key]
        else:
            first[key] = i
    return out


def acyclic(parent: dict[int, int | None], root: int) -> dict[int, int | None]:
    """`parent` with every cycle broken: a member whose chain of parents comes back to itself
    points at `root` instead (derivation is a tree; carriers never derive from each other in turn)."""
    parent = dict(parent)
    for start in sorted(parent):
        seen = [start]
        x = parent[start]
        while x is not None and x not in seen:
            seen.append(x)
            x = parent.get(x)
        if x is not None:  # back at a member of this chain: a cycle through x
            parent[x] = root if x != root else None
    return parent


def split(root: int, members: list[int], parent: dict[int, int | None], starts_lineage) -> list[tuple[int, list[int]]]:
    """A derivation tree cut into lineages: `(root, members)` each, the tree's own first.

    `starts_lineage(m)`: whether member `m` (not the root) begins a lineage of its own when others
    derive from it (a rewrite or a translation does; a verbatim copy stays in its source's)."""
    children: dict[int, list[int]] = {}
    for m in members:
        if parent.get(m) is not None:
            children.setdefault(parent[m], []).append(m)
    out: list[tuple[int, list[int]]] = []

    def walk(top: int) -> None:
        group, stack = [], [top]
        while stack:
            x = stack.pop()
            group.append(x)
            for c in sorted(children.get(x, ())):
                if children.get(c) and starts_lineage(c):
                    walk_later.append(c)
                else:
                    stack.append(c)
        out.append((top, sorted(group)))

    walk_later = [root]
    while walk_later:
        walk(walk_later.pop(0))
    return out


#: the largest lineages of a story whose roots `unaligned_roots` pairs up
ROOTS_COMPARED_MAX = 16


def unaligned_roots(clusters, aligned, focus: frozenset[int] | None = None) -> list[tuple[int, int]]:
    """Pairs (a < b) of one story's lineage roots that no alignment compared (`aligned`: the pairs
    aligned so far). Whether one lineage drew on another is a question for every two roots (few in
    a story: those of its `ROOTS_COMPARED_MAX` largest lineages), and retrieval alone may never ask
    it: dozens of near-identical members of one family fill each other's neighbour lists and crowd
    the other family's root out. With `focus` (a scan against an archive), pairs with a focus
    document only."""
    out = []
    for c in clusters:
        lineages = sorted(c.lineages, key=lambda x: (-len(x.members), x.root))[:ROOTS_COMPARED_MAX]
        roots = sorted({x.root for x in lineages})
        out += [(a, b) for i, a in enumerate(roots) for b in roots[i + 1:]
                if (a, b) not in aligned and (focus is None or a in focus or b in focus)]
    return out

