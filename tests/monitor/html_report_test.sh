#!/bin/bash
# The drift HTML report opens in headless Chromium without console errors and shows one SVG
# histogram per feature; the decide report one trend chart per signal; the screenshots are kept
# as test artefacts.
set -u
BIN=$1
WORK=$2
SRC=$(cd "$(dirname "$0")" && pwd)
command -v chromium >/dev/null || { echo "chromium not installed (apt-get install chromium): skipped"; exit 77; }
rm -rf "$WORK" && mkdir -p "$WORK/artefacts" && cd "$WORK" || exit 2
/usr/bin/python3 "$SRC/gen_data.py" . || exit 2
"$BIN" drift --reference ref.csv --current cur.csv --prediction yhat --exclude ts,y,p --metrics all \
  --report "$WORK/artefacts/drift-report.html" --output json > drift.json || exit 1
features=$(/usr/bin/python3 -c "import json; d=json.load(open('drift.json')); print(len(d['features']) + 1)")
chrome() {
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d)" --enable-logging=stderr --v=0 "$@"
}
chrome --screenshot="$WORK/artefacts/drift-report.png" --window-size=1200,2000 \
  "file://$WORK/artefacts/drift-report.html" 2> screenshot.log || { cat screenshot.log; exit 1; }
chrome --dump-dom "file://$WORK/artefacts/drift-report.html" > dom.html 2> dom.log || { cat dom.log; exit 1; }
fail=0
[ -s "$WORK/artefacts/drift-report.png" ] || { echo "no screenshot"; fail=1; }
svgs=$(grep -o '<svg' dom.html | wc -l)
bars=$(grep -o '<rect class="bar"' dom.html | wc -l)
echo "DOM: $svgs svg charts (want $features), $bars bars"
[ "$svgs" = "$features" ] || fail=1
[ "$bars" -ge $((features * 4)) ] || fail=1
if grep -E 'CONSOLE|Uncaught|Failed to load resource|Not allowed to load' screenshot.log dom.log; then
  echo "console errors in Chromium"
  fail=1
fi
# decide --report: one trend chart per signal, its threshold drawn, no console errors.
cat > amlops.yml <<'YML'
monitor:
  reference: ref.csv
  current: cur.csv
  timestamp: ts
  label: y
  prediction: yhat
  window: daily
  target: {model: "credit<script>", version: "3", endpoint: credit-ep, deployment: blue}
  signals:
    performance: {metric: accuracy, min: 0.6}
YML
"$BIN" decide --config amlops.yml --report "$WORK/artefacts/decide-report.html" --output json > decide.json || exit 1
signals=$(/usr/bin/python3 -c "import json; print(len(json.load(open('decide.json'))['signals']))")
chrome --screenshot="$WORK/artefacts/decide-report.png" --window-size=1200,2400 \
  "file://$WORK/artefacts/decide-report.html" 2> dscreenshot.log || { cat dscreenshot.log; exit 1; }
chrome --dump-dom "file://$WORK/artefacts/decide-report.html" > ddom.html 2> ddom.log || { cat ddom.log; exit 1; }
trends=$(grep -o 'class="chart trend"' ddom.html | wc -l)
thresholds=$(grep -o 'class="threshold"' ddom.html | wc -l)
echo "decide DOM: $trends trend charts (want $signals), $thresholds threshold lines"
[ "$trends" = "$signals" ] || fail=1
[ "$thresholds" -ge 3 ] || fail=1  # data drift, data quality, performance
grep -q '<script' ddom.html && { echo "a script element in the decide report"; fail=1; }
if grep -E 'CONSOLE|Uncaught|Failed to load resource|Not allowed to load' dscreenshot.log ddom.log; then
  echo "console errors in Chromium (decide report)"
  fail=1
fi
echo "screenshot: $WORK/artefacts/drift-report.png, $WORK/artefacts/decide-report.png"
exit $fail
