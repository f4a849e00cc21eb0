"""Archive operations: add documents to an archive, remove them, describe it, and the two steps
a scan against an archive needs (which archived documents to bring in, and bringing them in with
their stored vectors and languages). The files themselves are `archive`'s business."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from . import archive as arch
from .embed import Embedder, vectors_fingerprint
from .errors import ArchiveError, InputError
from .features import doc_details, docs_features
from .index import NPROBE, reproducible_faiss
from .langid import Languages, identify
from .load import Skipped, load_paths
from .preparation import Prepared, prepare, segment_documents
from .result import ScanResult
from .retrieve import lexical_search
from .semantic_budget import budget_warning, encode_within, over_budget, split_mask, spread_rows
from .settings import ScanSettings


@dataclass(frozen=True)
class IndexUpdate:
    """What `index_add` or `index_remove` did: ids added or removed, inputs skipped (with the
    reason), and the archive's size and live generation afterwards."""

    name: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    documents: int
    vectors: int
    generation: str
    #: one line per added document over `max_semantic_sentences` (`semantic_budget.budget_warning`)
    warnings: tuple[str, ...] = ()


def retrieve_archived(archive: arch.Archive, new: list[Prepared], new_vecs: np.ndarray, settings: ScanSettings
                      ) -> list[arch.ArchivedDoc]:
    """Archived documents worth comparing with the new ones: those the archive's FAISS index
    returns for their sentences (at least `min_sentence_pairs` hits above the semantic floor, or
    one near-duplicate), and those sharing enough names and numbers with one of them (the
    model-free route, for languages the model does not cover). Cost grows with the new
    articles, not with the archive."""
    if not archive.documents:
        return []
    row_doc = np.zeros(len(archive.vectors), dtype=np.int64)
    for k, a in enumerate(archive.documents):
        row_doc[a.rows[0]:a.rows[1]] = k
    reproducible_faiss()
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
    new_details = [doc_details(p) for p in new]
    for k, a in enumerate(archive.documents):
        if k not in chosen and any(len(nd & set(a.details)) >= settings.classify.story_details_alone
                                   for nd in new_details):
            chosen.add(k)
    return [archive.documents[k] for k in sorted(chosen)]


def prepare_archived(archive: arch.Archive, documents: list[arch.ArchivedDoc], embedder: Embedder,
                     settings: ScanSettings, progress: bool) -> tuple[list[Prepared], np.ndarray, list, list]:
    """Archived `documents` as `Prepared`, with their stored vectors (one row per sentence; zeros
    where an over-long document has none), languages, `encoded` masks (None: every sentence has
    a vector) and the sentence limit each mask was chosen under where it came from the archive
    (None otherwise). A document this version segments differently is identified and re-encoded
    (through the cache, if any), within `max_semantic_sentences` (evenly spread sentences)."""
    segs, _ = segment_documents([a.doc for a in documents], replace(settings, min_story_chars=0))
    by_id = {seg.doc.id: seg for seg in segs}
    out, vecs, masks, limits = [], [], [], []
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
        if p.sentence_spans == a.sentences:
            held, mask = with_gaps(archive.vectors[a.rows[0]:a.rows[1]], a.encoded, len(a.sentences))
            limits.append(a.limit if mask is not None else None)
        else:
            limits.append(None)
            n = len(p.seg.sentences)
            held, mask = encode_within(embedder, p.sentence_texts, [n], {}, settings.max_semantic_sentences,
                                       progress)
        vecs.append(held)
        masks.append(mask)
        out.append(p)
    return out, (np.vstack(vecs) if vecs else np.zeros((0, archive.dimension), np.float32)), masks, limits


def with_gaps(held: np.ndarray, encoded: tuple[int, ...] | None, sentences: int
              ) -> tuple[np.ndarray, np.ndarray | None]:
    """A document's stored vectors as one row per sentence (zeros, never read, where `encoded`
    lists none) and its `encoded` mask (None: every sentence has a vector)."""
    if encoded is None:
        return held, None
    mask = np.zeros(sentences, bool)
    mask[list(encoded)] = True
    return spread_rows(held, np.flatnonzero(mask), sentences), mask


def new_documents(archive: arch.Archive, documents: Iterable, name: str) -> tuple[list, list[Skipped]]:
    """The documents not archived already (an archived id with another text is renamed `ID~new`),
    and a `Skipped` entry for each that is."""
    archived_text = {a.doc.id: a.doc.text for a in archive.documents}
    fresh, skipped = [], []
    for d in documents:
        if d.id in archived_text:
            if archived_text[d.id] == d.text:
                skipped.append(Skipped(d.path, f"already archived in index {name!r} as {d.id}: compared as archived"))
                continue
            d = replace(d, id=f"{d.id}~new")
        fresh.append(d)
    return fresh, skipped


