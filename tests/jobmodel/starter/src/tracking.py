"""Logs metrics to the job's MLflow run over REST (the tracking URI and run id amlops-local gives a job)."""
import json, os, time, urllib.error, urllib.request


def log_metric(key, value):
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    run = os.environ.get("MLFLOW_RUN_ID", "")
    if not (uri and run):
        return
    base = uri.replace("azureml://", "http://") + "/api/2.0/mlflow"
    tok = os.environ.get("MLFLOW_TRACKING_TOKEN", "")
    body = {"run_id": run, "key": key, "value": value, "timestamp": int(time.time() * 1000), "step": 0}
    # Retries throttling, unavailability and resets as the mlflow client does.
    for attempt in range(12):
        req = urllib.request.Request(base + "/runs/log-metric", data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **({"Authorization": "Bearer " + tok} if tok else {})})
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
