"""Train the churn classifier. Every input and hyper-parameter comes from the command line, so
the same script runs on a laptop, in amlops-local and on Azure ML compute."""
import argparse
import json
import os

import joblib
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import tracking

CATEGORICAL = ["contract", "payment_method"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--training_data", required=True, help="folder of CSV files, or one CSV file")
    parser.add_argument("--target", default="churned")
    parser.add_argument("--reg_rate", type=float, default=1.0, help="inverse of LogisticRegression's C")
    parser.add_argument("--max_iter", type=int, default=500)
    parser.add_argument("--test_size", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--model_output", required=True, help="folder for the model, its metrics and scored test rows")
    parser.add_argument("--reference_output", help="folder for the scored test rows alone (scored.csv): the job "
                        "registers it as the data asset amlops-monitor compares production data with")
    return parser.parse_args(argv)


def load(path):
    if os.path.isdir(path):
        files = sorted(f for f in os.listdir(path) if f.endswith(".csv"))
        if not files:
            raise SystemExit(f"no CSV files in {path}")
        return pd.concat([pd.read_csv(os.path.join(path, f)) for f in files], ignore_index=True)
    return pd.read_csv(path)


def build_model(features, reg_rate, max_iter):
    categorical = [c for c in CATEGORICAL if c in features]
    numeric = [c for c in features if c not in categorical]
    prep = ColumnTransformer([("num", StandardScaler(), numeric),
                              ("cat", OneHotEncoder(handle_unknown="ignore"), categorical)])
    return Pipeline([("prep", prep), ("clf", LogisticRegression(C=1.0 / reg_rate, max_iter=max_iter))])


def train(df, target, reg_rate, max_iter, test_size, seed):
    x = df.drop(columns=[target])
    y = df[target]
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    model = build_model(list(x.columns), reg_rate, max_iter)
    model.fit(x_train, y_train)
    metrics, scored = evaluate(model, x_test.assign(**{target: y_test.values}), target)
    return model, metrics, scored


def evaluate(model, df, target, threshold=0.5):
    """Metrics of a fitted model on a labelled table, and the table with `prediction` and `score`
    (probability of churn) added: the scored file amlops-monitor compares batches with."""
    y = df[target]
    score = model.predict_proba(df.drop(columns=[target]))[:, 1]
    prediction = (score >= threshold).astype(int)
    metrics = {
        "accuracy": float(accuracy_score(y, prediction)),
        "f1": float(f1_score(y, prediction, zero_division=0)),
        "log_loss": float(log_loss(y, score, labels=[0, 1])),
    }
    if y.nunique() == 2:  # ROC AUC is undefined on a batch with one class
        metrics["roc_auc"] = float(roc_auc_score(y, score))
    scored = df.assign(prediction=prediction, score=score.round(6))
    return metrics, scored


def write_outputs(folder, metrics, scored, model=None):
    """Writes metrics.json and scored.csv (and model.joblib when a model is given) to folder."""
    os.makedirs(folder, exist_ok=True)
    if model is not None:
        joblib.dump(model, os.path.join(folder, "model.joblib"))
    scored.to_csv(os.path.join(folder, "scored.csv"), index=False)
    with open(os.path.join(folder, "metrics.json"), "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=2, sort_keys=True)


def main(argv=None):
    args = parse_args(argv)
    df = load(args.training_data)
    tracking.log_params({"reg_rate": args.reg_rate, "max_iter": args.max_iter, "rows": len(df)})
    model, metrics, scored = train(df, args.target, args.reg_rate, args.max_iter, args.test_size, args.seed)
    tracking.log_metrics(metrics)
    write_outputs(args.model_output, metrics, scored, model)
    if args.reference_output:
        os.makedirs(args.reference_output, exist_ok=True)
        scored.to_csv(os.path.join(args.reference_output, "scored.csv"), index=False)


if __name__ == "__main__":
    main()
