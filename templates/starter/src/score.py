"""Scoring, two ways.

Online (Azure ML managed online endpoint, endpoints/deployment.yml): the inference server calls
`init()` once, which loads model.joblib from the folder in AZUREML_MODEL_DIR, then `run(raw_data)`
per request. The body is JSON, either `{"data": [{"tenure_months": 3, ...}, ...]}` (records) or
`{"input_data": ...}` with records, a `{"columns": [...], "data": [[...], ...]}` table (pandas'
split form), columns (`{"tenure_months": [3, 40], ...}`) or a single record. The answer is `{"predictions": [0, 1], "probabilities": [0.1, 0.7]}`.
A bad request answers `{"error": "..."}` with HTTP 400 (the model is never left half-applied).
With the data collector enabled, inputs and outputs are logged to the `model_inputs` and
`model_outputs` collections (azureml-ai-monitoring; skipped when the package is not installed).

Batch (a laptop, `make demo`): `python3 score.py --model DIR --data CSV_OR_DIR --output OUT.csv`
adds `prediction` and `score` (probability of churn) and keeps every input column, the label
included when present, so that amlops-monitor can compare the batch with the training reference."""
import argparse
import json
import logging
import os

import joblib
import pandas as pd

from train import CATEGORICAL, load

try:  # Azure ML's inference server: lets run() answer 400 instead of 200 with an error body
    from azureml.contrib.services.aml_response import AMLResponse  # type: ignore
except ImportError:
    AMLResponse = None

try:  # Azure ML model monitoring: the data collector's custom logging
    from azureml.ai.monitoring import Collector  # type: ignore
except ImportError:
    Collector = None

MODEL_FILE = "model.joblib"
model = None
features = None
inputs_collector = None
outputs_collector = None


class BadRequest(ValueError):
    """The request cannot be scored; the message is safe to send back."""


def find_model(root):
    """The model.joblib under root (registered folders land one level down: AZUREML_MODEL_DIR/model/)."""
    for folder, _dirs, files in sorted(os.walk(root)):
        if MODEL_FILE in files:
            return os.path.join(folder, MODEL_FILE)
    raise FileNotFoundError(f"no {MODEL_FILE} under {root}")


def init():
    """Called once when the deployment starts."""
    global model, features, inputs_collector, outputs_collector
    root = os.environ.get("AZUREML_MODEL_DIR")
    if not root:
        raise RuntimeError("AZUREML_MODEL_DIR is not set")
    model = joblib.load(find_model(root))
    features = list(getattr(model, "feature_names_in_", []))
    if Collector is not None:
        # A failed upload is logged, never turned into a failed request.
        inputs_collector = Collector(name="model_inputs", on_error=lambda e: logging.warning("model_inputs: %s", e))
        outputs_collector = Collector(name="model_outputs", on_error=lambda e: logging.warning("model_outputs: %s", e))


def parse_request(raw_data):
    """The request body (str, bytes or already-parsed JSON) as a feature table."""
    try:
        body = json.loads(raw_data) if isinstance(raw_data, (str, bytes, bytearray)) else raw_data
    except ValueError as e:
        raise BadRequest(f"the body is not JSON: {e}") from None
    if not isinstance(body, dict) or not ({"data", "input_data"} & body.keys()):
        raise BadRequest('expected a JSON object with "data" or "input_data"')
    rows = body["data"] if "data" in body else body["input_data"]
    if isinstance(rows, dict) and "data" in rows:
        if "columns" not in rows:
            raise BadRequest('"input_data" as a table needs "columns" and "data"')
        try:
            df = pd.DataFrame(rows["data"], columns=rows["columns"])
        except (ValueError, TypeError) as e:
            raise BadRequest(f"rows do not match the columns: {e}") from None
    elif isinstance(rows, dict) and rows and all(isinstance(v, list) for v in rows.values()):
        try:  # columns: {"tenure_months": [3, 40], ...}
            df = pd.DataFrame(rows)
        except ValueError as e:
            raise BadRequest(f"columns of different lengths: {e}") from None
    elif isinstance(rows, dict):
        df = pd.DataFrame([rows])
    elif isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
        df = pd.DataFrame(rows)
    else:
        raise BadRequest("expected a non-empty list of records (objects keyed by feature name)")
    missing = [c for c in features if c not in df]
    if missing:
        raise BadRequest("missing features: " + ", ".join(missing))
    df = (df[features] if features else df).copy()
    for c in df.columns:
        if c not in CATEGORICAL:
            values = pd.to_numeric(df[c], errors="coerce")
            if values.isna().any():
                raise BadRequest(f"feature '{c}' needs numbers")
            df[c] = values
    return df


def answer(body, status=200):
    if status != 200 and AMLResponse is not None:
        return AMLResponse(json.dumps(body), status, json_str=True)
    return body


def run(raw_data):
    """Scores one request; returns predictions and probabilities, or an error with status 400."""
    if model is None:
        return answer({"error": "the model is not loaded (init() was not called)"}, 500)
    try:
        df = parse_request(raw_data)
    except BadRequest as e:
        return answer({"error": str(e)}, 400)
    context = inputs_collector.collect(df) if inputs_collector is not None else None
    probability = model.predict_proba(df)[:, 1]
    out = pd.DataFrame({"prediction": (probability >= 0.5).astype(int), "score": probability.round(6)})
    if outputs_collector is not None:
        outputs_collector.collect(out, context)
    return {"predictions": out["prediction"].tolist(), "probabilities": out["score"].tolist()}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="folder holding model.joblib")
    parser.add_argument("--data", required=True, help="folder of CSV files, or one CSV file")
    parser.add_argument("--target", default="churned", help="label column, dropped before scoring when present")
    parser.add_argument("--output", required=True, help="CSV file to write")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    batch_model = joblib.load(os.path.join(args.model, MODEL_FILE))
    df = load(args.data)
    x = df.drop(columns=[args.target]) if args.target in df else df
    score = batch_model.predict_proba(x)[:, 1]
    out = df.assign(prediction=(score >= 0.5).astype(int), score=score.round(6))
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    out.to_csv(args.output, index=False)
    print(f"scored {len(out)} rows -> {args.output}")


if __name__ == "__main__":
    main()
