#!/usr/bin/env bash
# Benchmark (not a test): scoring through amlops-local's online endpoint for the starter model
# (templates/starter/src/score.py, a model trained here), against the baseline of the same
# scoring script called directly: `azmlinfsrv` when installed, else init() once and run() in a
# Python loop. Prints requests/s and p50/p95 latency of each, sequential and with C concurrent
# clients, and the per-request overhead of the endpoint (routing, auth, the host process hop).
# Also times `amlops-deploy rollout` (first deployment) and a no-op re-run.
# Usage: bench/deploy/run.sh BIN_DIR [N requests] [C clients]   (BIN_DIR holds amlops-deploy, amlops-model, amlops-local)
set -eu -o pipefail
BIN=$(cd "$1" && pwd)
N=${2:-2000}
C=${3:-4}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
export PATH=/usr/bin:$PATH  # the inference host's python3: the one with scikit-learn
WORK=$(mktemp -d /tmp/amlops-bench-deploy.XXXXXX)
trap '"$BIN/amlops-local" stop --data "$WORK/srv" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
cd "$WORK"
. "$SRC/tests/support/local_arm.sh"
local_serve "$BIN" "$WORK/srv"
cp -r "$SRC/templates/starter/src" code
mkdir model
python3 - "$SRC/templates/starter" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1] + "/src")
import joblib, pandas as pd
from train import build_model
df = pd.read_csv(sys.argv[1] + "/data/train/churn.csv")
x, y = df.drop(columns=["churned"]), df["churned"]
joblib.dump(build_model(list(x.columns), 1.0, 500).fit(x, y), "model/model.joblib")
json.dump({"data": x.head(5).to_dict(orient="records")}, open("request.json", "w"))
PY
"$BIN/amlops-model" register --name churn --path model --version 1 > /dev/null 2>&1
cp "$SRC/templates/starter/environments/score-env.yml" "$SRC/templates/starter/environments/score-conda.yml" .
printf 'name: bench-ep\nauth_mode: key\n' > endpoint.yml
cat > blue.yml <<'YML'
name: blue
endpoint_name: bench-ep
model: azureml:churn:1
code_configuration: {code: ./code, scoring_script: score.py}
environment: ./score-env.yml
instance_type: Standard_DS3_v2
instance_count: 1
request_settings: {request_timeout_ms: 5000, max_concurrent_requests_per_instance: 8}
YML
t0=$(date +%s%N)
"$BIN/amlops-deploy" rollout --endpoint endpoint.yml --deployment blue.yml --smoke-request request.json --soak 0s \
  --count 5 --output json > rollout.json 2> rollout.err || { cat rollout.err; exit 1; }
t1=$(date +%s%N)
"$BIN/amlops-deploy" rollout --endpoint endpoint.yml --deployment blue.yml --smoke-request request.json --soak 0s \
  --output json > rerun.json 2> rerun.err
t2=$(date +%s%N)
echo "amlops-deploy rollout (create endpoint + deployment, smoke, 1 step): $(( (t1 - t0) / 1000000 )) ms"
echo "amlops-deploy rollout re-run (no change):                         $(( (t2 - t1) / 1000000 )) ms"
python3 - "$N" "$C" "$SRC/templates/starter/src" <<'PY'
import concurrent.futures, http.client, importlib.util, json, os, statistics, subprocess, sys, time, urllib.parse

n, c, code = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
body = open("request.json", "rb").read()
uri = json.load(open("rollout.json"))["scoring_uri"]


