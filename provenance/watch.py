"""`provenance scan --watch`: keep the report current while articles arrive.

A rights desk or a newsroom drops the day's articles into a folder; the scan runs once, then
looks at the inputs every `interval` seconds and scans again when a file was added, changed or
removed, rewriting the report (atomically, as always). The model stays loaded and the cache keeps
what it read decoded (`kept.KeptValues`), so a new article costs a warm re-scan (~0.45 s for 116
articles here) instead of a new process (~1.7 s). A file still being written (its size or time
changes between two looks) is waited for. Ctrl-C stops.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

from .errors import ProvenanceError
from .load import iter_input_files

Snapshot = dict[str, object]
_sleep = time.sleep  # the wait between looks (tests step through it)


def snapshot(paths: Iterable[str | os.PathLike]) -> Snapshot:
    """What a scan of `paths` would read: each candidate file's size and modification time (or
    the problem it has: a new unreadable file is news too)."""
    out: Snapshot = {}
    for shown, path, problem in iter_input_files(paths):
        if path is None:
            out[shown] = problem
            continue
        try:
            st = path.stat()
        except OSError as exc:
            out[shown] = exc.strerror or str(exc)
            continue
        out[shown] = (st.st_size, st.st_mtime_ns)
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
