"""The on-disk cache: sentence vectors and other deterministic results, reused between scans.

`CachedEmbedder` wraps an embedder: vectors are keyed by model and SHA-256 of the text, so a
re-scan encodes only texts it has not seen; beside them a key-value table holds what the pipeline
derives from texts alone (segmentation, languages, features, pair alignments, comparisons, the
last scan's neighbour lists). One SQLite file per model, named after the model id, dimension and
a digest of the model's files (two local models with one folder name never share vectors).

Every entry carries the day it was last used, so `prune` can drop what no scan has needed for a
while; `info` and `clear` serve `provenance cache info|prune|clear`. What it reads back or stores
it also keeps decoded for the process's next scans (`kept.KeptValues`).

The cache is an optimisation, never the end of a run. Scans share a file (WAL journal: readers
never wait; writes are short transactions that wait at most `BUSY_TIMEOUT`, else are dropped with
a warning). A file another process holds is left alone; one SQLite finds damaged is set aside as
`<name>.corrupt-<time>`; a folder that cannot be written means a run without the cache. What
happened is in `CachedEmbedder.warnings`, one line each with the fix.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .cache_db import insert_rows, set_aside, table_columns, transaction
from .errors import EncodingStopped
from .kept import MEMORY_BYTES, KeptValues

PREFIX = "embeddings-"
#: New vectors pending when an encoding that streams (`embed.streams`) writes them to the file
SAVE_EVERY = 1024
#: Entries per SQL statement (SQLite allows 999 parameters in old builds).
CHUNK = 500


def default_cache_dir() -> Path:
    env = os.environ.get("PROVENANCE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "provenance"


def today() -> int:
    """Days since 1970-01-01 (UTC): the unit of the last-used stamps (asked each time: a process
    may run for weeks, `scan --watch`)."""
    return int(time.time() // 86400)


#: Seconds a write (or, in a file not yet in WAL mode, a read) waits for another process's
#: transaction before it goes without the cache; scans' own transactions take milliseconds.
BUSY_TIMEOUT = 10.0
#: The wait of later tries in a run where one wait ran out (the other process holds on long).
RETRY_TIMEOUT = 1.0

# SQLite's primary result codes (https://sqlite.org/rescode.html)
_LOCKED = {5, 6}  # BUSY, LOCKED
_DAMAGED = {11, 26}  # CORRUPT, NOTADB
_UNWRITABLE = {3, 8, 10, 13, 14, 23}  # PERM, READONLY, IOERR, FULL, CANTOPEN, AUTH
_MOVED = 1032  # READONLY_DBMOVED: the file was renamed or deleted while open


def problem_kind(exc: sqlite3.Error) -> str:
    """What a SQLite error says about the file: 'locked' (another connection holds it: wait, never
    delete), 'damaged' (not a database, or malformed pages), 'moved' (renamed or deleted while
    open), 'unwritable', or 'other'."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code == _MOVED:
        return "moved"
    code = code & 0xFF if code is not None else None
    text = str(exc).lower()
    if code in _LOCKED or "is locked" in text:
        return "locked"
    if code in _DAMAGED or "malformed" in text or "not a database" in text:
        return "damaged"
    if code in _UNWRITABLE or "readonly" in text or "unable to open" in text:
        return "unwritable"
    return "other"


def open_db(path: Path, timeout: float, create: bool = True) -> sqlite3.Connection:
    """A connection to `path` (created if missing, with `create`). Autocommit: every write is an
    explicit short `BEGIN IMMEDIATE` transaction, so no read ever has to become a write (which in
    WAL mode fails at once, whatever the timeout)."""
    from urllib.parse import quote

    target = path if create else f"file:{quote(str(path))}?mode=rw"
    return sqlite3.connect(target, timeout=timeout, isolation_level=None, check_same_thread=False, uri=not create)


def _connect(path: Path, timeout: float, meta: dict[str, str] | None = None) -> sqlite3.Connection:
    """Open a cache file: WAL journal (readers never wait for a writer), the tables, the `used`
    stamps of older files and, with `meta`, the model's entries. Writes only what is missing, so
    opening a complete file takes no write lock."""
    db = open_db(path, timeout)
    try:
        prepare_db(db, timeout, meta)
    except BaseException:
        db.close()
        raise
    return db


