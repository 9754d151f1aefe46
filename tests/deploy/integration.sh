#!/usr/bin/env bash
# amlops-deploy against amlops-local serving online endpoints for real, with the starter's
# scoring script (templates/starter/src/score.py) and a model trained here with scikit-learn:
# (a) the first rollout of blue goes to 100 % and scores correctly through the scoring URI;
# (b) green whose run() raises: the smoke test fails, blue keeps 100 %, exit 1, the error and the
#     log tail are printed and in the step summary;
# (c) green whose init() crashes: deployment Failed, rolled back, exit 1 (--delete-failed removes it);
# (d) a healthy green at 10 -> 50 -> 100 %: at each step the split over 1,000 requests (a --check
#     command) is within 5 points of the weight;
# (e) re-running the finished rollout changes nothing (no PUT in the server's request log);
# (f) with 20 % injected 429/503/resets the rollout ends in a correct state (done, or rolled back
#     with its reason and the traffic exactly as before);
# and: rollback restores the recorded traffic, status --output json, bad YAML exits 2 with
# file:line:col and applies nothing, the key is never printed, CI outputs on GitHub.
# Usage: integration.sh BIN_DIR (holding amlops-deploy, amlops-model, amlops-local)
set -u -o pipefail
BIN=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
# The inference host runs under the first python3 on PATH: the one with scikit-learn here.
export PATH=/usr/bin:$PATH
for b in amlops-deploy amlops-model amlops-local; do
  [ -x "$BIN/$b" ] || { echo "SKIP: $BIN/$b not built"; exit 77; }
