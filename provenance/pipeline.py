"""`scan()`: the whole flow. The CLI, the benchmarks and notebook users all call this.

    load -> prepare (clean, segment, language) -> embed -> features -> retrieve -> align pairs
    -> classify -> compare -> reconstruct -> ScanResult (`report` turns it into JSON and HTML)

`scan_documents(docs, embedder)` starts from loaded documents, and `analyse(prepared, semantic)`
is the vectors-in core: give it sentence vectors from anywhere (a fake embedder, a cache, an
archive) and it needs no model. Each step is one call into the module that owns it; this module
only wires them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace

import numpy as np

from . import archive as arch
from .archive_ops import (
    archived_mask,
    encode_batch,
    new_documents,
    prepare_archived,
    restrict_to_focus,
    retrieve_archived,
)
from .attribution import Credit, translation_signals
from .caveats import anchor_warnings, budget_warnings, coverage_warnings
from .classify import classify, same_story_matrix
from .direction import dated, pair_leans
from .embed import Embedder, count_to_encode, covers, encode_texts, encodes_side_by_side, vectors_fingerprint
from .errors import ConfigError, InputError
from .features import DocFeatures, docs_features
from .hashing import digest
from .lineage import replica_groups, unaligned_roots
from .load import Document, Skipped, load_paths
from .match import DocPair, doc_pairs, semantic_pairs
from .pairs import DocPrep, PairInputs, align_pairs, compare_derived, docs_prep, long_pair_anchors, pair_evidences
from .preparation import Prepared, identify_documents, prepare, segment_documents
from .reconstruct import reconstruct_stories
from .replicas import add_replicas, split_replicas
from .result import ScanResult
from .results import ResultStore
from .retrieve import lexical_search, semantic_knn
from .runtime import gc_paused, one_blas_thread
from .semantic_budget import mask_key, rows_to_global, semantic_rows, split_mask, spread_rows
from .settings import ScanSettings

#: Scans that encode at most this many distinct texts (a warm re-scan) run the model-free work
#: beside the encoding; longer encodes run alone first unless the model runs its batches side by
#: side (`embed.encodes_side_by_side`; see `scan_documents`).
CONCURRENT_ENCODE_MAX = 256


@dataclass(frozen=True)
class Retrieved:
    """What `scan_documents` computes while (or after) the model encodes, so `analyse` need not: each
    document's features, the lexical and semantic candidate sentence pairs (and `pairs.DocPrep`s)."""

    features: list[DocFeatures]
    lexical: dict
    semantic: dict
    prep: dict[int, DocPrep] = field(default_factory=dict)


@gc_paused
@one_blas_thread
def scan(paths: Iterable[str | os.PathLike], model: str | None = None, embedder: Embedder | None = None,
         settings: ScanSettings = ScanSettings(), progress: bool = False, index: str | None = None,
         index_dir: str | os.PathLike = "indexes", workers: int | None = None, dates: dict[str, str] | None = None
         ) -> ScanResult:
    """Scan files and folders; see the module docstring.

    Args:
        paths: files and folders (searched recursively).
        model: model id or local path for `embed.load_model` (ignored when `embedder` is given).
        embedder: anything with `model_id`, `dimension`, `languages` and `encode(texts)`; a
            `cache.CachedEmbedder` also caches the stages' results.
        settings: thresholds and weights; written into the report header.
        progress: show progress bars (the CLI passes True only on a terminal).
        index: name of an archive in `index_dir` to compare the new articles with too; the result
            then holds the new articles and the archived ones they share a story with.
        workers: processes for aligning pairs (default: the usable cores, `$PROVENANCE_WORKERS`);
            the result does not depend on it.
        dates: document id or file name -> date, for inputs that carry none (`direction.read_dates`
            reads them from a CSV file); a date the input carries itself is replaced.

    Raises:
        InputError: nothing usable was found.
        ModelError: the model cannot be loaded offline.
    """
    loaded = load_paths(paths, max_bytes=settings.max_bytes)
    if dates:
        loaded = replace(loaded, documents=tuple(dated(loaded.documents, dates)))
    if embedder is None:
        from .embed import load_model

        embedder = load_model(model)
    if index is not None:
        result = replace(scan_against_archive(loaded.documents, embedder, index, index_dir, settings,
                                              skipped=loaded.skipped, progress=progress, workers=workers),
                         backend=_backend(embedder))
    else:
        result = scan_documents(loaded.documents, embedder, settings, skipped=loaded.skipped, progress=progress,
                                workers=workers)
    return replace(result, warnings=(*loaded.warnings, *result.warnings)) if loaded.warnings else result


