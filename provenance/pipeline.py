"""`scan()`: the whole flow, load -> clean -> segment -> langid -> embed -> index/match -> align ->
compare -> classify -> report data. The CLI, the benchmarks and notebook users all call this.

`scan_documents(docs, embedder)` starts from loaded documents, and `analyse(prepared, semantic)`
is the vectors-in core: give it sentence vectors from anywhere (a fake embedder, a cache, an
archive) and it needs no model.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import sparse

from . import __version__
from .align import ALIGN_MAX_CELLS, AlignedBlock, AlignSettings, Channel, align, align_anchored
from .classify import (
    ClassifySettings,
    Cluster,
    Credit,
    PairEvidence,
    Verdict,
    classify,
    detail_share,
    doc_credits,
    pair_evidence,
    same_story_matrix,
)
from .clean import CleanDocument, clean
from .compare import DocComparison, Reconstruction, compare_pair, reconstruct_wire
from .embed import Embedder, covers
from .errors import ConfigError, InputError
from .langid import Languages, identify
from .lexical import (
    DocNgrams,
    char_ngram_counts,
    compact_columns,
    details,
    doc_ngrams,
    name_vocabulary,
    pair_tfidf,
    scope_idf,
    tfidf_rows,
)
from .load import DEFAULT_MAX_BYTES, Document, Skipped, load_paths
from .match import (
    DocPair,
    MatchSettings,
    doc_pairs,
    knn_other_groups,
    knn_other_groups_extend,
    lexical_pairs,
    semantic_pairs,
)
from .parallel import fork_map
from .segment import Segmented, segment


@dataclass(frozen=True)
class ChannelWeights:
    """Weights of the evidence channels in alignment. When the model does not cover a pair's
    languages, the semantic weight is multiplied by `uncovered_semantic_factor`."""

    semantic: float = 0.6
    lexical: float = 0.3
    detail: float = 0.1
    uncovered_semantic_factor: float = 0.15

    def __post_init__(self):
        for name in ("semantic", "lexical", "detail", "uncovered_semantic_factor"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ConfigError(f"channel weight {name} must be in [0, 1], got {v}")
        if self.semantic + self.lexical + self.detail <= 0:
            raise ConfigError("channel weights must not all be zero")


@dataclass(frozen=True)
class ScanSettings:
    match: MatchSettings = field(default_factory=MatchSettings)
    align: AlignSettings = field(default_factory=AlignSettings)
    classify: ClassifySettings = field(default_factory=ClassifySettings)
    weights: ChannelWeights = field(default_factory=ChannelWeights)
    #: Documents with less story text than this (characters) are skipped as too short to match.
    min_story_chars: int = 120
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self):
        if self.min_story_chars < 0:
            raise ConfigError(f"min_story_chars must be >= 0, got {self.min_story_chars}")

    def as_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


@dataclass(frozen=True)
class Prepared:
    """A document after cleaning, segmentation and language identification."""

    seg: Segmented
    langs: Languages

    @property
    def doc(self) -> Document:
        return self.seg.doc

    @property
    def sentence_texts(self) -> list[str]:
        t = self.doc.text
        return [t[s.start:s.end] for s in self.seg.sentences]

    @property
    def story_chars(self) -> int:
        return sum(p.end - p.start for p in self.seg.paragraphs)


@dataclass(frozen=True)
class PairAlignment:
    """Alignment of documents `a` (source side of `blocks`) and `b` (target side)."""

    a: int
    b: int
    blocks: tuple[AlignedBlock, ...]
    retrieval: DocPair


@dataclass(frozen=True)
class ScanResult:
    prepared: tuple[Prepared, ...]
    verdicts: tuple[Verdict, ...]
    clusters: tuple[Cluster, ...]
    comparisons: dict  # doc index -> DocComparison
    alignments: tuple[PairAlignment, ...]
    evidence: tuple[PairEvidence, ...]
    skipped: tuple[Skipped, ...]
    model_id: str
    model_languages: tuple[str, ...] | None
    settings: ScanSettings
    warnings: tuple[str, ...] = ()
    reconstructions: dict = field(default_factory=dict)  # cluster index -> Reconstruction
    archived: frozenset = frozenset()  # indices of documents that come from an archive
    archive: str | None = None
    version: str = __version__


def prepare(documents: Iterable[Document], settings: ScanSettings = ScanSettings()
            ) -> tuple[list[Prepared], list[Skipped]]:
    """Clean, segment and identify the language of each document; too-short ones are skipped."""
    segs, skipped = segment_documents(documents, settings)
    return [Prepared(seg, identify(seg)) for seg in segs], skipped


def segment_documents(documents: Iterable[Document], settings: ScanSettings = ScanSettings(), store=None
                      ) -> tuple[list[Segmented], list[Skipped]]:
    """Clean and segment each document; too-short ones are skipped with the reason. With `store`
    (a cache with get/put), the spans found for a text before by this version are reused."""
    documents = list(documents)
    spans = _memoised(store, "segment", documents, lambda doc: _digest(__version__, doc.text),
                      lambda doc: _spans(segment(clean(doc))))
    segs, skipped = [], []
    for doc, (blocks, paragraphs, sentences) in zip(documents, spans, strict=True):
        seg = Segmented(CleanDocument(doc, blocks), paragraphs, sentences)
        story = sum(p.end - p.start for p in seg.paragraphs)
        if not seg.sentences or story < settings.min_story_chars:
            total = len(doc.text.strip())
            furniture = f", {total - story} of them page furniture" if total > story else ""
            skipped.append(Skipped(doc.path, f"too short to match: {total} characters of text{furniture}; "
                                              f"at least {settings.min_story_chars} of story text are needed"))
            continue
        segs.append(seg)
    return segs, skipped


def _is_store(store) -> bool:
    return store is not None and hasattr(store, "get") and hasattr(store, "put")


def _spans(seg: Segmented) -> tuple:
    return seg.clean.blocks, seg.paragraphs, seg.sentences


def _memoised(store, namespace: str, items: list, key, compute, workers: int | None = 1) -> list:
    """`[compute(x) for x in items]`, reused from `store` (a cache with get/put) under `key(x)`
    (which must hash everything the value depends on); one batched read, new values put back.
    What is not found is computed by `workers` processes (`parallel.fork_map`)."""
    if not _is_store(store):
        return fork_map(compute, items, workers)
    keys = [key(x) for x in items]
    found = _get_many(store, namespace, keys)
    todo = [i for i, k in enumerate(keys) if found.get(k) is None]
    for i, value in zip(todo, fork_map(compute, [items[i] for i in todo], workers), strict=True):
        found[keys[i]] = value
        store.put(namespace, keys[i], value)
    return [found[k] for k in keys]


def _get_many(store, namespace: str, keys: list[str]) -> dict:
    """{key: value} found in `store` (one batched read where the store has `get_many`)."""
    if not keys or not _is_store(store):
        return {}
    if hasattr(store, "get_many"):
        return store.get_many(namespace, keys)
    return {k: v for k in keys if (v := store.get(namespace, k)) is not None}


@contextmanager
def _progress(show: bool, total: int, desc: str, unit: str):
    """A tqdm bar's `update` (or None when not shown)."""
    if not show:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit=unit, leave=False) as bar:
        yield bar.update


