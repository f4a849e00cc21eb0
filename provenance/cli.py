"""Command line: `provenance scan PATH... [-o REPORT.json] [--model NAME_OR_PATH]`.

The only module that imports click. Each command calls the library and formats the result; a
`ProvenanceError` becomes one line (`Error: ...`) and exit status 1.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback

import click

from . import __version__
from .errors import ProvenanceError
from .runtime import freeze_heap, one_command_process

EXIT_CODES = """\b
Exit status:
  0  success (also when some inputs were skipped: see the report's `skipped`)
  1  failure (no usable input, model not available, report not writable)
  2  usage error (unknown option, missing argument, path that does not exist)
  130  interrupted (Ctrl-C); files written by an earlier run are left as they were"""


def examples(*lines: str) -> str:
    """A command's help epilog: usage examples, then one line on the exit status."""
    return "\b\nExamples:\n" + "\n".join(f"  {x}" for x in lines) + \
        "\n\nExit status: 0 success, 1 failure (one line says why), 2 usage error."


def run() -> None:
    """The `provenance` console script: `main`, with Ctrl-C at any moment reported in one line."""
    one_command_process()
    try:
        main(prog_name="provenance")
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)


def _handle_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, debug: bool = False, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (click.ClickException, click.Abort, click.exceptions.Exit):
            raise
        except Exception as exc:  # one line for users (a bug's says so), the traceback with --debug
            if debug:
                traceback.print_exc()
            if isinstance(exc, ProvenanceError):
                raise click.ClickException(str(exc)) from None
            raise click.ClickException(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug "
                                       "for the traceback, and please report it)") from None
    return wrapper


def debug_option(fn):
    return click.option("--debug", is_flag=True, help="Show a full traceback on errors.")(fn)


def index_dir_option(fn):
    return click.option("--index-dir", default="indexes", show_default=True, type=click.Path(file_okay=False),
                        help="Folder that holds the archives.")(fn)


def model_options(fn):
    fn = click.option("--device", default="cpu", show_default=True, metavar="DEVICE",
                      help="Where the model runs: cpu, cuda, cuda:N, mps. Reports do not depend on it.")(fn)
    fn = click.option("--backend", type=click.Choice(["auto", "torch", "onnx", "onnx-int8"]), default="auto",
                      show_default=True,
                      help="What runs the model: PyTorch, ONNX Runtime (same vectors, faster), or ONNX with int8 "
                           "weights (faster still, vectors move slightly). auto: onnx where it can serve the "
                           "model on the device, else torch.")(fn)
    fn = click.option("--model-languages", metavar="CODES", default="auto",
                      help="Languages the model covers: 'auto' (guess from its vocabulary size), 'all', or ISO "
                           "codes such as 'en,fr'.")(fn)
    return click.option("--model", metavar="NAME_OR_PATH", default=None,
                        help="sentence-transformers model id (from the local cache) or local folder. Default: the "
                             "bundled all-MiniLM-L6-v2 (English). Nothing is downloaded.")(fn)


def cache_dir_option(fn):
    return click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
                        help="Cache folder: embeddings and results, and the lexicons (dictionaries, lemma lists, "
                             "n-gram weights) in its lexicons/ (default $PROVENANCE_CACHE_DIR or "
                             "~/.cache/provenance).")(fn)


def budget_option(fn):
    """`--max-semantic-sentences` (`ScanSettings.max_semantic_sentences`), for every command that encodes."""
    return click.option("--max-semantic-sentences", type=click.IntRange(min=0), default=None, metavar="N",
                        help="Encode at most N sentences of one document with the sentence model (default 1,000; "
                             "0: no limit); a longer one is still matched in full by names, numbers and n-grams "
                             "(see README).")(fn)


def cache_options(fn):
    fn = click.option("--no-cache", is_flag=True, help="Do not read or write the embedding cache.")(fn)
    return cache_dir_option(fn)


