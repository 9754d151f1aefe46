#!/bin/bash
# Benchmark: amlops-monitor drift --metrics all vs pandas read_csv + scipy (ks_2samp,
# wasserstein_distance, same bins for JS/PSI) vs a plain parse of the same two files.
# Usage: bench/monitor/run.sh [BUILD_DIR] [ROWS]   (defaults: build, 1000000)
# Needs /usr/bin/python3 with numpy, scipy, pandas; /usr/bin/time; g++.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../../build}
ROWS=${2:-1000000}
BIN=$BUILD/bin/amlops-monitor
DATA=${BENCH_DATA:-/tmp/amlops-bench-monitor-$ROWS}
[ -x "$BIN" ] || { echo "build amlops-monitor first ($BIN)"; exit 2; }
mkdir -p "$DATA"
if [ ! -s "$DATA/current.csv" ]; then
  echo "generating $ROWS rows x 10 numeric + 2 categorical (reference, current) in $DATA ..."
  /usr/bin/python3 "$HERE/gen.py" "$DATA" "$ROWS"
fi
g++ -O2 -std=c++17 -o "$DATA/plain_parse" "$HERE/plain_parse.cpp"
ls -l "$DATA"/*.csv | awk '{printf "  %s %.1f MB\n", $NF, $5/1e6}'
cat "$DATA/reference.csv" "$DATA/current.csv" > /dev/null  # warm the page cache

measure() {  # measure NAME command... -> prints and records "NAME seconds peak_kB"
  local name=$1; shift
  local best=999999 rss=0 cpu=0
  for _ in 1 2 3; do
    /usr/bin/time -v -o "$DATA/time.txt" "$@" > "$DATA/$name.out" 2> "$DATA/$name.err" || { cat "$DATA/$name.err"; exit 1; }
    local t; t=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$DATA/time.txt")
    local m; m=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DATA/time.txt")
    local c; c=$(awk -F': ' '/User time|System time/ {s+=$2} END {print s}' "$DATA/time.txt")
    if awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$m; cpu=$c; fi
  done
  printf "%-18s wall %7.3f s   cpu (user+sys) %7.3f s   peak RSS %7.1f MB\n" "$name" "$best" "$cpu" "$(awk "BEGIN{print $rss/1024}")"
  eval "T_$name=$best"
  eval "C_$name=$cpu"
}
echo "best of 3 runs (by wall time), $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
measure amlops_monitor "$BIN" drift --reference "$DATA/reference.csv" --current "$DATA/current.csv" --metrics all --output json
measure pandas_scipy /usr/bin/python3 "$HERE/pandas_scipy.py" "$DATA/reference.csv" "$DATA/current.csv"
measure plain_parse_cpp "$DATA/plain_parse" "$DATA/reference.csv" "$DATA/current.csv"
measure wc_l wc -l "$DATA/reference.csv" "$DATA/current.csv"
echo
awk "BEGIN{printf \"pandas+scipy / amlops-monitor:     wall %6.1fx   cpu %6.1fx\n\", $T_pandas_scipy/$T_amlops_monitor, $C_pandas_scipy/$C_amlops_monitor}"
awk "BEGIN{printf \"amlops-monitor / plain C++ parse: wall %6.2fx   cpu %6.2fx\n\", $T_amlops_monitor/$T_plain_parse_cpp, $C_amlops_monitor/$C_plain_parse_cpp}"
awk "BEGIN{printf \"amlops-monitor / wc -l:           wall %6.2fx\n\", $T_amlops_monitor/$T_wc_l}"
# The two tools must agree: compare the KS p-value and W1 of x0 as a smoke check.
/usr/bin/python3 - "$DATA/amlops_monitor.out" "$DATA/pandas_scipy.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ref = {l.split()[0]: [float(x) for x in l.split()[1:]] for l in open(sys.argv[2])}
worst = 0.0
for f in d['features']:
    m = f['metrics']; r = ref[f['name']]
    keys = ['ks_statistic', 'ks_pvalue', 'wasserstein', 'wasserstein_norm', 'jensen_shannon', 'psi'] if f['type'] == 'numeric' \
        else ['jensen_shannon', 'psi', 'chi2_statistic', 'chi2_pvalue']
    for k, want in zip(keys, r):
        got = m[k]
        rel = abs(got - want) / max(abs(want), 1e-300)
        if abs(got - want) > 1e-12 and rel > worst: worst = rel
print(f"agreement with scipy over every metric: worst relative difference {worst:.2g}")
PY