def key():
    import urllib.request
    tok = json.loads(urllib.request.urlopen(urllib.request.Request(
        f"{os.environ['AZURE_AUTHORITY_HOST']}/{os.environ['AZURE_TENANT_ID']}/oauth2/v2.0/token",
        data=urllib.parse.urlencode({"client_id": os.environ["AZURE_CLIENT_ID"], "client_secret": os.environ["AZURE_CLIENT_SECRET"],
                                     "grant_type": "client_credentials", "scope": "https://management.azure.com/.default"}).encode())).read())["access_token"]
    p = os.environ["AMLOPS_WORKSPACE"].split("/")
    ws = f"/subscriptions/{p[3]}/resourceGroups/{p[5]}/providers/Microsoft.MachineLearningServices/workspaces/{p[7]}"
    r = urllib.request.urlopen(urllib.request.Request(f"{os.environ['AMLOPS_ARM_ENDPOINT']}{ws}/onlineEndpoints/bench-ep/listKeys?api-version=2025-12-01",
                               data=b"", headers={"Authorization": "Bearer " + tok}))
    return json.loads(r.read())["primaryKey"]


k = key()
u = urllib.parse.urlsplit(uri)


RUN_MS = []  # run()'s own time inside the inference host (x-ms-run-fn-exec-ms)


def client(count, header=None):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    lat = []
    for _ in range(count):
        h = {"Authorization": "Bearer " + k, "Content-Type": "application/json"}
        if header:
            h["azureml-model-deployment"] = header
        t = time.perf_counter()
        conn.request("POST", u.path, body=body, headers=h)
        r = conn.getresponse()
        answer = r.read()
        lat.append((time.perf_counter() - t) * 1000)
        assert r.status == 200 and b"predictions" in answer, (r.status, answer[:200])
        if r.getheader("x-ms-run-fn-exec-ms"):
            RUN_MS.append(float(r.getheader("x-ms-run-fn-exec-ms")))
    return lat


def report(name, lat, wall):
    lat = sorted(lat)
    p = lambda q: lat[min(len(lat) - 1, int(q / 100 * len(lat)))]
    print(f"{name:<44} {len(lat) / wall:8.0f} req/s  p50 {p(50):7.2f} ms  p95 {p(95):7.2f} ms")
    return p(50)


client(50)  # warm-up
RUN_MS.clear()
t = time.perf_counter(); lat = client(n); ep50 = report("endpoint, 1 client (traffic routing)", lat, time.perf_counter() - t)
in_host = sorted(RUN_MS)
overhead = sorted(a - b for a, b in zip(lat, RUN_MS)) if len(RUN_MS) == len(lat) else []
t = time.perf_counter(); lat = client(n, "blue"); report("endpoint, 1 client (azureml-model-deployment)", lat, time.perf_counter() - t)
t = time.perf_counter()
with concurrent.futures.ThreadPoolExecutor(c) as ex:
    lats = list(ex.map(client, [n // c] * c))
report(f"endpoint, {c} clients", [x for l in lats for x in l], time.perf_counter() - t)

# Baseline: azmlinfsrv if installed, else the scoring script's run() in a loop.
sys.path.insert(0, code)
os.environ["AZUREML_MODEL_DIR"] = os.path.abspath("model")
spec = importlib.util.spec_from_file_location("score", os.path.join(code, "score.py"))
score = importlib.util.module_from_spec(spec)
spec.loader.exec_module(score)
score.init()
raw = body.decode()
for _ in range(50):
    score.run(raw)
lat = []
t = time.perf_counter()
for _ in range(n):
    s = time.perf_counter()
    score.run(raw)
    lat.append((time.perf_counter() - s) * 1000)
have_infsrv = subprocess.run(["sh", "-c", "command -v azmlinfsrv"], capture_output=True).returncode == 0
print("(azmlinfsrv is not installed here: the baseline is run() called directly)" if not have_infsrv else "(azmlinfsrv found but not used)")
d50 = report("direct run() in a Python loop", lat, time.perf_counter() - t)
if in_host:
    print(f"run() inside the inference host (x-ms-run-fn-exec-ms): p50 {in_host[len(in_host) // 2]:.2f} ms")
if overhead:
    print(f"endpoint overhead per request (latency - run() in the host, same requests): p50 {overhead[len(overhead) // 2]:.2f} ms, "
          f"p95 {overhead[int(0.95 * len(overhead))]:.2f} ms")
print(f"p50 endpoint - p50 direct run() in this process: {ep50 - d50:.2f} ms")
PY
