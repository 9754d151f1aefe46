#!/usr/bin/env bash
# amlops-promote against amlops-local serving two workspaces (dev, prod) and a registry (shared):
# (a) a better candidate is published to the registry (same files), tagged champion, the old
# champion archived; (b) worse on a maximize metric, (c) worse/better on a minimize metric,
# (d) a missing metric or tag, (e) no champion with on_no_champion: block; (g) --dry-run changes
# nothing; (h) promoting twice is one promotion; (i) the decision table in the GitHub step summary
# and as ##vso[task.uploadsummary]; (f) with 30 % injected 429/503/resets: a correct decision or
# exit 4, never a promotion of a blocked candidate; (j) promotion.data: the reference data the
# candidate's training job registered in dev travels to prod's workspace with the model (a dry
# run copies nothing, a missing asset stops before the model is published, twice is once).
# Usage: integration.sh BIN_DIR (holding amlops-promote, amlops-model, amlops-job, amlops-local)
set -u -o pipefail
BIN=$(cd "$1" && pwd)
PY=/usr/bin/python3
for b in amlops-promote amlops-model amlops-job amlops-local; do
  [ -x "$BIN/$b" ] || { echo "SKIP: $BIN/$b not built"; exit 77; }
done
PROMOTE=$BIN/amlops-promote
MODEL=$BIN/amlops-model
JOB=$BIN/amlops-job
LOCAL=$BIN/amlops-local
WORK=$(mktemp -d /tmp/amlops-promote.XXXXXX)
DATA=$WORK/srv
cleanup() {
  "$LOCAL" stop --data "$DATA" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
. "$(dirname "$0")/../support/checks.sh"
unset GITHUB_ACTIONS TF_BUILD GITHUB_OUTPUT GITHUB_STEP_SUMMARY

start_server() {  # start_server [extra args...]
  "$LOCAL" serve --port 0 --data "$DATA" --daemon --print-env --workspace-name dev --workspace-name prod \
    --registry-name shared "$@" > "$DATA.env" 2> "$DATA.serve.log" || { cat "$DATA.serve.log"; exit 1; }
  # shellcheck disable=SC1090
  . "$DATA.env"
  export AMLOPS_ARM_ENDPOINT AZURE_AUTHORITY_HOST AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AMLOPS_WORKSPACE
}
# Authenticated GET with curl for checks made outside the tool; injected faults (429, 503, resets)
# are retried here, so ARM_CODE is the real answer's status and stdout its body.
token() {
  local i tok
  for i in $(seq 1 50); do
    tok=$(curl -sS --fail -X POST "$AZURE_AUTHORITY_HOST/$AZURE_TENANT_ID/oauth2/v2.0/token" \
      -d "client_id=$AZURE_CLIENT_ID&client_secret=$AZURE_CLIENT_SECRET&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default" 2>/dev/null |
      $PY -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' 2>/dev/null) && [ -n "$tok" ] && { echo "$tok"; return; }
  done
  echo "no token" >&2
}
arm_get() {
  local tok i code
  tok=$(token)
  for i in $(seq 1 50); do
    code=$(curl -sS -o "$WORK/arm.body" -w '%{http_code}' -H "Authorization: Bearer $tok" "$AMLOPS_ARM_ENDPOINT$1" 2>/dev/null)
    case $code in 429|500|502|503|504|000) continue ;; esac
    break
  done
  echo "$code" > "$WORK/arm.code"
  cat "$WORK/arm.body"
}
arm_code() { arm_get "$1" > /dev/null; cat "$WORK/arm.code"; }

mkdir -p "$DATA"
start_server
SUB=$($PY -c 'import sys; print(sys.argv[1].split("/")[3])' "$AMLOPS_WORKSPACE")
RG=$($PY -c 'import sys; print(sys.argv[1].split("/")[5])' "$AMLOPS_WORKSPACE")
DEV=azureml://subscriptions/$SUB/resourcegroups/$RG/workspaces/dev
PROD=azureml://subscriptions/$SUB/resourcegroups/$RG/workspaces/prod
REG=/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.MachineLearningServices/registries/shared
API=api-version=2025-12-01
cd "$WORK" || exit 1

write_config() {  # write_config FILE PRIMARY_METRIC GOAL ON_NO_CHAMPION
  cat > "$1" <<YML
promotion:
  model: churn
  champion: {tag: stage=production}
  primary: {metric: $2, goal: $3, min_improvement: 0.005}
  thresholds:
    - {metric: accuracy, min: 0.85}
    - {metric: log_loss, max: 0.45}
  require_tags: [amlops.git_commit]
  on_no_champion: $4
environments:
  dev:  {workspace: $DEV}
  prod: {workspace: $PROD, registry: shared}
  staging: {workspace: $PROD}
YML
}
write_config amlops.yml f1 maximize promote
write_config minimize.yml log_loss minimize promote
write_config strict.yml f1 maximize block

register() {  # register VERSION TAGS...: a model folder of its own, registered in dev with those tags
  local v=$1; shift
  mkdir -p "$WORK/m$v"
  echo "weights of model $v $RANDOM" > "$WORK/m$v/model.pkl"
  echo "{\"version\": $v}" > "$WORK/m$v/meta.json"
  local args=()
  for t in "$@"; do args+=(--tag "$t"); done
  "$MODEL" register --name churn --path "$WORK/m$v" --version "$v" --workspace "$DEV" "${args[@]}" --output json \
    > "$WORK/reg$v.json" 2> "$WORK/reg$v.err" || { cat "$WORK/reg$v.err"; fail "register churn:$v"; }
}
G=amlops.git_commit=0123abcd
register 1 metric.f1=0.80 metric.accuracy=0.86 metric.log_loss=0.40 $G
register 2 metric.f1=0.85 metric.accuracy=0.88 metric.log_loss=0.35 $G
register 3 metric.f1=0.83 metric.accuracy=0.90 metric.log_loss=0.30 $G   # worse f1
register 4 metric.f1=0.90 metric.accuracy=0.90 metric.log_loss=0.40 $G   # log_loss up
register 5 metric.f1=0.90 metric.accuracy=0.90 metric.log_loss=0.30 $G   # better everywhere
register 6 metric.f1=0.90 metric.log_loss=0.30 $G                        # no accuracy
register 7 metric.f1=0.90 metric.accuracy=0.90 metric.log_loss=0.30      # no git commit tag
register 8 metric.f1=nan metric.accuracy=0.90 metric.log_loss=0.30 $G    # NaN

run() {  # run NAME ARGS...: stdout to NAME.json, stderr to NAME.err; prints the exit code
  local name=$1; shift
  "$PROMOTE" "$@" --output json > "$WORK/$name.json" 2> "$WORK/$name.err"
  echo $?
}
reg_state() { arm_get "$REG/models/churn/versions?$API" | $PY -c '
import json,sys
for v in sorted(json.load(sys.stdin)["value"], key=lambda v: v["name"]):
    t = v["properties"]["tags"]
    print(v["name"], t.get("stage", "-"), t.get("amlops.promoted_from", "-"), t.get("amlops.promoted_at", "-"))'; }
stage_of_m() { arm_get "$REG/models/$1/versions/$2?$API" | $PY -c 'import json,sys; print(json.load(sys.stdin)["properties"]["tags"].get("stage","-"))'; }
stage_of() { stage_of_m churn "$1"; }

# ---- no champion yet, on_no_champion: promote; then (e) with block -----------------------------
check "$(run e-block evaluate --candidate churn:1 --config strict.yml --env prod)" 1 "(e) no champion + on_no_champion: block -> exit 1"
grep -q "on_no_champion: block" "$WORK/e-block.json" && pass "(e) reason names on_no_champion" || fail "(e) reason: $(cat "$WORK/e-block.json")"
check "$(run p1 promote --candidate churn:1 --to prod)" 0 "first promotion (no champion, on_no_champion: promote)"
check "$(stage_of 1)" production "churn:1 is the champion in the registry"

# ---- (g) dry run changes nothing ----------------------------------------------------------------
reg_state > "$WORK/before.txt"
arm_get "$(echo "$DEV" | sed 's|azureml://subscriptions|/subscriptions|;s|resourcegroups|resourceGroups|;s|/workspaces/|/providers/Microsoft.MachineLearningServices/workspaces/|')/models/churn/versions?$API" > "$WORK/dev-before.json"
check "$(run dry promote --candidate churn:2 --to prod --dry-run)" 0 "(g) dry run of a passing candidate exits 0"
reg_state > "$WORK/after.txt"
cmp -s "$WORK/before.txt" "$WORK/after.txt" && pass "(g) registry unchanged by --dry-run" || fail "(g) registry changed: $(diff "$WORK/before.txt" "$WORK/after.txt")"
check "$(jq_py "$WORK/dry.json" 'len(d["plan"]) >= 3 and d["changed"] is False')" True "(g) dry run prints the plan (publish, tag, archive)"

# ---- (a) a better candidate is promoted ---------------------------------------------------------
t0=$(date +%s%N)
check "$(run p2 promote --candidate churn:2 --to prod)" 0 "(a) better candidate churn:2 promoted"
echo "time: promote churn:2 (evaluate, publish LRO, 2 tag PUTs) $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "$(jq_py "$WORK/p2.json" 'd["model_id"]')" "azureml://registries/shared/models/churn/versions/2" "(a) model id in the target"
check "$(jq_py "$WORK/p2.json" 'd["previous_champion"]')" "churn:1" "(a) previous champion output"
check "$(stage_of 2)" production "(a) churn:2 is stage=production in the registry"
check "$(stage_of 1)" archived "(a) old champion churn:1 moved to archived"
arm_get "$REG/models/churn/versions/2?$API" > "$WORK/reg2.json"
check "$(jq_py "$WORK/reg2.json" 'd["properties"]["tags"]["amlops.promoted_from"]')" "dev/churn:2" "(a) amlops.promoted_from"
jq_py "$WORK/reg2.json" 'd["properties"]["tags"]["amlops.decision"]' | grep -q "^promote" && pass "(a) amlops.decision tag" || fail "(a) amlops.decision"
# Same files, same hash: the registry's copy in the server's storage vs the folder registered.
regdir=$(find "$DATA/blobs" -type d -path "*/models/churn/2" | head -1)
if [ -n "$regdir" ]; then
  a=$(cd "$WORK/m2" && find . -type f -exec sha256sum {} + | sort -k2)
  b=$(cd "$regdir" && find . -type f -exec sha256sum {} + | sort -k2)
  [ "$a" = "$b" ] && pass "(a) registry holds the same files (sha256)" || fail "(a) files differ: $a vs $b"
else
  fail "(a) no registry copy of churn:2 under $DATA/blobs"
fi

# ---- (h) promoting twice is one promotion --------------------------------------------------------
reg_state > "$WORK/before-h.txt"
check "$(run p2again promote --candidate churn:2 --to prod)" 0 "(h) second promotion of churn:2 exits 0"
check "$(jq_py "$WORK/p2again.json" 'd["already_promoted"] and not d["changed"]')" True "(h) says already promoted"
reg_state > "$WORK/after-h.txt"
cmp -s "$WORK/before-h.txt" "$WORK/after-h.txt" && pass "(h) nothing changed the second time" || fail "(h) changed: $(diff "$WORK/before-h.txt" "$WORK/after-h.txt")"

# ---- (b) worse on a maximize metric -------------------------------------------------------------
check "$(run b promote --candidate churn:3 --to prod)" 1 "(b) worse f1 blocked (exit 1)"
check "$(jq_py "$WORK/b.json" '[r["passed"] for r in d["rules"] if r["metric"] == "f1"][0]')" False "(b) the f1 rule fails"
check "$(arm_code "$REG/models/churn/versions/3?$API")" 404 "(b) churn:3 not in the registry"

# ---- (c) minimize metric -----------------------------------------------------------------------
check "$(run c-up evaluate --candidate churn:4 --policy minimize.yml --env prod)" 1 "(c) log_loss up (0.40 vs 0.35) blocked"
check "$(run c-down evaluate --candidate churn:5 --policy minimize.yml --env prod)" 0 "(c) log_loss down (0.30 vs 0.35) passes"
check "$(run c-expl evaluate --candidate churn:4 --champion churn:1 --policy minimize.yml --env prod)" 1 "(c) --champion churn:1: equal log_loss misses min_improvement"

# ---- (d) a missing metric or tag, a NaN ----------------------------------------------------------
check "$(run d-metric evaluate --candidate churn:6 --env prod)" 1 "(d) missing accuracy blocked"
grep -q "has no metric 'accuracy'" "$WORK/d-metric.json" && pass "(d) reason names the metric" || fail "(d) reason: $(cat "$WORK/d-metric.json")"
check "$(run d-tag evaluate --candidate churn:7 --env prod)" 1 "(d) missing amlops.git_commit blocked"
grep -q "has no tag 'amlops.git_commit'" "$WORK/d-tag.json" && pass "(d) reason names the tag" || fail "(d) reason: $(cat "$WORK/d-tag.json")"
check "$(run d-nan evaluate --candidate churn:8 --env prod)" 1 "NaN f1 blocked"
check "$(run d-champ evaluate --candidate churn:5 --champion churn:99 --env prod)" 1 "an unreadable champion blocks"

# ---- configuration errors: exit 2 with file:line:col ---------------------------------------------
printf 'promotion:\n  model: churn\n  primary: {metric: f1, goal: upward}\n' > bad.yml
check "$(run cfg evaluate --candidate churn:5 --policy bad.yml --workspace "$DEV")" 2 "unknown goal: exit 2"
grep -q "bad.yml:3:" "$WORK/cfg.err" && pass "unknown goal names bad.yml:3:col" || fail "location: $(cat "$WORK/cfg.err")"

# ---- (i) the decision table on CI hosts ----------------------------------------------------------
: > "$WORK/summary.md"; : > "$WORK/out.txt"
GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$WORK/summary.md GITHUB_OUTPUT=$WORK/out.txt \
  "$PROMOTE" evaluate --candidate churn:5 --env prod --markdown "$WORK/frag.md" > /dev/null 2> "$WORK/gh.err"
grep -q "| metric | candidate | champion | rule | result | why |" "$WORK/summary.md" && pass "(i) table in GITHUB_STEP_SUMMARY" || fail "(i) summary: $(cat "$WORK/summary.md")"
grep -q "^decision<<" "$WORK/out.txt" && grep -q "^promote$" "$WORK/out.txt" && pass "(i) decision output" || fail "(i) outputs: $(cat "$WORK/out.txt")"
grep -q "amlops-fragment" "$WORK/frag.md" && grep -q "| f1 | 0.9 | 0.85 |" "$WORK/frag.md" && pass "(i) --markdown fragment" || fail "(i) fragment: $(cat "$WORK/frag.md")"
mkdir -p "$WORK/agent"
TF_BUILD=True AGENT_TEMPDIRECTORY=$WORK/agent "$PROMOTE" evaluate --candidate churn:3 --env prod > /dev/null 2> "$WORK/ado.err"
f=$(sed -n 's/^##vso\[task.uploadsummary\]//p' "$WORK/ado.err" | tr -d '\r' | head -1)
[ -n "$f" ] && grep -q "| f1 | 0.83 | 0.85 |" "$f" && pass "(i) ##vso[task.uploadsummary] with the table" || fail "(i) azure devops: $(cat "$WORK/ado.err")"
grep -q "##vso\[task.setvariable variable=decision;isOutput=true\]block" "$WORK/ado.err" && pass "(i) azure devops decision output" || fail "(i) ado output: $(grep vso "$WORK/ado.err")"

# ---- a target without a registry: the version is registered in the workspace ---------------------
PRODWS=/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.MachineLearningServices/workspaces/prod
check "$(run ws promote --candidate churn:2 --to staging)" 0 "promotion to a workspace without a registry"
arm_get "$PRODWS/models/churn/versions/2?$API" > "$WORK/ws2.json"
check "$(jq_py "$WORK/ws2.json" 'd["properties"]["tags"]["stage"]')" production "churn:2 is stage=production in workspace prod"
check "$(jq_py "$WORK/ws2.json" 'd["properties"]["modelUri"].startswith("azureml://subscriptions/")')" True "its modelUri names the dev workspace's files"
check "$(jq_py "$WORK/ws.json" 'd["model_id"]')" "azureml:churn:2" "model id in the workspace"

# ---- (f) 30 % injected 429/503/resets ------------------------------------------------------------
"$LOCAL" stop --data "$DATA" > /dev/null 2>&1
start_server --faults 429=0.1,503=0.1,reset=0.1 --fault-seed 11
for i in 1 2 3 4 5; do
  rc=$(run "f-worse$i" promote --candidate churn:3 --to prod)
  case $rc in 1|4) pass "(f) worse candidate under faults: exit $rc" ;; *) fail "(f) worse candidate under faults exit $rc: $(tail -3 "$WORK/f-worse$i.err")" ;; esac
