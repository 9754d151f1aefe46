#!/usr/bin/env bash
# amlops-job and amlops-model against amlops-local (started here on a free loopback port):
# the starter-style command job, model registration/list/download, no re-upload of unchanged
# code, failure, timeout, SIGTERM; then the same scenario with 20 % injected faults, checking
# that nothing is created twice.
# Also: --markdown fragments, failures as CI annotations and summaries with the job's last log
# lines, and SIGINT against a server that stopped answering.
# Usage: integration.sh BIN_DIR (holding amlops-job, amlops-model, amlops-local, amlops-report;
# amlops-monitor optional)
set -u -o pipefail
BIN=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
for b in amlops-job amlops-model amlops-local amlops-report; do
  [ -x "$BIN/$b" ] || { echo "SKIP: $BIN/$b not built"; exit 77; }
done
JOB=$BIN/amlops-job
MODEL=$BIN/amlops-model
REPORT=$BIN/amlops-report
LOCAL=$BIN/amlops-local
WORK=$(mktemp -d /tmp/amlops-jobmodel.XXXXXX)
SERVERS=()
cleanup() {
  for d in "${SERVERS[@]}"; do "$LOCAL" stop --data "$d" >/dev/null 2>&1; done
  rm -rf "$WORK"
}
trap cleanup EXIT
. "$(dirname "$0")/../support/checks.sh"

start_server() {  # start_server DATA [extra args...]
  local data=$1; shift
  "$LOCAL" serve --port 0 --data "$data" --daemon --print-env "$@" > "$data.env" 2> "$data.serve.log" || { cat "$data.serve.log"; exit 1; }
  SERVERS+=("$data")
  # shellcheck disable=SC1090
  . "$data.env"
  export AMLOPS_ARM_ENDPOINT AZURE_AUTHORITY_HOST AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AMLOPS_WORKSPACE
}

