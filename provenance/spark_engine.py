"""`--engine spark`: the same scan as `pipeline.scan`, as Apache Spark jobs over DataFrames.

    files (listed on the driver) -> load, clean, segment, language, features, embedding and
    blocking keys per document (`mapInPandas`, the model loaded once per Python worker) -> links
    between documents sharing rare keys -> stories as connected components (in Spark) -> the
    local engine's analysis of each component (`applyInPandas`) -> report rows

Each component is analysed by the very functions the local engine runs on a whole scan, so both
engines give the same documents wherever every pair the local engine links lies within one
component (the blocking keys are built for that: names, numbers and word shingles survive
copying, rewriting and translation). The k-NN margins the local engine takes over the whole scan
are taken over the component (n-gram weights are fixed by language, `weights`, so they agree).
Nothing per document reaches the driver
except the rows of a report asked for with `-o`; `write_output_dir` writes JSON-lines part files.

pyspark is imported lazily: the local engine and `import provenance` never need it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from .errors import ConfigError, InputError
from .settings import ScanSettings
from .spark_blocks import BlockSettings, components, edges
from .spark_stages import (
    LOADED_SCHEMA,
    PREPARED_SCHEMA,
    RESULT_SCHEMA,
    ModelSpec,
    analyse_component,
    document_texts,
    load_files,
    prepare_documents,
)


@dataclass(frozen=True)
class SparkScan:
    """A scan's results as DataFrames: `results` (`kind` document / cluster / header / skip, with
    `json` for the first three), `skipped` (`path`, `reason`), `links` (`a`, `b`: the candidate
    document pairs blocking found); `documents`: documents prepared; `texts` (`id`, `text`) of
    the documents prepared (`id`, `blob`: their texts are read by `collect_texts`); `backend`: what
    ran the model (None for an embedder shipped as it is)."""

    results: object
    skipped: object
    links: object
    documents: int
    texts: object = None
    backend: str | None = None


def spark_session(master: str | None = None, app: str = "provenance", conf: dict | None = None):
    """A SparkSession on `master` (None: spark-submit's master when launched by it, else
    `local[*]`), workers running this interpreter, with `conf` (Spark settings) on top.
    One-line `ConfigError`s when pyspark or Java is missing, naming the fix."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise ConfigError("--engine spark needs pyspark: pip install 'provenance[spark]' "
                          "(or rerun scripts/setup.sh)") from None
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise ConfigError("--engine spark needs Java 17 or later: install a JDK (e.g. apt-get install "
                          "openjdk-17-jre-headless) or set JAVA_HOME")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # else workers may import another Python
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    if master is None and "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit
        master = "local[*]"
    builder = SparkSession.builder if master is None else SparkSession.builder.master(master)
    builder = (builder.appName(app).config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "256"))
    if master is not None and master.startswith("local"):
        builder = builder.config("spark.sql.shuffle.partitions", "4")  # small local jobs: few, full tasks
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise ConfigError(f"cannot start Spark on {master or 'the submitted master'} ({first}): check "
                          "`java -version` (17 or later) and JAVA_HOME") from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@contextmanager
def session_for_command(master: str | None):
    """`spark_session(master)` for one command: stopped at the end unless it was running before
    (a notebook's or a test session's)."""
    before = None
    if "pyspark.sql" in sys.modules:  # a session can run only if pyspark was imported already
        try:
            from pyspark.sql import SparkSession

            before = SparkSession.getActiveSession()
        except ImportError:
            pass  # spark_session says what to install
    spark = spark_session(master)
    try:
        yield spark
    finally:
        if before is None:
            spark.stop()


def scan_spark(paths: Iterable[str | os.PathLike], spark, model: str | None = None, languages: object = "auto",
               embedder=None, settings: ScanSettings = ScanSettings(),
               blocks: BlockSettings = BlockSettings(), dates: dict[str, str] | None = None) -> SparkScan:
    """Scan with Spark (see the module docstring). `embedder`: a small picklable embedder to ship
    to the executors as it is (tests, `embed.HashingEmbedder`); otherwise executors load `model`
    themselves (`embed.load_model(model, languages)`), which the driver checks first. `dates`:
    document id or file name -> date, as `pipeline.scan` takes them (`scan --dates FILE.csv`).

    Raises:
        InputError: no input paths; ModelError: the model cannot be loaded.
    """
    from pyspark.sql import functions as F

    from .load import expand_paths, iter_input_files
    from .normalize import clean_label

    if embedder is None:
        spec = ModelSpec(model, languages)
        embedder = spec.load()  # the driver reads the model's id, dimension and languages (weights stay lazy)
    else:
        spec = embedder
    listed = list(iter_input_files(expand_paths(paths)))
    if not listed:
        raise InputError("no input paths given: pass one or more files or folders")
    files = [(i, clean_label(shown), str(p)) for i, (shown, p, problem) in enumerate(listed) if problem is None]
    problems = [(clean_label(shown), problem) for shown, _, problem in listed if problem is not None]
    parallel = spark.sparkContext.defaultParallelism
    files_df = spark.createDataFrame(files, "order long, shown string, path string", verifySchema=False)
    files_df = files_df.repartition(max(1, min(len(files), parallel * 4)))
    loaded = files_df.mapInPandas(partial(load_files, max_bytes=settings.max_bytes), LOADED_SCHEMA)
    loaded = loaded.persist()
    prepared = (_unique_ids(loaded.filter(F.col("kind") == "doc"))
                .mapInPandas(partial(prepare_documents, spec=spec, settings=settings, blocks=blocks, dates=dates),
                             PREPARED_SCHEMA).persist())
    docs = prepared.filter(F.col("kind") == "doc")
    postings = docs.select("uid", F.explode("keys").alias("key"))
    links = edges(postings, blocks).persist()
    labels = components(docs.select("uid"), links)
    model_id, model_languages = embedder.model_id, embedder.languages

    def analyse_one(pdf):  # a plain function: Spark reads a partial's type hints and warns
        return analyse_component(pdf, model_id, model_languages, settings, spec)

    results = (docs.select("uid", "blob", "vec").join(labels, "uid")
               .groupBy("comp").applyInPandas(analyse_one, RESULT_SCHEMA)).persist()
    skipped = (spark.createDataFrame(problems, "path string, reason string")
               .unionByName(loaded.filter(F.col("kind") == "skip").select("path", "reason"))
               .unionByName(prepared.filter(F.col("kind") == "skip").select("path", "reason"))
               .unionByName(results.filter(F.col("kind") == "skip").select("path", "reason")))
    return SparkScan(results, skipped, links, docs.count(), docs.select("id", "blob"),
                     getattr(embedder, "backend", None))


