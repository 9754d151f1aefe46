#!/usr/bin/env bash
# Benchmark (not a test): code upload of `amlops-job submit` versus
# `az storage blob upload-batch --max-connections 4`, both to the same Azurite account, which is
# also amlops-local's workspace storage (config.yml `storage:`). The folder is 2,000 files / 50 MiB
# (deterministic, bench/upload/gen.py). Per repetition: a first submit (one file changed so the
# whole folder is uploaded again), an unchanged resubmit (code found by hash), and az uploading
# the same folder to a fresh path. Prints wall and CPU ms of each, medians, and the ratio.
# Installs azure-cli with apt-get when `az` is missing (Debian's package).
# Usage: bench/upload/run.sh BIN_DIR [REPS]   (BIN_DIR holds amlops-job and amlops-local)
set -eu -o pipefail
BIN=$(cd "$1" && pwd)
REPS=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/amlops-bench-upload.XXXXXX)
. "$ROOT/tests/local/external_storage.sh"
trap 'stop_all; rm -rf "$WORK"' EXIT

if ! command -v az > /dev/null; then
  echo "az not found: apt-get install azure-cli" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q azure-cli > /dev/null; else sudo apt-get install -y -q azure-cli > /dev/null; fi
fi
AZ_VERSION=$(az version --only-show-errors 2> /dev/null | $PY -c 'import json,sys; print(json.load(sys.stdin)["azure-cli"])')

start_azurite
start_local_external
CONN="DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY;BlobEndpoint=$AZURITE_URL;"
az storage container create --name azbench --connection-string "$CONN" --only-show-errors --output none

mkdir -p "$WORK/proj"
$PY "$HERE/gen.py" "$WORK/proj/src"
cat > "$WORK/proj/job.yml" <<'YML'
type: command
code: ./src
command: "true"
environment: azureml:any-env:1
YML
cd "$WORK/proj"

echo "amlops-job $("$BIN/amlops-job" --version 2> /dev/null | head -1) vs azure-cli $AZ_VERSION (Debian package)"
echo "folder: $(find src -type f | wc -l) files, $(du -sb src | cut -f1) bytes; Azurite $(cat "$ROOT/tests/node/node_modules/azurite/package.json" | $PY -c 'import json,sys; print(json.load(sys.stdin)["version"])') on loopback"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
printf '%-4s %22s %22s %22s\n' rep "submit first (wall/cpu)" "resubmit (wall/cpu)" "az upload-batch"
show=() first=() again=() az=() first_cpu=() again_cpu=() az_cpu=()
for r in $(seq 1 "$REPS"); do
  echo "$r $(date +%s%N)" > src/rep.txt  # new content hash: the whole folder is uploaded
  read -r w1 c1 < <($PY "$HERE/measure.py" "$BIN/amlops-job" submit -f job.yml --name "up-$r-a" -q)
  read -r w2 c2 < <($PY "$HERE/measure.py" "$BIN/amlops-job" submit -f job.yml --name "up-$r-b" -q)
  "$BIN/amlops-job" wait "up-$r-a" -q > /dev/null 2>&1 || true  # let the runs (download from Azurite) finish
  "$BIN/amlops-job" wait "up-$r-b" -q > /dev/null 2>&1 || true
  # Floor of any amlops-job command here (start, token, one GET): the skip costs resubmit - this.
  read -r w4 _ < <($PY "$HERE/measure.py" "$BIN/amlops-job" show "up-$r-a" -q)
  read -r w3 c3 < <($PY "$HERE/measure.py" az storage blob upload-batch --destination azbench --source src \
    --destination-path "rep$r" --max-connections 4 --connection-string "$CONN" --only-show-errors --output none)
  for v in "$w1" "$w2" "$w3" "$w4"; do [ "$v" != ERR ] || exit 1; done
  printf '%-4s %22s %22s %22s\n' "$r" "$w1 / $c1 ms" "$w2 / $c2 ms" "$w3 / $c3 ms"
  show+=("$w4") first+=("$w1") again+=("$w2") az+=("$w3") first_cpu+=("$c1") again_cpu+=("$c2") az_cpu+=("$c3")
done
median() { printf '%s\n' "$@" | sort -n | $PY -c 'import sys; v=[int(x) for x in sys.stdin]; print(v[len(v)//2])'; }
mf=$(median "${first[@]}") ma=$(median "${again[@]}") mz=$(median "${az[@]}")
printf '%-4s %22s %22s %22s\n' median "$mf / $(median "${first_cpu[@]}") ms" "$ma / $(median "${again_cpu[@]}") ms" \
  "$mz / $(median "${az_cpu[@]}") ms"
echo "az / amlops-job first upload (wall): $($PY -c "print(f'{$mz / $mf:.1f}x')")  (target >= 5x)"
echo "unchanged resubmit (whole command, wall): $ma ms  (target < 100 ms); 'amlops-job show' on the same server: $(median "${show[@]}") ms"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
