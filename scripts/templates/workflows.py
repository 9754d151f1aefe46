"""GitHub Actions workflows as data: ${{ }} expressions, a caller workflow expanded into the
reusable workflow it calls, and that expansion written out as a self-contained workflow.

Used by gen_github.py (templates/github: the callers and the self-contained copies) and by the
workflow harness (tests/templates/workflows_test.py), so that what is generated and what is
tested is read the same way. Expressions follow docs.github.com "Evaluate expressions in
workflows and actions": literals, contexts (`inputs.model-name`, `steps.x.outputs['y']`),
! == != < <= > >= && || with their operand-returning semantics, and the functions the templates
use (always, success, failure, cancelled, contains, startsWith, endsWith, format, toJSON,
fromJSON)."""
import json
import os
import re

import yaml


class ExprError(Exception):
    pass


_TOKEN = re.compile(r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\],.])"
                    r"|(?P<id>[A-Za-z_][A-Za-z0-9_-]*|\*))")


def _tokens(text):
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError("cannot read expression at %r" % text[pos:])
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text):
        self.toks, self.i, self.text = _tokens(text), 0, text

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise ExprError("expected %s in %r" % (value, self.text))
        self.i += 1
        return tok

    def parse(self):
        node = self.binary(0)
        if self.i != len(self.toks):
            raise ExprError("unexpected %r in %r" % (self.peek()[1], self.text))
        return node

    LEVELS = [("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">=")]

    def binary(self, level):
        if level == len(self.LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in self.LEVELS[level]:
            op = self.take()[1]
            node = ("bin", op, node, self.binary(level + 1))
        return node

    def unary(self):
        if self.peek() == ("op", "!"):
            self.take()
            return ("not", self.unary())
        return self.postfix(self.primary())

    def primary(self):
        kind, value = self.take()
        if kind == "num":
            return ("lit", float(value) if "." in value else int(value))
        if kind == "str":
            return ("lit", value[1:-1].replace("''", "'"))
        if kind == "op" and value == "(":
            node = self.binary(0)
            self.take(")")
            return node
        if kind == "id":
            if value in ("true", "false"):
                return ("lit", value == "true")
            if value == "null":
                return ("lit", None)
            if self.peek() == ("op", "("):
                self.take()
                args = []
                while self.peek() != ("op", ")"):
                    args.append(self.binary(0))
                    if self.peek() == ("op", ","):
                        self.take()
                self.take(")")
                return ("call", value.lower(), args)
            return ("path", [("lit", value)])
        raise ExprError("unexpected %r in %r" % (value, self.text))

    def postfix(self, node):
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                kind, value = self.take()
                if kind != "id":
                    raise ExprError("expected a property name in %r" % self.text)
                seg = ("lit", value)
            else:
                seg = self.binary(0)
                self.take("]")
            if node[0] != "path":
                node = ("index", node, seg)
            else:
                node = ("path", node[1] + [seg])
        return node


def _truthy(v):
    return not (v is None or v is False or v == 0 or v == "")


def _num(v):
    if v is None:
        return 0
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return v
    try:
        return float(v) if str(v).strip() else 0
    except ValueError:
        return float("nan")


def _eq(a, b):
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is type(b) or (a is None and b is None):
        return a == b
    return _num(a) == _num(b)


def to_string(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v, indent=2)
    return str(v)


class Context:
    """Values of the contexts (a dict of dicts); `status` answers success()/failure()/cancelled();
    `seen` receives each context path read (for the harness's checks)."""

    def __init__(self, values, status="success", seen=None, functions=None):
        self.values, self.status, self.seen, self.functions = values, status, seen, functions

    def path(self, segs):
        if self.seen is not None:
            self.seen(segs)
        v = self.values
        for s in segs:
            if isinstance(v, dict):
                match = [k for k in v if str(k).lower() == str(s).lower()]
                v = v[match[0]] if match else None
            elif isinstance(v, list) and isinstance(s, (int, float)):
                v = v[int(s)] if 0 <= int(s) < len(v) else None
            else:
                return None
        return v


def _eval(node, ctx):
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "path":
        return ctx.path([_eval(s, ctx) for s in node[1]])
    if kind == "index":
        base, key = _eval(node[1], ctx), _eval(node[2], ctx)
        return base.get(key) if isinstance(base, dict) else None
    if kind == "not":
        return not _truthy(_eval(node[1], ctx))
    if kind == "bin":
        op = node[1]
        if op == "&&":
            a = _eval(node[2], ctx)
            return _eval(node[3], ctx) if _truthy(a) else a
        if op == "||":
            a = _eval(node[2], ctx)
            return a if _truthy(a) else _eval(node[3], ctx)
        a, b = _eval(node[2], ctx), _eval(node[3], ctx)
        if op == "==":
            return _eq(a, b)
        if op == "!=":
            return not _eq(a, b)
        a, b = (a.lower(), b.lower()) if isinstance(a, str) and isinstance(b, str) else (_num(a), _num(b))
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    if kind == "call":
        name, args = node[1], [_eval(a, ctx) for a in node[2]]
        if ctx.functions is not None:  # another dialect (Azure Pipelines' function-call syntax)
            if name not in ctx.functions:
                raise ExprError("unknown function %s()" % name)
            return ctx.functions[name](*args)
        if name in ("always", "success", "failure", "cancelled"):
            if ctx.status is None:
                raise ExprError("status function %s() outside a job" % name)
            return {"always": True, "success": ctx.status == "success", "failure": ctx.status == "failure",
                    "cancelled": ctx.status == "cancelled"}[name]
        if name == "contains":
            hay, needle = args
            if isinstance(hay, list):
                return any(_eq(h, needle) for h in hay)
            return to_string(needle).lower() in to_string(hay).lower()
        if name == "startswith":
            return to_string(args[0]).lower().startswith(to_string(args[1]).lower())
        if name == "endswith":
            return to_string(args[0]).lower().endswith(to_string(args[1]).lower())
        if name == "format":
            return re.sub(r"\{(\d+)\}", lambda m: to_string(args[1 + int(m.group(1))]), to_string(args[0]))
        if name == "tojson":
            return json.dumps(args[0], indent=2)
        if name == "fromjson":
            return json.loads(args[0])
        raise ExprError("unknown function %s()" % name)
    raise ExprError("cannot evaluate %r" % (node,))


def evaluate(expr, ctx):
    return _eval(_Parser(expr).parse(), ctx)


_INTERP = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def interpolate(text, ctx):
    """A workflow string with its ${{ }} parts evaluated; a string that is one expression keeps its type."""
    if not isinstance(text, str):
        return text
    m = _INTERP.fullmatch(text.strip())
    if m:
        return evaluate(m.group(1), ctx)
    return _INTERP.sub(lambda m: to_string(evaluate(m.group(1), ctx)), text)


def condition(text, ctx):
    """An `if:` value: success() && (it) unless it calls a status function itself."""
    if text is None:
        return ctx.status == "success"
    if isinstance(text, bool):
        return text and ctx.status == "success"
    expr = text.strip()
    m = _INTERP.fullmatch(expr)
    if m:
        expr = m.group(1)
    if not re.search(r"\b(always|success|failure|cancelled)\s*\(", expr):
        expr = "success() && (%s)" % expr
    return _truthy(evaluate(expr, ctx))


# --- files -------------------------------------------------------------------------------------

def load(path):
    """A workflow file; `on:` stays the key "on" (YAML 1.1 would read it as true)."""
    with open(path) as f:
        doc = yaml.safe_load(f)
    if isinstance(doc, dict) and True in doc:
        doc["on"] = doc.pop(True)
    return doc


REUSABLE = re.compile(r"^[^/]+/[^/]+/\.github/workflows/(?P<file>[^@]+)@.+$")
ACTION = re.compile(r"^(?P<owner>[^/]+)/amlops/actions/(?P<folder>[^@]+)@.+$")


def reusable_file(uses, source_dir):
    """The file in this repository that `uses: OWNER/amlops/.github/workflows/F@REF` calls."""
    m = REUSABLE.match(uses or "")
    return os.path.join(source_dir, ".github", "workflows", m.group("file")) if m else None


def call_inputs(caller_job, reusable):
    """The reusable workflow's inputs as the caller passes them: {name: (value, given)}, where a
    given value may still hold the caller's own ${{ }} expressions."""
    declared = reusable["on"]["workflow_call"].get("inputs", {})
    given = caller_job.get("with", {}) or {}
    unknown = set(given) - set(declared)
    if unknown:
        raise ExprError("inputs %s are not inputs of the reusable workflow" % ", ".join(sorted(unknown)))
    out = {}
    for name, spec in declared.items():
        if name in given:
            out[name] = (given[name], True)
        elif spec.get("required"):
            raise ExprError("required input %s is not given" % name)
        else:
            out[name] = (spec.get("default", {"boolean": False, "number": 0}.get(spec.get("type"), "")), False)
    return out


def _literal(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    s = str(value)
    m = _INTERP.fullmatch(s.strip())
    if m:  # the caller's own expression, evaluated in the same run
        return "(%s)" % m.group(1).strip()
    return "'%s'" % s.replace("'", "''")


_INPUT_REF = re.compile(r"(?<![\w.-])inputs\.([A-Za-z0-9_-]+)")


class _NoContext(Context):
    def __init__(self):
        super().__init__({}, status=None)

    def path(self, segs):
        raise ExprError("context")


def _fold(expr):
    """A constant expression (no context, no status function) as its value, else None."""
    try:
        return (evaluate(expr, _NoContext()),)
    except ExprError:
        return None


def substitute_inputs(node, inputs, key=None):
    """The reusable workflow's `inputs.X` replaced by the caller's values, in every expression and
    `if:`; what becomes constant is folded (`${{ 'jobs/train.yml' }}` -> jobs/train.yml)."""
    if isinstance(node, dict):
        return {k: substitute_inputs(v, inputs, k) for k, v in node.items()}
    if isinstance(node, list):
        return [substitute_inputs(v, inputs) for v in node]
    if not isinstance(node, str):
        return node

    def repl_expr(expr):
        def one(m):
            if m.group(1) not in inputs:
                raise ExprError("inputs.%s is not an input" % m.group(1))
            return _literal(inputs[m.group(1)])
        return _INPUT_REF.sub(one, expr)

    if key == "if" and "${{" not in node:
        expr = repl_expr(node)
        folded = _fold(expr)
        return _truthy(folded[0]) if folded else expr
    whole = _INTERP.fullmatch(node.strip())
    if whole:
        expr = repl_expr(whole.group(1)).strip()
        folded = _fold(expr)
        if folded is not None:
            return folded[0] if isinstance(folded[0], (bool, int, float)) else to_string(folded[0])
        return "${{ %s }}" % expr
    def part(m):
        expr = repl_expr(m.group(1)).strip()
        folded = _fold(expr)
        return to_string(folded[0]) if folded is not None else "${{ %s }}" % expr
    return _INTERP.sub(part, node)


def standalone(caller, source_dir):
    """A caller workflow with its reusable workflow's jobs inlined: one file a team can copy and
    edit without calling amlops' reusable workflows."""
    out = {}
    for k in ("name", "on", "concurrency", "permissions", "env", "defaults"):
        if k in caller:
            out[k] = caller[k]
    jobs = {}
    for job_id, job in caller["jobs"].items():
        path = reusable_file(job.get("uses"), source_dir)
        if not path:
            jobs[job_id] = job
            continue
        reusable = load(path)
        values = {k: v for k, (v, _) in call_inputs(job, reusable).items()}
        for inner_id, inner in reusable["jobs"].items():
            inner = substitute_inputs(inner, values)
            # A job without its own permissions has the reusable workflow's (else the caller job's).
            default = reusable.get("permissions", job.get("permissions"))
            if "permissions" not in inner and default is not None:
                inner = dict(inner, permissions=default)
            if "if" in inner and inner["if"] is True:
                del inner["if"]
            jobs[inner_id] = inner
    out["jobs"] = jobs
    return out
