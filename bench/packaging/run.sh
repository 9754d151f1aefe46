#!/usr/bin/env bash
# Benchmark (not a test) of what a CI user pays for the packaging: each action image's size (built
# with buildah from scripts/packaging/Containerfile, as the release does), each static binary's
# start (`--version`: first run and median of 10, page cache warm) versus `az --version` when az is
# installed (median of 3; says so when it is not), and the published figures of the deprecated
# Azure/aml-* actions and of `az ml` in a run step (cited from their issue threads, not measured).
# usage: bench/packaging/run.sh [DIST_DIR]   (default build-static/dist, from make static; root for buildah)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
dist=$(cd "${1:-$here/build-static/dist}" && pwd)
ls "$dist"/amlops-* >/dev/null 2>&1 || { echo "bench: no static binaries in $dist (make static)" >&2; exit 2; }
ms() {  # ms CMD...: wall milliseconds of one run
  local t0 t1
  t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"

echo
echo "== images (FROM scratch: one static binary + CA bundle)"
if command -v buildah >/dev/null && [ "$(id -u)" = 0 ]; then
  "$here/scripts/packaging/build-images.sh" "$dist" localhost/amlops-bench bench buildah >/dev/null
  printf '%-16s %12s %14s\n' image "size B" "gzip B (pull)"
  for bin in "$dist"/amlops-*; do
    tool=${bin##*/amlops-}
    img="localhost/amlops-bench/amlops-$tool:bench"
    buildah --storage-driver vfs inspect "$img" >/dev/null 2>&1 || continue
    size=$(buildah --storage-driver vfs images --format '{{.Size}}' "$img" | head -1)
    tmp=$(mktemp -d)
    buildah --storage-driver vfs push -q "$img" "oci-archive:$tmp/img.tar" >/dev/null
    printf '%-16s %12s %14d\n' "amlops-$tool" "$size" "$(gzip -c "$tmp/img.tar" | wc -c)"
    rm -rf "$tmp"
  done
else
  echo "(buildah missing or not root: image sizes not measured; binary sizes instead)"
  for bin in "$dist"/amlops-*; do printf '%-16s %12d\n' "${bin##*/}" "$(stat -c %s "$bin")"; done
fi

echo
echo "== start-up: --version (ms)"
printf '%-16s %8s %8s\n' binary first median10
for bin in "$dist"/amlops-*; do
  first=$(ms "$bin" --version)
  runs=(); for _ in $(seq 10); do runs+=("$(ms "$bin" --version)"); done
  printf '%-16s %8d %8d\n' "${bin##*/}" "$first" "$(median "${runs[@]}")"
done
if command -v az >/dev/null; then
  first=$(ms az --version)
  runs=(); for _ in 1 2 3; do runs+=("$(ms az --version)"); done
  printf '%-16s %8d %8d   (azure-cli %s, Debian package; median of 3)\n' "az --version" "$first" "$(median "${runs[@]}")" \
    "$(dpkg-query -W -f '${Version}' azure-cli 2>/dev/null || echo '?')"
else
  echo "az --version: az is not installed here, not measured (apt-get install azure-cli)"
fi

cat <<'CITED'

== cited, not measured here (from the issue threads named)
- Azure/aml-* actions (deprecated 2021-10-19): `runs.using: docker` with `image: Dockerfile` on a
  base image holding the whole azureml-sdk, so the image is built on every workflow run; moving
  such actions to a prebuilt image took one from 30 s to 10 s (alstr/todo-to-issue-action#89),
  others report builds of more than 2 min (r-lib/actions#406) and 3-4 min (ScottBrenner/cfn-lint-action#28).
- `az` in a run step on hosted Ubuntu: first call 2-31 s, 5 s on average (actions/runner-images#10110);
  `az --version` alone about 11 s on a runner (Azure/login#449); the `ml` extension adds about
  1.3 s of loading to each `az ml` call (Azure/azure-cli#27486); Windows first call 84 s
  (actions/runner-images#8296).
CITED
