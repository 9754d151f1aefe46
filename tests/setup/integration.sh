#!/usr/bin/env bash
# amlops-setup against amlops-local: (a) a folder with one of each kind (datastore, data assets,
# environment, component, compute, schedule) is created; (b) applied again, everything is unchanged
# and only GETs reach the workspace (amlops-local's request log); (c) one changed field updates
# exactly that resource; (d) a changed data file makes a new data version, an unchanged one none;
# (e) --prune deletes only amlops.managed resources; (f) bad input (a key in a datastore YAML, an
# unknown compute size, a cron that does not parse, a missing job YAML) exits 2 with file:line:col
# and applies nothing; (g) --env picks the workspace from amlops.yml; (h) the starter's YAML applies;
# (i) a schedule fires and its job completes, and a disabled schedule fires no more.
# Usage: integration.sh BIN_DIR (holding amlops-setup and amlops-local)
set -u -o pipefail
BIN=$(cd "$1" && pwd)
PY=/usr/bin/python3
SRC=$(cd "$(dirname "$0")/../.." && pwd)
for b in amlops-setup amlops-local; do
  [ -x "$BIN/$b" ] || { echo "SKIP: $BIN/$b not built"; exit 77; }
done
SETUP=$BIN/amlops-setup
LOCAL=$BIN/amlops-local
WORK=$(mktemp -d /tmp/amlops-setup.XXXXXX)
DATA=$WORK/srv
cleanup() {
  "$LOCAL" stop --data "$DATA" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
. "$(dirname "$0")/../support/checks.sh"
unset GITHUB_ACTIONS TF_BUILD GITHUB_OUTPUT GITHUB_STEP_SUMMARY AMLOPS_WORKSPACE

mkdir -p "$DATA"
"$LOCAL" serve --port 0 --data "$DATA" --daemon --print-env > "$DATA.env" 2> "$DATA.serve.log" || {
  cat "$DATA.serve.log"; exit 1; }
# shellcheck disable=SC1090
. "$DATA.env"
export AMLOPS_ARM_ENDPOINT AZURE_AUTHORITY_HOST AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET
WS=$AMLOPS_WORKSPACE
unset AMLOPS_WORKSPACE
WSID=$($PY -c 'import sys; p=sys.argv[1].split("/"); print(f"/subscriptions/{p[3]}/resourceGroups/{p[5]}/providers/Microsoft.MachineLearningServices/workspaces/{p[7]}")' "$WS")
API=api-version=2025-12-01

token() {
  curl -sS --fail -X POST "$AZURE_AUTHORITY_HOST/$AZURE_TENANT_ID/oauth2/v2.0/token" \
    -d "client_id=$AZURE_CLIENT_ID&client_secret=$AZURE_CLIENT_SECRET&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default" |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
TOKEN=$(token)
arm() {  # arm METHOD PATH [BODY]: prints the status code; the body goes to $WORK/arm.body
  curl -sS -o "$WORK/arm.body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "$AMLOPS_ARM_ENDPOINT$WSID$2?$API"
}
field() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$WORK/arm.body" "$1"; }
# The request log: mark it, then list the workspace requests since the mark as "METHOD path".
mark() { curl -sS "$AMLOPS_ARM_ENDPOINT/_amlops/requests?since=0" | $PY -c 'import json,sys; print(json.load(sys.stdin)["next"])'; }
since() {
  curl -sS "$AMLOPS_ARM_ENDPOINT/_amlops/requests?since=$1" | $PY -c '
import json,sys
for r in json.load(sys.stdin)["requests"]:
    if not r["path"].startswith("/_amlops") and "/oauth2/" not in r["path"]:
        print(r["method"], r["path"])'
}
writes() { since "$1" | grep -v '^GET ' | grep -v '^HEAD '; }

run() {  # run NAME ARGS...: stdout to NAME.out, stderr to NAME.err; prints the exit code
  local name=$1; shift
  "$SETUP" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err"
  echo $?
}

# ---- the folder: one of each kind ----------------------------------------------------------------
A=$WORK/assets
mkdir -p "$A"/{datastores,data/raw,environments,components/src,compute,schedules,jobs}
cat > "$A/datastores/lake.yml" <<'YML'
$schema: https://azuremlschemas.azureedge.net/latest/azureBlob.schema.json
name: lake
type: azure_blob
description: raw data of the data engineers
account_name: amlopslocal
container_name: lake
credentials:
  account_key: ${{env.SETUP_TEST_LAKE_KEY}}
YML
export SETUP_TEST_LAKE_KEY=c2V0dXAtdGVzdC1rZXktbmV2ZXItcHJpbnRlZA==
cat > "$A/data/churn.yml" <<'YML'
$schema: https://azuremlschemas.azureedge.net/latest/data.schema.json
name: churn-data
type: uri_file
path: raw/churn.csv
description: churn training batch
YML
printf 'tenure,churned\n1,0\n2,1\n3,0\n' > "$A/data/raw/churn.csv"
cat > "$A/data/lake-raw.yml" <<'YML'
name: lake-raw
type: uri_folder
path: azureml://datastores/lake/paths/raw/
YML
cat > "$A/environments/env.yml" <<'YML'
$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json
name: setup-env
image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240709.v1
conda_file: conda.yml
YML
printf 'name: setup-env\ndependencies:\n  - python=3.11\n' > "$A/environments/conda.yml"
cat > "$A/components/train.yml" <<'YML'
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: setup_train
display_name: Train
type: command
inputs:
  data: {type: uri_file}
outputs:
  model: {type: uri_folder}
code: ./src
environment: azureml:setup-env:1
command: python train.py --data ${{inputs.data}} --model ${{outputs.model}}
YML
echo 'print("train")' > "$A/components/src/train.py"
cat > "$A/compute/cpu.yml" <<'YML'
$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json
name: setup-cpu
type: amlcompute
size: Standard_DS3_v2
min_instances: 0
max_instances: 2
idle_time_before_scale_down: 1800
YML
cat > "$A/jobs/hello.yml" <<'YML'
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
type: command
experiment_name: setup-schedule
command: python -c "print('scheduled run')"
environment: azureml:setup-env:1
compute: azureml:setup-cpu
YML
cat > "$A/schedules/nightly.yml" <<'YML'
$schema: https://azuremlschemas.azureedge.net/latest/schedule.schema.json
name: nightly
display_name: Nightly retraining
trigger:
  type: cron
  expression: "0 2 * * *"
  time_zone: UTC
create_job: ../jobs/hello.yml
YML

# ---- (a) plan, then apply: everything created -----------------------------------------------------
m=$(mark)
check "$(run plan0 plan -f "$A" --workspace "$WS")" 0 "(a) plan exits 0"
check "$(grep -c '^+ create' "$WORK/plan0.out")" 7 "(a) plan: 7 resources to create"
check "$(writes "$m" | wc -l)" 0 "(a) plan makes only GET requests"
check "$(run apply1 apply -f "$A" --workspace "$WS" -vv)" 0 "(a) apply exits 0 (with -vv: a trace)"
check "$(grep -c '^+ created' "$WORK/apply1.out")" 7 "(a) apply: 7 created"
grep -q "$SETUP_TEST_LAKE_KEY" "$WORK"/*.out "$WORK"/*.err && fail "(a) the datastore key was printed" || pass "(a) the datastore key is never printed"
# In dependency order: the datastore first, the schedule last.
order=$(grep -E '^\+ created' "$WORK/apply1.out" | awk '{print $3}' | tr '\n' ' ')
check "$order" "datastore data data environment component compute schedule " "(a) applied in dependency order"
for p in datastores/lake data/churn-data/versions/1 data/lake-raw/versions/1 environments/setup-env/versions/1 \
  components/setup_train/versions/1 computes/setup-cpu schedules/nightly; do
  check "$(arm GET "/$p")" 200 "(a) $p exists"
done
arm GET /schedules/nightly > /dev/null
check "$(field 'd["properties"]["tags"]["amlops.managed"]')" true "(a) the schedule carries amlops.managed"
check "$(field 'd["properties"]["action"]["jobDefinition"]["jobType"]')" Command "(a) the schedule's job definition"
arm GET /data/churn-data/versions/1 > /dev/null
field 'd["properties"]["dataUri"]' | grep -q '^azureml://datastores/workspaceblobstore/paths/LocalUpload/' &&
  pass "(a) the local data file was uploaded" || fail "(a) dataUri: $(cat "$WORK/arm.body")"
check "$(field 'len(d["properties"]["tags"]["amlops.content_hash"])')" 32 "(a) the content hash is a tag"
arm GET /data/lake-raw/versions/1 > /dev/null
check "$(field 'd["properties"]["dataUri"]')" "azureml://datastores/lake/paths/raw/" "(a) a datastore path is registered as it is"

# ---- (b) apply again: unchanged, GETs only ---------------------------------------------------------
m=$(mark)
check "$(run apply2 apply -f "$A" --workspace "$WS")" 0 "(b) second apply exits 0"
grep -q "^No changes" "$WORK/apply2.out" && pass "(b) no changes" || fail "(b) $(cat "$WORK/apply2.out")"
check "$(grep -c '^= unchanged' "$WORK/apply2.out")" 7 "(b) 7 unchanged"
check "$(writes "$m" | wc -l)" 0 "(b) no request other than GET ($(writes "$m" | head -3 | tr '\n' ';'))"

# ---- (c) one field changed: exactly that resource updated ------------------------------------------
sed -i 's/^max_instances: 2/max_instances: 3/' "$A/compute/cpu.yml"
check "$(run plan3 plan -f "$A" --workspace "$WS" -o json)" 0 "(c) plan exits 0"
check "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print([(c["kind"],c["name"],c["fields"]) for c in d["changes"] if c["action"]!="unchanged"])' "$WORK/plan3.out")" \
  "[('compute', 'setup-cpu', ['properties/properties/scaleSettings/maxNodeCount'])]" "(c) plan: only the compute, its changed field named"
m=$(mark)
check "$(run apply3 apply -f "$A" --workspace "$WS")" 0 "(c) apply exits 0"
check "$(writes "$m" | grep -c '^PUT ')" 1 "(c) one PUT"
writes "$m" | grep -q '^PUT .*/computes/setup-cpu' && pass "(c) the PUT is the compute's" || fail "(c) $(writes "$m")"
arm GET /computes/setup-cpu > /dev/null
check "$(field 'd["properties"]["properties"]["scaleSettings"]["maxNodeCount"]')" 3 "(c) max_instances is 3 in the workspace"
sed -i 's/^description: churn training batch/description: churn training batch (checked)/' "$A/data/churn.yml"
check "$(run apply3b apply -f "$A" --workspace "$WS")" 0 "(c) a data description change applies"
grep -q "^~ updated   data churn-data:1 (properties/description)" "$WORK/apply3b.out" && pass "(c) description: version 1 updated in place" || fail "(c) $(cat "$WORK/apply3b.out")"

# ---- (d) a changed data file: a new version; unchanged: none ---------------------------------------
printf '4,1\n' >> "$A/data/raw/churn.csv"
check "$(run apply4 apply -f "$A" --workspace "$WS")" 0 "(d) apply after a data change exits 0"
grep -q "^+ created   data churn-data:2" "$WORK/apply4.out" && pass "(d) new version churn-data:2" || fail "(d) $(cat "$WORK/apply4.out")"
check "$(grep -vc '^= unchanged\|^    \|^Applied' "$WORK/apply4.out")" 1 "(d) nothing else changed"
check "$(run apply5 apply -f "$A" --workspace "$WS")" 0 "(d) apply again exits 0"
grep -q "^= unchanged data churn-data:2" "$WORK/apply5.out" && pass "(d) unchanged file: no new version" || fail "(d) $(cat "$WORK/apply5.out")"
arm GET /data/churn-data/versions/3 > /dev/null
check "$(arm GET /data/churn-data/versions/3)" 404 "(d) no version 3"

# ---- (e) --prune deletes only amlops.managed resources ---------------------------------------------
case $(arm PUT /environments/hand-made/versions/1 '{"properties":{"image":"python:3.11"}}') in
  200|201) pass "(e) an environment made by hand" ;;
  *) fail "(e) PUT of a hand-made environment: $(cat "$WORK/arm.body")" ;;
