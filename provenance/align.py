"""Stage: align. Monotonic sentence alignment of a document pair, plus moved passages.

A dynamic programme in the manner of vecalign / bertalign over a similarity that mixes evidence
channels: `sim = sum_c w_c * cos_c`, each channel's vectors L2-normalised. Allowed steps: 1-1,
1-2 and 2-1 merges (a merged side is the normalised sum of its sentence vectors, per channel),
and skips on either side at zero cost. A matched block gains `(sim - threshold)` per sentence
pair it stands for (a 2-1 merge counts 1.5), so a pair below the threshold is never worth taking.
After the monotonic pass, a target-centric pass gives each target sentence left over its best
source sentence when that clears `second_pass_threshold` and beats the runner-up by
`second_pass_gap`: passages an editor moved (`moved`), or a source sentence a rewrite spread over
several target sentences (`reused`). News rewrites reorder and split freely; a monotone alignment
alone misses that.

Everything here is pure numpy (and scipy sparse rows) over hand-buildable vectors; no model.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .errors import ConfigError, check_range
from .lexical import pair_norms


@dataclass(frozen=True)
class AlignSettings:
    """Thresholds of the pair alignment (see the module docstring for the dynamic programme)."""

    #: combined similarity above which a block is worth aligning (its gain is `sim - threshold`)
    threshold: float = 0.40
    #: the second pass (moved passages): a target sentence left over joins its best source sentence
    #: when the similarity reaches this
    second_pass_threshold: float = 0.40
    #: and beats the runner-up by this much
    second_pass_gap: float = 0.0
    #: cost of a 1-2 / 2-1 merge, so a merge must earn its place
    merge_penalty: float = 0.03
    #: Margin mode (for pairs the model does not cover): similarities become within-pair ratio
    #: margins over the `margin_k` best of each row and column; thresholds below apply to margins.
    margin_k: int = 3
    margin_threshold: float = 1.2
    margin_second_pass: float = 1.45
    #: least raw combined similarity of a sentence pair in margin mode (no evidence at all below it).
    #: A translation's sentence often shares only two or three glossed words with its original
    #: (combined similarity 0.06-0.12): on newstest 0.12 -> 0.06 took alignment recall from
    #: 0.92 / 0.83 / 0.81 to 0.96 / 0.97 / 0.90 (cs / ru / hi) at the same precision.
    margin_floor: float = 0.06
    #: In margin mode, a 1-1 gap between two aligned blocks (one sentence left on each side, as a
    #: translation with no shared names or numbers leaves) is aligned when its margin reaches this.
    margin_gap_fill: float = 1.0
    #: ... for gaps of at most this many sentences on each side (sentence by sentence, in order)
    margin_gap_max: int = 2
    #: In margin mode, similarities are scaled by exp(-length_penalty * |log(len_src / len_tgt)|)
    #: (Gale & Church: translations have correlated lengths): +3 to +5 points top-1 on Tatoeba.
    length_penalty: float = 0.75

    def __post_init__(self):
        check_range(self, ("threshold", "second_pass_threshold"), -1, 1)
        check_range(self, ("second_pass_gap",), 0, 2)
        check_range(self, ("merge_penalty",), low=0)
        check_range(self, ("margin_gap_max",), low=0)


@dataclass(frozen=True)
class Channel:
    """One evidence channel for a document pair: `src` (m, d) and `tgt` (n, d) L2-normalised rows
    (numpy arrays or scipy sparse matrices).

    A channel may keep only the columns both sides use (the others add nothing to a product of a
    source and a target row): it then gives in `src_pair_norms` (m-1,) and `tgt_pair_norms`
    (n-1,) the norms of the sums of adjacent rows over all their columns, which a 2-1 merge needs.

    `src_present` (m,) and `tgt_present` (n,) bool, when given, say which rows hold evidence (an
    over-long document has sentence vectors for some sentences only, `semantic_budget`): the
    channel then weighs in only where both rows (both rows of a merge) have it, and the other
    channels' weights are scaled up there, so a missing row is neither a match nor a mismatch."""

    name: str
    src: np.ndarray
    tgt: np.ndarray
    weight: float
    src_pair_norms: np.ndarray | None = None
    tgt_pair_norms: np.ndarray | None = None
    src_present: np.ndarray | None = None
    tgt_present: np.ndarray | None = None


