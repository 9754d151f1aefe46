#!/usr/bin/env bash
# Installs what building and testing amlops needs on Debian 12: the packages listed in
# scripts/apt-packages.txt that are missing, and the test-only npm packages (package-lock.json).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
missing=()
while read -r p cmd _; do
  [ -n "$p" ] || continue
  case "$p" in \#*) continue ;; esac
  if [ -n "${cmd:-}" ] && command -v "$cmd" >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done < "$here/scripts/apt-packages.txt"
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# npm ci again whenever package-lock.json changed since the last install (a stamp of its hash):
# the test tools, and the task handler's runtime modules (bundled into the .vsix).
for dir in tests/node tasks/common; do
  lock="$here/$dir/package-lock.json"
  stamp="$here/$dir/node_modules/.amlops-lock-sha256"
  [ -f "$lock" ] || continue
  want="$(sha256sum "$lock" | cut -d' ' -f1)"
  if [ ! -d "$here/$dir/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "deps: npm ci ($dir)" >&2
    (cd "$here/$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
  # Installed packages' own development fields name their authors' folders (file:../../shared-configs):
  # never used after the install, dropped so that nothing here points outside the project (0.2 s).
  stripped="$here/$dir/node_modules/.amlops-dev-fields-stripped"
  if [ "$(cat "$stripped" 2>/dev/null)" != "$want" ]; then
    node "$here/scripts/npm-strip-dev-fields.js" "$here/$dir/node_modules" >&2
    echo "$want" > "$stripped"
  fi
done
