"""amlops-local inference host: one instance of an online deployment.

Embedded in the amlops-local binary (src/local/CMakeLists.txt turns this file into a header) and
written next to the deployment when an instance starts. It follows the contract of Azure ML's
inference server (azureml-inference-server-http, `azmlinfsrv`): the scoring script's `init()`
runs once, then `run(raw_data)` per request; `GET /` answers `Healthy` (liveness and readiness:
the port is opened only after init() succeeded); `POST /score` runs `run()` on the body decoded as
UTF-8 (an optional `request_headers` parameter gets the headers); a returned object is sent as
JSON with 200, an AMLResponse as it is; an exception in run() answers 500 with
`x-ms-run-function-failed: True` and its traceback goes to the instance log. init() failing (or a
script without init/run) exits with code 3, as azmlinfsrv does.

amlops-local asks for an envelope (`x-amlops-envelope: 1`): the same answer as JSON
{"status","headers","body","collected"}, where `collected` holds what the script logged through
`azureml.ai.monitoring.Collector` during the request. When the real packages are absent, small
stand-ins for `azureml.contrib.services.aml_response.AMLResponse` and
`azureml.ai.monitoring.Collector` are provided.

Usage: python3 host.py --entry SCRIPT --port-file FILE   (AZUREML_MODEL_DIR set by amlops-local)
"""
import argparse
import importlib
import importlib.util
import inspect
import json
import os
import sys
import threading
import time
import traceback
import types
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_current = threading.local()  # the request being scored: .records (collected), .request_id


class AMLResponse:
    """Stand-in for azureml.contrib.services.aml_response.AMLResponse (a Flask Response there)."""

    def __init__(self, message, status_code=200, response_headers=None, json_str=False):
        if isinstance(message, (bytes, bytearray)):
            self.body = bytes(message)
        elif isinstance(message, str):
            self.body = message.encode("utf-8")
        else:
            self.body = json.dumps(message).encode("utf-8")
        self.status_code = int(status_code)
        self.headers = dict(response_headers or {})
        if json_str or not isinstance(message, (str, bytes, bytearray)):
            self.headers.setdefault("Content-Type", "application/json")


class BasicCorrelationContext:
    """Stand-in for azureml.ai.monitoring.context.BasicCorrelationContext."""

    def __init__(self, id=None, timestamp=None, headers=None):  # noqa: A002 (the SDK's name)
        self._id = id or str(uuid.uuid4())
        self._timestamp = timestamp or int(time.time())
        self._headers = headers or {}

    def get_id(self):
        return self._id

    def get_timestamp(self):
        return self._timestamp

    def get_headers(self):
        return self._headers


def _rows(data):
    """What a collected object looks like in a record's `data` (a DataFrame as a list of rows)."""
    to_dict = getattr(data, "to_dict", None)
    if callable(to_dict):
        try:
            return json.loads(json.dumps(to_dict(orient="records"), default=str))
        except TypeError:
            pass
    return json.loads(json.dumps(data, default=str))


class Collector:
    """Stand-in for azureml.ai.monitoring.Collector: records go back to amlops-local with the answer."""

    def __init__(self, *, name, on_error=None, **_kwargs):
        self.name = name
        self.on_error = on_error

    def collect(self, data, correlation_context=None):
        ctx = correlation_context or BasicCorrelationContext()
        try:
            records = getattr(_current, "records", None)
            if records is not None:
                kind = type(data)
                records.append({"collection": self.name, "data": _rows(data), "correlationid": ctx.get_id(),
                                "collectdatatype": kind.__module__ + "." + kind.__qualname__})
        except Exception as e:  # a failed collection never fails the request
            if self.on_error:
                self.on_error(e)
        return ctx


_stand_ins = set()  # modules made here


def _provide(name, **attrs):
    """Registers module `name` (and its parents) unless a real one can be imported."""
    if name not in _stand_ins:
        try:
            importlib.import_module(name)
            return
        except ImportError:
            pass
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        full = ".".join(parts[:i])
        if full in sys.modules:
            continue
        try:
            importlib.import_module(full)
            continue
        except ImportError:
            mod = types.ModuleType(full)
            mod.__path__ = []
            sys.modules[full] = mod
            _stand_ins.add(full)
            if i > 1:
                setattr(sys.modules[".".join(parts[:i - 1])], parts[i - 1], mod)
    for k, v in attrs.items():
        setattr(sys.modules[name], k, v)


