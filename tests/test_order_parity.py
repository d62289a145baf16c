"""Constrained orders are the same on the page as in Python, for 1,000 seeds.

Each seed gets its own table (2-30 rows of strings, numbers, bools, none and lists, some rows
equal) and one to three constraints; sbl/order.py orders it here and order.js orders it in a
compiled page in headless Chromium, all 1,000 in ONE page evaluation. The orders, the PRNG
states afterwards and the errors for tables no order fits must all be equal, and both phases
(uniform rejection, the complete search) and errors must all occur among the cases.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

import sbl
from sbl import ir, order
from sbl.evaluate import EvalError
from sbl.participants.random import RandomResponder
from sbl.prng import Prng
from tests import parity
from tests.browser import file_url, launch, needs_chromium, session

ROOT = Path(__file__).resolve().parent.parent
SEEDS = 1000
VALUES: list[Any] = ["a", "b", "c", 1, 2.5, True, None, [1, "x"]]

ORDER_ALL = """(cases) => cases.map((c) => {
  const rng = new SblExpr.Prng(c.seed);
  try {
    const out = SblOrder.blockOrder(rng, c.block, c.rows);
    return {order: out.map((row) => c.rows.indexOf(row)), state: rng.state};
  } catch (e) {
    return {error: e.message, span: e.span || null, state: rng.state};
  }
})"""


def make_case(seed: int) -> dict[str, Any]:
    """A table and a block with constraints on its order, drawn from ``seed``."""
    rnd = random.Random(seed)
    n = rnd.randint(2, 30)
    columns = {name: rnd.sample(VALUES, rnd.randint(2, 5)) for name in ("a", "b", "c")}
    rows = [{name: rnd.choice(values) for name, values in columns.items()} for _ in range(n)]
    constraints = []
    for rule, column in rnd.sample([(r, c) for r in ir.Rule for c in ("a", "b", "c", None)],
                                   rnd.randint(1, 3)):
        count = None if rule is ir.Rule.NO_REPEAT else \
            rnd.randint(2, 4) if rule is ir.Rule.MIN_DISTANCE else rnd.randint(1, 3)
        span = ir.Span("t.sbl", 3, len(constraints) + 1, 3, 20)
        constraints.append(ir.Constraint(rule, column, count, span=span))
    block = ir.Block(f"b{seed}", (), order=ir.Order.SHUFFLE, constraints=tuple(constraints))
    return {"seed": seed, "block": block, "rows": rows}


def python_result(case: dict[str, Any]) -> dict[str, Any]:
    """What sbl/order.py gives for a case, in the shape ORDER_ALL returns."""
    rng = Prng(case["seed"])
    rows = case["rows"]
    try:
        out = order.block_order(rng, case["block"], rows)
    except EvalError as exc:
        span = exc.span
        assert span is not None
        return {"error": exc.message, "state": rng.state,
                "span": [span.path, span.line, span.col, span.end_line, span.end_col]}
    return {"order": [next(i for i, r in enumerate(rows) if r is row) for row in out],
            "state": rng.state}


def uniform_phase_found(case: dict[str, Any]) -> bool:
    """Whether the rejection phase alone finds the case's order."""
    rules = order.rules(case["block"].constraints, case["rows"])
    return order._reject(Prng(case["seed"]), len(case["rows"]), rules) is not None


NO_ORDER = ('experiment "x"\nshared n = 3\n'
            'text { text: "ok", duration: 10 }\n'
            'block b over [{w: "a"} for i in 1..n] shuffle no_repeat w {\n'
            '  text { text: w, duration: 10 }\n}\n')


@needs_chromium
def test_a_page_whose_block_has_no_order_stops_naming_it(tmp_path: Path) -> None:
    """Rows known only at run time (they depend on a shared variable): the page stops with
    the message and position the text run gives, and keeps the rows before."""
    experiment = sbl.loads(NO_ORDER, "no_order.sbl")
    with pytest.raises(EvalError) as caught:
        experiment.run(RandomResponder(0), seed=1)
    expected = f"no_order.sbl:4:{NO_ORDER.splitlines()[3].index('no_repeat') + 1}: " \
               f"{caught.value.message}"
    page = parity.write_page(experiment, tmp_path)
    with launch() as browser, session(browser, tmp_path, clock=False) as s:
        s.goto(file_url(page, simulate="data-only"))
        assert s.wait_state() == "stopped"
        assert any(expected in c for c in s.console), s.console
    assert caught.value.message == "block 'b': no order of its 3 rows keeps no_repeat w " \
                                   "(there is none)"


