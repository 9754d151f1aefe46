#!/usr/bin/env bash
# Builds the container action images from static binaries: one FROM scratch image per tool.
# usage: build-images.sh DIST_DIR REGISTRY_PREFIX TAG [docker|buildah]
#   e.g. build-images.sh build-static/dist ghcr.io/amlops v0.1.0 buildah
# Each image is tagged REGISTRY_PREFIX/amlops-<tool>:TAG. With buildah (no daemon needed) the
# storage driver is vfs, as on machines without overlay support, and with OCI_DIR set each image is
# also written as an OCI archive OCI_DIR/amlops-<tool>.oci.tar (what the release workflow pushes
# with skopeo).
set -euo pipefail
dist=$(cd "$1" && pwd) prefix=$2 tag=$3 engine=${4:-docker}
src=$(cd "$(dirname "$0")/../.." && pwd)
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/tmp"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
# One image per container action: the tool named by the docker://.../amlops-<tool>:TAG image of an
# actions/*/action.yml (the folder may differ: amlops-setup's action is actions/setup-workspace).
tools=$(sed -n -E 's#.*docker://[^ ]*/amlops-([a-z]+):.*#\1#p' "$src"/actions/*/action.yml | sort -u)
for tool in $tools; do
  file -b "$dist/amlops-$tool" | grep -q "statically linked" \
    || { echo "build-images: $dist/amlops-$tool is not a static binary (make static)" >&2; exit 2; }
  cp "$dist/amlops-$tool" "$ctx/"
  if [ "$engine" = buildah ]; then
    buildah --storage-driver vfs bud -q --build-arg TOOL="$tool" -f "$src/scripts/packaging/Containerfile" \
      -t "$prefix/amlops-$tool:$tag" "$ctx"
    if [ -n "${OCI_DIR:-}" ]; then
      mkdir -p "$OCI_DIR" && rm -f "$OCI_DIR/amlops-$tool.oci.tar"
      buildah --storage-driver vfs push -q "$prefix/amlops-$tool:$tag" \
        "oci-archive:$OCI_DIR/amlops-$tool.oci.tar:$prefix/amlops-$tool:$tag"
    fi
  else
    docker build -q --build-arg TOOL="$tool" -f "$src/scripts/packaging/Containerfile" -t "$prefix/amlops-$tool:$tag" "$ctx"
  fi
  echo "built $prefix/amlops-$tool:$tag"
done
