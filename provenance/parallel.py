"""Run independent pure-Python jobs (pair alignments, comparisons) on several cores.

The jobs hold the GIL, so threads would not help. `fork_map` forks worker processes that inherit
the scan's state (documents, vectors, features) without copying or pickling it; only results
come back, through a pipe. Used on Linux only (fork is unsafe with the libraries loaded here on
macOS, absent on Windows), for enough jobs to pay for the fork (~10-30 ms), and never from a
forked worker. Each process takes the next jobs as it becomes free (`_claimed`); a worker that
fails for any reason has the jobs it took redone in the parent, so the result is always
`[fn(x) for x in items]`, in order.
"""

from __future__ import annotations

import os
import pickle
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TypeVar

from .runtime import blas_on_one_thread

T = TypeVar("T")
R = TypeVar("R")

#: Fewer jobs than this per extra worker run in this process alone (by default: jobs of a few ms).
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


def can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork") and not _in_worker


def fork_map(fn: Callable[[T], R], items: Sequence[T], workers: int | None = None,
             on_done: Callable[[int], None] | None = None, min_per_worker: int = MIN_ITEMS_PER_WORKER
             ) -> list[R]:
    """`[fn(x) for x in items]`, shared among `workers` processes (default `default_workers()`).

    `fn` may be a closure: the workers are forked, so they see everything this process holds.
    Results must pickle. `on_done(n)` is called in this process as jobs finish (for a progress bar).
    `min_per_worker`: fewer jobs than this per extra worker run in this process alone (a fork
    costs 10-40 ms in a process holding a model: cheap jobs need many to pay for it).
    """
    items = list(items)
    workers = default_workers() if workers is None else max(1, int(workers))
    workers = min(workers, 1 + len(items) // max(1, min_per_worker))
    if workers <= 1 or not can_fork():
        out = []
        for x in items:
            out.append(fn(x))
            if on_done:
                on_done(1)
        return out
    # BLAS on one thread for processes side by side (a scan holds it so already): their matrices
    # are small, and a BLAS pool per process spins on the cores the others need (with one, two
    # workers aligned 341 pairs slower than one process did)
    with blas_on_one_thread():
        return _fork_map(fn, items, workers, on_done)


def _fork_map(fn, items: list, workers: int, on_done) -> list:
    # Jobs are handed out as they are asked for, not in fixed shares: jobs differ in cost (a long
    # pair, a long document) and a forked worker starts late and runs slower at first (its pages
    # are copied as it writes them), so fixed shares left this process waiting for the others.
    chunks = _claim_tokens(len(items))
    children = []
    results: dict[int, object] = {}
    try:
        for _ in range(1, workers):
            read_fd, write_fd = os.pipe()
            with warnings.catch_warnings():
                # Python 3.12+ warns on fork in a process with threads (torch's pool): the workers
                # run only this module's jobs, which take none of those threads' locks
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the worker
                _work(fn, items, chunks, read_fd, write_fd)
            os.close(write_fd)
            children.append((pid, read_fd))
        for i in _claimed(chunks, len(items)):
            results[i] = fn(items[i])
            if on_done:
                on_done(1)
        for pid, read_fd in children:
            with os.fdopen(read_fd, "rb") as fh:
                data = fh.read()  # the worker closes its end once all is written
            _exited.append(pid)
            got: dict = {}
            if data:  # a worker that failed wrote nothing
                try:
                    got = dict(pickle.loads(data))
                except Exception:  # cut short (the worker was killed while writing): redone below
                    got = {}
            results.update(got)
            if on_done and got:
                on_done(len(got))
        children = []
    finally:
        os.close(chunks)
        for pid, read_fd in children:  # interrupted: reap the workers
            _reap(pid, read_fd)
        _reap_exited()
    for i in range(len(items)):  # the jobs of a worker that failed
        if i not in results:
            results[i] = fn(items[i])
            if on_done:
                on_done(1)
    return [results[i] for i in range(len(items))]


#: Jobs are claimed through a pipe holding at most this many 4-byte tokens (4096 bytes: PIPE_BUF,
#: which even a pipe shrunk to one page holds, so writing them never blocks).
_TOKENS = 1024


def _claim_tokens(n: int) -> int:
    """A pipe's read end holding one token per chunk of jobs (`_claimed` reads them); its write end
    is closed, so a reader finds the end of the jobs as the end of the pipe. A read of 4 bytes from
    a pipe is never split between two readers."""
    read_fd, write_fd = os.pipe()
    try:
        count = min(n, _TOKENS)
        os.write(write_fd, b"".join(k.to_bytes(4, "little") for k in range(count)))
    finally:
        os.close(write_fd)
    return read_fd


def _claimed(read_fd: int, n: int):
    """The job indices of the chunks this process claims, until none is left."""
    size = -(-n // min(n, _TOKENS))
    while True:
        token = os.read(read_fd, 4)
        if len(token) < 4:
            return
        k = int.from_bytes(token, "little")
        yield from range(k * size, min(n, (k + 1) * size))


#: Workers that sent their results and are exiting: reaped when they are gone, not waited for
#: (a worker's exit takes 10-20 ms in a process holding a model, as its copied memory is freed).
_exited: list[int] = []


def _reap_exited(wait: bool = False) -> None:
    for pid in list(_exited):
        try:
            done, _ = os.waitpid(pid, 0 if wait else os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere
            done = pid
        if done:
            _exited.remove(pid)


def wait_for_workers() -> None:
    """Wait until every worker that sent its results has exited (`fork_map` does not wait for
    them): a process's `RUSAGE_CHILDREN` counts a worker's CPU time only once it is reaped."""
    _reap_exited(wait=True)


def _reap(pid: int, read_fd: int) -> None:
    for action, arg in ((os.close, (read_fd,)), (os.kill, (pid, 9)), (os.waitpid, (pid, 0))):
        try:
            action(*arg)
        except OSError:
            pass


def _work(fn, items, chunks: int, read_fd: int, write_fd: int) -> None:  # pragma: no cover - runs in the worker
    """Body of a forked worker: compute the jobs it claims, write them pickled as (index, result),
    exit without cleanup (the parent's open files, caches and atexit handlers are not the
    worker's to flush)."""
    global _in_worker
    _in_worker = True
    code = 1
    try:
        os.close(read_fd)
        data = pickle.dumps([(i, fn(items[i])) for i in _claimed(chunks, len(items))],
                            protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view):]
        os.close(write_fd)  # the parent reads to the end at once, while this process exits
        code = 0
    except BaseException:
        code = 1
    finally:
        os._exit(code)