def _backend(embedder) -> str | None:
    """What runs `embedder`'s model, for the report (None for embedders without one)."""
    return getattr(getattr(embedder, "inner", embedder), "backend", None)


@gc_paused
@one_blas_thread
def scan_documents(documents: Iterable[Document], embedder: Embedder, settings: ScanSettings = ScanSettings(),
                   skipped: Iterable[Skipped] = (), progress: bool = False, workers: int | None = None
                   ) -> ScanResult:
    """Scan loaded documents (see `scan`). Cached results are used where `embedder` is a
    `cache.CachedEmbedder`."""
    store = ResultStore.for_embedder(embedder)
    segs, too_short = segment_documents(documents, settings, store, workers)
    skipped = [*skipped, *too_short]
    if not segs:
        raise InputError("no usable article among the inputs" + _first_skipped(skipped))
    segs, repeats = split_replicas(segs)  # one text carried by several documents is analysed once
    texts = [seg.doc.text[s.start:s.end] for seg in segs for s in seg.sentences]
    sizes = [len(seg.sentences) for seg in segs]
    doc_of_row = np.repeat(np.arange(len(segs)), sizes)
    doc_keys = [digest(seg.doc.text) for seg in segs]

    def encode_and_search(encoded: np.ndarray | None = None, stop: threading.Event | None = None,
                          vectors: Future | None = None):
        if encoded is None:
            misses = getattr(embedder, "misses", None)  # a cache's count of the texts it sent to the model
            vecs = encode_texts(embedder, texts, progress, stop)
            if vectors is not None:  # the vectors for the work beside the search, after a long encode
                long = (len(set(texts)) if misses is None else embedder.misses - misses) > CONCURRENT_ENCODE_MAX
                vectors.set_result(vecs if long else None)
            knn = semantic_knn(vecs, doc_of_row, doc_keys, embedder.model_id, settings.match, store)
            return vecs, semantic_pairs(vecs, doc_of_row, settings.match, knn=knn)
        rows = np.flatnonzero(encoded)  # an over-long document: some of its sentences only
        vecs = encode_texts(embedder, [texts[r] for r in rows.tolist()], progress)
        keys = [k if m is None else digest(k, mask_key(m)) for k, m in zip(doc_keys, split_mask(encoded, sizes),
                                                                            strict=True)]
        knn = semantic_knn(vecs, doc_of_row[rows], keys, embedder.model_id, settings.match, store)
        pairs = semantic_pairs(vecs, doc_of_row[rows], settings.match, knn=knn)
        return spread_rows(vecs, rows, len(texts)), rows_to_global(pairs, rows)

    def model_free(workers_here):
        prepared = identify_documents(segs, store, workers_here)
        features = docs_features(prepared, store, workers_here)
        return prepared, features, lexical_search(prepared, features, settings.match, store)

    encoded, prep = None, {}
    if settings.max_semantic_sentences and max(sizes) > settings.max_semantic_sentences:
        # an over-long document: lexical retrieval first, as it picks which of its sentences to encode
        prepared, features, lexical = model_free(workers)
        encoded = semantic_rows(sizes, lexical, settings.max_semantic_sentences)
        semantic, sem_candidates = encode_and_search(encoded)
    elif encodes_side_by_side(embedder) or count_to_encode(embedder, texts) <= CONCURRENT_ENCODE_MAX:
        # the model and the FAISS search run in a worker thread (both release the GIL) while the
        # model-free work runs here, in this process (no fork beside running threads): for a model
        # that runs its batches side by side, or a short encode (a warm re-scan)
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(encode_and_search, stop=stop, vectors=(vectors := Future()))
            try:
                prepared, features, lexical = model_free(1)
                store.flush()  # their results written while the model encodes, not after it
                wait([vectors, future], return_when=FIRST_COMPLETED)  # then prepare beside the search
                if vectors.done() and vectors.result() is not None:  # much to align
                    prep = docs_prep(prepared, features, _split_rows(vectors.result(), prepared), future.done)
            except BaseException:  # Ctrl-C or a failure: the encoding stops at its next batch
                stop.set()
                raise
            semantic, sem_candidates = future.result()
    else:
        # a long encode on intra-op threads (torch) fills every core: work beside it would only slow it down
        # (its threads wait for each other at every step, one of them for us); the model-free work comes after
        semantic, sem_candidates = encode_and_search()
        prepared, features, lexical = model_free(workers)
    store.flush()
    result = analyse(prepared, semantic, embedder.model_id, embedder.languages, settings, skipped=skipped,
                     progress=progress, store=store, retrieved=Retrieved(features, lexical, sem_candidates, prep),
                     workers=workers, encoded=encoded)
    return replace(add_replicas(result, repeats), backend=_backend(embedder))


