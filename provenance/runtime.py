"""How a scan runs, not what it computes: progress bars and pausing the cyclic garbage collector."""

from __future__ import annotations

import functools
import gc
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
