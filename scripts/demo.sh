#!/usr/bin/env bash
# The main job on the embedded default: the whole MLOps loop on templates/starter, against
# amlops-local on loopback. lint -> train (submit, stream) -> register -> download -> score a
# production batch -> drift -> retrain decision (and the promotion gate). Nothing leaves this machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(cd "${1:-$root/build/bin}" && pwd)"
starter="$root/templates/starter"
work="${AMLOPS_DEMO_DIR:-$root/build/demo}"
py=/usr/bin/python3
export PATH="$bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

rm -rf "$work"
mkdir -p "$work/local" "$work/outputs"

step "0. amlops doctor: what this machine looks like to amlops"
amlops doctor

step "1. lint the ML repository (Azure ML YAML, argparse flags, secrets, pins, pipelines)"
amlops lint check "$starter" --no-history

step "2. start amlops-local, the local Azure ML workspace, and point this shell at it"
# The environment's image is ignored locally: run the job's python as Debian's (with scikit-learn).
printf 'environments:\n  "*":\n    python: %s\n' "$py" > "$work/local/config.yml"
eval "$(amlops-local serve --daemon --print-env --data "$work/local")"
trap 'amlops-local stop --data "$work/local" >/dev/null 2>&1 || true' EXIT
echo "workspace: $AMLOPS_WORKSPACE at $AMLOPS_ARM_ENDPOINT"

step "3. train: upload the code, submit the job, stream its log, wait for Completed"
job="churn-train-$(date +%s)"
amlops job submit -f "$starter/jobs/train.yml" --name "$job" --stream --timeout 10m
amlops job metrics "$job"

step "4. register the model from the job's output, with the job's metrics and git provenance"
amlops model register --name churn --from-job "$job" --output-name model --tag stage=candidate
amlops model register --name churn --from-job "$job" --output-name model --tag stage=candidate  # idempotent
amlops model list --name churn

step "4b. gate: the starter's promotion policy (amlops.yml promotion:) on the candidate"
set +e
amlops promote evaluate --candidate churn:1 --config "$starter/amlops.yml"
gate_rc=$?  # 1 = blocked (e.g. outside a git checkout the model has no amlops.git_commit tag)
set -e
[ "$gate_rc" -le 1 ] || exit "$gate_rc"

step "5. download the model and score a production batch (a stand-in for the endpoint)"
amlops model download churn:1 --to "$work/outputs/model"
"$py" "$starter/src/score.py" --model "$work/outputs/model" --data "$starter/data/current" \
  --output "$work/outputs/current_scored.csv"

step "6. monitor: data and prediction drift of the batch against the training reference"
cp "$starter/amlops.yml" "$work/amlops.yml"
set +e
amlops monitor drift --config "$work/amlops.yml" --report "$work/drift.html" --fail-on-drift
drift_rc=$?
set -e
echo "drift exit code: $drift_rc (1 = drift found)"
[ "$drift_rc" -le 1 ] || exit "$drift_rc"

step "7. decide: retrain?"
amlops monitor decide --config "$work/amlops.yml"

step "done"
echo "drift report: $work/drift.html"
echo "amlops-local data: $work/local (stopped on exit)"
