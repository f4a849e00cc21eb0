"""Persisted archives of articles (`indexes/NAME/`): sentence vectors in FAISS plus everything
needed to rebuild reports, so a day's articles can be checked against an archive.

Layout of `DIR/NAME/`:

    CURRENT              name of the live generation, replaced atomically (os.replace)
    gen-000007/          one complete, immutable generation:
        meta.json        schema version, model id, dimension, normalisation, index type,
                         documents (id, path, text, metadata, sentence spans, row range, and
                         for an over-long document `encoded`: which of its sentences have a
                         vector, `semantic_budget`), SHA-256 of vectors.npy and index.faiss
        meta.sha256      SHA-256 of meta.json (`sha256sum -c` format); older archives lack it
        vectors.npy      float32 sentence vectors, L2-normalised, rows in document order (one
                         per sentence, or per `encoded` sentence: none for the others)
        index.faiss      FAISS index over the same rows (type chosen by size)
        .readers         empty; readers hold a shared flock on it while they load the generation
    .lock                held (flock) by a writer for the whole update

A writer builds a new generation beside the old one and only then points CURRENT at it, so a
crash or SIGKILL at any moment leaves the previous generation live and whole; leftovers of an
interrupted write are removed by the next writer. It then deletes the generations it superseded,
but only those it can lock exclusively: one a reader is still loading is left for the next writer.
A reader loads every file of its generation into memory (the FAISS index included) under that
shared lock, checks it and then never touches the folder again, so a writer that commits during a
scan cannot pull files from under it; if a writer deletes the generation between the reader's
reading CURRENT and locking it, the reader starts again from the new CURRENT.

Nothing is trusted: every file is checked against its checksum and meta.json against its
structure (keys, types, unique ids, row ranges that tile the vectors, sentence spans within their
texts) by `load`, which scan, `index info`, `index add` and `index remove` all go through. A model
or dimension that differs from the archive's, a damaged file, or a missing or dangling CURRENT is
refused with a one-line error; `repair` re-points CURRENT at the newest intact generation.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .archive_meta import Damaged, check_meta
from .errors import ArchiveError
from .hashing import file_sha256
from .load import Document

#: Written when a document holds vectors for some of its sentences only (`encoded`); an archive
#: without one is written as version 1, which tools from before the budget read too.
SCHEMA_VERSION = 2
#: Versions this tool reads: 1 (every sentence has a vector) and 2 (`encoded` lists).
READS = (1, 2)
_GEN = re.compile(r"^gen-(\d{6})$")
META_SUM = "meta.sha256"
READERS = ".readers"
#: Longest archive name, in UTF-8 bytes: file systems allow 255 per path component.
MAX_NAME_BYTES = 100
#: A reader whose generation is deleted under it starts again from the new CURRENT this often.
_ATTEMPTS = 3
#: archive folders whose writer lock this process holds
_HELD: set[str] = set()


@dataclass(frozen=True)
class ArchivedDoc:
    doc: Document
    sentences: tuple[tuple[int, int], ...]
    rows: tuple[int, int]
    #: language identification stored at `index add` (document, paragraphs, shares, declared)
    languages: dict | None = None
    #: the document's detail keys (names, numbers), for model-free retrieval against the archive
    details: tuple[str, ...] = ()
    #: which sentences have a vector (ascending; `rows` holds one row for each of them): an
    #: over-long document's (`semantic_budget`); None: every sentence has one
    encoded: tuple[int, ...] | None = None
    #: the `max_semantic_sentences` those sentences were chosen under (with `encoded` only)
    limit: int | None = None


@dataclass(frozen=True)
class Archive:
    """One generation of an archive, loaded whole into memory (see the module docstring)."""

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
    #: the FAISS index read at load time; None for an Archive built by hand
    index: object = field(default=None, repr=False, compare=False)
    #: bytes of the generation's files, counted at load time
    disk_bytes: int | None = None

    @property
    def ids(self) -> list[str]:
        return [d.doc.id for d in self.documents]

    def size_on_disk(self) -> int:
        if self.disk_bytes is not None:
            return self.disk_bytes
        gen = self.path / self.generation
        return sum(f.stat().st_size for f in gen.iterdir() if f.is_file())

    def faiss_index(self):
        """The generation's FAISS index as loaded (not re-read from disk: the generation may have
        been superseded and deleted since)."""
        if self.index is not None:
            return self.index
        import faiss

        return faiss.read_index(str(self.path / self.generation / "index.faiss"))


class GenerationGone(Exception):
    """The generation was deleted (or is being deleted) by a writer while we went to read it."""


class _Busy(Exception):
    """CURRENT is missing while a writer holds the lock: the archive is being created."""


def archive_path(name: str, index_dir: str | os.PathLike) -> Path:
    if not re.fullmatch(r"[\w.\-]+", name) or name in (".", ".."):
        raise ArchiveError(f"index name {name!r}: use letters, digits, '.', '_' or '-'")
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise ArchiveError(f"index name {name[:24]!r}... is {size} bytes long: use a name of at most "
                           f"{MAX_NAME_BYTES} bytes")
    return Path(index_dir) / name


def describe(name: str, index_dir) -> str:
    return f"index {name!r} in {Path(index_dir)}"


def generations(root: Path) -> list[int]:
    """Numbers of the complete generation folders under `root`, oldest first."""
    try:
        return sorted(int(m.group(1)) for p in root.iterdir() if (m := _GEN.match(p.name)) and p.is_dir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def exists(name: str, index_dir) -> bool:
    """Whether there is an archive to load: a CURRENT pointer or at least one generation (a
    generation without CURRENT is a damaged archive, which `load` refuses, not a missing one)."""
    root = archive_path(name, index_dir)
    return (root / "CURRENT").is_file() or bool(generations(root))


def _writer_active(root: Path) -> bool:
    """Whether another process holds the writer lock (this one's own lock does not count)."""
    if str(root.resolve()) in _HELD:
        return False
    try:
        fd = os.open(root / ".lock", os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def read_current(root: Path) -> str:
    """The generation CURRENT names. Raises FileNotFoundError (no archive at all), _Busy or Damaged."""
    current = root / "CURRENT"
    try:
        raw = current.read_bytes()
    except FileNotFoundError:
        gens = generations(root)
        if not gens:
            raise
        if _writer_active(root):
            raise _Busy() from None
        listed = ", ".join(f"gen-{g:06d}" for g in gens)
        raise Damaged(f"CURRENT is missing but {listed} {'is' if len(gens) == 1 else 'are'} there") from None
    except OSError as exc:
        raise Damaged(f"CURRENT cannot be read: {exc.strerror or exc}") from None
    try:
        gen = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        gen = ""
    if not _GEN.match(gen):
        raise Damaged(f"CURRENT does not name a generation: {raw[:40]!r}")
    return gen


@contextmanager
def _reading(gdir: Path):
    """Hold a shared lock on generation `gdir` while it is read, so that no writer deletes it
    meanwhile. Raises GenerationGone if a writer deleted it (or is deleting it) first. Generations written
    before reader locks existed are read without one."""
    try:
        fd = os.open(gdir / READERS, os.O_RDONLY)
    except FileNotFoundError:
        if not gdir.is_dir():
            raise GenerationGone() from None
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # a writer holds it exclusively: it is deleting this generation
            raise GenerationGone() from None
        if os.fstat(fd).st_nlink == 0:  # deleted between our open and our lock
            raise GenerationGone()
        yield
    finally:
        os.close(fd)


def _read(gdir: Path, fname: str) -> bytes:
    try:
        return (gdir / fname).read_bytes()
    except FileNotFoundError:
        if not gdir.is_dir():
            raise GenerationGone() from None
        raise Damaged(f"{gdir.name}/{fname} is missing") from None
    except OSError as exc:
        raise Damaged(f"{gdir.name}/{fname} cannot be read: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class _Loaded:
    meta: dict
    vectors: np.ndarray
    index: object
    disk_bytes: int


def read_generation(gdir: Path) -> _Loaded:
    """Read and check every file of one generation. Raises GenerationGone or Damaged."""
    import faiss

    with _reading(gdir):
        meta_bytes = _read(gdir, "meta.json")
        try:
            sidecar = (gdir / META_SUM).read_bytes()
        except FileNotFoundError:
            sidecar = None
        except OSError as exc:
            raise Damaged(f"{META_SUM} cannot be read: {exc.strerror or exc}") from None
        if sidecar is not None:
            stored = sidecar.split()[0].decode("ascii", "replace") if sidecar.split() else ""
            if hashlib.sha256(meta_bytes).hexdigest() != stored:
                raise Damaged(f"meta.json does not match its checksum in {META_SUM}")
        try:
            meta = json.loads(meta_bytes.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Damaged(f"meta.json is not valid JSON: {exc}") from None
        if not isinstance(meta, dict):
            raise Damaged("meta.json does not hold an object")
        if sidecar is None and meta.get("meta_checksum") == META_SUM:
            raise Damaged(f"{META_SUM}, the checksum of meta.json, is missing")
        if meta.get("schema_version") not in READS:
            raise Damaged(f"schema version {meta.get('schema_version')!r}, this tool reads "
                          f"{' and '.join(map(str, READS))}", schema=True)
        check_meta(meta)
        blobs = {}
        for fname in ("vectors.npy", "index.faiss"):
            blobs[fname] = _read(gdir, fname)
            if hashlib.sha256(blobs[fname]).hexdigest() != meta["files"][fname]:
                raise Damaged(f"{fname} does not match its checksum")
        disk = len(meta_bytes) + len(sidecar or b"") + sum(len(b) for b in blobs.values())
    try:
        vectors = np.load(io.BytesIO(blobs["vectors.npy"]), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise Damaged(f"vectors.npy cannot be read: {exc}") from None
    expected = (meta["rows"], meta["dimension"])
    if vectors.dtype != np.float32 or vectors.shape != expected:
        raise Damaged(f"vectors {vectors.shape} {vectors.dtype}, expected {expected} float32")
    try:
        index = faiss.deserialize_index(np.frombuffer(blobs["index.faiss"], dtype=np.uint8))
    except RuntimeError:
        raise Damaged("index.faiss is not a FAISS index") from None
    if index.ntotal != meta["rows"] or index.d != meta["dimension"]:
        raise Damaged(f"index.faiss holds {index.ntotal} {index.d}-dimensional vectors, expected {expected[0]} "
                   f"{expected[1]}-dimensional")
    return _Loaded(meta, vectors, index, disk)


def _fix(root: Path, name: str, gen: str | None = None) -> str:
    fix = f"rebuild it: remove {root} and run `provenance index add {name} PATH...` again"
    if any(f"gen-{g:06d}" != gen for g in generations(root)):
        fix = f"run `provenance index repair {name}` to point CURRENT at the newest intact generation, or {fix}"
    return fix


def load(name: str, index_dir, model: str | None = None, dimension: int | None = None,
         fingerprint: str | None = None) -> Archive:
    """Load the live generation of an archive whole, checking integrity and (if given) the model:
    its id, dimension and, where both sides know it, the digest of its files (a model saved under
    the same name with other weights gives vectors that cannot be compared with the archived ones).

    The result stays valid after a writer supersedes and deletes the generation: nothing is read
    from disk later.

    Raises:
        ArchiveError: the archive is missing, damaged (the message says which file and how), being
            created, or built with another model.
    """
    root = archive_path(name, index_dir)
    where = describe(name, index_dir)
    busy = False
    for attempt in range(_ATTEMPTS):
        gen = None
        try:
            gen = read_current(root)
            got = read_generation(root / gen)
            break
        except FileNotFoundError:
            raise ArchiveError(f"{where} does not exist: create it with `provenance index add {name} PATH...`"
                               ) from None
        except _Busy:
            busy = True
            time.sleep(0.1 * 2 ** attempt)
        except GenerationGone:
            busy = False
            try:
                again = read_current(root)
            except (FileNotFoundError, _Busy, Damaged):
                again = None
            if again == gen:  # not a writer's doing: CURRENT names a generation that is not there
                raise ArchiveError(f"{where} is corrupted (CURRENT names {gen}, which is missing): "
                                   f"{_fix(root, name, gen)}") from None
        except Damaged as exc:
            if exc.schema:
                raise ArchiveError(f"{where} has {exc.reason}; rebuild it with `provenance index add`") from None
            raise ArchiveError(f"{where} is corrupted ({exc.reason}): {_fix(root, name, gen)}") from None
    else:
        if busy:
            raise ArchiveError(f"{where} is being created by another process; try again when it has finished")
        raise ArchiveError(f"{where} changed under this reader {_ATTEMPTS} times (another process is writing "
                           "it): try again")
    meta = got.meta
    if model is not None and meta["model"] != model:
        raise ArchiveError(f"{where} was built with model {meta['model']!r}, not {model!r}: pass "
                           f"--model {meta['model']} or use another index")
    stored = meta.get("model_fingerprint")
    if fingerprint and stored and fingerprint != stored and fingerprint.split("+")[0] == stored.split("+")[0]:
        raise ArchiveError(f"{where} holds {'int8' if stored.endswith('+int8') else 'float32'} vectors but this "
                           f"model gives {'int8' if fingerprint.endswith('+int8') else 'float32'} ones: pass --backend "
                           f"{'onnx-int8' if stored.endswith('+int8') else 'onnx (or torch)'} as when it was built")
    if fingerprint and stored and fingerprint != stored:
        raise ArchiveError(f"{where} was built with another model named {meta['model']!r} (its files differ: "
                           f"{stored} vs {fingerprint}): use the model the index was built with")
    if dimension is not None and meta["dimension"] != dimension:
        raise ArchiveError(f"{where} holds {meta['dimension']}-dimensional vectors but the model gives "
                           f"{dimension}: use the model the index was built with")
    docs = tuple(ArchivedDoc(Document(d["id"], d["path"], d["text"], d["text_basis"], d.get("encoding"),
                                      d.get("meta", {})),
                             tuple(tuple(s) for s in d["sentences"]), tuple(d["rows"]), d.get("languages"),
                             tuple(d.get("details", ())),
                             tuple(d["encoded"]) if d.get("encoded") is not None else None, d.get("limit"))
                 for d in meta["documents"])
    return Archive(root, name, meta["model"], meta["dimension"], meta["index_type"], docs, got.vectors, gen,
                   meta.get("model_fingerprint"), got.index, got.disk_bytes)


@contextmanager
def locked(name: str, index_dir, create: bool = True):
    """Exclusive writer lock on an archive (released by the OS if the writer dies). With
    `create=False` a missing archive is an error and nothing is created."""
    root = archive_path(name, index_dir)
    where = describe(name, index_dir)
    try:
        if create:
            root.mkdir(parents=True, exist_ok=True)
        elif not root.is_dir():
            raise ArchiveError(f"{where} does not exist: create it with `provenance index add {name} PATH...`")
        fh = open(root / ".lock", "a+")
    except OSError as exc:
        raise ArchiveError(f"cannot open {where} for writing ({exc.strerror or exc}: {exc.filename}): check "
                           "the folder's permissions and free space") from None
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ArchiveError(f"index {name!r} is being updated by another process; try again when it "
                               "has finished") from None
        _HELD.add(str(root.resolve()))
        try:
            yield root
        finally:
            _HELD.discard(str(root.resolve()))
    finally:
        fh.close()


def _fsync_dir(path: Path) -> None:
    dir_fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def point_current(root: Path, gen: str) -> None:
    """Make `gen` live: write CURRENT beside and rename it over the old one (atomic), durably."""
    pointer = root / f"CURRENT.tmp-{os.getpid()}"
    pointer.write_text(gen + "\n", "utf-8")
    with open(pointer, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(pointer, root / "CURRENT")
    _fsync_dir(root)


def write_generation(root: Path, model: str, dimension: int, documents: list[ArchivedDoc],
                     vectors: np.ndarray, fingerprint: str | None = None, supersedes: str | None = None) -> str:
    """Write a new generation and make it live; the caller holds the lock. Returns its name.

    `supersedes` is the generation the caller loaded from a valid CURRENT (None for a new
    archive): it and older generations are then deleted where no reader holds them. Nothing newer
    is ever deleted (an uncommitted generation, or a damaged one `repair` passed over)."""
    try:
        return _write_generation(root, model, dimension, documents, vectors, fingerprint, supersedes)
    except OSError as exc:
        raise ArchiveError(f"cannot write index {root.name!r} in {root.parent} ({exc.strerror or exc}: "
                           f"{exc.filename}): free some space or check the folder's permissions; the "
                           "archive is unchanged") from None


def _write_generation(root: Path, model: str, dimension: int, documents: list[ArchivedDoc],
                      vectors: np.ndarray, fingerprint: str | None, supersedes: str | None) -> str:
    import faiss

    from .index import build_faiss_index, choose_index_type

    gens = generations(root)
    name = f"gen-{(gens[-1] + 1 if gens else 1):06d}"
    tmp = root / f"{name}.tmp-{os.getpid()}"
    for stale in [*root.glob("gen-*.tmp-*"), *root.glob("gen-*.trash-*")]:  # an interrupted writer's
        shutil.rmtree(stale, ignore_errors=True)
    tmp.mkdir()
    try:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        np.save(tmp / "vectors.npy", vectors, allow_pickle=False)
        kind = choose_index_type(len(vectors))
        faiss.write_index(build_faiss_index(vectors, kind), str(tmp / "index.faiss"))
        partial = any(d.encoded is not None for d in documents)
        meta = {
            "schema_version": SCHEMA_VERSION if partial else 1, "model": model, "model_fingerprint": fingerprint,
            "dimension": dimension, "normalized": True,
            "metric": "inner_product", "index_type": kind, "rows": int(len(vectors)),
            "documents": [{"id": d.doc.id, "path": d.doc.path, "text": d.doc.text,
                           "text_basis": d.doc.text_basis, "encoding": d.doc.encoding, "meta": d.doc.meta,
                           "sentences": [list(s) for s in d.sentences], "rows": list(d.rows),
                           "languages": d.languages, "details": list(d.details),
                           **({} if d.encoded is None else {"encoded": list(d.encoded)}),
                           **({} if d.encoded is None or d.limit is None else {"limit": d.limit})}
                          for d in documents],
            "files": {f: file_sha256(tmp / f) for f in ("vectors.npy", "index.faiss")},
            # tells a reader that a missing meta.sha256 is damage, not an archive from before it
            "meta_checksum": META_SUM,
        }
        meta_bytes = json.dumps(meta, ensure_ascii=False).encode("utf-8")
        (tmp / "meta.json").write_bytes(meta_bytes)
        (tmp / META_SUM).write_text(f"{hashlib.sha256(meta_bytes).hexdigest()}  meta.json\n", "ascii")
        (tmp / READERS).touch()
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        _pause_for_tests()
        os.replace(tmp, root / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    point_current(root, name)
    if supersedes is not None:
        _collect(root, int(_GEN.match(supersedes).group(1)), keep=name)
    return name


def _collect(root: Path, newest: int, keep: str) -> list[str]:
    """Delete generations numbered up to `newest` (superseded ones) that no reader holds; returns
    those left for a later writer to collect."""
    left = []
    for g in generations(root):
        gen = f"gen-{g:06d}"
        if g > newest or gen == keep:
            continue
        gdir = root / gen
        try:
            fd = os.open(gdir / READERS, os.O_RDONLY)
        except FileNotFoundError:
            fd = None  # written before reader locks existed
        except OSError:
            left.append(gen)
            continue
        try:
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:  # a reader is loading it
                    left.append(gen)
                    continue
            # renamed first, so that a reader sees the whole generation or none of it
            trash = root / f"{gen}.trash-{os.getpid()}"
            os.rename(gdir, trash)
            shutil.rmtree(trash, ignore_errors=True)
        except OSError:
            left.append(gen)
        finally:
            if fd is not None:
                os.close(fd)
    return left


def _pause_for_tests() -> None:
    """Tests set PROVENANCE_TEST_PAUSE_BEFORE_COMMIT to kill a writer mid-update."""
    delay = os.environ.get("PROVENANCE_TEST_PAUSE_BEFORE_COMMIT")
    if delay:
        marker = os.environ.get("PROVENANCE_TEST_PAUSE_MARKER")
        if marker:
            Path(marker).write_text("paused", "utf-8")
        time.sleep(float(delay))


def check_index_name(name: str | None, index_dir: str) -> None:
    """`--index` takes an archive's name; a path there is a common slip (`--index-dir` is the folder)."""
    if name and (os.sep in name or "/" in name):
        folder, base = os.path.split(os.path.normpath(name))
        raise ArchiveError(f"--index takes an archive name, not a path: use --index {base} --index-dir "
                           f"{folder or '.'} (see `provenance index list --index-dir FOLDER`)")