def _first_skipped(skipped: list[Skipped]) -> str:
    more = ", ..." if len(skipped) > 1 else ""
    return f" ({len(skipped)} skipped: {skipped[0].path}: {skipped[0].reason}{more})" if skipped else ""


def analyse(prepared: list[Prepared], semantic: np.ndarray, model_id: str,
            model_languages: frozenset[str] | None, settings: ScanSettings = ScanSettings(), *,
            skipped: Iterable[Skipped] = (), focus: frozenset[int] | None = None, store: ResultStore | None = None,
            retrieved: Retrieved | None = None, progress: bool = False, workers: int | None = None,
            encoded: np.ndarray | None = None) -> ScanResult:
    """The vectors-in core of `scan`: `semantic` holds one L2-normalised row per sentence of
    `prepared`, in order, (sentences, dimension) float32. With `focus` (document indices), only
    pairs with at least one focus document are aligned: new articles against each other and
    against an archive. With `store`, results are reused when nothing they depend on changed.
    `retrieved`: features and candidates, when the caller computed them already (the scan does,
    while the model encodes). `workers`: processes for the pair work (default: the usable cores);
    the result does not depend on it. `encoded`: (sentences,) bool, which rows of `semantic` hold a
    vector (an over-long document's are some of its sentences only, `semantic_budget`), the others
    are never read; None: all."""
    store = store or ResultStore(None)
    vectors = _split_rows(semantic, prepared)
    sizes = [len(v) for v in vectors]
    masks = split_mask(encoded, sizes)
    feats = retrieved.features if retrieved is not None else docs_features(prepared, store)
    if len(feats) != len(prepared):
        raise ConfigError(f"got features for {len(feats)} documents, expected {len(prepared)}")
    details = [f.details for f in feats]
    covered = [covers(model_languages, p.langs.document) for p in prepared]
    same = same_story_matrix(np.vstack([_centroid(v if m is None else v[m]) for v, m in zip(vectors, masks,
                                                                                               strict=True)]),
                             covered, details, settings.classify)
    neighbourhood = [frozenset(np.flatnonzero(same[i]).tolist()) | {i} for i in range(len(prepared))]
    replicas = replica_groups([p.doc.text for p in prepared])
    candidates, mined = _candidates(prepared, semantic, feats, settings, retrieved, focus, encoded)
    anchors = long_pair_anchors([(c.a, c.b) for c in candidates], sizes, mined, _doc_of_row(prepared))
    inputs = PairInputs(prepared, vectors, feats, covered, model_id, settings, anchors, masks,
                        prep=dict(retrieved.prep) if retrieved is not None and encoded is None else {})
    aligned = align_pairs(inputs, [(c.a, c.b) for c in candidates], store, workers, progress)
    credits = [Credit.at(i, c) for i, f in enumerate(feats) for c in f.credits]

    leans: dict = {}  # a pair's lean depends on that pair alone: the second pass adds the new pairs'

    def judged(cands, known=((), ())):
        """`known`: the alignments and evidence of the first of `cands`, from the first pass."""
        alignments, evidence = pair_evidences(cands[len(known[0]):], aligned, details, neighbourhood, store.remembers)
        alignments, evidence = [*known[0], *alignments], [*known[1], *evidence]
        leans.update(pair_leans(prepared, [al for al in alignments if (al.a, al.b) not in leans], evidence,
                                settings.classify.min_blocks, store, workers))
        return alignments, evidence, *classify(prepared, evidence, same, covered, settings=settings.classify,
                                               credits=credits, leans=leans, replicas=replicas)

    alignments, evidence, verdicts, clusters = judged(candidates)
    roots = unaligned_roots(clusters, aligned, focus)
    if roots:  # lineage roots that retrieval never paired: did one lineage draw on another? (one pass)
        anchors.update(long_pair_anchors(roots, sizes, mined, _doc_of_row(prepared)))  # two long roots
        aligned.update(align_pairs(inputs, roots, store, workers))
        alignments, evidence, verdicts, clusters = judged([*candidates, *(DocPair(a, b, 0, 0, 0, 0.0)
                                                                          for a, b in roots)], (alignments, evidence))
    comparisons = compare_derived(inputs, verdicts, alignments, store, workers)
    store.flush()
    return ScanResult(tuple(prepared), tuple(verdicts), tuple(clusters), comparisons, tuple(alignments),
                      tuple(evidence), tuple(skipped), model_id,
                      tuple(sorted(model_languages)) if model_languages is not None else None,
                      settings, coverage_warnings(prepared, covered, model_id) + anchor_warnings(prepared, anchors)
                      + budget_warnings(prepared, masks, settings),
                      reconstruct_stories(prepared, verdicts, clusters, comparisons),
                      {i: tuple(s) for i, p in enumerate(prepared) if (s := translation_signals(p))},
                      semantic_sentences={d: tuple(np.flatnonzero(m).tolist()) for d, m in enumerate(masks)
                                          if m is not None})