# Authenticated GET with curl (retrying injected faults), for checks made outside the tools.
arm_get() {
  local tok
  tok=$(curl -sS --fail --retry 20 --retry-all-errors --retry-delay 0 --retry-max-time 60 -X POST "$AZURE_AUTHORITY_HOST/$AZURE_TENANT_ID/oauth2/v2.0/token" \
    -d "client_id=$AZURE_CLIENT_ID&client_secret=$AZURE_CLIENT_SECRET&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default" |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -sS --fail --retry 20 --retry-all-errors --retry-delay 0 --retry-max-time 60 -H "Authorization: Bearer $tok" "$AMLOPS_ARM_ENDPOINT$1"
}
ws_path() {
  $PY - "$AMLOPS_WORKSPACE" <<'PY'
import sys
p = sys.argv[1].replace("azureml://", "").split("/")
d = {p[i].lower(): p[i + 1] for i in range(0, len(p) - 1, 2)}
print(f"/subscriptions/{d['subscriptions']}/resourceGroups/{d['resourcegroups']}/providers/Microsoft.MachineLearningServices/workspaces/{d['workspaces']}")
PY
}

scenario() {  # scenario LABEL: the starter job, model register/list/download
  local label=$1
  cp -r "$HERE/starter" "$WORK/$label"
  cd "$WORK/$label" || exit 1
  git init -q . && git add -A && git -c user.name=t -c user.email=t@example.com commit -qm starter
  local head
  head=$(git rev-parse HEAD)
  "$JOB" submit -f job.yml --stream --name "train-$label" -o json > submit.json 2> submit.err
  local rc=$?
  [ $rc -eq 0 ] && pass "$label: submit --stream exits 0" || { fail "$label: submit exit $rc"; cat submit.err; }
  [ "$(jq_py submit.json 'd["status"]')" = Completed ] && pass "$label: Completed" || fail "$label: status $(cat submit.json)"
  [ "$(jq_py submit.json 'd["metrics"]["accuracy"]')" = 0.903 ] && pass "$label: metrics from MLflow" || fail "$label: metrics $(cat submit.json)"
  grep -q "training lr=0.01 epochs=3" submit.err && pass "$label: log streamed" || { fail "$label: log not streamed"; cat submit.err; }
  [ -n "$(jq_py submit.json 'd["studio_url"]')" ] && pass "$label: studio_url" || fail "$label: no studio_url"

  "$MODEL" register --name fraud --from-job "train-$label" --tag stage=candidate -o json > reg1.json 2> reg1.err || { fail "$label: register"; cat reg1.err; }
  "$MODEL" register --name fraud --from-job "train-$label" --tag stage=candidate -o json > reg2.json 2> reg2.err || { fail "$label: register again"; cat reg2.err; }
  [ "$(jq_py reg1.json 'd["version"]')" = "$(jq_py reg2.json 'd["version"]')" ] && pass "$label: registering twice returns the same version" || fail "$label: versions differ"
  [ "$(jq_py reg1.json 'd["tags"]["metric.accuracy"]')" = 0.903 ] && pass "$label: metrics copied into tags" || fail "$label: tags $(cat reg1.json)"
  [ "$(jq_py reg1.json 'd["properties"]["amlops.job"]')" = "train-$label" ] && pass "$label: provenance in properties" || fail "$label: properties"
  [ "$(jq_py reg1.json 'd["properties"]["amlops.git_commit"]')" = "$head" ] && pass "$label: the job's commit tag reaches the model" || fail "$label: git commit $(cat reg1.json)"
  "$MODEL" list --name fraud --tag stage=candidate -o json > list.json || fail "$label: list"
  [ "$(jq_py list.json 'len(d)')" = 1 ] && pass "$label: listed by tag" || fail "$label: list $(cat list.json)"
  "$MODEL" list --name fraud --tag stage=prod -o json > list2.json || fail "$label: list prod"
  [ "$(jq_py list2.json 'len(d)')" = 0 ] && pass "$label: tag filter excludes" || fail "$label: list prod $(cat list2.json)"
  local v
  v=$(jq_py reg1.json 'd["version"]')
  "$MODEL" download "fraud:$v" --to dl -o json > dl.json 2> dl.err || { fail "$label: download"; cat dl.err; }
  [ "$(cat dl/model.pkl 2>/dev/null)" = weights ] && pass "$label: model downloaded" || fail "$label: download content"
}

# ---- 1. the scenario against a clean server --------------------------------------------------
start_server "$WORK/srv-plain"
scenario plain
cd "$WORK/plain" || exit 1

# A second submit with unchanged code uploads no blob (amlops-local's request log).
BASE=${AMLOPS_ARM_ENDPOINT}
since=$(curl -sS "$BASE/_amlops/requests" | $PY -c 'import json,sys; print(json.load(sys.stdin)["next"])')
"$JOB" submit -f job.yml --wait --name second -o json > second.json 2> second.err || { fail "second submit"; cat second.err; }
curl -sS "$BASE/_amlops/requests?since=$since" > reqlog.json
uploads=$($PY -c '
import json,sys
r = json.load(open("reqlog.json"))["requests"]
print(sum(1 for x in r if x["method"] == "PUT" and "/providers/" not in x["path"]))' )
puts=$($PY -c '
import json
r = json.load(open("reqlog.json"))["requests"]
print(sum(1 for x in r if x["method"] == "PUT" and "/jobs/second" in x["path"]))')
[ "$uploads" = 0 ] && [ "$puts" -ge 1 ] && pass "second submit: no blob upload (request log)" || { fail "second submit uploaded $uploads blobs"; cat reqlog.json; }

# --name of an existing job: the same spec is not submitted again; another spec is refused (exit 2).
"$JOB" submit -f job.yml --wait --name second -o json > again.json 2> again.err
rc=$?
[ $rc -eq 0 ] && grep -q "already submitted second" again.err && [ "$(jq_py again.json 'd["status"]')" = Completed ] && pass "same spec, same name: the existing job" || { fail "resubmit same spec exit $rc"; cat again.err; }
"$JOB" submit -f job.yml --set inputs.lr=0.5 --name second > taken.out 2> taken.err
rc=$?
[ $rc -eq 2 ] && grep -q "job name 'second' is taken" taken.err && pass "another spec under a taken name: exit 2" || { fail "taken name exit $rc"; cat taken.err; }

# Each step output is written once.
GITHUB_ACTIONS=true GITHUB_OUTPUT="$WORK/once.outputs" GITHUB_STEP_SUMMARY="$WORK/once.summary" \
  "$JOB" submit -f job.yml --name outputs-once > once.out 2> once.err || { fail "submit on GitHub"; cat once.err; }
n=$(grep -c '^name<<' "$WORK/once.outputs")
[ "$n" = 1 ] && pass "submit writes the name output once" || { fail "name output written $n times"; cat "$WORK/once.outputs"; }

# A failing script: exit 1 and its error in the log.
"$JOB" submit -f job.yml --stream --set inputs.fail=yes --name failing > fail.out 2> fail.err
rc=$?
[ $rc -eq 1 ] && pass "failing job exits 1" || fail "failing job exit $rc"
grep -q "ValueError: training data is empty" fail.err && pass "the script's error is in the streamed log" || { fail "error not in log"; cat fail.err; }
"$JOB" logs failing > logs.out 2> logs.err
grep -q "ValueError: training data is empty" logs.out && pass "amlops-job logs prints it" || { fail "logs"; cat logs.out logs.err; }

# --timeout 2s on a sleeping job: exit 3, the job ends Canceled.
"$JOB" submit -f job.yml --wait --timeout 2s --set inputs.sleep=60 --name sleepy > sleepy.out 2> sleepy.err
rc=$?
[ $rc -eq 3 ] && pass "timeout exits 3" || { fail "timeout exit $rc"; cat sleepy.err; }
"$JOB" show sleepy -o json > sleepy.json
[ "$(jq_py sleepy.json 'd["status"]')" = Canceled ] && pass "timed-out job Canceled" || fail "sleepy: $(cat sleepy.json)"

# SIGTERM during a wait: exit 130, the job ends Canceled.
"$JOB" submit -f job.yml --wait --set inputs.sleep=60 --name termed > termed.out 2> termed.err &
pid=$!
for _ in $(seq 1 100); do grep -q "termed: Running" termed.err 2>/dev/null && break; sleep 0.1; done
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 130 ] && pass "SIGTERM exits 130" || { fail "SIGTERM exit $rc"; cat termed.err; }
"$JOB" show termed -o json > termed.json
[ "$(jq_py termed.json 'd["status"]')" = Canceled ] && pass "interrupted job Canceled" || fail "termed: $(cat termed.json)"

# A pipeline (two inline steps, a step output feeding the next) and a grid sweep.
"$JOB" submit -f pipeline.yml --stream -o json > pipe.json 2> pipe.err
rc=$?
[ $rc -eq 0 ] && [ "$(jq_py pipe.json 'd["status"]')" = Completed ] && pass "pipeline Completed" || { fail "pipeline exit $rc"; cat pipe.err; }
grep -q "train got \['clean.csv'\] lr 0.05" pipe.err && pass "pipeline: the step's logs streamed, the output bound" || { fail "pipeline logs"; cat pipe.err; }
# A model registered from the pipeline's output carries the metrics of the step that wrote it.
pipe_name=$(jq_py pipe.json 'd["name"]')
"$MODEL" register --name pipe-model --from-job "$pipe_name" --output-name final_model -o json > pipe-model.json 2> pipe-model.err \
  || { fail "register from the pipeline"; cat pipe-model.err; }
[ "$(jq_py pipe-model.json 'd["tags"].get("metric.accuracy")')" = 0.875 ] \
  && pass "register --from-job PIPELINE: the train step's metrics" || { fail "pipeline model tags"; cat pipe-model.json; }
"$JOB" submit -f sweep.yml --wait -o json > sweep.json 2> sweep.err
rc=$?
[ $rc -eq 0 ] && [ "$(jq_py sweep.json 'd["status"]')" = Completed ] && pass "sweep Completed" || { fail "sweep exit $rc"; cat sweep.err; }

# environment: azureml:NAME@latest is submitted as the newest version of NAME.
WS=$(ws_path)
for v in 1 2; do
  printf 'name: latestenv\nversion: "%s"\nimage: python:3.11-slim\n' $v > env$v.yml
  "$JOB" submit -f job.yml --wait --set environment=env$v.yml --name "env-v$v" > env$v.out 2> env$v.err || { fail "submit with env$v.yml"; cat env$v.err; }
done
"$JOB" submit -f job.yml --wait --set environment=azureml:latestenv@latest --name env-latest > envl.out 2> envl.err || { fail "submit @latest"; cat envl.err; }
arm_get "$WS/jobs/env-latest?api-version=2025-12-01" > envl.json
case "$(jq_py envl.json 'd["properties"]["environmentId"]')" in
  */environments/latestenv/versions/2) pass "@latest resolved to the newest environment version" ;;
  *) fail "@latest: $(cat envl.json)" ;;
