#!/usr/bin/python3
"""amlops-monitor on production data from a real amlops-local: collector-layout blobs put into its
blob store through the blob API, data assets, endpoint health from the metrics API.

Run one group: online_it.py Collected (CTest runs each group as its own test).
AMLOPS_LOCAL_BIN and AMLOPS_MONITOR_BIN name the binaries.
"""
import datetime as dt
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "local"))
from local_it import Local  # noqa: E402  (the amlops-local daemon helper of the local tests)

MONITOR = os.environ.get("AMLOPS_MONITOR_BIN", "amlops-monitor")
H1 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.timezone.utc)  # clean hour
H2 = H1 + dt.timedelta(hours=1)                               # drifted hour
H3 = H1 + dt.timedelta(hours=2)                               # 5 rows only
H0 = H1 - dt.timedelta(hours=1)                               # clean hour before H1


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def rows(n, shift, rng):
    out = []
    for _ in range(n):
        city = rng.choice(["paris", "rome", "oslo"] + (["new york"] if shift else []))
        out.append({"age": round(rng.gauss(40 + 8 * shift, 10), 3), "income": round(rng.lognormvariate(10, 0.5), 2),
                    "city": city})
    return out


def predict(r):
    return {"yhat": int(r["age"] > 40 + 0 * r["income"])}


class Server:
    """amlops-local plus a writable handle on its workspace blob store."""

    def __init__(self, data=None):
        self.local = Local(data=data)
        self.container, self.sas = self.local.datastore_sas()
        self.work = tempfile.mkdtemp(prefix="monitor-online-it-")

    def put(self, name, data):
        if isinstance(data, str):
            data = data.encode()
        s, _, b = self.local.raw("PUT", self.container + "/" + urllib.parse.quote(name) + self.local.sas_sep(self.sas),
                                 data, {"x-ms-blob-type": "BlockBlob"}, token=False)
        assert s == 201, (s, b)

    def run(self, *args, check=None):
        env = dict(os.environ)
        env.update(self.local.env)
        p = subprocess.run([MONITOR] + list(args), capture_output=True, text=True, env=env, cwd=self.work, timeout=120)
        if check is not None and p.returncode != check:
            raise AssertionError("exit %d (want %d): %s\n%s" % (p.returncode, check, " ".join(args), p.stderr))
        return p

    def json(self, *args, check=0):
        p = self.run(*(list(args) + ["--output", "json"]), check=check)
        return json.loads(p.stdout)

    def stop(self):
        self.local.stop()
        self.local.cleanup()


def _sas_sep(self, sas):
    return sas if sas.startswith("?") else "?" + sas


Local.sas_sep = _sas_sep


def collector_blob(hour, collection, records):
    return "modelDataCollector/churn/blue/%s/%s/%s.jsonl" % (collection, hour.strftime("%Y/%m/%d/%H"), "inst-0")


