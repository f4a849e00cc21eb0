"""`ResultStore`: the cache of what the stages derive from texts (segmentation, languages,
features, neighbour lists, pair alignments, comparisons), beside the cached vectors.

Keys: every key hashes its namespace, `FORMAT_VERSION`, the digest of this package's source code
(`hashing.code_digest`) and everything the value depends on. A value written by other code is
therefore never served: upgrading the tool, or editing any stage, makes the old results
unreachable (the vectors stay: they depend on the model and the text alone). Values are pickled
by this package's own code only.

A store without a backend (`ResultStore(None)`, or an embedder without the on-disk cache)
computes everything and keeps nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .hashing import code_digest, digest
from .parallel import MIN_ITEMS_PER_WORKER, fork_map

#: Bump to abandon every cached result (the code digest already changes with any code change).
FORMAT_VERSION = 1
#: Namespaces whose values are immutable (frozen dataclasses and tuples all the way down; arrays
#: only at the top or in fields, set read-only when kept): a process that scans again may hand one
#: decoded value to each of its scans (`cache.CachedEmbedder.get_many(keep=True)`).
#: tests/test_results.py walks a scan's values of these to keep that true.
SHARED = frozenset({"segment", "langid", "features", "pair", "lean", "compare"})
#: Namespaces a process that scans again keeps in memory itself (`recall`, `remember`): "weighted"
#: and "columns", never written to the file (cheap to derive from cached values, but worth keeping
#: in memory: `retrieve._lexical_rows`); "knn", the last scan's neighbour lists, written too but
#: read back from memory (any earlier scan's lists are valid where another process wrote newer ones
#: meanwhile).
REMEMBERED = frozenset({"weighted", "columns", "knn"})


#: Keys this process made, by namespace, code and parts: a warm re-scan of 117 articles makes ~2,900
#: keys, nearly all of which the last scan made too (~14 ms of digests, a lean's key spelling out the
#: sentences its pair's alignment covers). Only for parts that are equal exactly when their digests
#: are, given the shape `_shape` adds to the look-up (True == 1 and 0.0 == -0.0 print otherwise), so
#: a key found is the key `digest` would make. A plain dict, emptied when full (an LRU's bookkeeping
#: in Python cost as much as the digests it saved).
_KEYS: dict = {}
KEYS_KEPT = 1 << 15
_SCALARS = frozenset({str, int, bool, type(None)})


def _shape(parts: tuple) -> tuple | None:
    """What besides equality tells `parts` apart in a digest: each part's type, a float's sign and a
    tuple's one element type (tuples of str, int or bool alone, such as sentence indices); None
    for parts that may not be looked up (anything else: nested tuples, lists, arrays, settings)."""
    shape = []
    for part in parts:
        kind = type(part)
        if kind is tuple:
            inner = set(map(type, part))
            if len(inner) > 1 or not inner <= _SCALARS:
                return None
            shape.append(inner.pop() if inner else tuple)
        elif kind is float:
            shape.append(math.copysign(1.0, part))
        elif kind in _SCALARS:
            shape.append(kind)
        else:
            return None
    return tuple(shape)


class ResultStore:
    """Namespaced get/put over a backend with `get_many(ns, keys, keep)`, `put(ns, key, value)` and
    `flush()` (the on-disk `cache.CachedEmbedder`), or over nothing."""

    def __init__(self, backend=None, code: str | None = None):
        self.backend = backend
        self.code = code if code is not None else code_digest()

    @classmethod
    def for_embedder(cls, embedder) -> ResultStore:
        """The store of `embedder`'s on-disk cache, or an empty store when it has none."""
        from .cache import CachedEmbedder

        return cls(embedder if isinstance(embedder, CachedEmbedder) else None)

    @property
    def enabled(self) -> bool:
        return self.backend is not None

    def key(self, namespace: str, *parts) -> str:
        """The key of a value of `namespace` that depends on `parts` (and on this code)."""
        shape = _shape(parts)
        if shape is None:
            return digest(namespace, FORMAT_VERSION, self.code, *parts)
        memo = (namespace, self.code, parts, shape)
        found = _KEYS.get(memo)  # (dict reads and writes are atomic: no lock)
        if found is None:
            found = digest(namespace, FORMAT_VERSION, self.code, *parts)
            if len(_KEYS) >= KEYS_KEPT:
                _KEYS.clear()
            _KEYS[memo] = found
        return found

    def get_many(self, namespace: str, keys: Sequence[str]) -> dict[str, Any]:
        """{key: value} for the keys found."""
        if not self.enabled or not keys:
            return {}
        return self.backend.get_many(namespace, list(keys), keep=namespace in SHARED)

    def get(self, namespace: str, key: str):
        return self.get_many(namespace, [key]).get(key)

    def touch(self, namespace: str, keys: Sequence[str]) -> None:
        """Keep the entries of `keys` from `cache prune` as if read now (their values are not read)."""
        if self.enabled and keys and hasattr(self.backend, "touch"):
            self.backend.touch(namespace, list(keys))

    def put(self, namespace: str, key: str, value) -> None:
        """Store `value`; one of a `SHARED` namespace is kept for the process's next scans as it is,
        its arrays set read-only (the scan that made it must not write into them either)."""
        if self.enabled:
            self.backend.put(namespace, key, value, keep=namespace in SHARED)

    def flush(self) -> None:
        if self.enabled:
            self.backend.flush()

    @property
    def remembers(self) -> bool:
        """Whether `remember` keeps anything (a process that scans once keeps nothing)."""
        kept = getattr(self.backend, "kept", None)
        return kept is not None and kept.active

    def recall(self, namespace: str, keys: Sequence[str]) -> dict[str, Any]:
        """{key: value} of the `keys` of a `REMEMBERED` namespace that this process kept."""
        kept = getattr(self.backend, "kept", None)
        return kept.recall(namespace, list(keys)) if kept is not None and keys else {}

    def remember(self, namespace: str, key: str, value) -> bool:
        """Keep `value` (of a `REMEMBERED` namespace: tuples, arrays and sparse matrices) for this
        process's next scans, as `put` keeps those of `SHARED` ones (its arrays set read-only),
        without writing it. Whether it is kept (not when too large or in a process that keeps nothing)."""
        kept = getattr(self.backend, "kept", None)
        return kept is not None and kept.remember(namespace, key, value)

    def put_now_and_then(self, namespace: str, key: str, value, seconds: float) -> None:
        """`remember` `value`, and `put` it too unless this process, which remembered it, put one
        under `key` less than `seconds` ago: for a value that only spares the next process work
        (this one reads its own from memory), so that scans in quick succession do not each write
        megabytes (a process that stops early leaves the next one an older value, which it must
        accept)."""
        remembered = self.remember(namespace, key, value)
        kept = getattr(self.backend, "kept", None)
        if not remembered or kept is None or kept.due(namespace, key, seconds):
            self.put(namespace, key, value)

    def memoise(self, namespace: str, items: list, key_parts: Callable[[Any], tuple], compute: Callable,
                workers: int | None = 1, before: Callable[[list], Any] | None = None,
                min_per_worker: int = MIN_ITEMS_PER_WORKER) -> list:
        """`[compute(x) for x in items]`, reused under `key(namespace, *key_parts(x))` (which must
        name everything the value depends on besides the code); one batched read, new values put
        back. What is not found is computed by `workers` processes (`parallel.fork_map`), after
        `before(those items)` ran here (to load once what every worker process would otherwise load);
        `min_per_worker` as `fork_map`'s."""
        if not self.enabled:
            if before is not None:
                before(items)
            return fork_map(compute, items, workers, min_per_worker=min_per_worker)
        keys = [self.key(namespace, *key_parts(x)) for x in items]
        found = self.get_many(namespace, keys)
        todo = [i for i, k in enumerate(keys) if found.get(k) is None]
        if todo and before is not None:
            before([items[i] for i in todo])
        computed = fork_map(compute, [items[i] for i in todo], workers, min_per_worker=min_per_worker)
        for i, value in zip(todo, computed, strict=True):
            found[keys[i]] = value
            self.put(namespace, keys[i], value)
        return [found[k] for k in keys]
