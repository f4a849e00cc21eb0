"""Encoder backends (torch, ONNX float32, ONNX int8), the exported model's cache, the embedding
cache kept apart per backend, and --device."""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest
from click.testing import CliRunner

from provenance.cache import CachedEmbedder
from provenance.cli import main
from provenance.embed import load_model
from provenance.errors import ConfigError, EncodingStopped
from provenance.parallel import usable_cores
from tests.conftest import SEEDS, FakeEmbedder
from tests.test_crosslingual import tiny_model_dir  # noqa: F401  (the fixture)

TEXTS = ["The United States said on Thursday it would cut troops.", "Iraq's prime minister met the envoy.", "Yes."]


def test_onnx_gives_torch_s_vectors_and_int8_stays_close(tiny_model_dir, tmp_path):  # noqa: F811
    torch_vecs = load_model(str(tiny_model_dir), backend="torch").encode(TEXTS)
    onnx = load_model(str(tiny_model_dir), backend="onnx", cache_dir=tmp_path)
    int8 = load_model(str(tiny_model_dir), backend="onnx-int8", cache_dir=tmp_path)
    assert (onnx.backend, int8.backend) == ("onnx", "onnx-int8")
    v32, v8 = onnx.encode(TEXTS), int8.encode(TEXTS)
    assert v32.shape == v8.shape == (3, 32) and v32.dtype == v8.dtype == np.float32
    assert np.allclose(np.sum(v32 * torch_vecs, axis=1), 1.0, atol=1e-5)
    assert np.sum(v8 * torch_vecs, axis=1).min() > 0.9
    assert np.allclose(np.linalg.norm(v8, axis=1), 1.0, atol=1e-5)
    # exported once, beside the cache, keyed by the model files' digest; no temporary file left
    [folder] = (tmp_path / "models").iterdir()
    assert onnx.fingerprint in folder.name
    assert sorted(p.name for p in folder.iterdir()) == ["model-fp32.onnx", "model-int8.onnx"]
    before = {p: p.stat().st_mtime_ns for p in folder.iterdir()}
    again = load_model(str(tiny_model_dir), backend="onnx-int8", cache_dir=tmp_path).encode(TEXTS)
    assert np.array_equal(again, v8)
    assert {p: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_torch_encodes_on_its_own_threads_after_a_faiss_search_in_the_same_thread(tiny_model_dir,  # noqa: F811
                                                                                     monkeypatch):
    """FAISS sets the searching thread's OpenMP count to one (`index.reproducible_faiss`), and where
    torch was imported first the two share that runtime: a scan on the torch backend encodes and
    then searches in one thread, so the next scans of a process (`scan --watch`, a notebook) encoded
    on one core. Here torch's own OpenMP runtime is set to one for this thread, as FAISS sets it
    (whichever of the two this test process imported first); the encode runs on the count a new
    thread gets."""
    import torch
    from threadpoolctl import ThreadpoolController

    from provenance.embed import _default_torch_threads

    model = load_model(str(tiny_model_dir), backend="torch")
    model.encode(["loaded"])
    seen = []
    real = model.model.encode
    monkeypatch.setattr(model.model, "encode", lambda *a, **k: (seen.append(torch.get_num_threads()), real(*a, **k))[1])
    fresh = []
    asked = threading.Thread(target=lambda: fresh.append(torch.get_num_threads()))
    asked.start()
    asked.join()
    [openmp] = [c for c in ThreadpoolController().select(user_api="openmp").lib_controllers
                if "torch" in str(c.filepath)]
    before = torch.get_num_threads()
    openmp.set_num_threads(1)  # what omp_set_num_threads(1) in FAISS does to this thread
    try:
        assert torch.get_num_threads() == 1
        vecs = model.encode(TEXTS)
        assert seen == [fresh[0]] == [_default_torch_threads()] and vecs.shape == (3, 32)
        assert fresh[0] > 1 or usable_cores() == 1  # (on one core there is nothing to lose)
    finally:
        openmp.set_num_threads(before)


def test_auto_takes_onnx_for_a_model_folder_on_the_cpu(tiny_model_dir, tmp_path):  # noqa: F811
    assert load_model(str(tiny_model_dir), cache_dir=tmp_path).backend == "onnx"


class Int8Fake(FakeEmbedder):
    """The fake model through another backend: other vectors for the same texts."""

    backend = "onnx-int8"

    def encode(self, texts):
        return -super().encode(texts)


def test_vectors_of_one_backend_never_serve_another(tmp_path):
    fp32 = CachedEmbedder(FakeEmbedder(), tmp_path)
    want32 = fp32.encode(TEXTS)
    fp32.close()
    int8 = CachedEmbedder(Int8Fake(), tmp_path)
    assert int8.path != fp32.path
    got8 = int8.encode(TEXTS)
    assert int8.misses == len(TEXTS) and int8.hits == 0
    assert np.array_equal(got8, -want32)
    int8.close()
    again = CachedEmbedder(FakeEmbedder(), tmp_path)
    assert np.array_equal(again.encode(TEXTS), want32) and again.hits == len(TEXTS)
    again.close()


def test_device_cpu_scans_and_an_unknown_device_is_one_line(tiny_model_dir, tmp_path):  # noqa: F811
    runner = CliRunner()
    ok = runner.invoke(main, ["scan", str(SEEDS), "-q", "--model", str(tiny_model_dir), "--device", "cpu",
                              "--backend", "torch", "--cache-dir", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(main, ["scan", str(SEEDS), "-q", "--model", str(tiny_model_dir), "--device", "gpu0",
                               "--cache-dir", str(tmp_path)])
    assert bad.exit_code == 1
    assert bad.output.strip() == "Error: --device 'gpu0': use cpu, cuda, cuda:N, mps or xpu"


def test_a_device_torch_does_not_see_is_one_line(tiny_model_dir, tmp_path):  # noqa: F811
    import torch

    res = CliRunner().invoke(main, ["scan", str(SEEDS), "-q", "--model", str(tiny_model_dir), "--device", "cuda:7",
                                    "--backend", "torch", "--cache-dir", str(tmp_path)])
    if torch.cuda.device_count() > 7:  # a machine with eight GPUs may run it
        assert res.exit_code == 0
        return
    assert res.exit_code == 1
    assert len(res.output.strip().splitlines()) == 1
    assert res.output.startswith("Error: --device cuda:7: torch sees no such device here")
    assert "--device cpu" in res.output


def test_onnx_refuses_a_model_it_cannot_serve_in_one_line(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "modules.json").write_text('[{"idx": 0, "name": "0", "path": "", "type": "x.CLIPModel"}]', "utf-8")
    (folder / "config.json").write_text("{}", "utf-8")
    from provenance.errors import ModelError

    with pytest.raises(ModelError, match=r"^--backend onnx: ONNX cannot serve this model \(its modules are "
                                         r"CLIPModel, .*use --backend torch$"):
        load_model(str(folder), backend="onnx", cache_dir=tmp_path)


def test_the_report_names_the_backend_that_made_its_vectors(tiny_model_dir, tmp_path):  # noqa: F811
    """int8 vectors differ from float32 ones: a report says which backend ran the model."""
    from provenance import build_report, scan, validate_report

    for backend in ("torch", "onnx-int8"):
        embedder = CachedEmbedder(load_model(str(tiny_model_dir), backend=backend, cache_dir=tmp_path), tmp_path)
        report = build_report(scan([SEEDS], embedder=embedder))
        validate_report(report)
        assert report["tool"]["backend"] == backend


def test_onnx_runs_batches_side_by_side_and_each_text_keeps_its_vector(tiny_model_dir, tmp_path):  # noqa: F811
    """On the CPU the ONNX encoder runs its batches on several threads, one ONNX Runtime thread
    each: a text's vector does not depend on the thread count, the batch size or its batch-mates,
    and an error in one batch reaches the caller."""
    onnx = load_model(str(tiny_model_dir), backend="onnx", cache_dir=tmp_path)
    texts = [f"{TEXTS[i % 3]} {'and more words ' * (i % 7)}({i})" for i in range(45)]
    encoder = onnx.model
    assert (encoder.threads, encoder.batch_size) == (usable_cores(), 8)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    for threads, batch in ((1, 32), (3, 8), (4, 1)):
        encoder.threads, encoder.batch_size = threads, batch
        assert np.allclose(encoder.encode(texts), alone, atol=1e-5), (threads, batch)

    # a few texts (a warm re-scan's new article) are cut into smaller batches, so that no thread
    # runs on alone with the longest ones: 13 texts on two threads go in batches of 2, not 8 + 5
    runs, session = [], encoder.session

    class Counted:
        def run(self, outputs, feed):
            runs.append(len(next(iter(feed.values()))))
            return session.run(outputs, feed)

    encoder.session, encoder.threads, encoder.batch_size = Counted(), 2, 8
    assert np.allclose(encoder.encode(texts[:13]), alone[:13], atol=1e-5)
    assert sorted(runs) == [1, 2, 2, 2, 2, 2, 2]
    runs.clear()
    encoder.encode(texts)  # 45 texts: batches of 6, at least four per thread
    assert max(runs) == 6 and len(runs) == 8
    encoder.session = session

    running, overlapped, calls, lock = [0], [False], itertools.count(1), threading.Lock()

    class Watched:  # records whether two batches ever ran at once; fails the third batch
        def run(self, *args):
            if next(calls) == 3:
                raise RuntimeError("batch 3 failed")
            with lock:
                running[0] += 1
                overlapped[0] |= running[0] > 1
            time.sleep(0.05)
            try:
                return session.run(*args)
            finally:
                with lock:
                    running[0] -= 1

    session, encoder.session = encoder.session, Watched()
    encoder.threads, encoder.batch_size = 2, 8
    with pytest.raises(RuntimeError, match="batch 3 failed"):
        encoder.encode(texts)
    assert overlapped[0]


def test_the_model_free_work_runs_beside_a_model_that_runs_batches_side_by_side(tiny_model_dir, tmp_path,  # noqa: F811
                                                                               monkeypatch):
    """Torch's intra-op threads stall when a core is busy, so only ONNX on the CPU gets the
    model-free work beside a long encoding (and each document's alignment inputs beside the
    semantic search); a scan's result does not depend on which way it ran, and no document's
    alignment inputs are worked out twice in a scan either way."""
    from provenance import build_report, pairs, pipeline, scan
    from provenance.embed import encodes_side_by_side

    onnx = load_model(str(tiny_model_dir), backend="onnx", cache_dir=tmp_path)
    assert encodes_side_by_side(onnx) and encodes_side_by_side(CachedEmbedder(onnx, tmp_path))
    assert not encodes_side_by_side(load_model(str(tiny_model_dir), backend="torch"))
    assert not encodes_side_by_side(FakeEmbedder())

    encoding, started = threading.Event(), threading.Event()

    class SideBySide(FakeEmbedder):
        backend, device = "onnx", "cpu"

        def encode(self, texts):  # meets the model-free work half-way: both wait for the other
            encoding.set()
            self.beside = started.wait(timeout=10)
            return super().encode(texts)

    monkeypatch.setattr(pipeline, "CONCURRENT_ENCODE_MAX", 0)  # every encode is a long one
    model_free = pipeline.identify_documents

    def identify(*args):
        started.set()
        seen.append(plain.calls if embedder is plain else encoding.wait(timeout=10))
        return model_free(*args)

    monkeypatch.setattr(pipeline, "identify_documents", identify)
    doc_prep, prepared = pairs.doc_prep, []

    def counted(p, *args, **kwargs):
        prepared[-1].append(p.doc.id)
        return doc_prep(p, *args, **kwargs)

    monkeypatch.setattr(pairs, "doc_prep", counted)
    plain, beside = FakeEmbedder(), SideBySide()
    reports, seen = [], []
    for embedder in (plain, beside):
        started.clear()
        prepared.append([])
        report = build_report(scan([SEEDS], embedder=embedder, workers=2))
        reports.append({k: v for k, v in report.items() if k not in ("tool", "generated")})
    # the plain one had encoded everything before the model-free work began; the other met it
    assert seen == [1, True] and beside.beside
    assert reports[0] == reports[1]
    # beside the search: every document (the plain scan: those of the pairs it aligned), each once
    assert len(prepared[1]) == len(set(prepared[1])) == len(reports[1]["documents"]) >= len(set(prepared[0]))
    assert len(prepared[0]) == len(set(prepared[0])) > 0


def test_a_re_scan_works_out_no_document_s_alignment_inputs_beside_its_short_search(tmp_path, monkeypatch):
    """Only a long encode is followed by every document's alignment inputs beside the semantic
    search: a re-scan served from the cache aligns nothing new and works out none."""
    from provenance import pairs, pipeline, scan

    class SideBySide(FakeEmbedder):
        backend, device = "onnx", "cpu"

    monkeypatch.setattr(pipeline, "CONCURRENT_ENCODE_MAX", 50)  # the seeds' 116 distinct sentences: a long encode
    doc_prep, made = pairs.doc_prep, []
    monkeypatch.setattr(pairs, "doc_prep", lambda p, *a, **k: made.append(p.doc.id) or doc_prep(p, *a, **k))
    cached = CachedEmbedder(SideBySide(), tmp_path)
    cold = scan([SEEDS], embedder=cached, workers=1)
    assert sorted(made) == sorted(p.doc.id for p in cold.prepared) and cached.inner.encoded == 116
    made.clear()
    scan([SEEDS], embedder=cached, workers=1)
    assert made == [] and cached.inner.encoded == 116


def test_a_scan_that_fails_beside_the_encoding_stops_it(tmp_path, monkeypatch):
    """Ctrl-C or an error in the model-free work does not wait for the whole encoding: it stops at
    its next chunk of `embed.ENCODE_CHUNK` texts."""
    from provenance import pipeline, scan
    from provenance.embed import ENCODE_CHUNK, EncodingStopped, encode_texts

    class Slow(FakeEmbedder):
        backend, device = "onnx", "cpu"

        def encode(self, texts):
            time.sleep(0.3)
            return super().encode(texts)

    for d in range(4):
        (tmp_path / f"{d}.txt").write_text("\n\n".join(f"Story {d} sentence number {i} tells of item {i * 7 + d}."
                                                     for i in range(150)), "utf-8")
    stop = threading.Event()
    stop.set()
    with pytest.raises(EncodingStopped):
        encode_texts(Slow(), [f"text {i}" for i in range(300)], stop=stop)

    def failing(*args):
        time.sleep(0.1)
        raise RuntimeError("the model-free work failed")

    monkeypatch.setattr(pipeline, "identify_documents", failing)
    slow = Slow()
    with pytest.raises(RuntimeError, match="model-free work failed"):
        scan([tmp_path], embedder=slow)
    assert slow.encoded <= 2 * ENCODE_CHUNK < 600  # of 600 sentences


def test_an_onnx_encoding_reports_each_batch_once_and_stops_between_batches(tiny_model_dir, tmp_path):  # noqa: F811
    """An ONNX model `streams` (`embed.streams`): each finished batch is reported once with its rows
    of the very result, and a stop takes effect before the next batch (the batches running
    finish); torch's does not stream and says so rather than ignore a stop."""
    onnx = load_model(str(tiny_model_dir), backend="onnx", cache_dir=tmp_path)
    texts = [f"{TEXTS[i % 3]} {'and more words ' * (i % 7)}({i})" for i in range(45)]
    seen, lock = [], threading.Lock()

    def record(rows, vecs):
        with lock:
            seen.append((np.array(rows), np.array(vecs)))

    assert onnx.streams and not load_model(str(tiny_model_dir), backend="torch").streams
    out = onnx.encode(texts, on_batch=record)
    assert np.array_equal(out, onnx.encode(texts))
    assert sorted(r for rows, _ in seen for r in rows.tolist()) == list(range(45))
    assert all(np.array_equal(vecs, out[rows]) for rows, vecs in seen)

    onnx.model.threads = 1
    seen.clear()
    stop = threading.Event()
    with pytest.raises(EncodingStopped):
        onnx.encode(texts, stop=stop, on_batch=lambda rows, vecs: (record(rows, vecs), stop.set()))
    assert len(seen) == 1  # of 6 batches
    with pytest.raises(ConfigError, match="torch backend encodes in one call"):
        load_model(str(tiny_model_dir), backend="torch").encode(texts, stop=stop)


class Streaming(FakeEmbedder):
    """The fake model encoding in batches of 10 that it reports, and that a stop interrupts."""

    streams = True

    def encode(self, texts, stop=None, on_batch=None):
        vecs = super().encode(texts)
        for lo in range(0, len(texts), 10):
            if stop is not None and stop.is_set():
                raise EncodingStopped()
            if on_batch is not None:
                on_batch(np.arange(lo, min(lo + 10, len(texts))), vecs[lo:lo + 10])
        return vecs


def test_an_embedder_that_streams_gets_one_call_and_the_cache_keeps_what_a_stop_left(tmp_path):
    """`encode_texts` hands an embedder that streams all its texts in one call (no chunk ends where
    the model's threads wait for each other); the cache reports its hits, then each batch; a
    stopped encoding's finished batches are in the cache file at once, for the other scans."""
    from provenance.embed import encode_texts

    texts = [f"sentence {i} of the wire about item {i * 13}" for i in range(600)]
    rec = Streaming()
    cached = CachedEmbedder(rec, tmp_path)
    cached.encode(texts[:100])
    rec.calls = 0
    vecs = encode_texts(cached, texts, progress=True, stop=threading.Event())
    assert np.array_equal(vecs, FakeEmbedder().encode(texts)) and rec.calls == 1 and rec.encoded == 600

    more = [f"another sentence {i} on item {i * 7}" for i in range(100)]
    stop, counted = threading.Event(), []

    def count(rows, _vecs):
        counted.append(len(rows))
        if len(counted) == 4:  # the cached texts (one report), then three batches
            stop.set()

    with pytest.raises(EncodingStopped):
        cached.encode(texts[:50] + more, stop=stop, on_batch=count)
    assert counted == [50, 10, 10, 10]
    fresh = CachedEmbedder(FakeEmbedder(), tmp_path)  # another scan, while this one still runs
    assert fresh.count_missing(more) == 70
    assert np.array_equal(fresh.encode(more[:30]), FakeEmbedder().encode(more[:30])) and fresh.inner.encoded == 0

    # a text given twice is encoded once and comes back twice, as from the model directly
    again = [more[40], more[40], texts[0], more[41]]
    assert np.array_equal(cached.encode(again, stop=threading.Event()), FakeEmbedder().encode(again))

    # a long encoding writes as it goes (`cache.SAVE_EVERY`), not only at its end: another scan
    # opened while the model still works finds what is done
    seen_beside = []

    def watch(rows, _vecs):
        if len(seen_beside) < 1 and rows.max() >= 1500:
            other = CachedEmbedder(FakeEmbedder(), tmp_path)
            seen_beside.append(len(long) - other.count_missing(long))
            other.close()

    long = [f"a long feed's sentence {i} about item {i * 3}" for i in range(2000)]
    cached.encode(long, stop=threading.Event(), on_batch=watch)
    assert seen_beside and seen_beside[0] >= 1024


def test_chunked_encoding_groups_texts_of_similar_length_and_keeps_their_order():
    """A scan encodes in chunks (progress, Ctrl-C): the chunks hold texts of similar length (the
    model pads each batch to its longest text; chunks in reading order padded ~7% more), and the
    vectors come back in the texts' order, the same as from one call."""
    from provenance.embed import ENCODE_CHUNK, encode_texts

    class Recording(FakeEmbedder):
        chunks: list = []

        def encode(self, texts):
            self.chunks.append(list(texts))
            return super().encode(texts)

    rng = np.random.default_rng(3)
    texts = [" ".join(f"w{rng.integers(1000)}" for _ in range(rng.integers(1, 40))) + f" n{i}" for i in range(600)]
    rec = Recording()
    vecs = encode_texts(rec, texts, stop=threading.Event())
    assert len(rec.chunks) == -(-len(texts) // ENCODE_CHUNK)
    lengths = [[len(t) for t in chunk] for chunk in rec.chunks]
    assert all(max(a) <= min(b) for a, b in itertools.pairwise(lengths))  # chunk after chunk, longer texts
    assert np.array_equal(vecs, FakeEmbedder().encode(texts))


def test_chunked_encoding_behind_a_cache_sends_the_model_only_new_texts_in_one_call(tmp_path):
    """A warm re-scan's new sentences, wherever they sit among the cached ones, reach the model
    in one call (small calls cost the model more per text), and every vector is the one a plain
    encode gives."""
    from provenance.embed import encode_texts

    class Recording(FakeEmbedder):
        chunks: list = []

        def encode(self, texts):
            self.chunks.append(list(texts))
            return super().encode(texts)

    texts = [f"sentence {i} of the wire about item {i * 13}" for i in range(700)]
    new = texts[5::60]  # one in 60, spread over every chunk of reading order
    rec = Recording()
    cached = CachedEmbedder(rec, tmp_path)
    cached.encode([t for t in texts if t not in new])
    rec.chunks.clear()
    vecs = encode_texts(cached, texts, stop=threading.Event())
    assert rec.chunks == [sorted(new, key=len)]
    assert np.array_equal(vecs, FakeEmbedder().encode(texts))
    assert cached.hits == len(texts) - len(new) and cached.misses == len(texts)


def test_chunked_encoding_names_an_embedder_that_returns_the_wrong_rows():
    """A model that returns more or fewer rows than it was given is named, even where the cached
    rows make up the difference in the total."""
    from provenance.embed import encode_texts
    from provenance.errors import ConfigError

    class Doubling(FakeEmbedder):
        def lookup(self, texts):
            return dict(zip(texts[:200], super().encode(texts[:200]), strict=True))

        def encode(self, texts):
            return super().encode(list(texts) * 2)

    with pytest.raises(ConfigError, match=r"returned shape \(400, 256\), expected \(200, 256\)"):
        encode_texts(Doubling(), [f"text {i}" for i in range(400)], stop=threading.Event())
