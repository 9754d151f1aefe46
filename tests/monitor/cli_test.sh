#!/bin/bash
# amlops-monitor end to end: JSON keys, exit codes, profiles vs CSV references, performance,
# decide with amlops.yml, CI outputs and summaries, errors with file:line(:col).
set -u
BIN=$1
WORK=$2
SRC=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 2
$PY "$SRC/gen_data.py" . || exit 2
fails=0
check() {  # check "description" command...
  local what=$1; shift
  if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; fails=$((fails + 1)); fi
}
exit_is() { local want=$1; shift; "$@" >/dev/null 2>&1; local got=$?; [ "$got" = "$want" ] || { echo "  exit $got, want $want: $*"; return 1; }; }
jq_py() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; }

# drift: JSON shape and keys fixed by the issue.
"$BIN" drift --reference ref.csv --current cur.csv --metrics all --prediction yhat --exclude ts,y,p --output json > drift.json
check "drift --output json exits 0 without --fail-on-drift" test $? = 0
check "features carry the fixed keys" jq_py drift.json "all(set(['name','type','count','missing','drifted','method','value','threshold','metrics']) <= set(f) for f in d['features'])"
check "numeric metrics keys" jq_py drift.json "set(next(f for f in d['features'] if f['name']=='age')['metrics']) == {'ks_statistic','ks_pvalue','wasserstein','wasserstein_norm','jensen_shannon','psi'}"
check "categorical metrics keys" jq_py drift.json "set(next(f for f in d['features'] if f['name']=='city')['metrics']) == {'jensen_shannon','psi','chi2_statistic','chi2_pvalue'}"
check "dataset object" jq_py drift.json "set(d['dataset']) >= {'drifted_features','share','drifted'} and d['dataset']['drifted'] and d['dataset']['drifted_features'] == 3"
check "prediction drift reported apart" jq_py drift.json "d['prediction']['name'] == 'yhat' and all(f['name'] != 'yhat' for f in d['features'])"
check "unseen category drifts" jq_py drift.json "next(f for f in d['features'] if f['name']=='city')['drifted']"
check "--fail-on-drift exits 1 on drift" exit_is 1 "$BIN" drift --reference ref.csv --current cur.csv --fail-on-drift
check "--fail-on-drift exits 0 without drift" exit_is 0 "$BIN" drift --reference ref.csv --current cur_same.csv --fail-on-drift --exclude ts
"$BIN" drift --reference ref.csv --current cur.csv --exclude ts,y,p > drift.txt
check "text: drifted rows state the condition, others its negation" $PY -c "
import re,sys; lines=[l for l in open('drift.txt') if l.startswith('  [')]
assert lines
for l in lines:
    v,c,t=re.search(r': \S+ (\S+) (\S+) (\S+)',l).groups(); v,t=float(v),float(t)
    held={'>':v>t,'>=':v>=t,'<':v<t,'<=':v<=t}[c]
    assert held, l"
check "evidently compat: dataset rule 50 %" exit_is 0 "$BIN" drift --reference ref.csv --current cur_same.csv --compat evidently --fail-on-drift --exclude ts

# Too few rows is its own outcome (issue 10): never "no drift", exit 1 with --fail-on-drift.
head -1 cur.csv > header_only.csv; : > empty.csv; head -11 cur.csv > ten_rows.csv
check "header-only current: exit 1 with --fail-on-drift" exit_is 1 "$BIN" drift --reference ref.csv --current header_only.csv --fail-on-drift
check "empty current file: exit 1 with --fail-on-drift" exit_is 1 "$BIN" drift --reference ref.csv --current empty.csv --fail-on-drift
check "10 rows < --min-rows 30: exit 1 with --fail-on-drift" exit_is 1 "$BIN" drift --reference ref.csv --current ten_rows.csv --exclude ts --fail-on-drift
check "--min-rows 5 assesses 10 rows" bash -c "'$BIN' drift --reference ref.csv --current ten_rows.csv --exclude ts --min-rows 5 --output json | grep -q '\"outcome\": \"\(no_\)\?drift\"'"
check "--min-rows 0 is a usage error" exit_is 2 "$BIN" drift --reference ref.csv --current cur.csv --min-rows 0
"$BIN" drift --reference ref.csv --current header_only.csv --output json > few.json
check "too few rows: outcome, reason, drifted null, exit 0 without --fail-on-drift" bash -c "[ $? = 0 ] && $PY -c \"
import json; d=json.load(open('few.json'))
assert d['outcome'] == 'too_few_rows' and d['drifted'] is None and 'dataset' not in d, d
assert '0 rows' in d['reason'], d\""
"$BIN" drift --reference ref.csv --current header_only.csv > few.txt
check "too few rows: text says so, never 'no drift'" bash -c "grep -q '^TOO FEW ROWS: the current data (header_only.csv) has 0 rows' few.txt && ! grep -qi 'no drift' few.txt"
GITHUB_ACTIONS=true GITHUB_OUTPUT=$PWD/few_out GITHUB_STEP_SUMMARY=$PWD/few_sum "$BIN" drift --reference ref.csv --current header_only.csv >/dev/null 2>&1
check "too few rows: outputs outcome=too_few_rows, drifted=unknown; summary says so" bash -c "grep -qx too_few_rows few_out && grep -qx unknown few_out && grep -q 'Too few rows' few_sum && ! grep -qi 'no dataset drift' few_sum"

