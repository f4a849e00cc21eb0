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


def _sent_texts(p, idx):
    texts = p.sentence_texts
    return [texts[i] for i in idx]


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


def pair_stats(pt, ps, blocks: tuple[AlignedBlock, ...], target_is_b: bool) -> PairStats:
    """`PairStats` of target `pt` against source `ps` (both `preparation.Prepared`); `blocks` are
    oriented a -> b, with the target on side b when `target_is_b`."""
    tsent = pt.sentence_texts
    lens = np.array([len(x) for x in tsent], dtype=float)
    qshare = _quoted_shares(tuple(tsent))
    own = lens * (1 - qshare)
    sizes, shares = lens.tolist(), qshare.tolist()  # Python floats: the same sums, without numpy scalars
    covered: set[int] = set()      # target sentences aligned (a sentence may sit in several blocks
    own_covered: set[int] = set()  # when the second pass reused it; it counts once)
    vt_num = vt_den = 0.0
    scores = []
    for blk in blocks:
        t_idx = blk.tgt if target_is_b else blk.src
        s_idx = blk.src if target_is_b else blk.tgt
        t_txt = " ".join(_sent_texts(pt, t_idx))
        s_txt = " ".join(_sent_texts(ps, s_idx))
        blk_len = sum(sizes[i] for i in t_idx)
        covered.update(t_idx)
        if (shares[t_idx[0]] if len(t_idx) == 1 else quoted_share(t_txt)) < 0.5:
            own_covered.update(t_idx)
        vt_num += fuzz.ratio(t_txt, s_txt) / 100.0 * blk_len
        vt_den += blk_len
        scores.append(blk.score)
    aligned = float(sum(sizes[i] for i in covered))
    own_aligned = float(sum(own[i] for i in own_covered))
    return PairStats(
        blocks=len(blocks),
        aligned_share=round(float(aligned / lens.sum()), 4) if lens.sum() else 0.0,
        own_aligned_share=round(float(own_aligned / own.sum()), 4) if own.sum() else 0.0,
        verbatim=round(float(vt_num / vt_den), 4) if vt_den else 0.0,
        mean_score=round(float(np.mean(scores)), 4) if scores else 0.0,
        cross_lingual=pt.langs.document != ps.langs.document,
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
