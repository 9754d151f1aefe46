"""Batch-score a table with a trained model: adds `prediction` and `score` (probability of churn)
columns and keeps every input column, the label included when present, so that amlops-monitor can
compare the batch with the training reference."""
import argparse
import os

import joblib

from train import load


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="folder holding model.joblib")
    parser.add_argument("--data", required=True, help="folder of CSV files, or one CSV file")
    parser.add_argument("--target", default="churned", help="label column, dropped before scoring when present")
    parser.add_argument("--output", required=True, help="CSV file to write")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model = joblib.load(os.path.join(args.model, "model.joblib"))
    df = load(args.data)
    features = df.drop(columns=[args.target]) if args.target in df else df
    score = model.predict_proba(features)[:, 1]
    out = df.assign(prediction=(score >= 0.5).astype(int), score=score.round(6))
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    out.to_csv(args.output, index=False)
    print(f"scored {len(out)} rows -> {args.output}")


if __name__ == "__main__":
    main()
