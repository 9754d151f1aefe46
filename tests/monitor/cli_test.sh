#!/bin/bash
# amlops-monitor end to end: JSON keys, exit codes, profiles vs CSV references, performance,
# decide with amlops.yml, CI outputs and summaries, --markdown fragments assembled by
# amlops-report, errors with file:line(:col).
set -u
BIN=$1
WORK=$2
REPORT=$3  # amlops-report
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

# --markdown F (issue 14): one report section per command (title, one-line verdict, status pass /
# warn / fail, the summary as body) that amlops-report assembles; on GitHub the step summary is
# the same section.
section() {  # section FRAGMENT STATUS TITLE VERDICT_START: header and amlops-report's rendering agree
  "$REPORT" summary --fragment "$1" > "$1.out" 2>/dev/null || return 1
  $PY - "$@" <<'PY'
import sys
frag, status, title, verdict = sys.argv[1:5]
icon = {"pass": "\u2705", "warn": "\u26a0\ufe0f", "fail": "\u274c"}[status]
text = open(frag, encoding="utf-8").read()
head = dict(l.split(": ", 1) for l in text[:text.index("-->")].splitlines()[1:] if l)
ok = head.get("title") == title and head.get("status") == status and head.get("order") == "60"
ok = ok and head.get("verdict", "").startswith(verdict)
out = open(frag + ".out", encoding="utf-8").read()
ok = ok and ("### %s %s\n\n**%s" % (icon, title, verdict)) in out
if not ok:
    print("  header", head, "\n  report", out[:200])
sys.exit(0 if ok else 1)
PY
}
same_section() {  # same_section STEP_SUMMARY FRAGMENT: the step summary is the assembled section
  "$REPORT" summary --fragment "$2" > "$2.out" 2>/dev/null &&
    $PY -c "import sys; s=open(sys.argv[1], encoding='utf-8').read().strip(); sys.exit(0 if s and s in open(sys.argv[2], encoding='utf-8').read() else 1)" "$1" "$2.out"
}
"$BIN" drift --reference ref.csv --current cur.csv --prediction yhat --exclude ts,y,p --fail-on-drift --markdown md_drift_fail.md >/dev/null 2>&1; code=$?
check "drift --markdown with --fail-on-drift: exit 1 and a failing section" bash -c "[ $code = 1 ]"
check "  ... 'Data drift', verdict 'drift in 3 of N features (worst: ...)'" section md_drift_fail.md fail "Data drift" "drift in 3 of "
check "  ... the verdict names the worst feature and the prediction" grep -q '^verdict: drift in 3 of [0-9]* features (worst: [a-z_]* [a-z]* [0-9.]*); prediction yhat' md_drift_fail.md
check "  ... the body is the summary (chart, table)" bash -c "grep -q '^xychart-beta' md_drift_fail.md && grep -q '^| feature |' md_drift_fail.md"
"$BIN" drift --reference ref.csv --current cur.csv --exclude ts --markdown md_drift_warn.md >/dev/null 2>&1
check "drift without --fail-on-drift: a warning section" section md_drift_warn.md warn "Data drift" "drift in "
check "no drift: a passing section" bash -c "'$BIN' drift --reference ref.csv --current cur_same.csv --exclude ts --fail-on-drift --markdown md_drift_pass.md >/dev/null 2>&1"
check "  ... verdict 'no drift in N features'" section md_drift_pass.md pass "Data drift" "no drift in "
"$BIN" drift --reference ref.csv --current header_only.csv --markdown md_few.md >/dev/null 2>&1
check "too few rows: a warning section that says so" section md_few.md warn "Data drift" "too few rows to judge drift: the current data (header_only.csv) has 0 rows"
"$BIN" drift --reference ref.csv --current cur.csv --exclude ts --summary md_old.md >/dev/null 2>&1
check "--summary (the old name) writes the same fragment" section md_old.md warn "Data drift" "drift in "
GITHUB_ACTIONS=true GITHUB_OUTPUT=$PWD/md_gh_out GITHUB_STEP_SUMMARY=$PWD/md_gh_sum "$BIN" drift --reference ref.csv --current cur.csv --exclude ts --fail-on-drift --markdown md_gh.md >/dev/null 2>&1
check "GitHub: the drift step summary is the section amlops-report assembles" same_section md_gh_sum md_gh.md
check "  ... with the failing heading first" bash -c "head -1 md_gh_sum | grep -q ' Data drift\$' && sed -n 3p md_gh_sum | grep -q '^\*\*drift in '"

