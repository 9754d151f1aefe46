"""Unit tests of the training code (run with: python3 -m unittest discover -s tests)."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

import train  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "train")


class TrainTest(unittest.TestCase):
    def test_learns_better_than_chance_and_writes_outputs(self):
        with tempfile.TemporaryDirectory() as out:
            train.main(["--training_data", DATA, "--model_output", out])
            for name in ("model.joblib", "metrics.json", "scored.csv"):
                self.assertTrue(os.path.exists(os.path.join(out, name)), name)
            with open(os.path.join(out, "metrics.json"), encoding="utf-8") as f:
                metrics = train.json.load(f)
            self.assertGreater(metrics["roc_auc"], 0.7)

    def test_reference_output_holds_the_scored_test_split(self):
        with tempfile.TemporaryDirectory() as out, tempfile.TemporaryDirectory() as ref:
            train.main(["--training_data", DATA, "--model_output", out, "--reference_output", ref])
            self.assertEqual(os.listdir(ref), ["scored.csv"])
            scored = train.pd.read_csv(os.path.join(ref, "scored.csv"))
            with open(os.path.join(out, "scored.csv"), encoding="utf-8") as a, \
                    open(os.path.join(ref, "scored.csv"), encoding="utf-8") as b:
                self.assertEqual(a.read(), b.read())
            # the test split (test_size 0.25 of 2,000 rows), labelled and scored: what drift compares with
            self.assertEqual(len(scored), 500)
            self.assertLessEqual({"churned", "prediction", "score"}, set(scored.columns))

    def test_rejects_an_empty_folder(self):
        with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as out:
            with self.assertRaises(SystemExit):
                train.main(["--training_data", empty, "--model_output", out])


if __name__ == "__main__":
    unittest.main()