def _gc_paused(fn):
    """Run `fn` with Python's cyclic garbage collector paused (reference counting still frees
    nearly everything a scan makes). A full collection walks every live object, the model's and
    torch's included: 0.1-0.3 s each time, several times in a cold scan, and often the largest
    single cost of a warm re-scan. Cycles left by the scan are collected after it."""
    import functools
    import gc

    @functools.wraps(fn)
    def run(*args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return run


@_gc_paused
def scan(paths: Iterable[str | os.PathLike], model: str | None = None, embedder: Embedder | None = None,
         settings: ScanSettings = ScanSettings(), progress: bool = False, index: str | None = None,
         index_dir: str | os.PathLike = "indexes", workers: int | None = None) -> ScanResult:
    """Scan files and folders; see the module docstring.

    Args:
        paths: files and folders (searched recursively).
        model: model id or local path for `embed.load_model` (ignored when `embedder` is given).
        embedder: anything with `model_id`, `dimension`, `languages` and `encode(texts)`.
        settings: thresholds and weights; written into the report header.
        progress: show progress bars (the CLI passes True only on a terminal).
        index: name of an archive in `index_dir` to compare the new articles with too; the result
            then holds the new articles and the archived ones they share a story with.
        workers: processes for aligning pairs (default: the usable cores, `$PROVENANCE_WORKERS`);
            the result does not depend on it.

    Raises:
        InputError: nothing usable was found.
        ModelError: the model cannot be loaded offline.
    """
    loaded = load_paths(paths, max_bytes=settings.max_bytes)
    if embedder is None:
        from .embed import load_model

        embedder = load_model(model)
    if index is not None:
        return scan_against_archive(loaded.documents, embedder, index, index_dir, settings,
                                    skipped=loaded.skipped, progress=progress, workers=workers)
    return scan_documents(loaded.documents, embedder, settings, skipped=loaded.skipped, progress=progress,
                          workers=workers)


def _digest(*parts) -> str:
    """SHA-256 of `parts`: strings by their UTF-8 bytes, anything else by its repr."""
    import hashlib

    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, str):
            h.update(b"s")
            h.update(part.encode("utf-8", "surrogatepass"))
        else:
            h.update(b"r")
            h.update(repr(part).encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def _identify_cached(segs: list[Segmented], store, workers: int | None = 1) -> list[Languages]:
    """Language identification of each document, reused from `store` (a cache with get/put) when
    the same text with the same paragraphs was identified by this version before."""
    return _memoised(store, "langid", segs,
                     lambda seg: _digest(__version__, seg.doc.text, seg.doc.meta.get("language"),
                                         [(p.start, p.end) for p in seg.paragraphs]),
                     identify, workers)


#: Scans that encode at most this many distinct texts (a warm re-scan) run the model-free work
#: beside the encoding; longer encodes run alone first (see `scan_documents`).
CONCURRENT_ENCODE_MAX = 256


def _to_encode(embedder: Embedder, texts: list[str]) -> int:
    """How many distinct texts `embedder` would have to encode (the cache's misses, if it has one)."""
    unique = list(dict.fromkeys(texts))
    missing = getattr(embedder, "count_missing", None)
    return int(missing(unique)) if missing is not None else len(unique)


@_gc_paused
def scan_documents(documents: Iterable[Document], embedder: Embedder, settings: ScanSettings = ScanSettings(),
                   skipped: Iterable[Skipped] = (), progress: bool = False, workers: int | None = None
                   ) -> ScanResult:
    store = embedder if hasattr(embedder, "get") else None
    segs, too_short = segment_documents(documents, settings, store)
    skipped = list(skipped) + too_short
    if not segs:
        raise InputError("no usable article among the inputs" +
                         (f" ({len(skipped)} skipped: {skipped[0].path}: {skipped[0].reason}"
                          + (", ..." if len(skipped) > 1 else "") + ")" if skipped else ""))
    texts = [seg.doc.text[s.start:s.end] for seg in segs for s in seg.sentences]
    from concurrent.futures import ThreadPoolExecutor

    doc_of_row = np.repeat(np.arange(len(segs)), [len(seg.sentences) for seg in segs])

    doc_keys = [_digest(seg.doc.text) for seg in segs]

    def encode_and_search():
        vecs = _encode(embedder, texts, progress)
        knn = semantic_knn(vecs, doc_of_row, doc_keys, embedder.model_id, settings.match, store)
        return vecs, semantic_pairs(vecs, doc_of_row, settings.match, knn=knn)

    def model_free(workers_here):
        langs = _identify_cached(segs, store, workers_here)
        prepared = [Prepared(seg, lang) for seg, lang in zip(segs, langs, strict=True)]
        features = docs_features(prepared, store, workers_here)
        return prepared, features, lexical_search(prepared, features, settings)

    if _to_encode(embedder, texts) <= CONCURRENT_ENCODE_MAX:
        # a short encode (a warm re-scan): the model and the FAISS search run in a worker thread
        # (both release the GIL) while the model-free work runs here
        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(encode_and_search)
            prepared, features, lexical = model_free(1)
            semantic, sem_candidates = future.result()
    else:
        # a long encode fills every core: work beside it would only slow it down (torch's threads
        # wait for each other at every step, and one of them waits for us). The model-free work
        # comes after it, on all cores.
        semantic, sem_candidates = encode_and_search()
        prepared, features, lexical = model_free(workers)
    if store is not None and hasattr(store, "flush"):
        store.flush()
    return analyse(prepared, semantic, model_id=embedder.model_id, model_languages=embedder.languages,
                   settings=settings, skipped=skipped, progress=progress, store=store, features=features,
                   lexical_candidates=lexical, semantic_candidates=sem_candidates, workers=workers)


def semantic_knn(vecs: np.ndarray, doc_of_row: np.ndarray, doc_keys: list[str], model_id: str,
                 settings: MatchSettings, store=None) -> tuple[np.ndarray, np.ndarray]:
    """Each sentence's nearest sentences of other documents (`match.knn_other_groups`), carried
    over from the last scan in `store`: a sentence vector depends on its text and the model alone,
    so a list from the last scan still holds for the documents still here, unless it names a
    sentence of a document now gone. Only the other sentences are searched, and the new articles'
    sentences merged into the kept lists (`match.knn_other_groups_extend`): exact up to float
    rounding (and the order of equal cosines). `doc_keys`: a digest of each document's text, in
    order. One slot per model and search depth: the last scan wins."""
    depth = settings.k * settings.search_depth
    if not _is_store(store) or not len(vecs):
        return knn_other_groups(vecs, doc_of_row, depth)
    counts = np.bincount(doc_of_row, minlength=len(doc_keys)).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    slot = _digest(__version__, "semantic-knn", model_id, depth)
    result = None
    prev = store.get("knn", slot)
    if prev is not None:
        prev_keys, prev_counts, prev_scores, prev_rows = prev
        free: dict[str, list[int]] = {}
        for i, key in enumerate(doc_keys):
            free.setdefault(key, []).append(i)
        # row of the last scan -> row now, -1 where its document is gone (or segmented otherwise)
        row_map = np.full(int(sum(prev_counts)), -1, np.int64)
        seen = np.zeros(len(doc_keys), bool)
        at = 0
        for key, c in zip(prev_keys, prev_counts, strict=True):
            if free.get(key) and counts[free[key][0]] == c:
                d = free[key].pop(0)
                row_map[at:at + c] = np.arange(offsets[d], offsets[d] + c)
                seen[d] = True
            at += c
        rows = np.where(prev_rows >= 0, row_map[np.maximum(prev_rows, 0)], -1).astype(np.int64)
        usable = (row_map >= 0) & ~((prev_rows >= 0) & (rows < 0)).any(axis=1)
        if usable.any():
            scores = np.asarray(prev_scores, dtype=np.float32)[usable]
            rows = rows[usable]
            # re-sorted by the rows' new order, which breaks ties
            order = np.lexsort((np.where(rows >= 0, rows, len(vecs)), -np.where(rows >= 0, scores, -np.inf)), axis=1)
            rows, scores = np.take_along_axis(rows, order, axis=1), np.take_along_axis(scores, order, axis=1)
            known = row_map[usable]
            perm = np.argsort(known, kind="stable")
            added = np.flatnonzero(~seen[doc_of_row])
            result = knn_other_groups_extend(vecs, doc_of_row, depth, known[perm], scores[perm], rows[perm], added)
    if result is None:
        result = knn_other_groups(vecs, doc_of_row, depth)
    store.put("knn", slot, (tuple(doc_keys), counts.tolist(), result[0], result[1].astype(np.int32)))
    return result


def _doc_details(p: Prepared) -> set[str]:
    return {k for row in sentence_details([p]) for k in row}


def _retrieve_archived(archive, new: list[Prepared], new_vecs: np.ndarray, settings: ScanSettings) -> list:
    """Archived documents worth comparing with the new ones: those the archive's FAISS index
    returns for their sentences (at least `min_sentence_pairs` hits above the semantic floor, or
    one near-duplicate), and those sharing enough names and numbers with one of them (the
    model-free route, for languages the model does not cover). Cost grows with the new
    articles, not with the archive."""
    from .index import NPROBE

    if not archive.documents:
        return []
    row_doc = np.zeros(len(archive.vectors), dtype=np.int64)
    for k, a in enumerate(archive.documents):
        row_doc[a.rows[0]:a.rows[1]] = k
    index = archive.faiss_index()
    try:
        import faiss

        faiss.extract_index_ivf(index).nprobe = NPROBE
    except RuntimeError:  # not an IVF index
        pass
    ms = settings.match
    depth = min(len(archive.vectors), ms.k * ms.search_depth)
    hits: dict[int, int] = {}
    if depth and len(new_vecs):
        scores, rows = index.search(np.ascontiguousarray(new_vecs, dtype=np.float32), depth)
        for srow, rrow in zip(scores, rows, strict=True):
            seen = set()
            for sc, r in zip(srow, rrow, strict=True):
                if r < 0 or sc < ms.semantic_floor:
                    continue
                d = int(row_doc[r])
                if d in seen:
                    continue
                seen.add(d)
                hits[d] = hits.get(d, 0) + (ms.min_sentence_pairs if sc >= ms.duplicate_semantic else 1)
    chosen = {d for d, n in hits.items() if n >= ms.min_sentence_pairs}
    new_details = [_doc_details(p) for p in new]
    for k, a in enumerate(archive.documents):
        if k not in chosen and any(len(nd & set(a.details)) >= settings.classify.story_details_alone
                                   for nd in new_details):
            chosen.add(k)
    return [archive.documents[k] for k in sorted(chosen)]


def _prepare_archived(archive, documents: list, embedder: Embedder, settings: ScanSettings, progress: bool
                      ) -> tuple[list[Prepared], np.ndarray]:
    """Archived `documents` as `Prepared`, with their stored vectors and languages. A document
    this version segments differently is identified and re-encoded (through the cache, if any)."""
    segs, _ = segment_documents([a.doc for a in documents], replace_settings(settings, min_story_chars=0))
    by_id = {seg.doc.id: seg for seg in segs}
    out, vecs = [], []
    for a in documents:
        seg = by_id.get(a.doc.id)
        if seg is None:
            continue
        stored = a.languages
        if stored and len(stored["paragraphs"]) == len(seg.paragraphs):  # identified at `index add`
            langs = Languages(stored["document"], tuple(stored["paragraphs"]),
                              tuple((k, v) for k, v in stored["shares"]), stored.get("declared"))
        else:
            langs = identify(seg)
        p = Prepared(seg, langs)
        spans = tuple((s.start, s.end) for s in p.seg.sentences)
        if spans == a.sentences:
            vecs.append(archive.vectors[a.rows[0]:a.rows[1]])
        else:
            vecs.append(_encode(embedder, p.sentence_texts, progress))
        out.append(p)
    dim = archive.dimension
    return out, (np.vstack(vecs) if vecs else np.zeros((0, dim), np.float32))


@_gc_paused
def scan_against_archive(documents: Iterable[Document], embedder: Embedder, name: str,
                         index_dir: str | os.PathLike, settings: ScanSettings = ScanSettings(),
                         skipped: Iterable[Skipped] = (), progress: bool = False, workers: int | None = None
                         ) -> ScanResult:
    """Compare new documents with each other and with archive `name` (see `scan`)."""
    from . import archive as arch

    archive = arch.load(name, index_dir, model=embedder.model_id, dimension=embedder.dimension,
                        fingerprint=getattr(embedder, "fingerprint", None))
    skipped = list(skipped)
    archived_text = {a.doc.id: a.doc.text for a in archive.documents}
    fresh = []
    for d in documents:
        if d.id in archived_text:
            if archived_text[d.id] == d.text:
                skipped.append(Skipped(d.path, f"already archived in index {name!r} as {d.id}: compared as archived"))
                continue
            d = replace(d, id=f"{d.id}~new")
        fresh.append(d)
    new_prepared, too_short = prepare(fresh, settings)
    skipped += too_short
    if not new_prepared:
        raise InputError("no usable new article among the inputs")
    new_vecs = _encode(embedder, [t for p in new_prepared for t in p.sentence_texts], progress)
    involved = _retrieve_archived(archive, new_prepared, new_vecs, settings)
    old_prepared, old_vecs = _prepare_archived(archive, involved, embedder, settings, progress)
    prepared = new_prepared + old_prepared
    focus = frozenset(range(len(new_prepared)))
    result = analyse(prepared, np.vstack([new_vecs, old_vecs]), embedder.model_id, embedder.languages,
                     settings, skipped, progress, focus=focus, workers=workers)
    return _restrict_to_focus(result, focus, name)


def _restrict_to_focus(result: ScanResult, focus: frozenset[int], archive_name: str) -> ScanResult:
    """Keep the new documents and the archived ones that share a story cluster with one."""
    clusters = {v.cluster for v in result.verdicts if v.doc in focus and v.cluster is not None}
    keep = {v.doc for v in result.verdicts if v.doc in focus or v.cluster in clusters}
    verdicts = tuple(v for v in result.verdicts if v.doc in keep)
    kept_clusters = tuple(c for c in result.clusters if c.index in clusters)
    archived = frozenset(i for i in keep if i not in focus)
    return replace(result, verdicts=verdicts, clusters=kept_clusters, archived=archived, archive=archive_name)


def replace_settings(settings: ScanSettings, **changes) -> ScanSettings:
    return replace(settings, **changes)


def _encode(embedder: Embedder, texts: list[str], progress: bool) -> np.ndarray:
    """Encode `texts`, each distinct text once (copies of a wire repeat whole sentences)."""
    unique = list(dict.fromkeys(texts))
    if len(unique) < len(texts):
        vecs = _encode(embedder, unique, progress)
        where = {t: i for i, t in enumerate(unique)}
        return vecs[[where[t] for t in texts]]
    if not progress or len(texts) < 64:
        vecs = embedder.encode(texts)
    else:
        from tqdm import tqdm

        chunks = []
        with tqdm(total=len(texts), desc="embedding", unit="sent", leave=False) as bar:
            for lo in range(0, len(texts), 256):
                chunks.append(embedder.encode(texts[lo:lo + 256]))
                bar.update(len(chunks[-1]))
        vecs = np.vstack(chunks)
    vecs = np.asarray(vecs, dtype=np.float32)
    if vecs.shape != (len(texts), embedder.dimension):
        raise ConfigError(f"embedder {embedder.model_id} returned shape {vecs.shape}, expected "
                          f"({len(texts)}, {embedder.dimension})")
    return vecs


@dataclass(frozen=True)
class DocFeatures:
    """What the analysis reads from one document's text alone: hashed char n-gram counts and the
    detail keys of each sentence. Depends on nothing else in the scan, so it is cached per text."""

    counts: sparse.csr_matrix
    keys: tuple[tuple[str, ...], ...]
    credits: tuple[Credit, ...]  # with doc index 0


def doc_features(p: Prepared) -> DocFeatures:
    """`DocFeatures` of one document."""
    return DocFeatures(char_ngram_counts(p.sentence_texts), tuple(tuple(row) for row in sentence_details([p])),
                       tuple(doc_credits(p)))


def docs_features(prepared: list[Prepared], store=None, workers: int | None = 1) -> list[DocFeatures]:
    """`doc_features` of each document, reused from `store` (a cache with get/put) when this version
    saw the same text with the same sentences before; computed by `workers` processes."""
    return _memoised(store, "features", prepared,
                     lambda p: _digest(__version__, p.doc.text, [(x.start, x.end) for x in p.seg.sentences]),
                     doc_features, workers)


def sentence_details(prepared: list[Prepared]) -> list[list[str]]:
    """Detail keys (names, numbers outside quotations) of every sentence, in row order. A
    sentence-initial capitalised word counts as a name when the same article also uses it
    mid-sentence: each document's keys depend on its own text only, so adding articles to a scan
    never changes another article's details (nor the cached alignments that use them)."""
    out = []
    for p in prepared:
        known = name_vocabulary(["\n".join(p.doc.text[q.start:q.end] for q in p.seg.paragraphs)])
        out += [[m.key for m in details(t, known)] for t in p.sentence_texts]
    return out


def detail_weights(doc_sets: list[frozenset[str]], scope: Iterable[int]) -> dict[str, float]:
    """Rarity of each detail within `scope` (document indices): `w = log((N + 1) / (df + 0.5))`, so
    a detail every article of the story carries counts little and one only a pair shares counts
    much. Computed per story neighbourhood, so unrelated documents in the scan change nothing."""
    scope = list(scope)
    df = Counter(k for i in scope for k in doc_sets[i])
    n = len(scope)
    return {k: math.log((n + 1) / (c + 0.5)) for k, c in df.items()}


def _lengths(p: Prepared) -> np.ndarray:
    return np.array([s.end - s.start for s in p.seg.sentences], dtype=float)


def _joinable(p: Prepared) -> np.ndarray:
    """Sentence i may merge with i+1 only when nothing but whitespace lies between them (so a merge
    never spans page furniture)."""
    t, ss = p.doc.text, p.seg.sentences
    return np.array([not t[ss[i].end:ss[i + 1].start].strip() for i in range(len(ss) - 1)], dtype=bool)


def lexical_search(prepared: list[Prepared], feats: list[DocFeatures], settings: ScanSettings = ScanSettings()
                   ) -> dict[tuple[int, int], float]:
    """Sentence pairs mined from char n-gram TF-IDF (IDF over the whole scan) between documents,
    and between languages where the scan mixes them (`match.lexical_pairs`). Needs no vectors."""
    doc_of_row = np.repeat(np.arange(len(prepared)), [len(p.seg.sentences) for p in prepared])
    if not len(doc_of_row):
        return {}
    counts = compact_columns(sparse.vstack([f.counts for f in feats]).tocsr())
    lexical = tfidf_rows(counts, scope_idf(counts, np.arange(len(doc_of_row))))
    del counts  # a long document's n-grams are the largest arrays of the search
    languages = np.array([prepared[d].langs.document for d in doc_of_row])
    return lexical_pairs(lexical, doc_of_row, settings.match, languages=languages)


def align_pair(pa: Prepared, pb: Prepared, sem_a: np.ndarray, sem_b: np.ndarray, ngrams_a: DocNgrams,
               ngrams_b: DocNgrams, keys_a: list[list[str]], keys_b: list[list[str]], both_covered: bool,
               settings: ScanSettings = ScanSettings(), anchors: np.ndarray | None = None) -> list[AlignedBlock]:
    """Align two documents from their sentence vectors, char n-grams and detail keys.

    The lexical and detail channels take their statistics from the pair's own sentences
    (n-gram IDF, and the rarity of each name or number among the pair's sentences), not from
    the rest of the scan: an alignment then depends on the two texts alone, so adding an article
    to a story never changes how the others align, and cached alignments stay exact.

    A pair of more than `align.ALIGN_MAX_CELLS` sentence pairs (two long documents) is aligned
    around `anchors`, (A, 2) sentence pairs (row in a, row in b) known to match (`align_anchored`);
    without them, not at all.
    """
    lex = pair_tfidf(ngrams_a, ngrams_b)
    det_a, det_b = pair_detail_vectors(keys_a, keys_b)
    w = settings.weights
    sem_w = w.semantic * (1.0 if both_covered else w.uncovered_semantic_factor)
    channels = [
        Channel("semantic", sem_a, sem_b, sem_w),
        Channel("lexical", lex.a, lex.b, w.lexical, lex.a_pair_norms, lex.b_pair_norms),
        Channel("detail", det_a, det_b, w.detail),
    ]
    if len(sem_a) * len(sem_b) > ALIGN_MAX_CELLS:
        return align_anchored(channels, np.zeros((0, 2), np.int64) if anchors is None else anchors, settings.align,
                              _joinable(pa), _joinable(pb), margin=not both_covered, src_lengths=_lengths(pa),
                              tgt_lengths=_lengths(pb))
    return align(channels, settings.align, _joinable(pa), _joinable(pb), margin=not both_covered,
                 src_lengths=_lengths(pa), tgt_lengths=_lengths(pb))


def pair_detail_vectors(keys_a: list[list[str]], keys_b: list[list[str]]
                        ) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """L2-normalised detail rows of two documents, sparse: each key weighted by its rarity among
    the pair's sentences, `log((n + 1) / (df + 0.5))` (floor 0.05)."""
    rows = [frozenset(row) for row in list(keys_a) + list(keys_b)]
    rarity = detail_weights(rows, range(len(rows)))  # the sentences play the documents' part
    vocab = {k: i for i, k in enumerate(sorted(rarity))}
    indptr = np.cumsum([0] + [len(row) for row in rows])
    indices = np.fromiter((vocab[k] for row in rows for k in row), dtype=np.int64, count=int(indptr[-1]))
    data = np.maximum(np.array([rarity[k] for row in rows for k in row], dtype=np.float64), 0.05)
    m = sparse.csr_matrix((data, indices, indptr), shape=(len(rows), max(len(vocab), 1)))
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    m.data /= np.repeat(np.where(norms > 0, norms, 1.0), np.diff(indptr))
    m.sort_indices()
    return m[:len(keys_a)], m[len(keys_a):]


def analyse(prepared: list[Prepared], semantic: np.ndarray, model_id: str,
            model_languages: frozenset[str] | None, settings: ScanSettings = ScanSettings(),
            skipped: Iterable[Skipped] = (), progress: bool = False,
            focus: frozenset[int] | None = None, store=None,
            features: list[DocFeatures] | None = None, lexical_candidates: dict | None = None,
            semantic_candidates: dict | None = None, workers: int | None = None) -> ScanResult:
    """The vectors-in core of `scan`: `semantic` holds one L2-normalised row per sentence of
    `prepared`, in order. With `focus` (document indices), only pairs with at least one focus
    document are aligned: new articles against each other and against an archive. With `store`
    (a cache with get/put), pair alignments are reused when nothing they depend on changed.
    `features`, `lexical_candidates` and `semantic_candidates`: each document's `doc_features`,
    the `lexical_search` and `match.semantic_pairs` results, when the caller computed them already
    (the scan does, while the model encodes). `workers`: processes for the pair alignments
    (`parallel.fork_map`; default: the usable cores); the result does not depend on it."""
    n_rows = sum(len(p.seg.sentences) for p in prepared)
    if semantic.shape[0] != n_rows:
        raise ConfigError(f"got {semantic.shape[0]} sentence vectors for {n_rows} sentences")
    offsets = np.cumsum([0] + [len(p.seg.sentences) for p in prepared])
    doc_of_row = np.repeat(np.arange(len(prepared)), np.diff(offsets))
    feats = features if features is not None else docs_features(prepared, store)
    if len(feats) != len(prepared):
        raise ConfigError(f"got features for {len(feats)} documents, expected {len(prepared)}")
    keys = [list(row) for f in feats for row in f.keys]
    doc_details = [frozenset(k for rows in keys[offsets[i]:offsets[i + 1]] for k in rows)
                   for i in range(len(prepared))]

    class _Covers:
        languages = model_languages

    covered = [covers(_Covers, p.langs.document) for p in prepared]
    uncovered = sorted({p.langs.document for p, c in zip(prepared, covered, strict=True) if not c})
    warnings = []
    if uncovered:
        warnings.append(f"model {model_id} does not cover {', '.join(uncovered)}: matching across those "
                        "languages relies on names, numbers and character n-grams; pass --model with a "
                        "multilingual model (e.g. paraphrase-multilingual-MiniLM-L12-v2 saved locally) "
                        "for full semantic matching")
    centroids = np.vstack([_centroid(semantic[offsets[i]:offsets[i + 1]]) for i in range(len(prepared))])
    same = same_story_matrix(centroids, covered, doc_details, settings.classify)
    neighbourhood = [frozenset(np.flatnonzero(same[i]).tolist()) | {i} for i in range(len(prepared))]

    if lexical_candidates is None:
        lexical_candidates = lexical_search(prepared, feats, settings)
    if semantic_candidates is None:
        semantic_candidates = semantic_pairs(semantic, doc_of_row, settings.match)
    candidates = doc_pairs(semantic_candidates, lexical_candidates, doc_of_row, settings.match)
    if focus is not None:
        candidates = [c for c in candidates if c.a in focus or c.b in focus]
    alignments: list[PairAlignment] = []
    evidence = []
    story_weights: dict[frozenset, dict[str, float]] = {}
    text_digest = [_digest(p.doc.text) for p in prepared] if _is_store(store) else []
    settings_digest = _digest(settings.as_dict())
    ngrams: dict[int, DocNgrams] = {}
    pair_keys: dict[tuple[int, int], str] = {}
    # a pair too long to align in full is aligned around the sentence pairs retrieval found
    # (`align.align_anchored`), which then belong to its cache key
    sizes = np.diff(offsets)
    anchors = _pair_anchors({(c.a, c.b) for c in candidates if sizes[c.a] * sizes[c.b] > ALIGN_MAX_CELLS},
                            [semantic_candidates, lexical_candidates], doc_of_row, offsets)
    for (a, b), found in sorted(anchors.items()):
        warnings.append(f"{prepared[a].doc.id} and {prepared[b].doc.id} are too long to align in full "
                        f"({sizes[a]} x {sizes[b]} sentences): aligned around the {len(found)} sentence "
                        "pairs retrieval found between them")

    if _is_store(store):
        # the alignment depends on the pair alone: model, settings, both texts (and what this
        # version derives from them) and their languages (which a declared language can set),
        # so a warm re-scan realigns only pairs with a new or changed article
        for cand in candidates:
            a, b = cand.a, cand.b
            extra = [anchors[a, b].tolist()] if (a, b) in anchors else []
            pair_keys[a, b] = _digest(__version__, model_id, settings_digest, covered[a] and covered[b],
                                      text_digest[a], text_digest[b], prepared[a].langs, prepared[b].langs, *extra)
    cached_pairs = _get_many(store, "pair", list(pair_keys.values()))

    def align_one(ab: tuple[int, int]) -> tuple:
        """Blocks of pair (a, b) and the evidence both ways (without the story-dependent detail
        share, which is added below): all a cache keeps of a pair."""
        a, b = ab
        for d in (a, b):
            if d not in ngrams:
                ngrams[d] = doc_ngrams(feats[d].counts)
        ra, rb = slice(offsets[a], offsets[a + 1]), slice(offsets[b], offsets[b + 1])
        blocks = tuple(align_pair(prepared[a], prepared[b], semantic[ra], semantic[rb], ngrams[a], ngrams[b],
                                  keys[ra], keys[rb], covered[a] and covered[b], settings, anchors.get((a, b))))
        return (blocks, pair_evidence(prepared, a, b, blocks, doc_details, None, target_is_b=True),
                pair_evidence(prepared, a, b, blocks, doc_details, None, target_is_b=False))

    todo = [(c.a, c.b) for c in candidates if cached_pairs.get(pair_keys.get((c.a, c.b))) is None]
    with _progress(progress and len(todo) > 20, len(todo), "aligning", "pair") as done:
        computed = dict(zip(todo, fork_map(align_one, todo, workers, on_done=done), strict=True))
    for ab, value in computed.items():
        if ab in pair_keys:
            store.put("pair", pair_keys[ab], value)
    for cand in candidates:
        a, b = cand.a, cand.b
        # detail rarity for the derivation evidence comes from the pair's story neighbourhoods
        # (a detail every article of the story carries says nothing about who copied whom)
        scope = neighbourhood[a] | neighbourhood[b]
        if scope not in story_weights:
            story_weights[scope] = detail_weights(doc_details, scope)
        weight = story_weights[scope]
        cached = computed.get((a, b)) or cached_pairs[pair_keys[a, b]]
        blocks, to_b, to_a = cached
        alignments.append(PairAlignment(a, b, blocks, cand))
        # a cached value may come from a scan where the documents had other indices
        for e, t, src in ((to_b, b, a), (to_a, a, b)):
            evidence.append(replace(e, target=t, source=src,
                                    detail_share=detail_share(doc_details[t], doc_details[src], weight)))
    credits = [replace(c, doc=i) for i, f in enumerate(feats) for c in f.credits]
    verdicts, clusters = classify(prepared, evidence, same, covered, settings=settings.classify, credits=credits)
    by_pair = {(pa.a, pa.b): pa for pa in alignments}
    comparisons: dict[int, DocComparison] = {}
    compare_keys = {}
    for v in verdicts:
        if v.derived_from is not None:
            s, t = v.derived_from, v.doc
            if (min(s, t), max(s, t)) in pair_keys:
                compare_keys[t] = _digest(pair_keys[min(s, t), max(s, t)], s < t)
    cached_comparisons = _get_many(store, "compare", list(compare_keys.values()))

    def blocks_between(s: int, t: int) -> tuple[AlignedBlock, ...] | None:
        """The blocks of pair (s, t) with `s` on the source side; None if the pair was not aligned."""
        pa = by_pair.get((min(s, t), max(s, t)))
        if pa is None:
            return None
        return pa.blocks if pa.a == s else tuple(AlignedBlock(b.tgt, b.src, b.score, b.moved, b.reused)
                                                 for b in pa.blocks)

    def compare_one(st: tuple[int, int]) -> DocComparison:
        s, t = st
        return compare_pair(prepared[s], prepared[t], blocks_between(s, t) or ())

    derived = [(v.derived_from, v.doc) for v in verdicts if v.derived_from is not None]
    todo = [(s, t) for s, t in derived
            if blocks_between(s, t) is None or cached_comparisons.get(compare_keys.get(t)) is None]
    computed_cmp = dict(zip(todo, fork_map(compare_one, todo, workers), strict=True))
    for s, t in derived:
        comparison = computed_cmp.get((s, t))
        if comparison is None:
            comparison = cached_comparisons[compare_keys[t]]
        elif compare_keys.get(t) is not None and blocks_between(s, t) is not None:
            store.put("compare", compare_keys[t], comparison)
        comparisons[t] = replace(comparison, source=s, target=t)
    if store is not None and hasattr(store, "flush"):
        store.flush()
    reconstructions: dict[int, Reconstruction] = {}
    for c in clusters:
        if c.source is None:
            continue
        copies = {v.doc: comparisons[v.doc] for v in verdicts
                  if v.cluster == c.index and v.derived_from == c.source and v.relation == "copy"}
        if copies:
            reconstructions[c.index] = reconstruct_wire(prepared, c.source, copies)
    return ScanResult(tuple(prepared), tuple(verdicts), tuple(clusters), comparisons, tuple(alignments),
                      tuple(evidence), tuple(skipped), model_id,
                      tuple(sorted(model_languages)) if model_languages is not None else None,
                      settings, tuple(warnings), reconstructions)


def _pair_anchors(pairs: set[tuple[int, int]], mined: list[dict], doc_of_row: np.ndarray, offsets: np.ndarray
                  ) -> dict[tuple[int, int], np.ndarray]:
    """The mined sentence pairs (`match.semantic_pairs`, `match.lexical_pairs`: global rows i < j)
    between the documents of each pair `(a, b)` in `pairs`, as (A, 2) rows (row in a, row in b)."""
    found: dict[tuple[int, int], set] = {ab: set() for ab in pairs}
    if found:
        for rows in mined:
            for i, j in rows:
                ab = (int(doc_of_row[i]), int(doc_of_row[j]))
                if ab in found:
                    found[ab].add((i - int(offsets[ab[0]]), j - int(offsets[ab[1]])))
    return {ab: np.array(sorted(v), dtype=np.int64).reshape(-1, 2) for ab, v in found.items()}


def _centroid(vecs: np.ndarray) -> np.ndarray:
    c = vecs.mean(axis=0) if len(vecs) else np.zeros(vecs.shape[1], np.float32)
    n = np.linalg.norm(c)
    return (c / n if n > 0 else c).astype(np.float32)


# --- archives --------------------------------------------------------------------------------

@dataclass(frozen=True)
class IndexUpdate:
    name: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    documents: int
    vectors: int
    generation: str


def index_add(name: str, paths: Iterable[str | os.PathLike], index_dir: str | os.PathLike = "indexes",
              embedder: Embedder | None = None, model: str | None = None,
              settings: ScanSettings = ScanSettings(), progress: bool = False) -> IndexUpdate:
    """Create archive `name` or add articles to it. Articles whose id is already archived are
    skipped with the reason (remove them first to replace them)."""
    from . import archive as arch

    loaded = load_paths(paths, max_bytes=settings.max_bytes)
    if embedder is None:
        from .embed import load_model

        embedder = load_model(model)
    prepared, too_short = prepare(loaded.documents, settings)
    skipped = list(loaded.skipped) + too_short
    with arch.locked(name, index_dir) as root:
        old = None
        if arch.exists(name, index_dir):
            old = arch.load(name, index_dir, embedder.model_id, embedder.dimension,
                            getattr(embedder, "fingerprint", None))
        docs = list(old.documents) if old else []
        vecs = [old.vectors] if old else []
        have = {d.doc.id: d.doc.text for d in docs}
        new = []
        for p in prepared:
            if p.doc.id in have:
                same = have[p.doc.id] == p.doc.text
                skipped.append(Skipped(p.doc.path, f"id {p.doc.id} is already in index {name!r}" +
                                       ("" if same else " with another text: remove it first with "
                                                         f"`provenance index remove {name} {p.doc.id}`")))
                continue
            have[p.doc.id] = p.doc.text
            new.append(p)
        if new:
            new_vecs = _encode(embedder, [t for p in new for t in p.sentence_texts], progress)
            row = sum(len(v) for v in vecs)
            k = 0
            for p in new:
                n = len(p.seg.sentences)
                langs = {"document": p.langs.document, "paragraphs": list(p.langs.paragraphs),
                         "shares": [list(x) for x in p.langs.shares], "declared": p.langs.declared}
                docs.append(arch.ArchivedDoc(p.doc, tuple((s.start, s.end) for s in p.seg.sentences), (row, row + n),
                                             langs, tuple(sorted(_doc_details(p)))))
                row += n
                k += n
            vecs.append(new_vecs)
        if not new and old is not None:
            gen = old.generation
        else:
            all_vecs = np.vstack(vecs) if vecs else np.zeros((0, embedder.dimension), np.float32)
            gen = arch.write_generation(root, embedder.model_id, embedder.dimension, docs, all_vecs,
                                        getattr(embedder, "fingerprint", None) or (old.fingerprint if old else None))
        return IndexUpdate(name, tuple(p.doc.id for p in new), (), tuple(skipped), len(docs),
                           sum(len(v) for v in vecs), gen)


def index_remove(name: str, ids: Iterable[str], index_dir: str | os.PathLike = "indexes") -> IndexUpdate:
    """Remove documents by id; unknown ids come back as skipped entries."""
    from . import archive as arch

    ids = list(dict.fromkeys(ids))
    with arch.locked(name, index_dir) as root:
        old = arch.load(name, index_dir)
        unknown = [i for i in ids if i not in set(old.ids)]
        drop = set(ids) - set(unknown)
        if not drop:
            raise InputError(f"none of {', '.join(ids)} is in index {name!r}; `provenance index info {name}` "
                             "lists its documents")
        docs, vecs, row = [], [], 0
        for d in old.documents:
            if d.doc.id in drop:
                continue
            n = d.rows[1] - d.rows[0]
            docs.append(arch.ArchivedDoc(d.doc, d.sentences, (row, row + n), d.languages, d.details))
            vecs.append(old.vectors[d.rows[0]:d.rows[1]])
            row += n
        all_vecs = np.vstack(vecs) if vecs else np.zeros((0, old.dimension), np.float32)
        gen = arch.write_generation(root, old.model, old.dimension, docs, all_vecs, old.fingerprint)
        return IndexUpdate(name, (), tuple(sorted(drop)), tuple(Skipped(i, "not in the index") for i in unknown),
                           len(docs), row, gen)


def index_info(name: str, index_dir: str | os.PathLike = "indexes") -> dict:
    from . import archive as arch

    a = arch.load(name, index_dir)
    return {"name": name, "path": str(a.path), "generation": a.generation, "documents": len(a.documents),
            "vectors": int(len(a.vectors)), "model": a.model, "model_fingerprint": a.fingerprint,
            "dimension": a.dimension,
            "index_type": a.index_type, "size_on_disk": a.size_on_disk(), "ids": a.ids}
