"""`KeptValues`: what a process that scans again keeps decoded from its last scans.

A notebook, a service or `provenance scan --watch` scans the same articles again and again; each
scan used to read back from the on-disk cache, and unpickle, every value the last one had read:
~0.1 s of a ~0.45 s re-scan of 116 articles with one new one here. `cache.CachedEmbedder` keeps
them here instead, decoded, least recently used first out, up to a size: vectors, and the values of
the namespaces `results.SHARED` names. Those are immutable (frozen dataclasses and tuples; their
arrays are set read-only here), so one object may serve every later scan. Values the scan derives
cheaply but every time (`results.REMEMBERED`: weighted lexical rows, the last scan's columns and
neighbour lists) are kept beside them (`remember`, `recall`), in an LRU of their own of the same
size, so that they never push out what would otherwise be read back from the file.
"""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
from cachetools import LRUCache

#: Kept values, counted by their stored (pickled) size: the vectors and per-article results of a
#: ~2,500-article corpus (one scan of the 116-article speed corpus reads ~6 MB); the remembered
#: ones (by their arrays' size, ~5.5 MB for that corpus) have as much again.
MEMORY_BYTES = 128 << 20


class KeptValues:
    """(namespace, key) -> value, at most `max_bytes` of the values' stored sizes, each with the
    day its stored entry was last stamped as used (`cache.today`); thread-safe. `max_bytes` 0
    keeps nothing (a process that scans once)."""

    def __init__(self, max_bytes: int = MEMORY_BYTES):
        self._lru = LRUCache(max_bytes, getsizeof=lambda entry: entry[1]) if max_bytes > 0 else None
        self._remembered = LRUCache(max_bytes, getsizeof=lambda entry: entry[1]) if max_bytes > 0 else None
        self._written: dict[tuple[str, str], float] = {}  # (namespace, key) -> when `due` last said yes
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """Whether anything is kept (`max_bytes` above 0)."""
        return self._lru is not None

    def get_many(self, namespace: str, keys: list[str], today: int) -> tuple[dict, list[str]]:
        """{key: value} of the `keys` kept, and those of them last stamped before `today` (to be
        stamped again: a process that watches a folder for weeks still uses them)."""
        if self._lru is None:
            return {}, []
        found, stale = {}, []
        with self._lock:
            for k in keys:
                hit = self._lru.get((namespace, k))
                if hit is not None:
                    found[k] = hit[0]
                    if hit[2] < today:
                        stale.append(k)
                        self._lru[namespace, k] = (hit[0], hit[1], today)
        return found, stale

    def holds(self, namespace: str, keys: list[str]) -> set[str]:
        """Which of `keys` are kept (their days untouched: nothing is read)."""
        if self._lru is None:
            return set()
        with self._lock:
            return {k for k in keys if (namespace, k) in self._lru}

    def keep(self, namespace: str, key: str, value, size: int, day: int):
        """Keep `value` (stored in `size` bytes, stamped on `day`), its arrays made read-only
        (`read_only`); returns it."""
        if self._lru is not None and size <= self._lru.maxsize:
            read_only(value)
            with self._lock:
                self._lru[namespace, key] = (value, size, day)
        return value

    def remember(self, namespace: str, key: str, value) -> bool:
        """Keep `value`, which has no stored entry: counted by the size of its arrays, all of them
        made read-only (tuples of them, nested, and sparse matrices: `_arrays`). Whether it is kept."""
        if self._remembered is None:
            return False
        arrays = list(_arrays(value))
        size = sum(a.nbytes for a in arrays)
        if size > self._remembered.maxsize:
            return False
        for arr in arrays:
            arr.flags.writeable = False
        with self._lock:
            self._remembered[namespace, key] = (value, size)
        return True

    def due(self, namespace: str, key: str, seconds: float) -> bool:
        """True at most once every `seconds` for one (namespace, key) (`results.ResultStore.put_now_and_then`)."""
        now = time.monotonic()
        with self._lock:
            if now - self._written.get((namespace, key), -float("inf")) < seconds:
                return False
            self._written[namespace, key] = now
            return True

    def recall(self, namespace: str, keys: list[str]) -> dict:
        """{key: value} of the `keys` remembered."""
        if self._remembered is None:
            return {}
        with self._lock:
            return {k: hit[0] for k in keys if (hit := self._remembered.get((namespace, k))) is not None}

    def clear(self) -> None:
        if self._lru is not None:
            with self._lock:
                self._lru.clear()
                self._remembered.clear()

    def items(self) -> list[tuple[tuple[str, str], object]]:
        """((namespace, key), value) of everything kept and remembered."""
        if self._lru is None:
            return []
        with self._lock:
            return [*((k, entry[0]) for k, entry in self._lru.items()),
                    *((k, entry[0]) for k, entry in self._remembered.items())]


def read_only(value):
    """`value` with its arrays set read-only: itself, its items (a tuple) or its fields (a
    dataclass), sparse matrices' too, one level down (where `results.SHARED` values hold them).
    A stage writing into one then raises instead of changing what later scans get."""
    parts = (value,)
    if isinstance(value, tuple):
        parts = value
    elif hasattr(value, "__dataclass_fields__"):
        parts = tuple(getattr(value, name) for name in value.__dataclass_fields__)
    sp = sys.modules.get("scipy.sparse")  # not imported: no value holds a sparse matrix
    for part in parts:
        if sp is not None and sp.issparse(part):
            arrays = [getattr(part, name) for name in ("data", "indices", "indptr") if hasattr(part, name)]
        else:
            arrays = [part] if isinstance(part, np.ndarray) else []
        for arr in arrays:
            arr.flags.writeable = False
    return value


def _arrays(value):
    """The arrays of `value`: itself, those of the items of a tuple (nested), a sparse matrix's."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _arrays(item)
    elif (sp := sys.modules.get("scipy.sparse")) is not None and sp.issparse(value):
        yield from (getattr(value, name) for name in ("data", "indices", "indptr") if hasattr(value, name))
