#!/usr/bin/python3
"""Data for bench/monitor/production.sh (standard library only).

production.py gen DIR ROWS           reference.csv (200k rows), current.csv (ROWS rows) and the same rows as
                                     collector records in DIR/collected/<hour>/inst-<i>.jsonl (24 hours x 2 instances)
production.py upload DIR ENVFILE     puts DIR/collected into amlops-local's workspace blob store through the blob API
                                     (modelDataCollector/bench/blue/model_inputs/2026/11/20/HH/inst-i.jsonl)
production.py compare LOCAL CLUSTER  exact metrics equal within 1e-9 relative, KS within the reported bound
"""
import json
import os
import random
import sys
import urllib.parse
import urllib.request

CITIES = ["paris", "rome", "oslo", "lima", "kyiv"]


def row(rng, shift):
    return [round(rng.gauss(40 + 3 * shift, 10), 4), round(rng.lognormvariate(10, 0.5), 2),
            round(rng.random() * 100, 3), rng.randrange(0, 50), CITIES[rng.randrange(0, 5 - (0 if shift else 1))]]


HEADER = ["age", "income", "score", "visits", "city"]


def gen(out, rows):
    rng = random.Random(5)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "reference.csv"), "w") as f:
        f.write(",".join(HEADER) + "\n")
        for _ in range(200000):
            f.write(",".join(map(str, row(rng, 0))) + "\n")
    files = {}
    with open(os.path.join(out, "current.csv"), "w") as f:
        f.write(",".join(HEADER) + "\n")
        for i in range(rows):
            r = row(rng, 1)
            f.write(",".join(map(str, r)) + "\n")
            hour, inst = (i * 24) // rows, i % 2
            key = (hour, inst)
            if key not in files:
                d = os.path.join(out, "collected", "%02d" % hour)
                os.makedirs(d, exist_ok=True)
                files[key] = open(os.path.join(d, "inst-%d.jsonl" % inst), "w")
            rec = {"specversion": "1.0", "id": "e%d" % i, "source": "/bench", "type": "azureml.inference.model_inputs",
                   "datacontenttype": "application/json", "time": "2026-11-20T%02d:%02d:00Z" % (hour, i % 60),
                   "data": [dict(zip(HEADER, r))], "correlationid": "c%d" % i, "xrequestid": "c%d" % i,
                   "modelversion": "default", "collectdatatype": "pandas.core.frame.DataFrame", "agent": "bench"}
            files[key].write(json.dumps(rec, separators=(",", ":")) + "\n")
    for f in files.values():
        f.close()


def upload(out, envfile):
    env = {}
    for line in open(envfile):
        if line.startswith("export "):
            k, v = line[len("export "):].strip().split("=", 1)
            env[k] = v.strip("'")
    base = env["AMLOPS_ARM_ENDPOINT"]
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": env["AZURE_CLIENT_ID"],
                                   "client_secret": env["AZURE_CLIENT_SECRET"],
                                   "scope": "https://management.azure.com/.default"}).encode()
    tok = json.load(urllib.request.urlopen(urllib.request.Request(
        "%s/%s/oauth2/v2.0/token" % (base, env["AZURE_TENANT_ID"]), data=form)))["access_token"]
    ws = env["AMLOPS_WORKSPACE"].replace("azureml://subscriptions/", "/subscriptions/").replace(
        "/resourcegroups/", "/resourceGroups/").replace("/workspaces/", "/providers/Microsoft.MachineLearningServices/workspaces/")

    def arm(method, rel, body=None):
        req = urllib.request.Request(base + ws + rel + "?api-version=2025-12-01", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
        return json.load(urllib.request.urlopen(req))
    ds = arm("GET", "/datastores/workspaceblobstore")
    sas = arm("POST", "/datastores/workspaceblobstore/listSecrets", {"expirableSecret": True, "expireAfterHours": 2})["sasToken"]
    container = base + "/" + ds["properties"]["accountName"] + "/" + ds["properties"]["containerName"]
    total = 0
    for hour in sorted(os.listdir(os.path.join(out, "collected"))):
        for name in sorted(os.listdir(os.path.join(out, "collected", hour))):
            data = open(os.path.join(out, "collected", hour, name), "rb").read()
            blob = "modelDataCollector/bench/blue/model_inputs/2026/11/20/%s/%s" % (hour, name)
            req = urllib.request.Request(container + "/" + blob + "?" + sas.lstrip("?"), data=data, method="PUT",
                                         headers={"x-ms-blob-type": "BlockBlob"})
            urllib.request.urlopen(req).read()
            total += len(data)
    print("uploaded %.1f MB of collector records" % (total / 1e6))


def compare(local_file, cluster_file):
    local, cluster = json.load(open(local_file)), json.load(open(cluster_file))
    info = cluster.pop("cluster")
    bound = info["ks_bound"]
    worst_exact, worst_ks = 0.0, 0.0
    for a, b in zip(local["features"], cluster["features"]):
        assert a["name"] == b["name"] and a["drifted"] == b["drifted"], (a["name"], a["drifted"], b["drifted"])
        for k, v in a["metrics"].items():
            w = b["metrics"][k]
            rel = abs(v - w) / max(abs(v), abs(w), 1e-300)
            if a["type"] != "numeric" or info["exact"]:
                worst_exact = max(worst_exact, rel)
            elif k == "ks_statistic":
                worst_ks = max(worst_ks, abs(v - w))
    assert local["outcome"] == cluster["outcome"]
    print("partitions %s rows, exact: %s; worst relative difference of exact metrics %.3g (<= 1e-9: %s); "
          "worst KS difference %.3g (bound %.3g: %s)" % (info["partition_rows"], info["exact"], worst_exact,
                                                          worst_exact <= 1e-9, worst_ks, bound, worst_ks <= bound))
    if worst_exact > 1e-9 or worst_ks > bound:
        sys.exit(1)


if __name__ == "__main__":
    {"gen": lambda: gen(sys.argv[2], int(sys.argv[3])), "upload": lambda: upload(sys.argv[2], sys.argv[3]),
     "compare": lambda: compare(sys.argv[2], sys.argv[3])}[sys.argv[1]]()
