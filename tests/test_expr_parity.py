"""The Python and JavaScript expression evaluators agree bit for bit (DESIGN.md decisions 3, 4).

Thousands of generated IR expressions (tests/exprgen.py, derandomized) plus hand-picked edge
cases are evaluated by sbl.evaluate here and by sbl/backends/web/expr.js in ONE node process;
values (as JSON, key order included), their string conversion, error messages, error spans and
the PRNG state afterwards must all be equal. The same node process also draws the PRNG streams
for several seeds, formats many random doubles and lists the builtin table.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import struct
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sbl import ir
from sbl.evaluate import BUILTINS, EvalError, Scope, evaluate
from sbl.prng import Prng
from sbl.values import kind, show, show_number
from tests import exprgen

ROOT = Path(__file__).resolve().parent.parent
EXPR_JS = ROOT / "sbl" / "backends" / "web" / "expr.js"
N_EXPRESSIONS = 5000
SEEDS = (0, 1, 42, 123456789, 2**32 - 1, -1, 2**40 + 5)
DRAWS = 10_000

NODE_SCRIPT = r"""
const fs = require("fs");
const [exprPath, inPath, outPath] = process.argv.slice(2);
const E = require(exprPath);
const job = JSON.parse(fs.readFileSync(inPath, "utf8"));
for (const row of [...job.names.trials, ...Object.values(job.prev)]) E.row(row);
const prev = (back) => job.prev[String(back)] ?? null;

function run(c) {
  const rng = new E.Prng(c.seed);
  const scope = new E.Scope(job.names, prev, rng);
  try {
    const v = E.evaluate(c.expr, scope);
    return { ok: true, json: JSON.stringify(v), show: E.show(v), state: rng.state };
  } catch (e) {
    if (e instanceof E.EvalError) {
      return { ok: false, message: e.message, span: e.span, state: rng.state };
    }
    return { ok: false, crash: String((e && e.stack) || e) };
  }
}

