#!/usr/bin/env bash
# `amlops init` into an empty git repository for each host: the host's CI files and only those,
# the project name filled in, and the generated repository works as generated: its unit tests pass
# and amlops-lint finds nothing. Then init again changes nothing, keeps an edited file, and
# --force restores it.
# usage: init_repo_test.sh BIN_DIR WORK_DIR
set -u
BIN=$(cd "$1" && pwd)
WORK=$2
PY=/usr/bin/python3
rm -rf "$WORK" && mkdir -p "$WORK"
FAILS=0
ok() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; FAILS=$((FAILS + 1)); }
expect() { if [ "$1" = "$2" ]; then ok "$3"; else fail "$3 (got '$1', want '$2')"; fi; }

for host in github azure-devops; do
  repo="$WORK/$host"
  mkdir -p "$repo" && git -C "$repo" init -q
  "$BIN/amlops" init "$repo" --host "$host" --name fraud-risk > "$WORK/$host.out" 2> "$WORK/$host.err"
  expect "$?" 0 "$host: init exits 0"
  grep -q "Left to set by hand" "$WORK/$host.out" && ok "$host: prints what is left to set" || fail "$host: no next steps"
  if [ "$host" = github ]; then
    [ -f "$repo/.github/workflows/pr.yml" ] && [ ! -e "$repo/.azure-pipelines" ] && ok "$host: GitHub workflows only" ||
      fail "$host: wrong CI files: $(ls -a "$repo")"
    grep -q "AZURE_CLIENT_ID" "$WORK/$host.out" && ! grep -q "service connection" "$WORK/$host.out" &&
      ok "$host: the GitHub steps (federated credential, variables)" || fail "$host: next steps $(cat "$WORK/$host.out" | tail -20)"
  else
    [ -f "$repo/.azure-pipelines/pr.yml" ] && [ ! -e "$repo/.github" ] && ok "$host: Azure Pipelines only" ||
      fail "$host: wrong CI files: $(ls -a "$repo")"
    grep -q "workload identity federation" "$WORK/$host.out" && ok "$host: the Azure DevOps steps (service connections)" ||
      fail "$host: next steps"
  fi
  grep -q "^name: fraud-risk-endpoint$" "$repo/endpoints/endpoint.yml" && ok "$host: the endpoint is named after the project" ||
    fail "$host: endpoint name: $(head -3 "$repo/endpoints/endpoint.yml")"
  grep -q "model: fraud-risk$" "$repo/amlops.yml" && ok "$host: the promotion policy names the model" || fail "$host: amlops.yml model"
  left=$(grep -rlw --include='*.yml' -e 'churn-endpoint' -e 'azureml:churn:1' -e 'model-name: churn' -e 'modelName: churn' "$repo")
  [ -z "$left" ] && ok "$host: no starter name left in the YAML" || fail "$host: starter name left in $left"
  grep -q "label: churned" "$repo/data/churn-train.yml" && ok "$host: the label column keeps its name" || fail "$host: label renamed"

  (cd "$repo" && $PY -m unittest discover -s tests > "$WORK/$host.tests" 2>&1)
  expect "$?" 0 "$host: the generated repository's unit tests pass ($(tail -1 "$WORK/$host.tests"))"
  rm -rf "$repo/outputs"; find "$repo" -name __pycache__ -prune -exec rm -rf {} +
  "$BIN/amlops-lint" check "$repo" --no-history --format json > "$WORK/$host.lint" 2> "$WORK/$host.lint.err"
  rc=$?
  n=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["findings"]) if isinstance(d, dict) else len(d))' "$WORK/$host.lint" 2>/dev/null)
  [ "$rc" = 0 ] && [ "$n" = 0 ] && ok "$host: amlops-lint finds nothing" || fail "$host: lint rc $rc, findings $n: $(head -c 600 "$WORK/$host.lint")"

  "$BIN/amlops" init "$repo" --host "$host" --name fraud-risk --output json > "$WORK/$host.again.json"
  written=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(f["action"] != "unchanged" for f in d["files"]))' "$WORK/$host.again.json")
  expect "$written" 0 "$host: init again changes nothing"
  echo "# mine" > "$repo/amlops.yml"
  "$BIN/amlops" init "$repo" --host "$host" --name fraud-risk > "$WORK/$host.kept" 2>&1
  grep -q "^kept  amlops.yml" "$WORK/$host.kept" && [ "$(cat "$repo/amlops.yml")" = "# mine" ] &&
    ok "$host: an edited file is kept and reported" || fail "$host: edited file: $(cat "$WORK/$host.kept")"
  "$BIN/amlops" init "$repo" --host "$host" --name fraud-risk --force > "$WORK/$host.force" 2>&1
  grep -q "^overwrote  amlops.yml" "$WORK/$host.force" && grep -q "promotion:" "$repo/amlops.yml" &&
    ok "$host: --force overwrites it" || fail "$host: --force: $(cat "$WORK/$host.force" | head -5)"
done

"$BIN/amlops" init "$WORK/bad" --name Bad_Name > /dev/null 2> "$WORK/bad.err"
expect "$?" 2 "a name Azure would refuse is a usage error (exit 2)"
[ ! -e "$WORK/bad" ] && ok "nothing is written for it" || fail "wrote into $WORK/bad"
"$BIN/amlops" init "$WORK/bad" --host gitlab > /dev/null 2> "$WORK/bad.err"
expect "$?" 2 "an unknown host is a usage error (exit 2)"

echo "$FAILS failure(s)"
[ "$FAILS" = 0 ]