@dataclass(frozen=True)
class AlignedBlock:
    """Consecutive source sentences `src` aligned to consecutive target sentences `tgt`."""

    src: tuple[int, ...]
    tgt: tuple[int, ...]
    score: float
    moved: bool = False
    reused: bool = False


def _merged(s: np.ndarray, norms: np.ndarray, axis: int) -> np.ndarray:
    """Cosines of merged neighbours from the 1-1 products `s`: `(x_i + x_(i+1)) . y / ||x_i + x_(i+1)||`
    along `axis` (0: source rows, 1: target columns); 0 where the norm is not positive."""
    summed = s[:-1] + s[1:] if axis == 0 else s[:, :-1] + s[:, 1:]
    den = norms[:, None] if axis == 0 else norms[None, :]
    keep = den > 0
    np.divide(summed, den, out=summed, where=keep)
    np.copyto(summed, 0.0, where=~keep)
    return summed


#: a sparse channel of at most this many cells is multiplied as a dense array: for an article's
#: few dozen sentences, sparse products cost more in overhead than they save
DENSE_CELLS = 1_000_000


def _float64(x):
    if sparse.issparse(x):
        return x.toarray().astype(np.float64) if x.shape[0] * x.shape[1] <= DENSE_CELLS else x.astype(np.float64)
    return np.asarray(x, np.float64)


