"""The data generator: deterministic, the committed files are its output, and the later batches
drift the way the README says (covariate drift in `current`, concept drift in `concept`)."""
import filecmp
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

import generate  # noqa: E402
import train  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "..", "data")


def m2m_share(df):
    return (df["contract"] == "month-to-month").mean()


class GenerateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.batches = dict(generate.batches())

    def test_same_seed_same_data_other_seed_other_data(self):
        again = dict(generate.batches())
        for name, frame in self.batches.items():
            self.assertTrue(frame.equals(again[name]), name)
        other = dict(generate.batches(seed=8))
        self.assertFalse(other["train"].equals(self.batches["train"]))

    def test_committed_files_are_the_generator_output(self):
        with tempfile.TemporaryDirectory() as out:
            generate.main(["--out", out])
            for name in ("train", "stable", "current", "concept"):
                fresh = os.path.join(out, name, "churn.csv")
                self.assertTrue(filecmp.cmp(fresh, os.path.join(DATA, name, "churn.csv"), shallow=False),
                                f"data/{name}/churn.csv differs from src/generate.py's output: regenerate it")

    def test_numeric_and_categorical_features_and_a_binary_label(self):
        df = self.batches["train"]
        self.assertEqual(len(df), 2000)
        self.assertEqual(set(df["churned"]), {0, 1})
        self.assertEqual(df["contract"].dtype, object)
        self.assertEqual(df["payment_method"].dtype, object)
        for c in ("tenure_months", "monthly_charges", "support_calls", "age"):
            self.assertTrue(df[c].dtype.kind in "if", c)

    def test_stable_batch_looks_like_training(self):
        ref, stable = self.batches["train"], self.batches["stable"]
        self.assertLess(abs(stable["monthly_charges"].mean() - ref["monthly_charges"].mean()), 3)
        self.assertLess(abs(m2m_share(stable) - m2m_share(ref)), 0.05)

    def test_current_batch_has_covariate_drift(self):
        ref, cur = self.batches["train"], self.batches["current"]
        self.assertGreater(cur["monthly_charges"].mean() - ref["monthly_charges"].mean(), 8)
        self.assertGreater(m2m_share(cur) - m2m_share(ref), 0.12)

    def test_concept_batch_keeps_the_inputs_but_changes_the_label_rule(self):
        ref, concept = self.batches["train"], self.batches["concept"]
        # The inputs look like the training data...
        self.assertLess(abs(concept["monthly_charges"].mean() - ref["monthly_charges"].mean()), 3)
        self.assertLess(abs(m2m_share(concept) - m2m_share(ref)), 0.05)

        # ...but month-to-month customers used to churn more, and now churn less.
        def m2m_lift(df):
            return df[df.contract == "month-to-month"].churned.mean() - df[df.contract != "month-to-month"].churned.mean()

        self.assertGreater(m2m_lift(ref), 0.15)
        self.assertLess(m2m_lift(concept), 0)
        # So a model trained on the reference does clearly worse there than on the stable batch.
        model, _, _ = train.train(ref, "churned", 0.5, 500, 0.25, 42)
        acc = {}
        for name in ("stable", "concept"):
            metrics, _ = train.evaluate(model, self.batches[name], "churned")
            acc[name] = metrics["accuracy"]
        self.assertGreater(acc["stable"] - acc["concept"], 0.08, acc)


if __name__ == "__main__":
    unittest.main()