def write_hour(srv, hour, n, shift, rng, batch=4, instances=2):
    """n rows in batched records across `instances` blobs, inputs and outputs sharing correlation ids."""
    data = rows(n, shift, rng)
    per_instance = {}
    for i in range(0, n, batch):
        chunk = data[i:i + batch]
        cid = "%s-%d" % (hour.strftime("%H"), i)
        t = iso(hour + dt.timedelta(seconds=i))
        inst = (i // batch) % instances
        # Alternate the payload shapes the collector writes: a list of rows, or a table.
        payload = chunk if (i // batch) % 2 == 0 else {"columns": ["age", "income", "city"],
                                                       "data": [[r["age"], r["income"], r["city"]] for r in chunk]}
        rec_in = {"specversion": "1.0", "id": "i" + cid, "type": "azureml.inference.model_inputs", "time": t,
                  "datacontenttype": "application/json", "data": payload, "correlationid": cid}
        rec_out = {"specversion": "1.0", "id": "o" + cid, "type": "azureml.inference.model_outputs", "time": t,
                   "data": [predict(r) for r in chunk], "correlationid": cid}
        per_instance.setdefault(inst, ([], []))
        per_instance[inst][0].append(json.dumps(rec_in))
        per_instance[inst][1].append(json.dumps(rec_out))
    for inst, (ins, outs) in per_instance.items():
        base = "modelDataCollector/churn/blue/%s/" + hour.strftime("%Y/%m/%d/%H") + "/inst-%d.jsonl" % inst
        srv.put(base % "model_inputs", "\n".join(ins) + "\n")
        srv.put(base % "model_outputs", "\n".join(outs) + "\n")
    return data


class Collected(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        rng = random.Random(7)
        ref = rows(2000, 0, rng)
        with open(os.path.join(cls.srv.work, "ref.csv"), "w") as f:
            f.write("age,income,city,yhat\n")
            for r in ref:
                f.write("%r,%r,%s,%d\n" % (r["age"], r["income"], r["city"], predict(r)["yhat"]))
        cls.h1 = write_hour(cls.srv, H1, 600, 0, rng)
        cls.h2 = write_hour(cls.srv, H2, 600, 1, rng)
        write_hour(cls.srv, H3, 5, 0, rng, instances=1)
        write_hour(cls.srv, H0, 600, 0, random.Random(11))
        # Another endpoint's data and a non-collector blob under the same root are not read.
        cls.srv.put("modelDataCollector/other/blue/model_inputs/" + H1.strftime("%Y/%m/%d/%H") + "/x.jsonl",
                    json.dumps({"data": [{"age": 1000, "income": 1, "city": "mars"}], "correlationid": "z"}) + "\n")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def window(self, hour):
        return ["--endpoint", "churn", "--deployment", "blue", "--from", iso(hour), "--to", iso(hour + dt.timedelta(hours=1))]

    def test_clean_hour_no_drift_drifted_hour_drift(self):
        d1 = self.srv.json("drift", "--reference", "ref.csv", "--exclude", "yhat", *self.window(H1))
        self.assertEqual(d1["current"]["rows"], 600, d1["current"])
        self.assertEqual(d1["outcome"], "no_drift", d1)
        d2 = self.srv.json("drift", "--reference", "ref.csv", "--exclude", "yhat", *self.window(H2))
        self.assertEqual(d2["current"]["rows"], 600)
        self.assertEqual(d2["outcome"], "drift", d2)
        drifted = {f["name"] for f in d2["features"] if f["drifted"]}
        self.assertIn("age", drifted)
        self.assertIn("city", drifted)
        self.srv.run("drift", "--reference", "ref.csv", "--exclude", "yhat", "--fail-on-drift", *self.window(H1), check=0)
        self.srv.run("drift", "--reference", "ref.csv", "--exclude", "yhat", "--fail-on-drift", *self.window(H2), check=1)

    def test_values_read_as_sent(self):
        # The hour read from the blob store gives the same metrics as its rows in a local CSV.
        with open(os.path.join(self.srv.work, "h1.csv"), "w") as f:
            f.write("age,income,city\n")
            for r in self.h1:
                f.write("%r,%r,%s\n" % (r["age"], r["income"], r["city"]))
        args = ["drift", "--reference", "ref.csv", "--exclude", "yhat", "--metrics", "all"]
        local = self.srv.json(*args, "--current", "h1.csv")
        remote = self.srv.json(*args, *self.window(H1))
        self.assertEqual([f["metrics"] for f in local["features"]], [f["metrics"] for f in remote["features"]])

    def test_blobs_with_different_columns(self):
        # Two instances whose rows differ in columns (and a text with a comma and quotes): the union.
        hour = H1 - dt.timedelta(hours=2)
        a = [json.dumps({"correlationid": "a%d" % i, "data": [{"age": 30 + i % 20, "income": 1000.0, "city": "rome"}]})
             for i in range(40)]
        b = [json.dumps({"correlationid": "b%d" % i, "data": [{"city": 'new, "york"', "age": 50, "extra": i}]})
             for i in range(10)]
        base = "modelDataCollector/churn/blue/model_inputs/" + hour.strftime("%Y/%m/%d/%H")
        self.srv.put(base + "/a.jsonl", "\n".join(a) + "\n")
        self.srv.put(base + "/b.jsonl", "\n".join(b) + "\n")
        d = self.srv.json("drift", "--reference", "ref.csv", "--exclude", "yhat", "--metrics", "all",
                          *self.window(hour))
        self.assertEqual(d["current"]["rows"], 50)
        f = {x["name"]: x for x in d["features"]}
        self.assertEqual(f["income"]["missing"], 10)
        # Every value counted: rome 40 and the quoted city 10 (an unseen category: drift).
        self.assertEqual(f["city"]["count"], 50)
        self.assertTrue(f["city"]["drifted"])

    def test_two_hours_read_together(self):
        d = self.srv.json("drift", "--reference", "ref.csv", "--exclude", "yhat", "--endpoint", "churn",
                          "--deployment", "blue", "--from", iso(H1), "--to", iso(H3))
        self.assertEqual(d["current"]["rows"], 1200)

    def test_nothing_on_disk_unless_stage_dir(self):
        before = set(os.listdir(self.srv.work))
        self.srv.json("drift", "--reference", "ref.csv", "--exclude", "yhat", *self.window(H1))
        self.assertEqual(set(os.listdir(self.srv.work)), before)
        self.srv.json("drift", "--reference", "ref.csv", "--exclude", "yhat", "--stage-dir", "staged", *self.window(H1))
        staged = os.path.join(self.srv.work, "staged", "modelDataCollector", "churn", "blue", "model_inputs",
                              H1.strftime("%Y/%m/%d/%H"))
        self.assertEqual(sorted(os.listdir(staged)), ["inst-0.jsonl", "inst-1.jsonl"])

    def test_without_deployment_reads_every_deployment(self):
        d = self.srv.json("drift", "--reference", "ref.csv", "--exclude", "yhat", "--endpoint", "churn",
                          "--from", iso(H1), "--to", iso(H2))
        self.assertEqual(d["current"]["rows"], 600)

    def test_too_few_rows_is_insufficient_data_not_no_drift(self):
        d = self.srv.json("drift", "--reference", "ref.csv", "--exclude", "yhat", *self.window(H3))
        self.assertEqual(d["outcome"], "too_few_rows", d)
        self.assertIsNone(d["drifted"])
        p = self.srv.run("drift", "--reference", "ref.csv", "--exclude", "yhat", "--fail-on-drift", *self.window(H3), check=1)
        self.assertNotIn("no drift", p.stdout.lower())
        empty = H1 - dt.timedelta(hours=5)
        d = self.srv.json("drift", "--reference", "ref.csv", "--exclude", "yhat", *self.window(empty))
        self.assertEqual(d["outcome"], "too_few_rows")
        self.assertEqual(d["current"]["rows"], 0)

    def test_outputs_joined_by_correlationid_for_prediction_drift(self):
        d = self.srv.json("drift", "--reference", "ref.csv", "--prediction", "yhat", "--collection",
                          "model_inputs,model_outputs", *self.window(H2))
        self.assertEqual(d["prediction"]["name"], "yhat")
        self.assertTrue(d["prediction"]["drifted"], d["prediction"])
        d = self.srv.json("drift", "--reference", "ref.csv", "--prediction", "yhat", "--collection",
                          "model_inputs,model_outputs", *self.window(H1))
        self.assertFalse(d["prediction"]["drifted"], d["prediction"])

    def test_data_asset_and_datastore_folder_as_reference(self):
        # A folder of two CSV files (one header each) registered as a uri_folder data asset.
        with open(os.path.join(self.srv.work, "ref.csv")) as f:
            lines = f.read().splitlines()
        header, body = lines[0], lines[1:]
        self.srv.put("refs/churn/part-0.csv", "\n".join([header] + body[:1000]) + "\n")
        self.srv.put("refs/churn/part-1.csv", "\n".join([header] + body[1000:]) + "\n")
        self.srv.put("refs/churn/MLTable", "paths: []\n")
        s, _, j = self.srv.local.arm("PUT", "/data/churn-ref/versions/3", {"properties": {
            "dataType": "uri_folder", "dataUri": "azureml://datastores/workspaceblobstore/paths/refs/churn/"}})
        self.assertIn(s, (200, 201), j)
        for ref in ("azureml:churn-ref:3", "azureml://datastores/workspaceblobstore/paths/refs/churn"):
            d = self.srv.json("drift", "--reference", ref, "--exclude", "yhat", *self.window(H1))
            self.assertEqual(d["reference"]["rows"], 2000, ref)
            self.assertEqual(d["outcome"], "no_drift", ref)
        # From amlops.yml too (a workspace ref is no path relative to the file).
        os.makedirs(os.path.join(self.srv.work, "conf"), exist_ok=True)
        with open(os.path.join(self.srv.work, "conf", "amlops.yml"), "w") as f:
            f.write("monitor:\n  reference: azureml:churn-ref:3\n  exclude: [yhat]\n")
        d = self.srv.json("drift", "--config", "conf/amlops.yml", *self.window(H1))
        self.assertEqual(d["reference"]["rows"], 2000)
        p = self.srv.run("drift", "--reference", "azureml:missing-asset:1", *self.window(H1))
        self.assertNotEqual(p.returncode, 0)

    def test_data_asset_by_label_latest(self):
        # Two versions of a data asset (as a training job registers one per run): @latest is the one
        # created last, whatever its version string says.
        with open(os.path.join(self.srv.work, "ref.csv")) as f:
            lines = f.read().splitlines()
        self.srv.put("refs/latest/a/scored.csv", "\n".join(lines[:501]) + "\n")
        self.srv.put("refs/latest/b/scored.csv", "\n".join(lines) + "\n")
        for version, folder in (("9", "a"), ("10", "b")):
            s, _, j = self.srv.local.arm("PUT", "/data/churn-reference/versions/" + version, {"properties": {
                "dataType": "uri_folder", "dataUri": "azureml://datastores/workspaceblobstore/paths/refs/latest/%s/" %
                folder}})
            self.assertIn(s, (200, 201), j)
        d = self.srv.json("drift", "--reference", "azureml:churn-reference@latest", "--exclude", "yhat", *self.window(H1))
        self.assertEqual(d["reference"]["rows"], 2000)
        self.assertEqual(d["reference"]["source"], "azureml:churn-reference@latest")
        self.assertEqual(d["outcome"], "no_drift")
        # decide and amlops.yml's monitor.reference too; monitor.reference_env names the workspace
        # that holds it (training's), read with the same credential while --workspace is another one.
        ws = "azureml://subscriptions/%s/resourcegroups/amlops-local/workspaces/local" % self.srv.local.sub
        conf = os.path.join(self.srv.work, "latest")
        os.makedirs(conf, exist_ok=True)
        with open(os.path.join(conf, "amlops.yml"), "w") as f:
            f.write("environments:\n  dev:\n    workspace: %s\nmonitor:\n  reference: azureml:churn-reference@latest\n"
                    "  reference_env: dev\n  exclude: [yhat]\n  window: 1000\n" % ws)
        with open(os.path.join(conf, "cur.csv"), "w") as f:
            f.write("\n".join(lines[:1001]) + "\n")
        other = ["--workspace", ws.replace("/workspaces/local", "/workspaces/prod-elsewhere")]
        d = self.srv.json("drift", "--config", "latest/amlops.yml", "--current", "latest/cur.csv", *other)
        self.assertEqual((d["reference"]["rows"], d["outcome"]), (2000, "no_drift"))
        d = self.srv.json("decide", "--config", "latest/amlops.yml", "--current", "latest/cur.csv", *other)
        self.assertFalse(d["retrain"], d)
        # Without reference_env the reference is looked up in --workspace's workspace: not there.
        p = self.srv.run("drift", "--reference", "azureml:churn-reference@latest", "--current", "latest/cur.csv", *other)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("no version of churn-reference in workspace prod-elsewhere", p.stderr)
        # Only @latest; an asset without versions: exit 2 with the asset's name.
        p = self.srv.run("drift", "--reference", "azureml:churn-reference@champion", *self.window(H1))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("only the label @latest", p.stderr)
        p = self.srv.run("drift", "--reference", "azureml:no-such-asset@latest", *self.window(H1))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("no version of no-such-asset", p.stderr)
        # reference_env must name an environment of the file.
        with open(os.path.join(conf, "bad.yml"), "w") as f:
            f.write("monitor:\n  reference: azureml:churn-reference@latest\n  reference_env: dev\n")
        p = self.srv.run("drift", "--config", "latest/bad.yml", "--current", "latest/cur.csv")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("bad.yml:3:", p.stderr)

    def test_performance_with_labels_joined_by_correlationid(self):
        # Labels for H1's records (one per record: the first row's truth), as a CSV keyed by correlationid.
        with open(os.path.join(self.srv.work, "labels.csv"), "w") as f:
            f.write("correlationid,y\n")
            for i in range(0, 600, 4):
                f.write("%s-%d,%d\n" % (H1.strftime("%H"), i, 1))
        d = self.srv.json("performance", "--collection", "model_inputs,model_outputs", "--labels", "labels.csv",
                          "--label", "y", "--prediction", "yhat", *self.window(H1))
        # Every row of a record gets its record's label; accuracy = share of yhat == 1.
        want = sum(1 for r in self.h1 if predict(r)["yhat"] == 1) / len(self.h1)
        self.assertAlmostEqual(d["metrics"]["accuracy"], want, places=9)
        self.assertIn("endpoint churn/blue", d["data"])

    def test_window_must_be_given_once(self):
        self.srv.run("drift", "--reference", "ref.csv", "--endpoint", "churn", check=2)
        self.srv.run("drift", "--reference", "ref.csv", "--endpoint", "churn", "--window", "1h", "--from", iso(H1),
                     "--to", iso(H2), check=2)
        self.srv.run("drift", "--reference", "ref.csv", "--endpoint", "churn", "--from", iso(H2), "--to", iso(H1), check=2)


    def test_reference_from_the_endpoints_earlier_window(self):
        # The hour before as the reference: clean H0 -> clean H1 is quiet, clean H1 -> drifted H2 drifts.
        # Both sides are 600-row samples: the lognormal income column alone moves by 0.13 between clean hours.
        past = ["--exclude", "yhat", "--numeric-threshold", "0.2", "--reference-window", "1h"]
        d = self.srv.json("drift", *past, *self.window(H1))
        self.assertEqual(d["reference"]["rows"], 600, d["reference"])
        self.assertIn(iso(H0) + ".." + iso(H1), d["reference"]["source"])
        self.assertEqual(d["current"]["rows"], 600)
        self.assertEqual(d["outcome"], "no_drift", d)
        d = self.srv.json("drift", *past, *self.window(H2))
        self.assertIn(iso(H1) + ".." + iso(H2), d["reference"]["source"])
        self.assertEqual(d["outcome"], "drift", d)
        self.assertIn("age", {f["name"] for f in d["features"] if f["drifted"]})
        self.srv.run("drift", *past, "--fail-on-drift", *self.window(H1), check=0)
        self.srv.run("drift", *past, "--fail-on-drift", *self.window(H2), check=1)
        # An explicit offset: the drifted hour H2 against H0, two hours back.
        d = self.srv.json("drift", *past, "--reference-offset", "2h", *self.window(H2))
        self.assertIn(iso(H0) + ".." + iso(H1), d["reference"]["source"])
        self.assertEqual(d["outcome"], "drift", d)
        # A reference span of two hours ending where the current hour starts: H0 and H1.
        d = self.srv.json("drift", "--exclude", "yhat", "--reference-window", "2h", *self.window(H2))
        self.assertEqual(d["reference"]["rows"], 1200)

    def test_earlier_window_from_amlops_yml(self):
        with open(os.path.join(self.srv.work, "past.yml"), "w") as f:
            f.write("monitor:\n  reference: {endpoint_window: 1h}\n  numeric: {method: wasserstein_norm, threshold: 0.2}\n"
                    "  exclude: [yhat]\n  window: '300'\n  debounce: {breaches: 2, windows: 2}\n")
        # drift --config: the same as the flags.
        by_file = self.srv.json("drift", "--config", "past.yml", *self.window(H2))
        by_flag = self.srv.json("drift", "--exclude", "yhat", "--numeric-threshold", "0.2", "--reference-window", "1h",
                                *self.window(H2))
        self.assertEqual(by_file["reference"], by_flag["reference"])
        self.assertEqual(by_file["outcome"], "drift")
        self.assertEqual(by_file["features"], by_flag["features"])
        self.assertEqual(self.srv.json("drift", "--config", "past.yml", *self.window(H1))["outcome"], "no_drift")
        # --reference-offset over the file's offset; --reference over the whole window.
        d = self.srv.json("drift", "--config", "past.yml", "--reference-offset", "2h", *self.window(H2))
        self.assertIn(iso(H0) + ".." + iso(H1), d["reference"]["source"])
        d = self.srv.json("drift", "--config", "past.yml", "--reference", "ref.csv", *self.window(H2))
        self.assertEqual(d["reference"]["source"], "ref.csv")
        # decide: the hour before as the reference, the current hour in two 300-row windows.
        span = ["--endpoint", "churn", "--deployment", "blue", "--from", iso(H2), "--to", iso(H3)]
        d = self.srv.json("decide", "--config", "past.yml", *span)
        self.assertTrue(d["retrain"], d)
        self.assertTrue(d["signals"]["data_drift"]["triggered"])
        span = ["--endpoint", "churn", "--deployment", "blue", "--from", iso(H1), "--to", iso(H2)]
        self.assertFalse(self.srv.json("decide", "--config", "past.yml", *span)["retrain"])
        # Without --endpoint there is no earlier window to read: exit 2.
        p = self.srv.run("drift", "--config", "past.yml", "--current", "ref.csv", check=2)
        self.assertIn("needs --endpoint", p.stderr)

    def test_earlier_window_errors(self):
        # Overlapping windows, and flags that do not go together: usage errors (exit 2).
        p = self.srv.run("drift", "--reference-window", "1h", "--reference-offset", "30m", *self.window(H2), check=2)
        self.assertIn("overlaps the current window", p.stderr)
        self.srv.run("drift", "--reference-window", "0h", *self.window(H2), check=2)
        self.srv.run("drift", "--reference", "ref.csv", "--reference-window", "1h", *self.window(H2), check=2)
        self.srv.run("drift", "--reference-window", "1h", "--current", "ref.csv", check=2)
        self.srv.run("drift", "--reference", "ref.csv", "--reference-offset", "1h", *self.window(H2), check=2)
        # A reference window with too few rows (H3 has 5) is never 'no drift'.
        h4 = H3 + dt.timedelta(hours=1)
        d = self.srv.json("drift", "--reference-window", "1h", "--endpoint", "churn", "--deployment", "blue",
                          "--from", iso(h4), "--to", iso(h4 + dt.timedelta(hours=1)))
        self.assertEqual(d["outcome"], "too_few_rows", d)
        self.assertIn("the reference (endpoint churn/blue model_inputs %s..%s) has 5 rows" % (iso(H3), iso(h4)),
                      d["reason"])
        self.srv.run("drift", "--reference-window", "1h", "--fail-on-drift", "--endpoint", "churn", "--from", iso(h4),
                     "--to", iso(h4 + dt.timedelta(hours=1)), check=1)

class Health(unittest.TestCase):
    """endpoint_requests rows (what w21's scoring front end records) -> the metrics API -> amlops-monitor."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        # The table exists once the metrics route ran; create it the same way when the test is first.
        db = sqlite3.connect(os.path.join(cls.srv.local.data, "amlops-local.db"), timeout=30)
        db.execute("CREATE TABLE IF NOT EXISTS endpoint_requests(ws TEXT, endpoint TEXT, deployment TEXT, "
                   "at_ms INTEGER, status INTEGER, latency_ms REAL)")
        cls.sent = {}
        rng = random.Random(3)
        rows = []
        # Three hours: 100 requests each on blue (90 x 200, 4 x 400, 6 x 500) and 10 on green (all 200).
        for h in range(3):
            start = H1 + dt.timedelta(hours=h)
            slow = 400.0 if h >= 1 else 0.0  # p95 above 300 ms in the last two hours
            lat = []
            for i in range(100):
                status = 200 if i < 90 else (400 if i < 94 else 500)
                ms = rng.uniform(10, 100) + (slow if i % 10 < 6 else 0)
                at = int((start + dt.timedelta(seconds=30 * i)).timestamp() * 1000)
                rows.append(("local", "churn", "blue", at, status, ms))
                lat.append(ms)
            for i in range(10):
                rows.append(("local", "churn", "green", int((start + dt.timedelta(seconds=7 + 60 * i)).timestamp() * 1000), 200, 5.0))
            cls.sent[h] = sorted(lat)
        rows.append(("local", "other", "blue", int(H1.timestamp() * 1000), 500, 9.0))
        db.executemany("INSERT INTO endpoint_requests VALUES (?,?,?,?,?,?)", rows)
        db.commit()
        db.close()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    @staticmethod
    def quantile(v, q):
        pos = q * (len(v) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(v) - 1)
        return v[lo] + (v[hi] - v[lo]) * (pos - lo)

    def test_counts_error_rates_and_percentiles(self):
        d = self.srv.json("endpoint", "--endpoint", "churn", "--deployment", "blue", "--from", iso(H1), "--to",
                          iso(H1 + dt.timedelta(hours=3)))
        self.assertEqual(d["total"]["requests"], 300)
        self.assertEqual(d["total"]["status"], {"2xx": 270, "4xx": 12, "5xx": 18, "other": 0})
        self.assertAlmostEqual(d["total"]["error_rate"], 30 / 300)
        self.assertAlmostEqual(d["total"]["rate_5xx"], 18 / 300)
        self.assertEqual(len(d["windows"]), 3)
        for h, w in enumerate(d["windows"]):
            self.assertEqual(w["requests"], 100)
            self.assertEqual(w["status"]["5xx"], 6)
            self.assertAlmostEqual(w["p95_ms"], self.quantile(self.sent[h], 0.95), places=6)
            self.assertAlmostEqual(w["p50_ms"], self.quantile(self.sent[h], 0.50), places=6)
        everything = sorted(self.sent[0] + self.sent[1] + self.sent[2])
        self.assertAlmostEqual(d["total"]["p99_ms"], self.quantile(everything, 0.99), places=6)

    def test_whole_endpoint_counts_every_deployment(self):
        d = self.srv.json("endpoint", "--endpoint", "churn", "--from", iso(H1), "--to", iso(H1 + dt.timedelta(hours=1)))
        self.assertEqual(d["total"]["requests"], 110)
        self.assertEqual(d["total"]["status"]["2xx"], 100)

    def test_rule_debounced_two_of_three(self):
        args = ["endpoint", "--endpoint", "churn", "--deployment", "blue", "--from", iso(H1), "--to",
                iso(H1 + dt.timedelta(hours=3)), "--health", "p95_ms>300"]
        d = self.srv.json(*args, "--health-debounce", "2/3")
        self.assertTrue(d["breached"], d)
        self.assertEqual([w["breached"] for w in d["windows"]], [False, True, True])
        self.assertIn("endpoint_health breached in 2 of the last 3 intervals", d["reasons"][0])
        d = self.srv.json(*args, "--health-debounce", "3/3")
        self.assertFalse(d["breached"])
        self.srv.run(*args, "--health-debounce", "2/3", "--fail-on-breach", check=1)
        self.srv.run(*args, "--health", "p95>300", check=2)

    def test_decide_uses_endpoint_health(self):
        with open(os.path.join(self.srv.work, "amlops.yml"), "w") as f:
            f.write("monitor:\n  reference: ref.csv\n  current: cur.csv\n  window: '1000'\n")
        with open(os.path.join(self.srv.work, "ref.csv"), "w") as f:
            f.write("x\n" + "".join("%d\n" % (i % 50) for i in range(500)))
        with open(os.path.join(self.srv.work, "cur.csv"), "w") as f:
            f.write("x\n" + "".join("%d\n" % (i % 50) for i in range(500)))
        base = ["decide", "--config", "amlops.yml", "--endpoint", "churn", "--deployment", "blue",
                "--to", iso(H1 + dt.timedelta(hours=3)), "--health", "p95_ms>300"]
        d = self.srv.json(*base, "--health-debounce", "2/3")
        # A slow endpoint is an operational outcome of its own, not a reason to retrain the model.
        self.assertFalse(d["retrain"], d)
        self.assertEqual(d["reasons"], [])
        self.assertTrue(d["health_breached"], d)
        self.assertEqual(len(d["health_reasons"]), 1, d)
        self.assertTrue(d["health_reasons"][0].startswith("endpoint_health breached in 2 of the last 3 intervals"), d)
        self.assertTrue(d["signals"]["endpoint_health"]["triggered"])
        self.assertFalse(d["signals"]["data_drift"]["triggered"])
        self.assertEqual(len(d["endpoint_health"]["windows"]), 3)
        d = self.srv.json(*base, "--health-debounce", "3/3")
        self.assertFalse(d["retrain"], d)
        self.assertFalse(d["health_breached"], d)
        # --fail-on-retrain stays quiet on health; --fail-on-breach fails the step.
        self.srv.run(*base, "--health-debounce", "2/3", "--fail-on-retrain", check=0)
        self.srv.run(*base, "--health-debounce", "2/3", "--fail-on-breach", check=1)
        self.srv.run(*base, "--health-debounce", "3/3", "--fail-on-breach", check=0)
        # The report section: the decision with the health intervals (3 of them and the total).
        self.srv.run(*base, "--health-debounce", "2/3", "--markdown", "decide.md", check=0)
        with open(os.path.join(self.srv.work, "decide.md")) as f:
            md = f.read()
        self.assertIn("endpoint health: breached \u2014 endpoint_health breached in 2 of the last 3 intervals", md)
        self.assertIn("**Endpoint health** (churn)", md)
        self.assertEqual(md.count("| 100 | 90 | 4 | 6 |"), 3, md)

    def test_rule_from_amlops_yml_breaches_as_the_flag_does(self):
        span = ["--endpoint", "churn", "--deployment", "blue", "--from", iso(H1), "--to", iso(H1 + dt.timedelta(hours=3))]
        with open(os.path.join(self.srv.work, "health.yml"), "w") as f:
            f.write("monitor:\n  health:\n    rules: [p95_ms>300]\n    debounce: {breaches: 2, windows: 3}\n"
                    "    interval: 1h\n")
        by_file = self.srv.json("endpoint", "--config", "health.yml", *span)
        by_flag = self.srv.json("endpoint", "--health", "p95_ms>300", "--health-debounce", "2/3", *span)
        self.assertTrue(by_file["breached"], by_file)
        self.assertEqual(by_file["rules"], ["p95_ms>300"])
        self.assertEqual([w["breached"] for w in by_file["windows"]], [False, True, True])
        self.assertEqual(by_file["reasons"], by_flag["reasons"])
        self.assertEqual(by_file["windows"], by_flag["windows"])
        self.srv.run("endpoint", "--config", "health.yml", "--fail-on-breach", *span, check=1)
        # Flags override the file key by key: --health replaces its rules, --health-debounce its debounce.
        d = self.srv.json("endpoint", "--config", "health.yml", "--health", "error_rate>0.5", *span)
        self.assertEqual(d["rules"], ["error_rate>0.5"])
        self.assertFalse(d["breached"], d)
        d = self.srv.json("endpoint", "--config", "health.yml", "--health-debounce", "3/3", *span)
        self.assertFalse(d["breached"], d)
        # --interval over the file's: two 90-minute intervals, the second one slow.
        d = self.srv.json("endpoint", "--config", "health.yml", "--interval", "90m", "--health-debounce", "1/1", *span)
        self.assertEqual(d["interval"], "PT90M")
        self.assertEqual(len(d["windows"]), 2)
        # decide: the file's rules become the endpoint_health signal, as --health does.
        with open(os.path.join(self.srv.work, "ref.csv"), "w") as f:
            f.write("x\n" + "".join("%d\n" % (i % 50) for i in range(500)))
        with open(os.path.join(self.srv.work, "cur.csv"), "w") as f:
            f.write("x\n" + "".join("%d\n" % (i % 50) for i in range(500)))
        with open(os.path.join(self.srv.work, "decide.yml"), "w") as f:
            f.write("monitor:\n  reference: ref.csv\n  current: cur.csv\n  window: '1000'\n  health:\n"
                    "    rules: [p95_ms>300]\n    debounce: {breaches: 2, windows: 3}\n")
        base = ["decide", "--config", "decide.yml", "--endpoint", "churn", "--deployment", "blue",
                "--to", iso(H1 + dt.timedelta(hours=3))]
        d = self.srv.json(*base)
        self.assertTrue(d["health_breached"], d)
        self.assertFalse(d["retrain"], d)
        self.assertTrue(d["signals"]["endpoint_health"]["triggered"])
        self.assertEqual(len(d["endpoint_health"]["windows"]), 3)
        self.assertFalse(self.srv.json(*base, "--health-debounce", "3/3")["health_breached"])
        # Without --endpoint the file's rules are not read (local data only), and nothing fails.
        d = self.srv.json("decide", "--config", "decide.yml")
        self.assertFalse(d["retrain"], d)
        self.assertFalse(d["health_breached"], d)
        self.assertNotIn("endpoint_health", d)
        # A bad rule in the file: located, exit 2.
        with open(os.path.join(self.srv.work, "bad.yml"), "w") as f:
            f.write("monitor:\n  health:\n    rules: [p95>300]\n")
        p = self.srv.run("endpoint", "--config", "bad.yml", *span, check=2)
        self.assertIn("bad.yml:3:13: health rule 'p95>300': unknown metric", p.stderr)

    def test_metrics_api_shape(self):
        q = ("?api-version=2023-10-01&metricnames=RequestsPerMinute&aggregation=Total&interval=PT1H&timespan=" +
             urllib.parse.quote(iso(H1) + "/" + iso(H1 + dt.timedelta(hours=2))) + "&%24filter=" +
             urllib.parse.quote("statusCodeClass eq '*'"))
        s, _, j = self.srv.local.call("GET", self.srv.local.ws_id + "/onlineEndpoints/churn/deployments/blue/providers/Microsoft.Insights/metrics" + q)
        self.assertEqual(s, 200, j)
        m = j["value"][0]
        self.assertEqual(m["name"]["value"], "RequestsPerMinute")
        by_class = {ts["metadatavalues"][0]["value"]: [p["total"] for p in ts["data"]] for ts in m["timeseries"]}
        self.assertEqual(by_class, {"2xx": [90, 90], "4xx": [4, 4], "5xx": [6, 6]})
        s, _, j = self.srv.local.call("GET", self.srv.local.ws_id + "/onlineEndpoints/churn/providers/Microsoft.Insights/metrics"
                                      "?api-version=2023-10-01&metricnames=CpuUtilization")
        self.assertEqual(s, 400, j)


class Cluster(unittest.TestCase):
    """drift --on-cluster: 4 profile steps and a merge step run as local processes by amlops-local."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        rng = random.Random(11)

        def write(path, n, shift):
            with open(os.path.join(cls.srv.work, path), "w") as f:
                f.write("age,income,city,flag\n")
                for r in rows(n, shift, rng):
                    f.write("%r,%r,%s,%s\n" % (r["age"], r["income"], r["city"], rng.choice(["true", "false"])))
        write("ref.csv", 3000, 0)
        write("cur.csv", 4000, 1)
        os.makedirs(os.path.join(cls.srv.work, "parts"))
        with open(os.path.join(cls.srv.work, "cur.csv")) as f:
            lines = f.read().splitlines()
        for i in range(4):  # a folder of files: partitions by file
            with open(os.path.join(cls.srv.work, "parts", "p%d.csv" % i), "w") as f:
                f.write("\n".join([lines[0]] + lines[1 + i * 1000:1 + (i + 1) * 1000]) + "\n")

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def pair(self, current, *extra):
        base = ["drift", "--reference", "ref.csv", "--metrics", "all"] + list(extra)
        local = self.srv.json(*(base + ["--current", "cur.csv"]))
        cluster = self.srv.json(*(base + ["--current", current, "--on-cluster", "cpu-cluster", "--partitions", "4"]))
        return local, cluster

    def assert_close(self, a, b, rel=1e-9):
        self.assertLessEqual(abs(a - b), rel * max(abs(a), abs(b), 1e-300), (a, b))

    def test_byte_ranges_exact_within_max_values(self):
        local, cluster = self.pair("cur.csv")
        info = cluster.pop("cluster")
        self.assertEqual(len(info["partition_rows"]), 4)
        self.assertEqual(sum(info["partition_rows"]), 4000)
        self.assertTrue(info["exact"])
        self.assertEqual(cluster["outcome"], local["outcome"])
        self.assertEqual(cluster["current"]["rows"], 4000)
        for a, b in zip(local["features"], cluster["features"]):
            self.assertEqual(a["drifted"], b["drifted"], a["name"])
            for k, v in a["metrics"].items():
                self.assert_close(v, b["metrics"][k])

    def test_files_as_partitions(self):
        local, cluster = self.pair("parts")
        self.assertEqual(cluster["cluster"]["partition_rows"], [1000, 1000, 1000, 1000])
        for a, b in zip(local["features"], cluster["features"]):
            for k, v in a["metrics"].items():
                self.assert_close(v, b["metrics"][k])

    def test_sampled_partitions_within_the_documented_bound(self):
        m = 300  # every partition (about 1000 rows) keeps 300 order statistics per column
        local, cluster = self.pair("cur.csv", "--max-values", str(m))
        info = cluster["cluster"]
        self.assertFalse(info["exact"])
        n = info["partition_rows"]
        bound = 3 / (m - 1) + sum(abs(1 / 4 - r / sum(n)) for r in n) + 2 / min(n)
        self.assert_close(info["ks_bound"], bound)
        for a, b in zip(local["features"], cluster["features"]):
            if a["type"] != "numeric":  # category counts merge exactly
                for k, v in a["metrics"].items():
                    self.assert_close(v, b["metrics"][k])
                continue
            self.assertLessEqual(abs(a["metrics"]["ks_statistic"] - b["metrics"]["ks_statistic"]), bound, a["name"])
            # Wasserstein-1 moves by at most the range of the current values times the CDF error.
            with open(os.path.join(self.srv.work, "cur.csv")) as f:
                head = f.readline().strip().split(",")
                col = [float(line.split(",")[head.index(a["name"])]) for line in f]
            span = max(col) - min(col)
            self.assertLessEqual(abs(a["metrics"]["wasserstein"] - b["metrics"]["wasserstein"]), span * bound, a["name"])

SCORE = """
import json
from azureml.ai.monitoring import Collector

inputs_collector = Collector(name="model_inputs")
outputs_collector = Collector(name="model_outputs")


def init():
    pass


def run(raw_data):
    rows = json.loads(raw_data)["data"]
    if any(r.get("city") == "FAIL" for r in rows):
        raise ValueError("marker input: failing on purpose")
    context = inputs_collector.collect(rows)
    out = [{"yhat": int(r["age"] > 40)} for r in rows]
    outputs_collector.collect(out, context)
    return out
"""


class EndToEnd(unittest.TestCase):
    """A real endpoint of amlops-local (its data collector and request counters), when it has them.

    amlops-local collects in the current UTC hour, so the clean and the drifted batch are read as
    the same span before and after the drifted batch (the two-hour case is in Collected)."""

    @classmethod
    def setUpClass(cls):
        data = tempfile.mkdtemp(prefix="monitor-e2e-")
        with open(os.path.join(data, "config.yml"), "w") as f:
            f.write("environments:\n  '*':\n    python: /usr/bin/python3\n")
        cls.srv = Server(data=data)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def wait_op(self, headers):
        for _ in range(600):
            s, _, j = self.srv.local.call("GET", headers["azure-asyncoperation"])
            if j["status"] not in ("InProgress", "Updating", "Running"):
                return j["status"]
            import time
            time.sleep(0.2)
        self.fail("operation did not finish")

    def deploy(self):
        if getattr(type(self), "deployed", None):
            return type(self).deployed
        local = self.srv.local
        s, h, j = local.arm("PUT", "/onlineEndpoints/churn", {"location": "local", "properties": {"authMode": "Key"}})
        if s == 404:
            self.skipTest("this amlops-local has no online endpoints")
        self.assertIn(s, (200, 201), j)
        self.assertEqual(self.wait_op(h), "Succeeded")
        self.srv.put("models/churn/1/model/model.txt", "a threshold model: age > 40\n")
        s, _, m = local.arm("PUT", "/models/churn/versions/1", {"properties": {
            "modelType": "custom_model", "modelUri": "azureml://datastores/workspaceblobstore/paths/models/churn/1/model/"}})
        self.assertIn(s, (200, 201), m)
        code_id, _ = local.upload_code("e2e-src", {"score.py": SCORE})
        collector = {"collections": {"model_inputs": {"dataCollectionMode": "Enabled", "samplingRate": 1.0},
                                     "model_outputs": {"dataCollectionMode": "Enabled", "samplingRate": 1.0}},
                     "rollingRate": "Hour"}
        s, h, j = local.arm("PUT", "/onlineEndpoints/churn/deployments/blue", {
            "location": "local", "sku": {"name": "Default", "capacity": 1}, "properties": {
                "endpointComputeType": "Managed", "model": "azureml:churn:1",
                "codeConfiguration": {"codeId": code_id, "scoringScript": "score.py"},
                "instanceType": "Standard_DS3_v2", "dataCollector": collector}})
        self.assertIn(s, (200, 201), j)
        self.assertEqual(self.wait_op(h), "Succeeded")
        s, h, j = local.arm("PUT", "/onlineEndpoints/churn", {"location": "local", "properties": {
            "authMode": "Key", "traffic": {"blue": 100}}})
        self.assertEqual(self.wait_op(h), "Succeeded")
        _, _, e = local.arm("GET", "/onlineEndpoints/churn")
        _, _, k = local.arm("POST", "/onlineEndpoints/churn/listKeys")
        type(self).deployed = e["properties"]["scoringUri"], k["primaryKey"]
        return type(self).deployed

    def test_collected_drift_health_and_decision(self):
        uri, key = self.deploy()
        rng = random.Random(21)
        statuses = []

        def score(batch):
            s, _, _ = self.srv.local.call("POST", uri, {"data": batch},
                                          {"Authorization": "Bearer " + key, "Content-Type": "application/json"},
                                          token=False)
            statuses.append(s)

        ref = rows(2000, 0, rng)
        with open(os.path.join(self.srv.work, "ref.csv"), "w") as f:
            f.write("age,income,city,yhat\n")
            for r in ref:
                f.write("%r,%r,%s,%d\n" % (r["age"], r["income"], r["city"], predict(r)["yhat"]))
        clean = rows(600, 0, rng)
        for i in range(0, 600, 10):
            score(clean[i:i + 10])
        for _ in range(5):  # planted failures: run() raises on the marker
            score([{"age": 30.0, "income": 1.0, "city": "FAIL"}])
        span = ["--endpoint", "churn", "--deployment", "blue", "--window", "2h"]
        d = self.srv.json("drift", "--reference", "ref.csv", "--exclude", "yhat", *span)
        self.assertEqual(d["current"]["rows"], 600, d["current"])
        self.assertEqual(d["outcome"], "no_drift", d)
        drifted = rows(600, 1, rng)
        for i in range(0, 600, 10):
            score(drifted[i:i + 10])
        d = self.srv.json("drift", "--reference", "ref.csv", "--prediction", "yhat", "--collection",
                          "model_inputs,model_outputs", *span)
        self.assertEqual(d["current"]["rows"], 1200)
        self.assertEqual(d["outcome"], "drift", d)
        self.assertIn("city", {f["name"] for f in d["features"] if f["drifted"]})

        # Endpoint health: exactly the requests sent, the planted failures as the model-error class.
        h = self.srv.json("endpoint", "--endpoint", "churn", "--window", "2h", "--interval", "2h")
        self.assertEqual(h["total"]["requests"], len(statuses))
        failed = sum(1 for s in statuses if s != 200)
        self.assertEqual(failed, 5, statuses)
        self.assertEqual(h["total"]["status"]["2xx"], len(statuses) - 5)
        self.assertEqual(h["total"]["status"]["4xx"] + h["total"]["status"]["5xx"], 5)
        self.assertAlmostEqual(h["total"]["error_rate"], 5 / len(statuses))
        self.assertGreater(h["total"]["p95_ms"], 0)

        with open(os.path.join(self.srv.work, "amlops.yml"), "w") as f:
            f.write("monitor:\n  reference: ref.csv\n  prediction: yhat\n  window: '100000'\n")
        d = self.srv.json("decide", "--config", "amlops.yml", "--collection", "model_inputs,model_outputs",
                          "--lookback", "2h", "--health", "error_rate>0.01", "--interval", "1h",
                          "--health-debounce", "1/2", *span[:4])
        self.assertTrue(d["retrain"], d)  # from the data drift
        self.assertTrue(d["signals"]["data_drift"]["triggered"])
        self.assertTrue(d["signals"]["endpoint_health"]["triggered"])
        self.assertTrue(d["health_breached"], d)
        self.assertTrue(any(r.startswith("data_drift breached") for r in d["reasons"]), d["reasons"])
        self.assertFalse(any(r.startswith("endpoint_health") for r in d["reasons"]), d["reasons"])
        self.assertTrue(d["health_reasons"][0].startswith("endpoint_health breached"), d["health_reasons"])


    def test_the_endpoints_earlier_window_as_reference(self):
        # Runs after test_collected_... (name order), whose traffic lies before this test's windows.
        import time
        uri, key = self.deploy()
        rng = random.Random(5)

        def now():
            return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

        def batch(shift):
            # Starts on a fresh second (records carry whole-second times) and returns [start, end).
            start = now() + dt.timedelta(seconds=1)
            time.sleep(max(0.0, (start - dt.datetime.now(dt.timezone.utc)).total_seconds()))
            data = rows(600, shift, rng)
            for i in range(0, 600, 20):
                s, _, _ = self.srv.local.call("POST", uri, {"data": data[i:i + 20]},
                                              {"Authorization": "Bearer " + key, "Content-Type": "application/json"},
                                              token=False)
                self.assertEqual(s, 200)
            end = now() + dt.timedelta(seconds=1)
            time.sleep(max(0.0, (end - dt.datetime.now(dt.timezone.utc)).total_seconds()))
            return start, end

        a = batch(0)  # clean
        b = batch(0)  # clean
        c = batch(1)  # drifted

        def drift(current, previous):
            # The reference: the window just before the current one (the default offset), as long as `previous`.
            size = "%ds" % (previous[1] - previous[0]).total_seconds()
            cur_from = previous[1]  # windows touch: the reference ends where the current one starts
            return self.srv.json("drift", "--endpoint", "churn", "--deployment", "blue", "--numeric-threshold", "0.2",
                                 "--reference-window", size, "--from", iso(cur_from), "--to", iso(current[1]))

        d = drift(b, a)
        self.assertEqual(d["reference"]["rows"], 600, d["reference"])
        self.assertEqual(d["current"]["rows"], 600, d["current"])
        self.assertEqual(d["outcome"], "no_drift", d)
        d = drift(c, b)
        self.assertEqual((d["reference"]["rows"], d["current"]["rows"]), (600, 600))
        self.assertEqual(d["outcome"], "drift", d)
        self.assertIn("age", {f["name"] for f in d["features"] if f["drifted"]})


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[1:])
