"""Command line: `provenance scan PATH... [-o REPORT.json] [--model NAME_OR_PATH]`.

The only module that imports click. Each command calls the library and formats the result; a
`ProvenanceError` becomes one line (`Error: ...`) and exit status 1.
"""

from __future__ import annotations

import functools
import sys
import traceback

import click

from . import __version__
from .errors import ProvenanceError

EXIT_CODES = """\b
Exit status:
  0  success (also when some inputs were skipped: see the report's `skipped`)
  1  failure (no usable input, model not available, report not writable)
  2  usage error (unknown option, missing argument, path that does not exist)"""


def _handle_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, debug: bool = False, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ProvenanceError as exc:
            if debug:
                traceback.print_exc()
            raise click.ClickException(str(exc)) from None
        except (click.ClickException, click.Abort, click.exceptions.Exit):
            raise
        except Exception as exc:  # a bug: one line for users, the traceback with --debug
            if debug:
                traceback.print_exc()
            raise click.ClickException(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug "
                                       "for the traceback, and please report it)") from None
    return wrapper


def debug_option(fn):
    return click.option("--debug", is_flag=True, help="Show a full traceback on errors.")(fn)


def index_dir_option(fn):
    return click.option("--index-dir", default="indexes", show_default=True, type=click.Path(file_okay=False),
                        help="Folder that holds the archives.")(fn)


def model_options(fn):
    fn = click.option("--model-languages", metavar="CODES", default="auto",
                      help="Languages the model covers: 'auto' (guess from its vocabulary size), 'all', or ISO "
                           "codes such as 'en,fr'.")(fn)
    return click.option("--model", metavar="NAME_OR_PATH", default=None,
                        help="sentence-transformers model id (from the local cache) or local folder. Default: the "
                             "bundled all-MiniLM-L6-v2 (English). Nothing is downloaded.")(fn)


def cache_dir_option(fn):
    return click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
                        help="Embedding cache folder (default $PROVENANCE_CACHE_DIR or ~/.cache/provenance).")(fn)


def cache_options(fn):
    fn = click.option("--no-cache", is_flag=True, help="Do not read or write the embedding cache.")(fn)
    return cache_dir_option(fn)


def _embedder(model, model_languages, cache_dir, no_cache):
    from .cache import CachedEmbedder
    from .embed import load_model, parse_languages

    embedder = load_model(model, languages=parse_languages(model_languages))
    return embedder if no_cache else CachedEmbedder(embedder, cache_dir)


def _close_cache(embedder) -> None:
    """Close the cache, if any, and print its warnings (a cache problem never fails a command)."""
    if hasattr(embedder, "close"):
        embedder.close()
    for w in getattr(embedder, "warnings", ()):
        click.echo(f"warning: {w}", err=True)


@click.group(epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="provenance")
def main() -> None:
    """Tell where news articles' text came from: copies, rewrites and translations of a wire
    dispatch, aligned passage by passage, with every divergence pointed at exact character spans."""


@main.command(epilog=EXIT_CODES)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, file_okay=True, dir_okay=True))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the JSON match report to this file (written atomically).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, writable=True),
              help="Also write a self-contained HTML side-by-side view to this file.")
@model_options
@click.option("--max-bytes", type=click.IntRange(min=1), default=None,
              help="Skip input files larger than this many bytes (default 5,000,000).")
@click.option("--index", "index_name", metavar="NAME", default=None,
              help="Also compare with the archive NAME (see `provenance index add`).")
@index_dir_option
@cache_options
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes for aligning and comparing pairs (default: $PROVENANCE_WORKERS, else the "
                   "usable cores, at most 8). The report does not depend on it.")
