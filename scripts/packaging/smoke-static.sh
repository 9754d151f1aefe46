#!/usr/bin/env bash
# Runs the static amlops-lint and amlops-monitor the way a container action runs them, with nothing
# from the host: the action image (scripts/packaging/Containerfile: the binary as
# /usr/local/bin/amlops-tool, the CA bundle, /tmp) built with buildah and mounted, or without
# buildah a folder holding the same files, plus what the runner mounts (/github/workspace,
# /github/file_commands), entered with chroot and the image's entrypoint. Containers cannot be
# started on these machines, so chroot stands in for `docker run`. Needs root.
# usage: smoke-static.sh DIST_DIR
set -euo pipefail
if [ ! -d "$1" ]; then echo "smoke-static: SKIPPED ($1 does not exist: make static)"; exit 77; fi
dist=$(cd "$1" && pwd)
# Exit 77 (skipped, CTest's SKIP_RETURN_CODE) when not root or DIST_DIR holds no static binaries.
if [ "$(id -u)" != 0 ]; then echo "smoke-static: SKIPPED (chroot needs root)"; exit 77; fi
if ! ls "$dist"/amlops-* >/dev/null 2>&1 || ! file -b "$dist"/amlops-lint | grep -q "statically linked"; then
  echo "smoke-static: SKIPPED ($dist holds no static build: make static)"; exit 77
fi
CHROOT=$(command -v chroot)
tmproot=$(mktemp -d)
fails=0
check() { if "${@:2}"; then echo "ok   - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }

# With buildah: the root is the real image (scripts/packaging/Containerfile, built by
# build-images.sh), mounted. Without: a folder holding the same files.
B=(buildah --storage-driver vfs)
if command -v buildah >/dev/null; then
  OCI_DIR="$tmproot/oci" "$(dirname "$0")/build-images.sh" "$dist" localhost/amlops smoke buildah >/dev/null
  echo "smoke-static: running the images built with buildah (mounted, chroot)"
else
  echo "smoke-static: no buildah: running a root folder with the image's files (chroot)"
fi
container=
cleanup() {
  if [ -n "$container" ]; then "${B[@]}" umount "$container" >/dev/null; "${B[@]}" rm "$container" >/dev/null; fi
  container=
}
trap 'cleanup; rm -rf "$tmproot"' EXIT
make_root() {  # make_root TOOL
  cleanup
  if command -v buildah >/dev/null; then
    container=$("${B[@]}" from "localhost/amlops/amlops-$1:smoke")
    root=$("${B[@]}" mount "$container")
  else
    root=$tmproot
    rm -rf "$root" && mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/tmp"
    cp "$dist/amlops-$1" "$root/usr/local/bin/amlops-tool"
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  fi
  # What the runner mounts into the container.
  mkdir -p "$root/github/workspace" "$root/github/file_commands" "$root/github/home"
  : > "$root/github/file_commands/output"
  : > "$root/github/file_commands/summary"
}

# The runner passes --workdir /github/workspace; chroot starts in /, so the paths are absolute.
run() { local envs=(); while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  env -i HOME=/github/home GITHUB_ACTIONS=true GITHUB_WORKSPACE=/github/workspace \
    GITHUB_OUTPUT=/github/file_commands/output GITHUB_STEP_SUMMARY=/github/file_commands/summary \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "${envs[@]}" "$CHROOT" "$root" /usr/local/bin/amlops-tool "$@"; }

# Every binary (each tool and the umbrella) alone in a bare root (the binary, the CA bundle, /tmp):
# it starts, and its stripped size is at most MAX_MB (8) MB.
max_bytes=$(( ${MAX_MB:-8} * 1024 * 1024 ))
for bin in "$dist"/amlops "$dist"/amlops-*; do
  [ -f "$bin" ] || continue
  name=$(basename "$bin")
  bare=$(mktemp -d)
  mkdir -p "$bare/usr/local/bin" "$bare/etc/ssl/certs" "$bare/tmp"
  strip -o "$bare/usr/local/bin/$name" "$bin"
  cp /etc/ssl/certs/ca-certificates.crt "$bare/etc/ssl/certs/"
  size=$(stat -c %s "$bare/usr/local/bin/$name")
  check "$name --version in a bare root; stripped $size bytes (<= $max_bytes)" \
    sh -c '[ "$2" -le "$3" ] && env -i "$1" "$0" /usr/local/bin/'"$name"' --version >/dev/null' "$bare" "$CHROOT" "$size" "$max_bytes"
  rm -rf "$bare"
done

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
# A fixture repository (tests/lint/fixtures/multidoc: three findings) through the image's entrypoint,
# and through the same binary run directly on the host: the same SARIF, but for the root folder's URI.
src_dir=$(cd "$(dirname "$0")/../.." && pwd)
cp -r "$src_dir/tests/lint/fixtures/multidoc" "$root/github/workspace/fixture"
cp -r "$src_dir/tests/lint/fixtures/multidoc" "$tmproot/fixture-direct"
run INPUT_PATH=/github/workspace/fixture INPUT_NO-HISTORY=true INPUT_FAIL-ON=never \
  INPUT_SARIF-FILE=/github/workspace/fixture.sarif -- check > /dev/null 2>&1 || true
(cd "$tmproot" && "$dist/amlops-lint" check --path "$tmproot/fixture-direct" --no-history --fail-on never \
  --sarif-file "$tmproot/direct.sarif" > /dev/null 2>&1) || true
same_sarif() {
  python3 - "$root/github/workspace/fixture.sarif" "$tmproot/direct.sarif" "$tmproot/fixture-direct" <<'PY'
import json, sys
image, direct = (open(p).read() for p in sys.argv[1:3])
image = image.replace("file:///github/workspace/fixture/", "ROOT/")
direct = direct.replace("file://" + sys.argv[3] + "/", "ROOT/")
a, b = json.loads(image), json.loads(direct)
print("findings: image %d, direct %d" % (len(a["runs"][0]["results"]), len(b["runs"][0]["results"])))
sys.exit(0 if a == b and len(a["runs"][0]["results"]) > 0 else 1)
PY
}
check "lint: the image's SARIF on a fixture repository equals the binary's run directly" same_sarif

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
# HTTPS from the bare root: the name resolved by c-ares from /etc/hosts (no glibc NSS), TLS
# verified against the CA file, a wrong CA refused. A loopback HTTPS server answers every POST
# with a token error that the tool reports.
make_root job
tls=$(mktemp -d)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/key.pem" -out "$tls/cert.pem" -days 2 \
  -subj /CN=amlops.test -addext subjectAltName=DNS:amlops.test 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/other.key" -out "$tls/other.pem" -days 2 \
  -subj /CN=other.test 2>/dev/null
python3 - "$tls" <<'PY' &
import http.server, ssl, sys
d = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"error":"invalid_client","error_description":"AADSTS7000215 smoke-static-marker"}'
        self.send_response(401); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(d + "/cert.pem", d + "/key.pem")
