"""Stage: the evidence of one document pair, from its alignment. How much of a target its source
explains (`PairStats`, cached with the alignment) and, with the story's detail rarities, the
`PairEvidence` that `classify` reads."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz

from .align import AlignedBlock
from .lexical import quoted_share


@dataclass(frozen=True)
class PairEvidence:
    """How much of `target` is explained by `source` (document indices)."""

    target: int
    source: int
    blocks: int
    aligned_share: float
    own_aligned_share: float
    detail_share: float
    verbatim: float
    mean_score: float
    cross_lingual: bool
    shared_details: int = 0


@lru_cache(maxsize=256)
def _quoted_shares(sentences: tuple[str, ...]) -> np.ndarray:
    """`quoted_share` of each sentence (read-only): a document is the target of every pair it is
    in, so its shares are computed once."""
    out = np.array([quoted_share(x) for x in sentences], dtype=float)
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class PairStats:
    """What an alignment shows about how much of a target its source explains, without document
    indices (so it is cached with the pair's alignment). Shares are of the target's story text:
    `aligned_share` of all of it, `own_aligned_share` of what is not quotation; `verbatim` is the
    length-weighted similarity of aligned passages (1 = identical)."""

    blocks: int
    aligned_share: float
    own_aligned_share: float
    verbatim: float
    mean_score: float
    cross_lingual: bool


def pair_stats(pa, pb, blocks: tuple[AlignedBlock, ...]) -> tuple[PairStats, PairStats]:
    """`PairStats` of `pb` as the target against `pa`, then of `pa` against `pb` (both
    `preparation.Prepared`; `blocks` are oriented a -> b). One pass over the blocks serves both: a
    block's two texts are joined once and their similarity, which is symmetric, is taken once."""
    sides = (_Target(pb), _Target(pa))
    a_texts, b_texts = pa.sentence_texts, pb.sentence_texts
    for blk in blocks:
        a_txt = " ".join([a_texts[i] for i in blk.src])
        b_txt = " ".join([b_texts[i] for i in blk.tgt])
        similarity = fuzz.ratio(b_txt, a_txt) / 100.0
        sides[0].add(blk.tgt, b_txt, similarity)
        sides[1].add(blk.src, a_txt, similarity)
    scores = [blk.score for blk in blocks]
    mean_score = round(float(np.mean(scores)), 4) if scores else 0.0
    cross = pa.langs.document != pb.langs.document
    return sides[0].stats(len(blocks), mean_score, cross), sides[1].stats(len(blocks), mean_score, cross)


class _Target:
    """`pair_stats`' sums for one side as the target, block by block."""

    def __init__(self, p):
        self.lens = np.array([len(x) for x in p.sentence_texts], dtype=float)
        qshare = _quoted_shares(tuple(p.sentence_texts))
        self.own = self.lens * (1 - qshare)
        # Python floats: the same sums, without numpy scalars
        self.sizes, self.shares = self.lens.tolist(), qshare.tolist()
        self.covered: set[int] = set()      # target sentences aligned (a sentence may sit in several
        self.own_covered: set[int] = set()  # blocks when the second pass reused it; it counts once)
        self.vt_num = self.vt_den = 0.0

    def add(self, idx, text: str, similarity: float) -> None:
        sizes = self.sizes
        blk_len = sum(sizes[i] for i in idx)
        self.covered.update(idx)
        if (self.shares[idx[0]] if len(idx) == 1 else quoted_share(text)) < 0.5:
            self.own_covered.update(idx)
        self.vt_num += similarity * blk_len
        self.vt_den += blk_len

    def stats(self, blocks: int, mean_score: float, cross_lingual: bool) -> PairStats:
        lens, own = self.lens, self.own
        aligned = float(sum(self.sizes[i] for i in self.covered))
        own_aligned = float(sum(own[i] for i in self.own_covered))
        return PairStats(
            blocks=blocks,
            aligned_share=round(float(aligned / lens.sum()), 4) if lens.sum() else 0.0,
            own_aligned_share=round(float(own_aligned / own.sum()), 4) if own.sum() else 0.0,
            verbatim=round(float(self.vt_num / self.vt_den), 4) if self.vt_den else 0.0,
            mean_score=mean_score,
            cross_lingual=cross_lingual,
        )


def pair_evidence(target: int, source: int, stats: PairStats, target_details: frozenset[str],
                  source_details: frozenset[str], weight: dict[str, float], target_sum: float | None = None
                  ) -> PairEvidence:
    """The evidence that document `target` derives from `source`: the alignment's `stats` and the
    rarity-weighted share of the target's details the source carries (`weight`: the story's
    rarity of each detail, `features.detail_weights`; `target_sum`: `detail_sum` of the target's
    details, where the caller has it)."""
    return PairEvidence(target, source, stats.blocks, stats.aligned_share, stats.own_aligned_share,
                        detail_share(target_details, source_details, weight, target_sum), stats.verbatim,
                        stats.mean_score, stats.cross_lingual, len(target_details & source_details))


def detail_sum(details: frozenset[str], weight: dict[str, float]) -> float:
    """The rarity weight of `details` (each at least 0.05; a conditional, not `max`: a warm re-scan
    sums ~16k of them)."""
    return sum(w if (w := weight.get(k, 0.05)) > 0.05 else 0.05 for k in details)


def detail_share(target_details: frozenset[str], source_details: frozenset[str], weight: dict[str, float],
                 target_sum: float | None = None) -> float:
    """Rarity-weighted share of the target's details (names, numbers) that the source has too;
    `weight` is the story's rarity of each detail (floor 0.05); `target_sum`: `detail_sum` of the
    target's details, where the caller has it."""
    wsum = detail_sum(target_details, weight) if target_sum is None else target_sum
    if not wsum:
        return 0.0
    shared = detail_sum(target_details & source_details, weight)
    return round(float(shared / wsum), 4)
