"""The files kept beside the lexicons (dictionaries, lemma lists, n-gram weights, Zipf tables,
the report's validator): where they live (`lexicon_dir`), and writing them atomically without
leaving the files of earlier keys behind."""

from __future__ import annotations

import os
import tempfile
import zlib
from contextlib import contextmanager, suppress
from pathlib import Path

from .cache import default_cache_dir

#: Lexicon files (dictionaries, simplemma's lemma lists, n-gram weight tables): built once per
#: machine, kept in `LEXICONS` under the cache folder, rebuilt when missing.
LEXICONS = "lexicons"
_lexicon_root: list[Path] = []


def lexicon_dir() -> Path:
    """The folder of the lexicon files: `LEXICONS` under the cache folder a `cache_folder_for_lexicons`
    block names (the CLI's `--cache-dir`), else under `default_cache_dir()`."""
    return (_lexicon_root[-1] if _lexicon_root else default_cache_dir()) / LEXICONS


@contextmanager
def cache_folder_for_lexicons(cache_dir: str | os.PathLike | None):
    """Within the block, lexicon files are read from and written to `cache_dir` (None: no change).
    Forked workers inherit it; processes started otherwise (Spark's Python workers) use the default."""
    if cache_dir is None:
        yield
        return
    _lexicon_root.append(Path(cache_dir))
    try:
        yield
    finally:
        _lexicon_root.pop()


def write_cache_file(path: Path, write) -> bool:
    """Write a lexicon file atomically: `write(binary file)` into a temporary file beside `path`,
    then renamed. A cache that cannot be written is only slower: False then. Whatever stops the
    write (an error of `write`, Ctrl-C) leaves no partial file behind; errors other than OSError
    are raised."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())  # on disk before it takes the name: a crash leaves no empty file there
        os.replace(tmp, path)
        return True
    except BaseException as exc:
        if tmp is not None:
            with suppress(OSError):
                Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            return False
        raise


def keep(path: Path, write) -> bool:
    """`write_cache_file(path, write)` for a file named `NAME-KEY.EXT` (every lexicon file but the
    report's validator), then the files of that name under other keys deleted; False (and nothing
    deleted) when it could not be written."""
    if not write_cache_file(path, write):
        return False
    drop_superseded(path, f"{path.name.rsplit('-', 1)[0]}-*{path.suffix}")
    return True


#: Ends a file written by `keep_checked`, after the CRC-32 of what it holds.
_CHECKED = b"PVC1"


def keep_checked(path: Path, data: bytes) -> bool:
    """`keep(path, ...)` for data that is later mapped into memory (a MARISA trie): `data`, its
    CRC-32 and a mark, so that `checked` refuses a file damaged anywhere before anything maps it (a
    trie damaged inside can crash or hang the process that reads it; marisa ignores the trailer)."""
    return keep(path, lambda fh: fh.write(data + zlib.crc32(data).to_bytes(4, "little") + _CHECKED))


def checked(path: Path) -> bool:
    """Whether `path` holds, whole, what `keep_checked` wrote (read once: ~10 ms for 10 MB)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return (len(data) >= 8 and data[-4:] == _CHECKED
            and zlib.crc32(memoryview(data)[:-8]) == int.from_bytes(data[-8:-4], "little"))


def drop_superseded(path: Path, pattern: str) -> None:
    """Delete the files beside `path` matching the glob `pattern`, but not `path`: lexicon files of
    earlier keys (another dictionary, simplemma, schema, wordfreq or code), which no scan reads
    again. A file that cannot be deleted stays (it only takes room)."""
    for old in path.parent.glob(pattern):
        if old != path:
            with suppress(OSError):
                old.unlink(missing_ok=True)
