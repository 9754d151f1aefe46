#!/usr/bin/python3
"""Integration tests of amlops-local's online endpoints over HTTP only (urllib; no amlops client code).

The model is the starter project's churn classifier, trained here with templates/starter/src/train.py
(python3-sklearn), deployed with templates/starter/src/score.py. Run one group:
endpoints_it.py Scoring (CTest runs each group as its own test). AMLOPS_LOCAL_BIN names the binary.
"""
import collections
import csv
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from local_it import API, Local  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
STARTER = os.path.join(ROOT, "templates", "starter")
EXAMPLES = os.path.join(ROOT, "tests", "data", "aml-examples", "specification", "machinelearningservices",
                        "resource-manager", "Microsoft.MachineLearningServices", "stable", "2025-12-01", "examples")
MODEL_DIR = None  # trained once per process (setUpModule)
ROWS = []         # a few records of the training data, label removed

RAISING_SCORE = '''
def init():
    pass

def run(raw_data):
    raise ValueError("run() cannot score this")
'''
CRASHING_SCORE = '''
import sys
def init():
    print("loading the model...")
    raise RuntimeError("init() failed on purpose: no model here")

def run(raw_data):
    return {}
'''
SLOW_SCORE = '''
import json, time
def init():
    pass

def run(raw_data):
    time.sleep(json.loads(raw_data).get("sleep", 0))
    return {"ok": True}
'''


def setUpModule():
    global MODEL_DIR
    MODEL_DIR = tempfile.mkdtemp(prefix="amlops-endpoint-model-")
    env = dict(os.environ, MLFLOW_TRACKING_URI="")
    out = subprocess.run(["/usr/bin/python3", os.path.join(STARTER, "src", "train.py"), "--training_data",
                          os.path.join(STARTER, "data", "train"), "--model_output", MODEL_DIR],
                         capture_output=True, text=True, timeout=300, env=env, cwd=os.path.join(STARTER, "src"))
    if out.returncode != 0 or not os.path.exists(os.path.join(MODEL_DIR, "model.joblib")):
        raise RuntimeError("training the starter model failed:\n" + out.stdout + out.stderr)
    with open(os.path.join(STARTER, "data", "train", "churn.csv")) as f:
        for i, row in enumerate(csv.DictReader(f)):
            row.pop("churned")
            ROWS.append({k: (v if k in ("contract", "payment_method") else float(v)) for k, v in row.items()})
            if i >= 20:
                break


def tearDownModule():
    shutil.rmtree(MODEL_DIR, ignore_errors=True)


def starter_files():
    files = {}
    for name in ("score.py", "train.py", "tracking.py"):
        with open(os.path.join(STARTER, "src", name)) as f:
            files[name] = f.read()
    return files