// The usual mulberry32 one-liner, to show that Prng is that generator.
function mulberry32(a) {
  return function () {
    var t = a += 0x6D2B79F5;
    t = Math.imul(t ^ t >>> 15, t | 1);
    t ^= t + Math.imul(t ^ t >>> 7, t | 61);
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
}

function stream(seed) {
  const half = job.draws / 2, rng = new E.Prng(seed), ref = mulberry32(seed), out = [];
  let sameAsReference = true;
  for (let i = 0; i < half; i++) out.push(rng.next());
  const resumed = new E.Prng(0);
  resumed.state = rng.state; // resume from the saved state
  for (let i = half; i < job.draws; i++) out.push(resumed.next());
  for (const x of out) if (ref() !== x) sameAsReference = false;
  return { draws: out, sameAsReference };
}

function caseMappings() {
  const out = {};
  for (let c = 0; c < 0x110000; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const s = String.fromCodePoint(c), u = s.toUpperCase(), l = s.toLowerCase();
    if (u !== s || l !== s) out[c] = [u, l];
  }
  return out;
}

const builtins = {};
for (const name of Object.keys(E.BUILTINS)) {
  const b = E.BUILTINS[name];
  builtins[name] = [b.minArgs, b.maxArgs, b.random, b.named];
}
const result = {
  results: job.cases.map(run),
  streams: job.seeds.map(stream),
  shows: job.numbers.map(E.show),
  builtins,
  cases: caseMappings(),
};
fs.writeFileSync(outPath, JSON.stringify(result));
"""


def node_binary() -> str:
    """The node executable; the test fails (never skips) without it."""
    found = shutil.which("node") or ("/usr/bin/node" if os.path.exists("/usr/bin/node") else None)
    if found is None:
        pytest.fail("node is required for the evaluator parity test (install nodejs)")
    return found


def generate(n: int) -> list[ir.Expr]:
    """n generated expressions, the same ones on every run, each node with its own span."""
    out: list[ir.Expr] = []
    batch = 50  # hypothesis's cost is mostly per example: draw expressions in batches

    @settings(max_examples=n // batch + 10, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(st.lists(exprgen.expressions(), min_size=batch, max_size=batch))
    def collect(exprs: list[ir.Expr]) -> None:
        out.extend(exprs)

    collect()
    return [exprgen.with_spans(e) for e in out[:n]]


def edge_cases() -> list[ir.Expr]:
    """Every pairing of awkward numbers under // % ^ and round, and a few fixed programs."""
    values = (-7.5, -7, -3, -1, -0.5, 0, 0.5, 3, 7, 7.5, 0.1, 1e308, 5e-324, -2**53, 1e21)
    lit = exprgen.lit
    out: list[ir.Expr] = []
    for a in values:
        for b in values:
            for op in (ir.BinaryOp.FLOORDIV, ir.BinaryOp.MOD, ir.BinaryOp.DIV):
                out.append(exprgen.bin_(op, lit(a), lit(b)))
        for k in (-3, -1, 0, 1, 2, 3, 10, 31, 64, -1074, 1025):
            out.append(exprgen.bin_(ir.BinaryOp.POW, lit(a), lit(k)))
            out.append(exprgen.call("round", lit(a), lit(k)))
    out += fixed_programs() + table_data()
    out += math_inputs()
    rng = random.Random(7)
    for _ in range(300):
        out.append(exprgen.call("round", lit(rng.uniform(-1000, 1000)), lit(rng.randint(0, 6))))
    return [exprgen.with_spans(e) for e in out]


def math_inputs() -> list[ir.Expr]:
    """Each math builtin over many doubles: random bit patterns and magnitudes, awkward
    points (multiples of pi/2, near the overflow of exp, subnormals), where Python's math
    and JavaScript's Math disagree in the last bit for 3-7 % of inputs."""
    lit = exprgen.lit
    xs = random_doubles(600)[::3] + [k * math.pi / 4 for k in range(-40, 41)]
    xs += [709.78, 709.79, -745.1, -745.2, 5e-324, 2.2e-308, 1e6, -1e6, 1e6 + 1, 1e-300, 0.5,
           0.6875, 1.1875, 2.4375, 2.0**66]
    rng = random.Random(11)
    xs += [rng.uniform(-10, 10) for _ in range(300)] + [rng.uniform(0, 2) for _ in range(100)]
    out: list[ir.Expr] = [exprgen.call(f, lit(x)) for f in exprgen.MATH_1 for x in xs]
    pairs = list(zip(xs, xs[7:] + xs[:7], strict=True))
    out += [exprgen.call(f, lit(y), lit(x)) for f in ("atan2", "hypot") for y, x in pairs]
    out += [exprgen.call("atan2", lit(y), lit(x)) for y in (-1, 0, 1) for x in (-1, 0, 1)]
    return out


def table_data() -> list[ir.Expr]:
    """CSV tables as plain data (cells as sbl/passes/csv_table.py types them), evaluated to
    records alone, in a comprehension, under builtins; and tables with no rows."""
    table = ir.TableData(("word", "n", "x", "ok"), (
        ("RED", "GREEN", " 1e21", "😀"), (1, -2, 0, 9007199254740991),
        (0.5, 1e21, -7.5, 1e300), (True, False, True, False)))
    word = ir.Attr(ir.Name("t"), "word")
    return [table, ir.TableData(("a",), ((),)), ir.TableData((), ()),
            ir.Comprehension(word, "t", table, ir.Attr(ir.Name("t"), "ok")),
            exprgen.call("len", table), exprgen.call("shuffle", table),
            ir.Index(table, exprgen.lit(-1))]


def fixed_programs() -> list[ir.Expr]:
    """Hand-picked expressions that generated ones reach only rarely."""
    call, b, N = exprgen.call, exprgen.bin_, ir.Name
    words, e, odd, r = N("words"), N("e"), N("odd"), N("r")
    xs = N("xs")

    def for_(var: str, items: Any, body: Any, cond: Any = None) -> ir.Comprehension:
        cond_expr = None if cond is None else exprgen.expr_of(cond)
        return ir.Comprehension(exprgen.expr_of(body), var, exprgen.expr_of(items), cond_expr)

    return [
        call("sorted", words), call("min", words), call("max", words), b("<", "\uffff", "😀"),
        b(">", "😀", "\ue000"), call("len", e), ir.Index(e, exprgen.lit(1)),
        ir.Index(e, exprgen.lit(-1)), call("reverse", e), call("upper", e),
        b("==", {"a": 1, "b": 2}, {"b": 2, "a": 1}), b("==", ir.Index(N("rows"), exprgen.lit(2)),
                                                      {"a": 3, "b": "z"}),
        b("in", {"a": 1}, [{"b": 1}, {"a": 1}]), call("count", N("rows"), {"b": "x", "a": 1}),
        call("str", odd), ir.Index(odd, exprgen.lit("__proto__")), ir.Attr(odd, "__proto__"),
        b("in", "__proto__", odd), b("in", "constructor", r), ir.Attr(r, "constructor"),
        ir.Attr(r, "toString"), call("len", odd), call("cross", a=[1, 2], b=["x", "y"], c=[True]),
        call("shuffle", ir.Range(exprgen.lit(1), exprgen.lit(20))),
        call("sample", ir.Range(exprgen.lit(1), exprgen.lit(20)), 5), call("choice", words),
        call("randint", 1, 6), call("random"), call("repeat", call("shuffle", [1, 2, 3]), 2),
        exprgen.expr_of([call("random"), call("random"), call("shuffle", xs)]),
        exprgen.expr_of({"a": call("random"), "b": call("choice", xs)}),
        ir.Template(("v=", exprgen.expr_of([1, "a", None, True, 1e21, -0.0, {"k": 'q"'}]), "!")),
        call("str", b("+", 0.1, 0.2)), b("+", 1e21, 0), b("+", b("^", 2, 53), 1),
        ir.Unary(ir.UnaryOp.NEG, b("^", 2, 53)), exprgen.lit(9007199254740993),
        *[call("number", t) for t in exprgen.NUMBER_TEXTS],
        call("round", 2.5), call("round", -2.5), call("round", 1.005, 2),
        call("round", 2.675, 2), call("round", -0.4), b("//", 1, 0.1), b("%", 1, 0.1),
        b("//", -7, 2), b("%", -7, 2), b("%", 7, -2), b("^", N("x"), 0.5), b("^", 2, 0.5),
        b("^", 0, 0.5), b("^", -4, 0.5), b("^", 0, -0.5), ir.Attr(ir.Prev(1), "correct"),
        # recorded rows read a column they lack as none; other records do not
        for_("t", N("trials"), N("t"), b("==", ir.Attr(N("t"), "task"), "go")),
        for_("t", N("trials"), ir.Attr(N("t"), "b")), ir.Index(ir.Prev(1), exprgen.lit("zz")),
        ir.Attr(ir.Index(N("rows"), exprgen.lit(0)), "task"), b("in", "task", ir.Prev(1)),
        call("len", ir.Prev(1)), call("sorted", for_("t", N("trials"), ir.Attr(N("t"), "a"))),
        call("mean", []), call("max", []), call("min", N("none_list")),
        # a string's characters are its code points: split(s, "") and for over a string
        call("split", e, ""), call("split", N("s"), ""), call("split", "", ""),
        for_("v", e, N("v")), for_("v", N("s"), call("upper", N("v")), b("!=", N("v"), "l")),
        for_("v", N("x"), N("v")),
        ir.Attr(ir.Prev(2), "rt"), ir.Attr(ir.Prev(3), "rt"), b("==", ir.Prev(3), None),
        for_("v", xs, for_("v", [N("v"), b("*", N("v"), 10)], N("v"))),
        for_("v", ir.Range(exprgen.lit(1), exprgen.lit(10)), b("^", N("v"), 2),
             b("==", b("%", N("v"), 2), 0)),
        b("in", "a", ""), b("in", "", ""), b("==", [], []), b("==", {}, {}),
        b("==", None, False), b("==", 0, False), b("==", [1], [1.0]),
        ir.Range(exprgen.lit(0), exprgen.lit(2_000_000)), call("range", 0, 1_000_001),
        call("repeat", [1], 1_000_001), call("repeat", [], 1e15),
        call("sum", call("repeat", [0.1], 10)), call("mean", [1e308, 1e308]),
        # the size limits (issue 13): strings count code points in both runtimes
        call("join", call("range", 1, 200_000), ""),
        call("len", call("join", call("repeat", ["😀"], 600_000), "")),
        call("join", call("repeat", ["😀😀"], 500_001), ""),
        call("join", call("repeat", ["ab"], 400_000), "-"),
        b("+", call("join", call("repeat", ["ab"], 400_000), ""),
          call("join", call("repeat", ["😀"], 200_001), "")),
        b("+", call("range", 1, 600_000), call("range", 1, 600_000)),
        ir.Template(("x", call("join", call("repeat", ["y"], 999_999), ""), "zz")),
        # slices count code points; fixed rounds as round does, never writes "-0.00"
        ir.Slice(e, exprgen.lit(1), None), ir.Slice(e, None, exprgen.lit(-1)),
        ir.Slice(xs, exprgen.lit(-100), exprgen.lit(100)), ir.Slice(xs, exprgen.lit(2), None),
        call("fixed", 0.125, 2), call("fixed", -0.125, 2), call("fixed", 1.005, 2),
        call("fixed", -0.001, 2), call("fixed", 1e21, 2), call("fixed", 999999999999999.9, 3),
        call("fixed", 0.1, 20), call("fixed", 2.5, 0), call("pad", "😀", 3, "😀"),
        call("pad", 7, 1_000_001, "0"),
        call("replace", call("join", call("repeat", ["ab"], 400_000), ""), "a", "xyz"),
        # index and set: records and lists compared by value, none when missing, -0 and
        # negative positions, a position past either end
        call("index", N("rows"), {"b": "x", "a": 1}), call("index", [1, [2], {"a": 3}], [2.0]),
        call("index", xs, 99), call("index", [], None), call("index", [None], None),
        call("set", xs, -1, "z"), call("set", xs, -0.0, [1]), call("set", [], 0, 1),
        call("set", xs, 1e300, 0), call("set", xs, -4, 0), call("set", xs, 1.5, 0),
    ]


def python_result(expr: ir.Expr, seed: int) -> dict[str, Any]:
    """What sbl.evaluate gives, in the shape the node script reports."""
    rng = Prng(seed)
    try:
        value = evaluate(expr, Scope(exprgen.NAMES, exprgen.prev, rng))
    except EvalError as e:
        span = e.span
        where = [span.path, span.line, span.col, span.end_line, span.end_col] if span else None
        return {"ok": False, "message": e.message, "span": where, "state": rng.state}
    except Exception as e:  # noqa: BLE001 - any other exception is a bug to report
        return {"ok": False, "crash": repr(e)}
    return {"ok": True, "value": value, "show": show(value), "state": rng.state}


def same(a: Any, b: Any) -> bool:
    """Strict equality of two values: kinds, bits of numbers, key order of records."""
    if kind(a) != kind(b):
        return False
    if kind(a) == "number":
        return struct.pack("<d", float(a)) == struct.pack("<d", float(b))
    if kind(a) == "list":
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if kind(a) == "record":
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def agree(py: dict[str, Any], js: dict[str, Any]) -> bool:
    """Whether the two evaluators gave the same outcome."""
    if "crash" in py or "crash" in js or py["ok"] != js["ok"] or py["state"] != js["state"]:
        return False
    if not py["ok"]:
        return bool(py["message"] == js["message"] and py["span"] == js["span"])
    value = json.loads(js["json"], object_pairs_hook=dict)
    return same(py["value"], value) and py["show"] == js["show"]


def random_doubles(n: int) -> list[float]:
    """n finite doubles: random bit patterns and random magnitudes, from a fixed seed."""
    rng = random.Random(3)
    out: list[float] = []
    while len(out) < n:
        x = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        if math.isfinite(x):
            out.append(x)
        out.append(rng.uniform(-1e7, 1e7) * 10.0 ** rng.randint(-12, 12))
    return out[:n]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Generate, evaluate in Python, run the single node process; results and timings."""
    node = node_binary()
    started = time.perf_counter()
    exprs = generate(N_EXPRESSIONS)
    generated = len(exprs)
    exprs += edge_cases()
    t_gen = time.perf_counter()
    py = [python_result(e, seed) for seed, e in enumerate(exprs)]
    t_py = time.perf_counter()
    folder = tmp_path_factory.mktemp("parity")
    job = {
        "names": exprgen.NAMES, "prev": {str(k): v for k, v in exprgen.PREV.items()},
        "cases": [{"expr": ir.to_data(e), "seed": seed} for seed, e in enumerate(exprs)],
        "seeds": list(SEEDS), "draws": DRAWS, "numbers": random_doubles(20_000),
    }
    (folder / "run.js").write_text(NODE_SCRIPT)
    (folder / "in.json").write_text(json.dumps(job, ensure_ascii=False))
    subprocess.run([node, str(folder / "run.js"), str(EXPR_JS), str(folder / "in.json"),
                    str(folder / "out.json")], check=True, timeout=300)
    js = json.loads((folder / "out.json").read_text())
    t_js = time.perf_counter()
    timings = {"generate": t_gen - started, "python": t_py - t_gen, "node": t_js - t_py}
    return {"exprs": exprs, "generated": generated, "py": py, "js": js, "job": job,
            "timings": timings}


def test_every_expression_agrees(run: dict[str, Any]) -> None:
    exprs, py, js = run["exprs"], run["py"], run["js"]["results"]
    assert len(js) == len(py) == len(exprs)
    bad = [i for i in range(len(exprs)) if not agree(py[i], js[i])]
    n_ok = sum(r["ok"] for r in py)
    t = run["timings"]
    print(f"\nparity: {run['generated']} generated + {len(exprs) - run['generated']} edge-case "
          f"expressions, {n_ok} values, {len(exprs) - n_ok} errors, {len(bad)} disagreements; "
          f"generate {t['generate']:.1f}s, python {t['python']:.1f}s, node {t['node']:.1f}s")
    if bad:
        smallest = sorted(bad, key=lambda i: len(repr(exprs[i])))[:5]
        report = "\n\n".join(f"{exprs[i]!r}\n  python: {py[i]!r}\n  js:     {js[i]!r}"
                             for i in smallest)
        pytest.fail(f"{len(bad)} of {len(exprs)} expressions disagree; smallest:\n{report}")


def test_generator_reaches_values_errors_and_randomness(run: dict[str, Any]) -> None:
    assert run["generated"] >= 5000
    py = run["py"]
    values = [r for r in py if r["ok"]]
    assert len(values) > 0.4 * len(py), "most expressions should evaluate to a value"
    assert len(py) - len(values) > 0.1 * len(py), "errors must be compared too"
    drew = sum(r.get("state") != Prng(seed).state for seed, r in enumerate(py))
    # an absolute floor: each builtin added to the generator makes the random ones rarer
    # (360 of 6,450 expressions drew with index and set added, 5.6%)
    assert drew >= 150, f"random builtins must be exercised ({drew} of {len(py)} drew)"
    kinds = {kind(r["value"]) for r in values}
    assert kinds == {"number", "string", "bool", "none", "list", "record"}


def test_generator_reaches_index_and_set_with_values_and_errors(run: dict[str, Any]) -> None:
    py, exprs = run["py"][:run["generated"]], run["exprs"][:run["generated"]]
    for name in ("index", "set"):
        calling = [r for r, e in zip(py, exprs, strict=True)
                   if any(isinstance(n, ir.Call) and n.func == name for n in ir.walk(e))]
        counts = (len(calling), sum(r["ok"] for r in calling),
                  sum(r.get("message", "").startswith(f"{name} ") for r in calling))
        assert counts[1] >= 10 and counts[2] >= 3, (name, counts)


def test_math_builtins_reach_values_and_errors(run: dict[str, Any]) -> None:
    math_calls = {name: [0, 0] for name in (*exprgen.MATH_1, "atan2", "hypot")}
    for expr, r in zip(run["exprs"], run["py"], strict=True):
        if isinstance(expr, ir.Call) and expr.func in math_calls:
            math_calls[expr.func][0 if r["ok"] else 1] += 1
    for name, (ok, failed) in math_calls.items():
        assert ok >= 300, f"{name}: {ok} values"
        if name not in ("exp", "cos", "atan2", "hypot"):  # these fail only on non-numbers
            assert failed >= 10, f"{name}: {failed} errors"


def test_prng_streams_agree_and_are_mulberry32(run: dict[str, Any]) -> None:
    for seed, stream in zip(SEEDS, run["js"]["streams"], strict=True):
        rng = Prng(seed)
        first = [rng.next_float() for _ in range(DRAWS // 2)]
        resumed = Prng(0)
        resumed.state = rng.state
        ours = first + [resumed.next_float() for _ in range(DRAWS - DRAWS // 2)]
        assert ours == stream["draws"], f"seed {seed}"
        assert stream["sameAsReference"], f"seed {seed}: not the mulberry32 stream"
        assert all(0.0 <= u < 1.0 for u in ours)


def test_number_formatting_agrees(run: dict[str, Any]) -> None:
    numbers = run["job"]["numbers"]
    ours = [show_number(x) for x in numbers]
    bad = [(x, a, b) for x, a, b in zip(numbers, ours, run["js"]["shows"], strict=True) if a != b]
    assert not bad, bad[:10]


def test_builtin_tables_agree(run: dict[str, Any]) -> None:
    ours = {name: [b.min_args, b.max_args, b.random, b.named] for name, b in BUILTINS.items()}
    assert ours == run["js"]["builtins"]


def test_case_mappings_differ_only_where_python_knows_none(run: dict[str, Any]) -> None:
    """upper/lower agree except where the JS engine's newer Unicode has a mapping Python lacks."""
    js = {int(k): tuple(v) for k, v in run["js"]["cases"].items()}
    differ = []
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        ch = chr(c)
        ours = (ch.upper(), ch.lower())
        if ours != js.get(c, (ch, ch)):
            differ.append(c)
            assert ours == (ch, ch), f"U+{c:04X}: python {ours}, js {js.get(c)}"
    assert not set(differ) & {ord(ch) for ch in exprgen.ALPHABET}
