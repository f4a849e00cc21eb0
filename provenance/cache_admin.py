"""Cache upkeep behind `provenance cache info|prepare|prune|clear`: what the cache files hold, dropping
what no scan used for a while, deleting them. A file that cannot be handled now (locked by a
running scan, damaged) gets one line with the fix; the others are handled all the same. The
lexicon files in the cache folder's `lexicons/` (dictionaries, lemma lists, n-gram weights: built
once per machine) are built ahead of any scan by `prepare`, counted by `info` and deleted by
`clear`; `prune` leaves them (a file superseded by one of a newer key is deleted when that one is
written: `lexicon_files.drop_superseded`)."""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path

from .cache import (
    BUSY_TIMEOUT,
    PREFIX,
    claim,
    default_cache_dir,
    open_db,
    prepare_db,
    problem_kind,
    today,
)
from .cache_db import table_columns, transaction
from .errors import InputError
from .lexicon_files import LEXICONS, cache_folder_for_lexicons


def cache_files(cache_dir: str | os.PathLike | None = None) -> list[Path]:
    """The cache files in `cache_dir` (default `default_cache_dir()`), sorted by name."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{PREFIX}*.sqlite") if p.is_file())


#: Lexicon files (`glossary`, `weights`, `wordfreqs`, `langid`, `report`), and the temporary files of
#: a write that was cut short.
_LEXICON_FILE = re.compile(
    r"^\.?((lexicon|lemmas|weights|zipf|langdetect)-.+\.(pickle|npz|marisa)|report_validator_\w+\.py)(\.[^.]+\.tmp)?$")


def _lexicon_folder(cache_dir: str | os.PathLike | None) -> Path:
    return (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / LEXICONS


def lexicon_files(cache_dir: str | os.PathLike | None = None) -> list[Path]:
    """The lexicon files under `cache_dir`'s `lexicons/` (default `default_cache_dir()`), sorted."""
    folder = _lexicon_folder(cache_dir)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_file() and _LEXICON_FILE.match(p.name)]
    bytecode = folder / "__pycache__"  # the report validator's (`report._compiled_schema`)
    if bytecode.is_dir():
        found += [p for p in bytecode.glob("report_validator_*") if p.is_file()]
    return sorted(found)


def prepare(cache_dir: str | os.PathLike | None = None, workers: int | None = None) -> dict:
    """Build the lexicon files a scan would build on first meeting a language: English's and those
    of every language with a dictionary installed (`glossary.dictionary_files`): the dictionary's
    lexicon, the lemma list and the n-gram weight table, and the gloss table; and the copy of
    langdetect's profiles (`langid`). German's lexicon alone
    takes ~20 s; languages are built side by side on `workers` processes (default: the usable
    cores). Files already there are only checked. Returns {"folder", "languages", "built"}."""
    import tempfile

    from . import glossary, langid, weights, wordfreqs
    from .parallel import fork_map

    languages = ["en", *sorted(lang for lang in glossary.ALPHA3 if lang != "en" and glossary.dictionary_files(lang))]
    folder = _lexicon_folder(cache_dir)
    try:  # a folder that cannot take the files: said now, not after a minute of building
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise InputError(f"cannot write the lexicons to {folder} ({exc.strerror or exc}): pass a writable "
                         "--cache-dir") from None
    before = set(lexicon_files(cache_dir))
    # what this process read from another folder is read (or built) again from this one
    for memo in (weights._cached_table, glossary._lexicon, glossary._dictionary, wordfreqs._table, langid._factory):
        memo.cache_clear()
    with cache_folder_for_lexicons(cache_dir):
        langid._factory()  # langdetect's profiles
        problems = [_prepare_language("en", gloss=True)]
        others = sorted(languages[1:], key=lambda x: x != "de")  # the longest first
        problems += fork_map(_prepare_language, others, workers, min_per_worker=1)
    return {"folder": str(folder), "languages": languages, "built": len(set(lexicon_files(cache_dir)) - before),
            "problems": [p for p in problems if p]}


def _prepare_language(lang: str, gloss: bool = False) -> str | None:
    """Build `lang`'s lexicon files; one line on what failed (a damaged dictionary file), else None."""
    from . import wordfreqs
    from .glossary import dictionary_files, lexicon, load_lemmas
    from .weights import prepare_tables

    try:
        load_lemmas(lang)
        if lang != "en":
            lexicon(lang)
        prepare_tables(lang, gloss)
        wordfreqs.prepare(lang)
    except Exception as exc:  # noqa: BLE001 -- one line per language; the others are built all the same
        where = ", ".join(str(d) for _, d, _ in dictionary_files(lang)) or "its lemma list or word list"
        return f"{lang}: not built ({type(exc).__name__}: {exc}); check {where}"
    return None


def lexicons_info(cache_dir: str | os.PathLike | None = None) -> dict:
    """{"folder", "files", "bytes"} of the lexicon files."""
    files = lexicon_files(cache_dir)
    return {"folder": str(_lexicon_folder(cache_dir)), "files": len(files),
            "bytes": sum(_file_size(p) for p in files)}


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _problem_line(path: Path, exc: sqlite3.Error) -> str:
    """One line on why the maintenance commands cannot handle cache file `path`, with the fix
    (never deleting a file that is merely locked)."""
    kind = problem_kind(exc)
    if kind == "locked":
        return (f"cache file {path} is locked by another process (a scan or prune still running?): try again "
                "when it has finished")
    if kind == "damaged":
        return f"cache file {path} is damaged ({exc}): run `provenance cache clear --yes` or delete it"
    if kind == "unwritable":
        return f"cache file {path} cannot be opened for writing ({exc}): check that you may write to {path.parent}"
    return f"cache file {path} cannot be read ({exc})"


