"""The on-disk cache: sentence vectors and other deterministic results, reused between scans.

`CachedEmbedder` wraps an embedder: vectors are keyed by model and SHA-256 of the text, so a
re-scan encodes only texts it has not seen; beside them a key-value table holds what the pipeline
derives from texts alone (segmentation, languages, features, pair alignments, comparisons, the
last scan's neighbour lists). One SQLite file per model, named after the model id, dimension and
a digest of the model's files (two local models with one folder name never share vectors).

Every entry carries the day it was last used, so `prune` can drop what no scan has needed for a
while; `info` and `clear` serve `provenance cache info|prune|clear`.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np

from .errors import InputError

PREFIX = "embeddings-"
#: Entries per SQL statement (SQLite allows 999 parameters in old builds).
CHUNK = 500


def default_cache_dir() -> Path:
    env = os.environ.get("PROVENANCE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "provenance"


def today() -> int:
    """Days since 1970-01-01 (UTC): the unit of the last-used stamps."""
    return int(time.time() // 86400)


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30, check_same_thread=False)
    db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS kv (ns TEXT, key TEXT, value BLOB, PRIMARY KEY (ns, key))")
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    for table in ("emb", "kv"):  # files written before the stamps existed count as used today
        if "used" not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
            db.execute(f"ALTER TABLE {table} ADD COLUMN used INTEGER NOT NULL DEFAULT {today()}")
    db.commit()
    return db


class CachedEmbedder:
    """Wraps an embedder with the on-disk cache (see the module docstring). Safe to share between
    processes (SQLite locking); a damaged cache file is set aside and rebuilt, never fatal."""

    def __init__(self, inner, cache_dir: str | os.PathLike | None = None):
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.languages = inner.languages
        self.fingerprint = getattr(inner, "fingerprint", None)
        self.hits = self.misses = 0
        folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^\w.-]+", "_", self.model_id)[:80]
        suffix = f"-{self.fingerprint}" if self.fingerprint else ""
        self.path = folder / f"{PREFIX}{slug}-{self.dimension}{suffix}.sqlite"
        # the scan reads vectors in its encoding thread and other results in the main thread: one
        # connection, each use under the lock (sqlite3 builds differ in what they serialise)
        self._lock = threading.RLock()
        try:
            self._db = _connect(self.path)
        except sqlite3.DatabaseError:
            self.path.rename(self.path.with_suffix(".corrupt"))
            self._db = _connect(self.path)
        with self._lock, self._db:
            self._db.executemany("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                                 [("model", self.model_id), ("dimension", str(self.dimension)),
                                  ("fingerprint", self.fingerprint or "")])
        self._today = today()

    def _select(self, sql: str, keys: list[str], *params) -> list[tuple]:
        """Rows of `sql` (ending in `key IN`) for `keys`, `CHUNK` keys per query (one query per key
        costs more than the unpickling on a warm re-scan); `params` come before the keys."""
        rows: list[tuple] = []
        for lo in range(0, len(keys), CHUNK):
            chunk = keys[lo:lo + CHUNK]
            with self._lock:
                rows += self._db.execute(f"{sql} ({','.join('?' * len(chunk))})", [*params, *chunk]).fetchall()
        return rows

    def _touch(self, table: str, keys: list[str], namespace: str | None = None) -> None:
        """Stamp `keys` as used today (a write only for entries not stamped today yet)."""
        if not keys:
            return
        where = "ns = ? AND " if namespace is not None else ""
        q = f"UPDATE {table} SET used = ? WHERE {where}used < ? AND key IN ({','.join('?' * len(keys))})"
        args = [self._today, *([namespace] if namespace is not None else []), self._today, *keys]
        with self._lock:
            if self._db.execute(q, args).rowcount:
                self._db.commit()

    # A small key-value store beside the vectors, for other deterministic results (language
    # identification, pair alignments) that a warm re-scan can reuse. Values are pickled by the
    # pipeline's own code only; keys hash everything the value depends on.
    def get(self, namespace: str, key: str):
        return self.get_many(namespace, [key]).get(key)

    def get_many(self, namespace: str, keys: list[str]) -> dict:
        """{key: value} for the keys found."""
        import pickle

        out = {}
        rows = self._select("SELECT key, value FROM kv WHERE ns = ? AND key IN", list(dict.fromkeys(keys)), namespace)
        for key, blob in rows:
            try:
                out[key] = pickle.loads(blob)
            except Exception:  # a value from another version of the code: recompute
                pass
        for lo in range(0, len(rows), CHUNK):
            self._touch("kv", [k for k, _ in rows[lo:lo + CHUNK]], namespace)
        return out

    def put(self, namespace: str, key: str, value) -> None:
        import pickle

        # committed by flush() (once per scan): a commit per pair costs more than the alignment
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO kv (ns, key, value, used) VALUES (?, ?, ?, ?)",
                             (namespace, key, blob, self._today))

    def flush(self) -> None:
        with self._lock:
            self._db.commit()

    def _key(self, text: str) -> str:
        import hashlib

        return hashlib.sha256(f"{self.model_id}\0{text}".encode()).hexdigest()

    def count_missing(self, texts: list[str]) -> int:
        """How many of the distinct `texts` have no vector here yet (what `encode` would encode)."""
        unique = list(dict.fromkeys(self._key(t) for t in texts))
        return len(unique) - len(self._select("SELECT key FROM emb WHERE key IN", unique))

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        rows = self._select("SELECT key, vec FROM emb WHERE key IN", list(dict.fromkeys(keys)))
        for k, blob in rows:
            v = np.frombuffer(blob, dtype=np.float32)
            if v.shape == (self.dimension,):
                found[k] = v
        for lo in range(0, len(rows), CHUNK):
            self._touch("emb", [k for k, _ in rows[lo:lo + CHUNK]])
        missing = [(k, t) for k, t in dict(zip(keys, texts, strict=True)).items() if k not in found]
        self.hits += len(texts) - sum(1 for k in keys if k not in found)
        self.misses += len(missing)
        if missing:
            vecs = self.inner.encode([t for _, t in missing])
            with self._lock, self._db:
                self._db.executemany("INSERT OR REPLACE INTO emb (key, vec, used) VALUES (?, ?, ?)",
                                     [(k, np.asarray(v, np.float32).tobytes(), self._today)
                                      for (k, _), v in zip(missing, vecs, strict=True)])
            for (k, _), v in zip(missing, vecs, strict=True):
                found[k] = np.asarray(v, np.float32)
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return np.vstack([found[k] for k in keys]).astype(np.float32)


# --- maintenance -------------------------------------------------------------------------------

def cache_files(cache_dir: str | os.PathLike | None = None) -> list[Path]:
    """The cache files in `cache_dir` (default `default_cache_dir()`), sorted by name."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{PREFIX}*.sqlite") if p.is_file())