# A search given too few steps gives up the same way in both (and draws the same first).
BOUNDED_ROWS = [{"k": i % 5, "j": i % 3} for i in range(60)]
BOUNDED_RULES = order.rules((ir.Constraint(ir.Rule.MIN_DISTANCE, "k", 5),
                             ir.Constraint(ir.Rule.MAX_RUN, "j", 1)), BOUNDED_ROWS)
BOUNDED = """(classes) => {
  const rng = new SblExpr.Prng(0);
  const rules = [SblOrder.rule(classes[0], 0, 5), SblOrder.rule(classes[1], 1, 0)];
  try { SblOrder.solve(rng, 60, rules, 50); return null; }
  catch (e) { return {unsolved: e instanceof SblOrder.Unsolved, message: e.message,
                      state: rng.state}; }
}"""


@needs_chromium
def test_a_bounded_search_gives_up_alike(runs: dict[str, Any]) -> None:
    rng = Prng(0)
    with pytest.raises(order.Unsolved) as caught:
        order.solve(rng, 60, BOUNDED_RULES, 50)
    assert runs["bounded"] == {"unsolved": True, "message": str(caught.value),
                               "state": rng.state}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cases = [make_case(seed) for seed in range(SEEDS)]
    folder = tmp_path_factory.mktemp("order")
    page = parity.write_page(sbl.load(ROOT / "examples" / "constrained_order.sbl"), folder)
    job = [{"seed": c["seed"], "block": ir.to_data(c["block"]), "rows": c["rows"]}
           for c in cases]
    with launch() as browser, session(browser, folder) as s:
        s.goto(page.as_uri())
        js = s.page.evaluate(ORDER_ALL, job)
        bounded = s.page.evaluate(BOUNDED, [list(r.classes) for r in BOUNDED_RULES])
        assert s.errors == []
    return {"cases": cases, "py": [python_result(c) for c in cases], "js": js,
            "bounded": bounded}


@needs_chromium
def test_page_and_python_orders_are_equal_for_1000_seeds(runs: dict[str, Any]) -> None:
    differ = [c["seed"] for c, p, j in zip(runs["cases"], runs["py"], runs["js"], strict=True)
              if p != j]
    assert len(runs["js"]) == SEEDS
    assert differ == [], f"{len(differ)} seeds differ, first {differ[:5]}"


@needs_chromium
def test_the_cases_take_both_phases_and_the_error(runs: dict[str, Any]) -> None:
    found = [c for c, p in zip(runs["cases"], runs["py"], strict=True) if "order" in p]
    errors = [p for p in runs["py"] if "error" in p]
    uniform = sum(uniform_phase_found(c) for c in found)
    searched = sum(all(order.counts_allow(r) for r in order.rules(c["block"].constraints,
                                                                   c["rows"]))
                   for c, p in zip(runs["cases"], runs["py"], strict=True) if "error" in p)
    print(f"\n{len(found)} ordered ({uniform} by rejection, {len(found) - uniform} by the "
          f"search), {len(errors)} without an order ({searched} proved by the search)")
    assert uniform >= 100 and len(found) - uniform >= 100 and len(errors) >= 50
    assert searched >= 10  # not only the counting argument: the search's proof agrees too
    assert all("no order of its" in e["error"] for e in errors)


@needs_chromium
def test_every_order_keeps_its_constraints(runs: dict[str, Any]) -> None:
    for case, result in zip(runs["cases"], runs["py"], strict=True):
        if "order" in result:
            rows = [case["rows"][i] for i in result["order"]]
            assert sorted(result["order"]) == list(range(len(rows)))
            assert keeps(case["block"].constraints, rows), case["seed"]


def keeps(constraints: tuple[ir.Constraint, ...], rows: list[Any]) -> bool:
    """Whether ``rows`` keep every constraint, checked directly from its definition."""
    for c in constraints:
        keys = [order.canon(v) for v in order.key_values(rows, c.column)]
        if c.rule is ir.Rule.MIN_DISTANCE:
            assert c.count is not None
            if any(keys[i] == keys[j] for i in range(len(keys))
                   for j in range(i + 1, min(len(keys), i + c.count))):
                return False
        else:
            run = c.count or 1
            if any(len(set(keys[i:i + run + 1])) == 1 for i in range(len(keys) - run)):
                return False
    return True
