"""provenance: where a news article's text came from.

Finds which articles are copies, rewrites or translations of a wire dispatch, aligns their
passages to it, and reports every divergence with exact character spans.

Public API::

    from provenance import scan, write_report
    result = scan(["articles/"])            # default model, offline
    write_report(result, "report.json")
"""

__version__ = "0.1.0"

from .errors import ProvenanceError  # noqa: E402
from .pipeline import ScanResult, ScanSettings, analyse, prepare, scan, scan_documents  # noqa: E402
from .report import build_report, summary_table, validate_report, write_html, write_report  # noqa: E402

__all__ = [
    "ProvenanceError", "ScanResult", "ScanSettings", "analyse", "build_report", "prepare", "scan",
    "scan_documents", "summary_table", "validate_report", "write_html", "write_report", "__version__",
]