done
code=$(arm_code "$REG/models/churn/versions/3?$API")
check "$code" 404 "(f) the blocked candidate never reached the registry"
ok=""
for i in 1 2 3 4 5 6 7 8; do
  rc=$(run "f-better$i" promote --candidate churn:5 --to prod)
  case $rc in
    0) ok=1; break ;;
    4) echo "  attempt $i: exit 4 ($(grep -m1 -i error "$WORK/f-better$i.err"))" ;;
    *) fail "(f) better candidate under faults exit $rc: $(tail -3 "$WORK/f-better$i.err")"; break ;;
  esac
done
[ -n "$ok" ] && pass "(f) better candidate promoted under faults (exit 4 runs are retried by re-running)" || fail "(f) never promoted"
check "$(stage_of 5)" production "(f) churn:5 champion after faults"
check "$(stage_of 2)" archived "(f) churn:2 archived after faults"
n=$(arm_get "$REG/models/churn/versions?tags=stage%3Dproduction&$API" | $PY -c 'import json,sys; print(sum(1 for v in json.load(sys.stdin)["value"] if v["properties"]["tags"].get("stage")=="production"))')
check "$n" 1 "(f) exactly one champion"
injected=$(curl -sS "$AMLOPS_ARM_ENDPOINT/_amlops/requests" | $PY -c 'import json,sys; r=json.load(sys.stdin)["requests"]; print(sum(1 for x in r if x.get("fault")), len(r))')
echo "faults injected / requests: $injected"