def similarity_matrices(channels: list[Channel]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(s11, s21, s12)`: 1-1 (m, n), src-pair-to-tgt (m-1, n), src-to-tgt-pair (m, n-1).

    One product per channel: a merged pair's cosine is the sum of its two rows' products over the
    norm of their sum, so the merged sides need no products of their own. Channels with rows
    marked absent (`Channel.src_present`) count only where both sides are present, each cell's
    weights normalised over the channels present there."""
    if not channels:
        raise ConfigError("alignment needs at least one evidence channel")
    m, n = channels[0].src.shape[0], channels[0].tgt.shape[0]
    total_w = sum(c.weight for c in channels)
    if total_w <= 0:
        raise ConfigError("channel weights must sum to a positive number")
    masked = any(c.src_present is not None or c.tgt_present is not None for c in channels)
    s11 = np.zeros((m, n))
    s21 = np.zeros((max(m - 1, 0), n))
    s12 = np.zeros((m, max(n - 1, 0)))
    weights = (np.zeros_like(s11), np.zeros_like(s21), np.zeros_like(s12)) if masked else None
    for c in channels:
        if c.src.shape[0] != m or c.tgt.shape[0] != n:
            raise ConfigError(f"channel {c.name}: expected {m} source and {n} target rows, "
                              f"got {c.src.shape[0]} and {c.tgt.shape[0]}")
        w = c.weight / total_w
        x, y = _absent_zeroed(_float64(c.src), c.src_present), _absent_zeroed(_float64(c.tgt), c.tgt_present)
        prod = x @ y.T
        if sparse.issparse(prod):
            prod = prod.toarray()
        parts = [prod, None, None]
        if m > 1:
            norms = pair_norms(x) if c.src_pair_norms is None else np.asarray(c.src_pair_norms, np.float64)
            parts[1] = _merged(prod, norms, 0)
        if n > 1:
            norms = pair_norms(y) if c.tgt_pair_norms is None else np.asarray(c.tgt_pair_norms, np.float64)
            parts[2] = _merged(prod, norms, 1)
        cell_w = _present_weights(c, m, n, w) if masked else (w, w, w)
        for acc, part, cw, k in zip((s11, s21, s12), parts, cell_w, range(3), strict=True):
            if part is not None:
                acc += cw * part
                if weights is not None:
                    weights[k][...] += cw
    if weights is not None:
        for acc, wsum in zip((s11, s21, s12), weights, strict=True):
            np.divide(acc, wsum, out=acc, where=wsum > 0)
    return s11, s21, s12


def merge_norms(rows, present: np.ndarray | None = None) -> np.ndarray:
    """What `similarity_matrices` computes for a channel that gives no pair norms (`Channel`):
    the norms of the sums of adjacent rows of `rows` (absent rows zeroed), (m-1,). For a document
    in many pairs (its sentence vectors), worked out once and given as the channel's pair norms."""
    return pair_norms(_absent_zeroed(_float64(rows), present))


def _absent_zeroed(x, present: np.ndarray | None):
    """`x` with the rows not `present` set to 0: whatever they hold is never read."""
    if present is None:
        return x
    present = np.asarray(present, bool)
    if sparse.issparse(x):
        return sparse.diags(present.astype(np.float64)) @ x
    return np.where(present[:, None], x, 0.0)


def _present_weights(c: Channel, m: int, n: int, w: float) -> tuple:
    """Channel `c`'s weight per cell of s11, s21 and s12: `w` where both sides are present (a
    merged side when both its rows are), else 0."""
    ps = np.ones(m) if c.src_present is None else np.asarray(c.src_present, np.float64)
    pt = np.ones(n) if c.tgt_present is None else np.asarray(c.tgt_present, np.float64)
    return (w * np.outer(ps, pt), w * np.outer(ps[:-1] * ps[1:], pt) if m > 1 else w,
            w * np.outer(ps, pt[:-1] * pt[1:]) if n > 1 else w)


def length_prior(s11, s21, s12, ls: np.ndarray, lt: np.ndarray, gamma: float):
    """Scale each (non-negative part of a) similarity by `exp(-gamma * |log(len_src / len_tgt)|)`:
    translations have correlated lengths (Gale & Church). Multiplicative, so ratio margins stay
    well defined. Merged sides use their summed lengths."""
    ls, lt = np.maximum(ls, 1.0), np.maximum(lt, 1.0)

    def scale(sim, a, b):
        return np.maximum(sim, 0.0) * np.exp(-gamma * np.abs(np.log(a[:, None] / b[None, :])))

    out21 = scale(s21, ls[:-1] + ls[1:], lt) if len(ls) > 1 else s21
    out12 = scale(s12, ls, lt[:-1] + lt[1:]) if len(lt) > 1 else s12
    return scale(s11, ls, lt), out21, out12


def margin_matrices(s11: np.ndarray, s21: np.ndarray, s12: np.ndarray, k: int, floor: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Within-pair ratio margins: each similarity divided by the mean of the `k` best similarities
    of its source row and target column (Artetxe & Schwenk's margin, applied inside one document
    pair). Scale-free: a true translation stands out from its neighbours even where cross-lingual
    cosines are all low, while two same-language texts on one topic are uniformly similar.
    Similarities below `floor` get margin 0."""
    m, n = s11.shape
    if m == 0 or n == 0:
        return s11, s21, s12
    kr, kc = min(k, n), min(k, m)
    row = np.sort(s11, axis=1)[:, ::-1][:, :kr].mean(axis=1)
    col = np.sort(s11, axis=0)[::-1][:kc].mean(axis=0)

    def ratio(sim, r, c):
        denom = (r[:, None] + c[None, :]) / 2
        out = np.divide(sim, denom, out=np.zeros_like(sim), where=denom > 1e-9)
        if np.isfinite(floor):
            out[sim < floor] = 0.0
        return out

    row21 = np.maximum(row[:-1], row[1:]) if m > 1 else row[:0]
    col12 = np.maximum(col[:-1], col[1:]) if n > 1 else col[:0]
    return ratio(s11, row, col), ratio(s21, row21, col), ratio(s12, row, col12)


def align(channels: list[Channel], settings: AlignSettings = AlignSettings(),
          src_joinable: np.ndarray | None = None, tgt_joinable: np.ndarray | None = None,
          margin: bool = False, src_lengths: np.ndarray | None = None,
          tgt_lengths: np.ndarray | None = None) -> list[AlignedBlock]:
    """Align source and target sentences; blocks come back sorted by target position.

    Args:
        channels: evidence channels over the same m source and n target sentences.
        src_joinable: (m-1,) bool; False forbids merging source sentences i and i+1 (e.g. page
            furniture lies between them). Default: all joinable. Same for `tgt_joinable`.
        margin: score by within-pair ratio margin (`margin_matrices`) instead of similarity; for
            pairs whose languages the model does not cover. Block scores stay similarities.
        src_lengths, tgt_lengths: sentence lengths in characters; in margin mode they add the
            length prior (`length_penalty`).
    """
    s11, s21, s12 = similarity_matrices(channels)
    raw11, raw21, raw12 = s11, s21, s12
    if margin and settings.length_penalty and src_lengths is not None and tgt_lengths is not None:
        s11, s21, s12 = length_prior(s11, s21, s12, np.asarray(src_lengths, float), np.asarray(tgt_lengths, float),
                                     settings.length_penalty)
    tau, second = settings.threshold, settings.second_pass_threshold
    if margin:
        s11, s21, s12 = margin_matrices(s11, s21, s12, settings.margin_k, -np.inf)
        # the floor rejects pairs with no evidence at all: it applies to the raw similarity
        s11 = np.where(raw11 >= settings.margin_floor, s11, 0.0)
        s21 = np.where(raw21 >= settings.margin_floor, s21, 0.0)
        s12 = np.where(raw12 >= settings.margin_floor, s12, 0.0)
        tau, second = settings.margin_threshold, settings.margin_second_pass
    m, n = s11.shape
    sj = np.ones(max(m - 1, 0), bool) if src_joinable is None else np.asarray(src_joinable, bool)
    tj = np.ones(max(n - 1, 0), bool) if tgt_joinable is None else np.asarray(tgt_joinable, bool)
    back = _monotone_dp(s11, s21, s12, sj, tj, tau, settings.merge_penalty)
    blocks: list[AlignedBlock] = []
    i, j = m, n
    while i > 0 or j > 0:
        mv = back[i, j]
        if mv == 1:
            i -= 1
        elif mv == 2:
            j -= 1
        elif mv == 3:
            blocks.append(AlignedBlock((i - 1,), (j - 1,), round(float(raw11[i - 1, j - 1]), 4)))
            i, j = i - 1, j - 1
        elif mv == 4:
            blocks.append(AlignedBlock((i - 2, i - 1), (j - 1,), round(float(raw21[i - 2, j - 1]), 4)))
            i, j = i - 2, j - 1
        elif mv == 5:
            blocks.append(AlignedBlock((i - 1,), (j - 2, j - 1), round(float(raw12[i - 1, j - 2]), 4)))
            i, j = i - 1, j - 2
        else:  # pragma: no cover - dp origin
            break
    blocks.reverse()
    if margin:
        blocks = _fill_sandwiched_gaps(s11, raw11, blocks, settings.margin_gap_fill, settings.margin_gap_max)
    extra = _second_pass(s11, blocks, second, settings.second_pass_gap)
    blocks.extend(AlignedBlock(b.src, b.tgt, round(float(raw11[b.src[0], b.tgt[0]]), 4), b.moved, b.reused)
                  for b in extra)
    blocks.sort(key=lambda b: (b.tgt[0], b.src[0]))
    return blocks


#: Pairs of at most this many sentence pairs (source x target sentences) are aligned in full. The
#: similarity matrices and the dynamic programme grow with that product, which two long documents
#: (tens of thousands of sentences each) make quadratic: such a pair is aligned by `align_anchored`.
ALIGN_MAX_CELLS = 2**21
#: The largest stretch (source x target sentences) `align_anchored` aligns in one piece.
REGION_MAX_CELLS = 2**16


def anchor_chain(anchors: np.ndarray) -> np.ndarray:
    """A longest chain of anchors `(i, j)` that ascends in both (the monotone backbone), (c, 2);
    O(A log A) for A anchors."""
    anchors = np.unique(np.asarray(anchors, dtype=np.int64).reshape(-1, 2), axis=0)  # sorted by i, then j
    if not len(anchors):
        return anchors
    # within one source row, later columns first: a chain then takes at most one anchor per row
    order = np.lexsort((-anchors[:, 1], anchors[:, 0]))
    anchors = anchors[order]
    tails: list[int] = []  # smallest j ending a chain of each length
    tail_at: list[int] = []
    prev = np.full(len(anchors), -1, np.int64)
    for k, j in enumerate(anchors[:, 1].tolist()):
        pos = bisect.bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_at.append(k)
        else:
            tails[pos] = j
            tail_at[pos] = k
        prev[k] = tail_at[pos - 1] if pos else -1
    chain = []
    k = tail_at[-1]
    while k >= 0:
        chain.append(k)
        k = int(prev[k])
    return anchors[chain[::-1]]


def anchor_regions(anchors: np.ndarray, m: int, n: int, max_cells: int = REGION_MAX_CELLS
                   ) -> list[tuple[int, int, int, int]]:
    """Stretches `(i0, i1, j0, j1)` (source rows i0:i1, target rows j0:j1) of at most `max_cells`
    sentence pairs along the chain of `anchors` (`anchor_chain`): each stretch runs from the end of
    the last one through as many chain anchors as fit. A stretch without an anchor that is larger
    than that (before the first anchor, between two distant ones, after the last) is left out."""
    regions = []
    ci = cj = 0
    last = None
    for i, j in anchor_chain(anchors).tolist():
        if (i + 1 - ci) * (j + 1 - cj) <= max_cells:
            last = (i, j)
            continue
        if last is not None:
            regions.append((ci, last[0] + 1, cj, last[1] + 1))
            ci, cj = last[0] + 1, last[1] + 1
            if (i + 1 - ci) * (j + 1 - cj) <= max_cells:
                last = (i, j)
                continue
        ci, cj, last = i, j, (i, j)  # the stretch before this anchor is too large: left out
    if last is not None:
        regions.append((ci, last[0] + 1, cj, last[1] + 1))
        ci, cj = last[0] + 1, last[1] + 1
    if ci < m and cj < n and (m - ci) * (n - cj) <= max_cells:
        regions.append((ci, m, cj, n))
    return regions


def align_anchored(channels: list[Channel], anchors: np.ndarray, settings: AlignSettings = AlignSettings(),
                   src_joinable: np.ndarray | None = None, tgt_joinable: np.ndarray | None = None,
                   margin: bool = False, src_lengths: np.ndarray | None = None,
                   tgt_lengths: np.ndarray | None = None, max_cells: int = REGION_MAX_CELLS
                   ) -> list[AlignedBlock]:
    """`align` for a pair too long to align in full (more than `ALIGN_MAX_CELLS` sentence pairs):
    each stretch of `anchor_regions` (sentence pairs already known to match, e.g. from retrieval,
    `(i, j)` rows (A, 2)) is aligned on its own and the blocks put together. Time and memory grow
    with `max_cells` times the documents' lengths, not with their product. Passages moved from one
    stretch to another are not found, nor matches in stretches without an anchor."""
    m, n = channels[0].src.shape[0], channels[0].tgt.shape[0]
    sj = np.ones(max(m - 1, 0), bool) if src_joinable is None else np.asarray(src_joinable, bool)
    tj = np.ones(max(n - 1, 0), bool) if tgt_joinable is None else np.asarray(tgt_joinable, bool)
    blocks: list[AlignedBlock] = []
    for i0, i1, j0, j1 in anchor_regions(anchors, m, n, max_cells):
        part = [Channel(c.name, c.src[i0:i1], c.tgt[j0:j1], c.weight,
                        None if c.src_pair_norms is None else c.src_pair_norms[i0:i1 - 1],
                        None if c.tgt_pair_norms is None else c.tgt_pair_norms[j0:j1 - 1],
                        None if c.src_present is None else c.src_present[i0:i1],
                        None if c.tgt_present is None else c.tgt_present[j0:j1]) for c in channels]
        for b in align(part, settings, sj[i0:i1 - 1], tj[j0:j1 - 1], margin,
                       None if src_lengths is None else np.asarray(src_lengths)[i0:i1],
                       None if tgt_lengths is None else np.asarray(tgt_lengths)[j0:j1]):
            blocks.append(AlignedBlock(tuple(i0 + i for i in b.src), tuple(j0 + j for j in b.tgt), b.score,
                                       b.moved, b.reused))
    blocks.sort(key=lambda b: (b.tgt[0], b.src[0]))
    return blocks


def _monotone_dp(s11: np.ndarray, s21: np.ndarray, s12: np.ndarray, sj: np.ndarray, tj: np.ndarray, tau: float,
                 pen: float) -> np.ndarray:
    """The monotone pass: back-pointers (0 start, 1 skip src, 2 skip tgt, 3 1-1, 4 2-1, 5 1-2).

    Gains are computed array-wide first (a step that can never pay is -inf), so the cell loop only
    compares Python floats: the same sums in the same order as a cell-by-cell formula, ~5x faster.
    """
    m, n = s11.shape
    g11 = s11 - tau
    g11 = np.where(g11 > 0, g11, -np.inf)
    # a merge is only a merge when the joined side explains the other better than either of its
    # sentences alone; otherwise an unrelated neighbour would ride along
    g21 = np.full((m + 1, n + 1), -np.inf)
    if m > 1:
        ok = sj[:, None] & (s21 > np.maximum(s11[:-1], s11[1:]) + pen)
        g = 1.5 * (s21 - tau) - pen
        g21[2:, 1:] = np.where(ok & (g > 0), g, -np.inf)
    g12 = np.full((m + 1, n + 1), -np.inf)
    if n > 1:
        ok = tj[None, :] & (s12 > np.maximum(s11[:, :-1], s11[:, 1:]) + pen)
        g = 1.5 * (s12 - tau) - pen
        g12[1:, 2:] = np.where(ok & (g > 0), g, -np.inf)
    # A row (source sentence) where no step gains anything repeats the row above (rows never
    # decrease along j, so "skip source" always wins) with back-pointers all 1: only rows with a
    # possible gain are computed, and only two rows of scores are kept. Aligning a long document
    # with a short one then costs little beyond the similarity matrices.
    live = np.isfinite(g21).any(axis=1) | np.isfinite(g12).any(axis=1)
    live[1:] |= np.isfinite(g11).any(axis=1)
    ninf = -np.inf
    back = np.ones((m + 1, n + 1), dtype=np.int8)
    back[0, :] = 2
    back[0, 0] = 0
    up2, up = None, [0.0] * (n + 1)
    for i in np.flatnonzero(live[1:]).tolist():
        i += 1
        if not live[i - 1]:  # the rows above were copies
            up2 = up
        row, brow = [0.0] * (n + 1), [1] * (n + 1)
        r11, r21, r12 = g11[i - 1].tolist(), g21[i].tolist(), g12[i].tolist()
        for j in range(1, n + 1):
            best, move = up[j], 1
            left = row[j - 1]
            if left > best:
                best, move = left, 2
            g = r11[j - 1]
            if g != ninf and up[j - 1] + g > best:
                best, move = up[j - 1] + g, 3
            g = r21[j]
            if g != ninf and up2[j - 1] + g > best:
                best, move = up2[j - 1] + g, 4
            g = r12[j]
            if g != ninf and up[j - 2] + g > best:
                best, move = up[j - 2] + g, 5
            row[j] = best
            brow[j] = move
        back[i] = brow
        up2, up = up, row
    return back


def _fill_sandwiched_gaps(s11: np.ndarray, raw11: np.ndarray, blocks: list[AlignedBlock], min_margin: float,
                          max_gap: int = 2) -> list[AlignedBlock]:
    """Align runs of equal length (1 to `max_gap` sentences) left between consecutive monotone blocks,
    sentence by sentence, where each pair's margin reaches `min_margin`. In a translation the
    sentences between two anchors correspond in order even when nothing lexical survives."""
    out = list(blocks)
    m, n = s11.shape
    ordered = sorted(blocks, key=lambda b: (b.tgt[0], b.src[0]))
    bounds = [((-1,), (-1,))] + [(b.src, b.tgt) for b in ordered] + [((m,), (n,))]
    for (ps, pt), (ns, nt) in zip(bounds, bounds[1:], strict=False):
        src_gap = list(range(ps[-1] + 1, ns[0]))
        tgt_gap = list(range(pt[-1] + 1, nt[0]))
        if not src_gap or len(src_gap) != len(tgt_gap) or len(src_gap) > max_gap:
            continue
        for i, j in zip(src_gap, tgt_gap, strict=True):
            if s11[i, j] >= min_margin:
                out.append(AlignedBlock((i,), (j,), round(float(raw11[i, j]), 4)))
    out.sort(key=lambda b: (b.tgt[0], b.src[0]))
    return out


def _second_pass(s11: np.ndarray, blocks: list[AlignedBlock], threshold: float, gap: float
                 ) -> list[AlignedBlock]:
    """Best source sentence for each target sentence the monotone pass left unaligned."""
    m, n = s11.shape
    if m == 0:
        return []
    used_s = {i for b in blocks for i in b.src}
    used_t = {j for b in blocks for j in b.tgt}
    # monotone backbone: for each target position, the source range the DP implies
    anchors = sorted((b.tgt[0], b.src[0], b.src[-1]) for b in blocks)
    out = []
    for j in range(n):
        if j in used_t:
            continue
        col = s11[:, j]
        order = np.lexsort((np.arange(m), -col))
        i = int(order[0])
        second = float(col[order[1]]) if m > 1 else -1.0
        if col[i] < threshold or col[i] - second < gap:
            continue
        lo = max((a[2] for a in anchors if a[0] < j), default=-1)
        hi = min((a[1] for a in anchors if a[0] > j), default=m)
        moved = not (lo < i < hi)
        out.append(AlignedBlock((i,), (j,), round(float(col[i]), 4), moved=moved, reused=i in used_s))
    return out