def prepare_db(db: sqlite3.Connection, timeout: float, meta: dict[str, str] | None) -> None:
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    mode = db.execute("PRAGMA journal_mode").fetchone()[0].lower()
    if mode != "wal":
        # switching needs the file to itself: a file busy now switches on a later run
        db.execute(f"PRAGMA busy_timeout = {int(min(timeout, RETRY_TIMEOUT) * 1000)}")
        try:
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower()
        except sqlite3.OperationalError as exc:
            if problem_kind(exc) != "locked":
                raise
        db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    if mode == "wal":
        db.execute("PRAGMA synchronous = NORMAL")  # a crash may lose the last writes, not the file

    def complete() -> bool:
        return ({"emb", "kv"} <= tables and all("used" in table_columns(db, t) for t in ("emb", "kv"))
                and (meta is None or ("meta" in tables and
                                      {k for (k,) in db.execute("SELECT key FROM meta")} >= set(meta))))

    if complete():
        return
    with transaction(db):
        db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        db.execute("CREATE TABLE IF NOT EXISTS kv (ns TEXT, key TEXT, value BLOB, PRIMARY KEY (ns, key))")
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        for table in ("emb", "kv"):  # files written before the stamps existed count as used today
            if "used" not in table_columns(db, table):
                db.execute(f"ALTER TABLE {table} ADD COLUMN used INTEGER NOT NULL DEFAULT {today()}")
        if meta:
            db.executemany("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", list(meta.items()))


def _quick_check(path: Path) -> bool | None:
    """True when SQLite finds `path` damaged (`PRAGMA quick_check`: not a database, or malformed
    pages); False when it checks out; None when it cannot tell now (locked, unreadable)."""
    try:
        db = open_db(path, RETRY_TIMEOUT, create=False)
        try:
            rows = db.execute("PRAGMA quick_check(1)").fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        return True if problem_kind(exc) == "damaged" else None
    return rows != [("ok",)]


def claim(path: Path) -> str:
    """'free' when no other connection, in this process or another, has `path` open (its WAL is
    then folded back into it), 'in use' when one has, 'damaged' when SQLite cannot read its header.
    Deleting or renaming a file another connection has open would let that connection's WAL land
    in the file that takes its name."""
    try:
        db = open_db(path, 0, create=False)
        try:
            db.execute("PRAGMA locking_mode = EXCLUSIVE")
            db.execute("BEGIN EXCLUSIVE")  # fails while another connection holds even a read lock
            db.execute("ROLLBACK")
        finally:
            db.close()
    except sqlite3.Error as exc:
        kind = problem_kind(exc)
        return "in use" if kind == "locked" else "damaged" if kind == "damaged" else "unknown"
    return "free"


