#!/usr/bin/env bash
# Benchmark (not a test): amlops-local under hostile load on loopback. Opens N half-sent requests
# (headers never finished), then reports the server's thread count and open descriptors, and the
# wall time of a normal request made meanwhile; then M unauthenticated 500 MB PUT headers and the
# server's resident memory after them (answered at once when the application's on_headers hook
# rejects them; "timed out" means the server kept reading the body).
# Usage: bench/server/run.sh BIN_DIR [N] [M]   (BIN_DIR holds amlops-local)
set -eu -o pipefail
BIN=$(cd "$1" && pwd)
N=${2:-3000}
M=${3:-3}
WORK=$(mktemp -d /tmp/amlops-bench-server.XXXXXX)
trap '"$BIN/amlops-local" stop --data "$WORK/srv" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
"$BIN/amlops-local" serve --port 0 --data "$WORK/srv" --daemon --print-env > "$WORK/env" 2>/dev/null
python3 - "$WORK/srv/server.json" "$N" "$M" <<'PY'
import json, os, socket, sys, time
info = json.load(open(sys.argv[1]))
pid, port, n, m = info["pid"], info["port"], int(sys.argv[2]), int(sys.argv[3])
def threads(): return len(os.listdir(f"/proc/{pid}/task"))
def fds(): return len(os.listdir(f"/proc/{pid}/fd"))
def rss_mb():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1]) / 1024
def get():
    t = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = s.recv(100)
    s.close()
    return data.split(b"\r\n")[0].decode(), time.monotonic() - t
print(f"idle: threads {threads()}, fds {fds()}, rss {rss_mb():.1f} MB")
socks = []
for i in range(n):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    except OSError as e:
        print(f"connection {i}: {e}"); break
time.sleep(1)
line, took = get()
print(f"{len(socks)} half-sent requests: threads {threads()}, fds {fds()}; a normal request: {line!r} in {took*1000:.1f} ms")
for s in socks: s.close()
time.sleep(0.5)
for i in range(m):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"PUT /blob/c/b HTTP/1.1\r\nHost: x\r\nx-ms-blob-type: BlockBlob\r\nContent-Length: 524288000\r\n\r\n")
    try:
        s.sendall(b"\0" * (4 << 20))  # the first 4 MiB of the body (the server may refuse it first)
    except OSError:
        pass
    try:
        first = s.recv(100).split(b"\r\n")[0].decode()
        print(f"unauthenticated 500 MB PUT {i + 1}: {first!r}")
    except OSError as e:
        print(f"unauthenticated 500 MB PUT {i + 1}: {e}")
    s.close()
print(f"after the PUTs: threads {threads()}, rss {rss_mb():.1f} MB")
PY
