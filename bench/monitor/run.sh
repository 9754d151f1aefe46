#!/bin/bash
# Benchmark: amlops-monitor drift --metrics all vs pandas read_csv + scipy (ks_2samp,
# wasserstein_distance, same bins for JS/PSI) vs a plain C++ parse (mmap + fast_float) of the
# same two files, in the same run.
# Usage: bench/monitor/run.sh [BUILD_DIR] [ROWS]   (defaults: build, 1000000; 10000000 for the
# 10M-row case: 1.3 GB per file, pandas needs several GB of memory and minutes)
# Env: RUNS (default 3) runs per tool; SKIP_PANDAS=1 leaves out the Python baseline.
# Needs /usr/bin/python3 with numpy, scipy, pandas; /usr/bin/time; g++ and fast_float's header.
# On a shared machine wall times follow the load; CPU time (user+sys) and the ratios of one run
# are the figures to compare.
set -euo pipefail
# shellcheck source=bench/monitor/data.sh
source "$(dirname "$0")/data.sh"
g++ -O2 -std=c++17 -o "$DATA/plain_parse" "$HERE/plain_parse.cpp"
ls -l "$DATA"/*.csv | awk '{printf "  %s %.1f MB\n", $NF, $5/1e6}'
cat "$DATA/reference.csv" "$DATA/current.csv" > /dev/null  # warm the page cache

# One run of a tool; keeps its minimum wall and CPU time (user+sys) and the peak RSS of its
# fastest run in T_NAME, C_NAME, R_NAME. The tools take turns run by run, so that each ratio
# compares runs made under the same load.
run_one() {  # run_one NAME command...
  local name=$1; shift
  /usr/bin/time -v -o "$DATA/time.txt" "$@" > "$DATA/$name.out" 2> "$DATA/$name.err" || { cat "$DATA/$name.err"; exit 1; }
  local t; t=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$DATA/time.txt")
  local m; m=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DATA/time.txt")
  local c; c=$(awk -F': ' '/User time|System time/ {s+=$2} END {print s}' "$DATA/time.txt")
  local bt bc; eval "bt=\${T_$name:-999999}; bc=\${C_$name:-999999}"
  if awk "BEGIN{exit !($t < $bt)}"; then eval "T_$name=$t; R_$name=$m"; fi
  if awk "BEGIN{exit !($c < $bc)}"; then eval "C_$name=$c"; fi
}
report() {  # report NAME
  local t c r; eval "t=\$T_$1; c=\$C_$1; r=\$R_$1"
  printf "%-18s wall %7.3f s   cpu (user+sys) %7.3f s   peak RSS %7.1f MB\n" "$1" "$t" "$c" "$(awk "BEGIN{print $r/1024}")"
}
echo "best of ${RUNS:-3} runs (wall and cpu each at their minimum), $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
TOOLS="amlops_monitor plain_parse_cpp wc_l"
[ "${SKIP_PANDAS:-0}" = 1 ] || TOOLS="amlops_monitor pandas_scipy plain_parse_cpp wc_l"
for _ in $(seq "${RUNS:-3}"); do
  run_one amlops_monitor "$BIN" drift --reference "$DATA/reference.csv" --current "$DATA/current.csv" --metrics all --output json
  [ "${SKIP_PANDAS:-0}" = 1 ] || run_one pandas_scipy /usr/bin/python3 "$HERE/pandas_scipy.py" "$DATA/reference.csv" "$DATA/current.csv"
  run_one plain_parse_cpp "$DATA/plain_parse" "$DATA/reference.csv" "$DATA/current.csv"
  run_one wc_l wc -l "$DATA/reference.csv" "$DATA/current.csv"
done
for t in $TOOLS; do report "$t"; done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
if [ "${SKIP_PANDAS:-0}" != 1 ]; then
  awk "BEGIN{printf \"pandas+scipy / amlops-monitor:     wall %6.1fx   cpu %6.1fx\n\", $T_pandas_scipy/$T_amlops_monitor, $C_pandas_scipy/$C_amlops_monitor}"
fi
awk "BEGIN{printf \"amlops-monitor / plain C++ parse: wall %6.2fx   cpu %6.2fx\n\", $T_amlops_monitor/$T_plain_parse_cpp, $C_amlops_monitor/$C_plain_parse_cpp}"
awk "BEGIN{printf \"amlops-monitor / wc -l:           wall %6.2fx\n\", $T_amlops_monitor/$T_wc_l}"
[ "${SKIP_PANDAS:-0}" = 1 ] && exit 0
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