# A type change between reference and current is drift of that feature (issue 10).
(head -1 cur_same.csv; sed -n 2,3001p cur_same.csv | sed '7s/^\([^,]*\),[^,]*,/\1,oops,/') > one_bad.csv
"$BIN" drift --reference ref.csv --current one_bad.csv --exclude ts --output json > one_bad.json 2>/dev/null
check "one non-number turns age categorical: reported as drift of age" jq_py one_bad.json "[(f['method'], f['drifted']) for f in d['features'] if f['name'] == 'age'] == [('type_change', True)] and d['drifted']"
check "type change: --fail-on-drift exits 1" exit_is 1 "$BIN" drift --reference ref.csv --current one_bad.csv --exclude ts --fail-on-drift

# A declared --type wins over the whole-number rule (issue 10): y is 0/1, categorical by the rule.
"$BIN" drift --reference ref.csv --current cur_same.csv --columns y --output json > y_rule.json
"$BIN" drift --reference ref.csv --current cur_same.csv --columns y --type y=numeric --output json > y_declared.json
check "whole numbers with few values: categorical by default" jq_py y_rule.json "d['features'][0]['type'] == 'categorical'"
check "--type y=numeric: compared as numeric" jq_py y_declared.json "d['features'][0]['type'] == 'numeric' and d['features'][0]['method'] == 'wasserstein_norm'"

# profile: stored baseline gives the same answer as the CSV; partitions merge.
"$BIN" profile ref.csv --out ref.profile.json >/dev/null
check "profile written" test -s ref.profile.json
"$BIN" drift --reference ref.profile.json --current cur.csv --metrics all --exclude ts --output json > from_profile.json
"$BIN" drift --reference ref.csv --current cur.csv --metrics all --exclude ts --output json > from_csv.json
check "profile reference == CSV reference" $PY -c "
import json; a=json.load(open('from_profile.json')); b=json.load(open('from_csv.json'))
assert a['features'] == b['features'] and a['dataset'] == b['dataset']"
head -1501 ref.csv > part1.csv; (head -1 ref.csv; tail -n +1502 ref.csv) > part2.csv
"$BIN" profile part1.csv part2.csv --out merged.profile.json >/dev/null
"$BIN" drift --reference merged.profile.json --current cur.csv --metrics all --exclude ts --output json > from_merged.json
check "merged partition profiles == whole" $PY -c "
import json; a=json.load(open('from_merged.json')); b=json.load(open('from_csv.json'))
assert a['features'] == b['features']"

# CI host: outputs and summary with a mermaid chart.
GITHUB_ACTIONS=true GITHUB_OUTPUT=$PWD/gh_out GITHUB_STEP_SUMMARY=$PWD/gh_sum "$BIN" drift --reference ref.csv --current cur.csv --exclude ts >/dev/null 2>gh_err
check "GitHub output drifted=true" grep -qx "true" gh_out
check "GitHub output names drifted" grep -q "^drifted<<" gh_out
check "summary has a table and a mermaid chart" bash -c "grep -q '^| feature |' gh_sum && grep -q '^xychart-beta' gh_sum"
check "summary chart title is whole (not cut at 24 characters)" grep -q 'title "Worst features (value relative to threshold; > 1 drifts)"' gh_sum
TF_BUILD=True "$BIN" drift --reference ref.csv --current cur.csv --exclude ts > az_out 2>&1
check "Azure issues name the feature once" bash -c "grep -q '^##vso\[task.logissue type=warning\]Data drift: age: wasserstein_norm ' az_out && ! grep -q 'age: age' az_out"


