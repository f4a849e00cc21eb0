"""provenance: where a news article's text came from.

Finds which articles are copies, rewrites or translations of a wire dispatch, aligns their
passages to it, and reports every divergence with exact character spans.

Public API::

    from provenance import scan, write_report
    result = scan(["articles/"])            # default model, offline
    write_report(result, "report.json")

The names below are imported on first use, so `import provenance` (and a command such as
`provenance cache info`) does not load numpy, FAISS or the model.
"""

__version__ = "0.1.0"

_EXPORTS = {
    "ProvenanceError": "errors", "ScanResult": "result", "ScanSettings": "settings", "Document": "load",
    "Skipped": "load", "load_paths": "load", "prepare": "preparation", "analyse": "pipeline", "scan": "pipeline",
    "scan_documents": "pipeline", "index_add": "archive_ops", "index_remove": "archive_ops",
    "index_info": "archive_ops", "index_repair": "archive_ops", "IndexUpdate": "archive_ops",
    "load_model": "embed", "HashingEmbedder": "embed", "CachedEmbedder": "cache", "ResultStore": "results",
    "build_report": "report", "summary_table": "summary", "validate_report": "report", "write_html": "report",
    "write_report": "report",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'provenance' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