def install_shims():
    _provide("azureml.contrib.services.aml_response", AMLResponse=AMLResponse)
    _provide("azureml.ai.monitoring", Collector=Collector, BasicCorrelationContext=BasicCorrelationContext)
    _provide("azureml.ai.monitoring.context", BasicCorrelationContext=BasicCorrelationContext)


def load_script(path):
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location("score_main", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["score_main"] = module
    spec.loader.exec_module(module)
    for fn in ("init", "run"):
        if not callable(getattr(module, fn, None)):
            raise RuntimeError("the scoring script %s has no %s() function" % (path, fn))
    return module


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "amlops-inference-host/1"
    module = None
    wants_headers = False

    def log_message(self, fmt, *args):  # request lines stay out of the instance log
        pass

    def reply(self, status, body, headers=None):
        headers = dict(headers or {})
        headers.setdefault("Content-Type", "application/json")
        if self.headers.get("x-amlops-envelope") == "1":
            collected = getattr(_current, "records", None) or []
            env = {"status": status, "headers": headers, "body": body.decode("utf-8", "replace"), "collected": collected}
            status, body, headers = 200, json.dumps(env, default=str).encode("utf-8"), {"Content-Type": "application/json"}
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.split("?")[0] == "/":
            self.reply(200, b"Healthy", {"Content-Type": "text/plain"})
        else:
            self.reply(404, json.dumps({"message": "Not found"}).encode())

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.split("?")[0] != "/score":
            self.reply(404, json.dumps({"message": "Not found"}).encode())
            return
        _current.records = []
        started = time.perf_counter()
        try:
            data = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.reply(400, json.dumps({"message": "the request body is not UTF-8"}).encode())
            return
        try:
            if Handler.wants_headers:
                out = Handler.module.run(data, request_headers=dict(self.headers))
            else:
                out = Handler.module.run(data)
        except Exception:
            traceback.print_exc()
            sys.stderr.flush()
            msg = {"message": "An unexpected error occurred in scoring script. Check the logs for more info."}
            self.reply(500, json.dumps(msg).encode(), {"x-ms-run-function-failed": "True"})
            return
        ms = "%.3f" % ((time.perf_counter() - started) * 1000)
        if isinstance(out, AMLResponse) or (hasattr(out, "status_code") and hasattr(out, "get_data")):
            body = out.body if isinstance(out, AMLResponse) else out.get_data()
            headers = dict(out.headers)
            status = out.status_code
        else:
            try:
                body = json.dumps(out).encode("utf-8")
            except (TypeError, ValueError):
                traceback.print_exc()
                self.reply(500, json.dumps({"message": "run() returned a value that is not JSON"}).encode(),
                           {"x-ms-run-function-failed": "True"})
                return
            headers, status = {}, 200
        headers["x-ms-run-fn-exec-ms"] = ms
        headers["x-ms-run-function-failed"] = "False"
        self.reply(status, body, headers)


def watch_parent():
    """Ends this instance when amlops-local is gone (even after kill -9): no orphan keeps its port."""
    parent = os.getppid()
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os._exit(0)


def main():
    threading.Thread(target=watch_parent, daemon=True).start()
    parser = argparse.ArgumentParser()
    parser.add_argument("--entry", required=True)
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()
    install_shims()
    print("amlops-local inference host: loading %s (AZUREML_MODEL_DIR=%s)" %
          (args.entry, os.environ.get("AZUREML_MODEL_DIR", "")), flush=True)
    try:
        module = load_script(args.entry)
        module.init()
    except BaseException:
        traceback.print_exc()
        print("amlops-local inference host: init() failed; the instance exits with code 3", flush=True)
        sys.stderr.flush()
        os._exit(3)
    Handler.module = module
    try:
        Handler.wants_headers = "request_headers" in inspect.signature(module.run).parameters
    except (TypeError, ValueError):
        Handler.wants_headers = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.replace(tmp, args.port_file)
    print("amlops-local inference host: init() done; Liveness Probe: GET 127.0.0.1:%d/  Score: POST 127.0.0.1:%d/score"
          % (port, port), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