class Base(unittest.TestCase):
    extra = ()

    def setUp(self):
        # Deployments run with Debian's python3 (scikit-learn), whatever python3 comes first on PATH.
        data = tempfile.mkdtemp(prefix="amlops-endpoints-it-")
        with open(os.path.join(data, "config.yml"), "w") as f:
            f.write("environments:\n  '*':\n    python: /usr/bin/python3\n")
        self.srv = Local(*self.extra, data=data)

    def tearDown(self):
        self.srv.cleanup()

    # --- helpers
    def register_model(self, name="churn", version="1"):
        srv = self.srv
        container, sas = srv.datastore_sas()
        for f in os.listdir(MODEL_DIR):
            path = os.path.join(MODEL_DIR, f)
            if not os.path.isfile(path):
                continue
            with open(path, "rb") as fh:
                s, _, b = srv.raw("PUT", "%s/models/%s/%s/model/%s%s" % (container, name, version, f, sas), fh.read(),
                                  {"x-ms-blob-type": "BlockBlob"}, token=False)
            self.assertEqual(s, 201, b)
        s, _, m = srv.arm("PUT", "/models/%s/versions/%s" % (name, version), {"properties": {
            "modelType": "custom_model",
            "modelUri": "azureml://datastores/workspaceblobstore/paths/models/%s/%s/model/" % (name, version)}})
        self.assertIn(s, (200, 201), m)
        return m["id"]

    def wait_op(self, headers, timeout=120):
        url = headers["azure-asyncoperation"]
        end = time.time() + timeout
        while time.time() < end:
            s, _, j = self.srv.call("GET", url)
            self.assertEqual(s, 200, j)
            if j["status"] not in ("InProgress", "Updating", "Running"):
                return j["status"]
            time.sleep(0.2)
        self.fail("operation did not finish: " + url)

    def wait_location(self, headers, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            s, _, j = self.srv.call("GET", headers["location"])
            if s != 202:
                return s
            time.sleep(0.2)
        self.fail("operation did not finish: " + headers["location"])

    def endpoint(self, name, auth="Key", traffic=None, mirror=None, expect=(200, 201)):
        props = {"authMode": auth, "description": "test endpoint"}
        if traffic is not None:
            props["traffic"] = traffic
        if mirror is not None:
            props["mirrorTraffic"] = mirror
        s, h, j = self.srv.arm("PUT", "/onlineEndpoints/" + name, {"location": "local", "properties": props,
                                                                    "identity": {"type": "SystemAssigned"}})
        self.assertIn(s, expect, j)
        if s in (200, 201):
            self.assertEqual(self.wait_op(h), "Succeeded")
        return s, h, j

    def deployment(self, ep, name, code_id, model="azureml:churn:1", script="score.py", count=1, collector=None,
                   timeout="PT5S", concurrency=1, expect="Succeeded"):
        props = {"endpointComputeType": "Managed", "model": model,
                 "codeConfiguration": {"codeId": code_id, "scoringScript": script},
                 "instanceType": "Standard_DS3_v2",
                 "requestSettings": {"requestTimeout": timeout, "maxConcurrentRequestsPerInstance": concurrency},
                 "livenessProbe": {"initialDelay": "PT1S", "period": "PT1S"}}
        if collector:
            props["dataCollector"] = collector
        s, h, j = self.srv.arm("PUT", "/onlineEndpoints/%s/deployments/%s" % (ep, name),
                               {"location": "local", "sku": {"name": "Default", "capacity": count}, "properties": props})
        self.assertIn(s, (200, 201), j)
        self.assertIn("azure-asyncoperation", h)
        self.assertIn(j["properties"]["provisioningState"], ("Creating", "Updating"))
        state = self.wait_op(h)
        if state != expect:
            logs = [self.srv.arm("POST", "/onlineEndpoints/%s/deployments/%s/getLogs" % (ep, name),
                                 {"containerType": c})[2]["content"] for c in ("StorageInitializer", "InferenceServer")]
            self.fail("deployment %s is %s:\n%s" % (name, state, "\n".join(logs)))
        s, _, j = self.srv.arm("GET", "/onlineEndpoints/%s/deployments/%s" % (ep, name))
        self.assertEqual(j["properties"]["provisioningState"], expect)
        return j

    def keys(self, ep):
        s, _, k = self.srv.arm("POST", "/onlineEndpoints/%s/listKeys" % ep)
        self.assertEqual(s, 200, k)
        return k

    def score(self, ep, body, key=None, deployment=None, headers=None):
        _, _, e = self.srv.arm("GET", "/onlineEndpoints/" + ep)
        h = dict(headers or {})
        if key:
            h["Authorization"] = "Bearer " + key
        if deployment:
            h["azureml-model-deployment"] = deployment
        h["Content-Type"] = "application/json"
        return self.srv.call("POST", e["properties"]["scoringUri"], body, h, token=False)

    def starter(self, ep="churn", traffic=True, collector=None):
        """The starter's model and score.py as deployment blue of endpoint ep, at 100 %."""
        self.register_model()
        code_id, _ = self.srv.upload_code("churn-src", starter_files())
        self.endpoint(ep)
        self.deployment(ep, "blue", code_id, collector=collector)
        if traffic:
            self.endpoint(ep, traffic={"blue": 100})
        return code_id

    def host_pids(self, ep, dep):
        marker = os.path.join(self.srv.data, "endpoints", "local", ep, dep, "host.py")
        pids = []
        for p in glob.glob("/proc/[0-9]*/cmdline"):
            try:
                with open(p, "rb") as f:
                    args = f.read().split(b"\0")
            except OSError:
                continue
            if marker.encode() in args:
                pids.append(int(p.split("/")[2]))
        return pids


class Arm(Base):
    def test_endpoint_and_deployment_lifecycle(self):
        srv = self.srv
        self.register_model()
        code_id, _ = srv.upload_code("churn-src", starter_files())
        s, h, j = self.endpoint("churn")
        self.assertEqual(s, 201)
        self.assertIn("azure-asyncoperation", h)
        self.assertEqual(h.get("x-ms-async-operation-timeout"), "PT30M")
        s, _, e = srv.arm("GET", "/onlineEndpoints/churn")
        self.assertEqual(s, 200)
        self.assertEqual(e["type"], "Microsoft.MachineLearningServices/workspaces/onlineEndpoints")
        self.assertEqual(e["id"], srv.ws_id + "/onlineEndpoints/churn")
        self.assertEqual(e["properties"]["provisioningState"], "Succeeded")
        self.assertTrue(e["properties"]["scoringUri"].startswith(srv.base + "/"))
        self.assertTrue(e["properties"]["scoringUri"].endswith("/score"))
        self.assertEqual(e["properties"]["traffic"], {})
        # Traffic naming a deployment that does not exist, or not adding up to 100: 400, as Azure.
        self.endpoint("churn", traffic={"blue": 100}, expect=(400,))
        d = self.deployment("churn", "blue", code_id, count=2)
        self.assertEqual(d["sku"]["capacity"], 2)
        self.assertEqual(d["properties"]["requestSettings"]["maxConcurrentRequestsPerInstance"], 1)
        pids = sorted(self.host_pids("churn", "blue"))
        self.assertEqual(len(pids), 2)
        # Re-applying the same deployment changes nothing: 200, still Succeeded, same processes.
        s, h, again = srv.arm("PUT", "/onlineEndpoints/churn/deployments/blue",
                              {"location": "local", "sku": d["sku"], "properties": {
                                  k: d["properties"][k] for k in ("endpointComputeType", "model", "codeConfiguration",
                                                                  "instanceType", "requestSettings", "livenessProbe")}})
        self.assertEqual(s, 200, again)
        self.assertEqual(again["properties"]["provisioningState"], "Succeeded")
        self.assertEqual(self.wait_op(h), "Succeeded")
        self.assertEqual(sorted(self.host_pids("churn", "blue")), pids)
        s, _, err = srv.arm("PUT", "/onlineEndpoints/churn", {"location": "local", "properties": {
            "authMode": "Key", "traffic": {"blue": 60}}})
        self.assertEqual(s, 400, err)
        self.assertIn("100", err["error"]["message"])
        s, _, err = srv.arm("PUT", "/onlineEndpoints/churn", {"location": "local", "properties": {
            "authMode": "Key", "traffic": {"blue": 100}, "mirrorTraffic": {"blue": 10}}})
        self.assertEqual(s, 400, err)
        self.endpoint("churn", traffic={"blue": 100})
        # Lists page like the other lists.
        self.deployment("churn", "green", code_id)
        s, _, lst = srv.arm("GET", "/onlineEndpoints/churn/deployments", query="&$top=5")
        self.assertEqual(sorted(x["name"] for x in lst["value"]), ["blue", "green"])
        s, _, lst = srv.arm("GET", "/onlineEndpoints")
        self.assertEqual([x["name"] for x in lst["value"]], ["churn"])
        # A mirror share above 50 % is refused; 10 % to green is fine.
        s, _, err = srv.arm("PUT", "/onlineEndpoints/churn", {"location": "local", "properties": {
            "authMode": "Key", "traffic": {"blue": 100}, "mirrorTraffic": {"green": 60}}})
        self.assertEqual(s, 400, err)
        self.endpoint("churn", traffic={"blue": 100}, mirror={"green": 10})
        # PATCH: tags, 202 + Location.
        s, h, _ = srv.arm("PATCH", "/onlineEndpoints/churn", {"tags": {"stage": "prod"}})
        self.assertEqual(s, 202)
        self.assertEqual(self.wait_location(h), 200)
        _, _, e = srv.arm("GET", "/onlineEndpoints/churn")
        self.assertEqual(e["tags"], {"stage": "prod"})
        self.assertEqual(e["properties"]["mirrorTraffic"], {"green": 10})
        # Scale blue down to one instance.
        s, h, _ = srv.arm("PATCH", "/onlineEndpoints/churn/deployments/blue", {"sku": {"capacity": 1}})
        self.assertEqual(s, 202)
        self.assertEqual(self.wait_location(h), 200)
        end = time.time() + 60
        while time.time() < end:
            _, _, d = srv.arm("GET", "/onlineEndpoints/churn/deployments/blue")
            if d["properties"]["provisioningState"] == "Succeeded":
                break
            time.sleep(0.2)
        self.assertEqual(len(self.host_pids("churn", "blue")), 1)
        # Keys: list, regenerate.
        k1 = self.keys("churn")
        s, h, _ = srv.arm("POST", "/onlineEndpoints/churn/regenerateKeys", {"keyType": "Secondary"})
        self.assertEqual(s, 202)
        self.assertEqual(self.wait_location(h), 200)
        k2 = self.keys("churn")
        self.assertEqual(k1["primaryKey"], k2["primaryKey"])
        self.assertNotEqual(k1["secondaryKey"], k2["secondaryKey"])
        s, _, err = srv.arm("POST", "/onlineEndpoints/churn/regenerateKeys", {"keyType": "Tertiary"})
        self.assertEqual(s, 400)
        # skus, getLogs.
        s, _, skus = srv.arm("GET", "/onlineEndpoints/churn/deployments/blue/skus")
        self.assertEqual(s, 200)
        self.assertEqual(skus["value"][0]["sku"]["name"], "Default")
        s, _, logs = srv.arm("POST", "/onlineEndpoints/churn/deployments/blue/getLogs",
                             {"containerType": "InferenceServer", "tail": 5})
        self.assertEqual(s, 200)
        self.assertIn("init() done", logs["content"])
        self.assertLessEqual(len(logs["content"].strip().splitlines()), 5)
        # A deployment with traffic cannot be deleted; at 0 % it can (202 + Location), then 404.
        s, _, err = srv.arm("DELETE", "/onlineEndpoints/churn/deployments/green")
        self.assertEqual(s, 400, err)
        self.endpoint("churn", traffic={"blue": 100})
        s, h, _ = srv.arm("DELETE", "/onlineEndpoints/churn/deployments/green")
        self.assertEqual(s, 202)
        self.assertIn("location", h)
        self.assertEqual(self.wait_location(h), 200)
        s, _, _ = srv.arm("GET", "/onlineEndpoints/churn/deployments/green")
        self.assertEqual(s, 404)
        self.assertEqual(self.host_pids("churn", "green"), [])
        s, _, _ = srv.arm("DELETE", "/onlineEndpoints/churn/deployments/green")
        self.assertEqual(s, 204)
        # Deleting the endpoint stops its deployments.
        s, h, _ = srv.arm("DELETE", "/onlineEndpoints/churn")
        self.assertEqual(s, 202)
        self.assertEqual(self.wait_location(h), 200)
        s, _, _ = srv.arm("GET", "/onlineEndpoints/churn")
        self.assertEqual(s, 404)
        self.assertEqual(self.host_pids("churn", "blue"), [])

    def test_aml_token_endpoint(self):
        srv = self.srv
        self.register_model()
        code_id, _ = srv.upload_code("churn-src", starter_files())
        self.endpoint("tok", auth="AMLToken")
        self.deployment("tok", "blue", code_id)
        self.endpoint("tok", auth="AMLToken", traffic={"blue": 100})
        s, _, err = srv.arm("POST", "/onlineEndpoints/tok/listKeys")
        self.assertEqual(s, 400, err)
        s, _, t = srv.arm("POST", "/onlineEndpoints/tok/token")
        self.assertEqual(s, 200, t)
        self.assertGreater(t["expiryTimeUtc"], time.time())
        self.assertLessEqual(t["refreshAfterTimeUtc"], t["expiryTimeUtc"])
        s, _, out = self.score("tok", {"data": ROWS[:2]}, key=t["accessToken"])
        self.assertEqual(s, 200, out)
        # An ARM token is not an endpoint token.
        s, _, _ = self.score("tok", {"data": ROWS[:2]}, key=srv.token)
        self.assertEqual(s, 401)

    def test_spec_examples_answered_compatibly(self):
        """Every key of the spec examples' responses for endpoints and deployments is in our answers."""
        srv = self.srv
        self.starter(ep="spec-ep")

        def keys_of(doc, prefix=""):
            out = set()
            if isinstance(doc, dict):
                for k, v in doc.items():
                    # Free-form maps ({"string": ...}) and optional parts are not required.
                    if k in ("string",) or prefix.endswith(("tags", "properties.properties", "environmentVariables",
                                                            "traffic", "userAssignedIdentities")):
                        continue
                    out.add(prefix + k)
                    out |= keys_of(v, prefix + k + ".")
            return out

        optional = {"kind", "properties.compute", "sku", "sku.name", "sku.tier", "sku.size", "sku.family",
                    "sku.capacity", "identity.userAssignedIdentities", "properties.modelMountPath",
                    "properties.requestSettings.maxQueueWait", "properties.instanceType", "properties.environmentId"}
        cases = [("Workspace/OnlineEndpoint/get.json", "/onlineEndpoints/spec-ep"),
                 ("OnlineDeployment/ManagedOnlineDeployment/get.json", "/onlineEndpoints/spec-ep/deployments/blue")]
        for example, path in cases:
            with open(os.path.join(EXAMPLES, example)) as f:
                want = keys_of(json.load(f)["responses"]["200"]["body"]) - optional
            s, _, got = srv.arm("GET", path)
            self.assertEqual(s, 200)
            missing = want - keys_of(got)
            self.assertEqual(missing, set(), example)
        with open(os.path.join(EXAMPLES, "Workspace/OnlineEndpoint/getToken.json")) as f:
            self.assertTrue(set(json.load(f)["responses"]["200"]["body"]))
        with open(os.path.join(EXAMPLES, "OnlineDeployment/getLogs.json")) as f:
            ex = json.load(f)
        s, _, logs = srv.arm("POST", "/onlineEndpoints/spec-ep/deployments/blue/getLogs", ex["parameters"]["body"])
        self.assertEqual((s, set(logs)), (200, set(ex["responses"]["200"]["body"])))
        with open(os.path.join(EXAMPLES, "OnlineDeployment/ManagedOnlineDeployment/listSkus.json")) as f:
            ex = json.load(f)["responses"]["200"]["body"]["value"][0]
        s, _, skus = srv.arm("GET", "/onlineEndpoints/spec-ep/deployments/blue/skus", query="&count=1")
        self.assertEqual(set(skus["value"][0]), set(ex))
        self.assertEqual(set(skus["value"][0]["capacity"]), set(ex["capacity"]))
        keys = self.keys("spec-ep")
        self.assertEqual(set(keys), {"primaryKey", "secondaryKey"})


class Scoring(Base):
    def test_scores_with_key_and_routes_by_traffic(self):
        srv = self.srv
        code_id = self.starter()
        k = self.keys("churn")
        for key in (k["primaryKey"], k["secondaryKey"]):
            s, h, out = self.score("churn", {"data": ROWS[:3]}, key=key)
            self.assertEqual(s, 200, out)
            self.assertEqual(len(out["predictions"]), 3)
            self.assertTrue(all(0 <= p <= 1 for p in out["probabilities"]))
            self.assertEqual(h["azureml-model-deployment"], "blue")
            self.assertTrue(h["x-ms-request-id"])
        # The same prediction as the model called directly.
        direct = subprocess.run(["/usr/bin/python3", "-c", (
            "import joblib, json, sys, pandas as pd\n"
            "m = joblib.load(sys.argv[1])\n"
            "print(json.dumps([round(float(p), 6) for p in m.predict_proba(pd.DataFrame(json.loads(sys.argv[2])))[:, 1]]))"),
            os.path.join(MODEL_DIR, "model.joblib"), json.dumps(ROWS[:3])], capture_output=True, text=True, timeout=60)
        self.assertEqual(direct.returncode, 0, direct.stderr)
        self.assertEqual(json.loads(direct.stdout), out["probabilities"])
        # No key, a wrong key, an ARM token: 401.
        for key in (None, "not-the-key", srv.token):
            s, _, _ = self.score("churn", {"data": ROWS[:1]}, key=key)
            self.assertEqual(s, 401)
        # A bad request: score.py answers 400, which the endpoint reports as a model error (424).
        s, h, out = self.score("churn", {"rows": []}, key=k["primaryKey"])
        self.assertEqual(s, 424, out)
        self.assertEqual(h["ms-azureml-model-error-statuscode"], "400")
        # green at 0 %: reached by header only; then a 30/70 split over 1,000 requests.
        self.deployment("churn", "green", code_id)
        s, h, _ = self.score("churn", {"data": ROWS[:1]}, key=k["primaryKey"], deployment="green")
        self.assertEqual((s, h["azureml-model-deployment"]), (200, "green"))
        seen = collections.Counter(self.score("churn", {"data": ROWS[:1]}, key=k["primaryKey"])[1]
                                   ["azureml-model-deployment"] for _ in range(50))
        self.assertEqual(set(seen), {"blue"})
        s, _, _ = self.score("churn", {"data": ROWS[:1]}, key=k["primaryKey"], deployment="nope")
        self.assertEqual(s, 404)
        self.endpoint("churn", traffic={"blue": 70, "green": 30})
        seen = collections.Counter()
        for _ in range(1000):
            s, h, _ = self.score("churn", {"data": ROWS[:1]}, key=k["primaryKey"])
            self.assertEqual(s, 200)
            seen[h["azureml-model-deployment"]] += 1
        self.assertLessEqual(abs(seen["green"] / 10.0 - 30), 5, seen)
        # Every request is recorded for monitoring (endpoint_requests).
        import sqlite3
        db = sqlite3.connect(os.path.join(srv.data, "amlops-local.db"))
        rows = dict(db.execute("SELECT deployment, count(*) FROM endpoint_requests WHERE endpoint='churn' "
                               "AND status=200 GROUP BY deployment").fetchall())
        db.close()
        self.assertGreaterEqual(rows["green"], seen["green"])
        self.assertGreaterEqual(rows["blue"], seen["blue"])
        # Traffic 0 everywhere: 404.
        self.endpoint("churn", traffic={"blue": 0, "green": 0})
        s, _, out = self.score("churn", {"data": ROWS[:1]}, key=k["primaryKey"])
        self.assertEqual(s, 404, out)

    def test_mirror_traffic(self):
        srv = self.srv
        code_id = self.starter()
        self.deployment("churn", "green", code_id)
        self.endpoint("churn", traffic={"blue": 100}, mirror={"green": 50})
        k = self.keys("churn")
        for _ in range(100):
            s, h, _ = self.score("churn", {"data": ROWS[:1]}, key=k["primaryKey"])
            self.assertEqual((s, h["azureml-model-deployment"]), (200, "blue"))
        # The direct calls to green are not mirrored.
        for _ in range(20):
            self.score("churn", {"data": ROWS[:1]}, key=k["primaryKey"], deployment="blue")
        import sqlite3
        time.sleep(2)
        db = sqlite3.connect(os.path.join(srv.data, "amlops-local.db"))
        n = db.execute("SELECT count(*) FROM endpoint_requests WHERE deployment='green'").fetchone()[0]
        db.close()
        self.assertTrue(25 <= n <= 75, n)


class Failures(Base):
    def test_run_raising_answers_424(self):
        srv = self.srv
        self.register_model()
        code_id, _ = srv.upload_code("raising", {"score.py": RAISING_SCORE})
        self.endpoint("bad")
        self.deployment("bad", "green", code_id)
        k = self.keys("bad")
        s, h, out = self.score("bad", {"data": []}, key=k["primaryKey"], deployment="green")
        self.assertEqual(s, 424, out)
        self.assertEqual(h["ms-azureml-model-error-statuscode"], "500")
        s, _, logs = srv.arm("POST", "/onlineEndpoints/bad/deployments/green/getLogs", {"tail": 50})
        self.assertIn("run() cannot score this", logs["content"])

    def test_init_failure_fails_the_deployment(self):
        srv = self.srv
        self.register_model()
        code_id, _ = srv.upload_code("crashing", {"score.py": CRASHING_SCORE})
        self.endpoint("bad")
        d = self.deployment("bad", "green", code_id, expect="Failed")
        self.assertEqual(d["properties"]["provisioningState"], "Failed")
        s, _, logs = srv.arm("POST", "/onlineEndpoints/bad/deployments/green/getLogs", {"tail": 20})
        self.assertIn("init() failed on purpose", logs["content"])
        k = self.keys("bad")
        s, _, _ = self.score("bad", {"data": []}, key=k["primaryKey"], deployment="green")
        self.assertEqual(s, 503)
        # A missing model fails it too, with the reason in the StorageInitializer log.
        self.deployment("bad", "green2", code_id, model="azureml:nope:1", expect="Failed")
        s, _, logs = srv.arm("POST", "/onlineEndpoints/bad/deployments/green2/getLogs",
                             {"containerType": "StorageInitializer"})
        self.assertIn("nope", logs["content"])

    def test_timeout_and_too_many_requests(self):
        srv = self.srv
        self.register_model()
        code_id, _ = srv.upload_code("slow", {"score.py": SLOW_SCORE})
        self.endpoint("slow")
        self.deployment("slow", "blue", code_id, timeout="PT1S", concurrency=1)
        self.endpoint("slow", traffic={"blue": 100})
        k = self.keys("slow")
        s, _, out = self.score("slow", {"sleep": 3}, key=k["primaryKey"])
        self.assertEqual(s, 408, out)
        time.sleep(2.5)  # the slow call above ends
        # 2 x max_concurrent_requests_per_instance x instances = 2 in flight; a third gets 429.
        statuses = []
        threads = [threading.Thread(target=lambda: statuses.append(
            self.score("slow", {"sleep": 0.8}, key=k["primaryKey"])[0])) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        s, h, _ = self.score("slow", {"sleep": 0}, key=k["primaryKey"])
        for t in threads:
            t.join()
        self.assertEqual(s, 429)
        self.assertEqual(sorted(statuses), [200, 200])

    def test_killed_instance_answers_503_until_restarted(self):
        srv = self.srv
        self.starter()
        k = self.keys("churn")
        s, _, _ = self.score("churn", {"data": ROWS[:1]}, key=k["primaryKey"])
        self.assertEqual(s, 200)
        pids = self.host_pids("churn", "blue")
        self.assertEqual(len(pids), 1)
        os.kill(pids[0], signal.SIGKILL)
        s, _, out = self.score("churn", {"data": ROWS[:1]}, key=k["primaryKey"])
        self.assertIn(s, (502, 503), out)
        end = time.time() + 60
        while time.time() < end:
            s, _, _ = self.score("churn", {"data": ROWS[:1]}, key=k["primaryKey"])
            if s == 200:
                break
            self.assertIn(s, (502, 503))
            time.sleep(0.2)
        self.assertEqual(s, 200)
        new = self.host_pids("churn", "blue")
        self.assertEqual(len(new), 1)
        self.assertNotEqual(new, pids)


    def test_server_restart_serves_the_deployments_again(self):
        srv = self.srv
        self.starter()
        k = self.keys("churn")
        pids = self.host_pids("churn", "blue")
        self.assertEqual(len(pids), 1)
        srv.kill9()
        # The instance notices that amlops-local is gone and ends (no orphan keeps running).
        end = time.time() + 10
        while time.time() < end and self.host_pids("churn", "blue"):
            time.sleep(0.2)
        self.assertEqual(self.host_pids("churn", "blue"), [])
        srv.start()
        end = time.time() + 60
        while time.time() < end:
            _, _, d = srv.arm("GET", "/onlineEndpoints/churn/deployments/blue")
            if d["properties"]["provisioningState"] in ("Succeeded", "Failed"):
                break
            time.sleep(0.2)
        self.assertEqual(d["properties"]["provisioningState"], "Succeeded")
        s, h, out = self.score("churn", {"data": ROWS[:2]}, key=k["primaryKey"])
        self.assertEqual((s, h["azureml-model-deployment"]), (200, "blue"), out)
        self.assertEqual(len(out["predictions"]), 2)
        # A stop ends the instances too.
        srv.stop()
        self.assertEqual(self.host_pids("churn", "blue"), [])


class DataCollector(Base):
    def test_collected_files_layout_and_count(self):
        srv = self.srv
        collector = {"collections": {"model_inputs": {"dataCollectionMode": "Enabled", "samplingRate": 1.0},
                                     "model_outputs": {"dataCollectionMode": "Enabled", "samplingRate": 1.0}},
                     "rollingRate": "Hour"}
        self.starter(collector=collector)
        k = self.keys("churn")
        n = 40
        for i in range(n):
            s, _, _ = self.score("churn", {"data": ROWS[i % 5:i % 5 + 2]}, key=k["primaryKey"])
            self.assertEqual(s, 200)
        # Listed through the blob API of the workspace's datastore.
        container, sas = srv.datastore_sas()
        s, _, xml = srv.raw("GET", container + sas + "&restype=container&comp=list&prefix=modelDataCollector/",
                            token=False)
        self.assertEqual(s, 200)
        import re
        names = re.findall(r"<Name>([^<]+)</Name>", xml.decode())
        layout = re.compile(r"^modelDataCollector/churn/blue/(model_inputs|model_outputs)/\d{4}/\d{2}/\d{2}/\d{2}/[^/]+\.jsonl$")
        self.assertTrue(names)
        for name in names:
            self.assertRegex(name, layout)
        records = {"model_inputs": [], "model_outputs": []}
        for name in names:
            s, _, body = srv.raw("GET", container + "/" + name + sas, token=False)
            self.assertEqual(s, 200)
            for line in body.decode().splitlines():
                r = json.loads(line)
                for key in ("specversion", "id", "source", "type", "datacontenttype", "time", "data",
                            "correlationid", "xrequestid"):
                    self.assertIn(key, r)
                self.assertEqual(r["type"], "azureml.inference." + name.split("/")[3])
                self.assertTrue(r["source"].endswith("/onlineEndpoints/churn/deployments/blue"))
                records[name.split("/")[3]].append(r)
        self.assertEqual(len(records["model_inputs"]), n)
        self.assertEqual(len(records["model_outputs"]), n)
        self.assertEqual(set(r["correlationid"] for r in records["model_inputs"]),
                         set(r["correlationid"] for r in records["model_outputs"]))
        self.assertEqual(sorted(records["model_inputs"][0]["data"][0]), sorted(ROWS[0]))
        self.assertIn("prediction", records["model_outputs"][0]["data"][0])

    def test_sampling_rate(self):
        srv = self.srv
        collector = {"collections": {"model_inputs": {"dataCollectionMode": "Enabled", "samplingRate": 0.3},
                                     "model_outputs": {"dataCollectionMode": "Disabled"},
                                     "request": {"dataCollectionMode": "Enabled", "samplingRate": 1.0}}}
        self.starter(collector=collector)
        k = self.keys("churn")
        for i in range(200):
            self.score("churn", {"data": ROWS[:1]}, key=k["primaryKey"])
        root = os.path.join(srv.data, "blobs")
        found = collections.Counter()
        for path in glob.glob(root + "/*/modelDataCollector/churn/blue/*/*/*/*/*/*.jsonl"):
            with open(path) as f:
                found[path.split("/modelDataCollector/churn/blue/")[1].split("/")[0]] += len(f.read().splitlines())
        self.assertEqual(found["request"], 200)
        self.assertNotIn("model_outputs", found)
        self.assertTrue(35 <= found["model_inputs"] <= 85, found)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[1:])
