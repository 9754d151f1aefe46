#!/usr/bin/env bash
# Builds the Azure DevOps extension (.vsix) from tasks/: every task folder gets task.json, index.js,
# the shared handler, its runtime node_modules (npm ci of tasks/common) and its binary in bin/
# (stripped). Prints the size; fails above the Marketplace's default 25 MB limit.
# usage: package-vsix.sh BIN_DIR OUT_DIR   (tfx-cli from tests/node: npm ci there first)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
bin=$(cd "$1" && pwd)
out=$(mkdir -p "$2" && cd "$2" && pwd)
tfx="$src/tests/node/node_modules/.bin/tfx"
[ -x "$tfx" ] || { echo "package-vsix: $tfx missing (run: cd tests/node && npm ci)" >&2; exit 2; }

stage="$out/vsix-stage"
rm -rf "$stage" && mkdir -p "$stage/_deps"
cp "$src/tasks/vss-extension.json" "$src/tasks/overview.md" "$stage/"
cp "$src/tasks/common/package.json" "$src/tasks/common/package-lock.json" "$stage/_deps/"
# The handler's runtime modules: installed by scripts/deps.sh (make deps) when present, so packaging
# needs no network; else npm ci here.
if [ -d "$src/tasks/common/node_modules/azure-pipelines-task-lib" ]; then
  cp -r "$src/tasks/common/node_modules" "$stage/_deps/"
else
  (cd "$stage/_deps" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
fi
# Every task carries its own copy: keep the code and the licences, drop docs, typings, source maps.
find "$stage/_deps/node_modules" -type f \( -name '*.md' ! -iname 'license*' -o -name '*.d.ts' -o -name '*.map' \
  -o -name '*.ts' \) -delete
# ...and what only the packages' own tests and repositories use (nodejs-file-downloader's fixtures
# alone were 90 KB compressed per task).
find "$stage/_deps/node_modules" -type d \( -name fixtures -o -name test -o -name tests -o -name __tests__ \
  -o -name example -o -name examples -o -name .github \) -prune -exec rm -rf {} +

static=yes
for dir in "$src"/tasks/Amlops*V1; do
  task=$(basename "$dir")
  tool=$(echo "$task" | sed -E 's/^Amlops(.*)V1$/\1/' | tr '[:upper:]' '[:lower:]')
  dest="$stage/$task"
  mkdir -p "$dest/bin"
  cp "$dir/task.json" "$dir/index.js" "$src/tasks/common/amlops-task.js" "$dest/"
  cp -r "$stage/_deps/node_modules" "$dest/"
  strip -o "$dest/bin/amlops-$tool" "$bin/amlops-$tool"
  file "$dest/bin/amlops-$tool" | grep -q "statically linked" || static=no
done
rm -rf "$stage/_deps"
if [ "$static" = no ]; then
  echo "package-vsix: WARNING: $bin holds dynamically linked binaries; agents without the same libraries" \
       "cannot run them. Build them with make static for a release." >&2
fi

(cd "$stage" && "$tfx" extension create --manifest-globs vss-extension.json --output-path "$out" --no-prompt)
vsix=$(ls -t "$out"/*.vsix | head -1)
size=$(stat -c %s "$vsix")
echo "package-vsix: $vsix: $size bytes (limit 26214400)"
[ "$size" -le 26214400 ] || { echo "package-vsix: the .vsix is above the 25 MB Marketplace limit" >&2; exit 1; }
