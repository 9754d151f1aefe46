#!/usr/bin/env bash
# Runs the static amlops-lint and amlops-monitor the way a container action runs them, with nothing
# from the host: a root holding exactly what scripts/packaging/Containerfile puts in the image
# (the binary as /usr/local/bin/amlops-tool, the CA bundle, an empty /tmp), plus the mounts the
# runner adds (/github/workspace, /github/file_commands), entered with chroot. (This machine cannot
# run containers; see the note in the Containerfile.) Needs root for chroot.
# usage: smoke-static.sh DIST_DIR
set -euo pipefail
dist=$(cd "$1" && pwd)
if [ "$(id -u)" != 0 ]; then echo "smoke-static: SKIPPED (chroot needs root)"; exit 0; fi
CHROOT=$(command -v chroot)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fails=0
check() { if "${@:2}"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }

make_root() {  # make_root TOOL
  rm -rf "$root" && mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/tmp" \
    "$root/github/workspace" "$root/github/file_commands" "$root/github/home"
  chmod 1777 "$root/tmp"
  cp "$dist/amlops-$1" "$root/usr/local/bin/amlops-tool"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  : > "$root/github/file_commands/output"
  : > "$root/github/file_commands/summary"
}
# The runner passes --workdir /github/workspace; chroot starts in /, so the paths are absolute.
run() { local envs=(); while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  env -i HOME=/github/home GITHUB_ACTIONS=true GITHUB_WORKSPACE=/github/workspace \
    GITHUB_OUTPUT=/github/file_commands/output GITHUB_STEP_SUMMARY=/github/file_commands/summary \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "${envs[@]}" "$CHROOT" "$root" /usr/local/bin/amlops-tool "$@"; }

make_root lint
mkdir -p "$root/github/workspace/src"
printf 'pandas\n' > "$root/github/workspace/requirements.txt"
printf "print('x')\n" > "$root/github/workspace/src/train.py"
out=$(run INPUT_PATH=/github/workspace INPUT_NO-HISTORY=true INPUT_FAIL-ON=never \
  INPUT_SARIF-FILE=/github/workspace/lint.sarif -- check 2>&1) && rc=0 || rc=$?
check "lint check runs in the bare root (rc $rc)" test "$rc" = 0
check "lint reads INPUT_* and writes SARIF" test -s "$root/github/workspace/lint.sarif"
check "lint writes its step outputs" grep -q '^findings<<' "$root/github/file_commands/output"
check "lint annotates" grep -q '::warning' <<<"$out"

make_root monitor
python3 - "$root/github/workspace" <<'PY'
import sys
d = sys.argv[1]
open(d + "/ref.csv", "w").write("x,c\n" + "".join("%d,%s\n" % (i % 50, "ab"[i % 2]) for i in range(300)))
open(d + "/cur.csv", "w").write("x,c\n" + "".join("%d,%s\n" % (i % 50 + 40, "abc"[i % 3]) for i in range(300)))
PY
run INPUT_REFERENCE=/github/workspace/ref.csv INPUT_CURRENT=/github/workspace/cur.csv INPUT_FAIL-ON-DRIFT=true \
  INPUT_REPORT=/github/workspace/drift.html -- drift >/dev/null 2>&1 && rc=0 || rc=$?
check "monitor drift exits 1 on drift in the bare root (rc $rc)" test "$rc" = 1
check "monitor writes the HTML report" test -s "$root/github/workspace/drift.html"
output_is() { [ "$(grep -A1 "^$1<<" "$root/github/file_commands/output" | tail -1)" = "$2" ]; }
check "monitor sets drifted=true" output_is drifted true
echo "$fails failure(s)"
[ "$fails" = 0 ]