esac
"$JOB" submit -f job.yml --set environment=azureml:nosuchenv@latest --name env-none > envn.out 2> envn.err
rc=$?
[ $rc -eq 2 ] && grep -q "nosuchenv@latest: no version" envn.err && pass "@latest of a missing environment: exit 2" || { fail "missing @latest exit $rc"; cat envn.err; }

# A workspace that does not exist is an error (exit 4, its URL and status), not an empty list.
BADWS=$(echo "$AMLOPS_WORKSPACE" | sed 's|workspaces/[^/]*|workspaces/nosuch|')
"$MODEL" list --name fraud --workspace "$BADWS" -o json > badws.out 2> badws.err
rc=$?
[ $rc -eq 4 ] && grep -q "workspaces/nosuch: HTTP 404" badws.err && [ ! -s badws.out ] && pass "model list in a missing workspace: exit 4" || { fail "model list missing workspace exit $rc"; cat badws.out badws.err; }
"$MODEL" list --name no-such-model -o json > nomodel.json 2> nomodel.err
rc=$?
[ $rc -eq 0 ] && [ "$(jq_py nomodel.json 'len(d)')" = 0 ] && pass "model list of a model without versions: []" || { fail "no-such-model exit $rc"; cat nomodel.err; }

# -f means --file everywhere: 'logs' follows with --follow only.
"$JOB" logs --follow env-latest > follow.out 2> follow.err && grep -q "training lr=0.01" follow.out && pass "logs --follow" || { fail "logs --follow"; cat follow.err; }
"$JOB" logs -f env-latest > /dev/null 2> logsf.err
rc=$?
[ $rc -eq 2 ] && pass "logs -f is not --follow (exit 2)" || { fail "logs -f exit $rc"; cat logsf.err; }