# performance.
"$BIN" performance --data cur.csv --label y --prediction yhat --score p --timestamp ts --detector adwin \
  --reference ref.csv --max-drop accuracy=0.05 --output json > perf.json
check "performance metrics" jq_py perf.json "d['metrics']['task']=='classification' and 0 < d['metrics']['accuracy'] < 1 and 'roc_auc' in d['metrics'] and len(d['metrics']['confusion_matrix'])==2"
check "ADWIN flags the change in the second half" jq_py perf.json "d['detectors'][0]['drift'] and d['detectors'][0]['alarms'][0]['at'] >= '2026-11-08'"
check "performance --min breach exits 1 with --fail-on-drift" exit_is 1 "$BIN" performance --data cur.csv --label y --prediction yhat --min accuracy=0.9 --fail-on-drift
check "regression refuses ddm" exit_is 2 "$BIN" performance --data cur.csv --label age --prediction income --task regression --detector ddm

printf 'y,yhat,pa,pb,pc\na,a,0.7,0.2,0.1\nb,a,0.5,0.3,0.2\nc,c,0.1,0.2,0.7\nb,b,0.2,0.6,0.2\na,b,0.4,0.5,0.1\n' > multi.csv
"$BIN" performance --data multi.csv --label y --prediction yhat --score a=pa,b=pb,c=pc --output json > multi.json
check "multiclass ROC AUC (one-vs-rest) and log loss from LABEL=COL scores" jq_py multi.json "abs(d['metrics']['roc_auc'] - 0.888888888888889) < 1e-12 and 'log_loss' in d['metrics'] and 'roc_auc_weighted' in d['metrics']"
check "multiclass score columns must cover every label" exit_is 2 "$BIN" performance --data multi.csv --label y --prediction yhat --score a=pa,b=pb

# decide.
cat > amlops.yml <<'YML'
monitor:
  reference: ref.csv
  current: cur.csv
  timestamp: ts
  label: y
  prediction: yhat
  score: p
  window: daily
  exclude: [flag]
  signals:
    data_drift: {share: 0.5}
    performance: {metric: accuracy, min: 0.6, max_drop: 0.05}
    concept_drift: {detector: adwin}
  debounce: {breaches: 2, windows: 3}
YML
GITHUB_ACTIONS=true GITHUB_OUTPUT=$PWD/dec_out GITHUB_STEP_SUMMARY=$PWD/dec_sum "$BIN" decide --config amlops.yml --output json > decide.json 2>/dev/null
check "decide: retrain with reasons" jq_py decide.json "d['retrain'] and len(d['reasons']) >= 1 and len(d['windows']) == 14"
check "decide: CI output retrain=true" grep -qx "true" dec_out
check "decide: no retrain on stable data" bash -c "'$BIN' decide --config amlops.yml --current cur_same.csv | grep -qx 'retrain: false'"
check "decide from another folder: data paths are relative to amlops.yml" bash -c "cd / && '$BIN' decide --config '$PWD/amlops.yml' --output json | grep -q '\"retrain\": true'"
check "decide --window rejects nonsense" exit_is 2 "$BIN" decide --config amlops.yml --window hourly
check "drift --config uses the monitor: section" bash -c "cd / && '$BIN' drift --config '$PWD/amlops.yml' --output json | grep -q '\"drifted\": true'"
printf 'monitor:\n  reference: ref.csv\n  window: hourly\n' > bad.yml
"$BIN" decide --config bad.yml 2> bad_err >/dev/null; code=$?
check "bad config: exit 2 with file:line:col" bash -c "[ $code = 2 ] && grep -q 'bad.yml:3:11' bad_err"

# bad data: file:line and exit 2.
printf 'a,b\n1,2\n3\n' > bad.csv
"$BIN" drift --reference bad.csv --current cur.csv 2> bad_csv_err >/dev/null; code=$?
check "bad CSV: exit 2 with file:line" bash -c "[ $code = 2 ] && grep -q 'bad.csv:3: expected 2 fields, found 1' bad_csv_err"
check "missing file: exit 2" exit_is 2 "$BIN" drift --reference nope.csv --current cur.csv
check "JSON Lines input" bash -c "$PY -c \"
import csv, json
with open('cur.jsonl', 'w') as f:
    for r in csv.DictReader(open('cur.csv')):
        f.write(json.dumps({'age': float(r['age']), 'city': r['city']}) + '\n')\" && '$BIN' drift --reference ref.csv --current cur.jsonl --columns age,city --fail-on-drift >/dev/null; [ \$? = 1 ]"

echo "$fails failure(s)"
[ $fails = 0 ]
