"""`ScanResult`: everything a scan found, as the report and the HTML view read it."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import __version__
from .align import AlignedBlock
from .attribution import Signal
from .classify import Cluster, Verdict
from .compare import DocComparison
from .evidence import PairEvidence
from .load import Skipped
from .match import DocPair
from .preparation import Prepared
from .reconstruct import Reconstruction
from .settings import ScanSettings


@dataclass(frozen=True)
class PairAlignment:
    """The alignment of documents `a` < `b` (indices into the scan's documents): `blocks` with
    `a` on the source side, and the retrieval evidence that made them a candidate pair."""

    a: int
    b: int
    blocks: tuple[AlignedBlock, ...]
    retrieval: DocPair


@dataclass(frozen=True)
class ScanResult:
    """What a scan found. Document indices index `prepared`.

    Attributes:
        prepared: the scanned documents (and archived ones that share a story with one).
        verdicts: one per document: relation, parent, cluster, evidence.
        clusters: the story clusters, with source and agency credits.
        comparisons: target document index -> its `DocComparison` against its parent.
        alignments: every candidate pair's alignment.
        evidence: pair evidence both ways for every candidate pair.
        skipped: inputs not scanned, with the reason.
        model_id, model_languages: the embedding model and the languages it covers (None: all).
        settings: the settings used.
        warnings: one line each: repairs made at load, languages the model does not cover.
        reconstructions: cluster index -> the wire reconstructed from its source and copies.
        signals: document index -> traces of translation in its own language.
        archived: indices of documents that come from an archive; `archive`: its name.
        semantic_sentences: document index -> the sentences (indices into its `seg.sentences`)
            that got a sentence vector, for over-long documents only (`semantic_budget`).
        semantic_limits: document index -> the `max_semantic_sentences` its sentences were chosen
            under, where that was not this scan's (an archived document: at `index add`).
        version: the tool's version.
        backend: what ran the model ("torch", "onnx", "onnx-int8"; None: vectors from elsewhere).
    """

    prepared: tuple[Prepared, ...]
    verdicts: tuple[Verdict, ...]
    clusters: tuple[Cluster, ...]
    comparisons: dict[int, DocComparison]
    alignments: tuple[PairAlignment, ...]
    evidence: tuple[PairEvidence, ...]
    skipped: tuple[Skipped, ...]
    model_id: str
    model_languages: tuple[str, ...] | None
    settings: ScanSettings
    warnings: tuple[str, ...] = ()
    reconstructions: dict[int, Reconstruction] = field(default_factory=dict)
    signals: dict[int, tuple[Signal, ...]] = field(default_factory=dict)
    archived: frozenset = frozenset()
    archive: str | None = None
    version: str = __version__
    backend: str | None = None
    semantic_sentences: dict[int, tuple[int, ...]] = field(default_factory=dict)
    semantic_limits: dict[int, int] = field(default_factory=dict)
