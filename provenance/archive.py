"""Persisted archives of articles (`indexes/NAME/`): sentence vectors in FAISS plus everything
needed to rebuild reports, so a day's articles can be checked against an archive.

Layout of `DIR/NAME/`:

    CURRENT              name of the live generation, replaced atomically (os.replace)
    gen-000007/          one complete, immutable generation:
        meta.json        schema version, model id, dimension, normalisation, index type,
                         documents (id, path, text, metadata, sentence spans, row range),
                         SHA-256 of the two files below
        vectors.npy      float32 sentence vectors, L2-normalised, rows in document order
        index.faiss      FAISS index over the same rows (type chosen by size)
    .lock                held (flock) by a writer for the whole update

A writer builds a new generation beside the old one and only then points CURRENT at it, so a
crash or SIGKILL at any moment leaves the previous generation live and whole; leftovers of an
interrupted write are removed by the next writer. A model or dimension that differs from the
archive's, or a file whose checksum does not match, is refused with a one-line error.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ArchiveError
from .load import Document

SCHEMA_VERSION = 1
_GEN = re.compile(r"^gen-(\d{6})$")


@dataclass(frozen=True)
class ArchivedDoc:
    doc: Document
    sentences: tuple[tuple[int, int], ...]
    rows: tuple[int, int]
    #: language identification stored at `index add` (document, paragraphs, shares, declared)
    languages: dict | None = None
    #: the document's detail keys (names, numbers), for model-free retrieval against the archive
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class Archive:
    """One generation of an archive, loaded."""

    path: Path
    name: str
    model: str
    dimension: int
    index_type: str
    documents: tuple[ArchivedDoc, ...]
    vectors: np.ndarray
    generation: str
    #: digest of the model's files (`embed.model_fingerprint`), None when unknown
    fingerprint: str | None = None

    @property
    def ids(self) -> list[str]:
        return [d.doc.id for d in self.documents]

    def size_on_disk(self) -> int:
        gen = self.path / self.generation
        return sum(f.stat().st_size for f in gen.iterdir() if f.is_file())

    def faiss_index(self):
        import faiss

        return faiss.read_index(str(self.path / self.generation / "index.faiss"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def archive_path(name: str, index_dir: str | os.PathLike) -> Path:
    if not re.fullmatch(r"[\w.\-]+", name) or name in (".", ".."):
        raise ArchiveError(f"index name {name!r}: use letters, digits, '.', '_' or '-'")
    return Path(index_dir) / name


def exists(name: str, index_dir) -> bool:
    return (archive_path(name, index_dir) / "CURRENT").is_file()


def load(name: str, index_dir, model: str | None = None, dimension: int | None = None,
         fingerprint: str | None = None) -> Archive:
    """Load the live generation of an archive, checking integrity and (if given) the model: its
    id, dimension and, where both sides know it, the digest of its files (a model saved under the
    same name with other weights gives vectors that cannot be compared with the archived ones)."""
    root = archive_path(name, index_dir)
    where = f"index {name!r} in {Path(index_dir)}"
    current = root / "CURRENT"
    if not current.is_file():
        raise ArchiveError(f"{where} does not exist: create it with `provenance index add {name} PATH...`")
    gen = current.read_text("utf-8").strip()
    gdir = root / gen
    try:
        meta = json.loads((gdir / "meta.json").read_text("utf-8"))
        for fname, digest in meta["files"].items():
            if _sha256(gdir / fname) != digest:
                raise ValueError(f"{fname} does not match its checksum")
        vectors = np.load(gdir / "vectors.npy", allow_pickle=False)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise ArchiveError(f"{where} is corrupted ({exc}); rebuild it: remove {root} and run "
                          f"`provenance index add {name} PATH...` again") from None
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise ArchiveError(f"{where} has schema version {meta.get('schema_version')}, this tool reads "
                          f"{SCHEMA_VERSION}; rebuild it with `provenance index add`")
    if model is not None and meta["model"] != model:
        raise ArchiveError(f"{where} was built with model {meta['model']!r}, not {model!r}: pass "
                          f"--model {meta['model']} or use another index")
    stored = meta.get("model_fingerprint")
    if fingerprint and stored and fingerprint != stored:
        raise ArchiveError(f"{where} was built with another model named {meta['model']!r} (its files differ: "
                          f"{stored} vs {fingerprint}): use the model the index was built with")
    if dimension is not None and meta["dimension"] != dimension:
        raise ArchiveError(f"{where} holds {meta['dimension']}-dimensional vectors but the model gives "
                          f"{dimension}: use the model the index was built with")
    docs = tuple(ArchivedDoc(Document(d["id"], d["path"], d["text"], d["text_basis"], d.get("encoding"),
                                      d.get("meta", {})),
                             tuple(tuple(s) for s in d["sentences"]), tuple(d["rows"]), d.get("languages"),
                             tuple(d.get("details", ())))
                 for d in meta["documents"])
    if vectors.shape != (meta["rows"], meta["dimension"]):
        raise ArchiveError(f"{where} is corrupted (vectors {vectors.shape}, expected "
                          f"({meta['rows']}, {meta['dimension']})); rebuild it")
    return Archive(root, name, meta["model"], meta["dimension"], meta["index_type"], docs, vectors, gen,
                   meta.get("model_fingerprint"))


@contextmanager
def locked(name: str, index_dir):
    """Exclusive writer lock on an archive (released by the OS if the writer dies)."""
    root = archive_path(name, index_dir)
    root.mkdir(parents=True, exist_ok=True)
    fh = open(root / ".lock", "a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ArchiveError(f"index {name!r} is being updated by another process; try again when it "
                              "has finished") from None
        yield root
    finally:
        fh.close()


def write_generation(root: Path, model: str, dimension: int, documents: list[ArchivedDoc],
                     vectors: np.ndarray, fingerprint: str | None = None) -> str:
    """Write a new generation and make it live; the caller holds the lock. Returns its name."""
    import faiss

    from .index import build_faiss_index, choose_index_type

    gens = sorted(int(m.group(1)) for p in root.iterdir() if (m := _GEN.match(p.name)))
    name = f"gen-{(gens[-1] + 1 if gens else 1):06d}"
    tmp = root / f"{name}.tmp-{os.getpid()}"
    for stale in root.glob("gen-*.tmp-*"):  # leftovers of an interrupted writer
        shutil.rmtree(stale, ignore_errors=True)
    tmp.mkdir()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    np.save(tmp / "vectors.npy", vectors, allow_pickle=False)
    kind = choose_index_type(len(vectors))
    faiss.write_index(build_faiss_index(vectors, kind), str(tmp / "index.faiss"))
    meta = {
        "schema_version": SCHEMA_VERSION, "model": model, "model_fingerprint": fingerprint,
        "dimension": dimension, "normalized": True,
        "metric": "inner_product", "index_type": kind, "rows": int(len(vectors)),
        "documents": [{"id": d.doc.id, "path": d.doc.path, "text": d.doc.text, "text_basis": d.doc.text_basis,
                       "encoding": d.doc.encoding, "meta": d.doc.meta, "sentences": [list(s) for s in d.sentences],
                       "rows": list(d.rows), "languages": d.languages, "details": list(d.details)}
                      for d in documents],
        "files": {f: _sha256(tmp / f) for f in ("vectors.npy", "index.faiss")},
    }
    (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
    for f in tmp.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    _pause_for_tests()
    os.replace(tmp, root / name)
    pointer = root / f"CURRENT.tmp-{os.getpid()}"
    pointer.write_text(name + "\n", "utf-8")
    with open(pointer, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(pointer, root / "CURRENT")
    dir_fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    for g in gens:  # older generations are no longer reachable
        shutil.rmtree(root / f"gen-{g:06d}", ignore_errors=True)
    return name


def _pause_for_tests() -> None:
    """Tests set PROVENANCE_TEST_PAUSE_BEFORE_COMMIT to kill a writer mid-update."""
    delay = os.environ.get("PROVENANCE_TEST_PAUSE_BEFORE_COMMIT")
    if delay:
        import time

        marker = os.environ.get("PROVENANCE_TEST_PAUSE_MARKER")
        if marker:
            Path(marker).write_text("paused", "utf-8")
        time.sleep(float(delay))
