"""What a user waits for at the command line: the `provenance` command's wall time, a fresh process
each, start-up included (the benchmark's other speed figures are taken in one warm process, where
importing, reading the lexicons and the interpreter's exit never show).

Measured on a corpus folder: a cold scan into an empty cache folder, unchanged re-scans,
re-scans with one new article each, and `scan --watch` rounds (one process kept running: what it
prints as a round's time, from noticing a new article to the report written). The cache folder's
model files and lexicons are linked from the default cache folder (built once per machine; the
benchmark's own model load has just used them), so the cold scan encodes and computes everything
but does not export the model again.
"""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def cli_times(folder: Path, new_articles: list[dict], runs: int = 2) -> dict:
    """{"cold_seconds", "unchanged_seconds": [runs], "one_new_article_seconds": [runs],
    "watch_round_seconds": [runs]}, or {"skipped": why} when the command is missing or fails."""
    from provenance.cache import default_cache_dir

    exe = Path(sys.executable).parent / "provenance"
    if not exe.exists():
        return {"skipped": f"no provenance command beside {sys.executable}"}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        cache.mkdir()
        for name in ("models", "lexicons"):
            if (default_cache_dir() / name).is_dir():
                (cache / name).symlink_to(default_cache_dir() / name, target_is_directory=True)
        report = Path(tmp) / "report.json"

        def timed() -> float:
            t = time.perf_counter()
            subprocess.run([str(exe), "scan", str(folder), "--cache-dir", str(cache), "-q", "-o", str(report)],
                           check=True, capture_output=True, text=True)
            return round(time.perf_counter() - t, 2)

        try:
            cold = timed()
            unchanged = [timed() for _ in range(runs)]
            new = []
            for record in new_articles[:runs]:
                path = folder / f"cli-new-{record['id']}.json"
                path.write_text(json.dumps(record, ensure_ascii=False), "utf-8")
                try:
                    new.append(timed())
                finally:
                    path.unlink()
            watch = _watch_rounds([str(exe), "scan", str(folder), "--cache-dir", str(cache), "-q", "-o", str(report),
                                   "--watch", "0.5"], folder, new_articles[:runs])
        except subprocess.CalledProcessError as exc:
            last = (exc.stderr or "").strip().splitlines()[-1:] or ["no message"]
            return {"skipped": f"provenance scan failed: {last[0]}"}
    return {"cold_seconds": cold, "unchanged_seconds": unchanged, "one_new_article_seconds": new,
            "watch_round_seconds": watch}


def _watch_rounds(command: list[str], folder: Path, records: list[dict], timeout: float = 120.0) -> list[float]:
    """Start `command` (a `scan --watch`), drop one new article (a fresh variant of each record:
    these ones were scanned already) into `folder` per round and read the round's time it prints;
    stop it with Ctrl-C. Raises CalledProcessError when it ends early or says nothing in time."""
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    added: list[Path] = []
    # its lines read by a thread of their own: waiting on the pipe with select() missed a line the
    # file object had read already with the one before ("report written" and "scanned in" arrive
    # together when a round is quick) and waited out the timeout
    lines: queue.Queue = queue.Queue()

    def read_lines() -> None:
        for line in proc.stderr:
            lines.put(line)
        lines.put("")  # the watch ended

    threading.Thread(target=read_lines, daemon=True).start()

    def line_with(pattern: str) -> re.Match:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                break
            if not line:  # the watch ended
                break
            if found := re.search(pattern, line):
                return found
        raise subprocess.CalledProcessError(proc.poll() or 1, command, stderr=f"no '{pattern}' from the watch")

    try:
        line_with(r"^watching ")
        rounds = []
        for k, record in enumerate(records):
            path = folder / f"watch-new-{k}-{record['id']}.json"
            text = record["text"].replace(".", f" on day {k + 1}7.", 2)  # new sentences, not cached yet
            path.write_text(json.dumps({**record, "id": f"{record['id']}-w{k}", "text": text}, ensure_ascii=False),
                            "utf-8")
            added.append(path)
            rounds.append(float(line_with(r"^scanned in ([\d.]+) s").group(1)))
        return rounds
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        for path in added:
            path.unlink(missing_ok=True)