def _open_existing(path: Path) -> sqlite3.Connection:
    try:
        return _connect(path)
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: not a readable cache file ({exc}); delete it or run "
                         "`provenance cache clear`") from None


def info(cache_dir: str | os.PathLike | None = None) -> list[dict]:
    """One dict per cache file: path, bytes, model, dimension, vectors, results per kind, and the
    first and last day any entry was used (ISO dates)."""
    out = []
    for path in cache_files(cache_dir):
        db = _open_existing(path)
        try:
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            vectors, lo, hi = db.execute("SELECT COUNT(*), MIN(used), MAX(used) FROM emb").fetchone()
            kinds = dict(db.execute("SELECT ns, COUNT(*) FROM kv GROUP BY ns ORDER BY ns").fetchall())
            klo, khi = db.execute("SELECT MIN(used), MAX(used) FROM kv").fetchone()
        finally:
            db.close()
        days = [d for d in (lo, hi, klo, khi) if d is not None]
        out.append({"path": str(path), "bytes": _size(path), "model": meta.get("model", "?"),
                    "dimension": int(meta.get("dimension", 0) or 0), "vectors": vectors, "results": kinds,
                    "first_used": _iso(min(days)) if days else None,
                    "last_used": _iso(max(days)) if days else None})
    return out


def prune(unused_days: int, cache_dir: str | os.PathLike | None = None) -> dict:
    """Delete entries no scan has used for more than `unused_days` days, then compact the files.
    A later scan recomputes whatever it needs. Returns counts and bytes before and after."""
    if unused_days < 0:
        raise InputError(f"--unused-for must be >= 0 days, got {unused_days}")
    cutoff = today() - unused_days
    removed_vectors = removed_results = 0
    before = after = 0
    for path in cache_files(cache_dir):
        before += _size(path)
        db = _open_existing(path)
        try:
            with db:
                removed_vectors += db.execute("DELETE FROM emb WHERE used < ?", (cutoff,)).rowcount
                removed_results += db.execute("DELETE FROM kv WHERE used < ?", (cutoff,)).rowcount
            db.execute("VACUUM")
        finally:
            db.close()
        after += _size(path)
    return {"files": len(cache_files(cache_dir)), "removed_vectors": removed_vectors,
            "removed_results": removed_results, "bytes_before": before, "bytes_after": after}


def clear(cache_dir: str | os.PathLike | None = None) -> dict:
    """Delete every cache file (and SQLite's side files) in `cache_dir`; nothing else there."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    removed = freed = 0
    if folder.is_dir():
        for p in sorted(folder.glob(f"{PREFIX}*")):
            if p.is_file() and re.search(r"\.(sqlite(-wal|-shm|-journal)?|corrupt)$", p.name):
                freed += p.stat().st_size
                p.unlink()
                removed += 1
    return {"files": removed, "bytes": freed}


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists())


def _iso(day: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