esac
mv "$A/components/train.yml" "$WORK/train.yml.removed"
check "$(run plan6 plan -f "$A" --workspace "$WS")" 0 "(e) plan without --prune"
grep -q "^- delete" "$WORK/plan6.out" && fail "(e) plan without --prune deletes: $(cat "$WORK/plan6.out")" || pass "(e) without --prune nothing is deleted"
check "$(run apply6 apply -f "$A" --workspace "$WS" --prune)" 0 "(e) apply --prune exits 0"
grep -q "^- deleted   component setup_train" "$WORK/apply6.out" && pass "(e) the removed managed component is deleted" || fail "(e) $(cat "$WORK/apply6.out" "$WORK/apply6.err")"
check "$(grep -c '^- deleted' "$WORK/apply6.out")" 1 "(e) exactly one deletion"
check "$(arm GET /environments/hand-made/versions/1)" 200 "(e) the hand-made environment is kept"
check "$(arm GET /components/setup_train/versions/1)" 404 "(e) the component is gone"
mv "$WORK/train.yml.removed" "$A/components/train.yml"

# ---- (f) bad input: exit 2, file:line:col, nothing applied -----------------------------------------
bad() {  # bad NAME FILE TEXT EXPECTED: the file added to a copy of the folder
  local name=$1 rel=$2 text=$3 expected=$4
  rm -rf "$WORK/bad" && cp -a "$A" "$WORK/bad"
  sed -i 's/^max_instances: 3/max_instances: 4/' "$WORK/bad/compute/cpu.yml"  # a change that must not be applied
  mkdir -p "$(dirname "$WORK/bad/$rel")"
  printf '%s\n' "$text" > "$WORK/bad/$rel"
  local m; m=$(mark)
  check "$(run "$name" apply -f "$WORK/bad" --workspace "$WS")" 2 "(f) $name: exit 2"
  grep -q "$expected" "$WORK/$name.err" && pass "(f) $name: $expected" || fail "(f) $name: $(cat "$WORK/$name.err")"
  check "$(since "$m" | wc -l)" 0 "(f) $name: no request made"
}
bad key datastores/bad.yml "$(printf 'name: leaky\ntype: azure_blob\naccount_name: a\ncontainer_name: c\ncredentials:\n  account_key: bGVha2VkLWtleS12YWx1ZQ==')" \
  "bad.yml:6:16: credentials.account_key: a secret written in the YAML is refused"
