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


def digest(*parts) -> str:
    """SHA-256 (hex) of `parts`: strings by their UTF-8 bytes, anything else by its repr."""
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
