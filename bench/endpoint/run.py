#!/usr/bin/python3
"""Scoring figures for amlops-local's online endpoints (not a test; prints numbers next to baselines).

    /usr/bin/python3 bench/endpoint/run.py build/bin/amlops-local [N]

Deploys the starter's model and score.py (trained here, as tests/local/endpoints_it.py does) and
sends N single-record requests, one at a time, three ways:
  1. through the endpoint's scoring URI (key check, traffic routing, request record, inference host);
  2. straight to the inference host instance (the same HTTP + run(), without amlops-local);
  3. run() called in a Python loop in-process (the azmlinfsrv package is not installable here, so
     this is the baseline the issue asks for in its place).
The routing overhead per request is (1) - (2) at the median.
"""
import glob
import json
import os
import statistics
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "local"))
os.environ["AMLOPS_LOCAL_BIN"] = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "amlops-local"
import endpoints_it  # noqa: E402  (after AMLOPS_LOCAL_BIN is set)

N = int(sys.argv[2]) if len(sys.argv) > 2 else 1000


def stats(name, times, wall):
    ms = sorted(t * 1000 for t in times)
    p50 = statistics.median(ms)
    p95 = ms[int(len(ms) * 0.95) - 1]
    print("%-30s %6.0f req/s (1 client)   p50 %6.2f ms   p95 %6.2f ms" % (name, len(ms) / wall, p50, p95))
    return p50


def post(url, body, headers):
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()
        return r.status


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    endpoints_it.setUpModule()
    bench = endpoints_it.Base()
    bench.setUp()
    try:
        bench.starter("bench")
        srv = bench.srv
        key = bench.keys("bench")["primaryKey"]
        _, _, ep = srv.arm("GET", "/onlineEndpoints/bench")
        body = json.dumps({"data": endpoints_it.ROWS[:1]}).encode()
        headers = {"Content-Type": "application/json"}
        # The files of the deployment's current provisioning (g<N>).
        dep = glob.glob(os.path.join(srv.data, "endpoints", "local", "bench", "blue", "g*"))[0]
        with open(os.path.join(dep, "instance-0.port")) as f:
            port = int(f.read())
        # 3. run() in-process, with the deployment's own copy of the code and model.
        os.environ["AZUREML_MODEL_DIR"] = os.path.join(dep, "azureml-models", "churn", "1")
        sys.path.insert(0, os.path.join(dep, "code"))
        import score  # noqa: E402
        score.init()
        text = body.decode()
        ways = [("1. through the scoring URI",
                 lambda: post(ep["properties"]["scoringUri"], body, dict(headers, Authorization="Bearer " + key))),
                ("2. inference host directly", lambda: post("http://127.0.0.1:%d/score" % port, body, headers)),
                ("3. run() in a Python loop", lambda: score.run(text))]
        for _ in range(20):  # warm-up
            for _, fn in ways:
                fn()
        # Interleaved (one of each per round), so a noisy machine weighs on the three alike.
        times = {name: [] for name, _ in ways}
        for _ in range(N):
            for name, fn in ways:
                times[name].append(timed(fn))
        print("amlops-local online endpoint, starter churn model, %d single-record requests each, one at a time" % N)
        p50 = [stats(name, times[name], sum(times[name])) for name, _ in ways]
        print("routing overhead of amlops-local per request (p50 of 1 - p50 of 2): %.2f ms" % (p50[0] - p50[1]))
    finally:
        bench.tearDown()
        endpoints_it.tearDownModule()


if __name__ == "__main__":
    main()
