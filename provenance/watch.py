"""`provenance scan --watch`: keep the report current while articles arrive.

A rights desk or a newsroom drops the day's articles into a folder; the scan runs once, then
looks at the inputs every `interval` seconds and scans again when a file was added, changed or
removed, rewriting the report (atomically, as always). The model stays loaded and the cache keeps
what it read decoded (`kept.KeptValues`), so a new article costs a warm re-scan: a round of 0.5-0.7 s
for 116 articles here, its 2.2 MB report included, against 1.5-2.2 s for a new process. A file still
being written (its size or times change between two looks) is waited for. Ctrl-C stops.
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import ConfigError, InputError, ProvenanceError
from .load import GLOB_CHARS, SUPPORTED_SUFFIXES, expand_paths, iter_input_files
from .runtime import freeze_heap

Snapshot = dict[str, object]
_sleep = time.sleep  # the wait between looks (tests step through it)


def warm_up(embedder, prepared) -> None:
    """Load now what a scan with a new article needs and an unchanged one does not (a first scan of
    a folder scanned before reads everything from the cache): the model, the n-gram hasher and each
    language's lemma lists and dictionary, for one short document per language of `prepared`
    (`preparation.Prepared`). The watch's first round then costs what the others do (here 0.73 s
    with them to load, ~0.4 s after)."""
    from .features import docs_features

    shortest: dict = {}
    for p in prepared:
        best = shortest.get(p.langs.document)
        if best is None or len(p.seg.sentences) < len(best.seg.sentences):
            shortest[p.langs.document] = p
    if shortest:
        sentence = min((p.sentence_texts[0] for p in shortest.values()), key=len)
        getattr(embedder, "inner", embedder).encode([sentence])  # past the cache: the model itself
        docs_features(list(shortest.values()))


def watch_scans(paths: list[str], outputs: list[str], scan_and_deliver: Callable[[], object], embedder,
                interval: float, echo: Callable[[str], None]) -> None:
    """`scan --watch`: `scan_and_deliver()` (a scan and its outputs, returning the `ScanResult`)
    now and each time the files under `paths` change (`keep_scanning`); a first scan that finds no
    usable article (an empty incoming folder) waits for some. `paths` may hold glob patterns
    (expanded at each look) and the `--dates` file. Returns when Ctrl-C comes while it waits.

    Raises:
        ConfigError: an output lies where the watch reads (it would be read as an article and
            set off a new round each time it is written).
    """
    for out in outputs:
        if any(_reads(p, out) for p in paths):
            raise ConfigError(f"{out} is among the watched inputs: each round would read it as an article and "
                              "start another; write the outputs outside what is watched")
    start = snapshot(paths)
    try:
        result = scan_and_deliver()
    except ProvenanceError as exc:
        echo(f"Error: {exc} (still watching)")
    else:
        warm_up(embedder, result.prepared)
        del result
    freeze_heap()  # the model and the dictionaries: left out of the collector's walks from now on
    echo(f"watching {len(start)} files every {interval:g} s (Ctrl-C stops)")
    keep_scanning(paths, scan_and_deliver, interval, echo, start=start)


def _reads(given: str, out: str) -> bool:
    """Whether a scan of the path or glob pattern `given` reads the file `out` once it is written:
    `out` is `given`, matches the pattern, or has an article's suffix in the folder `given`, not
    under a hidden name (as `load.iter_input_files` searches folders)."""
    real = os.path.realpath(out)
    if any(c in given for c in GLOB_CHARS) and not os.path.lexists(given):
        return fnmatch.fnmatch(os.path.abspath(out), os.path.abspath(given))
    if not os.path.isdir(given):
        return real == os.path.realpath(given)
    base = os.path.realpath(given)
    inside = os.path.relpath(real, base)
    return (os.path.commonpath([real, base]) == base and Path(out).suffix.lower() in SUPPORTED_SUFFIXES
            and not any(part.startswith(".") for part in Path(inside).parts))


def snapshot(paths: Iterable[str | os.PathLike]) -> Snapshot:
    """What a scan of `paths` would read (glob patterns expanded): each candidate file's size,
    times and inode (a file replaced by another of the same size and time, as `rsync -a` does, is
    news), or the problem it has (a new unreadable file is news too)."""
    out: Snapshot = {}
    try:
        files = iter_input_files(expand_paths(paths))
        for shown, path, problem in files:
            if path is None:
                out[shown] = problem
                continue
            try:
                st = path.stat()
            except OSError as exc:
                out[shown] = exc.strerror or str(exc)
                continue
            out[shown] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    except InputError as exc:  # a pattern that matches nothing (yet)
        out[str(exc)] = "no match"
    return out


def changes(before: Snapshot, after: Snapshot) -> str:
    """"2 new, 1 changed, 1 gone" (the parts that are not 0)."""
    new = len(after.keys() - before.keys())
    gone = len(before.keys() - after.keys())
    changed = sum(1 for k in after.keys() & before.keys() if after[k] != before[k])
    return ", ".join(f"{n} {what}" for n, what in ((new, "new"), (changed, "changed"), (gone, "gone")) if n)


def keep_scanning(paths: list[str], rescan: Callable[[], None], interval: float, echo: Callable[[str], None],
          sleep: Callable[[float], None] | None = None, start: Snapshot | None = None) -> None:
    """Call `rescan()` each time the files under `paths` change and then hold still for one more
    `interval` (a copy in progress is waited for). A `ProvenanceError` of a re-scan (no usable
    article left, an output that cannot be written) is said in one line and the watch goes on.
    Returns when Ctrl-C comes while it waits; Ctrl-C during a re-scan propagates (that scan's
    outputs are not written). `start`: the files as the first scan read them (default: now)."""
    last = snapshot(paths) if start is None else start
    while True:
        try:
            now = _next_change(paths, last, interval, sleep or _sleep)
        except KeyboardInterrupt:
            echo("stopped watching")
            return
        echo(f"{time.strftime('%H:%M:%S')} {changes(last, now)}: scanning again")
        last, began = now, time.perf_counter()
        try:
            rescan()
        except ProvenanceError as exc:
            echo(f"Error: {exc} (still watching)")
            continue
        echo(f"scanned in {time.perf_counter() - began:.2f} s")


def _next_change(paths: list[str], last: Snapshot, interval: float, sleep: Callable[[float], None]) -> Snapshot:
    """The files once they differ from `last` and then hold still for one more `interval`."""
    while True:
        sleep(interval)
        now = snapshot(paths)
        if now == last:
            continue
        while True:  # settled: the same at two looks in a row
            sleep(interval)
            later = snapshot(paths)
            if later == now:
                break
            now = later
        if now != last:  # not changed and changed back
            return now
