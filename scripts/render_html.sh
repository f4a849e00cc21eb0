#!/usr/bin/env bash
# Render an HTML report in headless Chromium (Debian's `chromium`) and save a PNG screenshot, to
# look at what a reader sees. Usage: scripts/render_html.sh REPORT.html OUT.png [WIDTHxHEIGHT]
# Installs chromium with apt-get when missing (root, Debian). No network is used by the page.
set -euo pipefail
html=$(realpath "$1"); png=$(realpath -m "$2"); size=${3:-1600x2400}
if ! command -v chromium >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
  --window-size="${size/x/,}" --screenshot="$png" "file://$html" >/dev/null 2>&1
test -s "$png" && echo "screenshot written to $png"