def _split_rows(semantic: np.ndarray, prepared: list[Prepared]) -> list[np.ndarray]:
    """`semantic`'s rows cut into each document's sentence vectors (views)."""
    n_rows = sum(len(p.seg.sentences) for p in prepared)
    if semantic.shape[0] != n_rows:
        raise ConfigError(f"got {semantic.shape[0]} sentence vectors for {n_rows} sentences")
    offsets = np.cumsum([0] + [len(p.seg.sentences) for p in prepared])
    return [semantic[offsets[i]:offsets[i + 1]] for i in range(len(prepared))]


def _doc_of_row(prepared: list[Prepared]) -> np.ndarray:
    return np.repeat(np.arange(len(prepared)), [len(p.seg.sentences) for p in prepared])


def _candidates(prepared, semantic, feats, settings: ScanSettings, retrieved: Retrieved | None,
                focus: frozenset[int] | None, encoded: np.ndarray | None = None) -> tuple[list, list[dict]]:
    """Candidate document pairs from the semantic and lexical sentence pairs (`match.doc_pairs`),
    and those sentence pairs (the semantic ones among the `encoded` rows only)."""
    doc_of_row = _doc_of_row(prepared)
    lexical = retrieved.lexical if retrieved is not None else lexical_search(prepared, feats, settings.match)
    if retrieved is not None:
        semantic_c = retrieved.semantic
    else:
        rows = np.arange(len(doc_of_row)) if encoded is None else np.flatnonzero(encoded)
        semantic_c = rows_to_global(semantic_pairs(semantic[rows], doc_of_row[rows], settings.match), rows)
    candidates = doc_pairs(semantic_c, lexical, doc_of_row, settings.match)
    if focus is not None:
        candidates = [c for c in candidates if c.a in focus or c.b in focus]
    return candidates, [semantic_c, lexical]


def _centroid(vecs: np.ndarray) -> np.ndarray:
    c = vecs.mean(axis=0) if len(vecs) else np.zeros(vecs.shape[1], np.float32)
    n = np.linalg.norm(c)
    return (c / n if n > 0 else c).astype(np.float32)


@gc_paused
@one_blas_thread
def scan_against_archive(documents: Iterable[Document], embedder: Embedder, name: str,
                         index_dir: str | os.PathLike, settings: ScanSettings = ScanSettings(),
                         skipped: Iterable[Skipped] = (), progress: bool = False, workers: int | None = None
                         ) -> ScanResult:
    """Compare new documents with each other and with archive `name` (see `scan`)."""
    archive = arch.load(name, index_dir, model=embedder.model_id, dimension=embedder.dimension,
                        fingerprint=vectors_fingerprint(embedder))
    fresh, already = new_documents(archive, documents, name)
    new_prepared, too_short = prepare(fresh, settings)
    skipped = [*skipped, *already, *too_short]
    if not new_prepared:
        raise InputError("no usable new article among the inputs")
    new_vecs, new_mask = encode_batch(embedder, new_prepared, settings, progress)  # within the budget
    involved = retrieve_archived(archive, new_prepared, new_vecs if new_mask is None else new_vecs[new_mask],
                                 settings)
    old_prepared, old_vecs, old_masks, old_limits = prepare_archived(archive, involved, embedder, settings, progress)
    focus = frozenset(range(len(new_prepared)))
    encoded = archived_mask(new_mask, len(new_vecs), old_prepared, old_masks)
    result = analyse(new_prepared + old_prepared, np.vstack([new_vecs, old_vecs]), embedder.model_id,
                     embedder.languages, settings, skipped=skipped, focus=focus, progress=progress, workers=workers,
                     encoded=encoded)
    limits = {len(new_prepared) + k: x for k, x in enumerate(old_limits) if x is not None}  # chosen at `index add`
    return restrict_to_focus(replace(result, semantic_limits=limits), focus, name,
                             budget_warnings(old_prepared, old_masks, settings))
