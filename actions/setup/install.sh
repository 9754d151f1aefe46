#!/usr/bin/env bash
# actions/setup: downloads amlops-<os>-<arch>.tar.gz and SHA256SUMS from a release, checks the
# archive's SHA-256 against SHA256SUMS, unpacks it under $RUNNER_TOOL_CACHE (or $RUNNER_TEMP) and
# appends the folder to $GITHUB_PATH. Reads AMLOPS_VERSION, AMLOPS_REPOSITORY, AMLOPS_BASE_URL,
# AMLOPS_TOKEN, RUNNER_OS, RUNNER_ARCH.
set -euo pipefail

version=${AMLOPS_VERSION:-latest}
repo=${AMLOPS_REPOSITORY:-amlops/amlops}
base=${AMLOPS_BASE_URL:-https://github.com/$repo/releases}

case "${RUNNER_OS:-$(uname -s)}" in
  Linux) os=linux ;;
  macOS | Darwin) os=darwin ;;
  Windows | MINGW* | MSYS*) os=windows ;;
  *) echo "::error::amlops setup: unsupported runner OS '${RUNNER_OS:-}'"; exit 1 ;;
esac
case "${RUNNER_ARCH:-$(uname -m)}" in
  X64 | x86_64 | amd64) arch=x86_64 ;;
  ARM64 | aarch64 | arm64) arch=aarch64 ;;
  *) echo "::error::amlops setup: unsupported runner architecture '${RUNNER_ARCH:-}'"; exit 1 ;;
esac

archive="amlops-$os-$arch.tar.gz"
if [ "$version" = latest ]; then url="$base/latest/download"; else url="$base/download/$version"; fi

work=$(mktemp -d "${RUNNER_TEMP:-/tmp}/amlops-setup.XXXXXX")
fetch() {  # fetch URL FILE
  local auth=()
  [ -n "${AMLOPS_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $AMLOPS_TOKEN")
  curl --fail --silent --show-error --location --retry 3 "${auth[@]}" -o "$2" "$1"
}
if ! fetch "$url/$archive" "$work/$archive"; then
  echo "::error::amlops setup: no release archive $archive at $url (is $os/$arch published for $version?)"
  exit 1
fi
fetch "$url/SHA256SUMS" "$work/SHA256SUMS"

want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$work/SHA256SUMS")
if [ -z "$want" ]; then
  echo "::error::amlops setup: SHA256SUMS has no line for $archive"
  exit 1
fi
if command -v sha256sum >/dev/null; then got=$(sha256sum "$work/$archive" | awk '{print $1}')
else got=$(shasum -a 256 "$work/$archive" | awk '{print $1}'); fi
if [ "$got" != "$want" ]; then
  echo "::error::amlops setup: SHA-256 mismatch for $archive (got $got, SHA256SUMS says $want)"
  exit 1
fi

dest="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/amlops/$version/$os-$arch"
rm -rf "$dest" && mkdir -p "$dest"
tar -xzf "$work/$archive" -C "$dest"
chmod 0755 "$dest"/amlops* 2>/dev/null || true
rm -rf "$work"
echo "$dest" >> "$GITHUB_PATH"
{
  echo "path=$dest"
  echo "version=$version"
} >> "$GITHUB_OUTPUT"
echo "amlops $version ($os/$arch, sha256 $got) installed in $dest"
