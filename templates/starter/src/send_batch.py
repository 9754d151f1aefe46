"""Sends a CSV batch to an online endpoint's scoring URI, as production traffic would: the label
column left out, numbers sent as numbers, a few dozen rows per request. Use it to try a deployment
with real rows, or to give the data collector (and so amlops-monitor) something to read.

    ENDPOINT_KEY=... python src/send_batch.py --uri https://.../score data/current/churn.csv

The key is read from the environment variable --key-env names (ENDPOINT_KEY by default), never
from the command line, so it does not end up in shell history or CI logs. Get it with
`az ml online-endpoint get-credentials` or the endpoint's listKeys.
"""
import argparse
import csv
import json
import os
import sys
import urllib.request


def request_rows(path, label="churned"):
    """The CSV's rows as scoring request records: without the label, numeric text as numbers."""
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            r.pop(label, None)
            rows.append({k: _value(v) for k, v in r.items()})
    return rows


def _value(text):
    try:
        return float(text)
    except ValueError:
        return text


def send(uri, key, rows, per_request=50, timeout=60):
    """Posts `rows` in requests of `per_request` records; returns each response's decoded JSON.
    An HTTP error stops at once (urllib.error.HTTPError, with the endpoint's status)."""
    answers = []
    for i in range(0, len(rows), per_request):
        body = json.dumps({"data": rows[i:i + per_request]}).encode()
        req = urllib.request.Request(uri, data=body, method="POST", headers={
            "Authorization": "Bearer " + key, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            answers.append(json.load(r))
    return answers


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--uri", required=True, help="the endpoint's scoring URI")
    p.add_argument("--key-env", default="ENDPOINT_KEY", help="environment variable holding the endpoint key")
    p.add_argument("--label", default="churned", help="label column left out of the requests")
    p.add_argument("--per-request", type=int, default=50, help="rows per request")
    p.add_argument("csv", nargs="+", help="CSV batches to send")
    args = p.parse_args(argv)
    key = os.environ.get(args.key_env)
    if not key:
        p.error("set the endpoint key in $%s" % args.key_env)
    for path in args.csv:
        rows = request_rows(path, args.label)
        answers = send(args.uri, key, rows, args.per_request)
        churn = sum(sum(a.get("predictions", [])) for a in answers)
        print("%s: %d rows scored in %d requests, %d predicted to churn" % (path, len(rows), len(answers), churn))
    return 0


if __name__ == "__main__":
    sys.exit(main())
