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
from .hashing import digest


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
        key = digest(" ".join(t.split()))
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
