"""Stage 6, index: FAISS inner-product index over L2-normalised vectors (so scores are cosines).

`VectorIndex` validates at construction and on every add: dimension, dtype, row count against id
count. Search results are sorted by score, then by row id, so that runs are reproducible.
"""

from __future__ import annotations

import faiss
import numpy as np

from .errors import ConfigError

faiss.omp_set_num_threads(1)  # reproducible sums; the machines here have 2 cores anyway


class VectorIndex:
    """Exact inner-product index (`faiss.IndexFlatIP`) with an id per row."""

    def __init__(self, dimension: int):
        if not isinstance(dimension, int) or dimension <= 0:
            raise ConfigError(f"index dimension must be a positive int, got {dimension!r}")
        self.dimension = dimension
        self._index = faiss.IndexFlatIP(dimension)
        self.ids: list = []

    def __len__(self) -> int:
        return self._index.ntotal

    def add(self, vectors: np.ndarray, ids: list | None = None) -> None:
        vectors = _check(vectors, self.dimension, "vectors")
        ids = list(range(len(self), len(self) + len(vectors))) if ids is None else list(ids)
        if len(ids) != len(vectors):
            raise ConfigError(f"got {len(vectors)} vectors but {len(ids)} ids; pass one id per row")
        self._index.add(vectors)
        self.ids.extend(ids)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-`k` rows for each query: `(scores, rows)`, both (len(queries), k); rows are -1 past
        the end of a small index."""
        queries = _check(queries, self.dimension, "queries")
        if k <= 0:
            raise ConfigError(f"k must be positive, got {k}")
        k_eff = min(k, len(self))
        if k_eff == 0:
            return (np.zeros((len(queries), k), np.float32), np.full((len(queries), k), -1, np.int64))
        scores, rows = self._index.search(queries, k_eff)
        # stable order: score descending, then row ascending (FAISS breaks ties arbitrarily)
        order = np.lexsort((rows, -scores), axis=1)
        scores = np.take_along_axis(scores, order, axis=1)
        rows = np.take_along_axis(rows, order, axis=1)
        if k_eff < k:
            pad = k - k_eff
            scores = np.pad(scores, ((0, 0), (0, pad)), constant_values=0.0)
            rows = np.pad(rows, ((0, 0), (0, pad)), constant_values=-1)
        return scores, rows


def _check(x: np.ndarray, dim: int, what: str) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != dim:
        raise ConfigError(f"{what} must have shape (n, {dim}), got {x.shape}; was the index built with "
                          "another model?")
    return x
