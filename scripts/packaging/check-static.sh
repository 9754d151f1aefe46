#!/usr/bin/env bash
# Checks that every amlops binary in BIN_DIR is fully static (`file` and `ldd` agree; fails if
# not), writes stripped copies to OUT_DIR and prints their sizes. Any binary above MAX_MB (default 8)
# fails: a tool (amlops-*, the one binary of an image or a task) and the umbrella `amlops` alike
# (it links no tool: `amlops <tool>` execs amlops-<tool> beside it).
# usage: check-static.sh BIN_DIR OUT_DIR [MAX_MB]
set -euo pipefail
bin=$1 out=$2 max_mb=${3:-8}
mkdir -p "$out"
fail=0
printf '%-16s %12s  %s\n' binary "stripped B" linkage
for f in "$bin"/amlops "$bin"/amlops-*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  strip -o "$out/$name" "$f"
  kind=$(file -b "$out/$name")
  lddout=$(ldd "$out/$name" 2>&1 || true)
  size=$(stat -c %s "$out/$name")
  printf '%-16s %12d  %s\n' "$name" "$size" "$(echo "$kind" | grep -o 'statically linked\|dynamically linked\|static-pie linked')"
  if ! echo "$kind" | grep -q "statically linked" || ! echo "$lddout" | grep -q "not a dynamic executable"; then
    echo "check-static: $name is not fully static: $kind / $lddout" >&2
    fail=1
  fi
  if [ "$size" -gt $((max_mb * 1024 * 1024)) ]; then
    echo "check-static: $name is $size bytes stripped, above $max_mb MB" >&2
    fail=1
  fi
done
exit $fail