def _embedder(model, model_languages, cache_dir, no_cache, backend="auto", device="cpu", scans_again=False):
    from .cache import CachedEmbedder
    from .embed import load_model, parse_languages
    from .kept import MEMORY_BYTES

    embedder = load_model(model, languages=parse_languages(model_languages), device=device, backend=backend,
                          cache_dir=cache_dir)
    return embedder if no_cache else CachedEmbedder(embedder, cache_dir, MEMORY_BYTES if scans_again else 0)


def _after_scan(embedder, shown=()) -> None:
    """Close the cache, print its warnings but those `shown` (never fatal); `runtime.freeze_heap`."""
    freeze_heap()
    if hasattr(embedder, "close"):
        embedder.close()
    for w in [w for w in getattr(embedder, "warnings", ()) if w not in shown]:
        click.echo(f"warning: {w}", err=True)


@click.group(epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="provenance")
def main() -> None:
    """Tell where news articles' text came from: copies, rewrites and translations of a wire
    dispatch, aligned passage by passage, with every divergence pointed at exact character spans."""


SCAN_EXAMPLES = """\b
Examples:
  provenance scan articles/                      summary table only
  provenance scan articles/ -o report.json --html report.html
  provenance scan feed.jsonl --passages passages.csv   one row per aligned passage
  provenance scan new/ --index wires             also compare with the archive "wires"
  provenance scan 'parts/*.jsonl' --engine spark --output-dir out/   on Apache Spark

"""


class _PathOrGlob(click.Path):
    """An existing file or folder, or a quoted glob pattern (`'parts/*.jsonl'`), expanded later."""

    def convert(self, value, param, ctx):
        if any(c in str(value) for c in "*?[") and not os.path.lexists(value):
            return value
        return super().convert(value, param, ctx)


def engine_options(fn):
    fn = click.option("--output-dir", type=click.Path(file_okay=False), default=None,
                      help="With --engine spark: write documents/, clusters/ and skipped/ as JSON-lines part "
                           "files and summary.json here, for corpora too large for one report.")(fn)
    fn = click.option("--spark-master", metavar="URL", default=None,
                      help="With --engine spark: the Spark master (local[N], spark://HOST:7077, yarn...). "
                           "Default: spark-submit's, else local[*].")(fn)
    return click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
                        help="local: this process and forked workers. spark: Apache Spark jobs (pip install "
                             "'provenance[spark]'; Java 17+), the same answers on a cluster.")(fn)


@main.command(epilog=SCAN_EXAMPLES + EXIT_CODES)
@click.argument("paths", nargs=-1, required=True, type=_PathOrGlob(exists=True, file_okay=True, dir_okay=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the JSON match report to this file (written atomically).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, writable=True),
              help="Also write a self-contained HTML side-by-side view to this file.")
@click.option("--passages", "passages_out", type=click.Path(dir_okay=False), metavar="FILE.csv|FILE.jsonl",
              help="Also write one row per aligned passage pair (ids, outlets, spans, texts, relation, "
                   "divergences) for analysis, e.g. in pandas.")
@model_options
@click.option("--max-bytes", type=click.IntRange(min=1), default=None,
              help="Skip input files larger than this many bytes (default 5,000,000).")
@budget_option
@click.option("--index", "index_name", metavar="NAME", default=None,
              help="Also compare with the archive NAME (see `provenance index add`).")
@index_dir_option
@cache_options
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes for aligning and comparing pairs (default: $PROVENANCE_WORKERS, else the "
                   "usable cores, at most 8). The report does not depend on it.")
