#!/usr/bin/env bash
# The umbrella `amlops` execs amlops-<tool> (beside it, else on PATH): `amlops TOOL ...` prints what
# `amlops-TOOL ...` prints with "amlops TOOL" as the program name, and passes exit codes, stdin,
# stdout, signals and the CI host's step outputs through; `amlops --help` lists every tool without
# one installed; a missing tool is a clear message and exit 2.
# Usage: umbrella_test.sh BIN_DIR WORK_DIR
set -u -o pipefail
BIN=$(cd "$1" && pwd)
WORK=$2
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
[ -x "$BIN/amlops" ] || { echo "SKIP: $BIN/amlops not built"; exit 77; }
# shellcheck source=../support/checks.sh
. "$SRC/tests/support/checks.sh"
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 2
A=$BIN/amlops
tools=()
for f in "$BIN"/amlops-*; do [ -x "$f" ] && tools+=("${f##*/amlops-}"); done
[ ${#tools[@]} -gt 0 ] || { echo "SKIP: no amlops-<tool> built beside $A"; exit 77; }
has() { [ -x "$BIN/amlops-$1" ]; }

# ---- the same usage, the program named as typed --------------------------------------------
for t in "${tools[@]}"; do
  direct=$("$BIN/amlops-$t" --help 2>&1)
  via=$("$A" "$t" --help 2>&1)
  check "$(sed "s/amlops $t/amlops-$t/g" <<<"$via")" "$direct" "amlops $t --help is amlops-$t --help with 'amlops $t' as the program"
  [[ $via == "Usage: amlops $t <command>"* ]] && pass "amlops $t --help: Usage: amlops $t ..." || fail "amlops $t --help: $(head -1 <<<"$via")"
  check "$("$A" "$t" --version)" "$("$BIN/amlops-$t" --version | sed "s/^amlops-$t /amlops $t /")" "amlops $t --version"
done
if has job; then
  via=$("$A" job submit --help 2>&1)
  check "$(sed 's/amlops job/amlops-job/g' <<<"$via")" "$("$BIN/amlops-job" submit --help 2>&1)" "amlops job submit --help"
  [[ $via == "Usage: amlops job submit"* ]] && pass "amlops job submit --help names 'amlops job submit'" || fail "$via"
  check "$("$A" help job submit 2>&1)" "$via" "amlops help job submit == amlops job submit --help"
fi

# ---- exit codes, stdout and stderr pass through ---------------------------------------------
if has job; then
  "$A" job submt > out.txt 2> err.txt; rc=$?
  check "$rc" 2 "amlops job submt: the tool's usage error, exit 2"
  grep -q "unknown command 'submt'; did you mean 'submit'?" err.txt && pass "amlops job submt: the tool's suggestion" \
    || fail "amlops job submt: $(cat err.txt)"
  "$A" job submit -f "$WORK/missing.yml" --workspace azureml://subscriptions/s/resourcegroups/r/workspaces/w \
    > /dev/null 2> err.txt; rc=$?
  "$BIN/amlops-job" submit -f "$WORK/missing.yml" --workspace azureml://subscriptions/s/resourcegroups/r/workspaces/w \
    > /dev/null 2> err.direct; rc_direct=$?
  check "$rc" "$rc_direct" "amlops job submit -f MISSING exits as amlops-job does ($rc_direct)"
fi
if has lint; then
  fixture=$SRC/tests/lint/fixtures/multidoc
  "$A" lint check "$fixture" --no-history -o json > via.json 2> via.err; rc=$?
  "$BIN/amlops-lint" check "$fixture" --no-history -o json > direct.json 2> direct.err; rc_direct=$?
  check "$rc" 1 "amlops lint check on a fixture with an error finding exits 1"
  check "$rc_direct" 1 "amlops-lint check on the same fixture exits 1"
  # The same document but for the run's duration.
  same_json() { $PY -c 'import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b): d["summary"].pop("seconds")
sys.exit(0 if a == b and a else 1)' "$@"; }
  same_json via.json direct.json && pass "amlops lint check -o json: the same stdout as amlops-lint" \
    || fail "lint stdout differs: $(diff via.json direct.json | head -5)"
  check "$(cat via.err)" "$(cat direct.err)" "amlops lint check: the same stderr"
  "$A" lint check "$fixture" --no-history --fail-on never > /dev/null 2>&1; rc=$?
  check "$rc" 0 "amlops lint check --fail-on never exits 0"
  # On a CI host the tool writes the step outputs, as when run directly.
  : > gh-out-via; : > gh-out-direct
  env GITHUB_ACTIONS=true GITHUB_OUTPUT="$WORK/gh-out-via" "$A" lint check "$fixture" --no-history > /dev/null 2> gh.err
  env GITHUB_ACTIONS=true GITHUB_OUTPUT="$WORK/gh-out-direct" "$BIN/amlops-lint" check "$fixture" --no-history \
    > /dev/null 2>&1
  grep -q '^findings<<' gh-out-via && pass "GitHub host: amlops lint check writes its step outputs" \
    || fail "no step outputs: $(cat gh-out-via)"
  check "$(grep -v '^ghadelimiter' gh-out-via | grep -c .)" "$(grep -v '^ghadelimiter' gh-out-direct | grep -c .)" \
    "GitHub host: as many output lines as amlops-lint writes"
  grep -q '::error' gh.err && pass "GitHub host: the annotations on stderr" || fail "no annotations: $(head -3 gh.err)"
fi
# stdin: a fragment read from /dev/stdin.
if has report; then
  printf '<!-- amlops-fragment -->\n# lint\nstdin passes through\n' > frag.md
  via=$("$A" report summary --fragment /dev/stdin < frag.md 2>&1)
  direct=$("$BIN/amlops-report" summary --fragment /dev/stdin < frag.md 2>&1)
  check "$via" "$direct" "amlops report summary --fragment /dev/stdin reads the umbrella's stdin"
  [[ $via == *"stdin passes through"* ]] && pass "the fragment from stdin is in the summary" || fail "$via"
fi

# ---- the process is the tool's: signals, and amlops-local --daemon re-running itself ----------
if has local; then
  "$A" local serve --port 0 --data "$WORK/srv" > srv.out 2>&1 &
  pid=$!
  for _ in $(seq 300); do [ -s "$WORK/srv/server.json" ] && break; sleep 0.1; done
  check "$(readlink "/proc/$pid/exe")" "$BIN/amlops-local" "amlops local serve: the umbrella's process is amlops-local (execv)"
  kill -TERM "$pid"
  wait "$pid"; rc=$?
  check "$rc" 130 "SIGTERM to amlops local serve: exit 130, as amlops-local"
  "$A" local serve --port 0 --data "$WORK/daemon" --daemon --print-env > daemon.env 2> daemon.err; rc=$?
  check "$rc" 0 "amlops local serve --daemon starts the server"
  grep -q "^export AMLOPS_ARM_ENDPOINT=" daemon.env && pass "amlops local serve --daemon --print-env" || fail "$(cat daemon.err)"
  "$A" local stop --data "$WORK/daemon" > /dev/null 2>&1; rc=$?
  check "$rc" 0 "amlops local stop"
fi

# ---- tool binaries absent: the umbrella alone, PATH empty -------------------------------------
mkdir -p alone onpath linked
cp "$A" alone/amlops
out=$(env PATH= alone/amlops --help); rc=$?
check "$rc" 0 "amlops --help without any tool installed"
for t in "${tools[@]}"; do
  summary=$(grep -o "^  $t  *[^ ].*" <<<"$out")
  [ -n "$summary" ] && pass "amlops --help lists $t with its summary" || fail "amlops --help does not list $t"
done
t=${tools[0]}
env PATH= alone/amlops "$t" --help > out.txt 2> err.txt; rc=$?
check "$rc" 2 "amlops $t with amlops-$t absent: exit 2"
grep -q "amlops-$t is not installed: not in $WORK/alone (beside amlops) nor on PATH (empty)" err.txt \
  && pass "the message names where it looked" || fail "message: $(cat err.txt)"
grep -q "release archive" err.txt && grep -q "actions/setup" err.txt && pass "the message says how to get it" \
  || fail "message: $(cat err.txt)"
check "$(env PATH= alone/amlops --version | cut -d' ' -f1)" amlops "amlops --version without any tool"
env PATH= alone/amlops doctor --path "$WORK" > /dev/null 2>&1; rc=$?
check "$rc" 0 "amlops doctor is the umbrella's own (no tool needed)"

# ---- found on PATH only, and through a symlink to the umbrella -------------------------------
cp "$BIN/amlops-$t" onpath/
out=$(env PATH="$WORK/onpath" alone/amlops "$t" --version 2>&1); rc=$?
check "$rc" 0 "amlops $t with amlops-$t on PATH only"
check "$out" "$("$BIN/amlops-$t" --version | sed "s/^amlops-$t /amlops $t /")" "amlops $t --version from PATH"
if [ ${#tools[@]} -gt 1 ]; then
  u=${tools[1]}
  env PATH="$WORK/onpath" alone/amlops "$u" --help > /dev/null 2> err.txt; rc=$?
  check "$rc" 2 "amlops $u, not on PATH: exit 2"
  grep -q "nor on PATH=$WORK/onpath" err.txt && pass "the message names the PATH searched" || fail "$(cat err.txt)"
fi
ln -s "$A" linked/amlops
out=$(env PATH= linked/amlops "$t" --version 2>&1); rc=$?
check "$rc" 0 "a symlink to the umbrella finds the tools beside its target"

echo "$FAILS failure(s)"
[ "$FAILS" = 0 ]
