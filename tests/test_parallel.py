"""Pair alignments and comparisons on several processes: same results as one process, in order,
whatever happens to a worker."""

from __future__ import annotations

import json
import os

import pytest

from benchmarks.planted import build_corpus
from provenance import build_report, parallel, scan
from provenance.parallel import fork_map
from tests.conftest import SEEDS, FakeEmbedder

linux_only = pytest.mark.skipif(not parallel.can_fork(), reason="workers are forked on Linux only")


@pytest.fixture
def forks(monkeypatch):
    """Counts the workers forked from the test process."""
    count = {"n": 0}
    real_fork, parent = os.fork, os.getpid()

    def counting_fork():
        if os.getpid() == parent:
            count["n"] += 1
        return real_fork()

    monkeypatch.setattr(os, "fork", counting_fork)
    return count


@linux_only
def test_fork_map_equals_a_plain_map_in_order(forks):
    table = {i: f"item {i}" for i in range(101)}  # a closure over this process's memory
    items = list(range(101))
    for workers in (1, 2, 3):
        assert fork_map(lambda i: (i, table[i].upper()), items, workers) == [(i, f"ITEM {i}") for i in items]
    assert forks["n"] == 1 + 2
    assert fork_map(str, [], 4) == []


@linux_only
def test_a_failing_worker_has_its_share_redone_here(forks):
    def fragile(i):
        if parallel._in_worker:
            raise RuntimeError("worker lost")
        return i * i

    assert fork_map(fragile, list(range(60)), 2) == [i * i for i in range(60)]
    assert forks["n"] == 1


@linux_only
def test_a_worker_killed_midway_has_the_jobs_it_claimed_redone_here(forks):
    def dies_at_30(i):
        if parallel._in_worker and i >= 30:
            os._exit(3)  # as if killed: whatever it claimed is lost with it
        return -i

    assert fork_map(dies_at_30, list(range(90)), 2) == [-i for i in range(90)]
    assert forks["n"] == 1


@linux_only
def test_jobs_go_to_whichever_process_is_free(forks):
    """A slow job in one process does not hold back the jobs behind it: the others take them
    (fixed shares left one process idle while the other worked through its share)."""
    import time

    def job(i):
        if i == 0:
            time.sleep(0.5)
        return os.getpid()

    pids = fork_map(job, list(range(60)), 2)
    assert len(set(pids)) == 2
    assert pids.count(pids[0]) <= 5  # whoever took the slow job did few others meanwhile


@linux_only
def test_waiting_for_the_workers_counts_their_cpu_time_here(forks):
    """fork_map does not wait for its workers to exit; `wait_for_workers` does, so that this
    process's children's CPU time holds theirs (the benchmark's own-work figure reads it)."""
    import resource
    import time

    def burn(i):
        end = time.process_time() + 0.005
        while time.process_time() < end:
            pass
        return os.getpid()

    def children_cpu():
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    before = children_cpu()
    pids = fork_map(burn, list(range(80)), 2)
    worker_jobs = sum(pid != os.getpid() for pid in pids)
    parallel.wait_for_workers()
    assert forks["n"] == 1 and worker_jobs > 0 and not parallel._exited
    assert children_cpu() - before >= 0.005 * worker_jobs * 0.9


def test_few_jobs_or_one_worker_stay_in_this_process(forks):
    assert fork_map(lambda i: i + 1, list(range(10)), 8) == list(range(1, 11))
    assert fork_map(lambda i: i + 1, list(range(100)), 1) == list(range(1, 101))
    assert forks["n"] == 0


def test_progress_counts_every_job(forks):
    done = []
    fork_map(lambda i: i, list(range(75)), 3, on_done=done.append)
    assert sum(done) == 75


@linux_only
def test_a_scan_on_several_workers_reports_exactly_what_one_process_does(tmp_path, forks):
    folder = tmp_path / "planted"
    folder.mkdir()
    build_corpus(folder, variants=3, seed=3)  # 20 articles of one story: ~190 pairs to align
    one = build_report(scan([folder], embedder=FakeEmbedder(), workers=1))
    assert forks["n"] == 0
    three = build_report(scan([folder], embedder=FakeEmbedder(), workers=3))
    assert forks["n"] >= 2
    assert json.dumps(one, sort_keys=True) == json.dumps(three, sort_keys=True)
    assert sum(1 for d in one["documents"] if d.get("derived_from")) >= 10  # comparisons too


