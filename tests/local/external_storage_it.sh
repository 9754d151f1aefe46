#!/usr/bin/env bash
# amlops-local with its workspace storage on Azurite (config.yml `storage:`): amlops-job uploads
# the code to Azurite, amlops-local downloads it from there and runs the job to Completed; an
# unchanged resubmit finds the code by hash and uploads nothing. Exit 77 (skipped) without Azurite.
# Usage: external_storage_it.sh BIN_DIR
set -u -o pipefail
BIN=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/amlops-extstore.XXXXXX)
. "$ROOT/tests/local/external_storage.sh"
trap 'stop_all; rm -rf "$WORK"' EXIT
fails=0
check() {  # check DESCRIPTION CMD...
  if "${@:2}"; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi
}

start_azurite || { rc=$?; [ $rc = 77 ] && echo "azurite not installed (run npm ci in tests/node): skipped"; exit $rc; }
start_local_external || exit 1

mkdir -p "$WORK/proj/src/pkg"
echo 'import sys; print("hello from", open("pkg/data.txt").read().strip(), open(sys.argv[1]).read().strip())' > "$WORK/proj/src/main.py"
echo 'input-file' > "$WORK/proj/in.txt"
echo 'external-storage' > "$WORK/proj/src/pkg/data.txt"
cat > "$WORK/proj/job.yml" <<'YML'
type: command
code: ./src
command: python main.py ${{inputs.data}}
environment: azureml:any-env:1
inputs:
  data:
    type: uri_file
    path: ./in.txt
YML
cd "$WORK/proj"
"$BIN/amlops-job" submit -f job.yml --name ext-1 --wait --stream > out1.txt 2> err1.txt
rc=$?
check "first submit with code on Azurite completes (exit 0)" test "$rc" = 0
check "the job ran the code and read the input downloaded from Azurite" \
  grep -q "hello from external-storage input-file" out1.txt err1.txt
check "the code went to Azurite, not to amlops-local's own blobs" \
  test -z "$(find "$WORK/srv/blobs" -name main.py)"
check "Azurite holds the uploaded code" test -n "$(find "$WORK/azurite" -type f -size +0 | head -1)"

"$BIN/amlops-job" submit -f job.yml --name ext-2 --wait > out2.txt 2> err2.txt
rc=$?
check "unchanged resubmit completes (exit 0)" test "$rc" = 0
check "unchanged resubmit reuses the code by hash" grep -q "unchanged" err2.txt

# A wrong key is refused at start with a clear message (exit 2), not at the first upload.
"$BIN/amlops-local" stop --data "$WORK/srv" > /dev/null 2>&1
AZURITE_KEY=$(printf 'x%.0s' $(seq 1 64) | base64 -w0) "$BIN/amlops-local" serve --port 0 --data "$WORK/srv" \
  --daemon > /dev/null 2> err3.txt
rc=$?
check "a wrong storage key stops the start (exit 2)" test "$rc" = 2
check "and names the endpoint" grep -q "storage: creating container .* answered HTTP 403" err3.txt

if [ "$fails" != 0 ]; then
  for f in out1.txt err1.txt out2.txt err2.txt err3.txt; do echo "--- $f"; cat "$f"; done
  cat "$WORK/srv/server.log" 2> /dev/null | tail -30
fi
[ "$fails" = 0 ]