# Service errors after retries: at 90 % faults a run runs out of attempts (exit 4, decision
# output block); none may promote churn:4 (f1 0.90 = champion's 0.90, short of min_improvement).
"$LOCAL" stop --data "$DATA" > /dev/null 2>&1
start_server --faults 503=0.6,reset=0.3 --fault-seed 5
seen4=""
t0=$(date +%s%N)
for i in 1; do
  rc=$(GITHUB_ACTIONS=true GITHUB_OUTPUT=$WORK/f90-$i.out GITHUB_STEP_SUMMARY=$WORK/f90-$i.md run "f90-$i" promote --candidate churn:4 --to prod)
  case $rc in
    1) pass "(f) 90 % faults: blocked on complete data (exit 1)" ;;
    4) seen4=1; grep -q "^block$" "$WORK/f90-$i.out" && pass "(f) 90 % faults: exit 4 with decision=block" || fail "(f) exit 4 without decision=block: $(cat "$WORK/f90-$i.out")" ;;
    *) fail "(f) 90 % faults: exit $rc" ;;
  esac
done
echo "time: 1 run at 90 % faults $(( ($(date +%s%N) - t0) / 1000000 )) ms"
[ -n "$seen4" ] && pass "(f) service errors after retries seen (exit 4)" || echo "note: no run ran out of retries"
"$LOCAL" stop --data "$DATA" > /dev/null 2>&1
start_server
check "$(arm_code "$REG/models/churn/versions/4?$API")" 404 "(f) churn:4 never reached the registry"
check "$(stage_of 5)" production "(f) churn:5 still the champion"

