#!/bin/bash
# Benchmark: production data and the cluster path of amlops-monitor, against a real amlops-local.
#  1. drift on ROWS collected records (24 hourly folders x 2 instances, one row per record) read
#     from amlops-local's blob store (--endpoint, parallel ranged GETs, nothing on disk) versus the
#     same rows from a local CSV: wall time, CPU time, peak RSS and the ratio.
#  2. drift on CLUSTER_ROWS rows locally versus --on-cluster with 4 partitions (steps are local
#     processes on amlops-local): both wall times, and the results compared (exact metrics within
#     1e-9 relative, KS within the reported bound).
# Usage: bench/monitor/production.sh [BUILD_DIR] [ROWS] [CLUSTER_ROWS]   (defaults: build 1000000 4000000)
# Env: RUNS (default 3). Needs /usr/bin/python3 (standard library) and /usr/bin/time.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$HERE/../../build}" && pwd)
ROWS=${2:-1000000}
CLUSTER_ROWS=${3:-4000000}
BIN=$BUILD/bin/amlops-monitor
LOCAL=$BUILD/bin/amlops-local
[ -x "$BIN" ] && [ -x "$LOCAL" ] || { echo "build amlops-monitor and amlops-local first"; exit 2; }
DATA=${BENCH_DATA:-/tmp/amlops-bench-production-$ROWS}
BIG=${BENCH_DATA_BIG:-/tmp/amlops-bench-production-$CLUSTER_ROWS}
[ -s "$DATA/current.csv" ] || { echo "generating $ROWS rows and collector records in $DATA ..."; /usr/bin/python3 "$HERE/production.py" gen "$DATA" "$ROWS"; }
[ -s "$BIG/current.csv" ] || { echo "generating $CLUSTER_ROWS rows in $BIG ..."; /usr/bin/python3 "$HERE/production.py" gen "$BIG" "$CLUSTER_ROWS"; rm -rf "$BIG/collected"; }
SRV=$(mktemp -d /tmp/amlops-bench-local-XXXX)
trap '"$LOCAL" stop --data "$SRV/data" >/dev/null 2>&1 || true; rm -rf "$SRV"' EXIT
"$LOCAL" serve --daemon --print-env --data "$SRV/data" > "$SRV/env" 2>/dev/null
/usr/bin/python3 "$HERE/production.py" upload "$DATA" "$SRV/env"
set -a; . "$SRV/env"; set +a
du -sh "$DATA/current.csv" "$DATA/collected" | sed 's/^/  /'

measure() {  # measure NAME command...: best wall and cpu of RUNS runs, peak RSS of the fastest
  local name=$1; shift; local bt=999999 bc=999999 br=0
  for _ in $(seq "${RUNS:-3}"); do
    /usr/bin/time -v -o "$SRV/time" "$@" > "$SRV/$name.json" 2> "$SRV/$name.err" || { cat "$SRV/$name.err"; exit 1; }
    local t c r
    t=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$SRV/time")
    c=$(awk -F': ' '/User time|System time/ {s+=$2} END {print s}' "$SRV/time")
    r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$SRV/time")
    if awk "BEGIN{exit !($t < $bt)}"; then bt=$t; br=$r; fi
    if awk "BEGIN{exit !($c < $bc)}"; then bc=$c; fi
  done
  printf "%-22s wall %8.3f s   cpu %8.3f s   peak RSS %7.1f MB\n" "$name" "$bt" "$bc" "$(awk "BEGIN{print $br/1024}")"
  eval "T_$name=$bt; C_$name=$bc"
}

echo "== 1. $ROWS collected records from amlops-local's blob store vs the same rows from a local CSV (best of ${RUNS:-3}; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
measure local_csv "$BIN" drift --reference "$DATA/reference.csv" --current "$DATA/current.csv" --output json
measure collected_blobs "$BIN" drift --reference "$DATA/reference.csv" --endpoint bench --deployment blue \
  --from 2026-11-20T00:00:00Z --to 2026-11-21T00:00:00Z --output json
rows=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['current']['rows'])" "$SRV/collected_blobs.json")
echo "  rows read from the blob store: $rows"
awk "BEGIN{printf \"  collected / CSV: wall %.2fx, cpu %.2fx\n\", $T_collected_blobs/$T_local_csv, $C_collected_blobs/$C_local_csv}"

echo "== 2. $CLUSTER_ROWS rows: one machine vs --on-cluster with 4 partitions (amlops-local runs the steps as local processes)"
# visits holds whole numbers: declared categorical so that its counts are read as categories.
for mv in 1000000 $CLUSTER_ROWS; do
  echo "-- --max-values $mv"
  RUNS=1 measure one_machine "$BIN" drift --reference "$BIG/reference.csv" --current "$BIG/current.csv" --metrics all \
    --type visits=categorical --max-values "$mv" --output json
  RUNS=1 measure cluster_4 "$BIN" drift --reference "$BIG/reference.csv" --current "$BIG/current.csv" --metrics all \
    --type visits=categorical --max-values "$mv" --on-cluster cpu-cluster --partitions 4 --output json
  /usr/bin/python3 "$HERE/production.py" compare "$SRV/one_machine.json" "$SRV/cluster_4.json" | sed 's/^/  /'
done
