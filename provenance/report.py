"""Stage: report. The versioned JSON report, its schema, atomic writing, and the terminal summary.

The report is built from the pipeline's dataclasses only. Keys are written in a stable order with
`ensure_ascii=False`; documents are sorted by id and nothing in them depends on time or machine,
so the same inputs give a byte-identical report.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .divergences import severity
from .errors import ProvenanceError

SCHEMA_VERSION = "2.0"


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(resources.files("provenance").joinpath("schema/report.schema.json").read_text("utf-8"))


def validate_report(report: dict) -> None:
    """Raise `ReportSchemaError` (a `ValueError`) when `report` breaks the shipped schema.

    Every report is checked before it is written. The check runs through `fastjsonschema`, which
    compiles the schema to Python once per process: ten times faster than walking it with
    `jsonschema` (0.09 s against 0.9 s for a 2 MB report), which made half of a cached re-scan's
    time. The schema declares draft 2020-12 and uses only keywords that draft 7 reads the same way
    (`$defs` through `$ref` pointers without sibling keywords, `const`, `oneOf`), so it is compiled
    as draft 7, the newest fastjsonschema knows; the tests check it against `jsonschema` too."""
    import fastjsonschema

    try:
        _compiled_schema()(report)
    except fastjsonschema.JsonSchemaValueException as err:
        raise ReportSchemaError(f"report breaks its schema: {err.message}") from err


class ReportSchemaError(ValueError):
    """A report that does not match `schema/report.schema.json`."""


@lru_cache(maxsize=1)
def _compiled_schema():
    """The schema's validator. fastjsonschema writes it as Python source (0.035 s) that Python
    then compiles (0.065 s): a tenth of an unchanged re-scan. The source and its bytecode are kept
    beside the lexicons (`lexicon_files.lexicon_dir`), named by a digest of the schema and fastjsonschema's
    version, so later processes load the bytecode (written here even where
    `PYTHONDONTWRITEBYTECODE` is set; checked by name, not by time). A copy that does not load is
    deleted (the next process writes it again) and the validator compiled in memory, as it is
    where that folder cannot be written."""
    import fastjsonschema

    from .hashing import digest
    from .lexicon_files import lexicon_dir

    definition = {**schema(), "$schema": "http://json-schema.org/draft-07/schema#"}
    key = digest(json.dumps(definition, sort_keys=True), fastjsonschema.VERSION)[:16]
    path = lexicon_dir() / f"report_validator_{key}.py"
    try:
        return _load_validator(path, definition)
    except Exception:  # noqa: BLE001 -- unwritable folder, damaged or foreign file: compiled here
        for spoilt in (path, Path(importlib.util.cache_from_source(str(path)))):
            with contextlib.suppress(OSError):
                spoilt.unlink(missing_ok=True)
        return fastjsonschema.compile(definition)


def _load_validator(path: Path, definition: dict):
    """The validator kept at `path` (written first if missing), its bytecode beside it."""
    import py_compile

    import fastjsonschema
    from fastjsonschema.ref_resolver import RefResolver

    from .lexicon_files import drop_superseded

    pyc = Path(importlib.util.cache_from_source(str(path)))
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        root = RefResolver.from_schema(definition, store={}).get_scope_name()  # the function fastjsonschema names
        atomic_write_text(path, f"{fastjsonschema.compile_to_code(definition)}\nvalidate = {root}\n")
        drop_superseded(path, "report_validator_*.py")  # another schema's or fastjsonschema's
        drop_superseded(pyc, f"report_validator_*{''.join(pyc.suffixes)}")  # this Python's only
    if not pyc.is_file():
        py_compile.compile(str(path), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    spec = importlib.util.spec_from_file_location(f"_provenance_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.validate


def _cluster_id(k: int | None) -> str | None:
    return None if k is None else f"story-{k + 1}"


def build_report(result) -> dict:
    """The JSON-ready report for a `ScanResult` (see DESIGN.md, "Report contract")."""
    prepared = result.prepared
    ids = [p.doc.id for p in prepared]
    docs = sorted((_document(result, v, ids) for v in result.verdicts), key=lambda d: d["id"])
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {
            "name": "provenance",
            "version": result.version,
            "model": result.model_id,
            **({"backend": result.backend} if result.backend else {}),
            "model_languages": list(result.model_languages) if result.model_languages is not None else None,
            "settings": result.settings.as_dict(),
        },
        "warnings": list(result.warnings),
        **({"archive": result.archive} if result.archive else {}),
        "documents": docs,
        "clusters": [_cluster(result, c, ids) for c in result.clusters],
        "skipped": [{"path": s.path, "reason": s.reason} for s in sorted(result.skipped, key=lambda s: s.path)],
    }


def _document(result, v, ids: list[str]) -> dict:
    """One document's entry of the report."""
    prepared = result.prepared
    p = prepared[v.doc]
    doc = p.doc
    cmp_ = result.comparisons.get(v.doc)
    entry = {
        "id": doc.id,
        "path": doc.path,
        "title": doc.meta.get("title") or _title(p),
        "language": p.langs.document,
        "languages": dict(p.langs.shares),
        "text_basis": doc.text_basis,
        "encoding": doc.encoding,
        "relation": v.relation,
        "derived_from": ids[v.derived_from] if v.derived_from is not None else None,
        "cluster": _cluster_id(v.cluster),
        "lineage": _lineage_id(v.lineage), "direction": _direction(v.direction),
        "coverage": v.evidence.aligned_share if v.evidence is not None else None,
        "source_used": _source_used(cmp_),
        "evidence": _evidence(v, ids),
        "edit_summary": cmp_.summary if cmp_ else None,
        "alignments": [_alignment(a) for a in cmp_.alignments] if cmp_ else [],
        "divergences": [_divergence(d, p.langs.document) for d in cmp_.divergences] if cmp_ else [],
        "excluded": [{"span": [b.start, b.end], "reason": b.excluded, "text": doc.text[b.start:b.end]}
                     for b in p.seg.clean.excluded],
    }
    if v.derived_from is not None and prepared[v.derived_from].langs.document != p.langs.document:
        entry["translated_from"] = prepared[v.derived_from].langs.document
    signals = result.signals.get(v.doc, ())
    if signals:
        kinds = sorted({x.kind.split(" (")[0] for x in signals})
        entry["translation_signals"] = {
            "kinds": kinds,
            # two independent kinds of trace make translation likely; one alone proves little
            "likely_translated": len(kinds) >= 2,
            "evidence": [{"kind": x.kind, "span": [x.start, x.end], "text": doc.text[x.start:x.end]}
                         for x in signals],
        }
    encoded = result.semantic_sentences.get(v.doc)
    if encoded is not None:  # an over-long document: sentence vectors for some sentences only
        entry["semantic_sentences"] = {
            "encoded": len(encoded), "sentences": len(p.seg.sentences),
            "limit": result.semantic_limits.get(v.doc, result.settings.max_semantic_sentences),
            "spans": _runs(p.sentence_spans, encoded)}
    for key in ("outlet", "date", "url"):
        if doc.meta.get(key):
            entry[key] = doc.meta[key]
    if doc.text_basis != "file" or v.doc in result.archived:
        entry["text"] = doc.text  # spans refer to this text, which is not the file's bytes
    if v.doc in result.archived:
        entry["archived"] = True
    return entry