# ---- champion: {version: N} ---------------------------------------------------------------------
sed 's/champion: {tag: stage=production}/champion: {version: 1}/' amlops.yml > v1.yml
check "$(run ver evaluate --candidate churn:5 --policy v1.yml --env prod)" 0 "champion {version: 1}: churn:5 beats churn:1"
check "$(jq_py "$WORK/ver.json" 'd["champion"]')" "churn:1" "champion {version: 1} is churn:1 whatever its tags"
sed 's/champion: {tag: stage=production}/champion: {version: 42}/' amlops.yml > v42.yml
check "$(run ver42 evaluate --candidate churn:5 --policy v42.yml --env prod)" 1 "champion {version: 42} that does not exist blocks"

# ---- (j) promotion.data: the reference travels with the model ------------------------------------
# Two training runs in dev; each writes a model and its scored test split, registered as
# churn-reference (versions 1 and 2). churnd:7 comes from the first run: its reference is version 1,
# not dev's @latest.
cat > train.yml <<'YAML'
type: command
command: >-
  mkdir -p ${{outputs.model}} ${{outputs.reference}}/sub && echo weights-${{inputs.run}} > ${{outputs.model}}/model.pkl &&
  echo scored-${{inputs.run}} > ${{outputs.reference}}/scored.csv && echo extra-${{inputs.run}} > ${{outputs.reference}}/sub/extra.txt
