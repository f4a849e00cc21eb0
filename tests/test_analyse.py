"""`analyse`, the vectors-in core, on hand-built 3-d sentence vectors: no model anywhere."""

from __future__ import annotations

import numpy as np

from provenance import ScanSettings, analyse
from provenance.load import Document
from provenance.preparation import prepare

WIRE = ("The river authority opened the northern flood gates on Monday morning. "
        "Engineers said the water level had fallen by evening. "
        "Farmers downstream were told to move their cattle to higher ground.")
OTHER = ("A chess festival began in the old town hall with players from many clubs. "
         "The organisers expect a record number of visitors this weekend. "
         "Tickets for the final round sold out within hours.")

E1, E2, E3 = np.eye(3, dtype=np.float32)


def _prepared():
    docs = [Document("wire", "wire.txt", WIRE, meta={"language": "en"}),
            Document("copy", "copy.txt", WIRE, meta={"language": "en"}),
            Document("other", "other.txt", OTHER, meta={"language": "en"})]
    prepared, skipped = prepare(docs, ScanSettings(min_story_chars=0))
    assert skipped == [] and [len(p.seg.sentences) for p in prepared] == [3, 3, 3]
    return prepared


def test_identical_vectors_make_a_copy_and_opposite_ones_nothing():
    semantic = np.vstack([
        E1, E2, E3,      # wire: three sentences on three axes
        E1, E2, E3,      # copy: the same three sentences
        -E1, -E2, -E3,   # other: opposite to every wire sentence (cosine -1)
    ])
    result = analyse(_prepared(), semantic, "hand-built", None)
    rel = {result.prepared[v.doc].doc.id: (v.relation, v.derived_from) for v in result.verdicts}
    assert rel["wire"] == ("source", None)
    assert rel["copy"] == ("copy", 0)
    assert rel["other"][0] == "unrelated"
    (cluster,) = result.clusters
    assert cluster.source == 0 and cluster.members == (0, 1)
    blocks = {(a.a, a.b): a.blocks for a in result.alignments}
    assert [(b.src, b.tgt) for b in blocks[0, 1]] == [((0,), (0,)), ((1,), (1,)), ((2,), (2,))]


def test_a_vector_count_that_does_not_match_the_sentences_is_refused():
    import pytest

    from provenance.errors import ConfigError

    with pytest.raises(ConfigError, match="got 8 sentence vectors for 9 sentences"):
        analyse(_prepared(), np.vstack([E1] * 8), "hand-built", None)
