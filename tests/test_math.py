"""The math builtins (sbl/mathfns.py and its twin in expr.js): the same bits in both runtimes
over many arguments, within 1 ulp of glibc's results, the special values the docs promise,
and the errors. tests/test_expr_parity.py covers them inside expressions as well."""

from __future__ import annotations

import json
import math
import random
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sbl.evaluate import BUILTINS
from sbl.values import ValueFault
from tests.test_expr_parity import EXPR_JS, node_binary

ONE = ("sqrt", "exp", "log", "sin", "cos", "tan")
TWO = ("atan2", "hypot")

NODE = """
const E = require(process.argv[2]);
const job = JSON.parse(require("fs").readFileSync(process.argv[3], "utf8"));
const out = job.map(([name, args]) => {
  try { return [true, E.BUILTINS[name].fn(...args)]; } catch (e) { return [false, e.message]; }
});
process.stdout.write(JSON.stringify(out));
"""


def arguments(seed: int, n: int) -> list[float]:
    """n finite doubles: random bit patterns, magnitudes from 1e-12 to 1e12, small angles."""
    rng = random.Random(seed)
    out: list[float] = []
    while len(out) < n:
        x = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        if math.isfinite(x):
            out.append(x)
        out.append(rng.uniform(-1, 1) * 10.0 ** rng.randint(-12, 12))
        out.append(rng.uniform(-8, 8))
    return out[:n]


def python(name: str, args: list[float]) -> list[Any]:
    """[ok, value or message] as the node script reports it."""
    try:
        return [True, float(BUILTINS[name].fn(*args))]
    except ValueFault as fault:
        return [False, str(fault)]


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, list[float]]]:
    xs = arguments(5, 20_000)
    ys = arguments(6, 20_000)
    return ([(f, [x]) for f in ONE for x in xs]
            + [(f, [y, x]) for f in TWO for y, x in zip(ys, xs, strict=True)])


def test_both_runtimes_give_the_same_bits(cases: list[tuple[str, list[float]]],
                                          tmp_path: Path) -> None:
    job = tmp_path / "job.json"
    job.write_text(json.dumps(cases))
    (tmp_path / "run.js").write_text(NODE)
    done = subprocess.run([node_binary(), str(tmp_path / "run.js"), str(EXPR_JS), str(job)],
                          check=True, capture_output=True, text=True, timeout=120)
    js = json.loads(done.stdout, parse_int=float)  # JSON writes 1.2e20 as 120000000000000000000
    py = [python(name, args) for name, args in cases]
    bad = [(cases[i], py[i], js[i]) for i in range(len(cases)) if py[i] != js[i]]
    assert not bad, f"{len(bad)} of {len(cases)} disagree, e.g. {bad[:3]}"
    values = sum(ok for ok, _ in py)
    assert 0.5 * len(cases) < values < len(cases)  # values and errors both compared


@pytest.mark.parametrize("name", ["exp", "log", "sin", "cos", "atan2"])
def test_within_one_ulp_of_glibc(name: str) -> None:
    rng = random.Random(9)
    worst = 0.0
    for _ in range(20_000):
        if name == "log":
            args = [math.exp(rng.uniform(-700, 700))]
        elif name == "exp":
            args = [rng.uniform(-700, 700)]
        elif name == "atan2":
            args = [rng.uniform(-9, 9) * 10.0 ** rng.randint(-5, 5), rng.uniform(-9, 9)]
        else:
            args = [rng.uniform(-1e6, 1e6) if rng.random() < 0.5 else rng.uniform(-7, 7)]
        ours, theirs = BUILTINS[name].fn(*args), getattr(math, name)(*args)
        if theirs != 0:
            worst = max(worst, abs(ours - theirs) / math.ulp(theirs))
    assert worst <= 1.0, f"{name}: {worst} ulps from math.{name}"


def test_special_values() -> None:
    b = {name: BUILTINS[name].fn for name in (*ONE, *TWO, "pi")}
    pi = b["pi"]()
    assert pi == math.pi
    assert (b["sin"](0), b["cos"](0), b["exp"](0), b["log"](1), b["sqrt"](2)) == \
        (0, 1, 1, 0, math.sqrt(2))
    assert b["sin"](pi / 2) == 1 and b["cos"](pi) == -1 and b["tan"](pi / 4) == 0.9999999999999999
    assert b["atan2"](1, 1) * 4 == pi and b["atan2"](0, -1) == pi and b["atan2"](0, 0) == 0
    assert b["atan2"](-1, 0) == -pi / 2 and b["atan2"](-1, -1) == -3 * pi / 4
    assert b["hypot"](3, 4) == 5 and b["log"](5e-324) == math.log(5e-324)
    assert b["exp"](-745) == 5e-324 and b["exp"](-746) == 0


@pytest.mark.parametrize(("name", "args", "message"), [
    ("sqrt", [-1], "sqrt needs a number >= 0; got -1"),
    ("log", [0], "log needs a number > 0; got 0"),
    ("log", [-2.5], "log needs a number > 0; got -2.5"),
    ("exp", [710], "number overflow (the result is not finite)"),
    ("sin", [1e7], "sin needs an angle from -1000000 to 1000000 (radians); got 10000000"),
    ("cos", ["a"], "cos needs a number; got string"),
    ("hypot", [1e200, 1], "number overflow (the result is not finite)"),
])
def test_errors(name: str, args: list[Any], message: str) -> None:
    with pytest.raises(ValueFault) as caught:
        BUILTINS[name].fn(*args)
    assert str(caught.value) == message


def test_the_circle_port_computes_the_table_it_had() -> None:
    """tests/ports/visual_search_circle.sbl once listed these 24 points; its computed
    points (rounded to 4 decimals) are the same, so its rows did not change."""
    old = [(1.0, 0.0), (0.9659, 0.2588), (0.866, 0.5), (0.7071, 0.7071), (0.5, 0.866),
           (0.2588, 0.9659), (0.0, 1.0)]
    table = old + [(-y, x) for x, y in old[1:]]  # the second quarter: turned by 90 degrees
    table += [(-x, -y) for x, y in table[1:12]]  # the lower half: turned by 180 degrees
    b = BUILTINS
    pi = b["pi"].fn()
    ours = [(b["round"].fn(b["cos"].fn(k * pi / 12), 4), b["round"].fn(b["sin"].fn(k * pi / 12), 4))
            for k in range(24)]
    assert ours == table