s.socket = ctx.wrap_socket(s.socket, server_side=True)
open(d + "/port", "w").write(str(s.server_address[1]))
s.serve_forever()
PY
server=$!
for _ in $(seq 50); do [ -s "$tls/port" ] && break; sleep 0.1; done
port=$(cat "$tls/port")
echo "127.0.0.1 amlops.test" > "$root/etc/hosts"
cp "$tls/cert.pem" "$root/github/home/ca.pem"
cp "$tls/other.pem" "$root/github/home/other.pem"
job() { run SSL_CERT_FILE="$1" AZURE_CLIENT_ID=c AZURE_TENANT_ID=t AZURE_CLIENT_SECRET=s \
  AZURE_AUTHORITY_HOST="https://amlops.test:$port" -- show --name j --auth client-secret \
  --workspace azureml://subscriptions/s/resourcegroups/r/workspaces/w 2>&1 || true; }
out=$(job /github/home/ca.pem)
check "job: HTTPS by host name from the bare root reaches the server" grep -q smoke-static-marker <<<"$out"
out=$(job /github/home/other.pem)
check "job: a certificate from another CA is refused" grep -qiE "SSL certificate problem|Cert verify failed" <<<"$out"
printf "%s\n" "$out" | tail -1
kill "$server"
rm -rf "$tls"

# The OCI archives the release workflow pushes (skopeo copy oci-archive:... docker://...): an OCI
# layout whose image holds the binary as the entrypoint's path.
oci_ok() {
  python3 - "$1" <<'PY'
import io, json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    blob = lambda d: t.extractfile("blobs/" + d.replace(":", "/")).read()
    index = json.loads(t.extractfile("index.json").read())
    manifest = json.loads(blob(index["manifests"][0]["digest"]))
    config = json.loads(blob(manifest["config"]["digest"]))
    assert config["config"]["Entrypoint"] == ["/usr/local/bin/amlops-tool"], config["config"]
    names = set()
    for layer in manifest["layers"]:
        with tarfile.open(fileobj=io.BytesIO(blob(layer["digest"]))) as lt:
            names.update(n.lstrip("./") for n in lt.getnames())
    assert "usr/local/bin/amlops-tool" in names, sorted(names)
PY
}
if command -v buildah >/dev/null; then
  for f in "$dist"/amlops-*; do
    t=$(basename "$f")
    [ -f "$tmproot/oci/$t.oci.tar" ] || continue
    check "$t: OCI archive with the binary as its entrypoint" oci_ok "$tmproot/oci/$t.oci.tar"
  done
  check "an OCI archive per image" test "$(ls "$tmproot"/oci/*.oci.tar | wc -l)" -ge 8
fi

echo "$fails failure(s)"
[ "$fails" = 0 ]
