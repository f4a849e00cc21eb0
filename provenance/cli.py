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
@click.option("--model", metavar="NAME_OR_PATH", default=None,
              help="sentence-transformers model id (from the local cache) or local folder. Default: the "
                   "bundled all-MiniLM-L6-v2 (English). Nothing is downloaded.")
@click.option("--model-languages", metavar="CODES", default="auto",
              help="Languages the model covers: 'auto' (guess from its vocabulary size), 'all', or ISO codes "
                   "such as 'en,fr'. Pairs outside them rely on names, numbers and character n-grams.")
@click.option("--max-bytes", type=click.IntRange(min=1), default=None,
              help="Skip input files larger than this many bytes (default 5,000,000).")
@click.option("--quiet", "-q", is_flag=True, help="Do not print the summary table.")
@debug_option
@_handle_errors
def scan(paths: tuple[str, ...], output: str | None, html_out: str | None, model: str | None,
         model_languages: str, max_bytes: int | None, quiet: bool) -> None:
    """Scan articles (files or folders, searched recursively) and report their provenance.

    Inputs: .txt/.md, .html, .json/.jsonl records with a `text` field. Prints one row per
    document (id, language, relation, derived from, coverage), writes the JSON report with -o
    and a side-by-side HTML view with --html.
    """
    from dataclasses import replace

    from .pipeline import ScanSettings
    from .pipeline import scan as run_scan
    from .report import build_report, summary_table, write_html, write_report

    settings = ScanSettings()
    if max_bytes is not None:
        settings = replace(settings, max_bytes=max_bytes)
    from .embed import load_model, parse_languages

    progress = sys.stderr.isatty()
    embedder = load_model(model, languages=parse_languages(model_languages))
    result = run_scan(list(paths), embedder=embedder, settings=settings, progress=progress)
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
    for what, path in (("report", output), ("HTML view", html_out)):
        if path:
            click.echo(f"{what} written to {path}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