grep -q "bGVha2VkLWtleS12YWx1ZQ==" "$WORK/key.err" && fail "(f) the literal key was echoed" || pass "(f) the literal key is not echoed"
bad size compute/big.yml "$(printf 'name: big\ntype: amlcompute\nsize: Standard_Huge9000')" "big.yml:3:7: unknown compute size 'Standard_Huge9000'"
bad cron schedules/bad.yml "$(printf 'name: bad\ntrigger:\n  type: cron\n  expression: "61 * * * *"\ncreate_job: ../jobs/hello.yml')" \
  "bad.yml:4:15: cron expression '61 \* \* \* \*': minute field: 61 is outside 0-59"
bad job schedules/bad.yml "$(printf 'name: bad\ntrigger:\n  type: cron\n  expression: "0 * * * *"\ncreate_job: ../jobs/missing.yml')" \
  "bad.yml:5:13: create_job: job YAML .*missing.yml not found"
unset SETUP_TEST_LAKE_KEY
check "$(run nokey apply -f "$A" --workspace "$WS")" 2 "(f) apply without the datastore key's variable: exit 2"
grep -q "lake.yml:8:16: credentials.account_key: environment variable SETUP_TEST_LAKE_KEY is not set" "$WORK/nokey.err" &&
  pass "(f) the missing variable is named with its line" || fail "(f) $(cat "$WORK/nokey.err")"
