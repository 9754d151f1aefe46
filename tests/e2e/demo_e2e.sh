#!/usr/bin/env bash
# End to end: scripts/demo.sh (the loop of `make demo`) against amlops-local with quicker settings
# (no soak, 5 health-check requests per step), then every step's outcome from its JSON output:
# setup applied and idempotent, both training jobs Completed, versions 1 and 2 registered with
# their metrics, churn:1 promoted with no champion (its reference data copied to prod), blue at 100 %, no drift in the clean window and
# drift in the drifted one, retrain: true, the gate's decision on churn:2, the registry holding the
# promoted version as champion (the old one archived), green at 100 % after the canary steps,
# the PR comment and the HTML reports written, amlops-local stopped.
# Usage: demo_e2e.sh BIN_DIR
set -u -o pipefail
BIN=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
for b in amlops amlops-local amlops-job amlops-model amlops-promote amlops-deploy amlops-monitor amlops-setup amlops-lint amlops-report; do
  [ -x "$BIN/$b" ] || { echo "SKIP: $BIN/$b not built"; exit 77; }
done
"$PY" -c 'import sklearn, pandas, joblib' 2>/dev/null || { echo "SKIP: python3 without scikit-learn/pandas"; exit 77; }
WORK=$(mktemp -d /tmp/amlops-e2e.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
OUT=$WORK/out
. "$(dirname "$0")/../support/checks.sh"
j() { local f=$OUT/json/$1.json; shift; "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$f" "$@" 2>&1; }

AMLOPS_DEMO_OUT=$OUT AMLOPS_DEMO_DIR=$WORK/demo AMLOPS_DEMO_SOAK=0s AMLOPS_DEMO_COUNT=5 \
  "$ROOT/scripts/demo.sh" "$BIN" > "$WORK/demo.log" 2>&1
rc=$?
check "$rc" 0 "scripts/demo.sh exits 0"
[ "$rc" = 0 ] || tail -40 "$WORK/demo.log"

# setup: the starter's assets created in dev, the second apply changes nothing
check "$(j setup-dev 'd["applied"] and sum(d["summary"][k] for k in ("create", "update")) > 0')" True "setup apply created the starter's assets"
check "$(j setup-dev 'sorted({c["kind"] for c in d["changes"]})')" "['compute', 'data', 'environment', 'schedule']" "setup covers compute, data, environments, schedule"
check "$(j setup-prod 'd["applied"] and d["summary"]["create"] > 0')" True "setup apply created the starter's assets in prod too"
check "$(j setup-again 'd["summary"]["create"] + d["summary"]["update"] + d["summary"]["delete"]')" 0 "setup applied again: no changes"
# train, register
for n in 1 2; do
  check "$(j job$n 'd.get("status") or d["properties"]["status"]')" Completed "training job $n Completed"
  check "$(j register$n 'd["version"]')" $n "churn:$n registered"
done
check "$(j register1 'sorted(k for k in d.get("tags", d.get("properties", {}).get("tags", {})) if k.startswith("metric."))')" \
  "['metric.accuracy', 'metric.f1', 'metric.log_loss', 'metric.roc_auc']" "churn:1 carries the job's metrics"
# first promotion: no champion
check "$(j promote1 'd["decision"], d["champion"] or None, d["target"]')" "('promote', None, 'registry churn-registry')" "churn:1 promoted with no champion, into the registry"
check "$(j promote1 '[(x["name"], x["source_version"], x["status"]) for x in d["data"]]')" "[('churn-reference', '1', 'copied')]" \
  "churn:1's reference (churn-reference:1, its pipeline's) copied into prod's workspace with it"
grep -q "reference: azureml:churn-reference@latest in prod" "$WORK/demo.log" && pass "the demo says the monitor reads prod's own reference" ||
  fail "demo log: $(grep -m1 'reference:' "$WORK/demo.log")"
# blue
check "$(j rollout-blue 'd["state"], d["traffic"]')" "('done', {'blue': 100})" "blue rolled out to 100 %"
# monitor
check "$(j drift-clean 'd["outcome"], d["drifted"]')" "('no_drift', False)" "no drift in the clean window"
check "$(j drift-clean 'd["dataset"]["features"] > 0 and d["features"][0]["count"]')" 1000 "the clean window holds the 1,000 collected rows"
check "$(j drift-drifted 'd["outcome"], d["drifted"]')" "('drift', True)" "drift in the drifted window"
check "$(j drift-drifted 'd["reference"]["source"], d["reference"]["rows"]')" "('azureml:churn-reference@latest', 400)" \
  "the reference is the data asset the pipeline registered, copied to prod (the train step's 400 scored test rows)"
check "$(j drift-drifted 'sorted(f["name"] for f in d["features"] if f["drifted"])')" "['contract', 'monthly_charges']" "the drifted features are the shifted ones"
check "$(j decide 'd["retrain"]')" True "decide: retrain: true"
# the gate on the retrained model, and the registry
decision=$(j promote2 'd["decision"]')
check "$(j promote2 'd["champion"]')" "churn:1" "churn:2 is gated against the champion churn:1"
case $decision in
  promote)
    check "$(j registry 'sorted((v["name"], v["properties"]["tags"].get("stage")) for v in d["value"])')" \
      "[('1', 'archived'), ('2', 'production')]" "the registry holds churn:2 as champion, churn:1 archived"
    want=2 ;;
  block)
    check "$(j promote2 'bool(d["reasons"])')" True "the block says why"
    check "$(j registry 'sorted((v["name"], v["properties"]["tags"].get("stage")) for v in d["value"])')" \
      "[('1', 'production')]" "a blocked candidate never reaches the registry"
    want=1 ;;
  *) fail "gate decision '$decision'"; want=0 ;;
