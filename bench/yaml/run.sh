#!/usr/bin/env bash
# Benchmark (not a test): how long amlops-job takes to read, check and convert large or hostile
# job YAML. The submit stops at the credential lookup, which comes after the conversion, so the
# time is the YAML work plus process start. Prints the median wall time of N runs of each.
# Usage: bench/yaml/run.sh BIN_DIR [N]   (BIN_DIR holds amlops-job)
set -eu -o pipefail
BIN=$(cd "$1" && pwd)
N=${2:-5}
WORK=$(mktemp -d /tmp/amlops-bench-yaml.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
python3 - "$WORK" <<'PY'
import sys
w = sys.argv[1]
head = "command: echo hi\nenvironment: azureml:e:1\ntags:\n"
for n in (40000, 160000):
    with open(f"{w}/tags{n}.yml", "w") as f:
        f.write(head + "".join(f"  k{i}: v{i}\n" for i in range(n)))
with open(f"{w}/bomb.yml", "w") as f:
    f.write(head.replace("tags:\n", "") + "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
    for i in range(1, 10):
        f.write(f"x{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]\n")
PY
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for f in tags40000 tags160000 bomb; do
  for _ in $(seq "$N"); do
    s=$(date +%s.%N)
    env -i PATH=/usr/bin:/bin HOME="$WORK" "$BIN/amlops-job" submit -f "$WORK/$f.yml" \
      --workspace azureml://subscriptions/s/resourcegroups/r/workspaces/w > /dev/null 2> "$WORK/err" || true
    e=$(date +%s.%N)
    echo "$e - $s" | bc
  done | median | xargs printf "%-12s %6.3f s  " "$f"
  head -c 110 "$WORK/err"; echo
done
