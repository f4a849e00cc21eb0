"""The benchmark's measure of the scan's own work (benchmarks/cold_scan.py --vectors) scans with the
model's vectors read from a file: it must be the very scan the model gives, or own_seconds would
time other work."""

import numpy as np
import pytest

from benchmarks.cold_scan import GivenVectors, given_embedder, write_vectors
from tests.conftest import SEEDS


def test_a_scan_on_the_models_vectors_from_a_file_is_the_models_scan(default_model, seed_report, tmp_path):
    from provenance import CachedEmbedder, build_report, load_paths, prepare, scan
    from provenance.embed import encodes_side_by_side

    texts = list(dict.fromkeys(t for p in prepare(load_paths([SEEDS]).documents)[0] for t in p.sentence_texts))
    write_vectors(tmp_path / "v.npz", texts, default_model.encode(texts))
    given = given_embedder(default_model, tmp_path / "v.npz")
    # the model's branch of the scan (beside the encoding or before it), as cold_scan.py times it:
    # through an empty cache, which keeps the vectors batch by batch as they come
    assert (given.backend, given.device, given.streams) == (default_model.backend, default_model.device,
                                                             default_model.streams)
    assert encodes_side_by_side(given) == encodes_side_by_side(default_model)
    cached = CachedEmbedder(given, tmp_path / "cache")
    result = scan([str(SEEDS)], embedder=cached)
    assert cached.misses == len(texts)
    assert result.backend == default_model.backend
    assert build_report(result) == seed_report


def test_each_text_gets_its_own_vector_from_the_file_and_one_without_stops_the_timing(tmp_path):
    texts = ["known", "ends in NUL\x00", "ünïcode “quoted”"]
    write_vectors(tmp_path / "v.npz", texts, np.arange(12, dtype=np.float32).reshape(3, 4))
    given = GivenVectors(tmp_path / "v.npz")
    assert given.encode(texts[::-1]).tolist() == [[8, 9, 10, 11], [4, 5, 6, 7], [0, 1, 2, 3]]  # each text's own
    with pytest.raises(KeyError, match="1 texts have no vector in the file, e.g. 'unknown'"):
        given.encode(["known", "unknown"])
