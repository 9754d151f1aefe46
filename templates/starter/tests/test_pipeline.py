"""The pipeline's steps (jobs/pipeline.yml) run one after the other: prep -> train -> evaluate."""
import json
import os
import sys
import tempfile
import unittest

import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

import evaluate  # noqa: E402
import prep  # noqa: E402
import train  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "..", "data")


class PipelineTest(unittest.TestCase):
    def test_prep_train_evaluate(self):
        with tempfile.TemporaryDirectory() as out:
            d = {k: os.path.join(out, k) for k in ("train", "test", "model", "eval")}
            prep.main(["--raw_data", os.path.join(DATA, "train"), "--train_output", d["train"],
                       "--test_output", d["test"], "--test_size", "0.2"])
            tr = pd.read_csv(os.path.join(d["train"], "churn.csv"))
            te = pd.read_csv(os.path.join(d["test"], "churn.csv"))
            self.assertEqual((len(tr), len(te)), (1600, 400))
            train.main(["--training_data", d["train"], "--model_output", d["model"]])
            evaluate.main(["--model", d["model"], "--test_data", d["test"], "--evaluation_output", d["eval"]])
            with open(os.path.join(d["eval"], "metrics.json"), encoding="utf-8") as f:
                metrics = json.load(f)
            self.assertEqual(set(metrics), {"accuracy", "f1", "log_loss", "roc_auc"})
            self.assertGreater(metrics["roc_auc"], 0.7)
            scored = pd.read_csv(os.path.join(d["eval"], "scored.csv"))
            self.assertEqual(len(scored), 400)
            self.assertTrue({"churned", "prediction", "score"} <= set(scored.columns))

    def test_prep_drops_unusable_rows_and_refuses_missing_columns(self):
        df = pd.read_csv(os.path.join(DATA, "stable", "churn.csv")).head(50)
        df.loc[0, "churned"] = None
        df.loc[1, "monthly_charges"] = -5
        df.loc[2, "contract"] = None
        kept, dropped = prep.clean(df, "churned")
        self.assertEqual((len(kept), dropped), (47, 3))
        with self.assertRaises(SystemExit):
            prep.clean(df.drop(columns=["age"]), "churned")

    def test_evaluate_on_a_one_class_batch_and_without_a_model(self):
        ref = pd.read_csv(os.path.join(DATA, "train", "churn.csv"))
        model, _, _ = train.train(ref, "churned", 0.5, 500, 0.25, 42)
        stayed = ref[ref.churned == 0].head(100)
        metrics, _ = train.evaluate(model, stayed, "churned")
        self.assertNotIn("roc_auc", metrics)  # undefined with one class, not a crash
        self.assertIn("log_loss", metrics)
        with tempfile.TemporaryDirectory() as empty:
            with self.assertRaises(SystemExit):
                evaluate.main(["--model", empty, "--test_data", os.path.join(DATA, "stable"),
                               "--evaluation_output", empty])


if __name__ == "__main__":
    unittest.main()
