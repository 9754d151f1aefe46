#!/usr/bin/env bash
# Named job outputs end to end: amlops-job submits CLI v2 YAML whose outputs carry `name:` to
# amlops-local; when the job (a command job, then a pipeline job) completes, the output is a new
# version of the data asset, its dataUri holds the files the job wrote, the next run is the next
# version, a job reading azureml:NAME@latest gets the newest, and a failed job registers nothing.
# Usage: output_assets_it.sh BIN_DIR (holding amlops-job and amlops-local)
set -u -o pipefail
BIN=$(cd "$1" && pwd)
for b in amlops-job amlops-local; do
  [ -x "$BIN/$b" ] || { echo "SKIP: $BIN/$b not built"; exit 77; }
done
JOB=$BIN/amlops-job
LOCAL=$BIN/amlops-local
WORK=$(mktemp -d /tmp/amlops-output-assets.XXXXXX)
cleanup() {
  "$LOCAL" stop --data "$WORK/srv" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
. "$(dirname "$0")/../support/checks.sh"

"$LOCAL" serve --port 0 --data "$WORK/srv" --daemon --print-env > "$WORK/srv.env" 2> "$WORK/serve.log" || { cat "$WORK/serve.log"; exit 1; }
# shellcheck disable=SC1091
. "$WORK/srv.env"
export AMLOPS_ARM_ENDPOINT AZURE_AUTHORITY_HOST AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AMLOPS_WORKSPACE
. "$(dirname "$0")/../support/local_arm.sh"
TOKEN=$(local_arm_token)
WS=$(local_ws_path)
arm() {  # arm METHOD REL [BODY]
  curl -sS --fail -X "$1" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
    ${3:+--data "$3"} "$AMLOPS_ARM_ENDPOINT$WS$2?api-version=2025-12-01"
}
versions() {  # versions NAME: "1 2 ..." in creation order
  arm GET "/data/$1/versions" | $PY -c '
import json,sys
v = json.load(sys.stdin)["value"]
print(" ".join(x["name"] for x in sorted(v, key=lambda x: x["systemData"]["createdAt"])))'
}
# The blobs under a data version's dataUri (List Blobs with the datastore's SAS), relative to it.
blobs_of() {  # blobs_of NAME VERSION
  local ds sec
  ds=$(arm GET /datastores/workspaceblobstore)
  sec=$(arm POST /datastores/workspaceblobstore/listSecrets '{"expirableSecret": true, "expireAfterHours": 1}')
  arm GET "/data/$1/versions/$2" | $PY -c '
import json, sys, urllib.parse, urllib.request, xml.etree.ElementTree as ET
base, ds, sec = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
uri = json.load(sys.stdin)["properties"]["dataUri"]
prefix = uri.split("/paths/", 1)[1]
url = "%s/%s/%s?%s&restype=container&comp=list&prefix=%s" % (base, ds["properties"]["accountName"],
    ds["properties"]["containerName"], sec["sasToken"].lstrip("?"), urllib.parse.quote(prefix))
names = [n.text[len(prefix):] for n in ET.fromstring(urllib.request.urlopen(url).read()).iter("Name")]
print(" ".join(sorted(names)))' "$AMLOPS_ARM_ENDPOINT" "$ds" "$sec"
}

cd "$WORK" || exit 1
cat > command.yml <<'YAML'
type: command
command: mkdir -p ${{outputs.reference}}/sub && echo ${{inputs.run}} > ${{outputs.reference}}/stats.txt && echo x > ${{outputs.reference}}/sub/extra.txt
environment: azureml:local-env:1
inputs:
  run: first
outputs:
  reference:
    type: uri_folder
    name: churn-reference
YAML
cat > pipeline.yml <<'YAML'
type: pipeline
outputs:
  reference:
    type: uri_folder
    name: churn-reference
jobs:
  profile:
    type: command
    command: mkdir -p ${{outputs.out}} && echo pipeline > ${{outputs.out}}/stats.txt
    environment: azureml:local-env:1
    outputs:
      out: ${{parent.outputs.reference}}
YAML
cat > consumer.yml <<'YAML'
type: command
command: cat ${{inputs.reference}}/stats.txt
environment: azureml:local-env:1
inputs:
  reference:
    type: uri_folder
    path: azureml:churn-reference@latest
YAML

# 1. A command job: version 1, with the files it wrote.
"$JOB" submit -f command.yml --wait --name ref-cmd-1 > c1.out 2> c1.err && pass "command job with a named output completes" || { fail "command job"; cat c1.err; }
check "$(versions churn-reference)" "1" "the completed job's output is data asset churn-reference:1"
check "$(blobs_of churn-reference 1)" "stats.txt sub/extra.txt" "its dataUri holds the files the job wrote"
check "$(arm GET /jobs/ref-cmd-1 | jq_py /dev/stdin 'd["properties"]["outputs"]["reference"]["assetName"]')" "churn-reference" \
  "the job echoes assetName in its outputs"
check "$(arm GET /data/churn-reference/versions/1 | jq_py /dev/stdin 'd["properties"]["properties"]["azureml.jobName"]')" "ref-cmd-1" \
  "the version names the job that produced it"

# 2. Again: version 2; azureml:churn-reference@latest reads it.
"$JOB" submit -f command.yml --set inputs.run=second --wait --name ref-cmd-2 > c2.out 2> c2.err || { fail "second command job"; cat c2.err; }
check "$(versions churn-reference)" "1 2" "the next run is the next version"
"$JOB" submit -f consumer.yml --wait --stream --name use-1 > u1.out 2> u1.err || { fail "consumer"; cat u1.err; }
grep -q '^second$' u1.err && pass "azureml:churn-reference@latest is the newest version" || { fail "consumer read"; cat u1.err; }

# 3. A failed job registers nothing.
"$JOB" submit -f command.yml --set "command=mkdir -p \${{outputs.reference}} && exit 3" --wait --name ref-fail > f.out 2> f.err
rc=$?
check "$rc" 1 "a failed job exits 1"
check "$(versions churn-reference)" "1 2" "a failed job registers no version"

# 4. A pipeline job: its named output (bound by a step) is version 3.
"$JOB" submit -f pipeline.yml --wait --name ref-pipe > p.out 2> p.err && pass "pipeline with a named output completes" || { fail "pipeline"; cat p.err; }
check "$(versions churn-reference)" "1 2 3" "the pipeline's output is the next version"
check "$(blobs_of churn-reference 3)" "stats.txt" "the pipeline version holds the step's files"
"$JOB" submit -f consumer.yml --wait --stream --name use-2 > u2.out 2> u2.err || { fail "consumer 2"; cat u2.err; }
grep -q '^pipeline$' u2.err && pass "@latest now reads the pipeline's output" || { fail "consumer 2 read"; cat u2.err; }

# 5. A bad asset name is refused before anything is sent (exit 2, file:line:col).
sed 's/name: churn-reference/name: churn reference/' command.yml > bad.yml
"$JOB" submit -f bad.yml --name never > b.out 2> b.err
rc=$?
check "$rc" 2 "a bad output name exits 2"
grep -q 'bad.yml:9:11: .*is not an asset name' b.err && pass "the error names file:line:col" || { fail "bad name message"; cat b.err; }

echo "$FAILS failure(s)"
[ "$FAILS" = 0 ]