def collect_texts(scan: SparkScan, ids: Iterable[str]) -> dict[str, str]:
    """{id: text} of the documents `ids` (those of a report), collected on the driver: what an
    HTML view or a passage export of a report that fits one quotes."""
    from pyspark.sql import functions as F

    wanted = list(ids)
    if not wanted:
        return {}
    texts = scan.texts.filter(F.col("id").isin(wanted)).mapInPandas(document_texts, "id string, text string")
    return {r["id"]: r["text"] for r in texts.collect()}


def _unique_ids(docs):
    """Ids made unique as `load.load_paths` makes them: a clash is resolved with the parent folder
    name (files, not records), then `~N` in load order."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    clash = F.count("*").over(Window.partitionBy("id")) > 1
    named = docs.withColumn("id", F.when(clash & (F.col("basis") != "record") & (F.col("parent") != ""),
                                         F.concat_ws("/", "parent", "id")).otherwise(F.col("id")))
    rank = F.row_number().over(Window.partitionBy("id").orderBy("uid"))
    return named.withColumn("id", F.when(rank > 1, F.concat(F.col("id"), F.lit("~"), rank.cast("string")))
                            .otherwise(F.col("id"))).select("uid", "id", "blob")


def _header(scan: SparkScan) -> dict:
    """`tool` and `schema_version` as the components' reports give them, with the backend that ran
    the model (the executors' `analyse` has no embedder to read it from)."""
    from pyspark.sql import functions as F

    row = scan.results.filter(F.col("kind") == "header").select("json").first()
    header = json.loads(row["json"]) if row is not None else {}
    if scan.backend and "tool" in header:
        header["tool"] = {**header["tool"], "backend": scan.backend}
    return header


def _warnings(results) -> list[str]:
    from pyspark.sql import functions as F

    rows = results.filter(F.col("kind") == "header").orderBy("comp").select("json").toLocalIterator()
    return list(dict.fromkeys(w for r in rows for w in json.loads(r["json"])["warnings"]))


def build_spark_report(scan: SparkScan) -> dict:
    """The whole JSON report (as `report.build_report` makes it), collected on the driver: for
    corpora that fit a report. Stories are numbered `story-1`... in component order."""
    from pyspark.sql import functions as F

    from .report import SCHEMA_VERSION

    res = scan.results
    clusters = [json.loads(r["json"]) for r in
                res.filter(F.col("kind") == "cluster").orderBy("comp", "key").select("json").collect()]
    renamed = {c["id"]: f"story-{k}" for k, c in enumerate(clusters, start=1)}
    for c in clusters:
        c["id"] = renamed[c["id"]]
    documents = [json.loads(r["json"]) for r in res.filter(F.col("kind") == "document").select("json").collect()]
    for d in documents:
        d["cluster"] = renamed.get(d["cluster"], d["cluster"])
    documents.sort(key=lambda d: d["id"])
    skipped = sorted(({"path": r["path"], "reason": r["reason"]} for r in scan.skipped.collect()),
                     key=lambda s: s["path"])
    header = _header(scan)
    if not documents:
        raise InputError("no usable article among the inputs" + (
            f" ({len(skipped)} skipped: {skipped[0]['path']}: {skipped[0]['reason']})" if skipped else ""))
    return {"schema_version": header.get("schema_version", SCHEMA_VERSION), "tool": header["tool"],
            "warnings": _warnings(res), "documents": documents, "clusters": clusters, "skipped": skipped}


def write_output_dir(scan: SparkScan, folder: str | os.PathLike) -> dict:
    """Write `documents/`, `clusters/` and `skipped/` under `folder` as JSON-lines part files (one
    report entry a line; clusters keep their `story-<component>-<k>` ids) and `summary.json`
    (counts, relations, tool, warnings); return the summary. Existing parts are replaced."""
    from pyspark.sql import functions as F

    from .report import atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    res = scan.results
    for kind, name in (("document", "documents"), ("cluster", "clusters")):
        res.filter(F.col("kind") == kind).select("json").write.mode("overwrite").text(str(folder / name))
    scan.skipped.select(F.to_json(F.struct("path", "reason")).alias("json")).write.mode("overwrite").text(
        str(folder / "skipped"))
    relations = {r["relation"]: r["count"] for r in
                 res.filter(F.col("kind") == "document")
                 .select(F.get_json_object("json", "$.relation").alias("relation")).groupBy("relation").count()
                 .collect()}
    summary = {"documents": sum(relations.values()), "clusters": res.filter(F.col("kind") == "cluster").count(),
               "skipped": scan.skipped.count(), "relations": dict(sorted(relations.items())),
               "parts": {"documents": "documents/part-*", "clusters": "clusters/part-*", "skipped": "skipped/part-*"},
               **_header(scan), "warnings": _warnings(res)}
    atomic_write_text(folder / "summary.json", json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True))
    return summary