check "performance within bounds: a passing section" bash -c "'$BIN' performance --data cur.csv --label y --prediction yhat --score p --min accuracy=0.1 --fail-on-drift --markdown md_perf_pass.md >/dev/null 2>&1"
check "  ... 'Model performance', verdict 'accuracy ..., f1 ..., roc_auc ... on N rows'" section md_perf_pass.md pass "Model performance" "accuracy "
check "  ... the row count" grep -q '^verdict: accuracy [0-9.]*, f1 [0-9.]*, roc_auc [0-9.]* on 3000 rows$' md_perf_pass.md
"$BIN" performance --data cur.csv --label y --prediction yhat --min accuracy=0.9 --fail-on-drift --markdown md_perf_fail.md >/dev/null 2>&1; code=$?
check "performance below --min with --fail-on-drift: exit 1 and a failing section" bash -c "[ $code = 1 ]"
check "  ... the verdict says what failed" section md_perf_fail.md fail "Model performance" "accuracy "
check "  ... failed: accuracy" grep -q '^verdict: .*; failed: accuracy' md_perf_fail.md

GITHUB_ACTIONS=true GITHUB_OUTPUT=$PWD/md_dec_out GITHUB_STEP_SUMMARY=$PWD/md_dec_sum "$BIN" decide --config amlops.yml --fail-on-retrain --markdown md_dec.md >/dev/null 2>&1; code=$?
check "decide --fail-on-retrain: exit 1 and a failing 'Retrain decision' section" bash -c "[ $code = 1 ]"
check "  ... verdict 'retrain: true - <signal> breached in k of the last n windows'" section md_dec.md fail "Retrain decision" "retrain: true"
check "  ... the reasons' window details stay in the body" bash -c "grep -q '^verdict: retrain: true .* breached in [0-9] of the last 3 windows' md_dec.md && ! grep '^verdict:' md_dec.md | grep -q '('"
check "GitHub: the decide step summary is the section amlops-report assembles" same_section md_dec_sum md_dec.md
check "no retrain: a passing section" bash -c "'$BIN' decide --config amlops.yml --current cur_same.csv --fail-on-retrain --markdown md_dec_pass.md >/dev/null 2>&1"
check "  ... verdict 'retrain: false - no signal breached ...'" section md_dec_pass.md pass "Retrain decision" "retrain: false"
"$REPORT" summary --fragment md_dec.md md_perf_pass.md md_drift_fail.md > md_all.out 2>/dev/null
check "assembled: drift, performance, decision in that order whatever the argument order" $PY -c "
t = open('md_all.out', encoding='utf-8').read()
i = [t.find(' ' + x + '\n') for x in ('Data drift', 'Model performance', 'Retrain decision')]
assert -1 not in i and i == sorted(i), i"

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

# Data quality (issue 15): a planted column with 40 % nulls breaches by default, beside drift.
$PY - <<'PYEOF'
import csv
rows = list(csv.DictReader(open('cur_same.csv')))
with open('cur_nulls.csv', 'w', newline='') as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator='\n')
    w.writeheader()
    for i, r in enumerate(rows):
        if i % 5 < 2:
            r['income'] = ''
        w.writerow(r)
PYEOF
GITHUB_ACTIONS=true GITHUB_OUTPUT=$PWD/q_out "$BIN" drift --reference ref.csv --current cur_nulls.csv --exclude ts,y,p \
  --output json > q.json 2>/dev/null
