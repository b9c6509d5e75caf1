#!/usr/bin/env bash
# The HTML report of a quickstart-like run renders in a real browser: runs jobs/quickstart.yaml trimmed on the
# embedded tiny model (one sample per task and length, short prompts; the run writes quickstart.html next to its
# results by default), also writes a two-run `compare` page, opens each in headless Chromium and requires what the
# page's script records in #loom-render-status (src/metrics/report/report_page.js): no error or console.error,
# at least one chart, and every chart's canvas holding drawn pixels; the DOM holds as many canvases as charts.
#   html_report_browser_test.sh LOOM_MPI SOURCE_DIR WORK_DIR
# Exits 77 (CTest: skipped) only when no chromium is installed (tools/install-deps.sh installs it).
set -euo pipefail
loom_mpi=$1 src=$2 work=$3
browser=""
for name in chromium chromium-browser; do
  if command -v "$name" > /dev/null 2>&1; then browser=$(command -v "$name"); break; fi
done
if [ -z "$browser" ]; then
  echo "SKIPPED: chromium is not installed (apt-get install chromium, as tools/install-deps.sh does)"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work"
"$loom_mpi" run "$src/jobs/quickstart.yaml" --model "$src/models/tiny-loom" --limit 1 --set model.device=cpu \
  --set model.max_context=1024 --set generation.max_new_tokens=8 --output "$work/quickstart.h5" --log-level warn \
  > "$work/run.log" 2>&1 || { tail -50 "$work/run.log"; exit 1; }
[ -s "$work/quickstart.html" ] || { echo "the run wrote no quickstart.html"; exit 1; }
cp "$work/quickstart.h5" "$work/after.h5"
"$loom_mpi" compare "$work/quickstart.h5" "$work/after.h5" --html "$work/compare.html" > "$work/compare.log"
grep -q "after" "$work/compare.log" || { cat "$work/compare.log"; exit 1; }

render() {  # PAGE -> prints "charts nonempty errors canvases", the errors on stderr
  local page=$1 dom
  dom=$(timeout 120 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" \
        --dump-dom "file://$page" 2> "$work/browser.err")
  local status
  status=$(printf '%s' "$dom" | grep -o '<div id="loom-render-status"[^>]*>[^<]*' || true)
  if [ -z "$status" ]; then
    echo "no render status in $page: the page script did not finish" >&2
    grep -i "console" "$work/browser.err" >&2 || true
    echo "0 0 1 0"
    return
  fi
  printf '%s\n' "$status" | sed 's/.*>//' >&2
  local charts nonempty errors canvases
  charts=$(printf '%s' "$status" | sed 's/.*data-charts="\([0-9]*\)".*/\1/')
  nonempty=$(printf '%s' "$status" | sed 's/.*data-nonempty="\([0-9]*\)".*/\1/')
  errors=$(printf '%s' "$status" | sed 's/.*data-errors="\([0-9]*\)".*/\1/')
  canvases=$(printf '%s' "$dom" | grep -o '<canvas' | wc -l)
  echo "$charts $nonempty $errors $canvases"
}

for page in "$work/quickstart.html" "$work/compare.html"; do
  read -r charts nonempty errors canvases < <(render "$page")
  echo "$(basename "$page"): $charts charts, $nonempty drawn, $canvases canvases, $errors errors"
  [ "$errors" -eq 0 ] || { echo "FAIL: errors in $page"; exit 1; }
  [ "$charts" -gt 0 ] || { echo "FAIL: no chart in $page"; exit 1; }
  [ "$nonempty" -eq "$charts" ] || { echo "FAIL: $((charts - nonempty)) empty charts in $page"; exit 1; }
  [ "$canvases" -eq "$charts" ] || { echo "FAIL: $canvases canvases for $charts charts in $page"; exit 1; }
done
# The check itself: a page that logs a console error must be caught.
sed 's|<body>|<body><script>console.error("injected error")</script>|' "$work/quickstart.html" > "$work/broken.html"
read -r charts nonempty errors canvases < <(render "$work/broken.html" 2> /dev/null)
[ "$errors" -ge 1 ] || { echo "FAIL: the injected console.error went unnoticed"; exit 1; }
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$work/profile" \
  --window-size=1400,3200 --screenshot="$work/quickstart.png" "file://$work/quickstart.html" > /dev/null 2>&1
[ -s "$work/quickstart.png" ] || { echo "FAIL: no screenshot"; exit 1; }
echo "HTML report renders in $("$browser" --version 2>/dev/null | head -1): ok (screenshot $work/quickstart.png)"
