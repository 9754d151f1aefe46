import argparse, json, os, sys, time, urllib.error, urllib.request
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--epochs", type=int)
p.add_argument("--data")
p.add_argument("--model")
p.add_argument("--fail", default="no")
p.add_argument("--sleep", type=float, default=0)
a = p.parse_args()
print(f"training lr={a.lr} epochs={a.epochs}", flush=True)
if a.fail == "yes":
    print("ValueError: training data is empty", file=sys.stderr, flush=True)
    sys.exit(3)
time.sleep(a.sleep)
rows = open(a.data).read().splitlines() if a.data and os.path.isfile(a.data) else []
acc = 0.9 + 0.001 * len(rows)
uri = os.environ.get("MLFLOW_TRACKING_URI", "")
run = os.environ.get("MLFLOW_RUN_ID", "")
if uri and run:
    base = uri.replace("azureml://", "http://") + "/api/2.0/mlflow"
    tok = os.environ.get("MLFLOW_TRACKING_TOKEN", "")
    def post(path, body):
        # Retries throttling, unavailability and resets as the mlflow client does.
        for attempt in range(12):
            req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **({"Authorization": "Bearer " + tok} if tok else {})})
            try:
                urllib.request.urlopen(req, timeout=30).read()
                return
            except urllib.error.HTTPError as e:
                if e.code not in (429, 500, 502, 503, 504) or attempt == 11:
                    raise
            except (urllib.error.URLError, ConnectionError):
                if attempt == 11:
                    raise
            time.sleep(0.2 * (attempt + 1))
    post("/runs/log-metric", {"run_id": run, "key": "accuracy", "value": acc, "timestamp": int(time.time()*1000), "step": 0})
    post("/runs/log-metric", {"run_id": run, "key": "loss", "value": 0.25, "timestamp": int(time.time()*1000), "step": 0})
os.makedirs(a.model, exist_ok=True)
open(os.path.join(a.model, "model.pkl"), "w").write("weights")
open(os.path.join(a.model, "MLmodel"), "w").write("flavors: {}\n")
print("done, accuracy", acc, flush=True)
