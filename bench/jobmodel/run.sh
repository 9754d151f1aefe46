#!/usr/bin/env bash
# Benchmark (not a test): `amlops-job show` and `amlops-model list` against amlops-local versus
# curl on the same URL (and `az rest --skip-authorization-header` when az is installed).
# Prints the median wall time of N runs of each.
# Usage: bench/jobmodel/run.sh BIN_DIR [N]   (BIN_DIR holds amlops-job, amlops-model, amlops-local)
set -eu -o pipefail
BIN=$(cd "$1" && pwd)
N=${2:-30}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/amlops-bench-jobmodel.XXXXXX)
trap '"$BIN/amlops-local" stop --data "$WORK/srv" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

. "$(dirname "$0")/../../tests/support/local_arm.sh"
local_serve "$BIN" "$WORK/srv"
cp -r "$HERE/../../tests/jobmodel/starter" "$WORK/proj"
cd "$WORK/proj"
"$BIN/amlops-job" submit -f job.yml --wait --name bench-job -q > /dev/null
"$BIN/amlops-model" register --name bench-model --from-job bench-job -q > /dev/null

TOKEN=$(local_arm_token)
WS=$(local_ws_path)
JOB_URL="$AMLOPS_ARM_ENDPOINT$WS/jobs/bench-job?api-version=2025-12-01"
MODELS_URL="$AMLOPS_ARM_ENDPOINT$WS/models/bench-model/versions?api-version=2025-12-01"

median_ms() {  # median_ms CMD...: runs it N times, prints the median in ms
  local times=()
  for _ in $(seq 1 "$N"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" > /dev/null 2>&1
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | $PY -c 'import sys; v=[int(x) for x in sys.stdin]; print(f"{v[len(v)//2]/1000:.1f}")'
}

echo "runs per command: $N (median wall time, ms; amlops includes its token request)"
show=$(median_ms "$BIN/amlops-job" show bench-job -q)
show_curl=$(median_ms curl -sS -H "Authorization: Bearer $TOKEN" "$JOB_URL")
list=$(median_ms "$BIN/amlops-model" list --name bench-model -q)
list_curl=$(median_ms curl -sS -H "Authorization: Bearer $TOKEN" "$MODELS_URL")
printf '%-28s %8s ms\n' "amlops-job show" "$show" "curl GET job" "$show_curl" "amlops-model list" "$list" "curl GET model versions" "$list_curl"
$PY -c "print(f'ratio show/curl: {$show/$show_curl:.2f}x   list/curl: {$list/$list_curl:.2f}x')"
if command -v az > /dev/null; then
  az_show=$(median_ms az rest --skip-authorization-header --method get --url "$JOB_URL")
  printf '%-28s %8s ms\n' "az rest GET job" "$az_show"
  $PY -c "print(f'az rest / amlops-job show: {$az_show/$show:.1f}x')"
else
  echo "az: not installed"
fi
