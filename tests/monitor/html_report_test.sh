#!/bin/bash
# The drift HTML report opens in headless Chromium without console errors and shows one SVG
# histogram per feature; the screenshot is kept as a test artefact.
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
echo "screenshot: $WORK/artefacts/drift-report.png"
exit $fail
