"""Evaluate a trained model on a labelled batch: the same metrics train.py logs (accuracy, f1,
log_loss, roc_auc), logged to the run and written to metrics.json next to the scored rows
(scored.csv), so that a pipeline's evaluation step, amlops-model register and amlops-monitor
read them the same way as the training run's."""
import argparse
import os

import joblib

import tracking
from train import evaluate, load, write_outputs


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="folder holding model.joblib (train.py's --model_output)")
    parser.add_argument("--test_data", required=True, help="folder of CSV files, or one CSV file, with the label")
    parser.add_argument("--target", default="churned")
    parser.add_argument("--threshold", type=float, default=0.5, help="probability from which a customer counts as churning")
    parser.add_argument("--evaluation_output", required=True, help="folder for metrics.json and scored.csv")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    path = os.path.join(args.model, "model.joblib")
    if not os.path.isfile(path):
        raise SystemExit(f"no model.joblib in {args.model}")
    df = load(args.test_data)
    if args.target not in df:
        raise SystemExit(f"the test data has no label column '{args.target}'")
    model = joblib.load(path)
    metrics, scored = evaluate(model, df, args.target, args.threshold)
    tracking.log_metrics({"test_" + k: v for k, v in metrics.items()})
    write_outputs(args.evaluation_output, metrics, scored)


if __name__ == "__main__":
    main()