check "$(run nokeyplan plan -f "$A" --workspace "$WS")" 0 "(f) plan needs no secret"
export SETUP_TEST_LAKE_KEY=c2V0dXAtdGVzdC1rZXktbmV2ZXItcHJpbnRlZA==

# ---- (g) --env picks the workspace from amlops.yml -------------------------------------------------
printf 'environments:\n  dev:\n    workspace: %s\n' "$WS" > "$WORK/amlops.yml"
check "$(cd "$WORK" && run envdev plan -f "$A" --env dev)" 0 "(g) plan --env dev"
grep -q "^= unchanged compute setup-cpu" "$WORK/envdev.out" && pass "(g) --env dev reads the same workspace" || fail "(g) $(cat "$WORK/envdev.out" "$WORK/envdev.err")"
check "$(cd "$WORK" && run envprod plan -f "$A" --env prod)" 2 "(g) an environment not in amlops.yml: exit 2"

# ---- (h) the starter's YAML applies, and is then unchanged -----------------------------------------
cp -a "$SRC/templates/starter" "$WORK/starter"
check "$(run starter1 apply -f "$WORK/starter" --workspace "$WS")" 0 "(h) the starter's YAML applies"
check "$(run starter2 plan -f "$WORK/starter" --workspace "$WS")" 0 "(h) plan of the starter again"
grep -q "^No changes" "$WORK/starter2.out" && pass "(h) the starter is unchanged the second time" || fail "(h) $(cat "$WORK/starter2.out")"

