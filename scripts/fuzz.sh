#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzzing build (make fuzz / make fuzz-smoke).
#   scripts/fuzz.sh BIN_DIR runs=N     a fixed number of runs from seed 1: deterministic (CI)
#   scripts/fuzz.sh BIN_DIR time=S     S seconds each, random seed (looking for bugs)
# Seeds are the repository's own examples; new inputs go to a temporary folder, so the tree is
# never written. A crash leaves its input in artifacts/fuzz/ and fails the run. The per-input
# timeout is generous: on a loaded shared machine one slow input is not a hang.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$1"
mode="${2:-runs=20000}"
declare -A seeds=(
  [fuzz_csv]="$root/templates/starter/data/train $root/tests/jobmodel/starter"
  [fuzz_job_yaml]="$root/templates/starter/jobs $root/tests/jobmodel/starter $root/tests/lint/fixtures/clean/jobs"
  [fuzz_config]="$root/templates/starter $root/tests/lint/fixtures/clean/environments"
  [fuzz_setup_yaml]="$root/templates/starter/compute $root/templates/starter/data $root/templates/starter/environments $root/templates/starter/schedules"
)
case "$mode" in
  runs=*) limit=(-runs="${mode#runs=}" -seed=1) ;;
  time=*) limit=(-max_total_time="${mode#time=}") ;;
  *) echo "usage: $0 BIN_DIR runs=N|time=S" >&2; exit 2 ;;
esac
mkdir -p "$root/artifacts/fuzz"
passed=0 failed=0
for target in fuzz_csv fuzz_job_yaml fuzz_config fuzz_setup_yaml; do
  corpus="$(mktemp -d)"
  read -r -a dirs <<< "${seeds[$target]}"
  if "$bin/$target" "${limit[@]}" -max_len=4096 -rss_limit_mb=2048 -timeout=120 \
      -artifact_prefix="$root/artifacts/fuzz/$target-" "$corpus" "${dirs[@]}" > "$corpus.log" 2>&1; then
    echo "$target: $(grep -Eo 'Done [0-9]+ runs' "$corpus.log" | tail -1 | cut -d' ' -f2) runs, no crash"
    passed=$((passed + 1))
  else
    echo "$target: FAILED"; tail -40 "$corpus.log"
    failed=$((failed + 1))
  fi
  rm -rf "$corpus" "$corpus.log"
done
echo "fuzz: $passed passed, $failed failed"
[ "$passed" -gt 0 ] || { echo "fuzz: no fuzz target ran" >&2; exit 1; }
[ "$failed" -eq 0 ]
