"""Writes the starter's data: synthetic customer churn, seeded, so every file is reproducible
byte for byte (tests/test_generate.py checks that the committed files match).

Numeric features: tenure_months, monthly_charges, support_calls, age. Categorical: contract,
payment_method. Label: churned (0/1). The batches, in time order:

  train    2,000 rows  the reference: what the model is trained on
  stable   1,000 rows  a later batch from the same world (no drift: the control)
  current  1,000 rows  covariate drift: prices rose by 12 and month-to-month contracts went from
                       45 % to 65 %; the label still follows the same rule
  concept  1,000 rows  concept drift: the customers look like the training data, but the rule
                       changed (a competitor courts long-standing customers on fixed contracts:
                       tenure and a long contract no longer protect, support calls matter less)

Run: python3 src/generate.py [--out data] [--seed 7]"""
import argparse
import os

import numpy as np
import pandas as pd

CONTRACTS = ["month-to-month", "one-year", "two-year"]
PAYMENTS = ["card", "bank", "check"]


def reference_logit(contract, payment, tenure, monthly, support_calls):
    """The churn rule of the training period (log-odds)."""
    return (-1.2 + 1.4 * (contract == "month-to-month") - 0.05 * tenure + 0.02 * (monthly - 65)
            + 0.35 * support_calls + 0.3 * (payment == "check"))


def changed_logit(contract, payment, tenure, monthly, support_calls):
    """The churn rule after the concept change: loyalty no longer protects."""
    return (-0.6 - 1.0 * (contract == "month-to-month") + 0.04 * (tenure - 24) + 0.02 * (monthly - 65)
            + 0.05 * support_calls + 0.3 * (payment == "check"))


def make(n, rng, price_shift=0.0, month_to_month=0.45, logit=reference_logit):
    """One batch of n customers with their churn label."""
    contract = rng.choice(CONTRACTS, size=n,
                          p=[month_to_month, (1 - month_to_month) * 0.55, (1 - month_to_month) * 0.45])
    payment = rng.choice(PAYMENTS, size=n, p=[0.5, 0.3, 0.2])
    tenure = rng.gamma(2.0, 12.0, size=n).round(1)
    monthly = (rng.normal(65, 20, size=n) + price_shift).clip(15, 150).round(2)
    support_calls = rng.poisson(1.2, size=n)
    age = rng.integers(18, 80, size=n)
    z = logit(contract, payment, tenure, monthly, support_calls)
    churned = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return pd.DataFrame({"tenure_months": tenure, "monthly_charges": monthly, "support_calls": support_calls,
                         "age": age, "contract": contract, "payment_method": payment, "churned": churned})


def batches(seed=7):
    """The batches in time order, as (name, frame). train and current come from one generator (the
    files the first version of the starter shipped); stable and concept from their own streams,
    so adding a batch never changes the others."""
    rng = np.random.default_rng(seed)
    train = make(2000, rng)
    current = make(1000, rng, price_shift=12.0, month_to_month=0.65)
    stable = make(1000, np.random.default_rng([seed, 1]))
    concept = make(1000, np.random.default_rng([seed, 2]), logit=changed_logit)
    return [("train", train), ("stable", stable), ("current", current), ("concept", concept)]


def write(out, seed=7):
    """Writes OUT/<batch>/churn.csv for every batch; returns the paths."""
    paths = []
    for name, frame in batches(seed):
        os.makedirs(os.path.join(out, name), exist_ok=True)
        path = os.path.join(out, name, "churn.csv")
        frame.to_csv(path, index=False)
        paths.append(path)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"),
                        help="folder that receives one sub-folder per batch")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    for path in write(args.out, args.seed):
        print(os.path.normpath(path))


if __name__ == "__main__":
    main()