def archived_mask(new_mask: np.ndarray | None, new_rows: int, old: list[Prepared], old_masks: list
                  ) -> np.ndarray | None:
    """The `encoded` mask over the new documents' `new_rows` rows, then the archived documents'
    `old` (None: every row has a vector)."""
    if new_mask is None and all(m is None for m in old_masks):
        return None
    return np.concatenate([np.ones(new_rows, bool) if new_mask is None else new_mask,
                           *(np.ones(len(p.seg.sentences), bool) if m is None else m
                             for p, m in zip(old, old_masks, strict=True))])


def restrict_to_focus(result: ScanResult, focus: frozenset[int], archive_name: str,
                      archived_warnings: tuple[str, ...] = ()) -> ScanResult:
    """Keep the new documents and the archived ones that share a story cluster with one, and the
    warnings but `archived_warnings` (the archived documents' budget, chosen at `index add`)."""
    clusters = {v.cluster for v in result.verdicts if v.doc in focus and v.cluster is not None}
    keep = {v.doc for v in result.verdicts if v.doc in focus or v.cluster in clusters}
    verdicts = tuple(v for v in result.verdicts if v.doc in keep)
    kept_clusters = tuple(c for c in result.clusters if c.index in clusters)
    archived = frozenset(i for i in keep if i not in focus)
    return replace(result, verdicts=verdicts, clusters=kept_clusters, archived=archived, archive=archive_name,
                   warnings=tuple(w for w in result.warnings if w not in set(archived_warnings)))


def _load_model(embedder: Embedder | None, model: str | None) -> Embedder:
    if embedder is not None:
        return embedder
    from .embed import load_model

    return load_model(model)


def index_add(name: str, paths: Iterable[str | os.PathLike], index_dir: str | os.PathLike = "indexes",
              embedder: Embedder | None = None, model: str | None = None,
              settings: ScanSettings = ScanSettings(), progress: bool = False) -> IndexUpdate:
    """Create archive `name` or add articles to it. Articles whose id is already archived are
    skipped with the reason (remove them first to replace them).

    Raises:
        InputError: no usable article among `paths` (nothing is created or changed).
        ArchiveError: the archive is damaged (see `archive.load`), locked or built with another model.
    """
    arch.archive_path(name, index_dir)  # a bad name fails before the model is loaded
    loaded = load_paths(paths, max_bytes=settings.max_bytes)
    embedder = _load_model(embedder, model)
    prepared, too_short = prepare(loaded.documents, settings)
    skipped = list(loaded.skipped) + too_short
    if not prepared:
        shown = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:5]) or "no supported file under the paths"
        more = f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        raise InputError(f"no usable article to add to index {name!r} ({shown}{more}); nothing was changed")
    with arch.locked(name, index_dir) as root:
        old = None
        if arch.exists(name, index_dir):
            old = arch.load(name, index_dir, embedder.model_id, embedder.dimension, vectors_fingerprint(embedder))
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
        warnings: tuple[str, ...] = ()
        if new:
            new_vecs, mask = encode_batch(embedder, new, settings, progress)
            masks = split_mask(mask, [len(p.seg.sentences) for p in new])
            row = sum(len(v) for v in vecs)
            for p, m in zip(new, masks, strict=True):
                encoded = None if m is None else tuple(np.flatnonzero(m).tolist())
                n = len(p.seg.sentences) if m is None else len(encoded)
                langs = {"document": p.langs.document, "paragraphs": list(p.langs.paragraphs),
                         "shares": [list(x) for x in p.langs.shares], "declared": p.langs.declared}
                docs.append(arch.ArchivedDoc(p.doc, p.sentence_spans, (row, row + n), langs,
                                             tuple(sorted(doc_details(p))), encoded,
                                             None if m is None else settings.max_semantic_sentences))
                row += n
            vecs.append(new_vecs if mask is None else new_vecs[mask])
            warnings = tuple(budget_warning(p.doc.path, len(m), int(m.sum()), settings.max_semantic_sentences)
                             for p, m in zip(new, masks, strict=True) if m is not None)
        if not new and old is not None:
            gen = old.generation
        else:
            all_vecs = np.vstack(vecs) if vecs else np.zeros((0, embedder.dimension), np.float32)
            gen = arch.write_generation(root, embedder.model_id, embedder.dimension, docs, all_vecs,
                                        vectors_fingerprint(embedder) or (old.fingerprint if old else None),
                                        supersedes=old.generation if old else None)
        return IndexUpdate(name, tuple(p.doc.id for p in new), (), tuple(skipped), len(docs),
                           sum(len(v) for v in vecs), gen, warnings)