@engine_options
@click.option("--dates", "dates_csv", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CSV of 'id or file name,date' rows dating inputs that carry no date (plain files).")
@click.option("--watch", type=click.FloatRange(min=0.5), default=None, metavar="SECONDS",
              help="After the scan, look at the inputs every SECONDS and scan again (rewriting the outputs) when "
                   "files are added, changed or removed; Ctrl-C stops.")
@click.option("--quiet", "-q", is_flag=True, help="Do not print the summary table.")
@debug_option
@_handle_errors
def scan(paths: tuple[str, ...], output: str | None, html_out: str | None, passages_out: str | None,
         model: str | None, model_languages: str, backend: str, device: str, max_bytes: int | None,
         max_semantic_sentences: int | None, index_name: str | None, index_dir: str, cache_dir: str | None,
         no_cache: bool, workers: int | None, engine: str, spark_master: str, output_dir: str | None,
         dates_csv: str | None, watch: float | None, quiet: bool) -> None:
    """Scan articles (files or folders, searched recursively) and report their provenance.

    Inputs: .txt/.md, .html, .json/.jsonl records with a `text` field (other document types,
    such as .pdf or .docx, are listed as skipped). Prints one row per document (name, language,
    relation, source row, share taken from the source, share of the source used, divergences,
    story) and one entry per story, fitted to the terminal's width; writes the JSON report with
    -o, a side-by-side HTML view with --html and a per-passage table with --passages.
    """
    outputs = (("report", output), ("HTML view", html_out), ("passages", passages_out))
    from .lexicon_files import cache_folder_for_lexicons

    try:
        with cache_folder_for_lexicons(cache_dir):
            _scan(paths, outputs, (model, model_languages, backend, device), (max_bytes, max_semantic_sentences),
                  index_name, index_dir, cache_dir, no_cache, workers, (engine, spark_master, output_dir), dates_csv,
                  quiet, watch)
    except KeyboardInterrupt:
        kept = [p for _, p in outputs if p and os.path.exists(p)]
        click.echo("Interrupted: no new files written" + (f"; the earlier {', '.join(kept)} kept as it was"
                                                        if kept else "") + ".", err=True)
        raise click.exceptions.Exit(130) from None


def _scan(paths, outputs, model_choice, limits, index_name, index_dir, cache_dir, no_cache, workers,
          engine_choice, dates_csv, quiet, watch=None) -> None:
    from dataclasses import replace

    from .archive import check_index_name
    from .direction import read_dates
    from .embed import check_model_path
    from .export import export_format
    from .load import expand_paths
    from .pipeline import scan as run_scan
    from .report import check_writable
    from .settings import ScanSettings
    from .watch import watch_scans

    (_, output), (_, html_out), (_, passages_out) = outputs
    model, model_languages, backend, device = model_choice
    engine, spark_master, output_dir = engine_choice
    if passages_out:
        export_format(passages_out)
    for what, path in outputs:
        if path:
            check_writable(path, what)
    check_index_name(index_name, index_dir)
    check_model_path(model)
    settings = ScanSettings()
    for key, value in zip(("max_bytes", "max_semantic_sentences"), limits, strict=True):
        if value is not None:
            settings = replace(settings, **{key: value})
    paths = tuple(expand_paths(paths)) if not watch else paths  # a watch expands them at each look
    dates = read_dates(dates_csv) if dates_csv else None
    if engine == "spark" and watch:
        raise click.UsageError("--watch needs the local engine")
    if engine == "spark":
        return _scan_on_spark(paths, outputs, output_dir, model, model_languages, index_name, settings,
                              spark_master, quiet, dates)
    if output_dir:
        raise click.UsageError("--output-dir needs --engine spark (the local engine writes one report with -o)")
    embedder = _embedder(model, model_languages, cache_dir, no_cache, backend, device, scans_again=bool(watch))

    def scan_once():  # a watch reads the patterns and dates again each round
        return run_scan(expand_paths(paths) if watch else list(paths), embedder=embedder, settings=settings,
                        progress=sys.stderr.isatty(), index=index_name, index_dir=index_dir, workers=workers,
                        dates=read_dates(dates_csv) if dates_csv and watch else dates)

    if not watch:
        try:
            result = scan_once()
        finally:
            _after_scan(embedder)
        _deliver(result, outputs, quiet)
        return
    shown: set = set()  # warnings said once, the cache's among them (each round)
    try:
        watch_scans([*paths, *([dates_csv] if dates_csv else [])], [p for _, p in outputs if p],
                    lambda: _deliver(scan_once(), outputs, quiet, shown, getattr(embedder, "warnings", ())),
                    embedder, watch, lambda line: click.echo(line, err=True))
    finally:
        _after_scan(embedder, shown)


def _deliver(result, outputs, quiet, shown: set | None = None, more=(), report=None, texts=None):
    """Say what was skipped and what went wrong (and the lines `more`), but the lines in `shown`,
    which gets them (a watch says each once); write the report (-o), the HTML view and the
    passages; print the summary table; return `result`. The Spark engine gives its `report` and
    `texts` ({id: text}) instead of a `result`."""
    from .export import write_passages
    from .report import build_report, write_html, write_report
    from .summary import summary_table

    report = build_report(result) if report is None else report
    (_, output), (_, html_out), (_, passages_out) = outputs
    shown = set() if shown is None else shown
    for line in [f"skipped {s['path']}: {s['reason']}" for s in report["skipped"]] + report["warnings"] + [*more]:
        if line not in shown:
            shown.add(line)
            click.echo(f"warning: {line}", err=True)
    if output:
        write_report(report, output)
    if html_out:
        write_html(result, html_out, report, texts)
    if passages_out:
        from .html import result_texts

        write_passages(report, texts if texts is not None else result_texts(result), passages_out)
    if not quiet:
        click.echo(summary_table(report))
        if not html_out:
            click.echo("To see each copy beside its source, rerun with --html FILE.")
    for what, path in outputs:
        if path:
            click.echo(f"{what} written to {path}", err=True)
    return result


def _scan_on_spark(paths, outputs, output_dir, model, model_languages, index_name, settings, master, quiet,
                   dates) -> None:
    """`scan --engine spark`: the report (-o), its HTML view and passages, collected on the driver
    for corpora that fit a report; part files with --output-dir for any size."""
    from .embed import parse_languages
    from .spark_engine import build_spark_report, collect_texts, scan_spark, session_for_command, write_output_dir

    (_, output), (_, html_out), (_, passages_out) = outputs
    if index_name:
        raise click.UsageError("--index is not available with --engine spark yet: use the local engine")
    with session_for_command(master) as spark:
        result = scan_spark(paths, spark, model=model, languages=parse_languages(model_languages), settings=settings,
                            dates=dates)
        if output_dir:
            summary = write_output_dir(result, output_dir)
            click.echo(f"{summary['documents']} documents, {summary['clusters']} stories, {summary['skipped']} "
                       f"skipped written to {output_dir}", err=True)
        if output or html_out or passages_out or not output_dir:
            report = build_spark_report(result)
            texts = collect_texts(result, [d["id"] for d in report["documents"]]) if html_out or passages_out else {}
            _deliver(None, outputs, quiet, report=report, texts=texts)


@main.group()
def index() -> None:
    """Archives of articles that new articles are checked against (`scan --index NAME`)."""


@index.command("add", epilog=examples("provenance index add wires archive/2020/",
                                      "provenance index add wires new.jsonl --index-dir /data/indexes"))
@click.argument("name")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@index_dir_option
@model_options
@budget_option
@cache_options
@debug_option
@_handle_errors
def index_add_cmd(name: str, paths: tuple[str, ...], index_dir: str, model: str | None, model_languages: str,
                  backend: str, device: str, max_semantic_sentences: int | None, cache_dir: str | None,
                  no_cache: bool) -> None:
    """Create the archive NAME or add the articles under PATHS to it (atomic: an interrupted
    update leaves the previous archive whole)."""
    from .archive_ops import index_add
    from .lexicon_files import cache_folder_for_lexicons
    from .settings import ScanSettings

    limit = {} if max_semantic_sentences is None else {"max_semantic_sentences": max_semantic_sentences}
    settings = ScanSettings(**limit)
    embedder = _embedder(model, model_languages, cache_dir, no_cache, backend, device)
    try:
        with cache_folder_for_lexicons(cache_dir):
            res = index_add(name, list(paths), index_dir, embedder=embedder, settings=settings,
                            progress=sys.stderr.isatty())
    finally:
        _after_scan(embedder)
    for s in res.skipped:
        click.echo(f"warning: skipped {s.path}: {s.reason}", err=True)
    for w in res.warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(f"index {name}: added {len(res.added)} document(s); now {res.documents} documents, "
               f"{res.vectors} vectors ({res.generation})")


@index.command("list", epilog=examples("provenance index list", "provenance index list --index-dir /data/indexes"))
@index_dir_option
@debug_option
@_handle_errors
def index_list_cmd(index_dir: str) -> None:
    """List the archives in the index folder: name, documents, model, generation."""
    from .archive_ops import index_info

    names = sorted(e.name for e in os.scandir(index_dir) if e.is_dir() and not e.name.startswith(".")) \
        if os.path.isdir(index_dir) else []
    problems = []
    for name in names:
        try:
            info = index_info(name, index_dir)
        except ProvenanceError as exc:
            problems.append(f"{name}: {exc}")
            continue
        click.echo(f"{name:20} {info['documents']:6} documents  {info['model']}  ({info['generation']})")
    if not names:
        click.echo(f"no archives in {index_dir} (create one with `provenance index add NAME PATHS...`)")
    _problems(problems)


@index.command("info", epilog=examples("provenance index info wires", "provenance index info wires --ids"))
@click.argument("name")
@index_dir_option
@click.option("--ids", is_flag=True, help="Also list the document ids.")
@debug_option
@_handle_errors
def index_info_cmd(name: str, index_dir: str, ids: bool) -> None:
    """Print an archive's documents, vectors, model, dimension, index type and size on disk."""
    from .archive_ops import index_info

    info = index_info(name, index_dir)
    for key in ("name", "path", "documents", "vectors", "model", "dimension", "index_type", "generation"):
        click.echo(f"{key:12} {info[key]}")
    click.echo(f"{'model files':12} {info['model_fingerprint'] or 'unknown (model known by id only)'}")
    click.echo(f"{'size':12} {info['size_on_disk']:,} bytes on disk")
    if ids:
        click.echo("\n".join(info["ids"]))


@index.command("remove", epilog=examples("provenance index remove wires 000_dd2761f3083befb7"))
@click.argument("name")
@click.argument("doc_ids", nargs=-1, required=True)
@index_dir_option
@debug_option
@_handle_errors
def index_remove_cmd(name: str, doc_ids: tuple[str, ...], index_dir: str) -> None:
    """Remove documents (by id) from the archive NAME."""
    from .archive_ops import index_remove

    res = index_remove(name, list(doc_ids), index_dir)
    for s in res.skipped:
        click.echo(f"warning: {s.path}: {s.reason}", err=True)
    click.echo(f"index {name}: removed {len(res.removed)} document(s); now {res.documents} documents")


@index.command("repair", epilog=examples("provenance index repair wires"))
@click.argument("name")
@index_dir_option
@debug_option
@_handle_errors
def index_repair_cmd(name: str, index_dir: str) -> None:
    """Point the archive NAME at its newest intact generation when its CURRENT file is missing,
    unreadable, or names a missing or damaged generation. Deletes nothing; an intact archive is
    left as it is."""
    from .archive_ops import index_repair

    res = index_repair(name, index_dir)
    for gen, reason in res.damaged:
        click.echo(f"warning: passed over {gen} ({reason}); left in place, delete it when no longer needed",
                   err=True)
    if res.problem is None:
        click.echo(f"index {name}: intact ({res.generation}, {res.documents} documents); nothing to repair")
    else:
        click.echo(f"index {name}: CURRENT now names {res.generation} ({res.documents} documents, "
                   f"{res.vectors} vectors); it was unusable: {res.problem}")


@main.group()
def cache() -> None:
    """The embedding cache that makes re-scans fast: vectors and per-text results, one file per model."""


def _problems(lines: list[str]) -> None:
    """Print one line per cache file a command could not handle; exit status 1 if any."""
    for line in lines:
        click.echo(f"Error: {line}", err=True)
    if lines:
        raise click.exceptions.Exit(1)


@cache.command("info", epilog=examples("provenance cache info"))
@cache_dir_option
@debug_option
@_handle_errors
def cache_info_cmd(cache_dir: str | None) -> None:
    """Print each cache file's model, entries, size and the days its entries were last used, and
    what the lexicon files take."""
    from . import cache_admin as c

    files = c.info(cache_dir)
    folder = cache_dir or c.default_cache_dir()
    lex = c.lexicons_info(cache_dir)
    if lex["files"]:
        click.echo(f"{lex['folder']}: {lex['files']} lexicon file(s) (dictionaries, lemma lists, n-gram weights; "
                   f"rebuilt when missing), {lex['bytes']:,} bytes")
    if not files:
        click.echo(f"no embedding cache in {folder}")
        return
    readable = [f for f in files if f["problem"] is None]
    for f in readable:
        results = ", ".join(f"{n} {k}" for k, n in f["results"].items()) or "none"
        click.echo(f"{f['path']}\n  model {f['model']} ({f['dimension']} dimensions, {f['backend']}), "
                   f"{f['vectors']:,} vectors, results: {results}\n"
                   f"  {f['bytes']:,} bytes; used {f['first_used']} .. {f['last_used']}")
    if readable:
        click.echo(f"total {sum(f['bytes'] for f in readable):,} bytes in {len(readable)} file(s)")
    _problems([f["problem"] for f in files if f["problem"] is not None])


@cache.command("prepare", epilog=examples("provenance cache prepare"))
@cache_dir_option
@debug_option
@_handle_errors
def cache_prepare_cmd(cache_dir: str | None) -> None:
    """Build the lexicons of English and every language with a dictionary installed (the set-up does)."""
    from . import cache_admin as c

    r = c.prepare(cache_dir)
    click.echo(f"lexicons of {len(r['languages'])} languages ({', '.join(r['languages'])}) in {r['folder']}: "
               f"{r['built']} file(s) built")
    _problems(r["problems"])


@cache.command("prune", epilog=examples("provenance cache prune --unused-for 30"))
@click.option("--unused-for", "days", type=click.IntRange(min=0), required=True, metavar="DAYS",
              help="Delete entries no scan has used for more than DAYS days.")
@cache_dir_option
@debug_option
@_handle_errors
def cache_prune_cmd(days: int, cache_dir: str | None) -> None:
    """Delete cache entries unused for a while and compact the files (later scans recompute them)."""
    from . import cache_admin as c

    r = c.prune(days, cache_dir)
    click.echo(f"removed {r['removed_vectors']:,} vectors and {r['removed_results']:,} results from "
               f"{r['files']} file(s): {r['bytes_before']:,} -> {r['bytes_after']:,} bytes")
    _problems(r["problems"])


@cache.command("clear", epilog=examples("provenance cache clear --yes"))
@cache_dir_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@debug_option
@_handle_errors
def cache_clear_cmd(cache_dir: str | None, yes: bool) -> None:
    """Delete all cache files (the next scan encodes everything again) and the lexicon files (the
    next scan that needs them rebuilds them); files a running scan has open are left."""
    from . import cache_admin as c

    folder = cache_dir or c.default_cache_dir()
    if not yes:
        click.confirm(f"delete every provenance cache file in {folder}?", abort=True)
    r = c.clear(cache_dir)
    click.echo(f"deleted {r['files']} file(s), {r['bytes']:,} bytes, from {folder}")
    _problems(r["problems"])


if __name__ == "__main__":  # pragma: no cover
    run()