def info(cache_dir: str | os.PathLike | None = None) -> list[dict]:
    """One dict per cache file: path, bytes, model, dimension, vectors, results per kind, and the
    first and last day any entry was used (ISO dates). A file that cannot be read now (locked,
    damaged) has only path, bytes and `problem`: one line saying why, with the fix; the others
    have `problem` None. Reads only: waits at most `BUSY_TIMEOUT` seconds for a writer."""
    out = []
    for path in cache_files(cache_dir):
        try:
            entry = _read_info(path)
        except sqlite3.Error as exc:
            out.append({"path": str(path), "bytes": _size(path), "problem": _problem_line(path, exc)})
            continue
        out.append({"path": str(path), "bytes": _size(path), **entry, "problem": None})
    return out


def _read_info(path: Path) -> dict:
    db = open_db(path, BUSY_TIMEOUT, create=False)
    try:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall()) if "meta" in tables else {}
        days: list[int] = []
        vectors, kinds = 0, {}
        if "emb" in tables:
            stamped = "used" in table_columns(db, "emb")
            vectors, lo, hi = db.execute(f"SELECT COUNT(*), {'MIN(used), MAX(used)' if stamped else 'NULL, NULL'} "
                                         "FROM emb").fetchone()
            days += [d for d in (lo, hi) if d is not None]
        if "kv" in tables:
            kinds = dict(db.execute("SELECT ns, COUNT(*) FROM kv GROUP BY ns ORDER BY ns").fetchall())
            if "used" in table_columns(db, "kv"):
                days += [d for d in db.execute("SELECT MIN(used), MAX(used) FROM kv").fetchone() if d is not None]
    finally:
        db.close()
    return {"model": meta.get("model", "?"), "backend": meta.get("backend", "torch"),
            "dimension": int(meta.get("dimension", 0) or 0), "vectors": vectors,
            "results": kinds, "first_used": _iso(min(days)) if days else None,
            "last_used": _iso(max(days)) if days else None}


def prune(unused_days: int, cache_dir: str | os.PathLike | None = None) -> dict:
    """Delete entries no scan has used for more than `unused_days` days, then compact the files.
    A later scan recomputes whatever it needs. Returns counts and bytes before and after (of the
    files pruned) and `problems`: one line per file left as it was (locked, damaged)."""
    if unused_days < 0:
        raise InputError(f"--unused-for must be >= 0 days, got {unused_days}")
    cutoff = today() - unused_days
    removed_vectors = removed_results = 0
    before = after = files = 0
    problems = []
    for path in cache_files(cache_dir):
        size = _size(path)
        try:
            db = open_db(path, BUSY_TIMEOUT, create=False)
            try:
                prepare_db(db, BUSY_TIMEOUT, None)
                with transaction(db):
                    vectors = db.execute("DELETE FROM emb WHERE used < ?", (cutoff,)).rowcount
                    results = db.execute("DELETE FROM kv WHERE used < ?", (cutoff,)).rowcount
                if vectors or results:
                    try:
                        db.execute("VACUUM")
                        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the space back on disk now
                    except sqlite3.OperationalError as exc:
                        if problem_kind(exc) != "locked":
                            raise
                        problems.append(f"cache file {path}: {vectors + results:,} entries removed, but it was not "
                                        "compacted as another process held it: prune again when it has finished")
            finally:
                db.close()
        except sqlite3.Error as exc:
            problems.append(_problem_line(path, exc))
            continue
        removed_vectors += vectors
        removed_results += results
        before += size
        after += _size(path)
        files += 1
    return {"files": files, "removed_vectors": removed_vectors, "removed_results": removed_results,
            "bytes_before": before, "bytes_after": after, "problems": problems}


#: Our files: cache files, SQLite's side files, damaged files set aside (`.corrupt`: older versions)
_OURS = re.compile(r"\.(sqlite|corrupt(-\d{8}T\d{6}(-\d+)?)?)(-wal|-shm|-journal)?$")


def clear(cache_dir: str | os.PathLike | None = None) -> dict:
    """Delete every cache file (and SQLite's side files, and damaged files set aside) in
    `cache_dir`, and the lexicon files in its `lexicons/` (rebuilt when a scan needs them);
    nothing else there. A file another process has open is left, with a line in
    `problems` (deleting it under that process could let its journal land in the next file)."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    removed = freed = 0
    problems, in_use = [], set()
    for path in cache_files(folder):
        if claim(path) == "in use":
            in_use.add(path.name)
            problems.append(f"cache file {path} is in use by another process (a scan still running?): not "
                            "deleted; run `provenance cache clear` again when it has finished")
    if folder.is_dir():
        for p in sorted(folder.glob(f"{PREFIX}*")):
            if p.is_file() and _OURS.search(p.name) and re.sub(r"-(wal|shm|journal)$", "", p.name) not in in_use:
                try:
                    size = p.stat().st_size
                    p.unlink()
                except FileNotFoundError:  # a side file SQLite removed meanwhile
                    continue
                except OSError as exc:
                    problems.append(f"cannot delete {p} ({exc.strerror or exc}): check that you may write to {folder}")
                    continue
                freed += size
                removed += 1
    for p in lexicon_files(folder):
        try:
            size = p.stat().st_size
            p.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            problems.append(f"cannot delete {p} ({exc.strerror or exc}): check that you may write to {p.parent}")
            continue
        freed += size
        removed += 1
    return {"files": removed, "bytes": freed, "problems": problems}


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal")) if p.exists())


def _iso(day: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