def _runs(spans: tuple[tuple[int, int], ...], rows: tuple[int, ...]) -> list[list[int]]:
    """Character spans `[start, end]` of the runs of consecutive sentences among `rows` (ascending)."""
    out: list[list[int]] = []
    for k, r in enumerate(rows):
        if k and r == rows[k - 1] + 1:
            out[-1][1] = spans[r][1]
        else:
            out.append([spans[r][0], spans[r][1]])
    return out


def _cluster(result, c, ids: list[str]) -> dict:
    """One story cluster's entry of the report."""
    prepared = result.prepared
    rec = result.reconstructions.get(c.index)
    return {
        "id": _cluster_id(c.index),
        "source": ids[c.source] if c.source is not None else None,
        "members": sorted(ids[m] for m in c.members),
        "attribution": {
            "agency": c.agency,
            "text_credits": [_credit(x, prepared, ids) for x in c.credits],
            "photo_credits": [_credit(x, prepared, ids) for x in c.photo_credits],
        },
        "reconstruction": _reconstruction(rec, prepared, ids) if rec else None,
        "lineages": [_lineage(x, prepared, ids) for x in c.lineages],
    }


def _source_used(cmp_) -> float | None:
    """Share of the source's story text this document carries (the other half of `coverage`)."""
    share = cmp_.summary.get("omitted_of_source") if cmp_ else None
    return None if share is None else round(1.0 - share, 4)


def _lineage_id(k: int | None) -> str | None:
    return None if k is None else f"lineage-{k + 1}"


def _direction(d) -> dict | None:
    if d is None:
        return None
    return {"established": d.established, "confidence": d.confidence, "kind": d.kind, "basis": list(d.basis),
            "words": d.words()}


def _lineage(x, prepared, ids) -> dict:
    return {"id": _lineage_id(x.index), "root": ids[x.root], "members": sorted(ids[m] for m in x.members),
            "attribution": {"agency": x.agency, "text_credits": [_credit(c, prepared, ids) for c in x.credits]},
            "derived_from": None if x.derived_from is None else {
                "lineage": _lineage_id(x.derived_from), "document": ids[x.via], "direction": _direction(x.direction)}}


def _title(p) -> str | None:
    paras = p.seg.paragraphs
    if paras and paras[0].role == "title":
        return p.doc.text[paras[0].start:paras[0].end]
    return None


