"""Stage: the semantic budget of over-long documents. The sentence model is by far the slowest
step (tens of sentences a second on two CPU cores), so a document of more than
`ScanSettings.max_semantic_sentences` sentences (a book, a scraped archive page: news articles have
10 to 200) gets sentence vectors for that many of its sentences only. Every other channel (character
n-grams, names, numbers, quotations) still reads the whole text.

Which sentences: first those that lexical retrieval paired with a sentence of another document
(best margin first), where alignment quality matters; the rest of the budget goes to sentences
spread evenly over the document, so its centroid (story clustering) and the semantic search still
sample all of it. Sentences without a vector are not zeros: `encoded` masks say which rows have
one, and every consumer (the neighbour search, centroids, the alignment's semantic channel) leaves
the others out, so a missing vector is never read as "unrelated".

Every path that encodes applies it: the local scan over the scan's lexical pairs, `index add` and
`scan --index` over those within the batch of new articles (`archive_ops.encode_batch`; an archive
stores an over-long document's `encoded` sentence numbers with its vectors), and the Spark engine
over those within the document's component (`spark_stages`)."""

from __future__ import annotations

import numpy as np

from .embed import encode_texts
from .hashing import digest


def semantic_rows(sizes: list[int], lexical: dict[tuple[int, int], float], cap: int) -> np.ndarray | None:
    """Which sentence rows of a scan get vectors: (sum(sizes),) bool, or None when every row does.

    Args:
        sizes: sentences of each document, in row order.
        lexical: lexically mined sentence pairs `(i, j) -> margin` over global rows
            (`retrieve.lexical_search`).
        cap: the most rows one document may encode (`max_semantic_sentences`); 0: no limit.
    """
    if cap <= 0 or max(sizes, default=0) <= cap:
        return None
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    mask = np.ones(int(offsets[-1]), bool)
    best: dict[int, float] = {}
    for (i, j), m in lexical.items():
        for r in (i, j):
            if m > best.get(r, -1.0):
                best[r] = m
    for d, n in enumerate(sizes):
        if n <= cap:
            continue
        lo, hi = int(offsets[d]), int(offsets[d + 1])
        mask[lo:hi] = False
        paired = sorted((r for r in best if lo <= r < hi), key=lambda r: (-best[r], r))[:cap]
        mask[paired] = True
        rest = np.flatnonzero(~mask[lo:hi]) + lo
        room = cap - len(paired)
        if room > 0 and len(rest):
            mask[rest[np.linspace(0, len(rest) - 1, room).round().astype(np.int64)]] = True
    return mask


def split_mask(mask: np.ndarray | None, sizes: list[int]) -> list[np.ndarray | None]:
    """`mask` cut per document; None for a document whose rows all have vectors."""
    if mask is None:
        return [None] * len(sizes)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    parts = [mask[offsets[d]:offsets[d + 1]] for d in range(len(sizes))]
    return [None if p.all() else p for p in parts]


def mask_key(part: np.ndarray | None) -> str | None:
    """A digest of one document's mask, for cache keys (None: all rows encoded)."""
    return None if part is None else digest(np.flatnonzero(part).tolist())


def rows_to_global(pairs: dict[tuple[int, int], float], rows: np.ndarray) -> dict[tuple[int, int], float]:
    """Sentence pairs found among the rows `rows` (ascending global row numbers) renumbered to
    global rows."""
    return {(int(rows[i]), int(rows[j])): m for (i, j), m in pairs.items()}


def budget_warning(doc_path: str, sentences: int, encoded: int, cap: int) -> str:
    """The one-line warning for an over-long document."""
    return (f"{doc_path}: {sentences} sentences, over --max-semantic-sentences {cap}: sentence vectors for "
            f"{encoded} of them only (those paired lexically with other articles first); names, numbers, quotations "
            "and character n-grams cover all of it. Pass --max-semantic-sentences 0 to encode all (slow: tens "
            "of sentences a second on a CPU)")


def over_budget(sizes: list[int], cap: int) -> bool:
    """Whether a document of `sizes` has more sentences than the limit `cap` (0: no limit)."""
    return cap > 0 and max(sizes, default=0) > cap


def encode_within(embedder, texts: list[str], sizes: list[int], lexical: dict[tuple[int, int], float], cap: int,
                  progress: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Encode the rows `semantic_rows` picks (every row when no document is over `cap`):
    (len(texts), dimension) float32 vectors, zero rows where `encoded` is False (never read), and
    the `encoded` mask (None: every row). `texts`: every document's sentences in row order."""
    mask = semantic_rows(sizes, lexical, cap)
    if mask is None:
        return encode_texts(embedder, texts, progress), None
    rows = np.flatnonzero(mask)
    return spread_rows(encode_texts(embedder, [texts[r] for r in rows.tolist()], progress), rows, len(texts)), mask


def spread_rows(vecs: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """`vecs` (one per entry of `rows`) as rows `rows` of an (n, dimension) float32 array: the
    layout of a scan whose over-long documents have vectors for some sentences only. The other
    rows are zeros that nothing reads (the `encoded` mask beside it says which rows hold vectors)."""
    full = np.zeros((n, vecs.shape[1]), np.float32)
    full[rows] = vecs
    return full
