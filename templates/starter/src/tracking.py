"""Metric and parameter logging that works everywhere the job runs: with the mlflow package when
it is installed (Azure ML's curated images), else over MLflow's REST API with the standard
MLFLOW_TRACKING_URI / MLFLOW_TRACKING_TOKEN / MLFLOW_RUN_ID variables (amlops-local sets them),
else (a laptop) only printed."""
import json
import os
import time
import urllib.request

try:
    import mlflow  # type: ignore
except ImportError:  # pragma: no cover - depends on the image
    mlflow = None


def _rest(path, body):
    base = os.environ["MLFLOW_TRACKING_URI"]
    if base.startswith("azureml://"):
        base = "https://" + base[len("azureml://"):]
    headers = {"Content-Type": "application/json"}
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(base.rstrip("/") + "/api/2.0/mlflow/" + path,
                                     data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def _tracked():
    return bool(os.environ.get("MLFLOW_TRACKING_URI") and os.environ.get("MLFLOW_RUN_ID"))


def log_params(params):
    print("params: " + json.dumps(params, sort_keys=True))
    if mlflow is not None:
        mlflow.log_params(params)
    elif _tracked():
        _rest("runs/log-batch", {"run_id": os.environ["MLFLOW_RUN_ID"],
                                 "params": [{"key": k, "value": str(v)} for k, v in params.items()]})


def log_metrics(metrics):
    print("metrics: " + json.dumps(metrics, sort_keys=True))
    if mlflow is not None:
        mlflow.log_metrics(metrics)
    elif _tracked():
        now = int(time.time() * 1000)
        _rest("runs/log-batch", {"run_id": os.environ["MLFLOW_RUN_ID"],
                                 "metrics": [{"key": k, "value": float(v), "timestamp": now, "step": 0}
                                             for k, v in metrics.items()]})