# Usage errors: exit 2 with file:line:col.
printf 'type: command\ncommand: echo ${{inputs.nope}}\nenvironment: azureml:e:1\n' > bad.yml
"$JOB" submit -f bad.yml > bad.out 2> bad.err
rc=$?
[ $rc -eq 2 ] && grep -q "bad.yml:2:15: undefined input 'nope'" bad.err && pass "undefined binding: exit 2 with file:line:col" || { fail "bad yaml exit $rc"; cat bad.err; }

# A SAS URI as --path: its signature reaches neither the results nor the CI step summary.
SAS='https://acct.blob.core.windows.net/c/m.pkl?sv=2021-08-06&sr=b&sp=r&sig=SECRETSIG42'
for fmt in text json; do
  GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$WORK/sas.summary" GITHUB_OUTPUT="$WORK/sas.outputs" \
    "$MODEL" register --name sasmodel --path "$SAS" -o $fmt > "sas.$fmt" 2> sas.err || { fail "register SAS URI"; cat sas.err; }
done
"$MODEL" show sasmodel:1 -o json > sas.show 2>> sas.err || fail "show SAS model"
if grep -q SECRETSIG42 sas.text sas.json sas.show "$WORK/sas.summary"; then
  fail "the SAS signature was printed"; grep SECRETSIG42 sas.text sas.json sas.show "$WORK/sas.summary"
else
  grep -q "sig=REDACTED" sas.json && pass "SAS signature redacted in results and summary" || { fail "no model_uri"; cat sas.json; }
