"""The online scoring contract of src/score.py (init() reads AZUREML_MODEL_DIR, run() answers a
JSON request) and its batch mode, with a small model trained here."""
import json
import os
import sys
import tempfile
import unittest
from unittest import mock

import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

import score  # noqa: E402
import train  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "..", "data")


class ScoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        df = pd.read_csv(os.path.join(DATA, "train", "churn.csv")).head(400)
        model, _, scored = train.train(df, "churned", 1.0, 200, 0.25, 1)
        # A registered folder lands one level below AZUREML_MODEL_DIR, as in a deployment.
        train.write_outputs(os.path.join(cls.tmp.name, "model"), {}, scored, model)
        cls.model = model
        cls.rows = pd.read_csv(os.path.join(DATA, "stable", "churn.csv")).drop(columns=["churned"]).head(5)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        with mock.patch.dict(os.environ, {"AZUREML_MODEL_DIR": self.tmp.name}):
            score.init()

    def expected(self):
        return self.model.predict_proba(self.rows)[:, 1]

    def test_records_under_data(self):
        out = score.run(json.dumps({"data": self.rows.to_dict(orient="records")}))
        self.assertEqual(len(out["predictions"]), 5)
        for p, q, want in zip(out["predictions"], out["probabilities"], self.expected()):
            self.assertAlmostEqual(q, want, places=5)
            self.assertEqual(p, int(want >= 0.5))
        json.dumps(out)  # the answer is plain JSON

    def test_input_data_as_a_table_as_records_as_columns_and_as_one_record(self):
        want = [round(float(p), 6) for p in self.expected()]
        table = {"input_data": {"columns": list(self.rows.columns), "data": self.rows.values.tolist()}}
        self.assertEqual(score.run(json.dumps(table))["probabilities"], want)
        records = {"input_data": self.rows.to_dict(orient="records")}
        self.assertEqual(score.run(json.dumps(records).encode())["probabilities"], want)
        columns = {"data": self.rows.to_dict(orient="list")}
        self.assertEqual(score.run(json.dumps(columns))["probabilities"], want)
        one = {"input_data": self.rows.iloc[0].to_dict()}
        self.assertEqual(score.run(json.dumps(one))["probabilities"], want[:1])

    def test_extra_columns_are_ignored_and_column_order_does_not_matter(self):
        shuffled = self.rows[list(reversed(self.rows.columns))].assign(customer_id=range(5))
        out = score.run(json.dumps({"data": shuffled.to_dict(orient="records")}))
        self.assertEqual(out["probabilities"], [round(float(p), 6) for p in self.expected()])

    def test_bad_requests_answer_an_error(self):
        record = self.rows.iloc[0].to_dict()
        cases = {
            "not json": "{data:",
            "no data key": json.dumps({"rows": [record]}),
            "empty list": json.dumps({"data": []}),
            "list of lists without columns": json.dumps({"data": [[1, 2, 3]]}),
            "table without columns": json.dumps({"input_data": {"data": [[1]]}}),
            "ragged columns": json.dumps({"data": {"age": [30, 40], "tenure_months": [1]}}),
            "missing feature": json.dumps({"data": [{k: v for k, v in record.items() if k != "tenure_months"}]}),
            "text for a number": json.dumps({"data": [dict(record, monthly_charges="a lot")]}),
        }
        for what, body in cases.items():
            out = score.run(body)
            self.assertIn("error", out, what)
            self.assertNotIn("predictions", out, what)
        self.assertIn("tenure_months", score.run(cases["missing feature"])["error"])

    def test_init_needs_the_model_dir_and_a_model(self):
        with mock.patch.dict(os.environ, {}, clear=True):
            with self.assertRaises(RuntimeError):
                score.init()
        with tempfile.TemporaryDirectory() as empty, mock.patch.dict(os.environ, {"AZUREML_MODEL_DIR": empty}):
            with self.assertRaises(FileNotFoundError):
                score.init()

    def test_run_before_init_is_an_error_not_a_crash(self):
        with mock.patch.object(score, "model", None):
            self.assertIn("error", score.run(json.dumps({"data": self.rows.to_dict(orient="records")})))

    def test_batch_mode_keeps_the_label_and_adds_prediction_and_score(self):
        with tempfile.TemporaryDirectory() as out:
            target = os.path.join(out, "scored.csv")
            score.main(["--model", os.path.join(self.tmp.name, "model"), "--data", os.path.join(DATA, "current"),
                        "--output", target])
            scored = pd.read_csv(target)
            self.assertEqual(len(scored), 1000)
            self.assertEqual(list(scored.columns[-3:]), ["churned", "prediction", "score"])


if __name__ == "__main__":
    unittest.main()
