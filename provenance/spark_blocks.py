"""Candidate blocking and stories for the Spark engine: which documents must be analysed together.

Each document gets rare-key candidates from its own text alone (`blocking_keys`): its detail keys
(names, numbers: what survives translation) and a deterministic sample of its word 5-gram
shingles (passim's n-gram postings, sampled by hash so that copies sample the same ones). Keys
that more than `max_df` documents carry are dropped (a year's "2020", a country's name); two
documents sharing at least `min_shared` of the remaining keys are linked, and the connected
components of those links are computed in Spark (`components`) by min-label propagation over
DataFrames, so no edge list is ever collected to the driver. Each component is then analysed
whole by the local engine's functions.

pyspark is imported inside the functions that need it: `import provenance.spark_blocks` is light.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from .errors import check_range

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class BlockSettings:
    """How documents are grouped for analysis.

    Attributes:
        shingle: words per shingle.
        sample: keep a shingle when its hash is 0 modulo `sample` (1 keeps all; 8 keeps ~1/8).
        max_df: keys carried by more documents than this link nothing (a wire with 50+ carriers
            still links: keep it above the largest story you expect).
        min_shared: rare keys two documents must share to be linked.
    """

    shingle: int = 5
    sample: int = 4
    max_df: int = 300
    min_shared: int = 2

    def __post_init__(self):
        check_range(self, ("shingle", "sample", "min_shared"), low=1)
        check_range(self, ("max_df",), low=2)


def blocking_keys(sentences: list[str], details: list[list[str]], settings: BlockSettings = BlockSettings()
                  ) -> list[str]:
    """The document's blocking keys, sorted: `d:` + each detail key, `s:` + each sampled shingle hash.

    Args:
        sentences: the document's sentence texts.
        details: the detail keys of each sentence (`features.DocFeatures.keys`).
    """
    keys = {"d:" + k for row in details for k in row}
    for text in sentences:
        words = _WORD.findall(text.lower())
        for i in range(max(len(words) - settings.shingle + 1, 0)):
            h = zlib.crc32(" ".join(words[i:i + settings.shingle]).encode("utf-8"))
            if h % settings.sample == 0:
                keys.add(f"s:{h:08x}")
    return sorted(keys)


def edges(postings, settings: BlockSettings = BlockSettings()):
    """Links between documents from a DataFrame of postings (`uid` long, `key` string): pairs
    `a` < `b` sharing at least `min_shared` keys that at most `max_df` documents carry. A key
    carried by d documents yields d(d-1)/2 pair rows, bounded by `max_df`."""
    from pyspark.sql import functions as F

    postings = postings.dropDuplicates(["uid", "key"])
    rare = postings.groupBy("key").count().filter((F.col("count") >= 2) & (F.col("count") <= settings.max_df))
    kept = postings.join(rare.select("key"), "key")
    left, right = kept.alias("l"), kept.alias("r")
    pairs = left.join(right, (F.col("l.key") == F.col("r.key")) & (F.col("l.uid") < F.col("r.uid")))
    return (pairs.groupBy(F.col("l.uid").alias("a"), F.col("r.uid").alias("b")).count()
            .filter(F.col("count") >= settings.min_shared).select("a", "b"))


def components(vertices, links, max_rounds: int = 200):
    """Connected components: `vertices` (`uid`) and `links` (`a`, `b`) -> (`uid`, `comp`), `comp`
    the smallest uid of the component. Min-label propagation: each round every document takes the
    smallest label among itself and its neighbours; rounds <= the components' diameter. Each
    round's labels are checkpointed locally so the plan does not grow with the rounds."""
    from pyspark.sql import functions as F

    both = links.select("a", "b").union(links.select(F.col("b").alias("a"), F.col("a").alias("b")))
    both = both.localCheckpoint()
    labels = vertices.select("uid", F.col("uid").alias("comp")).localCheckpoint()
    for _ in range(max_rounds):
        sent = both.join(labels.withColumnRenamed("uid", "a"), "a").select(F.col("b").alias("uid"), "comp")
        new = labels.union(sent).groupBy("uid").agg(F.min("comp").alias("comp")).localCheckpoint()
        changed = new.alias("n").join(labels.alias("o"), "uid").filter(F.col("n.comp") != F.col("o.comp")).count()
        labels = new
        if changed == 0:
            return labels
    raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