@linux_only
def test_a_warm_re_scan_with_one_new_article_forks_no_worker(tmp_path, forks, monkeypatch):
    """A fork costs 11-14 ms in a process holding a model (more in a bigger one): the pairs, leans
    and comparisons one new article brings (24 leans here, which forked a worker every time) are
    worked out in the scanning process."""
    import provenance.direction as direction
    from benchmarks.perturb import rewrites
    from provenance import CachedEmbedder

    real_lean, leans = direction.lean, []

    def counted(*args, **kwargs):
        leans.append(1)
        return real_lean(*args, **kwargs)

    folder = tmp_path / "planted"
    folder.mkdir()
    build_corpus(folder, variants=3, seed=3)  # 20 articles of one story
    embedder = CachedEmbedder(FakeEmbedder(), tmp_path / "cache")
    scan([folder], embedder=embedder, workers=2)
    cold = forks["n"]
    assert cold >= 2
    record, _ = rewrites(1, seed=5)[0]
    (folder / "new.json").write_text(json.dumps(record), "utf-8")
    monkeypatch.setattr(direction, "lean", counted)
    report = build_report(scan([folder], embedder=embedder, workers=2))
    assert forks["n"] == cold
    assert 24 <= len(leans) < direction.LEANS_PER_WORKER  # enough for a fork at the default 24 per worker
    new = next(d for d in report["documents"] if d["id"] == record["id"])
    assert new.get("derived_from"), "the new article joins its story: its leans were worked out"


def test_workers_default_follows_the_environment(monkeypatch):
    monkeypatch.setenv("PROVENANCE_WORKERS", "3")
    assert parallel.default_workers() == 3
    monkeypatch.setenv("PROVENANCE_WORKERS", "0")
    assert parallel.default_workers() == 1
    monkeypatch.delenv("PROVENANCE_WORKERS")
    # unset: the cores this process may use, capped
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(3)), raising=False)
    assert parallel.default_workers() == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert parallel.default_workers() == parallel.MAX_DEFAULT_WORKERS


def test_cli_refuses_zero_workers():
    from click.testing import CliRunner

    from provenance.cli import main
    from tests.conftest import SEEDS

    res = CliRunner().invoke(main, ["scan", str(SEEDS), "--workers", "0"])
    assert res.exit_code == 2 and "--workers" in res.output


def test_long_and_short_encodes_give_the_same_report(tmp_path, monkeypatch):
    """Short encodes run beside the model-free work, long ones before it: same result."""
    from provenance import pipeline

    folder = tmp_path / "planted"
    folder.mkdir()
    build_corpus(folder, variants=1, seed=5)
    reports = []
    for limit in (0, 10**9):
        monkeypatch.setattr(pipeline, "CONCURRENT_ENCODE_MAX", limit)
        reports.append(json.dumps(build_report(scan([folder], embedder=FakeEmbedder())), sort_keys=True))
    assert reports[0] == reports[1]


def test_the_cache_counts_what_it_would_encode(tmp_path):
    from provenance.cache import CachedEmbedder
    from provenance.embed import count_to_encode

    cached = CachedEmbedder(FakeEmbedder(), tmp_path / "cache")
    cached.encode(["one", "two"])
    assert cached.count_missing(["one", "three", "three", "four"]) == 2
    assert count_to_encode(cached, ["one", "two", "two"]) == 0
    assert count_to_encode(FakeEmbedder(), ["one", "two", "two"]) == 2


def _numpy_blas_threads() -> set[int]:
    from threadpoolctl import threadpool_info

    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas" and "faiss" not in i["filepath"]}


def test_a_scan_holds_numpy_blas_at_one_thread_and_gives_it_back(monkeypatch):
    """A scan multiplies small matrices and runs its own threads and processes side by side: a
    BLAS pool per call only spun on the cores they need (0.5 CPU-s of a cold scan here)."""
    from threadpoolctl import threadpool_limits

    import provenance.pipeline as pipeline

    scan([SEEDS], embedder=FakeEmbedder(), workers=1)
    import scipy.linalg  # noqa: F401 - another BLAS (scipy's own) loaded after a scan: held too

    seen = []
    real = pipeline.align_pairs
    monkeypatch.setattr(pipeline, "align_pairs", lambda *a, **k: seen.append(_numpy_blas_threads()) or real(*a, **k))
    with threadpool_limits(3, user_api="blas"):
        scan([SEEDS], embedder=FakeEmbedder(), workers=1)
        assert _numpy_blas_threads() == {3}  # what the caller had, back
    assert seen and all(s == {1} for s in seen)