# ---- (i) a schedule fires (amlops-local's clock advanced) and its job completes; disabled, no more --
S=$WORK/sched
mkdir -p "$S"
cp "$A/jobs/hello.yml" "$S/hello.yml"
# Ten minutes ahead of amlops-local's clock (real time cannot reach it during the test), then the
# clock is advanced past it.
NOW=$(curl -sS "$AMLOPS_ARM_ENDPOINT/_amlops/clock" | $PY -c 'import json,sys; print(json.load(sys.stdin)["now"])')
CRON=$($PY -c '
import sys, datetime
t = datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")) + datetime.timedelta(minutes=10)
print(f"{t.minute} {t.hour} {t.day} {t.month} *")' "$NOW")
cat > "$S/minutely.yml" <<YML
name: minutely
trigger:
  type: cron
  expression: "$CRON"
create_job: hello.yml
YML
jobs_of() {  # the jobs a schedule submitted, as "name status" lines
  arm GET /jobs > /dev/null
  $PY -c '
import json,sys
for j in json.load(open(sys.argv[1]))["value"]:
    if j["properties"].get("properties", {}).get("azureml.ScheduleName") == sys.argv[2]:
        print(j["name"], j["properties"]["status"])' "$WORK/arm.body" "$1"
}
advance() { curl -sS -o /dev/null -X POST "$AMLOPS_ARM_ENDPOINT/_amlops/clock" -d "{\"advance_seconds\":$1}"; }
check "$(run sched1 apply -f "$A" -f "$S" --workspace "$WS")" 0 "(i) apply with a schedule ten minutes ahead ($CRON)"
advance 60
check "$(jobs_of minutely | wc -l)" 0 "(i) no job before the trigger time"
advance 600
for _ in $(seq 1 120); do
  st=$(jobs_of minutely | head -1 | awk '{print $2}')
  case $st in Completed|Failed|Canceled) break ;; esac
  sleep 0.5
done
check "$(jobs_of minutely | wc -l)" 1 "(i) the trigger submitted one job"
check "$(jobs_of minutely | head -1 | awk '{print $2}')" Completed "(i) the scheduled job ran to Completed"
sed -i 's/^trigger:/is_enabled: false\ntrigger:/' "$S/minutely.yml"
check "$(run sched2 apply -f "$A" -f "$S" --workspace "$WS")" 0 "(i) apply with is_enabled: false"
grep -q "^~ updated   schedule minutely (properties/isEnabled)" "$WORK/sched2.out" && pass "(i) the schedule is disabled (an update)" || fail "(i) $(cat "$WORK/sched2.out")"
sed -i "s/expression: .*/expression: \"* * * * *\"/" "$S/minutely.yml"
check "$(run sched2b apply -f "$A" -f "$S" --workspace "$WS")" 0 "(i) disabled, now every minute"
advance 300
sleep 1
check "$(jobs_of minutely | wc -l)" 1 "(i) a disabled schedule submits no more jobs"
check "$(run sched3 plan -f "$A" -f "$S" --workspace "$WS")" 0 "(i) plan after disabling"
grep -q "^No changes" "$WORK/sched3.out" && pass "(i) a disabled schedule is unchanged the next time" || fail "(i) $(cat "$WORK/sched3.out")"

# ---- (j) provenance: a model registered from a job that consumed churn-data:2 names that version ---
if [ -x "$BIN/amlops-job" ] && [ -x "$BIN/amlops-model" ]; then
  P=$WORK/prov
  mkdir -p "$P/src"
  printf 'import shutil, sys, os\nos.makedirs(sys.argv[2], exist_ok=True)\nshutil.copy(sys.argv[1], os.path.join(sys.argv[2], "data.csv"))\n' > "$P/src/train.py"
  cat > "$P/train.yml" <<'YML'
type: command
code: src
command: python train.py ${{inputs.training_data}} ${{outputs.model}}
inputs:
  training_data: {type: uri_file, path: azureml:churn-data:2}
outputs:
  model: {type: uri_folder}
