#!/usr/bin/env bash
# The whole MLOps loop on templates/starter against amlops-local on loopback, with the real
# binaries: setup apply -> lint -> train (streamed) -> register -> promote (no champion) -> rollout
# blue with a smoke test -> score a clean and a drifted production batch through the endpoint (the
# data collector keeps them) -> monitor the collected data -> decide -> retrain on more data ->
# register -> gate against the champion -> promote or block -> canary rollout of green.
# Nothing leaves this machine. Reports, the PR comment and a summary land in demo-output/.
#
# Usage: scripts/demo.sh [BIN_DIR]   (default build/bin)
# Settings (environment): AMLOPS_DEMO_OUT (default ./demo-output), AMLOPS_DEMO_DIR (work folder,
# default build/demo), AMLOPS_DEMO_SOAK (soak per rollout step, default 2s), AMLOPS_DEMO_COUNT
# (health-check requests per step, default 20), AMLOPS_DEMO_STEPS (canary steps, default 10,50,100).
#
# The first model comes from the pipeline (prep -> train -> evaluate; `model register --from-job`
# takes the metrics of the train step, which wrote the pipeline's `model` output); the retrain runs
# the command job (jobs/train.yml) on the training batch plus the labelled drifted batch.
set -euo pipefail
t_start=$(date +%s)
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(cd "${1:-$root/build/bin}" && pwd)"
starter="$root/templates/starter"
work="${AMLOPS_DEMO_DIR:-$root/build/demo}"
out="${AMLOPS_DEMO_OUT:-$root/demo-output}"
soak="${AMLOPS_DEMO_SOAK:-2s}"
count="${AMLOPS_DEMO_COUNT:-20}"
steps="${AMLOPS_DEMO_STEPS:-10,50,100}"
py=/usr/bin/python3
export PATH="$bin:$PATH"
unset GITHUB_ACTIONS TF_BUILD GITHUB_OUTPUT GITHUB_STEP_SUMMARY

