#!/usr/bin/env bash
# Benchmark (not a test): amlops-setup on the starter against a fresh amlops-local: plan, apply,
# apply again, plan again. Prints each run's wall time and the workspace requests it made, by
# method, from amlops-local's request log (token requests left out): the second apply must be
# "No changes" with GETs only.
# Usage: bench/setup/run.sh BIN_DIR   (BIN_DIR holds amlops-setup and amlops-local)
set -eu -o pipefail
BIN=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/amlops-bench-setup.XXXXXX)
trap '"$BIN/amlops-local" stop --data "$WORK/srv" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

. "$(dirname "$0")/../../tests/support/local_arm.sh"
local_serve "$BIN" "$WORK/srv"
cp -r "$SRC/templates/starter" "$WORK/starter"

seen=0
printf '%-12s %9s  %s\n' run wall_ms "requests (method: count)"
for run in plan apply apply plan; do
  t0=$(date +%s%N)
  "$BIN/amlops-setup" "$run" -f "$WORK/starter" > "$WORK/out.txt" 2>&1
  t1=$(date +%s%N)
  curl -sS "$AMLOPS_ARM_ENDPOINT/_amlops/requests?since=$seen" > "$WORK/log.json"
  read -r seen counts < <($PY - "$WORK/log.json" "$seen" <<'PY'
import collections, json, sys
log, since = json.load(open(sys.argv[1])), int(sys.argv[2])
reqs = [r for r in log["requests"] if "/oauth2/" not in r["path"]]
c = collections.Counter(r["method"] for r in reqs)
print(since + len(log["requests"]), ", ".join(f"{m}: {n}" for m, n in sorted(c.items())))
PY
)
  printf '%-12s %9d  %s  (%s)\n' "$run" $(((t1 - t0) / 1000000)) "$counts" "$(tail -1 "$WORK/out.txt")"
done
