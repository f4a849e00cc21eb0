"""How a scan runs, not what it computes: progress bars, pausing the cyclic garbage collector and
keeping numpy's BLAS on one thread."""

from __future__ import annotations

import functools
import gc
import sys
import threading
from contextlib import contextmanager


@contextmanager
def progress_bar(show: bool, total: int, desc: str, unit: str):
    """A tqdm bar's `update` (or None when not shown)."""
    if not show:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit=unit, leave=False) as bar:
        yield bar.update


def gc_paused(fn):
    """Run `fn` with Python's cyclic garbage collector paused (reference counting still frees
    nearly everything a scan makes). A full collection walks every live object, the model's and
    torch's included: 0.1-0.3 s each time, several times in a cold scan, and often the largest
    single cost of a warm re-scan. Cycles left by the scan are collected after it."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return run


class _OneBlasThread:
    """numpy's (and scipy's) BLAS held at one thread while any scan of this process runs (a count
    of the scans running: the first sets it, the last restores what was there)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running = 0
        self._libs: list | None = None  # the BLAS libraries to hold, found again after imports
        self._modules = 0  # how many modules were imported when they were looked for
        self._saved: list[int] = []
        self._held: list = []  # those held by the scans running now

    def _found(self) -> list:
        if self._libs is None or len(sys.modules) != self._modules:  # an import may have loaded one
            self._modules = len(sys.modules)
            try:
                from threadpoolctl import ThreadpoolController

                # FAISS's own BLAS is left alone: it multiplies whole matrices on its threads
                self._libs = [lib for lib in ThreadpoolController().select(user_api="blas").lib_controllers
                              if "faiss" not in str(lib.filepath)]
            except Exception:  # threadpoolctl missing or unable to read a library: run as is
                self._libs = []
        return self._libs

    def enter(self) -> None:
        with self._lock:
            self._running += 1
            if self._running == 1:
                self._held = self._found()
                self._saved = [lib.num_threads for lib in self._held]
                for lib in self._held:
                    lib.set_num_threads(1)

    def leave(self) -> None:
        with self._lock:
            self._running -= 1
            if self._running == 0:
                for lib, n in zip(self._held, self._saved, strict=True):
                    lib.set_num_threads(n)


_ONE_BLAS_THREAD = _OneBlasThread()


@contextmanager
def blas_on_one_thread():
    """numpy's BLAS on one thread while the block runs (see `one_blas_thread`); free where a scan
    holds it already."""
    _ONE_BLAS_THREAD.enter()
    try:
        yield
    finally:
        _ONE_BLAS_THREAD.leave()


def one_blas_thread(fn):
    """Run `fn` with numpy's BLAS on one thread. A scan multiplies small matrices (an article's
    sentences) and runs its own threads and processes beside each other: a BLAS pool of its own
    per call only spun on the cores they need. Measured on two cores: aligning a cold scan's 473
    pairs in one process took 1.4 CPU-s with BLAS on two threads and 0.87 on one, in the same
    wall time; the n-gram search 0.67 against 0.38 CPU-s. (The scan's own products are cut in
    blocks that do not depend on the thread count, so results do not change.)"""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with blas_on_one_thread():
            return fn(*args, **kwargs)

    return run


#: Set by the console script (`one_command_process`): the process ends when its command does.
_one_command = False


def one_command_process() -> None:
    """Say this process runs one command and exits (the `provenance` console script), so that
    `freeze_heap` may act."""
    global _one_command
    _one_command = True


def freeze_heap() -> None:
    """In a process that runs one command (`one_command_process`) once its long work is done: every
    object alive now (the scan's result, the model, the dictionaries) is left out of the cyclic
    garbage collector's walks for the rest of the process (`gc.freeze`). After a scan, building the
    report set off a full collection over all of them, and the interpreter's exit another: 0.5 s of
    a 2.3 s CLI re-scan with one new article here. Elsewhere (the CLI run in-process by a caller or
    a test) nothing changes: cycles alive now would never be collected."""
    if _one_command:
        gc.freeze()