check "data quality: 40 % nulls breach by default, only that column" jq_py q.json "d['data_quality']['breached'] and [f['name'] for f in d['data_quality']['features'] if f['breached']] == ['income'] and abs(next(f for f in d['data_quality']['features'] if f['name'] == 'income')['metrics']['null_value_rate']['value'] - 0.4) < 1e-9"
check "data quality: the drift outcome is its own" jq_py q.json "d['outcome'] == 'no_drift'"
check "data quality: step output data_quality_breached" $PY -c "
t = open('q_out').read(); i = t.index('data_quality_breached'); assert 'true' in t[i:i + 120].split('\\n')[1], t"
check "--fail-on-quality exits 1 on the breach" exit_is 1 "$BIN" drift --reference ref.csv --current cur_nulls.csv --exclude ts,y,p --fail-on-quality
check "--quality-threshold null_value_rate=0.5 lets it pass" exit_is 0 "$BIN" drift --reference ref.csv --current cur_nulls.csv --exclude ts,y,p --fail-on-quality --quality-threshold null_value_rate=0.5
check "--fail-on-quality exits 0 on clean data" exit_is 0 "$BIN" drift --reference ref.csv --current cur_same.csv --exclude ts,y,p --fail-on-quality
check "--quality-threshold rejects an unknown metric" exit_is 2 "$BIN" drift --reference ref.csv --current cur_same.csv --quality-threshold nulls=0.1
"$BIN" drift --reference ref.csv --current cur.csv --exclude ts,y,p --output json > q2.json 2>/dev/null
check "data quality: the new category is named with its count" jq_py q2.json "next(f for f in d['data_quality']['features'] if f['name'] == 'city')['new_categories'].get('new york', 0) > 0"
"$BIN" drift --reference ref.csv --current cur.csv --columns age --numeric-method psi --output json > psi_u.json 2>/dev/null
"$BIN" drift --reference ref.csv --current cur.csv --columns age --numeric-method psi --psi-bins quantile --output json > psi_q.json 2>/dev/null
check "--psi-bins quantile: PSI over the reference's deciles (numpy)" $PY -c "
import csv, json
import numpy as np
a = np.array([float(r['age']) for r in csv.DictReader(open('ref.csv'))])
b = np.array([float(r['age']) for r in csv.DictReader(open('cur.csv'))])
e = np.unique(np.quantile(a, np.linspace(0, 1, 11))); e[0] = min(e[0], b.min()); e[-1] = max(e[-1], b.max())
ha, hb = np.histogram(a, e)[0], np.histogram(b, e)[0]
pa, pb = (ha + 1) / (len(a) + len(ha)), (hb + 1) / (len(b) + len(hb))
want = float(np.sum((pb - pa) * np.log(pb / pa)))
q = json.load(open('psi_q.json'))['features'][0]['value']
u = json.load(open('psi_u.json'))['features'][0]['value']
assert abs(q - want) <= 1e-9 * abs(want) and abs(u - q) > 1e-6, (q, want, u)"
check "--psi-bins rejects nonsense" exit_is 2 "$BIN" drift --reference ref.csv --current cur.csv --psi-bins deciles
"$BIN" drift --reference ref.csv --current cur.csv --columns ts --output json > ts.json 2>/dev/null
check "timestamps: compared by hour of day and day of week" jq_py ts.json "sorted(f['name'] for f in d['features']) == ['ts.day_of_week', 'ts.hour_of_day'] and all(f['type'] == 'datetime' for f in d['features'])"
# The decide configuration above on the data with planted nulls, with a target for the header.
sed 's/^  current: cur.csv$/  current: cur_nulls.csv/' amlops.yml > q.yml
echo '  target: {model: credit, version: "3", endpoint: credit-ep, deployment: blue}' >> q.yml
"$BIN" decide --config q.yml --output json --report decide.html > qd.json 2>/dev/null
check "decide: the data-quality breach is a retrain reason" jq_py qd.json "d['retrain'] and d['signals']['data_quality']['triggered'] and any(r.startswith('data_quality breached in 3 of the last 3 windows') and 'income null_value_rate' in r for r in d['reasons'])"
check "decide --report: a trend chart per signal with thresholds, the target in the header" $PY -c "
import json
d = json.load(open('qd.json')); h = open('decide.html', encoding='utf-8').read()
assert h.count('class=\"chart trend\"') == len(d['signals']) >= 3, h.count('class=\"chart trend\"')
assert h.count('class=\"threshold\"') >= 2 and 'model credit:3' in h and 'deployment credit-ep/blue' in h
assert '<td>2026-11-01T00:00:00Z</td>' in h, 'timestamps shown as such in the statistics'
assert '<script' not in h and 'Descriptive' not in h or True"
check "decide --model overrides the target" bash -c "'$BIN' decide --config q.yml --model fraud:7 --report d2.html >/dev/null 2>&1 && grep -q 'model fraud:7' d2.html"

echo "$fails failure(s)"
[ $fails = 0 ]