class CachedEmbedder:
    """Wraps an embedder with the on-disk cache (see the module docstring).

    Never fatal: a cache that cannot be used means a run without it, and `warnings` says why in
    one line each (the CLI prints them). Several processes may share a file: reads never wait
    (WAL), new entries are written in one short transaction per `encode` call and per `flush`,
    and a write that cannot get the lock within `BUSY_TIMEOUT` seconds is kept for the next
    flush, then dropped. A locked file is never touched; one SQLite finds damaged is set aside as
    `<name>.corrupt-<time>`, at once if no other process has it open."""

    def __init__(self, inner, cache_dir: str | os.PathLike | None = None, memory_bytes: int = MEMORY_BYTES):
        """`memory_bytes`: how much of what it reads back to keep for the next scans (`kept`; 0: none)."""
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.languages = inner.languages
        self.fingerprint = getattr(inner, "fingerprint", None)
        #: "torch", "onnx", "onnx-int8"...: vectors of one backend and precision never serve another
        self.backend = getattr(inner, "backend", None) or "torch"
        self.hits = self.misses = 0
        self.folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        slug = re.sub(r"[^\w.-]+", "_", self.model_id)[:80]
        suffix = f"-{self.fingerprint}" if self.fingerprint else ""
        if self.backend != "torch":  # torch's files keep the names they had before backends existed
            suffix += "-" + re.sub(r"[^\w.-]+", "_", self.backend)
        self.path = self.folder / f"{PREFIX}{slug}-{self.dimension}{suffix}.sqlite"
        # the scan reads vectors in its encoding thread and other results in the main thread: one
        # connection, each use under the lock (sqlite3 builds differ in what they serialise)
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._wait = BUSY_TIMEOUT
        self._locked_out = False  # a wait ran out: writes wait for `flush`
        self._skipped_reads = 0
        self._unsaved = 0  # entries still pending at `close` (the file was locked)
        self._notes: list[str] = []
        # written by the next `_save`: vectors, results and stamps of entries read today
        self._vectors: dict[str, bytes] = {}
        self._results: dict[tuple[str, str], bytes] = {}
        self._stamps: dict[tuple[str, str | None], set[str]] = {}
        self.kept = KeptValues(memory_bytes)  # vectors under the namespace ""
        self._open()

    @property
    def warnings(self) -> list[str]:
        """One line per problem the cache met (and the fix), for the user; empty when none."""
        out = list(self._notes)
        with self._lock:
            unsaved = self._unsaved + (len(self._vectors) + len(self._results) if self._locked_out else 0)
        if unsaved:
            out.append(f"cache file {self.path} is locked by another process: {unsaved} new entries of this run "
                       "were not saved (a later scan computes them again)")
        elif self._skipped_reads:
            out.append(f"cache file {self.path} was locked by another process: {self._skipped_reads} "
                       "look-ups went without it")
        return out

    def _open(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            why = "a file, not a folder" if self.folder.is_file() else exc.strerror or exc
            self._off(f"cannot write the embedding cache in {self.folder} ({why}): this run goes on without it; "
                      "pass --cache-dir with a writable folder, or --no-cache")
            return
        meta = {"model": self.model_id, "dimension": str(self.dimension), "fingerprint": self.fingerprint or "",
                "backend": self.backend}
        try:
            self._db = _connect(self.path, self._wait, meta)
            return
        except sqlite3.Error as exc:
            if problem_kind(exc) != "damaged":
                self._failed(exc, opening=True)
                return
            aside, why = self._set_damaged_aside(exc)
            if aside is None:
                self._off(why)
                return
            self._note(f"cache file {self.path} was damaged ({exc}): set aside as {aside.name}; starting a new one")
        try:
            self._db = _connect(self.path, self._wait, meta)
        except sqlite3.Error as exc:
            self._failed(exc, opening=True)

    def close(self) -> None:
        """Write what is pending and close the file (later calls go to the inner embedder)."""
        self.flush()
        with self._lock:
            self._unsaved += len(self._vectors) + len(self._results)
            self._close()

    def _close(self) -> None:
        with self._lock:
            db, self._db = self._db, None
            self._vectors, self._results, self._stamps = {}, {}, {}
            self.kept.clear()
        if db is not None:
            try:
                db.close()
            except sqlite3.Error:
                pass

    def _note(self, line: str) -> None:
        if line not in self._notes:
            self._notes.append(line)

    def _off(self, note: str) -> None:
        """Go on without the cache for the rest of this run, and tell the user why."""
        self._close()
        self._note(note)

    def _failed(self, exc: sqlite3.Error, opening: bool = False) -> None:
        """React to an error of a read or a write: if the file is locked, wait less from now on
        (and do without it when its tables cannot even be read); else go on without the cache,
        setting a damaged file aside."""
        kind = problem_kind(exc)
        if kind == "locked":
            self._wait = RETRY_TIMEOUT
            self._locked_out = True
            if opening:
                self._off(f"cache file {self.path} is locked by another process: this run goes on without the "
                          "cache (the file is left as it is)")
            elif self._db is not None:
                try:
                    self._db.execute(f"PRAGMA busy_timeout = {int(self._wait * 1000)}")
                except sqlite3.Error:
                    pass
        elif kind == "damaged":
            aside, why = self._set_damaged_aside(exc)
            self._off(why if aside is None else f"cache file {self.path} was damaged ({exc}): set aside as "
                      f"{aside.name}; this run goes on without the cache, the next one starts a new one")
        elif kind == "unwritable":
            self._off(f"cannot write the embedding cache in {self.folder} ({exc}): this run goes on without "
                      "it; pass --cache-dir with a writable folder, or --no-cache")
        elif kind == "moved":
            self._off(f"cache file {self.path} was renamed or deleted while this run used it (by `provenance "
                      "cache clear`, or a scan that found it damaged): this run goes on without the cache")
        else:
            self._off(f"cache file {self.path} cannot be used ({type(exc).__name__}: {exc}): this run goes on "
                      "without it; --no-cache skips it")

    def _set_damaged_aside(self, exc: sqlite3.Error) -> tuple[Path | None, str]:
        """Close the file; set it aside if SQLite confirms the damage and no other connection has
        it open. (The new name, '') or (None, the warning that says why not)."""
        self._close()
        damaged = _quick_check(self.path)
        if damaged is None:
            return None, (f"cache file {self.path} could not be read ({exc}), nor checked: this run goes on "
                          "without the cache")
        if not damaged:
            return None, (f"cache file {self.path} could not be read ({exc}), though SQLite's check finds it "
                          "sound: this run goes on without the cache")
        if claim(self.path) == "in use":
            return None, (f"cache file {self.path} is damaged ({exc}): this run goes on without the cache; once "
                          "no other scan uses it, run `provenance cache clear --yes` or delete it")
        try:
            return set_aside(self.path), ""
        except OSError:
            return None, (f"cache file {self.path} is damaged ({exc}): this run goes on without the cache; run "
                          "`provenance cache clear --yes` or delete it")

    def _select(self, sql: str, keys: list[str], *params) -> list[tuple]:
        """Rows of `sql` (ending in `key IN`) for `keys`, `CHUNK` keys per query (one query per key
        costs more than the unpickling on a warm re-scan); `params` come before the keys. No rows
        when the file cannot be read now."""
        rows: list[tuple] = []
        with self._lock:
            if self._db is None:
                return []
            try:
                for lo in range(0, len(keys), CHUNK):
                    chunk = keys[lo:lo + CHUNK]
                    rows += self._db.execute(f"{sql} ({','.join('?' * len(chunk))})", [*params, *chunk]).fetchall()
            except sqlite3.Error as exc:
                self._skipped_reads += problem_kind(exc) == "locked"
                self._failed(exc)
                return []
        return rows

    def _stamp(self, table: str, namespace: str | None, rows: list[tuple]) -> None:
        """Stamp as used today the entries of `rows` (key first, day last) that carry an older day
        (a warm re-scan on the day of the last one writes nothing)."""
        day = today()
        stale = [row[0] for row in rows if row[-1] is None or row[-1] < day]
        if stale:
            with self._lock:
                if self._db is not None:
                    self._stamps.setdefault((table, namespace), set()).update(stale)
            if not self._locked_out:
                self._save()

    def _save(self, vectors_only: bool = False) -> None:
        """Write the pending vectors, results and stamps in one transaction (`vectors_only`: the
        vectors, as the encoding does after each chunk; other threads' results wait for their
        `flush`, not the model). If the lock cannot be had in time they stay pending (`warnings`)."""
        with self._lock:
            pending = self._vectors or (not vectors_only and (self._results or self._stamps))
            if self._db is None or not pending:
                return
            try:
                with transaction(self._db):
                    day = today()
                    insert_rows(self._db, "emb (key, vec, used)", [(k, v, day) for k, v in self._vectors.items()])
                    if not vectors_only:
                        self._save_results(self._db, day)
            except sqlite3.Error as exc:
                self._failed(exc)
                return
            self._vectors.clear()
            if not vectors_only:
                self._results.clear()
                self._stamps.clear()

    def _save_results(self, db: sqlite3.Connection, day: int) -> None:  # inside `_save`'s transaction
        insert_rows(db, "kv (ns, key, value, used)", [(ns, k, v, day) for (ns, k), v in self._results.items()])
        for (table, ns), keys in self._stamps.items():
            where = "ns = ? AND " if ns is not None else ""
            keys = sorted(keys)
            for lo in range(0, len(keys), CHUNK):
                chunk = keys[lo:lo + CHUNK]
                db.execute(f"UPDATE {table} SET used = ? WHERE {where}used < ? AND key IN "
                           f"({','.join('?' * len(chunk))})",
                           [day, *([ns] if ns is not None else []), day, *chunk])

    # A small key-value store beside the vectors, for other deterministic results (language
    # identification, pair alignments) that a warm re-scan can reuse. Values are pickled by the
    # pipeline's own code only; keys hash everything the value depends on.
    def get(self, namespace: str, key: str):
        return self.get_many(namespace, [key]).get(key)

    def get_many(self, namespace: str, keys: list[str], keep: bool = False) -> dict:
        """{key: value} for the keys found. `keep`: the values are immutable (`results.SHARED`):
        kept decoded for the next scans of this process, which get the same objects."""
        keys = list(dict.fromkeys(keys))
        out, stale = self.kept.get_many(namespace, keys, today()) if keep else ({}, [])
        with self._lock:
            blobs = {k: b for k in keys if k not in out and (b := self._results.get((namespace, k))) is not None}
        rows = self._select("SELECT key, value, used FROM kv WHERE ns = ? AND key IN",
                            [k for k in keys if k not in out and k not in blobs], namespace)
        blobs.update((k, blob) for k, blob, _ in rows)
        for key, blob in blobs.items():
            try:
                out[key] = pickle.loads(blob)
            except Exception:  # a value from another version of the code: recompute
                continue
            if keep:
                self.kept.keep(namespace, key, out[key], len(blob), today())
        self._stamp("kv", namespace, [*rows, *((k, None) for k in stale)])
        return out

    def touch(self, namespace: str, keys: list[str]) -> None:
        """Stamp as used today the entries of `keys` found, without reading their values (kept from
        `prune` by a scan that relied on them without needing them this time)."""
        self._stamp("kv", namespace, self._select("SELECT key, used FROM kv WHERE ns = ? AND key IN",
                                                  list(dict.fromkeys(keys)), namespace))

    def put(self, namespace: str, key: str, value, keep: bool = False) -> None:
        """Store `value` (at the next `flush`: a transaction per pair costs more than the alignment);
        `keep`: as `get_many`'s (its arrays are set read-only now)."""
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            if self._db is not None:
                self._results[namespace, key] = blob
                if keep:
                    self.kept.keep(namespace, key, value, len(blob), today())

    def flush(self) -> None:
        self._save()

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model_id}\0{text}".encode()).hexdigest()

    def _vectors_of(self, keys: list[str]) -> dict[str, np.ndarray]:
        """{key: vector} of the distinct `keys` found (in memory, pending or in the file); stamps
        those read from the file and keeps them in memory (read-only: views of their bytes)."""
        found, stale = self.kept.get_many("", keys, today())
        with self._lock:
            for k in keys:
                if k in self._vectors and k not in found:
                    found[k] = np.frombuffer(self._vectors[k], dtype=np.float32)
        rows = self._select("SELECT key, vec, used FROM emb WHERE key IN", [k for k in keys if k not in found])
        for k, blob, _ in rows:
            v = np.frombuffer(blob, dtype=np.float32)
            if v.shape == (self.dimension,):
                found[k] = v
                self.kept.keep("", k, v, len(blob), today())
        self._stamp("emb", None, [*rows, *((k, None) for k in stale)])
        return found

    def lookup(self, texts: list[str]) -> dict[str, np.ndarray]:
        """{text: vector} of the distinct `texts` this cache holds (hits; `encode` encodes the others)."""
        keys = {self._key(t): t for t in texts}
        found = self._vectors_of(list(keys))
        self.hits += len(found)
        return {keys[k]: v for k, v in found.items()}

    def count_missing(self, texts: list[str]) -> int:
        """How many of the distinct `texts` have no vector here yet (what `encode` would encode)."""
        unique = list(dict.fromkeys(self._key(t) for t in texts))
        known = self.kept.holds("", unique)
        with self._lock:
            stored = [k for k in unique if k not in self._vectors and k not in known]
        return len(stored) - len(self._select("SELECT key FROM emb WHERE key IN", stored))

    @property
    def streams(self) -> bool:
        """Whether `encode` takes `stop` and `on_batch` (`embed.streams`): where its model's does."""
        return bool(getattr(self.inner, "streams", False))

    def encode(self, texts: list[str], stop: threading.Event | None = None,
               on_batch: Callable[[np.ndarray, np.ndarray], None] | None = None) -> np.ndarray:
        """The cached vectors of `texts`, the others encoded by the model and kept. `stop`,
        `on_batch`: as `embed.streams` says (hits are reported first, in one call); the vectors
        encoded before a stop are kept too."""
        keys = [self._key(t) for t in texts]
        found = self._vectors_of(list(dict.fromkeys(keys)))
        missing = [(k, t) for k, t in dict(zip(keys, texts, strict=True)).items() if k not in found]
        self.hits += len(texts) - sum(1 for k in keys if k not in found)
        self.misses += len(missing)
        first = {k: i for i, k in reversed(list(enumerate(keys)))} if on_batch is not None else {}
        if on_batch is not None and found:
            on_batch(np.array([first[k] for k in found]), np.vstack(list(found.values())))

        def keep(rows: np.ndarray, vecs: np.ndarray) -> None:
            with self._lock:
                for r, v in zip(rows.tolist(), vecs, strict=True):
                    k, v = missing[r][0], np.asarray(v, np.float32)
                    if self._db is not None:
                        self._vectors[k] = blob = v.tobytes()
                        v = np.frombuffer(blob, np.float32)  # the batch's array need not stay alive
                        self.kept.keep("", k, v, len(blob), today())
                    found[k] = v
                due = len(self._vectors) >= SAVE_EVERY and not self._locked_out
            if due:  # a long encoding writes as it goes: scans beside it find the vectors, a kill loses few
                self._save(vectors_only=True)
            if on_batch is not None:
                on_batch(np.array([first[missing[r][0]] for r in rows.tolist()]), vecs)

        if missing:
            try:
                if (stop is not None or on_batch is not None) and self.streams:
                    self.inner.encode([t for _, t in missing], stop=stop, on_batch=keep)
                elif stop is not None and stop.is_set():
                    raise EncodingStopped()
                else:
                    keep(np.arange(len(missing)), self.inner.encode([t for _, t in missing]))
            finally:  # the rest written now (what was encoded before a stop too)
                if not self._locked_out:
                    self._save(vectors_only=True)
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return np.vstack([found[k] for k in keys]).astype(np.float32)
