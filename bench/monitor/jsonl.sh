#!/bin/bash
# Benchmark: reading the same rows as JSON Lines and as CSV (amlops-monitor profile: parse +
# profile), JSON Lines with all cores and with one thread. Prints wall and CPU time, MB/s,
# rows/s and the ratios.
# Usage: bench/monitor/jsonl.sh [BUILD_DIR] [ROWS]   (defaults: build, 1000000)
# Env: RUNS (default 3) runs per case (the minimum is kept). Needs /usr/bin/python3 with numpy
# and /usr/bin/time. On a shared machine wall times follow the load: compare the ratios.
set -euo pipefail
# shellcheck source=bench/monitor/data.sh
source "$(dirname "$0")/data.sh"
if [ ! -s "$DATA/current.jsonl" ]; then
  /usr/bin/python3 - "$DATA/current.csv" "$DATA/current.jsonl" <<'PY'
import csv, json, sys
with open(sys.argv[1]) as f, open(sys.argv[2], 'w') as out:
    r = csv.reader(f)
    names = next(r)
    for row in r:
        rec = {}
        for k, v in zip(names, row):
            try:
                rec[k] = float(v)
            except ValueError:
                rec[k] = v if v != '' else None
        out.write(json.dumps(rec) + '\n')
PY
fi
cat "$DATA/current.csv" "$DATA/current.jsonl" > /dev/null  # warm the page cache
best_t=(); best_c=()
run() {  # run INDEX args...: keeps the minimum wall and cpu time of the case
  local i=$1; shift
  /usr/bin/time -f '%e %U %S' -o "$DATA/t.txt" "$BIN" profile "$@" --out "$DATA/p.profile.json" > /dev/null 2>&1
  read -r t u s < "$DATA/t.txt"
  local c; c=$(awk "BEGIN{print $u + $s}")
  if [ -z "${best_t[$i]:-}" ] || awk "BEGIN{exit !($t < ${best_t[$i]})}"; then best_t[$i]=$t; fi
  if [ -z "${best_c[$i]:-}" ] || awk "BEGIN{exit !($c < ${best_c[$i]})}"; then best_c[$i]=$c; fi
}
for _ in $(seq "${RUNS:-3}"); do
  run 0 "$DATA/current.csv"
  run 1 "$DATA/current.jsonl"
  run 2 "$DATA/current.jsonl" --threads 1
done
csv_mb=$(stat -c %s "$DATA/current.csv"); jsonl_mb=$(stat -c %s "$DATA/current.jsonl")
echo "$ROWS rows, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); best of ${RUNS:-3}"
line() {  # line LABEL INDEX BYTES
  awk -v l="$1" -v t="${best_t[$2]}" -v c="${best_c[$2]}" -v b="$3" -v n="$ROWS" \
    'BEGIN{printf "%-22s wall %7.3f s  cpu %7.3f s  %7.1f MB/s  %6.2f M rows/s\n", l, t, c, b/1e6/t, n/1e6/t}'
}
line "CSV" 0 "$csv_mb"
line "JSON Lines" 1 "$jsonl_mb"
line "JSON Lines, 1 thread" 2 "$jsonl_mb"
awk -v a="${best_t[1]}" -v b="${best_t[0]}" -v s="${best_t[2]}" \
  'BEGIN{printf "JSON Lines / CSV wall: %.2fx   JSON Lines 1 thread / all threads: %.2fx\n", a/b, s/a}'