environment: azureml:local-env:1
inputs:
  run: first
outputs:
  model:
    type: uri_folder
  reference:
    type: uri_folder
    name: churn-reference
YAML
"$JOB" submit -f train.yml --wait --name train-d1 --workspace "$DEV" > j1.out 2> j1.err || { cat j1.err; fail "(j) training job 1"; }
"$JOB" submit -f train.yml --set inputs.run=second --wait --name train-d2 --workspace "$DEV" > j2.out 2> j2.err || { cat j2.err; fail "(j) training job 2"; }
for n in 1 2; do
  v=$((n + 6))
  "$MODEL" register --name churnd --from-job "train-d$n" --version "$v" --tag metric.f1=0.9$n --workspace "$DEV" \
    --output json > "regd$v.json" 2> "regd$v.err" || { cat "regd$v.err"; fail "(j) register churnd:$v"; }
done
write_data_config() {  # write_data_config FILE DATA_LIST
  cat > "$1" <<YML
promotion:
  model: churnd
  primary: {metric: f1, goal: maximize}
  thresholds: [{metric: f1, min: 0.5}]
  data: $2
environments:
  dev:  {workspace: $DEV}
  prod: {workspace: $PROD, registry: shared}
YML
}
write_data_config data.yml "[churn-reference]"
write_data_config missing.yml "[churn-reference, churn-baseline]"
PRODDATA=$PRODWS/data/churn-reference/versions
prod_refs() { arm_get "$PRODDATA?$API" | $PY -c '
import json,sys
for v in sorted(json.load(sys.stdin).get("value", []), key=lambda v: v["name"]):
    print(v["name"], v["properties"]["tags"].get("amlops.model", "-"))'; }
# The files of a target version, from the server's blob storage: "relative-path content" lines.
files_of() {  # files_of MODEL VERSION
  local dir
  dir=$(find "$DATA/blobs" -type d -path "*/amlops-promoted/$1/$2/churn-reference" | head -1)
  [ -n "$dir" ] || { echo "(no folder)"; return; }
  (cd "$dir" && find . -type f | sort | while read -r f; do echo "$f $(cat "$f")"; done)
}

check "$(run jdry promote --candidate churnd:7 --to prod --config data.yml --dry-run)" 0 "(j) dry run with promotion.data exits 0"
jq_py "$WORK/jdry.json" '"\n".join(d["plan"])' | grep -q "copy data asset churn-reference:1 (2 files) of workspace dev to workspace prod as churn-reference:7" \
  && pass "(j) the plan copies the training job's version (1, not @latest 2) as churn-reference:7" || fail "(j) plan: $(cat "$WORK/jdry.json")"
check "$(prod_refs)" "" "(j) dry run: no churn-reference in prod"
check "$(arm_code "$REG/models/churnd/versions/7?$API")" 404 "(j) dry run: churnd:7 not published"
check "$(files_of churnd 7)" "(no folder)" "(j) dry run: no files copied"

check "$(run jmiss promote --candidate churnd:7 --to prod --config missing.yml)" 2 "(j) a listed asset the job did not produce: exit 2"
grep -q "churn-baseline" "$WORK/jmiss.err" && grep -q "Nothing was promoted" "$WORK/jmiss.err" && pass "(j) the error names the missing asset" || fail "(j) error: $(cat "$WORK/jmiss.err")"
check "$(arm_code "$REG/models/churnd/versions/7?$API")" 404 "(j) missing asset: churnd:7 not published"
check "$(prod_refs)" "" "(j) missing asset: nothing copied"

: > "$WORK/jout.txt"
check "$(GITHUB_ACTIONS=true GITHUB_OUTPUT=$WORK/jout.txt GITHUB_STEP_SUMMARY=$WORK/jsum.md run j7 promote --candidate churnd:7 --to prod --config data.yml)" 0 "(j) churnd:7 promoted with its data"
check "$(stage_of_m churnd 7)" production "(j) churnd:7 is the champion in the registry"
check "$(prod_refs)" "7 churnd:7" "(j) prod's workspace holds churn-reference:7 tagged amlops.model=churnd:7"
check "$(files_of churnd 7 | tr '\n' ' ')" "./scored.csv scored-first ./sub/extra.txt extra-first " "(j) with the first run's files"
check "$(jq_py "$WORK/j7.json" '[(x["name"], x["version"], x["status"], x["files"]) for x in d["data"]]')" "[('churn-reference', '7', 'copied', 2)]" "(j) JSON data entry"
grep -q "^azureml:churn-reference:7$" "$WORK/jout.txt" && pass "(j) step output data" || fail "(j) outputs: $(cat "$WORK/jout.txt")"
grep -q "churn-reference:7" "$WORK/jsum.md" && pass "(j) step summary names the data" || fail "(j) summary: $(cat "$WORK/jsum.md")"
arm_get "$PRODDATA/7?$API" > "$WORK/pd7.json"
check "$(jq_py "$WORK/pd7.json" 'd["properties"]["dataUri"]')" "azureml://datastores/workspaceblobstore/paths/amlops-promoted/churnd/7/churn-reference/" "(j) its dataUri is in prod's default datastore"

check "$(run j7again promote --candidate churnd:7 --to prod --config data.yml)" 0 "(j) promoting churnd:7 again exits 0"
check "$(jq_py "$WORK/j7again.json" '(d["already_promoted"], d["changed"], [x["status"] for x in d["data"]])')" "(True, False, ['unchanged'])" "(j) twice is once: data unchanged"
check "$(prod_refs)" "7 churnd:7" "(j) no second version"

check "$(run j8 promote --candidate churnd:8 --to prod --config data.yml)" 0 "(j) churnd:8 (second run) promoted"
check "$(prod_refs | tr '\n' ' ')" "7 churnd:7 8 churnd:8 " "(j) churn-reference:8 belongs to churnd:8"
check "$(files_of churnd 8 | tr '\n' ' ')" "./scored.csv scored-second ./sub/extra.txt extra-second " "(j) with the second run's files"

echo "failures: $FAILS"
[ $FAILS -eq 0 ]