fi

# A wait that outlives a restart of the server: the job ends Failed and its error is printed.
start_server "$WORK/srv-restart"
PORT=${AMLOPS_ARM_ENDPOINT##*:}
"$JOB" submit -f job.yml --wait --set inputs.sleep=60 --name restarted -o json > restarted.json 2> restarted.err &
pid=$!
for _ in $(seq 1 100); do grep -q "restarted: Running" restarted.err 2>/dev/null && break; sleep 0.1; done
"$LOCAL" stop --data "$WORK/srv-restart" > /dev/null 2>&1
"$LOCAL" serve --port "$PORT" --data "$WORK/srv-restart" --daemon > /dev/null 2>> "$WORK/srv-restart.serve.log" || fail "restart the server"
wait $pid
rc=$?
if [ $rc -eq 1 ] && grep -q "job restarted ended Failed: Service" restarted.err && grep -q "Service" <<< "$(jq_py restarted.json 'd.get("error", "")')"; then
  pass "wait across a server restart: exit 1 with the job's error"
else
  fail "restart: exit $rc"; cat restarted.err restarted.json
fi

# ---- --markdown: a report fragment that amlops-report shows ---------------------------------
# (cwd $WORK/plain: the repository is checked out in the subfolder "plain" of GITHUB_WORKSPACE)
GH=(env GITHUB_ACTIONS=true GITHUB_WORKSPACE="$WORK" GITHUB_OUTPUT="$WORK/gh.outputs")
"$JOB" submit -f job.yml --wait --name md-ok --markdown job.md > mdok.out 2> mdok.err || { fail "submit --markdown"; cat mdok.err; }
if grep -q "^title: Training job$" job.md && grep -q "^status: pass$" job.md && grep -q "^verdict: Completed in .* — accuracy 0.903" job.md; then
  pass "submit --wait --markdown writes the job fragment"
else
  fail "job fragment"; cat job.md
fi
"$REPORT" summary --fragment job.md > mdsum.out 2> mdsum.err
grep -q "Training job" mdsum.out && grep -q "Completed in .* — accuracy 0.903" mdsum.out && pass "amlops-report summary shows the job fragment" || { fail "report summary"; cat mdsum.out mdsum.err; }
"${GH[@]}" GITHUB_STEP_SUMMARY="$WORK/mdok.summary" "$JOB" wait md-ok > /dev/null 2> mdwait.err || { fail "wait on GitHub"; cat mdwait.err; }
grep -q "Training job" "$WORK/mdok.summary" && grep -q "Completed in .* — accuracy 0.903" "$WORK/mdok.summary" && pass "the step summary has the same title and verdict" || { fail "step summary"; cat "$WORK/mdok.summary"; }
head=$(git rev-parse HEAD)
"$MODEL" register --name churn --from-job md-ok --markdown model.md > mdreg.out 2> mdreg.err || { fail "register --markdown"; cat mdreg.err; }
if grep -q "^title: Model$" model.md && grep -q "^verdict: registered churn:1 (from job md-ok, commit ${head:0:7})$" model.md; then
  pass "model register --markdown writes the model fragment"
else
  fail "model fragment"; cat model.md
fi
"$REPORT" summary --fragment job.md --fragment model.md > mdsum2.out 2> mdsum2.err
grep -q "registered churn:1 (from job md-ok" mdsum2.out && pass "amlops-report summary shows the model fragment" || { fail "report summary model"; cat mdsum2.out mdsum2.err; }

# ---- provenance: the model names the data version its job consumed --------------------------
# churn-data versions 1 and 2 (files in the workspace blob store), a job on azureml:churn-data:2.
$PY - "$(ws_path)" data.csv <<'PY' > prov-data.out 2>&1 || { fail "register churn-data"; cat prov-data.out; }
import json, os, sys, urllib.parse, urllib.request
base, ws, csv = os.environ["AMLOPS_ARM_ENDPOINT"], sys.argv[1], open(sys.argv[2], "rb").read()
form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": os.environ["AZURE_CLIENT_ID"],
                               "client_secret": os.environ["AZURE_CLIENT_SECRET"],
                               "scope": "https://management.azure.com/.default"}).encode()
