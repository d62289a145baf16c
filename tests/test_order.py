"""Constrained shuffles (sbl/order.py): against exhaustive search over every permutation of
small tables, uniform when the rejection phase finds the order, checked at `sbl check` when the
table is known, a run-time error naming the block when it is not, and never an endless loop."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sbl
from sbl import ir, order
from sbl.evaluate import EvalError
from sbl.fmt import format_source
from sbl.participants.random import RandomResponder
from sbl.prng import Prng, shuffle
from sbl.source import SblError

PROFILE = settings(max_examples=400, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow])
VALUES = ["a", "b", "c", 1, True, None]


def valid(perm: tuple[int, ...], rules: list[order.Rule]) -> bool:
    """Whether an order keeps every rule, from the definitions: no run of ``run + 1`` equal
    classes, no two equal classes closer than ``distance``."""
    for r in rules:
        cls = [r.classes[i] for i in perm]
        if r.run and any(len(set(cls[i:i + r.run + 1])) == 1
                         for i in range(len(cls) - r.run)):
            return False
        if r.distance and any(cls[i] == cls[j] for i in range(len(cls))
                              for j in range(i + 1, min(len(cls), i + r.distance))):
            return False
    return True


@st.composite
def problems(draw: st.DrawFn) -> tuple[list[dict[str, Any]], tuple[ir.Constraint, ...]]:
    """A table of 0-7 rows over columns a and b, and 1-3 constraints on it."""
    n = draw(st.integers(0, 7))
    rows = [{"a": draw(st.sampled_from(VALUES[:draw(st.integers(1, 4))])),
             "b": draw(st.sampled_from(VALUES))} for _ in range(n)]
    pairs = draw(st.lists(st.tuples(st.sampled_from(list(ir.Rule)),
                                    st.sampled_from(["a", "b", None])),
                          min_size=1, max_size=3, unique=True))
    constraints = tuple(
        ir.Constraint(rule, column, None if rule is ir.Rule.NO_REPEAT else
                      draw(st.integers(2, 4) if rule is ir.Rule.MIN_DISTANCE else
                           st.integers(1, 3)))
        for rule, column in pairs)
    return rows, constraints


@PROFILE
@given(problems(), st.integers(0, 2**32 - 1))
def test_an_order_is_found_exactly_when_exhaustive_search_finds_one(
        problem: tuple[list[dict[str, Any]], tuple[ir.Constraint, ...]], seed: int) -> None:
    rows, constraints = problem
    rules = order.rules(constraints, rows)
    exists = any(valid(p, rules) for p in itertools.permutations(range(len(rows))))
    items = list(range(len(rows)))
    try:
        got = order.constrained_shuffle(Prng(seed), items, rules)
    except order.NoOrder:
        assert not exists
    else:
        assert exists and sorted(got) == items and valid(tuple(got), rules)
    try:  # the search alone is complete too (the rejection phase usually answers first)
        found = order.solve(Prng(seed), len(rows), rules)
    except order.NoOrder:
        assert not exists
    else:
        assert exists and valid(tuple(found), rules)


@PROFILE
@given(problems())
def test_check_rejects_a_known_table_exactly_when_no_order_exists(
        problem: tuple[list[dict[str, Any]], tuple[ir.Constraint, ...]]) -> None:
    rows, constraints = problem
    # a written table's column holds one type (or none): the values as text, none kept
    rows = [{k: v if v is None or isinstance(v, str) else _sbl(v) for k, v in r.items()}
            for r in rows]
    rules = order.rules(constraints, rows)
    exists = any(valid(p, rules) for p in itertools.permutations(range(len(rows))))
    table = "[" + ", ".join(f"{{a: {_sbl(r['a'])}, b: {_sbl(r['b'])}}}" for r in rows) + "]"
    source = (f'experiment "x"\ntable t = {table}\nblock b over t shuffle '
              f'{" ".join(order.describe(c) for c in constraints)} {{\n'
              f'  text {{ text: "x", choices: ["f"] }}\n}}\n')
    try:
        sbl.loads(source, "x.sbl")
    except SblError as exc:
        assert not exists and "no order of" in str(exc)
    else:
        assert exists


def _sbl(value: Any) -> str:
    """A value of VALUES as an sbl literal."""
    if value is True or value is None:
        return "true" if value else "none"
    return f'"{value}"' if isinstance(value, str) else str(value)


def test_orders_from_the_rejection_phase_are_uniform() -> None:
    """6 rows in 3 pairs, no_repeat: 240 of the 720 orders are valid, and rejection (which a
    uniform shuffle passes a third of the time) finds one for every seed; over 24,000 seeds
    each valid order comes about 100 times (chi-square, 239 degrees of freedom)."""
    rows = [{"k": k} for k in "aabbcc"]
    rules = order.rules((ir.Constraint(ir.Rule.NO_REPEAT, "k"),), rows)
    allowed = [p for p in itertools.permutations(range(6)) if valid(p, rules)]
    counts = Counter(tuple(order.constrained_shuffle(Prng(s), list(range(6)), rules))
                     for s in range(24_000))
    assert set(counts) == set(allowed) and len(allowed) == 240
    expected = 24_000 / 240
    chi2 = sum((counts[p] - expected) ** 2 / expected for p in allowed)
    assert chi2 < 239 + 4 * math.sqrt(2 * 239)  # about 4 standard deviations


def test_the_search_finds_orders_rejection_would_take_long_to_find() -> None:
    """96 Stroop trials: at most 3 congruent or incongruent in a row, each of 4 words at least
    4 apart. Uniform shuffles almost never keep both; the search finds valid orders."""
    rows = [{"word": w, "congruent": w == ink} for w in "RGBY" for ink in "RGBY"] * 6
    constraints = (ir.Constraint(ir.Rule.MAX_RUN, "congruent", 3),
                   ir.Constraint(ir.Rule.MIN_DISTANCE, "word", 4))
    rules = order.rules(constraints, rows)
    for seed in range(3):
        assert order._reject(Prng(seed), len(rows), rules) is None
        got = order.constrained_shuffle(Prng(seed), list(range(len(rows))), rules)
        assert valid(tuple(got), rules)


def test_an_unknown_table_without_an_order_is_a_run_time_error_naming_the_block() -> None:
    source = ('experiment "x"\nshared n = 3\n'
              'block b over [{w: "a"} for i in 1..n] shuffle no_repeat w {\n'
              '  text { text: w, choices: ["f"] }\n}\n')
    experiment = sbl.loads(source, "x.sbl")  # the rows depend on a shared variable
    with pytest.raises(EvalError) as caught:
        experiment.run(RandomResponder(0), seed=1)
    assert caught.value.message == ("block 'b': no order of its 3 rows keeps no_repeat w "
                                    "(there is none)")
    span = caught.value.span  # at the constraint
    assert span is not None and span.line == 3
    assert span.col == source.splitlines()[2].index("no_repeat") + 1


def test_the_search_stops_after_its_steps() -> None:
    """The search is bounded: past its steps it gives up with Unsolved (a run-time error
    saying so), never an endless loop; the same table with the full budget is ordered."""
    rows = [{"k": i % 5, "j": i % 3} for i in range(60)]
    rules = order.rules((ir.Constraint(ir.Rule.MIN_DISTANCE, "k", 5),
                         ir.Constraint(ir.Rule.MAX_RUN, "j", 1)), rows)
    with pytest.raises(order.Unsolved):
        order.solve(Prng(0), len(rows), rules, steps=50)
    assert valid(tuple(order.solve(Prng(0), len(rows), rules)), rules)


def test_constraints_round_trip_through_the_formatter_and_the_ir() -> None:
    source = ('experiment "x"\n\ntable t = [{a: 1}, {a: 2}, {a: 1}, {a: 2}]\n\n'
              'block b over t shuffle max_run a 1 min_distance 2 no_repeat repeat 2 {\n'
              '  text {\n    text: "x"\n    choices: ["f"]\n  }\n}\n')
    assert format_source(source) == source
    experiment = sbl.loads(source, "x.sbl").ir
    assert ir.from_json(ir.to_json(experiment)) == experiment
    block = experiment.body[0]
    assert isinstance(block, ir.Block)
    assert [order.describe(c) for c in block.constraints] == ["max_run a 1", "min_distance 2",
                                                              "no_repeat"]


def test_a_block_without_constraints_shuffles_as_before() -> None:
    rows = list(range(20))
    assert order.constrained_shuffle(Prng(5), rows, []) == shuffle(Prng(5), rows)


def test_class_keys_follow_sbl_equality() -> None:
    assert order.classes([1, 1.0, "1", True, None, [1], [1.0], {"x": 1, "y": 2},
                          {"y": 2, "x": 1}]) == (0, 0, 1, 2, 3, 4, 4, 5, 5)
