"""Run independent pure-Python jobs (pair alignments, comparisons) on several cores.

The jobs hold the GIL, so threads would not help. `fork_map` forks worker processes that inherit
the scan's state (documents, vectors, features) without copying or pickling it; only results
come back, through a pipe. Used on Linux only (fork is unsafe with the libraries loaded here on
macOS, absent on Windows), for enough jobs to pay for the fork (~10-30 ms), and never from a
forked worker. A worker that fails for any reason has its share redone in the parent, so the
result is always `[fn(x) for x in items]`, in order.
"""

from __future__ import annotations

import os
import pickle
import sys
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Fewer jobs than this per extra worker run in this process alone.
MIN_ITEMS_PER_WORKER = 24
#: Upper bound of the default worker count (the jobs are short; more processes mostly add forks).
MAX_DEFAULT_WORKERS = 8

_in_worker = False


def default_workers() -> int:
    """`$PROVENANCE_WORKERS` if set, else the usable cores (at most `MAX_DEFAULT_WORKERS`)."""
    env = os.environ.get("PROVENANCE_WORKERS", "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            return 1
    return max(1, min(usable_cores(), MAX_DEFAULT_WORKERS))


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@contextmanager
def single_threaded_blas():
    """numpy's and scipy's BLAS on one thread (threadpoolctl) while jobs run: their matrices are
    small, and a BLAS pool per process spins on the cores the other processes need (with one, two
    workers aligned 341 pairs slower than one process did)."""
    try:
        from threadpoolctl import ThreadpoolController

        limiter = ThreadpoolController().select(user_api="blas").limit(limits=1)
    except Exception:  # threadpoolctl missing or unable to read a library: run as is
        yield
        return
    try:
        yield
    finally:
        limiter.restore_original_limits()


def can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork") and not _in_worker


def fork_map(fn: Callable[[T], R], items: Sequence[T], workers: int | None = None,
             on_done: Callable[[int], None] | None = None) -> list[R]:
    """`[fn(x) for x in items]`, shared among `workers` processes (default `default_workers()`).

    `fn` may be a closure: the workers are forked, so they see everything this process holds.
    Results must pickle. `on_done(n)` is called in this process as jobs finish (for a progress bar).
    """
    items = list(items)
    if not items:
        return []
    with single_threaded_blas():
        return _fork_map(fn, items, workers, on_done)


def _fork_map(fn, items: list, workers: int | None, on_done) -> list:
    workers = default_workers() if workers is None else max(1, int(workers))
    workers = min(workers, 1 + len(items) // MIN_ITEMS_PER_WORKER)
    if workers <= 1 or not can_fork():
        out = []
        for x in items:
            out.append(fn(x))
            if on_done:
                on_done(1)
        return out
    # interleaved shares: neighbouring jobs (pairs of one story) cost alike
    shares = [list(range(k, len(items), workers)) for k in range(workers)]
    children = []
    try:
        for k in range(1, workers):
            read_fd, write_fd = os.pipe()
            with warnings.catch_warnings():
                # Python 3.12+ warns on fork in a process with threads (torch's pool): the workers
                # run only this module's jobs, which take none of those threads' locks
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the worker
                _work(fn, [items[i] for i in shares[k]], read_fd, write_fd)
            os.close(write_fd)
            children.append((k, pid, read_fd))
        results: dict[int, list] = {0: []}
        for i in shares[0]:
            results[0].append(fn(items[i]))
            if on_done:
                on_done(1)
        for k, pid, read_fd in children:
            with os.fdopen(read_fd, "rb") as fh:
                data = fh.read()
            _, status = os.waitpid(pid, 0)
            got = None
            if status == 0 and data:
                try:
                    got = pickle.loads(data)
                except Exception:  # a torn result: redo it here
                    got = None
            if got is None or len(got) != len(shares[k]):
                got = [fn(items[i]) for i in shares[k]]
            results[k] = got
            if on_done:
                on_done(len(got))
        children = []
    finally:
        for _, pid, read_fd in children:  # interrupted: reap the workers
            _reap(pid, read_fd)
    out: list = [None] * len(items)
    for k, share in enumerate(shares):
        for i, r in zip(share, results[k], strict=True):
            out[i] = r
    return out


def _reap(pid: int, read_fd: int) -> None:
    for action, arg in ((os.close, (read_fd,)), (os.kill, (pid, 9)), (os.waitpid, (pid, 0))):
        try:
            action(*arg)
        except OSError:
            pass


def _work(fn, items, read_fd: int, write_fd: int) -> None:  # pragma: no cover - runs in the worker
    """Body of a forked worker: compute, write the pickled results, exit without cleanup (the
    parent's open files, caches and atexit handlers are not the worker's to flush)."""
    global _in_worker
    _in_worker = True
    code = 1
    try:
        os.close(read_fd)
        data = pickle.dumps([fn(x) for x in items], protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view):]
        code = 0
    except BaseException:
        code = 1
    finally:
        os._exit(code)
