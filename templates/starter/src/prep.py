"""Prepare a raw batch for training: check the columns, drop rows without a label or with
impossible values, and split it into a training and a held-out test set (stratified, seeded).
The first step of jobs/pipeline.yml (prep -> train -> evaluate)."""
import argparse
import os

from sklearn.model_selection import train_test_split

from train import load

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "age", "contract", "payment_method"]


def clean(df, target):
    """The rows fit for training, and how many were dropped. Missing columns are an error."""
    missing = [c for c in FEATURES + [target] if c not in df]
    if missing:
        raise SystemExit("missing columns: " + ", ".join(missing))
    ok = df[target].isin([0, 1]) & df[FEATURES].notna().all(axis=1)
    ok &= (df["tenure_months"] >= 0) & (df["monthly_charges"] > 0) & (df["support_calls"] >= 0)
    kept = df.loc[ok, FEATURES + [target]].reset_index(drop=True)
    kept[target] = kept[target].astype(int)
    return kept, int((~ok).sum())


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw_data", required=True, help="folder of CSV files, or one CSV file")
    parser.add_argument("--target", default="churned")
    parser.add_argument("--test_size", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--train_output", required=True, help="folder for the training rows (churn.csv)")
    parser.add_argument("--test_output", required=True, help="folder for the held-out rows (churn.csv)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    df, dropped = clean(load(args.raw_data), args.target)
    train, test = train_test_split(df, test_size=args.test_size, random_state=args.seed, stratify=df[args.target])
    for folder, part in ((args.train_output, train), (args.test_output, test)):
        os.makedirs(folder, exist_ok=True)
        part.to_csv(os.path.join(folder, "churn.csv"), index=False)
    print(f"prep: {len(train)} training rows, {len(test)} test rows, {dropped} rows dropped")


if __name__ == "__main__":
    main()
