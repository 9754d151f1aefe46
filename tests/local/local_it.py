#!/usr/bin/python3
"""Integration tests of amlops-local over HTTP only (urllib; no amlops client code).

Run one group: local_it.py CommandJobs (CTest runs each group as its own test).
AMLOPS_LOCAL_BIN names the amlops-local binary.
"""
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

BIN = os.environ.get("AMLOPS_LOCAL_BIN", "amlops-local")
PY = "/usr/bin/python3"
API = "2025-12-01"


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(") ", 1)[1][:1] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def read(path):
    with open(path) as f:
        return f.read()


class Local:
    """One amlops-local daemon on a fresh data directory."""

    def __init__(self, *extra, data=None, env=None):
        self.data = data or tempfile.mkdtemp(prefix="amlops-local-it-")
        self.extra = list(extra)
        self.server_env = env  # the daemon's environment (None: this process's)
        self.start()

    def start(self):
        out = subprocess.run([BIN, "serve", "--daemon", "--print-env", "--data", self.data] + self.extra,
                             capture_output=True, text=True, timeout=60, env=self.server_env)
        if out.returncode != 0:
            raise RuntimeError("serve failed: " + out.stderr)
        self.env = {}
        for line in out.stdout.splitlines():
            k, v = line[len("export "):].split("=", 1)
            self.env[k] = v.strip("'")
        self.base = self.env["AMLOPS_ARM_ENDPOINT"]
        with open(os.path.join(self.data, "server.json")) as f:
            self.info = json.load(f)
        self.sub = self.env["AZURE_SUBSCRIPTION_ID"]
        self.ws_id = "/subscriptions/%s/resourceGroups/amlops-local/providers/Microsoft.MachineLearningServices/workspaces/local" % self.sub
        for _ in range(20):  # the token endpoint is subject to injected faults too
            try:
                self.token = self.get_token()
            except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
                continue
            if isinstance(self.token, str):
                break

    def stop(self):
        subprocess.run([BIN, "stop", "--data", self.data], capture_output=True, timeout=60)

    def kill9(self):
        os.kill(self.info["pid"], signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(self.info["pid"], 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def cleanup(self):
        self.stop()
        # A sanitizer build reports into the daemon's log: any report fails the test.
        log = os.path.join(self.data, "server.log")
        text = read(log) if os.path.exists(log) else ""
        shutil.rmtree(self.data, ignore_errors=True)
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer"):
            if marker in text:
                raise AssertionError("sanitizer report in server.log:\n" + text[-4000:])

    # --- HTTP
    def raw(self, method, url, body=None, headers=None, token=True):
        if not url.startswith("http"):
            url = self.base + url
        h = dict(headers or {})
        if token and "Authorization" not in h:
            h["Authorization"] = "Bearer " + self.token
        data = body
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            data = body.encode()
        req = urllib.request.Request(url, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
        except urllib.error.HTTPError as e:
            return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()

    def call(self, method, url, body=None, headers=None, token=True):
        s, h, b = self.raw(method, url, body, headers, token)
        try:
            j = json.loads(b) if b else None
        except ValueError:
            j = b
        return s, h, j

    def arm(self, method, rel, body=None, api=API, query=""):
        url = self.ws_id + rel + "?api-version=" + api + query
        return self.call(method, url, body)

    def get_token(self, secret=None, assertion=None, tenant=None, scope="https://management.azure.com/.default"):
        form = {"grant_type": "client_credentials", "client_id": self.env["AZURE_CLIENT_ID"], "scope": scope}
        if assertion:
            form["client_assertion"] = assertion
            form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        else:
            form["client_secret"] = secret or self.env["AZURE_CLIENT_SECRET"]
        s, h, j = self.call("POST", "/%s/oauth2/v2.0/token" % (tenant or self.env["AZURE_TENANT_ID"]),
                            urllib.parse.urlencode(form), {"Content-Type": "application/x-www-form-urlencoded"}, token=False)
        if s != 200:
            return (s, j)
        return j["access_token"]

    def mlflow(self, method, ep, body=None, query=""):
        _, _, ws = self.arm("GET", "")
        uri = ws["properties"]["mlFlowTrackingUri"]
        _, _, disc = self.call("GET", ws["properties"]["discoveryUrl"], token=False)
        scheme = disc["api"].split("://")[0]
        base = uri.replace("azureml://", scheme + "://")
        return self.call(method, base + "/api/2.0/mlflow/" + ep + query, body)

    def requests_log(self):
        _, _, j = self.call("GET", "/_amlops/requests", token=False)
        return j["requests"]

    # --- assets
    def upload_code(self, name, files, version="1"):
        """Uploads a code folder the way azure-ai-ml does: hash lookup, startPendingUpload, Put Blob, PUT version."""
        h = hashlib.sha256()
        h.update(str(len(files)).encode())
        for rel in sorted(files, key=str.lower):
            h.update(("#" + rel + "#").encode())
            h.update(str(len(files[rel].encode())).encode())
        for rel in sorted(files, key=str.lower):
            h.update(files[rel].encode())
        digest = h.hexdigest()
        s, _, found = self.arm("GET", "/codes/%s/versions" % name, query="&hash=%s&hashVersion=202208" % digest)
        assert s == 200, found
        if found["value"]:
            return found["value"][0]["id"], False
        s, _, up = self.arm("POST", "/codes/%s/versions/%s/startPendingUpload" % (name, version),
                            {"pendingUploadType": "TemporaryBlobReference"})
        assert s == 200, up
        sas = up["blobReferenceForConsumption"]["credential"]["sasUri"]
        container_url, q = sas.split("?", 1)
        for rel, text in files.items():
            s, _, b = self.raw("PUT", container_url + "/src/" + rel + "?" + q, text.encode(),
                               {"x-ms-blob-type": "BlockBlob"}, token=False)
            assert s == 201, b
        body = {"properties": {"codeUri": up["blobReferenceForConsumption"]["blobUri"] + "/src",
                               "isAnonymous": False,
                               "properties": {"hash_sha256": digest, "hash_version": "202208"}}}
        s, _, code = self.arm("PUT", "/codes/%s/versions/%s" % (name, version), body)
        assert s in (200, 201), code
        return code["id"], True

    def datastore_sas(self):
        s, _, ds = self.arm("GET", "/datastores/workspaceblobstore")
        s, _, sec = self.arm("POST", "/datastores/workspaceblobstore/listSecrets", {"expirableSecret": True, "expireAfterHours": 1})
        return self.base + "/" + ds["properties"]["accountName"] + "/" + ds["properties"]["containerName"], sec["sasToken"]

    def put_job(self, name, props):
        s, h, j = self.arm("PUT", "/jobs/" + name, {"properties": props})
        assert s in (200, 201), j
        return j

    def wait(self, name, timeout=60, seen=None):
        end = time.time() + timeout
        while time.time() < end:
            s, _, j = self.arm("GET", "/jobs/" + name)
            st = j["properties"]["status"]
            if seen is not None and (not seen or seen[-1] != st):
                seen.append(st)
            if st in ("Completed", "Failed", "Canceled"):
                return st
            time.sleep(0.1)
        raise AssertionError("job %s did not finish in %ss (status %s)" % (name, timeout, st))

    def history(self, name, what="details"):
        return self.call("GET", "%s/history/v1.0%s/runs/%s/%s" % (self.base, self.ws_id, name, what))[2]

    def log(self, name):
        d = self.history(name)
        url = d["logFiles"].get("user_logs/std_log.txt")
        if not url:
            return ""
        s, _, b = self.raw("GET", url, token=False)
        return b.decode()


MLFLOW_LOGGER = r'''
import json, os, sys, time, urllib.request
def mlflow(ep, body):
    req = urllib.request.Request(os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/" + ep, data=json.dumps(body).encode(),
        method="POST", headers={"Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"], "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
def log_metric(key, value, step=0):
    mlflow("runs/log-metric", {"run_id": os.environ["MLFLOW_RUN_ID"], "key": key, "value": value, "step": step, "timestamp": int(time.time() * 1000)})
'''

TRAIN = MLFLOW_LOGGER + r'''
import argparse
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--label")
p.add_argument("--data")
p.add_argument("--out")
a = p.parse_args()
rows = open(a.data).read().split()
print("training with lr", a.lr, "label", a.label, "rows", len(rows))
time.sleep(0.5)  # long enough for a poller to see Running
for step in range(3):
    log_metric("loss", 1.0 / (step + 1), step)
mlflow("runs/log-batch", {"run_id": os.environ["MLFLOW_RUN_ID"], "metrics": [{"key": "accuracy", "value": 0.9, "timestamp": 0, "step": 0}],
       "params": [{"key": "lr", "value": str(a.lr)}], "tags": [{"key": "framework", "value": "none"}]})
os.makedirs(a.out, exist_ok=True)
open(os.path.join(a.out, "model.txt"), "w").write("weights %s\n" % a.lr)
os.makedirs(os.path.join(a.out, "sub"), exist_ok=True)
open(os.path.join(a.out, "sub", "extra.txt"), "w").write("label=%s\n" % a.label)
os.makedirs("outputs/model", exist_ok=True)
open("outputs/model/model.pkl", "w").write("pickled")
'''


class Base(unittest.TestCase):
    extra = ()

    def setUp(self):
        self.srv = Local(*self.extra)

    def tearDown(self):
        self.srv.cleanup()


class CommandJobs(Base):
    def test_command_job_from_code_upload(self):
        srv = self.srv
        code_id, uploaded = srv.upload_code("train-src", {"train.py": TRAIN})
        self.assertTrue(uploaded)
        # A uri_file input uploaded through the datastore's SAS.
        container, sas = srv.datastore_sas()
        s, _, _ = srv.raw("PUT", container + "/LocalUpload/abc/data.txt" + sas, b"1\n2\n3\n", {"x-ms-blob-type": "BlockBlob"}, token=False)
        self.assertEqual(s, 201)
        # Get Blob Properties (HEAD) and Set Blob Metadata, as azure-ai-ml's upload check uses them.
        s, h, _ = srv.raw("HEAD", container + "/LocalUpload/abc/data.txt" + sas, token=False)
        self.assertEqual((s, h["content-length"], h["x-ms-blob-type"]), (200, "6", "BlockBlob"))
        s, _, _ = srv.raw("PUT", container + "/LocalUpload/abc/data.txt" + sas + "&comp=metadata", b"",
                          {"x-ms-meta-upload_status": "completed", "x-ms-meta-name": "d"}, token=False)
        self.assertEqual(s, 200)
        s, h, _ = srv.raw("HEAD", container + "/LocalUpload/abc/data.txt" + sas, token=False)
        self.assertEqual(h.get("x-ms-meta-upload_status"), "completed")
        s, h, _ = srv.raw("HEAD", container + "/LocalUpload/abc/missing.txt" + sas, token=False)
        self.assertEqual((s, h.get("x-ms-error-code")), (404, "BlobNotFound"))
        marker = os.path.join(srv.data, "pwned")
        props = {
            "jobType": "Command", "experimentName": "it", "displayName": "train",
            "command": "%s train.py --lr ${{inputs.lr}} --label ${{inputs.label}} --data ${{inputs.data}} --out ${{outputs.model_dir}}" % PY,
            "codeId": code_id, "environmentId": "azureml:AzureML-sklearn-1.0-ubuntu20.04-py38-cpu:33",
            "inputs": {"lr": {"jobInputType": "literal", "value": "0.5"},
                       "label": {"jobInputType": "literal", "value": "x; touch %s $(touch %s)" % (marker, marker)},
                       "data": {"jobInputType": "uri_file", "uri": "azureml://datastores/workspaceblobstore/paths/LocalUpload/abc/data.txt"}},
            "outputs": {"model_dir": {"jobOutputType": "uri_folder"}},
            "tags": {"team": "ml"},
        }
        created = srv.put_job("job-train-1", props)
        self.assertEqual(created["properties"]["status"], "NotStarted")
        self.assertIn("Tracking", created["properties"]["services"])
        seen = []
        self.assertEqual(srv.wait("job-train-1", seen=seen), "Completed", srv.log("job-train-1"))
        self.assertIn("Running", seen)
        self.assertFalse(os.path.exists(marker), "an input value was interpreted by the shell")
        log = srv.log("job-train-1")
        self.assertIn("training with lr 0.5 label x; touch", log)
        self.assertIn("rows 3", log)
        # Metrics over MLflow REST.
        s, _, hist = srv.mlflow("GET", "metrics/get-history", query="?run_id=job-train-1&metric_key=loss")
        self.assertEqual(s, 200)
        self.assertEqual([m["step"] for m in hist["metrics"]], [0, 1, 2])
        self.assertAlmostEqual(hist["metrics"][2]["value"], 1 / 3)
        s, _, run = srv.mlflow("GET", "runs/get", query="?run_id=job-train-1")
        self.assertEqual(run["run"]["info"]["status"], "FINISHED")
        self.assertIn({"key": "lr", "value": "0.5"}, run["run"]["data"]["params"])
        self.assertIn("accuracy", [m["key"] for m in run["run"]["data"]["metrics"]])
        s, _, exp = srv.mlflow("GET", "experiments/get-by-name", query="?experiment_name=it")
        self.assertEqual(exp["experiment"]["name"], "it")
        # The output folder is downloadable: List Blobs + Get Blob.
        s, _, job = srv.arm("GET", "/jobs/job-train-1")
        uri = job["properties"]["outputs"]["model_dir"]["uri"]
        prefix = uri.split("/paths/", 1)[1]
        s, _, listing = srv.raw("GET", container + sas + "&restype=container&comp=list&prefix=" + urllib.parse.quote(prefix), token=False)
        self.assertEqual(s, 200)
        self.assertIn(b"model.txt", listing)
        self.assertIn(b"sub/extra.txt", listing)
        s, _, b = srv.raw("GET", container + "/" + prefix + "model.txt" + sas, token=False)
        self.assertEqual(b, b"weights 0.5\n")
        # Second submit of the same code: found by hash, no blob upload.
        n = len(srv.requests_log())
        code2, uploaded2 = srv.upload_code("train-src", {"train.py": TRAIN}, version="2")
        self.assertFalse(uploaded2)
        self.assertEqual(code2, code_id)
        after = srv.requests_log()[n:]
        self.assertEqual([r for r in after if r["method"] == "PUT" and r["path"].startswith("/amlopslocal/")], [])
        # Jobs list with a tag filter and paging fields.
        s, _, lst = srv.arm("GET", "/jobs", query="&tag=team")
        self.assertEqual([j["name"] for j in lst["value"]], ["job-train-1"])

    def test_failing_script(self):
        srv = self.srv
        srv.put_job("job-fail", {"jobType": "Command", "command": "echo starting; echo 'boom: bad input' >&2; exit 3"})
        self.assertEqual(srv.wait("job-fail"), "Failed")
        log = srv.log("job-fail")
        self.assertIn("starting", log)
        self.assertIn("boom: bad input", log)
        d = srv.history("job-fail")
        self.assertEqual(d["status"], "Failed")
        self.assertIn("exited with status code 3", d["error"]["error"]["message"])
        self.assertIn("boom: bad input", d["error"]["error"]["message"])
        s, _, run = srv.mlflow("GET", "runs/get", query="?run_id=job-fail")
        self.assertEqual(run["run"]["info"]["status"], "FAILED")

    def test_unknown_reference_fails_clearly(self):
        srv = self.srv
        srv.put_job("job-badref", {"jobType": "Command", "command": "echo ${{inputs.missing}}"})
        self.assertEqual(srv.wait("job-badref"), "Failed")
        self.assertIn("inputs.missing", srv.history("job-badref")["error"]["error"]["message"])

    def test_live_log_with_range(self):
        srv = self.srv
        srv.put_job("job-live", {"jobType": "Command", "command": "echo line-one; sleep 2; echo line-two"})
        url = None
        end = time.time() + 20
        while time.time() < end and not url:
            url = srv.history("job-live")["logFiles"].get("user_logs/std_log.txt")
            time.sleep(0.1)
        while time.time() < end:
            s, _, b = srv.raw("GET", url, token=False)
            if b"line-one" in b:
                break
            time.sleep(0.1)
        self.assertNotIn(b"line-two", b)
        self.assertEqual(srv.wait("job-live"), "Completed")
        s, h, b = srv.raw("GET", url, headers={"Range": "bytes=9-"}, token=False)
        self.assertEqual(s, 206)
        self.assertEqual(b, b"line-two\n")
        self.assertTrue(h["content-range"].startswith("bytes 9-17/18"))


class CancelAndTimeout(Base):
    def test_cancel_kills_the_process_tree(self):
        srv = self.srv
        srv.put_job("job-cancel", {"jobType": "Command", "command": "sleep 300 & echo $! > child.pid; echo started; wait"})
        end = time.time() + 20
        while time.time() < end:
            if "started" in srv.log("job-cancel"):
                break
            time.sleep(0.1)
        wd = os.path.join(srv.data, "jobs", "local", "job-cancel", "wd")
        pid = int(read(os.path.join(wd, "child.pid")))
        self.assertTrue(alive(pid))
        s, h, _ = srv.arm("POST", "/jobs/job-cancel/cancel")
        self.assertEqual(s, 202)
        self.assertIn("location", h)
        self.assertEqual(srv.wait("job-cancel", 20), "Canceled")
        time.sleep(0.3)
        self.assertFalse(alive(pid), "the grandchild survived the cancel")
        s, _, _ = srv.call("GET", h["location"])
        self.assertEqual(s, 200)

    def test_timeout(self):
        srv = self.srv
        t0 = time.time()
        srv.put_job("job-timeout", {"jobType": "Command", "command": "sleep 60", "limits": {"jobLimitsType": "Command", "timeout": "PT1S"}})
        self.assertEqual(srv.wait("job-timeout", 30), "Failed")
        self.assertLess(time.time() - t0, 15)
        d = srv.history("job-timeout")
        self.assertEqual(d["error"]["error"]["code"], "JobTimeout")
        self.assertIn("PT1S", d["error"]["error"]["message"])


STEP = r'''
import os, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
open(os.path.join(out, "part.txt"), "w").write(sys.argv[2] + "\n")
'''
MERGE = r'''
import os, sys
a, b, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)
text = open(os.path.join(a, "part.txt")).read() + open(os.path.join(b, "part.txt")).read()
open(os.path.join(out, "merged.txt"), "w").write(text)
'''


class Pipelines(Base):
    def test_three_step_pipeline_with_fan_in(self):
        srv = self.srv
        code_id, _ = srv.upload_code("pipe-src", {"step.py": STEP, "merge.py": MERGE})
        comps = {}
        for step, cmd, ins, outs in [
            ("a", PY + " step.py ${{outputs.out}} ${{inputs.word}}", {"word": {"type": "string"}}, {"out": {"type": "uri_folder"}}),
            ("b", PY + " step.py ${{outputs.out}} ${{inputs.word}}", {"word": {"type": "string", "default": "world"}}, {"out": {"type": "uri_folder"}}),
            ("c", PY + " merge.py ${{inputs.left}} ${{inputs.right}} ${{outputs.merged}}", {"left": {"type": "uri_folder"}, "right": {"type": "uri_folder"}},
             {"merged": {"type": "uri_folder"}}),
        ]:
            body = {"properties": {"isAnonymous": True, "componentSpec": {
                "name": "azureml_anonymous", "version": "1", "type": "command", "command": cmd,
                "code": "azureml:" + code_id, "environment": "azureml:local-env:1", "inputs": ins, "outputs": outs}}}
            s, _, c = srv.arm("PUT", "/components/azureml_anonymous/versions/%s" % step, body)
            self.assertEqual(s, 201, c)
            comps[step] = c["id"]
        props = {
            "jobType": "Pipeline", "experimentName": "pipes",
            "inputs": {"greeting": {"jobInputType": "literal", "value": "hello"}},
            "outputs": {"final": {"jobOutputType": "uri_folder", "mode": "ReadWriteMount"}},
            "settings": {"default_compute": None, "continue_on_step_failure": False},
            "jobs": {
                "a": {"type": "command", "name": "a", "componentId": comps["a"],
                      "inputs": {"word": {"job_input_type": "literal", "value": "${{parent.inputs.greeting}}"}},
                      "outputs": {"out": {"job_output_type": "uri_folder", "mode": "ReadWriteMount"}}, "_source": "YAML.JOB"},
                "b": {"type": "command", "name": "b", "componentId": comps["b"], "inputs": {},
                      "outputs": {"out": {"job_output_type": "uri_folder"}}},
                "c": {"type": "command", "name": "c", "componentId": comps["c"],
                      "inputs": {"left": {"job_input_type": "literal", "value": "${{parent.jobs.a.outputs.out}}"},
                                 "right": {"job_input_type": "literal", "value": "${{parent.jobs.b.outputs.out}}"}},
                      "outputs": {"merged": {"type": "literal", "value": "${{parent.outputs.final}}"}}},
            },
        }
        srv.put_job("pipe-1", props)
        self.assertEqual(srv.wait("pipe-1", 90), "Completed", srv.history("pipe-1"))
        kids = srv.history("pipe-1", "children")["value"]
        self.assertEqual(sorted(k["runId"] for k in kids), ["pipe-1_a", "pipe-1_b", "pipe-1_c"])
        self.assertTrue(all(k["status"] == "Completed" for k in kids))
        # c ran after both a and b.
        starts = {k["runId"]: k["startTimeUtc"] for k in kids}
        ends = {k["runId"]: k["endTimeUtc"] for k in kids}
        self.assertGreaterEqual(starts["pipe-1_c"], max(ends["pipe-1_a"], ends["pipe-1_b"]))
        s, _, job = srv.arm("GET", "/jobs/pipe-1")
        final = job["properties"]["outputs"]["final"]["uri"]
        container, sas = srv.datastore_sas()
        s, _, b = srv.raw("GET", container + "/" + final.split("/paths/", 1)[1].rstrip("/") + "/merged.txt" + sas, token=False)
        self.assertEqual(b, b"hello\nworld\n")
        s, _, child = srv.arm("GET", "/jobs/pipe-1_c")
        self.assertEqual(child["properties"]["parentJobName"], "pipe-1")

    def test_steps_run_in_parallel_up_to_the_limit(self):
        srv = self.srv
        jobs = {"s%d" % i: {"type": "command", "command": "sleep 0.6"} for i in range(4)}
        srv.put_job("pipe-par", {"jobType": "Pipeline", "settings": {"max_concurrency": 2}, "jobs": jobs})
        self.assertEqual(srv.wait("pipe-par", 60), "Completed")
        kids = srv.history("pipe-par", "children")["value"]
        spans = [(k["startTimeUtc"], k["endTimeUtc"]) for k in kids]
        overlap = max(sum(1 for (s2, e2) in spans if s2 <= s1 < e2) for (s1, _) in spans)
        self.assertEqual(overlap, 2)

    def test_failed_step_fails_the_pipeline(self):
        srv = self.srv
        props = {"jobType": "Pipeline", "jobs": {
            "bad": {"type": "command", "command": "exit 2", "outputs": {"o": {"job_output_type": "uri_folder"}}},
            "after": {"type": "command", "command": "echo never", "inputs": {"x": {"job_input_type": "literal", "value": "${{parent.jobs.bad.outputs.o}}"}}}}}
        srv.put_job("pipe-bad", props)
        self.assertEqual(srv.wait("pipe-bad", 30), "Failed")
        kids = srv.history("pipe-bad", "children")["value"]
        self.assertEqual([k["runId"] for k in kids], ["pipe-bad_bad"])

    def test_cycle_is_refused(self):
        srv = self.srv
        props = {"jobType": "Pipeline", "jobs": {
            "x": {"type": "command", "command": "true", "inputs": {"i": {"job_input_type": "literal", "value": "${{parent.jobs.y.outputs.o}}"}}},
            "y": {"type": "command", "command": "true", "inputs": {"i": {"job_input_type": "literal", "value": "${{parent.jobs.x.outputs.o}}"}}}}}
        srv.put_job("pipe-cycle", props)
        self.assertEqual(srv.wait("pipe-cycle", 30), "Failed")
        self.assertIn("cycle", srv.history("pipe-cycle")["error"]["error"]["message"])

    def test_step_name_cannot_climb_out_of_the_data_directory(self):
        # A step's child job is <pipeline>_<step>: its directories would be DATA/jobs/local/pipe_../../..
        srv = self.srv
        outside = tempfile.mkdtemp(prefix="amlops-local-outside-")
        try:
            step = "../" * 8 + outside.lstrip("/")
            props = {"jobType": "Pipeline", "jobs": {step: {"type": "command", "command": "echo ran > marker"}}}
            srv.put_job("pipe-escape", props)
            self.assertEqual(srv.wait("pipe-escape", 30), "Failed")
            self.assertIn("step name", srv.history("pipe-escape")["error"]["error"]["message"])
            self.assertEqual(os.listdir(outside), [])
        finally:
            shutil.rmtree(outside, ignore_errors=True)


TRIAL = MLFLOW_LOGGER + r'''
lr = float(sys.argv[1]); batch = int(sys.argv[2])
log_metric("val_acc", 1.0 - abs(lr - 0.2) - batch / 1000.0)
'''


class Sweeps(Base):
    def test_grid_sweep(self):
        srv = self.srv
        code_id, _ = srv.upload_code("sweep-src", {"trial.py": TRIAL})
        props = {
            "jobType": "Sweep", "experimentName": "sweeps",
            "samplingAlgorithm": {"samplingAlgorithmType": "Grid"},
            "searchSpace": {"lr": ["choice", [[0.1, 0.2, 0.3]]], "batch": ["choice", [[16, 32]]]},
            "objective": {"primaryMetric": "val_acc", "goal": "Maximize"},
            "limits": {"jobLimitsType": "Sweep", "maxTotalTrials": 6, "maxConcurrentTrials": 2},
            "trial": {"codeId": code_id, "command": PY + " trial.py ${{search_space.lr}} ${{search_space.batch}}",
                      "environmentId": "azureml:local-env:1"},
        }
        srv.put_job("sweep-1", props)
        self.assertEqual(srv.wait("sweep-1", 120), "Completed")
        kids = srv.history("sweep-1", "children")["value"]
        self.assertEqual(len(kids), 6)
        s, _, job = srv.arm("GET", "/jobs/sweep-1")
        best = job["properties"]["properties"]["best_child_run_id"]
        s, _, run = srv.mlflow("GET", "runs/get", query="?run_id=" + best)
        params = {p["key"]: p["value"] for p in run["run"]["data"]["params"]}
        self.assertEqual(params, {"batch": "16", "lr": "0.2"})
        self.assertAlmostEqual(float(job["properties"]["properties"]["score"]), 1.0 - 0.016)
        # Never more than 2 trials at once.
        spans = sorted((k["startTimeUtc"], k["endTimeUtc"]) for k in kids)
        for i, (start, _) in enumerate(spans):
            overlapping = sum(1 for (s2, e2) in spans if s2 <= start < e2)
            self.assertLessEqual(overlapping, 2)


TRIAL_OUT = MLFLOW_LOGGER + r'''
lr = float(sys.argv[1])
os.makedirs(sys.argv[2], exist_ok=True)
open(os.path.join(sys.argv[2], "lr.txt"), "w").write("%s\n" % lr)
log_metric("val_acc", 1.0 - abs(lr - 0.2))
'''
WRITE_REF = "mkdir -p ${{outputs.ref}}/sub && echo run-%s > ${{outputs.ref}}/a.txt && echo b > ${{outputs.ref}}/sub/b.txt"


class OutputAssets(Base):
    """Outputs with assetName become asset versions when their job completes (as Azure ML registers them)."""

    def versions(self, kind, name):
        s, _, lst = self.srv.arm("GET", "/%s/%s/versions" % (kind, name), query="&%24orderBy=createdtime%20asc")
        self.assertEqual(s, 200, lst)
        return lst["value"]

    def blobs(self, data_uri):
        container, sas = self.srv.datastore_sas()
        prefix = data_uri.split("/paths/", 1)[1]
        s, _, listing = self.srv.raw("GET", container + sas + "&restype=container&comp=list&prefix=" + urllib.parse.quote(prefix), token=False)
        self.assertEqual(s, 200)
        import xml.etree.ElementTree as ET
        return sorted(n.text[len(prefix):] for n in ET.fromstring(listing).iter("Name"))

    def test_command_outputs_registered_with_increasing_versions(self):
        srv = self.srv
        out = {"ref": {"jobOutputType": "uri_folder", "assetName": "churn-reference"}}
        srv.put_job("ref-1", {"jobType": "Command", "command": WRITE_REF % 1, "outputs": out})
        self.assertEqual(srv.wait("ref-1"), "Completed", srv.log("ref-1"))
        s, _, job = srv.arm("GET", "/jobs/ref-1")
        self.assertEqual(job["properties"]["outputs"]["ref"]["assetName"], "churn-reference")
        [v1] = self.versions("data", "churn-reference")
        self.assertEqual(v1["name"], "1")
        self.assertEqual(v1["properties"]["dataType"], "uri_folder")
        self.assertEqual(v1["properties"]["dataUri"], job["properties"]["outputs"]["ref"]["uri"])
        self.assertEqual(v1["properties"]["properties"]["azureml.jobName"], "ref-1")
        self.assertEqual(v1["properties"]["properties"]["azureml.jobOutputName"], "ref")
        self.assertIn("ref-1", v1["properties"]["description"])
        self.assertEqual(self.blobs(v1["properties"]["dataUri"]), ["a.txt", "sub/b.txt"])
        self.assertIn("registered as data asset churn-reference:1", srv.log("ref-1"))
        # The next run is the next version; azureml:NAME@latest reads it.
        srv.put_job("ref-2", {"jobType": "Command", "command": WRITE_REF % 2, "outputs": out})
        self.assertEqual(srv.wait("ref-2"), "Completed", srv.log("ref-2"))
        self.assertEqual([v["name"] for v in self.versions("data", "churn-reference")], ["1", "2"])
        s, _, cont = srv.arm("GET", "/data/churn-reference")
        self.assertEqual(cont["properties"]["latestVersion"], "2")
        srv.put_job("use-latest", {"jobType": "Command", "command": "cat ${{inputs.r}}/a.txt",
                                   "inputs": {"r": {"jobInputType": "uri_folder", "uri": "azureml:churn-reference@latest"}}})
        self.assertEqual(srv.wait("use-latest"), "Completed", srv.log("use-latest"))
        self.assertIn("run-2", srv.log("use-latest"))
        # A failed or canceled job registers nothing.
        srv.put_job("ref-fail", {"jobType": "Command", "command": (WRITE_REF % 3) + " && exit 4", "outputs": out})
        self.assertEqual(srv.wait("ref-fail"), "Failed")
        srv.put_job("ref-cancel", {"jobType": "Command", "command": (WRITE_REF % 4) + " && sleep 30", "outputs": out})
        time.sleep(0.5)
        srv.arm("POST", "/jobs/ref-cancel/cancel")
        self.assertEqual(srv.wait("ref-cancel"), "Canceled")
        self.assertEqual([v["name"] for v in self.versions("data", "churn-reference")], ["1", "2"])

    def test_pinned_version_types_and_a_clash(self):
        srv = self.srv
        outs = {"ref": {"jobOutputType": "uri_folder", "assetName": "pinned", "assetVersion": "2024.1"},
                "f": {"jobOutputType": "uri_file", "assetName": "one-file"},
                "m": {"jobOutputType": "custom_model", "assetName": "out-model"}}
        cmd = (WRITE_REF % 1) + " && echo f > ${{outputs.f}} && mkdir -p ${{outputs.m}} && echo w > ${{outputs.m}}/w.pkl"
        srv.put_job("pin-1", {"jobType": "Command", "command": cmd, "outputs": outs})
        self.assertEqual(srv.wait("pin-1"), "Completed", srv.log("pin-1"))
        [p] = self.versions("data", "pinned")
        self.assertEqual(p["name"], "2024.1")
        [f] = self.versions("data", "one-file")
        self.assertEqual(f["properties"]["dataType"], "uri_file")
        s, _, job = srv.arm("GET", "/jobs/pin-1")
        self.assertEqual(f["properties"]["dataUri"], job["properties"]["outputs"]["f"]["uri"])
        s, _, b = srv.raw("GET", srv.datastore_sas()[0] + "/" + f["properties"]["dataUri"].split("/paths/", 1)[1] + srv.datastore_sas()[1], token=False)
        self.assertEqual(b, b"f\n")
        [m] = self.versions("models", "out-model")
        self.assertEqual((m["name"], m["properties"]["modelType"]), ("1", "custom_model"))
        self.assertEqual(self.blobs(m["properties"]["modelUri"]), ["w.pkl"])
        # The same pinned version again: the job completes, the version stays the first job's.
        srv.put_job("pin-2", {"jobType": "Command", "command": cmd, "outputs": outs})
        self.assertEqual(srv.wait("pin-2"), "Completed", srv.log("pin-2"))
        [p2] = self.versions("data", "pinned")
        self.assertEqual(p2["properties"]["properties"]["azureml.jobName"], "pin-1")
        self.assertIn("output 'ref' was not registered as data asset pinned:2024.1: version 2024.1 already exists",
                      srv.log("pin-2"))
        self.assertEqual([v["name"] for v in self.versions("data", "one-file")], ["1", "2"])

    def test_pipeline_and_sweep_outputs(self):
        srv = self.srv
        step = {"type": "command", "command": "mkdir -p ${{outputs.out}} && echo p > ${{outputs.out}}/p.txt",
                "outputs": {"out": {"type": "literal", "value": "${{parent.outputs.final}}"}}}
        props = {"jobType": "Pipeline", "outputs": {"final": {"jobOutputType": "uri_folder", "assetName": "pipe-out"}},
                 "jobs": {"make": step}}
        srv.put_job("pipe-ok", props)
        self.assertEqual(srv.wait("pipe-ok", 90), "Completed")
        [v] = self.versions("data", "pipe-out")
        s, _, job = srv.arm("GET", "/jobs/pipe-ok")
        self.assertEqual(v["properties"]["dataUri"], job["properties"]["outputs"]["final"]["uri"])
        self.assertEqual(v["properties"]["properties"]["azureml.jobName"], "pipe-ok")
        self.assertEqual(self.blobs(v["properties"]["dataUri"]), ["p.txt"])
        bad = json.loads(json.dumps(props))
        bad["jobs"]["make"]["command"] += " && exit 1"
        srv.put_job("pipe-bad", bad)
        self.assertEqual(srv.wait("pipe-bad", 90), "Failed")
        srv.put_job("pipe-ok2", props)
        self.assertEqual(srv.wait("pipe-ok2", 90), "Completed")
        self.assertEqual([v["name"] for v in self.versions("data", "pipe-out")], ["1", "2"])
        # A sweep's named output is its best trial's.
        code_id, _ = srv.upload_code("sweep-out-src", {"trial.py": TRIAL_OUT})
        srv.put_job("sweep-out", {
            "jobType": "Sweep", "samplingAlgorithm": {"samplingAlgorithmType": "Grid"},
            "searchSpace": {"lr": ["choice", [[0.1, 0.2, 0.3]]]},
            "objective": {"primaryMetric": "val_acc", "goal": "Maximize"},
            "limits": {"jobLimitsType": "Sweep", "maxTotalTrials": 3, "maxConcurrentTrials": 3},
            "outputs": {"best": {"jobOutputType": "uri_folder", "assetName": "sweep-best"}},
            "trial": {"codeId": code_id, "command": PY + " trial.py ${{search_space.lr}} ${{outputs.best}}",
                      "environmentId": "azureml:local-env:1"}})
        self.assertEqual(srv.wait("sweep-out", 120), "Completed")
        [v] = self.versions("data", "sweep-best")
        container, sas = srv.datastore_sas()
        s, _, b = srv.raw("GET", container + "/" + v["properties"]["dataUri"].split("/paths/", 1)[1] + "lr.txt" + sas, token=False)
        self.assertEqual(b, b"0.2\n")


class Models(Base):
    def test_model_from_job_output_listed_by_tag_and_published(self):
        srv = self.srv
        code_id, _ = srv.upload_code("model-src", {"train.py": TRAIN})
        container, sas = srv.datastore_sas()
        srv.raw("PUT", container + "/d/data.txt" + sas, b"1\n", {"x-ms-blob-type": "BlockBlob"}, token=False)
        srv.put_job("job-model", {"jobType": "Command", "codeId": code_id,
                                  "command": PY + " train.py --lr 0.1 --label a --data ${{inputs.d}} --out ${{outputs.o}}",
                                  "inputs": {"d": {"jobInputType": "uri_file", "uri": "azureml://datastores/workspaceblobstore/paths/d/data.txt"}},
                                  "outputs": {"o": {"jobOutputType": "uri_folder"}}})
        self.assertEqual(srv.wait("job-model"), "Completed", srv.log("job-model"))
        s, _, m = srv.arm("PUT", "/models/fraud/versions/1", {"properties": {
            "modelType": "custom_model", "modelUri": "azureml://jobs/job-model/outputs/artifacts/paths/outputs/model/",
            "tags": {"stage": "candidate", "git_sha": "abc"}, "properties": {"auc": "0.91"}, "jobName": "job-model"}})
        self.assertEqual(s, 201, m)
        s, _, m2 = srv.arm("PUT", "/models/fraud/versions/2", {"properties": {
            "modelType": "custom_model", "modelUri": "azureml://jobs/job-model/outputs/o", "tags": {"stage": "archived"}}})
        self.assertEqual(s, 201, m2)
        s, _, bad = srv.arm("PUT", "/models/fraud/versions/3", {"properties": {"modelUri": "azureml://jobs/no-such-job/outputs/o"}})
        self.assertEqual(s, 400)
        s, _, lst = srv.arm("GET", "/models/fraud/versions", query="&tags=stage=candidate")
        self.assertEqual([v["name"] for v in lst["value"]], ["1"])
        s, _, lst = srv.arm("GET", "/models/fraud/versions", query="&tags=git_sha&properties=auc=0.91")
        self.assertEqual([v["name"] for v in lst["value"]], ["1"])
        s, _, lst = srv.arm("GET", "/models/fraud/versions", query="&%24orderBy=createdtime%20desc&%24top=1")
        self.assertEqual([v["name"] for v in lst["value"]], ["2"])
        s, _, cont = srv.arm("GET", "/models/fraud")
        self.assertEqual(cont["properties"]["latestVersion"], "2")
        self.assertEqual(cont["properties"]["nextVersion"], "3")
        # Immutable versions.
        s, _, e = srv.arm("PUT", "/models/fraud/versions/1", {"properties": {"modelUri": "azureml://jobs/job-model/outputs/o"}})
        self.assertEqual(s, 409)
        # Publish to the registry: 202 + Location, then the registry has the files.
        s, h, _ = srv.arm("POST", "/models/fraud/versions/1/publish", {"destinationName": "fraud", "destinationVersion": "1", "registryName": "local-registry"})
        self.assertEqual(s, 202)
        s, _, done = srv.call("GET", h["location"])
        self.assertEqual(s, 200)
        reg = self.srv.ws_id.split("/workspaces/")[0] + "/registries/local-registry"
        s, _, rv = srv.call("GET", reg + "/models/fraud/versions/1?api-version=" + API)
        self.assertEqual(s, 200, rv)
        self.assertEqual(rv["properties"]["tags"]["stage"], "candidate")
        uri = rv["properties"]["modelUri"]
        # Blob storage takes a storage token, not the ARM one.
        s, _, b = srv.call("GET", uri.rstrip("/") + "/model.pkl", token=True)
        self.assertEqual(s, 401)
        storage = srv.get_token(scope="https://storage.azure.com/.default")
        s, _, b = srv.call("GET", uri.rstrip("/") + "/model.pkl", headers={"Authorization": "Bearer " + storage})
        self.assertEqual(s, 200)
        # Model and data assets as job inputs.
        s, _, _ = srv.arm("PUT", "/data/d/versions/1", {"properties": {"dataType": "uri_file", "dataUri": "azureml://datastores/workspaceblobstore/paths/d/data.txt"}})
        self.assertEqual(s, 201)
        srv.put_job("job-assets", {"jobType": "Command", "command": "ls ${{inputs.m}}; cat ${{inputs.d}}",
                                   "inputs": {"m": {"jobInputType": "custom_model", "uri": "azureml:fraud:1"},
                                              "d": {"jobInputType": "uri_file", "uri": "azureml:d@latest"}}})
        self.assertEqual(srv.wait("job-assets"), "Completed", srv.log("job-assets"))
        self.assertIn("model.pkl", srv.log("job-assets"))


class Restart(Base):
    def test_kill9_and_restart(self):
        srv = self.srv
        srv.put_job("done-1", {"jobType": "Command", "command": "mkdir -p outputs && echo kept > outputs/f.txt"})
        self.assertEqual(srv.wait("done-1"), "Completed")
        srv.arm("PUT", "/models/m/versions/1", {"properties": {"modelUri": "azureml://jobs/done-1/outputs/artifacts/paths/outputs/", "tags": {"t": "1"}}})
        container, sas = srv.datastore_sas()
        big = os.urandom(300000)
        blocks = [big[:150000], big[150000:]]
        ids = [base64.b64encode(b"%04d" % i).decode() for i in range(2)]
        for bid, chunk in zip(ids, blocks):
            s, _, _ = srv.raw("PUT", container + "/big.bin" + sas + "&comp=block&blockid=" + urllib.parse.quote(bid), chunk, token=False)
            self.assertEqual(s, 201)
        xml = "<?xml version='1.0' encoding='utf-8'?><BlockList>" + "".join("<Latest>%s</Latest>" % i for i in ids) + "</BlockList>"
        s, _, _ = srv.raw("PUT", container + "/big.bin" + sas + "&comp=blocklist", xml, {"x-ms-meta-upload_status": "completed"}, token=False)
        self.assertEqual(s, 201)
        srv.put_job("running-1", {"jobType": "Command", "command": "echo $$ > pid.txt; sleep 300"})
        end = time.time() + 20
        while time.time() < end and srv.arm("GET", "/jobs/running-1")[2]["properties"]["status"] != "Running":
            time.sleep(0.1)
        time.sleep(0.3)
        pid = int(read(os.path.join(srv.data, "jobs", "local", "running-1", "wd", "pid.txt")))
        self.assertTrue(alive(pid))
        srv.kill9()
        srv.start()  # same data directory
        s, _, j = srv.arm("GET", "/jobs/done-1")
        self.assertEqual(j["properties"]["status"], "Completed")
        s, _, j = srv.arm("GET", "/jobs/running-1")
        self.assertEqual(j["properties"]["status"], "Failed")
        err = srv.history("running-1")["error"]["error"]["message"]
        self.assertIn("killed", err)
        s, _, m = srv.arm("GET", "/models/m/versions/1")
        self.assertEqual(m["properties"]["tags"], {"t": "1"})
        container, sas = srv.datastore_sas()
        s, h, b = srv.raw("GET", container + "/big.bin" + sas, token=False)
        self.assertEqual(b, big)
        self.assertEqual(h["x-ms-meta-upload_status"], "completed")
        time.sleep(0.2)
        self.assertFalse(alive(pid), "the orphaned job process survived the restart")

    def test_stale_server_json_names_no_process_to_stop(self):
        # After kill -9, server.json stays behind; its pid may by now be another program's.
        srv = self.srv
        srv.kill9()
        other = subprocess.Popen(["sleep", "60"])
        try:
            info = dict(srv.info, pid=other.pid)
            with open(os.path.join(srv.data, "server.json"), "w") as f:
                json.dump(info, f)
            st = subprocess.run([BIN, "status", "--data", srv.data], capture_output=True, text=True, timeout=60)
            self.assertEqual(st.returncode, 1, st.stdout + st.stderr)
            subprocess.run([BIN, "stop", "--data", srv.data], capture_output=True, timeout=60)
            time.sleep(0.2)
            self.assertIsNone(other.poll(), "amlops-local stop signalled an unrelated process")
            srv.start()  # --daemon does not take the stale file for a running server
            self.assertNotEqual(srv.info["pid"], other.pid)
        finally:
            other.kill()
            other.wait()


class Auth(Base):
    extra = ("--token-lifetime", "2s")

    def test_tokens(self):
        srv = self.srv
        s, h, j = srv.arm("GET", "")
        self.assertEqual(s, 200)
        s, h, j = srv.call("GET", srv.ws_id + "?api-version=" + API, token=False)
        self.assertEqual(s, 401)
        self.assertEqual(j["error"]["code"], "AuthenticationFailed")
        self.assertIn("www-authenticate", h)
        s, h, j = srv.call("GET", srv.ws_id + "?api-version=" + API, headers={"Authorization": "Bearer abc.def.ghi"})
        self.assertEqual((s, j["error"]["code"]), (401, "InvalidAuthenticationToken"))
        old = srv.token
        time.sleep(2.5)
        s, h, j = srv.call("GET", srv.ws_id + "?api-version=" + API, headers={"Authorization": "Bearer " + old})
        self.assertEqual((s, j["error"]["code"]), (401, "ExpiredAuthenticationToken"))
        self.assertEqual(srv.get_token(secret="wrong")[0], 401)
        self.assertEqual(srv.get_token(tenant="00000000-0000-0000-0000-000000000000")[0], 400)
        # MLflow, history and blob need a credential too.
        s, _, _ = srv.call("GET", srv.base + "/mlflow/v1.0" + srv.ws_id + "/api/2.0/mlflow/experiments/get-by-name?experiment_name=x", token=False)
        self.assertEqual(s, 401)
        s, _, _ = srv.raw("GET", srv.base + "/amlopslocal/azureml?restype=container&comp=list", token=False)
        self.assertEqual(s, 401)

    def test_unauthenticated_upload_is_refused_before_its_body(self):
        # Three 500 MB PUTs without a credential: each is answered 401 from its headers alone (the
        # body is never sent), and the server's memory does not grow by the bodies.
        import socket
        srv = self.srv
        host, port = srv.base[len("http://"):].rsplit(":", 1)
        pid = srv.info["pid"]

        def rss_kb():
            with open("/proc/%d/status" % pid) as f:
                return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        before = rss_kb()
        targets = [srv.ws_id + "/codes/c/versions/1?api-version=" + API,          # ARM, no token
                   "/amlopslocal/azureml/big.bin",                                # blob, no credential
                   srv.ws_id + "/codes/c/versions/2?api-version=" + API]
        for i, target in enumerate(targets):
            auth = "Authorization: Bearer not.a.token\r\n" if i == 2 else ""
            with socket.create_connection((host.strip("[]"), int(port)), timeout=20) as sock:
                sock.sendall(("PUT %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n%s"
                              "Content-Length: %d\r\n\r\n" % (target, auth, 500 * 1024 * 1024)).encode())
                sock.sendall(b"x" * 65536)  # a little of the body, far from all of it
                reply = sock.recv(4096).decode("latin-1")
            self.assertTrue(reply.startswith("HTTP/1.1 401"), reply[:200])
        self.assertLess(rss_kb() - before, 100 * 1024, "the server buffered unauthenticated bodies")
        # Authenticated requests still work afterwards.
        self.assertEqual(srv.arm("GET", "")[0], 200)

    def test_client_assertion(self):
        srv = self.srv

        def jwt(payload):
            enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
            return enc({"alg": "RS256", "typ": "JWT"}) + "." + enc(payload) + ".c2ln"
        now = int(time.time())
        good = jwt({"aud": "api://AzureADTokenExchange", "iss": "https://token.actions.githubusercontent.com", "sub": "repo:o/r:ref:refs/heads/main", "exp": now + 300})
        self.assertIsInstance(srv.get_token(assertion=good), str)
        self.assertEqual(srv.get_token(assertion=jwt({"aud": "other", "exp": now + 300}))[0], 400)
        self.assertEqual(srv.get_token(assertion=jwt({"aud": "api://AzureADTokenExchange", "exp": now - 10}))[0], 400)
        self.assertEqual(srv.get_token(assertion="not-a-jwt")[0], 400)


class Safety(Base):
    extra = ("--page-size", "2")

    def test_path_traversal_refused(self):
        srv = self.srv
        conn = http.client.HTTPConnection("127.0.0.1", srv.info["port"], timeout=10)
        self.addCleanup(conn.close)

        def raw_path(method, path, body=None, headers=None):
            h = {"Authorization": "Bearer " + srv.token}
            h.update(headers or {})
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return r.status, r.read()
        ws = srv.ws_id
        for path in [ws + "/jobs/..%2F..%2Fetc?api-version=" + API, ws + "/models/%2E%2E/versions/1?api-version=" + API,
                     ws + "/codes/a/versions/..?api-version=" + API]:
            s, b = raw_path("PUT", path, json.dumps({"properties": {"jobType": "Command", "command": "true"}}))
            self.assertEqual(s, 400, (path, b))
        container, sas = srv.datastore_sas()
        cpath = urllib.parse.urlparse(container).path
        for blob in ["../../../etc/passwd", "..%2F..%2Fescape.txt", "a/./b", "a/../../b"]:
            s, b = raw_path("PUT", cpath + "/" + blob + sas, b"x", {"x-ms-blob-type": "BlockBlob"})
            self.assertEqual(s, 400, (blob, b))
        self.assertFalse(os.path.exists(os.path.join(srv.data, "escape.txt")))
        self.assertFalse(os.path.exists(os.path.join(srv.data, "blobs", "escape.txt")))
        # A datastore path that climbs out fails the job before it runs.
        srv.put_job("job-escape", {"jobType": "Command", "command": "cat ${{inputs.x}}",
                                   "inputs": {"x": {"jobInputType": "uri_file", "uri": "azureml://datastores/workspaceblobstore/paths/../../amlops-local.db"}}})
        self.assertEqual(srv.wait("job-escape"), "Failed")
        self.assertIn("not allowed", srv.history("job-escape")["error"]["error"]["message"])
        # A tampered SAS is refused.
        s, _, _ = srv.raw("GET", container + sas.replace("sp=racwdl", "sp=r") + "&restype=container&comp=list", token=False)
        self.assertEqual(s, 403)

    def test_input_values_never_run_as_shell_code(self):
        srv = self.srv
        marker = os.path.join(srv.data, "pwned")
        touch = "touch " + marker
        # One value holding every way out of a shell word; any of them running creates the marker.
        evil = ("a $(%s) `%s` '; %s; ' \"; %s && %s; \" } a[$(%s)] ))\nEOF\n%s\n#" %
                ((touch,) * 7))
        pf = "printf '%s\\n' "
        positions = {
            "plain": pf + "${{inputs.x}}",
            "dquoted": pf + "\"v=${{inputs.x}}\"",
            "squoted": pf + "'v=${{inputs.x}}'",
            "comment-apostrophe": "# don't split this\n" + pf + "${{inputs.x}}",
            "heredoc": "cat <<EOF\n${{inputs.x}}\nEOF",
            "heredoc-dash": "cat <<-EOF\n\t${{inputs.x}} it's\n\tEOF",
            "param-word": pf + "${PATH:+${{inputs.x}}}",
            "param-word-dq": pf + "\"${NOPE:-${{inputs.x}}}\"",
            "comment-placeholder": "echo start # ${{inputs.x}}\necho end",
            "cmdsub": pf + "\"$(printf '%s' ${{inputs.x}})\"",
            "backquotes": pf + "\"`printf '%s' ${{inputs.x}}`\"",
            "optional-block": pf + "$[[--x ${{inputs.x}}]] $[[--y ${{inputs.missing}}]]",
        }
        refused = {
            "arithmetic": ("echo $((1+${{inputs.x}}))", "is used inside $((...)) but its value is not an integer"),
            "arithmetic-param": ("echo $((1+${PATH:+${{inputs.x}}}))", "is used inside $((...))"),
            "quoted-heredoc": ("cat <<'EOF'\n${{inputs.x}}\nEOF", "here-document whose delimiter is quoted"),
        }
        jobs = {}
        for pos, command in list(positions.items()) + [(k, v[0]) for k, v in refused.items()]:
            name = "payload-" + pos
            srv.put_job(name, {"jobType": "Command", "command": command,
                               "inputs": {"x": {"jobInputType": "literal", "value": evil}}})
            jobs[name] = pos
        srv.put_job("payload-sweep", {
            "jobType": "Sweep", "samplingAlgorithm": {"samplingAlgorithmType": "Grid"},
            "searchSpace": {"x": ["choice", [[evil, "$(%s)" % touch]]]},
            "objective": {"primaryMetric": "m", "goal": "Maximize"},
            "limits": {"jobLimitsType": "Sweep", "maxTotalTrials": 2, "maxConcurrentTrials": 2},
            "trial": {"command": "# it's a trial\n" + pf + "${{search_space.x}} \"${{search_space.x}}\" '${{search_space.x}}'"}})
        for name, pos in jobs.items():
            status = srv.wait(name)
            if pos in refused:
                self.assertEqual(status, "Failed", name)
                self.assertIn(refused[pos][1], srv.history(name)["error"]["error"]["message"], name)
                continue
            self.assertEqual(status, "Completed", (name, srv.log(name)))
            log = srv.log(name)
            if pos == "comment-placeholder":
                self.assertEqual(log, "start\nend\n")
            elif pos == "heredoc-dash":
                self.assertIn(evil + " it's\n", log)
            else:
                self.assertIn(evil + "\n", log, name)
        self.assertIn(srv.wait("payload-sweep", 120), ("Completed", "Failed"))
        kids = srv.history("payload-sweep", "children")["value"]
        self.assertEqual(len(kids), 2)
        logs = []
        for k in kids:
            self.assertEqual(srv.wait(k["runId"]), "Completed")
            logs.append(srv.log(k["runId"]))
        for choice in (evil, "$(%s)" % touch):
            self.assertEqual(sum(1 for log in logs if log == (choice + "\n") * 3), 1, (choice, logs))
        self.assertFalse(os.path.exists(marker), "a payload in an input value ran")

    def test_api_versions_and_paging(self):
        srv = self.srv
        s, _, j = srv.arm("GET", "", api="2021-01-01")
        self.assertEqual((s, j["error"]["code"]), (400, "InvalidApiVersionParameter"))
        s, _, j = srv.call("GET", srv.ws_id)
        self.assertEqual((s, j["error"]["code"]), (400, "MissingApiVersionParameter"))
        for v in ("2022-10-01", "2024-10-01", "2025-12-01", "2025-01-01-preview", "2023-08-01-preview"):
            self.assertEqual(srv.arm("GET", "", api=v)[0], 200, v)
        for i in range(5):
            srv.arm("PUT", "/environments/env/versions/%d" % (i + 1), {"properties": {"image": "python:3.11"}})
        names, url = [], srv.ws_id + "/environments/env/versions?api-version=" + API
        while url:
            s, _, page = srv.call("GET", url)
            self.assertLessEqual(len(page["value"]), 2)
            names += [v["name"] for v in page["value"]]
            url = page.get("nextLink")
        self.assertEqual(names, ["5", "4", "3", "2", "1"])


class Private(unittest.TestCase):
    """What holds secrets is owner-only; IPv6 loopback gets a valid URL."""

    def test_server_json_store_and_data_folder_are_owner_only(self):
        parent = tempfile.mkdtemp(prefix="amlops-local-it-")
        self.addCleanup(shutil.rmtree, parent, True)
        srv = Local(data=os.path.join(parent, "data"))
        self.addCleanup(srv.cleanup)
        mode = lambda p: os.stat(os.path.join(srv.data, p)).st_mode & 0o777
        self.assertEqual(mode("."), 0o700)
        self.assertEqual(mode("server.json"), 0o600)
        self.assertEqual(mode("amlops-local.db"), 0o600)
        for extra in ("amlops-local.db-wal", "amlops-local.db-shm"):
            if os.path.exists(os.path.join(srv.data, extra)):
                self.assertEqual(mode(extra), 0o600, extra)

    def test_ipv6_loopback_prints_a_valid_url(self):
        import socket
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback on this host")
        srv = Local("--address", "::1")
        self.addCleanup(srv.cleanup)
        url = srv.info["url"]
        self.assertEqual(url, "http://[::1]:%d" % srv.info["port"])
        self.assertEqual(srv.base, url)
        parsed = urllib.parse.urlsplit(url)
        self.assertEqual((parsed.hostname, parsed.port), ("::1", srv.info["port"]))
        s, _, j = srv.arm("GET", "")
        self.assertEqual(s, 200, j)
        self.assertTrue(j["properties"]["discoveryUrl"].startswith(url + "/"))


class Environments(unittest.TestCase):
    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="amlops-local-it-")
        self.bin = os.path.join(self.data, "tools")
        os.makedirs(self.bin)
        with open(os.path.join(self.bin, "mytool"), "w") as f:
            f.write("#!/bin/sh\necho from-the-prefix\n")
        os.chmod(os.path.join(self.bin, "mytool"), 0o755)
        with open(os.path.join(self.data, "config.yml"), "w") as f:
            f.write("environments:\n  sklearn-env:\n    python: /usr/bin/python3\n  '*':\n    path: %s\n" % self.bin)
        self.srv = Local(data=self.data)

    def tearDown(self):
        self.srv.cleanup()

    def test_interpreter_per_environment(self):
        srv = self.srv
        srv.put_job("env-1", {"jobType": "Command", "environmentId": "azureml:sklearn-env:3",
                              "command": "python -c 'import sklearn, numpy; print(\"sklearn ok\")'"})
        srv.put_job("env-2", {"jobType": "Command", "environmentId": "/subscriptions/x/resourceGroups/y/providers/Microsoft.MachineLearningServices/workspaces/local/environments/other/versions/1",
                              "command": "mytool"})
        self.assertEqual(srv.wait("env-1"), "Completed", srv.log("env-1"))
        self.assertIn("sklearn ok", srv.log("env-1"))
        self.assertEqual(srv.wait("env-2"), "Completed", srv.log("env-2"))
        self.assertIn("from-the-prefix", srv.log("env-2"))

    def test_bad_config_and_remote_address_are_refused(self):
        other = tempfile.mkdtemp(prefix="amlops-local-it-")
        self.addCleanup(shutil.rmtree, other, True)
        out = subprocess.run([BIN, "serve", "--address", "0.0.0.0", "--data", other], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 2)
        self.assertIn("--allow-remote", out.stderr)
        with open(os.path.join(other, "config.yml"), "w") as f:
            f.write("environments:\n  e:\n    interpreter: /usr/bin/python3\n")
        out = subprocess.run([BIN, "serve", "--data", other], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 2)
        self.assertIn("config.yml:3:", out.stderr)
        out = subprocess.run([BIN, "status", "--data", self.data], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0)
        self.assertIn("running", out.stdout)


class PythonShims(unittest.TestCase):
    """No configuration, and a PATH with python3 but no python or pip (a pristine Debian 12)."""

    def setUp(self):
        self.data = tempfile.mkdtemp(prefix="amlops-local-it-")
        self.bin = os.path.join(self.data, "hostbin")
        os.makedirs(self.bin)
        os.symlink(PY, os.path.join(self.bin, "python3"))
        env = dict(os.environ, PATH=self.bin)
        self.srv = Local(data=os.path.join(self.data, "srv"), env=env)

    def tearDown(self):
        self.srv.cleanup()
        shutil.rmtree(self.data, ignore_errors=True)

    def test_python_and_pip_resolve_to_the_hosts_python3(self):
        srv = self.srv
        srv.put_job("py-1", {"jobType": "Command",
                             "command": "python -c 'import sys; print(\"python is\", sys.version_info[0])' && "
                                        "python3 -c 'print(\"python3 ok\")'; pip --version; pip3 --version; echo end"})
        self.assertEqual(srv.wait("py-1"), "Completed", srv.log("py-1"))
        log = srv.log("py-1")
        self.assertIn("python is 3", log)
        self.assertIn("python3 ok", log)
        self.assertNotIn("not found", log)
        # pip runs as `python3 -m pip`: its version line, or python's own complaint when the host
        # has no pip module; never the shell's "pip: not found".
        for _ in range(2):
            self.assertTrue("pip " in log or "No module named pip" in log, log)


class Setup(Base):
    """Computes bound concurrent jobs; schedules fire on the (advanced) clock; the request log."""

    def compute(self, name, max_nodes):
        s, h, j = self.srv.arm("PUT", "/computes/" + name, {"properties": {
            "computeType": "AmlCompute",
            "properties": {"vmSize": "Standard_DS3_v2", "scaleSettings": {"minNodeCount": 0, "maxNodeCount": max_nodes}}}})
        self.assertEqual(s, 201, j)
        self.assertIn("azure-asyncoperation", h)

    def test_max_nodes_bound_the_jobs_running_on_a_compute(self):
        srv = self.srv
        self.compute("one-node", 1)
        for i in range(3):
            srv.put_job("on-one-%d" % i, {"jobType": "Command", "command": "sleep 0.5", "computeId": "azureml:one-node"})
        # Jobs without a compute are not held back by it.
        srv.put_job("free", {"jobType": "Command", "command": "sleep 0.5"})
        # The compute shows its busy node while they run, never more than one.
        nodes = []
        for _ in range(200):
            _, _, c = srv.arm("GET", "/computes/one-node")
            nodes.append(c["properties"]["properties"]["currentNodeCount"])
            _, _, last = srv.arm("GET", "/jobs/on-one-2")
            if last["properties"]["status"] in ("Completed", "Failed", "Canceled"):
                break
            time.sleep(0.02)
        self.assertIn(1, nodes)
        self.assertLessEqual(max(nodes), 1)
        for i in range(3):
            self.assertEqual(srv.wait("on-one-%d" % i, 60), "Completed")
        self.assertEqual(srv.wait("free", 60), "Completed")
        spans = []
        for i in range(3):
            d = srv.history("on-one-%d" % i)
            spans.append((d["startTimeUtc"], d["endTimeUtc"]))
        overlap = max(sum(1 for (s2, e2) in spans if s2 <= s1 < e2) for (s1, _) in spans)
        self.assertEqual(overlap, 1, spans)
        # A compute that does not exist: the job is refused.
        s, _, j = srv.arm("PUT", "/jobs/nowhere", {"properties": {"jobType": "Command", "command": "true",
                                                                  "computeId": "azureml:missing"}})
        self.assertEqual(s, 400, j)
        self.assertIn("Compute missing not found", j["error"]["message"])

    def scheduled_jobs(self, name):
        s, _, j = self.srv.arm("GET", "/jobs", query="&properties=azureml.ScheduleName%3D" + name)
        self.assertEqual(s, 200, j)
        return j["value"]

    def test_schedule_one_minute_ahead_runs_its_job_and_disabling_stops_it(self):
        srv = self.srv
        # A cron expression naming one minute, five minutes ahead of the server's clock (real time
        # cannot reach it during the test, so only the advanced clock makes it fire).
        _, _, clock = srv.call("GET", "/_amlops/clock", token=False)
        now = datetime.datetime.fromisoformat(clock["now"].replace("Z", "+00:00"))
        at = (now + datetime.timedelta(minutes=5)).replace(second=0, microsecond=0)
        expression = "%d %d %d %d *" % (at.minute, at.hour, at.day, at.month)
        body = {"properties": {
            "displayName": "retrain",
            "isEnabled": True,
            "trigger": {"triggerType": "Cron", "expression": expression, "timeZone": "UTC"},
            "action": {"actionType": "CreateJob", "jobDefinition": {
                "jobType": "Command", "command": "echo scheduled run", "computeId": "azureml:cpu-cluster"}}}}
        s, h, j = srv.arm("PUT", "/schedules/retrain", body)
        self.assertEqual(s, 201, j)
        self.assertEqual(self.scheduled_jobs("retrain"), [])
        srv.call("POST", "/_amlops/clock", {"advance_seconds": 120}, token=False)
        self.assertEqual(self.scheduled_jobs("retrain"), [])  # not yet
        s, _, clock = srv.call("POST", "/_amlops/clock", {"advance_seconds": (at - now).total_seconds() - 119},
                               token=False)
        self.assertEqual(s, 200, clock)
        jobs = self.scheduled_jobs("retrain")
        self.assertEqual(len(jobs), 1)
        name = jobs[0]["name"]
        self.assertEqual(srv.wait(name, 60), "Completed")
        self.assertIn("scheduled run", srv.log(name))
        # Disabled: advancing the clock submits nothing more.
        body["properties"]["isEnabled"] = False
        s, _, j = srv.arm("PUT", "/schedules/retrain", body)
        self.assertEqual(s, 200, j)
        srv.call("POST", "/_amlops/clock", {"advance_seconds": 2 * 86400}, token=False)
        time.sleep(0.3)  # a runner tick
        self.assertEqual(len(self.scheduled_jobs("retrain")), 1)
        s, _, j = srv.arm("GET", "/schedules/retrain")
        self.assertFalse(j["properties"]["isEnabled"])

    def test_request_log_records_every_request_with_its_method(self):
        srv = self.srv
        start = len(srv.requests_log())
        srv.arm("GET", "/computes")
        self.compute("logged", 2)
        srv.arm("GET", "/computes/logged")
        srv.arm("DELETE", "/computes/logged")
        log = srv.requests_log()[start:]
        self.assertEqual([(r["method"], r["path"].split("/")[-1]) for r in log],
                         [("GET", "computes"), ("PUT", "logged"), ("GET", "logged"), ("DELETE", "logged")])
        self.assertEqual([r["status"] for r in log], [200, 201, 200, 202])


class Faults(Base):
    extra = ("--faults", "429=0.2,503=0.1,reset=0.1,slow=0.05", "--fault-seed", "7", "--slow-delay", "200ms")

    def test_faults_on_every_route(self):
        srv = self.srv
        counts = {}
        conn_errors = 0
        for i in range(200):
            try:
                s, h, _ = srv.raw("GET", srv.ws_id + "?api-version=" + API)
            except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
                conn_errors += 1
                continue
            counts[s] = counts.get(s, 0) + 1
            if s == 429:
                self.assertEqual(h.get("retry-after"), "1")
        self.assertGreater(counts.get(429, 0), 15)
        self.assertGreater(counts.get(503, 0), 5)
        self.assertGreater(conn_errors, 5)
        self.assertGreater(counts.get(200, 0), 80)
        log = srv.requests_log()
        kinds = {r.get("fault") for r in log}
        self.assertTrue({"429", "503", "reset", "slow"} <= kinds, kinds)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[1:])
