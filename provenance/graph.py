"""A union-find over 0..n-1, for the groupings the stages make (story clusters, wire passages)."""

from __future__ import annotations


class UnionFind:
    """Disjoint sets of the integers 0..n-1 (path halving; no ranks: the sets here are small)."""

    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        """Join the sets of `a` and `b` (the root of `a`'s set stays the root)."""
        self.parent[self.find(b)] = self.find(a)

    def groups(self) -> list[list[int]]:
        """The sets, each sorted, in the order of their smallest member."""
        out: dict[int, list[int]] = {}
        for x in range(len(self.parent)):
            out.setdefault(self.find(x), []).append(x)
        return sorted(out.values(), key=lambda g: g[0])
