"""Writes the starter's data: a synthetic customer-churn table (seeded, so the files are
reproducible). data/train/churn.csv is the training set; data/current/churn.csv is a later
production batch, with labels, in which prices rose and month-to-month contracts became more
common: what amlops-monitor is there to notice."""
import argparse
import os

import numpy as np
import pandas as pd


def make(n, rng, price_shift=0.0, month_to_month=0.45):
    contract = rng.choice(["month-to-month", "one-year", "two-year"], size=n,
                          p=[month_to_month, (1 - month_to_month) * 0.55, (1 - month_to_month) * 0.45])
    payment = rng.choice(["card", "bank", "check"], size=n, p=[0.5, 0.3, 0.2])
    tenure = rng.gamma(2.0, 12.0, size=n).round(1)
    monthly = (rng.normal(65, 20, size=n) + price_shift).clip(15, 150).round(2)
    support_calls = rng.poisson(1.2, size=n)
    age = rng.integers(18, 80, size=n)
    logit = (-1.2 + 1.4 * (contract == "month-to-month") - 0.05 * tenure + 0.02 * (monthly - 65)
             + 0.35 * support_calls + 0.3 * (payment == "check"))
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"tenure_months": tenure, "monthly_charges": monthly, "support_calls": support_calls,
                         "age": age, "contract": contract, "payment_method": payment, "churned": churned})


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    for name, frame in [("train", make(2000, rng)), ("current", make(1000, rng, price_shift=12.0, month_to_month=0.65))]:
        os.makedirs(os.path.join(args.out, name), exist_ok=True)
        frame.to_csv(os.path.join(args.out, name, "churn.csv"), index=False)


if __name__ == "__main__":
    main()