tok = json.load(urllib.request.urlopen(os.environ["AZURE_AUTHORITY_HOST"] + "/" + os.environ["AZURE_TENANT_ID"] + "/oauth2/v2.0/token", form))["access_token"]
def arm(method, rel, body):
    req = urllib.request.Request(base + ws + rel + "?api-version=2025-12-01", json.dumps(body).encode(), method=method,
                                 headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
req = urllib.request.Request(base + ws + "/datastores/workspaceblobstore?api-version=2025-12-01", headers={"Authorization": "Bearer " + tok})
ds = json.load(urllib.request.urlopen(req))["properties"]
sas = arm("POST", "/datastores/workspaceblobstore/listSecrets", {"expirableSecret": True})["sasToken"].lstrip("?")
for v in ("1", "2"):
    url = "%s/%s/churn/v%s/data.csv?%s" % (ds["blobServiceUri"], ds["containerName"], v, sas)
    urllib.request.urlopen(urllib.request.Request(url, csv, method="PUT", headers={"x-ms-blob-type": "BlockBlob"}))
    arm("PUT", "/data/churn-data/versions/" + v, {"properties": {"dataType": "uri_file",
        "dataUri": "azureml://datastores/workspaceblobstore/paths/churn/v%s/data.csv" % v}})
print("registered")
PY
sed 's#path: ./data.csv#path: azureml:churn-data:2#' job.yml > prov.yml
"$JOB" submit -f prov.yml --wait --name prov-job -o json > prov.json 2> prov.err || { fail "submit on churn-data:2"; cat prov.err; }
arm_get "$(ws_path)/jobs/prov-job?api-version=2025-12-01" > prov-job.json
[ "$(jq_py prov-job.json 'd["properties"]["properties"]["amlops.data.data"]')" = "churn-data:2" ] && pass "the job records the data version it consumed" || { fail "job provenance"; cat prov-job.json; }
"$MODEL" register --name churn-model --from-job prov-job -o json > prov-reg.json 2> prov-reg.err || { fail "register from prov-job"; cat prov-reg.err; }
[ "$(jq_py prov-reg.json 'd["tags"]["amlops.data.data"]')" = "churn-data:2" ] && pass "the model registered from the job carries churn-data:2" || { fail "model provenance"; cat prov-reg.json; }

# ---- failures where people look: annotations and summaries ----------------------------------
"${GH[@]}" GITHUB_STEP_SUMMARY="$WORK/failed.summary" "$JOB" submit -f job.yml --wait --set inputs.fail=yes --name failing-gh --markdown failed.md > failgh.out 2> failgh.err
rc=$?
[ $rc -eq 1 ] && pass "failed job on GitHub: exit 1" || fail "failed job on GitHub: exit $rc"
grep -q "^::error file=plain/job.yml,title=Training job Failed::job failing-gh ended Failed" failgh.err && pass "failed job: ::error annotation on the YAML, relative to GITHUB_WORKSPACE" || { fail "failed job annotation"; cat failgh.err; }
grep -q "ValueError: training data is empty" "$WORK/failed.summary" && grep -q "Last .* lines of the job's log" "$WORK/failed.summary" && pass "failed job: the summary has the last log lines" || { fail "failed job summary"; cat "$WORK/failed.summary"; }
grep -q "ValueError: training data is empty" failgh.err && pass "failed job without --stream: the last log lines on stderr" || { fail "no log tail on stderr"; cat failgh.err; }
grep -q "^status: fail$" failed.md && grep -q "^verdict: Failed: " failed.md && pass "failed job: fragment status fail" || { fail "failed fragment"; cat failed.md; }
"${GH[@]}" GITHUB_STEP_SUMMARY="$WORK/bad.summary" "$JOB" submit -f bad.yml > badgh.out 2> badgh.err
rc=$?
[ $rc -eq 2 ] && grep -q "^::error file=plain/bad.yml,line=2,col=15,title=Invalid job YAML::undefined input 'nope'" badgh.err && pass "unresolved binding: ::error at file:line:col" || { fail "binding annotation exit $rc"; cat badgh.err; }
grep -q "Invalid job YAML: .*undefined input 'nope'" "$WORK/bad.summary" && pass "unresolved binding: in the step summary" || { fail "binding summary"; cat "$WORK/bad.summary"; }
env TF_BUILD=True BUILD_SOURCESDIRECTORY="$WORK" AGENT_TEMPDIRECTORY="$WORK" "$JOB" submit -f bad.yml > badaz.out 2> badaz.err
grep -q "^##vso\[task.logissue type=error;sourcepath=plain/bad.yml;linenumber=2;columnnumber=15\]Invalid job YAML: undefined input 'nope'" badaz.err && pass "unresolved binding: task.logissue on Azure Pipelines" || { fail "binding logissue"; cat badaz.err; }
if [ -x "$BIN/amlops-monitor" ]; then
  printf 'y,p\n1,1\n0,1\n1,0\n0,0\n1,1\n0,1\n' > scored.csv
  "${GH[@]}" GITHUB_STEP_SUMMARY="$WORK/perf.summary" "$BIN/amlops-monitor" performance --data scored.csv --label y --prediction p --min accuracy=0.9 --fail-on-drift > perf.out 2> perf.err
  rc=$?
  [ $rc -eq 1 ] && grep -q "^::error title=Performance check failed::.*accuracy" perf.err && pass "failed performance check: ::error annotation" || { fail "performance annotation exit $rc"; cat perf.err; }
else
  echo "skip: amlops-monitor not built"
fi

# ---- a job's log never drives the CI host ---------------------------------------------------
# The job prints GitHub and Azure DevOps workflow commands; `--stream` passes its log on under each
# host's environment, and each output is read the way that runner reads it: no command of the
# job's may take effect, and the lines are still shown.
mkdir -p hostile
cat > hostile/hostile.py <<'PY'
for line in ["::error file=x.py::planted", "  ::add-mask::planted-mask", "::set-output name=evil::planted",
             "##vso[task.setvariable variable=EVIL]planted", "see ##vso[task.complete result=Failed;]planted",
             "##[error]planted", "\t::warning::planted"]:
    print(line, flush=True)
PY
printf 'type: command\ncode: ./hostile\ncommand: python hostile.py\nenvironment: azureml:sklearn-env:1\n' > hostile.yml
runner_commands() {  # runner_commands github|azure FILE...: the workflow commands the runner would run
  $PY - "$@" <<'PY'
import re, sys
host, files = sys.argv[1], sys.argv[2:]
for f in files:
    stop = None
    for line in open(f, encoding="utf-8", errors="replace").read().splitlines():
        s = line.lstrip()
        if host == "github":
            if stop is not None:
                if s == "::" + stop + "::":
                    stop = None
                continue
            if s.startswith("::stop-commands::"):
                stop = s[len("::stop-commands::"):]
            elif re.match(r"::[a-z-]+( [^:]*)?::", s):
                print(s)
        else:
            if re.search(r"##vso\[", line, re.I) or s.startswith("##["):
                print(line)
PY
}
hostile_run() {  # hostile_run github|azure SHOWN_PATTERN ENV...: stream the job under that host
  local host=$1 shown=$2; shift 2
  env "$@" "$JOB" submit -f hostile.yml --name "hostile-$host" --wait --stream > "hostile-$host.out" 2> "hostile-$host.err" ||
    { fail "hostile job on $host"; cat "hostile-$host.err"; }
  if runner_commands "$host" "hostile-$host.out" "hostile-$host.err" | grep -q planted; then
    fail "$host: the runner would run a command from the job's log"; runner_commands "$host" "hostile-$host.out" "hostile-$host.err"
  elif grep -q "$shown" "hostile-$host.err" "hostile-$host.out"; then
    pass "$host: the job's workflow commands are shown and inert"
  else
    fail "$host: the job's log was not streamed"; cat "hostile-$host.err"
  fi
}
hostile_run github "::error file=x.py::planted" \
  GITHUB_ACTIONS=true GITHUB_OUTPUT="$WORK/hostile.outputs" GITHUB_STEP_SUMMARY="$WORK/hostile.summary"
hostile_run azure "vso\[task.setvariable variable=EVIL\]planted" \
  TF_BUILD=True AGENT_TEMPDIRECTORY="$WORK" BUILD_SOURCESDIRECTORY="$WORK"

# ---- SIGINT while the server does not answer -------------------------------------------------
start_server "$WORK/srv-stop"
SPID=$(jq_py "$WORK/srv-stop/server.json" 'd["pid"]')
sigint_case() {  # sigint_case NAME SIGNALS: submit a long job, stop the server, interrupt the client
  local name=$1 count=$2
  "$JOB" submit -f job.yml --wait --set inputs.sleep=60 --name "$name" > "$name.out" 2> "$name.err" &
  local pid=$!
  for _ in $(seq 1 150); do grep -q "$name: Running" "$name.err" 2>/dev/null && break; sleep 0.1; done
  kill -STOP "$SPID"
  sleep 1
  kill -INT $pid
  if [ "$count" = 2 ]; then sleep 0.5; kill -INT $pid 2>/dev/null; fi
  local waited=0
  while kill -0 $pid 2>/dev/null && [ $waited -lt 200 ]; do sleep 0.1; waited=$((waited + 1)); done
  if kill -0 $pid 2>/dev/null; then
    fail "$name: still running 20 s after SIGINT"; kill -KILL $pid
  fi
  wait $pid
  local rc=$?
  kill -CONT "$SPID"
  echo "$name: exited after $((waited / 10)).$((waited % 10)) s"
  [ $rc -eq 130 ] && pass "$name: SIGINT against a silent server exits 130" || { fail "$name: exit $rc"; cat "$name.err"; }
  if grep -q "could not be confirmed" "$name.err" && ! grep -q "the job was canceled" "$name.err"; then
    pass "$name: says the cancel could not be confirmed"
  else
    fail "$name: cancel message"; cat "$name.err"
  fi
}
sigint_case silent 1
sigint_case silent-twice 2
grep -q "interrupted again" silent-twice.err && pass "a second SIGINT stops the cancel" || { fail "second SIGINT"; cat silent-twice.err; }

# ---- 2. the same scenario with 20 % injected faults ------------------------------------------
start_server "$WORK/srv-faulty" --faults 429=0.07,503=0.07,reset=0.06 --fault-seed 7
scenario faulty
WS=$(ws_path)
arm_get "$WS/jobs?api-version=2025-12-01" > "$WORK/jobs.json"
n=$($PY -c 'import json,sys; print(sum(1 for j in json.load(open(sys.argv[1]))["value"] if j["name"] == "train-faulty"))' "$WORK/jobs.json")
total=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["value"]))' "$WORK/jobs.json")
[ "$n" = 1 ] && [ "$total" = 1 ] && pass "faults: one job" || fail "faults: $total jobs"
code=$($PY -c 'import json,sys; j=[j for j in json.load(open(sys.argv[1]))["value"] if j["name"] == "train-faulty"][0]; print(j["properties"]["codeId"].split("/codes/")[1].split("/")[0])' "$WORK/jobs.json")
arm_get "$WS/codes/$code/versions?api-version=2025-12-01" > "$WORK/codev.json"
cv=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["value"]))' "$WORK/codev.json")
[ "$cv" = 1 ] && pass "faults: one code version" || fail "faults: $cv code versions of $code"
arm_get "$WS/models/fraud/versions?api-version=2025-12-01" > "$WORK/models.json"
mv=$($PY -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["value"]))' "$WORK/models.json")
[ "$mv" = 1 ] && pass "faults: one model version" || fail "faults: $mv model versions"
injected=$(curl -sS "$AMLOPS_ARM_ENDPOINT/_amlops/requests" | $PY -c 'import json,sys; r=json.load(sys.stdin)["requests"]; print(sum(1 for x in r if x.get("fault")), len(r))')
echo "faults injected / requests: $injected"

echo "failures: $FAILS"
[ $FAILS -eq 0 ]
