"""src/send_batch.py: what it sends to a scoring URI (label left out, numbers as numbers, batches,
the key as a bearer token), against a small HTTP server on loopback that answers as score.run does."""
import http.server
import io
import json
import os
import sys
import threading
import unittest
from contextlib import redirect_stderr, redirect_stdout
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

import send_batch  # noqa: E402

CURRENT = os.path.join(os.path.dirname(__file__), "..", "data", "current", "churn.csv")


class Endpoint(http.server.BaseHTTPRequestHandler):
    seen = []
    status = 200

    def do_POST(self):  # noqa: N802 (the handler's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Endpoint.seen.append((self.headers["Authorization"], body))
        answer = json.dumps({"predictions": [1] * len(body["data"])}).encode()
        self.send_response(Endpoint.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


class SendBatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = http.server.HTTPServer(("127.0.0.1", 0), Endpoint)
        cls.uri = "http://127.0.0.1:%d/score" % cls.server.server_port
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def setUp(self):
        Endpoint.seen = []
        Endpoint.status = 200

    def test_rows_leave_the_label_out_and_carry_numbers_as_numbers(self):
        rows = send_batch.request_rows(CURRENT)
        self.assertEqual(len(rows), 1000)
        self.assertNotIn("churned", rows[0])
        self.assertIsInstance(rows[0]["tenure_months"], float)
        self.assertIsInstance(rows[0]["contract"], str)
        self.assertEqual(set(rows[0]), {"tenure_months", "monthly_charges", "support_calls", "age", "contract",
                                        "payment_method"})

    def test_send_posts_batches_with_the_key(self):
        rows = send_batch.request_rows(CURRENT)[:120]
        answers = send_batch.send(self.uri, "k3y", rows, per_request=50)
        self.assertEqual([len(b["data"]) for _, b in Endpoint.seen], [50, 50, 20])
        self.assertEqual({a for a, _ in Endpoint.seen}, {"Bearer k3y"})
        self.assertEqual(sum(len(a["predictions"]) for a in answers), 120)
        self.assertEqual([r for _, b in Endpoint.seen for r in b["data"]], rows)

    def test_an_error_answer_stops_the_run(self):
        Endpoint.status = 503
        with self.assertRaises(Exception) as e:
            send_batch.send(self.uri, "k3y", send_batch.request_rows(CURRENT)[:120])
        self.assertIn("503", str(e.exception))
        self.assertEqual(len(Endpoint.seen), 1)

    def test_main_reads_the_key_from_the_environment_only(self):
        err = io.StringIO()
        with mock.patch.dict(os.environ, {}, clear=True), redirect_stderr(err), self.assertRaises(SystemExit) as e:
            send_batch.main(["--uri", self.uri, CURRENT])
        self.assertEqual(e.exception.code, 2)
        self.assertIn("$ENDPOINT_KEY", err.getvalue())
        self.assertEqual(Endpoint.seen, [])
        out = io.StringIO()
        with mock.patch.dict(os.environ, {"ENDPOINT_KEY": "k3y"}), redirect_stdout(out):
            self.assertEqual(send_batch.main(["--uri", self.uri, CURRENT]), 0)
        self.assertIn("1000 rows scored in 20 requests, 1000 predicted to churn", out.getvalue())
        self.assertNotIn("k3y", out.getvalue())


if __name__ == "__main__":
    unittest.main()