def encode_batch(embedder: Embedder, new: list[Prepared], settings: ScanSettings, progress: bool = False
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """Sentence vectors of `new` (articles added to or scanned against an archive) within
    `max_semantic_sentences`: an over-long document gets vectors for the sentences
    `semantic_budget` picks from the lexical pairs found within this batch (the archive's
    documents are not known before the vectors retrieve them), then evenly spread ones. Returns
    one row per sentence (zeros where none) and the `encoded` mask (None: every row)."""
    sizes = [len(p.seg.sentences) for p in new]
    texts = [t for p in new for t in p.sentence_texts]
    cap = settings.max_semantic_sentences
    lexical = lexical_search(new, docs_features(new), settings.match) if over_budget(sizes, cap) else {}
    return encode_within(embedder, texts, sizes, lexical, cap, progress)


def index_remove(name: str, ids: Iterable[str], index_dir: str | os.PathLike = "indexes") -> IndexUpdate:
    """Remove documents by id; unknown ids come back as skipped entries."""
    ids = list(dict.fromkeys(ids))
    with arch.locked(name, index_dir, create=False) as root:
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
            docs.append(arch.ArchivedDoc(d.doc, d.sentences, (row, row + n), d.languages, d.details, d.encoded,
                                         d.limit))
            vecs.append(old.vectors[d.rows[0]:d.rows[1]])
            row += n
        all_vecs = np.vstack(vecs) if vecs else np.zeros((0, old.dimension), np.float32)
        gen = arch.write_generation(root, old.model, old.dimension, docs, all_vecs, old.fingerprint,
                                    supersedes=old.generation)
        return IndexUpdate(name, (), tuple(sorted(drop)), tuple(Skipped(i, "not in the index") for i in unknown),
                           len(docs), row, gen)


def index_info(name: str, index_dir: str | os.PathLike = "indexes") -> dict:
    """The archive's live generation, size, model and document ids."""
    a = arch.load(name, index_dir)
    return {"name": name, "path": str(a.path), "generation": a.generation, "documents": len(a.documents),
            "vectors": int(len(a.vectors)), "model": a.model, "model_fingerprint": a.fingerprint,
            "dimension": a.dimension,
            "index_type": a.index_type, "size_on_disk": a.size_on_disk(), "ids": a.ids}


@dataclass(frozen=True)
class Repair:
    """What `repair` found and did."""

    name: str
    #: the live generation afterwards
    generation: str
    #: why CURRENT was unusable; None when it was intact and nothing changed
    problem: str | None
    #: newer generations passed over, with the reason; left in place
    damaged: tuple[tuple[str, str], ...]
    documents: int
    vectors: int


def index_repair(name: str, index_dir: str | os.PathLike = "indexes") -> Repair:
    """Re-point CURRENT at the newest intact generation when it is missing, unreadable, names a
    missing generation or one that fails its checks. Deletes nothing: generations passed over
    stay where they are. An archive whose CURRENT is intact is left as it is.

    Raises:
        ArchiveError: no archive, a writer holds it, or no generation is intact.
    """
    root = arch.archive_path(name, index_dir)
    where = arch.describe(name, index_dir)
    with arch.locked(name, index_dir, create=False):
        gen = None
        try:
            gen = arch.read_current(root)
            got = arch.read_generation(root / gen)
            return Repair(name, gen, None, (), len(got.meta["documents"]), got.meta["rows"])
        except FileNotFoundError:
            raise ArchiveError(f"{where} does not exist: create it with `provenance index add {name} PATH...`"
                               ) from None
        except arch.GenerationGone:
            problem = f"CURRENT names {gen}, which is missing"
        except arch.Damaged as exc:
            if exc.schema:
                raise ArchiveError(f"{where} has {exc.reason}; rebuild it with `provenance index add`") from None
            problem = exc.reason if gen is None else f"{gen}: {exc.reason}"
        damaged = []
        for g in reversed(arch.generations(root)):
            candidate = f"gen-{g:06d}"
            try:
                got = arch.read_generation(root / candidate)
            except arch.GenerationGone:
                damaged.append((candidate, "missing"))
                continue
            except arch.Damaged as exc:
                damaged.append((candidate, exc.reason))
                continue
            try:
                arch.point_current(root, candidate)
            except OSError as exc:
                raise ArchiveError(f"cannot write {root / 'CURRENT'} ({exc.strerror or exc}): check the folder's "
                                   "permissions and free space") from None
            return Repair(name, candidate, problem, tuple(damaged), len(got.meta["documents"]), got.meta["rows"])
        why = "; ".join(f"{g}: {r}" for g, r in damaged) or "no generation"
        raise ArchiveError(f"{where} has no intact generation ({problem}; {why}): rebuild it: remove {root} and "
                           f"run `provenance index add {name} PATH...` again")