done
$PY -c 'import sklearn, pandas, joblib' 2>/dev/null || { echo "SKIP: python3-sklearn is not installed"; exit 77; }
DEPLOY=$BIN/amlops-deploy
MODEL=$BIN/amlops-model
LOCAL=$BIN/amlops-local
WORK=$(mktemp -d /tmp/amlops-deploy.XXXXXX)
DATA=$WORK/srv
cleanup() {
  "$LOCAL" stop --data "$DATA" >/dev/null 2>&1
  [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
. "$(dirname "$0")/../support/checks.sh"
unset GITHUB_ACTIONS TF_BUILD GITHUB_OUTPUT GITHUB_STEP_SUMMARY

start_server() {  # start_server DATA [extra args...]
  local data=$1; shift
  mkdir -p "$data"
  "$LOCAL" serve --port 0 --data "$data" --daemon --print-env "$@" > "$data.env" 2> "$data.serve.log" ||
    { cat "$data.serve.log"; exit 1; }
  # shellcheck disable=SC1090
  . "$data.env"
  export AMLOPS_ARM_ENDPOINT AZURE_AUTHORITY_HOST AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AMLOPS_WORKSPACE
}
start_server "$DATA"
cd "$WORK" || exit 1

# ---- the starter's scoring code, a model trained here, three variants of the code ---------------
cp -r "$SRC/templates/starter/src" code-blue
cp -r code-blue code-raise
cp -r code-blue code-init
cp -r code-blue code-green
cat >> code-raise/score.py <<'PY'


def run(raw_data):  # noqa: F811 (the broken release under test)
    raise RuntimeError("green cannot score: feature store unreachable")
PY
cat >> code-init/score.py <<'PY'


def init():  # noqa: F811
    raise RuntimeError("green cannot start: model file is corrupt")
PY
echo "# release 2" >> code-green/score.py
mkdir -p model
$PY - "$SRC/templates/starter" <<'PY' || { echo "training failed"; exit 1; }
import json, sys
sys.path.insert(0, sys.argv[1] + "/src")
import joblib, pandas as pd
from train import build_model
df = pd.read_csv(sys.argv[1] + "/data/train/churn.csv").head(400)
x, y = df.drop(columns=["churned"]), df["churned"]
model = build_model(list(x.columns), 1.0, 200).fit(x, y)
joblib.dump(model, "model/model.joblib")
rows = x.head(3)
json.dump({"data": rows.to_dict(orient="records")}, open("request.json", "w"))
json.dump({"predictions": [int(p) for p in model.predict(rows)]}, open("expect.json", "w"))
PY
"$MODEL" register --name churn --path "$WORK/model" --version 1 > reg.out 2> reg.err || { cat reg.err; fail "register churn:1"; }

cat > endpoint.yml <<'YML'
$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json
name: churn-endpoint
auth_mode: key
traffic:
  blue: 100
tags: {project: churn}
YML
cp "$SRC/templates/starter/environments/score-env.yml" "$SRC/templates/starter/environments/score-conda.yml" .
deployment() {  # deployment NAME CODE_FOLDER > NAME.yml
  cat <<YML
\$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
name: $1
endpoint_name: churn-endpoint
model: azureml:churn:1
code_configuration:
  code: ./$2
  scoring_script: score.py
environment: ./score-env.yml
instance_type: Standard_DS3_v2
instance_count: 1
request_settings: {request_timeout_ms: 5000, max_concurrent_requests_per_instance: 4}
YML
}
deployment blue code-blue > blue.yml
deployment green code-green > green.yml
deployment green code-raise > green-raise.yml
deployment green code-init > green-init.yml

run() {  # run NAME ARGS...: stdout to NAME.json, stderr to NAME.err; prints the exit code
  local name=$1; shift
  "$DEPLOY" "$@" --output json > "$WORK/$name.json" 2> "$WORK/$name.err"
  echo $?
}
status() { "$DEPLOY" status --endpoint churn-endpoint --output json > "$WORK/status.json" 2> "$WORK/status.err"; jq_py "$WORK/status.json" 'sorted(d["traffic"].items())'; }
KEY=
secret() {  # the endpoint key, for the checks made outside the tool
  local tok
  tok=$(curl -sS -X POST "$AZURE_AUTHORITY_HOST/$AZURE_TENANT_ID/oauth2/v2.0/token" \
    -d "client_id=$AZURE_CLIENT_ID&client_secret=$AZURE_CLIENT_SECRET&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default" |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  local ws_id
  ws_id=$($PY -c 'import sys; p=sys.argv[1].split("/"); print(f"/subscriptions/{p[3]}/resourceGroups/{p[5]}/providers/Microsoft.MachineLearningServices/workspaces/{p[7]}")' "$AMLOPS_WORKSPACE")
  curl -sS -X POST -H "Authorization: Bearer $tok" -H 'Content-Length: 0' \
    "$AMLOPS_ARM_ENDPOINT$ws_id/onlineEndpoints/churn-endpoint/listKeys?api-version=2025-12-01" |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["primaryKey"])'
}
# The split observed over N requests through the scoring URI, checked against AMLOPS_TRAFFIC.
cat > split.py <<'PY'
import collections, json, os, sys, urllib.request
n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
uri, key = os.environ["AMLOPS_SCORING_URI"], os.environ["AMLOPS_SCORING_KEY"]
body = open("request.json", "rb").read()
want = {k: int(v) for k, v in (p.split("=") for p in os.environ["AMLOPS_TRAFFIC"].split(","))}
seen = collections.Counter()
for _ in range(n):
    req = urllib.request.Request(uri, data=body, headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            seen[r.headers.get("azureml-model-deployment", "?")] += 1
    except Exception as e:  # noqa: BLE001
        seen["error:" + type(e).__name__] += 1
share = {k: 100.0 * v / n for k, v in seen.items()}
worst = max(abs(share.get(k, 0) - w) for k, w in want.items())
line = f"step {os.environ['AMLOPS_STEP']}: want {want} observed {dict(sorted(share.items()))} worst {worst:.1f} points"
print(line)
with open("split.log", "a") as f:
    f.write(line + "\n")
sys.exit(0 if worst <= 5 and not any(k.startswith("error") for k in seen) else 1)
PY

# ---- bad input: exit 2, file:line:col, nothing applied -------------------------------------------
printf 'name: green\nendpoint_name: churn-endpoint\nmodel: azureml:churn:1\ninstance_cont: 2\n' > bad.yml
check "$(run bad rollout --endpoint endpoint.yml --deployment bad.yml --smoke-request request.json --soak 0s)" 2 "bad YAML exits 2"
grep -q "bad.yml:4:1: unknown key 'instance_cont'" bad.err && pass "bad YAML names file:line:col" || fail "bad YAML message: $(cat bad.err)"
check "$(run bad-steps rollout --endpoint endpoint.yml --deployment green.yml --smoke-request request.json --steps 10,50)" 2 "--steps without 100 exits 2"
check "$(run nostatus status --endpoint churn-endpoint)" 2 "nothing was applied (the endpoint does not exist)"

# ---- (a) first rollout: blue -> 100 % ----------------------------------------------------------
t0=$(date +%s%N)
check "$(run a rollout --endpoint endpoint.yml --deployment blue.yml --smoke-request request.json --expect expect.json --soak 0s)" 0 "(a) first rollout of blue exits 0"
echo "time: first rollout (endpoint, deployment, smoke, 1 step) $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "$(status)" "[('blue', 100)]" "(a) blue serves 100 %"
check "$(jq_py a.json 'd["state"]')" "done" "(a) state done"
grep -q "the endpoint's traffic is set by the rollout steps" a.err && pass "(a) the YAML's traffic is not applied" || fail "(a) no note about the YAML's traffic"
KEY=$(secret)
[ -n "$KEY" ] || fail "no endpoint key"
URI=$(jq_py a.json 'd["scoring_uri"]')
ANSWER=$(curl -sS -X POST -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data @request.json "$URI")
check "$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["predictions"] == json.load(open("expect.json"))["predictions"])' "$ANSWER")" True "(a) the scoring URI answers the model's predictions"
check "$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer wrong' --data @request.json "$URI")" 401 "(a) a wrong key gets 401"

# ---- (e) re-running the finished rollout changes nothing ----------------------------------------
writes() { grep -c '"method":"\(PUT\|PATCH\|DELETE\)"' "$DATA/requests.jsonl"; }
"$DEPLOY" status --endpoint churn-endpoint --output json > e-before.json 2>/dev/null
w0=$(writes)
check "$(run e rollout --endpoint endpoint.yml --deployment blue.yml --smoke-request request.json --soak 0s)" 0 "(e) re-run exits 0"
check "$(jq_py e.json 'd["state"], d["changes"]')" "('unchanged', 0)" "(e) state unchanged, no PUT"
"$DEPLOY" status --endpoint churn-endpoint --output json > e-after.json 2>/dev/null
check "$(jq_py e-after.json 'd["traffic"]')" "$(jq_py e-before.json 'd["traffic"]')" "(e) traffic the same"
check "$(writes)" "$w0" "(e) the server saw no PUT, PATCH or DELETE during the re-run"

# ---- (b) green whose run() raises ---------------------------------------------------------------
export GITHUB_ACTIONS=true GITHUB_OUTPUT=$WORK/b.out GITHUB_STEP_SUMMARY=$WORK/b.summary
: > b.out; : > b.summary
check "$(run b rollout --endpoint endpoint.yml --deployment green-raise.yml --smoke-request request.json --soak 0s)" 1 "(b) green whose run() raises: exit 1"
unset GITHUB_ACTIONS GITHUB_OUTPUT GITHUB_STEP_SUMMARY
check "$(status)" "[('blue', 100)]" "(b) blue keeps 100 %"
check "$(jq_py b.json 'd["state"]')" rolled_back "(b) state rolled_back"
grep -q "smoke" b.err && grep -q "HTTP" b.err && pass "(b) the smoke error is printed" || fail "(b) no smoke error in: $(head -c 2000 b.err)"
grep -q "feature store unreachable" b.err && pass "(b) green's log tail (its exception) is printed" || fail "(b) no log tail in the output"
grep -q "feature store unreachable" b.summary && pass "(b) the log tail is in the step summary" || fail "(b) no log tail in the summary"
grep -q "^traffic<<" b.out && grep -q "^blue=100" b.out && pass "(b) output traffic=blue=100" || fail "(b) outputs: $(cat b.out)"
grep -q "^scoring_uri<<" b.out && pass "(b) output scoring_uri" || fail "(b) no scoring_uri output"
grep -q "::add-mask::$KEY" b.err && pass "(b) the key is masked on GitHub" || fail "(b) the key is not masked"
for f in a.json a.err b.json b.out b.summary e.json e.err; do
  if grep -q -- "$KEY" "$f" 2>/dev/null; then fail "the key is printed in $f"; fi
done
if grep -v "::add-mask::" b.err | grep -q -- "$KEY"; then fail "the key is printed in b.err"; fi

# ---- (c) green whose init() crashes -------------------------------------------------------------
check "$(run c rollout --endpoint endpoint.yml --deployment green-init.yml --smoke-request request.json --soak 0s --delete-failed)" 1 "(c) green whose init() crashes: exit 1"
check "$(jq_py c.json 'd["state"], d["deleted_failed"]')" "('rolled_back', True)" "(c) rolled back, green deleted (--delete-failed)"
grep -q "failed to provision" c.err && pass "(c) says the deployment failed" || fail "(c) reason: $(tail -5 c.err)"
grep -q "model file is corrupt" c.err && pass "(c) init()'s error from the log tail" || fail "(c) no log tail"
check "$(status)" "[('blue', 100)]" "(c) blue keeps 100 %"
check "$(jq_py status.json '[x["name"] for x in d["deployments"]]')" "['blue']" "(c) green is gone"

# ---- (d) healthy green 10 -> 50 -> 100 with the split observed at each step ----------------------
: > split.log
t0=$(date +%s%N)
check "$(run d rollout --endpoint endpoint.yml --deployment green.yml --smoke-request request.json --expect expect.json --steps 10,50,100 --soak 1s --count 50 --check "$PY $WORK/split.py 1000")" 0 "(d) canary rollout of green exits 0"
echo "time: canary rollout 10/50/100 with 3x1000 observed requests $(( ($(date +%s%N) - t0) / 1000000 )) ms"
cat split.log
check "$(wc -l < split.log | tr -d ' ')" 3 "(d) the split was observed at three steps"
check "$(jq_py d.json '[s["percent"] for s in d["steps"] if s["ok"]]')" "[10, 50, 100]" "(d) three healthy steps"
check "$(status)" "[('green', 100)]" "(d) green serves 100 %"
check "$(jq_py status.json 'd["last_rollout"]["previous_traffic"]')" "{'blue': 100}" "(d) the traffic before is recorded on the endpoint"

# ---- rollback restores the recorded traffic; twice changes nothing --------------------------------
check "$(run rb rollback --endpoint churn-endpoint)" 0 "rollback exits 0"
check "$(status)" "[('blue', 100)]" "rollback: blue 100 % again"
check "$(run rb2 rollback --endpoint churn-endpoint)" 0 "rollback again exits 0"
check "$(jq_py rb2.json 'd["changed"]')" False "rollback again changes nothing"

# ---- smoke command --------------------------------------------------------------------------------
check "$(run s smoke --endpoint churn-endpoint --deployment green --request request.json --expect expect.json --count 5)" 0 "smoke of green directly passes"
check "$(jq_py s.json 'd["health"]["by_deployment"]')" "{'green': 5}" "smoke with --deployment reaches green only"
echo '{"type": "object", "required": ["predictions", "probabilities"], "properties": {"predictions": {"type": "array", "items": {"enum": [0, 1]}}}}' > schema.json
check "$(run s3 smoke --endpoint churn-endpoint --request request.json --schema schema.json --count 3)" 0 "smoke --schema: the answers satisfy the schema"
echo '{"type": "object", "required": ["label"]}' > schema-bad.json
check "$(run s4 smoke --endpoint churn-endpoint --request request.json --schema schema-bad.json)" 1 "smoke --schema: an answer without 'label' fails"
grep -q "fails 'required'" s4.json && pass "smoke --schema names the failed rule" || fail "smoke --schema output: $(cat s4.json)"
# Azure Pipelines: outputs as output variables, the key as a secret, never in clear.
TF_BUILD=True "$DEPLOY" smoke --endpoint churn-endpoint --request request.json > azdo.out 2> azdo.err
grep -q "##vso\[task.setvariable variable=passed;isOutput=true\]true" azdo.out azdo.err && pass "Azure DevOps: output variable passed" || fail "Azure DevOps outputs: $(cat azdo.err | head -5)"
grep -q "##vso\[task.setsecret\]" azdo.err && pass "Azure DevOps: the key is set secret" || fail "Azure DevOps: no setsecret"
if grep -v "task.setsecret" azdo.err azdo.out | grep -q -- "$KEY"; then fail "Azure DevOps: the key is printed"; fi
echo '{"predictions": [7, 7, 7]}' > wrong.json
check "$(run s2 smoke --endpoint churn-endpoint --request request.json --expect wrong.json)" 1 "smoke with a wrong expectation exits 1"

# ---- --cleanup removes deployments left at 0 % -----------------------------------------------------
deployment teal code-green > teal.yml
check "$(run cl rollout --endpoint endpoint.yml --deployment teal.yml --smoke-request request.json --steps 50,100 --soak 0s --cleanup)" 0 "rollout of teal with --cleanup"
check "$(status)" "[('teal', 100)]" "teal 100 %"
check "$(jq_py status.json 'sorted(x["name"] for x in d["deployments"])')" "['teal']" "--cleanup deleted blue and green (0 %)"

# ---- --mirror: a mirror phase before the steps, gone afterwards -----------------------------------------
deployment plum code-green > plum.yml
check "$(run mi rollout --endpoint endpoint.yml --deployment plum.yml --smoke-request request.json --mirror 20 --steps 100 --soak 0s --count 10)" 0 "rollout of plum with --mirror 20"
grep -q "mirroring 20 % of live traffic to plum" mi.err && pass "the mirror phase ran" || fail "no mirror phase: $(tail -5 mi.err)"
check "$(status)" "[('plum', 100)]" "plum 100 % after the mirror phase"
check "$(jq_py status.json 'd["mirror_traffic"]')" "{}" "no mirror traffic left"
# later sections expect teal at 100 %
check "$(run back rollback --endpoint endpoint.yml)" 0 "rollback to teal (endpoint given as its YAML)"
check "$(status)" "[('teal', 100)]" "teal 100 % again"

# ---- SIGINT during a soak: the traffic goes back before the tool exits 130 -----------------------------
deployment sage code-green > sage.yml
"$DEPLOY" rollout --endpoint endpoint.yml --deployment sage.yml --smoke-request request.json --steps 50,100 --soak 120s \
  > int.json 2> int.err &
pid=$!
for _ in $(seq 1 300); do grep -q "^soak" int.err 2>/dev/null && break; sleep 0.2; done
check "$(status)" "[('sage', 50), ('teal', 50)]" "interrupt: sage at 50 % during the soak"
kill -INT "$pid"
wait "$pid"
check "$?" 130 "interrupt: exit 130"
check "$(status)" "[('teal', 100)]" "interrupt: the traffic before the rollout is restored"
grep -q "restoring traffic teal=100" int.err && pass "interrupt: says it restores the traffic" || fail "interrupt: $(tail -3 int.err)"

# ---- (f) 20 % injected faults -------------------------------------------------------------------------
"$LOCAL" stop --data "$DATA" > /dev/null 2>&1
start_server "$DATA" --faults 429=0.08,503=0.07,reset=0.05
deployment olive code-green > olive.yml
check "$(status)" "[('teal', 100)]" "(f) the store survived the restart (teal 100 %)"
rc=$(run f rollout --endpoint endpoint.yml --deployment olive.yml --smoke-request request.json --steps 50,100 --soak 0s --count 10 --max-error-rate 0.5)
"$LOCAL" stop --data "$DATA" > /dev/null 2>&1
start_server "$DATA"
after=$(status)
state=$(jq_py f.json 'd["state"]' 2>/dev/null)
echo "(f) exit $rc, state $state, traffic $after; retries: $(grep -c retrying f.err)"
if [ "$rc" = 0 ] && [ "$state" = "done" ] && [ "$after" = "[('olive', 100)]" ]; then
  pass "(f) with 20 % faults the rollout completed"
elif [ "$rc" = 1 ] && [ "$state" = rolled_back ] && [ "$after" = "[('teal', 100)]" ] && [ -n "$(jq_py f.json 'd["reason"]')" ]; then
  pass "(f) with 20 % faults the rollout rolled back, saying why: $(jq_py f.json 'd["reason"]')"
elif [ "$rc" = 4 ] && { [ "$after" = "[('teal', 100)]" ] || [ "$after" = "[('olive', 100)]" ]; }; then
  pass "(f) a service error after retries (exit 4) left a consistent state $after"
else
  fail "(f) end state: exit $rc, state $state, traffic $after; $(tail -5 f.err)"
fi
grep -q retrying f.err && pass "(f) faults were injected and retried" || echo "note: no retry logged in (f)"

echo "$FAILS failure(s)"
[ "$FAILS" = 0 ]