def _evidence(v, ids) -> dict | None:
    e = v.evidence
    if e is None:
        return None
    return {"source": ids[e.source], "aligned_blocks": e.blocks, "aligned_share": e.aligned_share,
            "own_prose_aligned_share": e.own_aligned_share, "detail_share": e.detail_share,
            "verbatim": e.verbatim, "mean_score": e.mean_score, "cross_lingual": e.cross_lingual,
            "derivation_score": v.derivation_score}


def _alignment(a) -> dict:
    return {"source_span": list(a.source_span), "target_span": list(a.target_span), "score": a.score,
            "kind": a.kind, "similarity": a.similarity, "moved": a.moved,
            "source_sentences": a.source_sentences, "target_sentences": a.target_sentences}


def _divergence(d, lang: str) -> dict:
    out = {"type": d.type, "subtype": d.subtype, "severity": severity(d, lang),
           "source_span": list(d.source_span) if d.source_span else None,
           "target_span": list(d.target_span) if d.target_span else None,
           "source_text": d.source_text, "target_text": d.target_text}
    if d.diff:
        out["diff"] = [list(op) for op in d.diff]
    return out


def _reconstruction(rec, prepared, ids) -> dict:
    def text(doc: int, span) -> str:
        return prepared[doc].doc.text[span[0]:span[1]]

    passages = [{"document": ids[p.doc], "span": list(p.span), "text": text(p.doc, p.span),
                 "carriers": [{"document": ids[d], "span": list(s)} for d, s in p.carriers]}
                for p in rec.passages]
    return {
        "carriers": [ids[d] for d in rec.carriers],
        "text": "\n\n".join(p["text"] for p in passages),
        "passages": passages,
        "unplaced": [{"document": ids[d], "span": list(s), "text": text(d, s)} for d, s in rec.unplaced],
    }


def _credit(x, prepared, ids) -> dict:
    text = prepared[x.doc].doc.text
    return {"document": ids[x.doc], "agency": x.agency, "span": [x.start, x.end], "text": text[x.start:x.end]}


def dumps(report: dict) -> str:
    """The report as indented JSON. Through orjson: the standard library indents in pure Python
    (0.1-0.17 s for the speed corpus's 2 MB report, a tenth of an unchanged re-scan; orjson
    0.01 s), with the same text but for small floats' notation (`0.00001` for `1e-05`); the
    standard library for what orjson refuses (a key that is not a string, an integer past 64 bits)."""
    import orjson

    try:
        return orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode("utf-8") + "\n"
    except TypeError:
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def check_writable(path: str | os.PathLike, what: str = "report") -> None:
    """Raise `ProvenanceError` now if `path` cannot be written later (missing or read-only folder,
    a folder in the way), so a long scan does not end in a write error."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ProvenanceError(f"cannot write {what} {path}: it is a folder; give a file name")
    if not folder.is_dir():
        raise ProvenanceError(f"cannot write {what} {path}: folder {folder} does not exist; create it first")
    try:  # the real test: root passes os.access on a read-only mount's folders, not this
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ProvenanceError(f"cannot write {what} {path}: {exc.strerror or exc} in {folder}; choose a "
                              "writable folder") from None


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder and `os.replace`, so a
    reader (or a crash) never sees a half-written file and an existing file survives a failure.
    Temporary files left by a writer that was killed (SIGKILL leaves no chance to clean up) are
    removed by the next write of the same file."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ProvenanceError(f"cannot write {path}: folder {folder} does not exist")
    _remove_stale_temps(folder, path.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp makes 0600 files; give the report the mode a plain open() would (or the old file's)
        umask = os.umask(0)
        os.umask(umask)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~umask
        os.chmod(tmp, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _remove_stale_temps(folder: Path, name: str) -> None:
    """Delete `.NAME.PID.*.tmp` files whose writer process no longer runs."""
    prefix = f".{name}."
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(prefix) and e.name.endswith(".tmp")]
    except OSError:
        return
    for e in entries:
        pid = e.name[len(prefix):].split(".", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        try:
            os.unlink(e.path)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_report(result_or_report, path: str | os.PathLike) -> dict:
    """Build (if needed), validate and atomically write the JSON report; return it."""
    report = result_or_report if isinstance(result_or_report, dict) else build_report(result_or_report)
    validate_report(report)
    try:
        atomic_write_text(path, dumps(report))
    except OSError as exc:
        raise ProvenanceError(f"cannot write report {path}: {exc.strerror or exc}") from None
    return report


def write_html(result, path: str | os.PathLike, report: dict | None = None,
               texts: dict[str, str] | None = None) -> None:
    """Render the self-contained HTML side-by-side view and write it atomically. `report` and
    `texts` ({document id: text}) when the caller has them (the Spark engine has no `result`)."""
    from .html import render_html, result_texts

    report = report if report is not None else build_report(result)
    try:
        atomic_write_text(path, render_html(report, texts if texts is not None else result_texts(result)))
    except OSError as exc:
        raise ProvenanceError(f"cannot write HTML report {path}: {exc.strerror or exc}") from None
