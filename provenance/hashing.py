"""Digests: of values (cache keys), of files (archive checksums), and of this package's own code.

`code_digest()` is what makes cached results safe across upgrades: every cached value that this
package's code derives from texts is keyed by a digest of the package's source files, so a change
to any stage (segmentation, language id, alignment, evidence) makes the old results unreachable,
whatever the version string says.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

#: Strings at least this long (an article's text) are digested once per process and object
#: (`_long_digest`): a scan keys each text in several stages, and a process that scans again reads
#: the same text objects (`load.load_file`).
LONG_STRING = 2048
#: at most this many strings' and objects' digests remembered (plain dicts, emptied when full: an
#: LRU's bookkeeping in Python costs as much as a digest of an article)
OBJECTS_KEPT = 4096
#: at most this many `of_objects` values remembered (emptied when full; a warm re-scan of 117
#: articles makes ~1,400: ~3 per article, the rest a pair's evidence or a story's weights)
VALUES_KEPT = 1 << 16
_LONG: dict[int, tuple[tuple[str], bytes]] = {}
_OF_OBJECTS: dict[tuple, tuple[tuple, str]] = {}
_VALUES: dict[tuple, tuple[tuple, object]] = {}


def _by_identity(table: dict, key: tuple, objects: tuple, make, kept: int = OBJECTS_KEPT):
    """`make()` remembered in `table` (at most `kept` entries) under `key` for these very `objects`
    (kept alive meanwhile)."""
    found = table.get(key)
    if found is not None and all(a is b for a, b in zip(found[0], objects, strict=True)):
        return found[1]
    value = make()
    if len(table) >= kept:
        table.clear()
    table[key] = (objects, value)
    return value


def _long_digest(text: str) -> bytes:
    """SHA-256 of `text`'s UTF-8 bytes, remembered for this very object."""
    return _by_identity(_LONG, id(text), (text,),
                        lambda: hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())


def digest_of_objects(kind: str, objects: tuple, values: tuple, make) -> str:
    """`make()` (a digest of what `objects` and `values` hold) remembered for these very objects
    (immutable ones: a document, its segmentation's tuples and its languages, which a process that
    scans again gets back as the same objects from `load` and its cache; kept alive meanwhile) and
    equal `values`, under `kind`. A warm re-scan keyed every article's segmentation in two stages,
    ~7 ms of reprs."""
    return _by_identity(_OF_OBJECTS, (kind, *map(id, objects), *values), objects, make)


def of_objects(kind: str, objects: tuple, make, values: tuple = ()):
    """`make()`, a pure function of the immutable `objects` (a text, a document's cleaned blocks)
    and of `values` (hashable: document indices), remembered for these very objects and equal
    values as `digest_of_objects` remembers digests: for per-document work a process that scans
    again would redo for every unchanged article. The value returned is shared: it must be
    immutable too."""
    return _by_identity(_VALUES, (kind, *map(id, objects), *values), objects, make, VALUES_KEPT)


def digest(*parts) -> str:
    """SHA-256 (hex) of `parts`: strings by their UTF-8 bytes (long ones by the SHA-256 of them),
    anything else by its repr."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, str):
            if len(part) >= LONG_STRING:
                h.update(b"L")
                h.update(_long_digest(part))
            else:
                h.update(b"s")
                h.update(part.encode("utf-8", "surrogatepass"))
        else:
            h.update(b"r")
            h.update(repr(part).encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@lru_cache(maxsize=1)
def code_digest() -> str:
    """Digest of every Python source file of the `provenance` package (names and contents), computed
    once per process (~1 ms)."""
    root = Path(__file__).resolve().parent
    return source_digest(root)


def source_digest(root: Path) -> str:
    """Digest of the `*.py` files below `root`, by relative name and content."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]
