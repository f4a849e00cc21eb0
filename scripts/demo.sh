#!/usr/bin/env bash
# Set up (if needed) and scan the bundled seed corpus: prints the summary, writes report.json.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/provenance scan benchmarks/corpora/iraq-2020/articles -o report.json "$@"
