"""Stage: index. FAISS inner-product index over L2-normalised vectors (so scores are cosines).

`VectorIndex` validates at construction and on every add: dimension, dtype, row count against id
count. Search results are sorted by score, then by row id, so that runs are reproducible.
"""

from __future__ import annotations

import threading

import numpy as np

from .errors import ConfigError


def reproducible_faiss():
    """FAISS on one OpenMP thread: sums in a fixed order, so scores (and ties) repeat exactly.
    Called by every user of FAISS here before it builds or searches; returns the module, imported
    here rather than at the top, as a re-scan served from the cache searches nothing.

    Flat searches always take the BLAS product: FAISS 1.12+ keeps fewer than 128,000 / d queries
    (333 at d=384) on its one-query-at-a-time loop, tuned for many OpenMP threads; on one thread
    that loop is 2-4x slower (a warm re-scan's 24 new sentences against 2,386: 2.4 -> 1.0 ms, its
    69 searched again: 7.0 -> 3.0 ms; facebookresearch/faiss#5109), and so do the semantic search's
    batches of 256 (`knn.SEARCH_BATCH`)."""
    global _switched
    import faiss

    faiss.omp_set_num_threads(1)
    faiss.cvar.distance_compute_blas_threshold = 0
    if not _switched:
        with _SWITCHING:
            if not _switched:
                # FAISS's OpenBLAS takes the calling thread's count at its first product, freeing and
                # reallocating its buffers without a lock: done here, before threads search side by side
                probe = faiss.IndexFlatIP(4)
                probe.add(np.ones((1, 4), np.float32))
                probe.search(np.ones((1, 4), np.float32), 1)
                _switched = True
    return faiss


_SWITCHING = threading.Lock()
_switched = False


class VectorIndex:
    """Exact inner-product index (`faiss.IndexFlatIP`) with an id per row."""

    def __init__(self, dimension: int):
        if not isinstance(dimension, int) or dimension <= 0:
            raise ConfigError(f"index dimension must be a positive int, got {dimension!r}")
        self.dimension = dimension
        self._index = reproducible_faiss().IndexFlatIP(dimension)
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

    def search(self, queries: np.ndarray, k: int, rows: tuple[int, int] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top-`k` rows for each query: `(scores, rows)`, both (len(queries), k); rows are -1 past
        the end of a small index. `rows`: search only the rows `lo:hi` (a FAISS range selector,
        which keeps the batched BLAS product; row numbers stay those of the whole index)."""
        queries = _check(queries, self.dimension, "queries")
        if k <= 0:
            raise ConfigError(f"k must be positive, got {k}")
        params = None
        size = len(self)
        if rows is not None:
            lo, hi = max(0, int(rows[0])), min(size, int(rows[1]))
            size = max(0, hi - lo)
            if size:
                faiss = reproducible_faiss()
                params = faiss.SearchParameters(sel=faiss.IDSelectorRange(lo, hi))
        k_eff = min(k, size)
        if k_eff == 0:
            return (np.zeros((len(queries), k), np.float32), np.full((len(queries), k), -1, np.int64))
        scores, found = self._index.search(queries, k_eff, params=params)
        # stable order: score descending, then row ascending (FAISS breaks ties arbitrarily)
        order = np.lexsort((found, -scores), axis=1)
        scores = np.take_along_axis(scores, order, axis=1)
        found = np.take_along_axis(found, order, axis=1)
        if k_eff < k:
            pad = k - k_eff
            scores = np.pad(scores, ((0, 0), (0, pad)), constant_values=0.0)
            found = np.pad(found, ((0, 0), (0, pad)), constant_values=-1)
        return scores, found


def _check(x: np.ndarray, dim: int, what: str) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != dim:
        raise ConfigError(f"{what} must have shape (n, {dim}), got {x.shape}; was the index built with "
                          "another model?")
    return x


# --- index type by size ------------------------------------------------------------------------

#: Below this many vectors the index is exact (IndexFlatIP): at 384 dimensions that is ~77 MB and a
#: brute-force query over it takes a few ms, so approximation buys nothing.
FLAT_MAX = 50_000
#: Above FLAT_MAX: an inverted file with 8-bit scalar quantisation (IVF + SQ8), 4x smaller than
#: float32 and trained on a sample; FAISS's guidelines suggest nlist between 4*sqrt(N) and
#: 16*sqrt(N) below 1M vectors, and HNSW where memory is plentiful (it adds ~M*8 bytes of links per
#: vector and builds slowly on 2 cores, so it is offered, not chosen by default).
NPROBE = 16


def choose_index_type(n_vectors: int) -> str:
    """'flat' while exact search is cheap, 'ivf-sq8' beyond FLAT_MAX vectors (see above)."""
    return "flat" if n_vectors <= FLAT_MAX else "ivf-sq8"


def build_faiss_index(vectors: np.ndarray, kind: str, train_sample: int = 100_000, seed: int = 0):
    """A FAISS inner-product index of `kind` ('flat', 'ivf-sq8', 'hnsw-sq8') holding `vectors`."""
    faiss = reproducible_faiss()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = vectors.shape
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif kind == "ivf-sq8":
        nlist = max(1, min(int(4 * np.sqrt(n)), n // 39 or 1))
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        train_sample = max(train_sample, 40 * nlist)  # k-means wants ~39+ points per centroid
        sample = vectors if n <= train_sample else vectors[rng.choice(n, train_sample, replace=False)]
        index.train(sample)
        index.nprobe = NPROBE
    elif kind == "hnsw-sq8":
        index = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_8bit, 32, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors[: min(n, train_sample)])
        index.hnsw.efSearch = 64
    else:
        raise ConfigError(f"unknown index type {kind!r}: use flat, ivf-sq8 or hnsw-sq8")
    if n:
        index.add(vectors)
    return index


def index_bytes(index) -> int:
    """Serialised size of a FAISS index: what it occupies in memory and on disk."""
    import faiss

    return int(faiss.serialize_index(index).size)