environment: azureml:setup-env:1
compute: azureml:setup-cpu
YML
  "$BIN/amlops-job" submit -f "$P/train.yml" --name prov-train --wait --workspace "$WS" > "$WORK/prov.out" 2> "$WORK/prov.err" ||
    fail "(j) the training job: $(tail -5 "$WORK/prov.err")"
  "$BIN/amlops-model" register --name churn --from-job prov-train --workspace "$WS" --output json > "$WORK/reg.out" 2> "$WORK/reg.err" ||
    fail "(j) register: $(tail -5 "$WORK/reg.err")"
  arm GET /models/churn/versions/1 > /dev/null
  check "$(field 'd["properties"]["tags"].get("amlops.data.training_data")')" "churn-data:2" "(j) the model's tag names the data version"
  check "$(field 'd["properties"]["properties"].get("amlops.data.training_data")')" "churn-data:2" "(j) and its property"
  # @latest is submitted as the version it resolves to, and recorded as that version.
  sed 's/azureml:churn-data:2/azureml:churn-data@latest/' "$P/train.yml" > "$P/latest.yml"
  "$BIN/amlops-job" submit -f "$P/latest.yml" --name prov-latest --workspace "$WS" > /dev/null 2> "$WORK/provl.err" ||
    fail "(j) the @latest job: $(tail -5 "$WORK/provl.err")"
  arm GET /jobs/prov-latest > /dev/null
  check "$(field 'd["properties"]["properties"].get("amlops.data.training_data")')" "churn-data:2" "(j) @latest is recorded as the version it resolved to"
  check "$(field 'd["properties"]["inputs"]["training_data"]["uri"]')" "azureml:churn-data:2" "(j) and submitted as that version"
else
  echo "skip: (j) needs amlops-job and amlops-model in $BIN"
fi

# ---- (l) on GitHub Actions: the plan in the step summary, the step output, the key masked ---------
: > "$WORK/summary.md"; : > "$WORK/gh-out.txt"
sed -i 's/^max_instances: 3/max_instances: 2/' "$A/compute/cpu.yml"
GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$WORK/summary.md GITHUB_OUTPUT=$WORK/gh-out.txt \
  "$SETUP" plan -f "$A" --workspace "$WS" > "$WORK/gh.out" 2> "$WORK/gh.err"
grep -q "| compute | \`setup-cpu\` | update | \`properties/properties/scaleSettings/maxNodeCount\` |" "$WORK/summary.md" &&
  pass "(l) the plan's table in the step summary" || fail "(l) summary: $(cat "$WORK/summary.md")"
grep -A1 "^changes<<" "$WORK/gh-out.txt" | grep -qx 1 && pass "(l) step output changes=1" || fail "(l) outputs: $(cat "$WORK/gh-out.txt")"
grep -qx "::add-mask::$SETUP_TEST_LAKE_KEY" "$WORK/gh.err" && pass "(l) the datastore key is masked" || fail "(l) no mask: $(head -5 "$WORK/gh.err")"

# ---- (k) a failure stops there and says what was done before it ------------------------------------
K=$WORK/stop
mkdir -p "$K/files"
echo "k" > "$K/files/k.txt"
printf 'name: stop-data\ntype: uri_file\npath: files/k.txt\n' > "$K/data.yml"
# A size of Azure's naming that amlops-local's size table does not offer: refused by the service.
printf 'name: stop-cpu\ntype: amlcompute\nsize: Standard_D3s_v6\n' > "$K/compute.yml"
printf 'name: stop-sched\ntrigger: {type: cron, expression: "0 3 * * *"}\ncreate_job: job.yml\n' > "$K/sched.yml"
sed 's/setup-cpu/stop-cpu/' "$A/jobs/hello.yml" > "$K/job.yml"
code=$(run stop apply -f "$K" --workspace "$WS")
[ "$code" -ne 0 ] && pass "(k) apply fails (exit $code)" || fail "(k) apply exited 0"
grep -q "failed at create compute stop-cpu; nothing after it was applied" "$WORK/stop.err" && pass "(k) names the resource that failed" || fail "(k) $(cat "$WORK/stop.err")"
grep -q "done before it: create data stop-data:1" "$WORK/stop.err" && pass "(k) says what was done before it" || fail "(k) $(cat "$WORK/stop.err")"
check "$(arm GET /data/stop-data/versions/1)" 200 "(k) what came before is applied"
check "$(arm GET /schedules/stop-sched)" 404 "(k) what comes after is not"

echo "$FAILS failure(s)"
[ "$FAILS" -eq 0 ]
