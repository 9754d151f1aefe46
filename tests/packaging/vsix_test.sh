#!/usr/bin/env bash
# The Azure DevOps extension built by tfx-cli (scripts/packaging/package-vsix.sh) from the static
# binaries of `make static`: it is built, within the Marketplace's 25 MB, holds every task's
# task.json, handler, task-lib and the static binary of its tool. Skipped (77) without a static build.
# usage: vsix_test.sh STATIC_BIN_DIR OUT_DIR
set -euo pipefail
bin=$1 out=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -x "$bin/amlops-lint" ] || ! file -b "$bin/amlops-lint" | grep -q "statically linked"; then
  echo "vsix_test: SKIPPED ($bin holds no static build: make static)"; exit 77
fi
rm -rf "$out" && mkdir -p "$out"
"$src/scripts/packaging/package-vsix.sh" "$bin" "$out"
vsix=$(ls "$out"/*.vsix)
python3 - "$vsix" "$src" <<'PY'
import glob, json, os, sys, zipfile
vsix, src = sys.argv[1:3]
names = set(zipfile.ZipFile(vsix).namelist())
fails = 0
for task_json in sorted(glob.glob(os.path.join(src, "tasks", "Amlops*V1", "task.json"))):
    task = os.path.basename(os.path.dirname(task_json))
    tool = task[len("Amlops"):-len("V1")].lower()
    for f in ("task.json", "index.js", "amlops-task.js", "bin/amlops-" + tool,
              "node_modules/azure-pipelines-task-lib/task.js"):
        ok = task + "/" + f in names
        fails += not ok
        print(("ok   - " if ok else "FAIL - ") + task + "/" + f)
manifest = json.load(open(os.path.join(src, "tasks", "vss-extension.json")))
ok = "extension.vsomanifest" in names
fails += not ok
print(("ok   - " if ok else "FAIL - ") + "extension.vsomanifest (tfx-cli) for " + manifest["id"])
sys.exit(1 if fails else 0)
PY
# The pruned runtime modules still load: every task's handler requires task-lib from its own copy.
x="$out/unpacked"
rm -rf "$x" && mkdir -p "$x" && (cd "$x" && python3 -m zipfile -e "$vsix" .)
for task in "$x"/AmlopsLint*V1 "$x"/AmlopsMonitor*V1; do
  (cd "$task" && node -e 'const tl = require("azure-pipelines-task-lib/task"); require("./amlops-task.js");
    if (typeof tl.getInput !== "function") process.exit(1)') ||
    { echo "FAIL - $(basename "$task"): the handler does not load from the .vsix's node_modules"; exit 1; }
  echo "ok   - $(basename "$task"): the handler loads task-lib from the .vsix's node_modules"
done
