#!/usr/bin/env bash
# Benchmark (not a test): code upload of `amlops-job submit` versus
# `az storage blob upload-batch --max-connections 4`, both to the same Azurite account, which is
# also amlops-local's workspace storage (config.yml `storage:`). The folder is 2,000 files / 50 MiB
# (deterministic, bench/upload/gen.py). Per repetition: a first submit (one file changed so the
# whole folder is uploaded again), an unchanged resubmit (hash from the hash cache, code found by
# hash), the same resubmit with --no-hash-cache (all 50 MiB hashed again), and az uploading the same
# folder to a fresh path, and the floor: one `curl --parallel --parallel-max 4` process PUTting the
# same 2,000 files with a container SAS (no client work to speak of: what Azurite itself allows).
# Prints wall and CPU ms of each, medians, and the ratios.
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
az storage container create --name floor --connection-string "$CONN" --only-show-errors --output none
SAS=$(az storage container generate-sas --name floor --permissions acwr --expiry 2035-01-01 --connection-string "$CONN" \
  --only-show-errors --output tsv)

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
# The hash cache lives here, not in the user's ~/.cache.
export AMLOPS_CACHE_DIR="$WORK/cache"
printf '%-4s %22s %22s %22s %22s %22s\n' rep "submit first (wall/cpu)" "resubmit (wall/cpu)" "--no-hash-cache" \
  "az upload-batch" "curl floor"
show=() first=() again=() nocache=() az=() floor=() first_cpu=() again_cpu=() nocache_cpu=() az_cpu=() floor_cpu=()
for r in $(seq 1 "$REPS"); do
  echo "$r $(date +%s%N)" > src/rep.txt  # new content hash: the whole folder is uploaded
  # A file changed less than 2 s before it is hashed is not remembered by the hash cache (git's
  # racily-clean rule: its timestamps could stay the same through another change), so the first
  # submit waits that long, as any edit-then-submit by a person does.
  sleep 2.1
  read -r w1 c1 < <($PY "$HERE/measure.py" "$BIN/amlops-job" submit -f job.yml --name "up-$r-a" -q)
  read -r w2 c2 < <($PY "$HERE/measure.py" "$BIN/amlops-job" submit -f job.yml --name "up-$r-b" -q)
  read -r w5 c5 < <($PY "$HERE/measure.py" "$BIN/amlops-job" submit -f job.yml --name "up-$r-c" -q --no-hash-cache)
  for s in a b c; do  # let the runs (download from Azurite) finish
    "$BIN/amlops-job" wait "up-$r-$s" -q > /dev/null 2>&1 || true
  done
  # Floor of any amlops-job command here (start, token, one GET): the skip costs resubmit - this.
  read -r w4 _ < <($PY "$HERE/measure.py" "$BIN/amlops-job" show "up-$r-a" -q)
  read -r w3 c3 < <($PY "$HERE/measure.py" az storage blob upload-batch --destination azbench --source src \
    --destination-path "rep$r" --max-connections 4 --connection-string "$CONN" --only-show-errors --output none)
  (cd src && find . -type f | sed 's|^\./||' | while read -r f; do
    printf 'upload-file = "%s"\nurl = "%s/floor/rep%s/%s?%s"\n' "$f" "$AZURITE_URL" "$r" "$f" "$SAS"; done) > "$WORK/curl.cfg"
  read -r w6 c6 < <(cd src && $PY "$HERE/measure.py" curl -sS -f --parallel --parallel-max 4 -H "x-ms-blob-type: BlockBlob" \
    -o /dev/null -K "$WORK/curl.cfg")
  for v in "$w1" "$w2" "$w3" "$w4" "$w5" "$w6"; do [ "$v" != ERR ] || exit 1; done
  printf '%-4s %22s %22s %22s %22s %22s\n' "$r" "$w1 / $c1 ms" "$w2 / $c2 ms" "$w5 / $c5 ms" "$w3 / $c3 ms" "$w6 / $c6 ms"
  show+=("$w4") first+=("$w1") again+=("$w2") nocache+=("$w5") az+=("$w3") floor+=("$w6")
  first_cpu+=("$c1") again_cpu+=("$c2") nocache_cpu+=("$c5") az_cpu+=("$c3") floor_cpu+=("$c6")
done
median() { printf '%s\n' "$@" | sort -n | $PY -c 'import sys; v=[int(x) for x in sys.stdin]; print(v[len(v)//2])'; }
mf=$(median "${first[@]}") ma=$(median "${again[@]}") mz=$(median "${az[@]}")
ml=$(median "${floor[@]}")
printf '%-4s %22s %22s %22s %22s %22s\n' median "$mf / $(median "${first_cpu[@]}") ms" "$ma / $(median "${again_cpu[@]}") ms" \
  "$(median "${nocache[@]}") / $(median "${nocache_cpu[@]}") ms" "$mz / $(median "${az_cpu[@]}") ms" \
  "$ml / $(median "${floor_cpu[@]}") ms"
echo "az / amlops-job first upload (wall): $($PY -c "print(f'{$mz / $mf:.1f}x')")  (target >= 5x);" \
  "amlops-job / curl floor: $($PY -c "print(f'{$mf / $ml:.2f}x')"); az / curl floor: $($PY -c "print(f'{$mz / $ml:.1f}x')")"
echo "unchanged resubmit (whole command, wall): $ma ms  (target < 100 ms); with --no-hash-cache: $(median "${nocache[@]}") ms;" \
  "'amlops-job show' on the same server: $(median "${show[@]}") ms"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
