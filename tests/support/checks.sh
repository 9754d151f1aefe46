# The shell integration tests' checks (sourced): ok/FAIL lines, a failure count, JSON reads.
# Each script ends with its own summary and `[ "$FAILS" = 0 ]`.
PY=${PY:-/usr/bin/python3}
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
check() { if [ "$1" = "$2" ]; then pass "$3"; else fail "$3 (got '$1', expected '$2')"; fi; }
# jq_py FILE EXPR: prints the Python expression EXPR over the JSON document `d` of FILE.
jq_py() { $PY -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