esac
# green: canary steps, then 100 %
check "$(j rollout-green 'd["state"], d["traffic"]')" "('done', {'green': 100})" "green rolled out to 100 %"
check "$(j rollout-green '[s["percent"] for s in d["steps"]]')" "[10, 50, 100]" "green went through 10, 50, 100 %"
check "$(j rollout-green 'all(s["ok"] for s in d["steps"])')" True "every canary step healthy"
check "$(j status 'd["traffic"]')" "{'green': 100}" "the endpoint's traffic: green 100 %"
grep -q "canary rollout of green (churn:$want from the registry)" "$WORK/demo.log" && pass "green serves the champion churn:$want" ||
  fail "green does not serve churn:$want"
# files
for f in pr-comment.md drift-clean.html drift-drifted.html summary.md; do
  [ -s "$OUT/$f" ] && pass "$f written" || fail "$f missing"
done
for s in Lint "Training job" "Data drift" "Retrain decision"; do
  grep -q "### .*$s" "$OUT/pr-comment.md" && pass "PR comment has '$s'" || fail "PR comment lacks '$s'"
done
grep -q "^- total: [0-9]*s" "$OUT/summary.md" && pass "summary has the total time" || fail "summary without the total time"
grep -q "done in [0-9]* s" "$WORK/demo.log" && pass "the total time is printed" || fail "no total time printed"
# amlops-local stopped
URL=$(sed -n 's/^ *-> amlops-local: //p' "$WORK/demo.log" | head -1)
if [ -z "$URL" ]; then fail "the demo does not print amlops-local's address"
elif curl -s -o /dev/null --max-time 5 "$URL/_amlops/health"; then fail "amlops-local still answers at $URL"
else pass "amlops-local stopped"; fi
grep -q "== .*monitor the endpoint" "$WORK/demo.log" && pass "the story names each step" || fail "no step headers"

echo "$FAILS failure(s)"
[ "$FAILS" = 0 ] || { echo "--- demo log (tail)"; tail -60 "$WORK/demo.log"; }
[ "$FAILS" = 0 ]
