#!/usr/bin/python3
"""Figures for amlops-local (not a test; prints numbers next to a baseline).

    /usr/bin/python3 tests/local/bench_local.py build/bin/amlops-local

- HTTP: GET workspace (auth + routing) vs GET /_amlops/health (the socket/HTTP floor), sequential
  and 8 threads.
- Jobs: submit -> Completed of `true` command jobs vs spawning /bin/sh -c true directly.
- Blob: Put Blob / Get Blob of 64 MiB vs copying the same file on disk.
- Restart: kill -9 then `serve --daemon` until it answers, with N finished jobs in the store.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "amlops-local"


def start(data):
    out = subprocess.run([BIN, "serve", "--daemon", "--print-env", "--data", data], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit("serve failed: " + out.stderr)
    env = dict(l[7:].split("=", 1) for l in out.stdout.splitlines())
    env = {k: v.strip("'") for k, v in env.items()}
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": env["AZURE_CLIENT_ID"],
                                   "client_secret": env["AZURE_CLIENT_SECRET"], "scope": "https://management.azure.com/.default"}).encode()
    tok = json.load(urllib.request.urlopen(env["AZURE_AUTHORITY_HOST"] + "/" + env["AZURE_TENANT_ID"] + "/oauth2/v2.0/token", form))["access_token"]
    ws = env["AMLOPS_ARM_ENDPOINT"] + "/subscriptions/%s/resourceGroups/amlops-local/providers/Microsoft.MachineLearningServices/workspaces/local" % env["AZURE_SUBSCRIPTION_ID"]
    return env, tok, ws


def timed_gets(url, headers, n, threads=1):
    lat = []
    lock = threading.Lock()

    def worker(k):
        opener = urllib.request.build_opener()
        for _ in range(k):
            t = time.perf_counter()
            opener.open(urllib.request.Request(url, headers=headers)).read()
            with lock:
                lat.append(time.perf_counter() - t)
    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(n // threads,)) for _ in range(threads)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    wall = time.perf_counter() - t0
    lat.sort()
    return len(lat) / wall, lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000


def main():
    data = tempfile.mkdtemp(prefix="amlops-bench-")
    try:
        env, tok, ws = start(data)
        base = env["AMLOPS_ARM_ENDPOINT"]
        auth = {"Authorization": "Bearer " + tok}
        print("HTTP (requests/s, p50 ms, p99 ms)")
        for threads in (1, 8):
            h = timed_gets(base + "/_amlops/health", {}, 2000, threads)
            w = timed_gets(ws + "?api-version=2025-12-01", auth, 2000, threads)
            print("  %d thread(s): GET workspace %.0f/s p50 %.2f p99 %.2f | baseline /_amlops/health %.0f/s p50 %.2f p99 %.2f"
                  % (threads, w[0], w[1], w[2], h[0], h[1], h[2]))

        n = 20
        t0 = time.perf_counter()
        for _ in range(n):
            subprocess.run(["/bin/sh", "-c", "true"], check=True)
        spawn = (time.perf_counter() - t0) / n * 1000
        lat = []
        for i in range(n):
            body = json.dumps({"properties": {"jobType": "Command", "command": "true"}}).encode()
            t = time.perf_counter()
            urllib.request.urlopen(urllib.request.Request(ws + "/jobs/b%d?api-version=2025-12-01" % i, data=body, method="PUT",
                                                          headers=dict(auth, **{"Content-Type": "application/json"})))
            while True:
                j = json.load(urllib.request.urlopen(urllib.request.Request(ws + "/jobs/b%d?api-version=2025-12-01" % i, headers=auth)))
                if j["properties"]["status"] in ("Completed", "Failed"):
                    break
                time.sleep(0.01)
            lat.append((time.perf_counter() - t) * 1000)
        lat.sort()
        print("Jobs: submit -> Completed of `true`: mean %.0f ms, p50 %.0f ms, max %.0f ms (scheduler tick 50 ms) | baseline sh -c true %.1f ms"
              % (sum(lat) / n, lat[n // 2], lat[-1], spawn))

        sec = json.load(urllib.request.urlopen(urllib.request.Request(ws + "/datastores/workspaceblobstore/listSecrets?api-version=2025-12-01",
                                                                      data=b'{"expirableSecret":true}', method="POST", headers=dict(auth, **{"Content-Type": "application/json"}))))
        ds = json.load(urllib.request.urlopen(urllib.request.Request(ws + "/datastores/workspaceblobstore?api-version=2025-12-01", headers=auth)))
        container = base + "/" + ds["properties"]["accountName"] + "/" + ds["properties"]["containerName"]
        blob = os.urandom(64 << 20)
        src = os.path.join(data, "src.bin")
        with open(src, "wb") as f:
            f.write(blob)
        t = time.perf_counter()
        urllib.request.urlopen(urllib.request.Request(container + "/big.bin" + sec["sasToken"], data=blob, method="PUT", headers={"x-ms-blob-type": "BlockBlob"}))
        put = time.perf_counter() - t
        t = time.perf_counter()
        got = urllib.request.urlopen(container + "/big.bin" + sec["sasToken"]).read()
        get = time.perf_counter() - t
        assert got == blob
        t = time.perf_counter()
        shutil.copyfile(src, src + ".copy")
        os.sync()
        cp = time.perf_counter() - t
        print("Blob 64 MiB: Put Blob %.0f MiB/s, Get Blob %.0f MiB/s | baseline file copy + sync %.0f MiB/s" % (64 / put, 64 / get, 64 / cp))

        info = json.load(open(os.path.join(data, "server.json")))
        os.kill(info["pid"], signal.SIGKILL)
        time.sleep(0.2)
        t = time.perf_counter()
        start(data)
        print("Restart after kill -9 with %d jobs in the store: %.0f ms until the server answers (includes process start and token)" % (n, (time.perf_counter() - t) * 1000))
    finally:
        subprocess.run([BIN, "stop", "--data", data], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