@click.option("--dates", "dates_csv", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CSV of 'id or file name,date' rows dating inputs that carry no date (plain files).")
@click.option("--quiet", "-q", is_flag=True, help="Do not print the summary table.")
@debug_option
@_handle_errors
def scan(paths: tuple[str, ...], output: str | None, html_out: str | None, model: str | None,
         model_languages: str, max_bytes: int | None, index_name: str | None, index_dir: str,
         cache_dir: str | None, no_cache: bool, workers: int | None, dates_csv: str | None, quiet: bool) -> None:
    """Scan articles (files or folders, searched recursively) and report their provenance.

    Inputs: .txt/.md, .html, .json/.jsonl records with a `text` field. Prints one row per
    document (name, language, relation, source row, coverage, divergences, story) and one entry
    per story, fitted to the terminal's width; writes the JSON report with -o
    and a side-by-side HTML view with --html.
    """
    from dataclasses import replace

    from .pipeline import scan as run_scan
    from .report import build_report, check_writable, write_html, write_report
    from .settings import ScanSettings
    from .summary import summary_table

    for what, path in (("report", output), ("HTML view", html_out)):
        if path:
            check_writable(path, what)
    settings = ScanSettings()
    if max_bytes is not None:
        settings = replace(settings, max_bytes=max_bytes)
    progress = sys.stderr.isatty()
    from .direction import read_dates

    dates = read_dates(dates_csv) if dates_csv else None
    embedder = _embedder(model, model_languages, cache_dir, no_cache)
    try:
        result = run_scan(list(paths), embedder=embedder, settings=settings, progress=progress, index=index_name,
                          index_dir=index_dir, workers=workers, dates=dates)
    finally:
        _close_cache(embedder)
    report = build_report(result)
    for s in report["skipped"]:
        click.echo(f"warning: skipped {s['path']}: {s['reason']}", err=True)
    for w in report["warnings"]:
        click.echo(f"warning: {w}", err=True)
    if output:
        write_report(report, output)
    if html_out:
        write_html(result, html_out, report)
    if not quiet:
        click.echo(summary_table(report))
        if not html_out:
            click.echo("To see each copy beside its source, rerun with --html FILE.")
    for what, path in (("report", output), ("HTML view", html_out)):
        if path:
            click.echo(f"{what} written to {path}", err=True)


@main.group()
def index() -> None:
    """Archives of articles that new articles are checked against (`scan --index NAME`)."""


@index.command("add", epilog=EXIT_CODES)
@click.argument("name")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@index_dir_option
@model_options
@cache_options
@debug_option
@_handle_errors
def index_add_cmd(name: str, paths: tuple[str, ...], index_dir: str, model: str | None, model_languages: str,
                  cache_dir: str | None, no_cache: bool) -> None:
    """Create the archive NAME or add the articles under PATHS to it (atomic: an interrupted
    update leaves the previous archive whole)."""
    from .archive_ops import index_add

    embedder = _embedder(model, model_languages, cache_dir, no_cache)
    try:
        res = index_add(name, list(paths), index_dir, embedder=embedder, progress=sys.stderr.isatty())
    finally:
        _close_cache(embedder)
    for s in res.skipped:
        click.echo(f"warning: skipped {s.path}: {s.reason}", err=True)
    click.echo(f"index {name}: added {len(res.added)} document(s); now {res.documents} documents, "
               f"{res.vectors} vectors ({res.generation})")


@index.command("info", epilog=EXIT_CODES)
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


@index.command("remove", epilog=EXIT_CODES)
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


@index.command("repair", epilog=EXIT_CODES)
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


@cache.command("info", epilog=EXIT_CODES)
@cache_dir_option
@debug_option
@_handle_errors
def cache_info_cmd(cache_dir: str | None) -> None:
    """Print each cache file's model, entries, size and the days its entries were last used."""
    from . import cache_admin as c

    files = c.info(cache_dir)
    folder = cache_dir or c.default_cache_dir()
    if not files:
        click.echo(f"no cache in {folder}")
        return
    readable = [f for f in files if f["problem"] is None]
    for f in readable:
        results = ", ".join(f"{n} {k}" for k, n in f["results"].items()) or "none"
        click.echo(f"{f['path']}\n  model {f['model']} ({f['dimension']} dimensions), {f['vectors']:,} vectors, "
                   f"results: {results}\n  {f['bytes']:,} bytes; used {f['first_used']} .. {f['last_used']}")
    if readable:
        click.echo(f"total {sum(f['bytes'] for f in readable):,} bytes in {len(readable)} file(s)")
    _problems([f["problem"] for f in files if f["problem"] is not None])


@cache.command("prune", epilog=EXIT_CODES)
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


@cache.command("clear", epilog=EXIT_CODES)
@cache_dir_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@debug_option
@_handle_errors
def cache_clear_cmd(cache_dir: str | None, yes: bool) -> None:
    """Delete all cache files (the next scan encodes everything again); files a running scan has
    open are left."""
    from . import cache_admin as c

    folder = cache_dir or c.default_cache_dir()
    if not yes:
        click.confirm(f"delete every provenance cache file in {folder}?", abort=True)
    r = c.clear(cache_dir)
    click.echo(f"deleted {r['files']} file(s), {r['bytes']:,} bytes, from {folder}")
    _problems(r["problems"])


if __name__ == "__main__":  # pragma: no cover
    main()
