#!/usr/bin/env bash
# Render HTML reports in headless Chromium (Debian's `chromium`) and save PNG screenshots, to look
# at what a reader sees. No network is used by the page.
#
#   scripts/render_html.sh REPORT.html OUT.png [WIDTHxHEIGHT]
#       one screenshot of one page (default 1600x2400)
#   scripts/render_html.sh --demo OUT_FOLDER
#       scan the seed corpus and a 20-document, multi-story corpus (scripts/demo_corpus.py), write
#       their reports (seed.html, demo20.html, .json) and screenshots of each: the top of the page
#       (1400x1000) and the whole page cut into 1400x1600 parts (NAME-part-K.png)
#
# Installs chromium with apt-get when missing (root, Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
PY=${PYTHON:-.venv/bin/python}

shot() {  # shot HTML PNG WIDTHxHEIGHT
  local html png size profile
  html=$(realpath "$1"); png=$(realpath -m "$2"); size=$3
  profile=$(mktemp -d)
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
    --window-size="${size/x/,}" --screenshot="$png" "file://$html" >/dev/null 2>&1 || true
  rm -rf "$profile"
  test -s "$png"
}

if [ "${1:-}" != "--demo" ]; then
  shot "$1" "$2" "${3:-1600x2400}" && echo "screenshot written to $(realpath -m "$2")"
  exit 0
fi

out=$(realpath -m "${2:?usage: scripts/render_html.sh --demo OUT_FOLDER}")
mkdir -p "$out"
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
"$PY" scripts/demo_corpus.py "$corpus/demo20" >/dev/null
for name in seed demo20; do
  input=benchmarks/corpora/iraq-2020/articles
  [ "$name" = demo20 ] && input="$corpus/demo20"
  "$PY" -m provenance.cli scan "$input" -q -o "$out/$name.json" --html "$out/$name.html" 2>/dev/null
  shot "$out/$name.html" "$out/$name-top.png" 1400x1000
  # the whole page: its height from a tall render, then cut into parts
  shot "$out/$name.html" "$out/$name-full.png" 1400x30000
  "$PY" - "$out/$name-full.png" <<'EOF'
import sys
from PIL import Image

path = sys.argv[1]
img = Image.open(path).convert("RGB")
bg = img.getpixel((img.width - 1, img.height - 1))
rows = [y for y in range(0, img.height, 20) if any(img.getpixel((x, y)) != bg for x in range(0, img.width, 7))]
height = min(img.height, (rows[-1] + 40) if rows else img.height)
for k, top in enumerate(range(0, height, 1600), start=1):
    img.crop((0, top, img.width, min(top + 1600, height))).save(path.replace("-full.png", f"-part-{k}.png"))
EOF
  rm -f "$out/$name-full.png"
done
ls "$out"