n=0
step() { n=$((n + 1)); printf '\n\033[1m== %d. %s\033[0m\n' "$n" "$*"; }
say() { printf '   -> %s\n' "$*"; }
jget() { "$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
summary() { echo "$*" >> "$out/summary.md"; }

rm -rf "$work" "$out"
mkdir -p "$work/local" "$out/fragments" "$out/json"
printf '# amlops demo: the MLOps loop on templates/starter (amlops-local)\n\n' > "$out/summary.md"

step "start amlops-local (workspaces dev and prod, registry churn-registry)"
# The environment's image is ignored locally: jobs and deployments run Debian's python3 (scikit-learn).
printf 'environments:\n  "*":\n    python: %s\n' "$py" > "$work/local/config.yml"
eval "$(amlops-local serve --daemon --print-env --data "$work/local" --workspace-name dev --workspace-name prod \
  --registry-name churn-registry)"
trap 'amlops-local stop --data "$work/local" >/dev/null 2>&1 || true' EXIT
ws_base="${AMLOPS_WORKSPACE%/workspaces/*}"
DEV="$ws_base/workspaces/dev"
PROD="$ws_base/workspaces/prod"
say "amlops-local: $AMLOPS_ARM_ENDPOINT"
say "dev: $DEV"
say "prod: $PROD (promotes into the registry churn-registry)"
# The starter's amlops.yml with this machine's workspaces; the monitor's reference is the data
# asset churn-reference (the scored test split) that the training job registers in dev and
# promotion (promotion.data) copies into prod with the model.
"$py" - "$starter/amlops.yml" "$work/amlops.yml" "$DEV" "$PROD" <<'PY'
import re, sys
src, dst, dev, prod = sys.argv[1:]
text = open(src).read()
text = re.sub(r"(\n  dev:\n    workspace: ).*", lambda m: m.group(1) + dev, text)
text = re.sub(r"(\n  prod:\n    workspace: ).*", lambda m: m.group(1) + prod, text)
text = re.sub(r"\n  current: .*", "", text)  # the current data is the endpoint's collected data
open(dst, "w").write(text)
PY
cfg="$work/amlops.yml"

step "setup apply: the starter's compute, data asset, environments and schedule, in dev and prod"
for env in dev prod; do
  if [ "$env" = dev ]; then ws=$DEV; else ws=$PROD; fi
  amlops-setup apply -f "$starter" --workspace "$ws" --output json > "$out/json/setup-$env.json"
  say "$env: $(jget "$out/json/setup-$env.json" '", ".join(f"{v} {k}" for k, v in d["summary"].items())')"
done
amlops-setup apply -f "$starter" --workspace "$DEV" --markdown "$out/fragments/setup.md" \
  --output json > "$out/json/setup-again.json"
say "applied again: $(jget "$out/json/setup-again.json" '", ".join(f"{v} {k}" for k, v in d["summary"].items())')"
summary "- setup (dev): $(jget "$out/json/setup-dev.json" 'd["summary"]'); applied again: $(jget "$out/json/setup-again.json" 'd["summary"]')"

step "lint the ML repository (Azure ML YAML, argparse flags, secrets, pins, pipelines)"
amlops lint check "$starter" --no-history --markdown "$out/fragments/lint.md"
summary "- lint: no findings"

export AMLOPS_WORKSPACE="$DEV"
step "train: upload the code, submit the pipeline jobs/pipeline.yml (prep -> train -> evaluate), stream its logs"
job1="churn-pipeline-$(date +%s)-1"
amlops job submit -f "$starter/jobs/pipeline.yml" --name "$job1" --stream --timeout 10m --markdown "$out/fragments/train.md"
amlops job show "$job1" --output json > "$out/json/job1.json"
amlops job metrics "$job1"
summary "- train: job $job1 $(jget "$out/json/job1.json" 'd.get("status") or d["properties"]["status"]')"

step "register the model from the pipeline's output (the train step's metrics and the provenance copied onto the version)"
amlops model register --name churn --from-job "$job1" --output-name model --tag stage=candidate \
  --tag amlops.git_commit="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo demo)" --output json > "$out/json/register1.json"
v1=$(jget "$out/json/register1.json" 'd["version"]')
say "registered churn:$v1"
summary "- register: churn:$v1"

step "promote churn:$v1 to prod: no champion yet, so the thresholds alone decide"
amlops promote promote --candidate "churn:$v1" --to prod --config "$cfg" --markdown "$out/fragments/promote1.md" \
  --output json > "$out/json/promote1.json"
say "decision: $(jget "$out/json/promote1.json" 'd["decision"]') (target $(jget "$out/json/promote1.json" 'd.get("target")'))"
say "reference data in prod: $(jget "$out/json/promote1.json" '", ".join(x["name"] + ":" + x["version"] + " (" + x["status"] + ", from dev " + x["name"] + ":" + x["source_version"] + ")" for x in d.get("data", [])) or "none"')"
summary "- promote churn:$v1: $(jget "$out/json/promote1.json" 'd["decision"]'); reference data in prod: $(jget "$out/json/promote1.json" '", ".join(x["name"] + ":" + x["version"] for x in d.get("data", [])) or "none"')"

export AMLOPS_WORKSPACE="$PROD"
step "rollout blue in prod from the registry, with a smoke test (a first deployment goes to 100 %)"
amlops-deploy rollout --endpoint "$starter/endpoints/endpoint.yml" --deployment "$starter/endpoints/deployment.yml" \
  --model "azureml://registries/churn-registry/models/churn/versions/$v1" \
  --smoke-request "$starter/endpoints/smoke-request.json" --soak "$soak" --count "$count" \
  --markdown "$out/fragments/rollout-blue.md" --output json > "$out/json/rollout-blue.json"
say "blue: $(jget "$out/json/rollout-blue.json" 'd["state"]'), traffic $(jget "$out/json/rollout-blue.json" 'd["traffic"]')"
summary "- rollout blue: $(jget "$out/json/rollout-blue.json" 'd["state"]')"

step "production: score a clean batch (data/stable), then a drifted one (data/current), through the scoring URI"
# The key is read from listKeys with the same credential as the tools; it is never printed.
cat > "$work/local_api.py" <<'PY'
"""The demo's own calls to the workspace, with the tools' credential (the endpoint key is never printed).
  score URI WS CSV...: sends the batches as production traffic with the starter's src/send_batch.py
  registry WS OUT:     writes the registry's versions of churn (tags included) to OUT"""
import json, os, sys, urllib.parse, urllib.request
API = "api-version=2025-12-01"
def call(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)
def token():
    return call(os.environ["AZURE_AUTHORITY_HOST"].rstrip("/") + "/" + os.environ["AZURE_TENANT_ID"] + "/oauth2/v2.0/token",
                urllib.parse.urlencode({"client_id": os.environ["AZURE_CLIENT_ID"], "client_secret": os.environ["AZURE_CLIENT_SECRET"],
                                        "grant_type": "client_credentials", "scope": "https://management.azure.com/.default"}).encode())["access_token"]
def arm(ws, kind):
    p = ws.split("/")
    return (os.environ["AMLOPS_ARM_ENDPOINT"].rstrip("/") +
            f"/subscriptions/{p[3]}/resourceGroups/{p[5]}/providers/Microsoft.MachineLearningServices/{kind}")
cmd, ws = sys.argv[1], sys.argv[3] if sys.argv[1] == "score" else sys.argv[2]
auth = {"Authorization": "Bearer " + token()}
if cmd == "registry":
    got = call(arm(ws, "registries/churn-registry/models/churn/versions?" + API), headers=auth)
    json.dump(got, open(sys.argv[3], "w"), indent=1)
    sys.exit(0)
sys.path.insert(0, os.environ["STARTER_SRC"])
import send_batch  # noqa: E402  (the starter's own production-traffic helper)
uri = sys.argv[2]
key = call(arm(ws, f"workspaces/{ws.split('/')[7]}/onlineEndpoints/churn-endpoint/listKeys?{API}"), b"", auth)["primaryKey"]
for path in sys.argv[4:]:
    rows = send_batch.request_rows(path)
    churn = sum(sum(a["predictions"]) for a in send_batch.send(uri, key, rows))
    print(f"   -> {os.path.relpath(path)}: {len(rows)} rows scored, {churn} predicted to churn")
PY
uri=$(jget "$out/json/rollout-blue.json" 'd["scoring_uri"]')
iso() { date -u +%Y-%m-%dT%H:%M:%SZ; }
next_second() {  # waits for the next whole second and prints it: windows [from, to) that cannot overlap
  local now s
  now=$(date -u +%s%N)
  s=$((now / 1000000000 + 1))
  sleep "$(printf '0.%03d' $(((s * 1000000000 - now) / 1000000)))"
  date -u -d "@$s" +%Y-%m-%dT%H:%M:%SZ
}
clean_from=$(next_second)
STARTER_SRC="$starter/src" "$py" "$work/local_api.py" score "$uri" "$PROD" "$starter/data/stable/churn.csv"
clean_to=$(next_second)
STARTER_SRC="$starter/src" "$py" "$work/local_api.py" score "$uri" "$PROD" "$starter/data/current/churn.csv"
drift_to=$(next_second)
say "clean window $clean_from..$clean_to, drifted window $clean_to..$drift_to"

step "monitor the endpoint's collected data: the clean window, then the drifted one"
say "reference: azureml:churn-reference@latest in prod (churn:$v1's own scored test split, from $job1, copied at promotion)"
mon=(--config "$cfg" --endpoint churn-endpoint --collection "model_inputs,model_outputs")
amlops-monitor drift "${mon[@]}" --from "$clean_from" --to "$clean_to" --report "$out/drift-clean.html" \
  --output json > "$out/json/drift-clean.json"
say "clean:   $(jget "$out/json/drift-clean.json" 'd["outcome"] + ": " + (", ".join(f["name"] for f in d["features"] if f["drifted"]) or "no feature drifted")')"
amlops-monitor drift "${mon[@]}" --from "$clean_to" --to "$drift_to" --report "$out/drift-drifted.html" \
  --markdown "$out/fragments/drift.md" --output json > "$out/json/drift-drifted.json"
say "drifted: $(jget "$out/json/drift-drifted.json" 'd["outcome"] + ": " + (", ".join(f["name"] for f in d["features"] if f["drifted"]) or "no feature drifted")')"

step "decide: retrain?"
amlops-monitor decide "${mon[@]}" --from "$clean_to" --to "$drift_to" --markdown "$out/fragments/decide.md" \
  --output json > "$out/json/decide.json"
retrain=$(jget "$out/json/decide.json" 'str(d["retrain"]).lower()')
say "retrain: $retrain"
summary "- monitor: clean window $(jget "$out/json/drift-clean.json" 'd["outcome"]'), drifted window $(jget "$out/json/drift-drifted.json" 'd["outcome"]'); retrain: $retrain"
[ "$retrain" = true ] || { echo "the drifted window did not ask for a retrain" >&2; exit 1; }

export AMLOPS_WORKSPACE="$DEV"
step "retrain on more data: the training batch plus the labelled drifted batch"
mkdir -p "$work/more"
{ cat "$starter/data/train/churn.csv"; tail -n +2 "$starter/data/current/churn.csv"; } > "$work/more/churn.csv"
job2="churn-train-$(date +%s)-2"
amlops job submit -f "$starter/jobs/train.yml" --name "$job2" --set inputs.training_data.path="$work/more" \
  --stream --timeout 10m
amlops job show "$job2" --output json > "$out/json/job2.json"
amlops model register --name churn --from-job "$job2" --output-name model --tag stage=candidate \
  --tag amlops.git_commit="$(git -C "$root" rev-parse HEAD 2>/dev/null || echo demo)" --output json > "$out/json/register2.json"
v2=$(jget "$out/json/register2.json" 'd["version"]')
say "registered churn:$v2"
summary "- retrain: job $job2, churn:$v2"

step "gate churn:$v2 against the champion in prod, then promote or block with the reason"
set +e
amlops promote promote --candidate "churn:$v2" --to prod --config "$cfg" --markdown "$out/fragments/promote2.md" \
  --output json > "$out/json/promote2.json"
gate_rc=$?
set -e
[ "$gate_rc" -le 1 ] || exit "$gate_rc"
decision=$(jget "$out/json/promote2.json" 'd["decision"]')
say "decision: $decision ($(jget "$out/json/promote2.json" '"; ".join(d.get("reasons", []))'))"
"$py" -c 'import json,sys
for r in json.load(open(sys.argv[1])).get("rules", []):
    print("      %s %-17s %s" % ("pass" if r.get("passed") else "FAIL", r.get("metric"), r.get("reason") or ""))' \
  "$out/json/promote2.json"
"$py" "$work/local_api.py" registry "$PROD" "$out/json/registry.json"
say "registry churn-registry: $(jget "$out/json/registry.json" '", ".join("churn:%s stage=%s" % (v["name"], v["properties"]["tags"].get("stage")) for v in d["value"])')"
summary "- gate churn:$v2 vs the champion: $decision ($(jget "$out/json/promote2.json" '"; ".join(d.get("reasons", []))'))"

export AMLOPS_WORKSPACE="$PROD"
if [ "$decision" = promote ]; then new=$v2; else new=$v1; fi
step "canary rollout of green (churn:$new from the registry): $steps %"
sed 's/^name: blue$/name: green/' "$starter/endpoints/deployment.yml" > "$work/green.yml"
cp -r "$starter/src" "$work/src"
sed -i 's#code: ../src#code: src#' "$work/green.yml"
amlops-deploy rollout --endpoint "$starter/endpoints/endpoint.yml" --deployment "$work/green.yml" \
  --model "azureml://registries/churn-registry/models/churn/versions/$new" \
  --smoke-request "$starter/endpoints/smoke-request.json" --steps "$steps" --soak "$soak" --count "$count" \
  --markdown "$out/fragments/rollout-green.md" --output json > "$out/json/rollout-green.json"
amlops-deploy status --endpoint churn-endpoint --output json > "$out/json/status.json"
say "green: $(jget "$out/json/rollout-green.json" 'd["state"]'), traffic $(jget "$out/json/rollout-green.json" 'd["traffic"]')"
summary "- rollout green (churn:$new): $(jget "$out/json/rollout-green.json" 'd["state"]'), traffic $(jget "$out/json/rollout-green.json" 'd["traffic"]')"

step "the PR comment and the reports"
amlops-report summary --fragment "$out/fragments" --title "amlops demo" > "$out/pr-comment.md"
say "PR comment: $out/pr-comment.md"
say "drift reports: $out/drift-clean.html, $out/drift-drifted.html"
t_total=$(($(date +%s) - t_start))
summary "- total: ${t_total}s"
say "summary: $out/summary.md"
printf '\n\033[1mdone in %d s\033[0m (amlops-local is stopped on exit)\n' "$t_total"
