"""The expression semantics of docs/language.md, operator by operator and builtin by builtin.

Values are checked with their exact Python type (``3`` is an int, ``3.5`` a float, ``True`` a
bool) and errors by their exact message; tests/test_expr_parity.py shows the JS evaluator
gives the same.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

import sbl
from sbl import ir
from sbl.evaluate import BUILTINS, EvalError, Scope, evaluate
from sbl.prng import Prng
from sbl.source import SblError
from sbl.values import floordiv, modulo, show, show_number
from tests.exprgen import bin_, call, expr_of

N, L = ir.Name, ir.Literal
NAMES: dict[str, Any] = {
    "x": 3, "xs": [10, 20, 30], "s": "a😀b", "r": {"a": 1, "b": "x"}, "empty": {},
    "rows": [{"a": 1}, {"a": 2}],
}


def ev(expr: Any, seed: int | None = 1, **names: Any) -> Any:
    """Evaluate an expression (or a plain value turned into one) with NAMES and a Prng."""
    rng = None if seed is None else Prng(seed)
    return evaluate(expr_of(expr), Scope({**NAMES, **names}, rng=rng))


def fails(expr: Any, **kwargs: Any) -> str:
    """The message of the EvalError that evaluating ``expr`` raises."""
    with pytest.raises(EvalError) as info:
        ev(expr, **kwargs)
    return info.value.message


def strict(value: Any, expected: Any) -> None:
    """Equal, with the same Python types all the way down (1 is not 1.0, True is not 1)."""
    assert type(value) is type(expected), (value, expected)
    if isinstance(expected, list):
        assert len(value) == len(expected)
        for v, e in zip(value, expected, strict=True):
            strict(v, e)
    elif isinstance(expected, dict):
        assert list(value) == list(expected)
        for k in expected:
            strict(value[k], expected[k])
    else:
        assert value == expected


# ---------------------------------------------------------------- numbers and str()

FORMATS = [
    (bin_("+", 0.1, 0.2), "0.30000000000000004"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
    (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (0.000001, "0.000001"), (-0.0, "0"), (-1.5, "-1.5"),
    (bin_("^", 2, 53), "9007199254740992"), (123e-20, "1.23e-18"), (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"), (123456789012345680000.0,
                                                         "123456789012345680000"),
    (100.0, "100"), (-1e-7, "-1e-7"), (1.25e21, "1.25e+21"), (True, "true"), (None, "none"),
    ("text", "text"), ([1, "a", None, False, [2.5]], '[1, "a", none, false, [2.5]]'),
    ({"a": 1, "b": "x"}, '{a: 1, b: "x"}'), ([], "[]"), ({}, "{}"),
    (["line\nbreak", 'q"', "\\", "\x01"], '["line\\nbreak", "q\\"", "\\\\", "\\u0001"]'),
    (N("odd"), '{"two words": 1, "": 2, _ok1: 3}'),
]


@pytest.mark.parametrize(("expr", "text"), FORMATS)
def test_str_conversion(expr: Any, text: str) -> None:
    odd = {"two words": 1, "": 2, "_ok1": 3}
    assert ev(call("str", expr), odd=odd) == text
    assert ev(ir.Template(("<", expr_of(expr), ">")), odd=odd) == f"<{text}>"


def test_show_number_matches_ecmascript_rules_on_boundaries() -> None:
    assert show_number(math.nextafter(1e21, 0)) == "999999999999999900000"
    assert show_number(1e-6) == "0.000001"
    assert show_number(9.5e-7) == "9.5e-7"
    assert show(0.1) == "0.1"


def test_whole_floats_become_ints_below_2_53() -> None:
    strict(ev(bin_("/", 6, 3)), 2)
    strict(ev(bin_("^", 2, 53)), 9007199254740992.0)  # 2**53 itself stays a float
    strict(ev(bin_("-", bin_("^", 2, 53), 1)), 9007199254740991)
    strict(ev(L(-0.0)), 0)
    strict(ev(bin_("*", -1, 0)), 0)


# ---------------------------------------------------------------- operators

VALUES = [
    (bin_("+", 1, 2), 3), (bin_("+", 0.5, 0.25), 0.75), (bin_("+", "a", "b"), "ab"),
    (bin_("+", [1], [2, "x"]), [1, 2, "x"]), (bin_("-", 1, 2.5), -1.5), (bin_("*", 3, 0.5), 1.5),
    (bin_("/", 1, 4), 0.25), (bin_("/", 7, 2), 3.5),
    (bin_("//", 7, 2), 3), (bin_("//", -7, 2), -4), (bin_("//", 7, -2), -4),
    (bin_("//", -7, -2), 3),
    (bin_("//", 7.5, 2), 3), (bin_("//", 1, 0.1), 9), (bin_("//", -0.5, 3), -1),
    (bin_("%", 7, 3), 1), (bin_("%", -7, 3), 2), (bin_("%", 7, -3), -2), (bin_("%", -7, -3), -1),
    (bin_("%", -7.5, 2), 0.5), (bin_("%", 5.5, -2), -0.5), (bin_("%", 1, 0.1), 0.09999999999999995),
    (bin_("^", 2, 10), 1024), (bin_("^", 2, -2), 0.25), (bin_("^", 0, 0), 1),
    (bin_("^", -2, 3), -8),
    (bin_("^", 1.1, 3), 1.3310000000000004), (bin_("^", 2, 0.5), 1.4142135623730951),
    (bin_("^", 10, -400), 0), (bin_("^", 4, 1.5), 8), (bin_("^", 2, 1023), 2.0**1023),
    (ir.Unary(ir.UnaryOp.NEG, L(3)), -3), (ir.Unary(ir.UnaryOp.NEG, L(0)), 0),
    (bin_("==", 1, 1.0), True), (bin_("==", 1, "1"), False), (bin_("==", True, 1), False),
    (bin_("==", None, None), True), (bin_("==", [1, [2]], [1, [2.0]]), True),
    (bin_("==", {"a": 1, "b": 2}, {"b": 2, "a": 1}), True), (bin_("!=", [1, 2], [2, 1]), True),
    (bin_("==", {"a": 1}, {"a": 1, "b": 2}), False), (bin_("==", 0, False), False),
    (bin_("<", 2, 10), True), (bin_("<", "10", "9"), True), (bin_(">=", "b", "b"), True),
    (bin_("<", "\uffff", "😀"), True), (bin_("<", "Z", "a"), True), (bin_("<=", 2.5, 2), False),
    (bin_("in", 2, [1, 2]), True), (bin_("in", [1], [[1]]), True),
    (bin_("in", "ell", "hello"), True),
    (bin_("in", "", "abc"), True), (bin_("in", "a", N("r")), True),
    (bin_("in", "z", N("r")), False),
    (bin_("and", 1, "x"), True), (bin_("and", 0, "x"), False), (bin_("or", 0, "x"), True),
    (bin_("or", "", []), False), (bin_("and", False, bin_("/", 1, 0)), False),
    (bin_("or", True, N("nope")), True), (ir.Unary(ir.UnaryOp.NOT, expr_of([])), True),
    (ir.Unary(ir.UnaryOp.NOT, L("0")), False),
]


@pytest.mark.parametrize(("expr", "value"), VALUES)
def test_operator_values(expr: ir.Expr, value: Any) -> None:
    strict(ev(expr), value)


ERRORS = [
    (bin_("+", True, 1), "'+' needs two numbers, two strings or two lists; got bool and number"),
    (bin_("+", "a", 1), "'+' needs two numbers, two strings or two lists; got string and number"),
    (bin_("+", {}, {}), "'+' needs two numbers, two strings or two lists; got record and record"),
    (bin_("-", "a", 1), "'-' needs two numbers; got string and number"),
    (bin_("*", [1], 2), "'*' needs two numbers; got list and number"),
    (bin_("^", None, 2), "'^' needs two numbers; got none and number"),
    (bin_("/", 1, 0), "division by zero"), (bin_("//", 1, 0), "division by zero"),
    (bin_("%", 1, 0), "division by zero"), (bin_("^", 0, -1), "division by zero"),
    (bin_("^", 0, -0.5), "division by zero"),
    (bin_("*", 1e308, 10), "number overflow (the result is not finite)"),
    (bin_("^", 10, 400), "number overflow (the result is not finite)"),
    (bin_("^", 0.5, -1075), "number overflow (the result is not finite)"),
    (bin_("/", 1e308, 1e-10), "number overflow (the result is not finite)"),
    (bin_("^", -8, bin_("/", 1, 3)), "'^' cannot raise a negative number to a fractional power"),
    (ir.Unary(ir.UnaryOp.NEG, L("a")), "'-' needs a number; got string"),
    (bin_("<", 1, "a"), "'<' needs two numbers or two strings; got number and string"),
    (bin_(">=", [1], [2]), "'>=' needs two numbers or two strings; got list and list"),
    (bin_("<", True, False), "'<' needs two numbers or two strings; got bool and bool"),
    (bin_("in", 1, "abc"), "'in' needs a string to look for in a string; got number"),
    (bin_("in", 1, N("r")), "'in' needs a string to look for in a record; got number"),
    (bin_("in", 1, 5), "'in' needs a list, string or record to look in; got number"),
    (N("nope"), "unknown name 'nope'"),
]


@pytest.mark.parametrize(("expr", "message"), ERRORS)
def test_operator_errors(expr: ir.Expr, message: str) -> None:
    assert fails(expr) == message


def test_floor_division_and_modulo_follow_python() -> None:
    rng = random.Random(0)
    pairs = [(rng.uniform(-1e3, 1e3), rng.choice([rng.uniform(-50, 50), rng.randint(-9, 9)]))
             for _ in range(3000)]
    for a, b in pairs:
        if b == 0:
            continue
        assert float(floordiv(float(a), float(b))) == a // b, (a, b)
        assert float(modulo(float(a), float(b))) == a % b, (a, b)


def test_cond_evaluates_only_the_chosen_branch() -> None:
    assert ev(ir.Cond(L(True), L(1), bin_("/", 1, 0))) == 1
    assert ev(ir.Cond(L(0), N("nope"), L("no"))) == "no"
    falsy_values: tuple[Any, ...] = (0, "", [], {}, None, False)
    for falsy in falsy_values:
        assert ev(ir.Cond(expr_of(falsy), L("yes"), L("no"))) == "no"
    assert ev(ir.Cond(L("0"), L("yes"), L("no"))) == "yes"


def test_template_concatenates_parts() -> None:
    template = ir.Template(("Score: ", bin_("+", 0.1, 0.2), " of ", N("xs"), "."))
    assert ev(template) == "Score: 0.30000000000000004 of [10, 20, 30]."


# ---------------------------------------------------------------- indexing, fields, ranges

INDEXING = [
    (ir.Index(N("xs"), L(0)), 10), (ir.Index(N("xs"), L(-1)), 30), (ir.Index(N("xs"), L(2.0)), 30),
    (ir.Index(N("s"), L(1)), "😀"), (ir.Index(N("s"), L(-1)), "b"), (call("len", N("s")), 3),
    (ir.Index(N("r"), L("b")), "x"), (ir.Attr(N("r"), "a"), 1),
    (ir.Attr(ir.Index(N("rows"), L(1)), "a"), 2),
    (ir.Range(L(1), L(3)), [1, 2, 3]), (ir.Range(L(3), L(1)), []), (ir.Range(L(-1), L(-1)), [-1]),
    # slices: Python's rules, strings by code point, never out of range
    (ir.Slice(N("xs"), L(1), None), [20, 30]), (ir.Slice(N("xs"), None, L(-1)), [10, 20]),
    (ir.Slice(N("xs"), L(-10), L(10)), [10, 20, 30]), (ir.Slice(N("xs"), L(2), L(1)), []),
    (ir.Slice(N("s"), L(1), L(2)), "😀"), (ir.Slice(N("s"), L(-2), None), "😀b"),
    (ir.Slice(N("s"), None, None), "a😀b"), (ir.Slice(N("s"), L(5), None), ""),
]


@pytest.mark.parametrize(("expr", "value"), INDEXING)
def test_indexing_values(expr: ir.Expr, value: Any) -> None:
    strict(ev(expr), value)


INDEX_ERRORS = [
    (ir.Index(N("xs"), L(3)), "index 3 is out of range for a list of length 3"),
    (ir.Index(N("xs"), L(-4)), "index -4 is out of range for a list of length 3"),
    (ir.Index(N("s"), L(3)), "index 3 is out of range for a string of length 3"),
    (ir.Index(N("xs"), L(1.5)), "a list index must be a whole number; got 1.5"),
    (ir.Index(N("xs"), L("a")), "a list index must be a whole number; got string"),
    (ir.Index(N("s"), L(True)), "a string index must be a whole number; got bool"),
    (ir.Index(N("r"), L(1)), "a record index must be a string; got number"),
    (ir.Index(N("r"), L("z")), "record has no field 'z' (fields: a, b)"),
    (ir.Attr(N("r"), "z"), "record has no field 'z' (fields: a, b)"),
    (ir.Attr(N("empty"), "x"), "record has no field 'x' (it has no fields)"),
    (ir.Index(L(5), L(0)), "cannot index a number"), (ir.Index(L(None), L(0)), "cannot index none"),
    (ir.Attr(L(None), "correct"), "cannot get field 'correct' of none"),
    (ir.Attr(N("xs"), "a"), "cannot get field 'a' of a list"),
    (ir.Range(L(1.5), L(3)), "'..' needs whole numbers; got 1.5"),
    (ir.Range(L(1), L("a")), "'..' needs whole numbers; got string"),
    (ir.Range(L(0), L(2_000_000)),
     "'..' would make a list of 2000001 items (the limit is 1000000)"),
    (ir.Slice(N("xs"), L(0.5), None), "a slice bound must be a whole number; got 0.5"),
    (ir.Slice(N("s"), None, L("a")), "a slice bound must be a whole number; got string"),
    (ir.Slice(N("r"), L(0), None), "cannot slice a record"),
]


@pytest.mark.parametrize(("expr", "message"), INDEX_ERRORS)
def test_indexing_errors(expr: ir.Expr, message: str) -> None:
    assert fails(expr) == message


def test_prev_gives_earlier_trials_or_none() -> None:
    trials: dict[int, dict[str, Any]] = {1: {"correct": True}, 2: {"correct": False}}
    scope = Scope({}, prev=lambda back: trials.get(back))
    assert evaluate(ir.Attr(ir.Prev(1), "correct"), scope) is True
    assert evaluate(ir.Attr(ir.Prev(2), "correct"), scope) is False
    assert evaluate(ir.Prev(3), scope) is None
    with pytest.raises(EvalError, match="cannot get field 'correct' of none"):
        evaluate(ir.Attr(ir.Prev(1), "correct"), Scope({}))


def test_comprehension_filters_maps_and_scopes() -> None:
    v = N("v")
    doubled = ir.Comprehension(bin_("*", v, 10), "v", N("xs"), bin_(">", v, 10))
    assert ev(doubled) == [200, 300]
    assert ev(ir.Comprehension(bin_("+", v, N("x")), "v", ir.Range(L(1), L(3)))) == [4, 5, 6]
    shadow = ir.Comprehension(N("x"), "x", expr_of(["a", "b"]))
    assert ev(shadow) == ["a", "b"] and ev(N("x")) == 3
    # a string's items are its characters (code points, as len counts them)
    assert ev(ir.Comprehension(upper := call("upper", v), "v", L("a😀b"))) == ["A", "😀", "B"]
    assert ev(ir.Comprehension(upper, "v", L(""))) == []
    assert fails(ir.Comprehension(v, "v", L(3))) == (
        "'for' needs a list or a string to loop over; got number")
    assert ev(ir.Comprehension(N("self"), "self", expr_of([1, 2]))) == [1, 2]  # any name binds


def test_errors_carry_the_span_of_the_failing_node() -> None:
    inner = ir.Binary(ir.BinaryOp.DIV, L(1), L(0), span=ir.Span("e.sbl", 3, 9, 3, 14))
    outer = ir.Binary(ir.BinaryOp.ADD, L(1), inner, span=ir.Span("e.sbl", 3, 5, 3, 14))
    with pytest.raises(EvalError) as info:
        evaluate(outer, Scope({}))
    assert info.value.span == ir.Span("e.sbl", 3, 9, 3, 14)
    assert str(info.value) == "division by zero"


# ---------------------------------------------------------------- builtins

BUILTIN_VALUES = [
    (call("len", [1, 2]), 2), (call("len", "a😀"), 2), (call("len", N("r")), 2),
    (call("sum", [1, 2, 3.5]), 6.5), (call("sum", []), 0),
    (call("sum", call("repeat", [0.1], 10)), 0.9999999999999999), (call("mean", [1, 2]), 1.5),
    (call("min", [3, 1, 2]), 1), (call("min", 3, 1), 1), (call("max", "b", "a"), "b"),
    (call("max", ["a", "😀", "\uffff"]), "😀"), (call("min", [1, 1.0]), 1),
    (call("round", 2.5), 3), (call("round", -2.5), -3), (call("round", 1.005, 2), 1),
    (call("round", 1234.5678, -2), 1200), (call("round", 0.125, 2), 0.13), (call("round", -0.4), 0),
    (call("round", 2.675, 2), 2.68), (call("round", 0.5), 1),
    (call("abs", -3), 3), (call("abs", -2.5), 2.5), (call("floor", -2.5), -3),
    (call("ceil", -2.5), -2), (call("ceil", -0.5), 0), (call("floor", 1e300), 1e300),
    (call("range", 3), [0, 1, 2]), (call("range", 2, 5), [2, 3, 4]), (call("range", 5, 2), []),
    (call("range", -2), []),
    (call("upper", "straße"), "STRASSE"), (call("lower", "ΑΣ"), "ας"),
    (call("upper", "é😀"), "É😀"),
    (call("str", 1e21), "1e+21"), (call("str", "x"), "x"),
    (call("number", "3.5"), 3.5), (call("number", " 42\n"), 42), (call("number", "1e21"), 1e21),
    (call("number", "-0"), 0), (call("number", ".5"), 0.5), (call("number", "5."), 5),
    (call("number", 7), 7),
    (call("join", ["a", 1, None, [2]], ", "), "a, 1, none, [2]"), (call("join", ["a", "b"]), "ab"),
    (call("split", "a,b,,c", ","), ["a", "b", "", "c"]), (call("split", "abc", "x"), ["abc"]),
    (call("split", "a😀b", ""), ["a", "😀", "b"]), (call("split", "", ""), []),
    (call("fixed", 2.5, 2), "2.50"), (call("fixed", 83.333, 1), "83.3"),
    (call("fixed", 0.125, 2), "0.13"), (call("fixed", -0.125, 2), "-0.13"),
    (call("fixed", -0.001, 2), "0.00"), (call("fixed", 1.005, 2), "1.00"),
    (call("fixed", 2.5, 0), "3"), (call("fixed", 1e21, 1), "1e+21"),
    (call("pad", 7, 2, "0"), "07"), (call("pad", "abc", 2), "abc"), (call("pad", "😀", 3), "  😀"),
    (call("trim", " \t a b\n\r "), "a b"), (call("trim", "\u00a0x"), "\u00a0x"),
    (call("replace", "a-b-c", "-", ", "), "a, b, c"), (call("replace", "aaa", "aa", "b"), "ba"),
    (call("startswith", "yes", "y"), True), (call("endswith", "yes", "y"), False),
    (call("contains", [1, 2], 2), True), (call("contains", "abc", "bc"), True),
    (call("contains", N("r"), "a"), True), (call("contains", [[1]], [1.0]), True),
    (call("reverse", [1, 2, 3]), [3, 2, 1]), (call("reverse", "a😀b"), "b😀a"),
    (call("sorted", [3, 1, 2.5]), [1, 2.5, 3]), (call("sorted", ["b", "a", "😀", "\uffff", "B"]),
                                                  ["B", "a", "b", "\uffff", "😀"]),
    (call("sorted", []), []),
    (call("count", [1, 2, 1, 1.0], 1), 3), (call("count", [[1], [1], 1], [1]), 2),
    (call("any", [0, "", None]), False), (call("any", [0, 1]), True), (call("all", []), True),
    (call("all", [1, []]), False),
    (call("cross", color=["red", "green"], word=["RED", "GREEN"]),
     [{"color": "red", "word": "RED"}, {"color": "red", "word": "GREEN"},
      {"color": "green", "word": "RED"}, {"color": "green", "word": "GREEN"}]),
    (call("cross", a=[1], b=[]), []),
    (call("repeat", [1, 2], 3), [1, 2, 1, 2, 1, 2]), (call("repeat", [1], 0), []),
    (call("repeat", [], 1e15), []),
]


@pytest.mark.parametrize(("expr", "value"), BUILTIN_VALUES)
def test_builtin_values(expr: ir.Expr, value: Any) -> None:
    strict(ev(expr), value)


BUILTIN_ERRORS = [
    (call("image", 1, "a dot"), "image needs a path; got number"),
    (call("image", "a.png", None), "image needs a description; got none"),
    (call("len", 3), "len needs a list, string or record; got number"),
    (call("len", 1, 2), "len takes 1 argument; got 2"),
    (ir.Call("len", (N("xs"),), (ir.Field("x", L(1)),)), "len takes no named arguments"),
    (call("nope", 1), "unknown function 'nope'"),
    (call("sum", [1, "a"]), "sum needs a list of numbers; item 1 is a string"),
    (call("sum", [None]), "sum needs a list of numbers; item 0 is none"),
    (call("mean", []), "mean needs a non-empty list (guard it: if len(xs) > 0 then mean(xs) "
                       "else ...)"),
    (call("mean", [1e308, 1e308]), "number overflow (the result is not finite)"),
    (call("min", []), "min needs a non-empty list (guard it: if len(xs) > 0 then min(xs) "
                      "else ...)"),
    (call("min"), "min takes at least 1 argument; got 0"),
    (call("min", 5), "min needs a list or at least 2 arguments; got number"),
    (call("max", [1, "a"]), "max needs all numbers or all strings; got number and string"),
    (call("max", [True]), "max needs all numbers or all strings; got bool"),
    (call("sorted", [1, "a", None]),
     "sorted needs all numbers or all strings; got number, string and none"),
    (call("round", "a"), "round needs a number; got string"),
    (call("round", 1, 0.5), "round needs a whole number of digits; got 0.5"),
    (call("round", 1, 400), "round needs digits from -308 to 308; got 400"),
    (call("round", 1e300, 10), "number overflow (the result is not finite)"),
    (call("round", 1, 2, 3), "round takes 1 to 2 arguments; got 3"),
    (call("abs", "a"), "abs needs a number; got string"),
    (call("floor", True), "floor needs a number; got bool"),
    (call("range", 1.5), "range needs whole numbers; got 1.5"),
    (call("range", 0, "a"), "range needs whole numbers; got string"),
    (call("range", 0, 1_000_001),
     "range would make a list of 1000001 items (the limit is 1000000)"),
    (call("sample", [1, 2, 3], 4), "sample cannot take 4 items from a list of 3"),
    (call("sample", [1, 2, 3], -1), "sample cannot take -1 items from a list of 3"),
    (call("sample", [1, 2, 3], 1.5), "sample needs a whole number of items; got 1.5"),
    (call("shuffle", "abc"), "shuffle needs a list; got string"),
    (call("choice", []), "choice needs a non-empty list"),
    (call("randint", 5, 1), "randint needs a <= b; got 5 and 1"),
    (call("randint", 1, 2.5), "randint needs whole numbers; got 2.5"),
    (call("random", 1), "random takes no arguments; got 1"),
    (call("upper", 1), "upper needs a string; got number"),
    (call("number", "abc"), 'number needs a decimal number like "-3.5e2"; got "abc"'),
    (call("number", "0x10"), 'number needs a decimal number like "-3.5e2"; got "0x10"'),
    (call("number", "Infinity"), 'number needs a decimal number like "-3.5e2"; got "Infinity"'),
    (call("number", ""), 'number needs a decimal number like "-3.5e2"; got ""'),
    (call("number", "1e400"), "number overflow (the result is not finite)"),
    (call("number", True), "number needs a string or a number; got bool"),
    (call("join", "ab"), "join needs a list; got string"),
    (call("join", ["a"], 1), "join needs a string as separator; got number"),
    (call("fixed", 1, 21), "fixed needs digits from 0 to 20; got 21"),
    (call("fixed", 1, 0.5), "fixed needs a whole number of digits; got 0.5"),
    (call("pad", 1, 3, "ab"), "pad needs one character as fill; got string"),
    (call("pad", 1, 2_000_000), "pad would make a string longer than 1000000 characters"),
    (call("replace", "abc", "", "x"), "replace needs a non-empty string to replace"),
    (call("startswith", "abc", 1), "startswith needs a string to look for; got number"),
    (call("split", 1, ","), "split needs a string; got number"),
    (call("contains", 1, 1), "contains needs a list, string or record to look in; got number"),
    (call("reverse", 1), "reverse needs a list or a string; got number"),
    (call("count", "aa", "a"), "count needs a list; got string"),
    (call("any", None), "any needs a list; got none"),
    (call("cross"), "cross needs at least one named list, like cross(a: [1, 2])"),
    (call("cross", [1]), "cross takes only named arguments, like cross(a: [1, 2])"),
    (call("cross", a=1), "cross needs a list for 'a'; got number"),
    (ir.Call("cross", (), (ir.Field("a", expr_of([1])), ir.Field("a", expr_of([2])))),
     "cross got 'a' twice"),
    (call("cross", a=call("range", 1000), b=call("range", 1001)),
     "cross would make a list of 1001000 items (the limit is 1000000)"),
    (call("repeat", [1], -1), "repeat needs a number of times >= 0; got -1"),
    (call("repeat", [1], 0.5), "repeat needs a whole number of times; got 0.5"),
    (call("repeat", [1], 1_000_001),
     "repeat would make a list of 1000001 items (the limit is 1000000)"),
]


@pytest.mark.parametrize(("expr", "message"), BUILTIN_ERRORS)
def test_builtin_errors(expr: ir.Expr, message: str) -> None:
    assert fails(expr) == message


def test_random_builtins_need_a_generator() -> None:
    assert fails(call("shuffle", [1, 2]), seed=None) == \
        "shuffle needs a random generator, but none was given"


def test_builtin_table_describes_every_builtin() -> None:
    required = {"len", "sum", "mean", "min", "max", "round", "abs", "floor", "ceil", "range",
                "shuffle", "sample", "choice", "randint", "random", "upper", "lower", "str",
                "markup", "number", "join", "split", "contains", "reverse", "sorted", "count",
                "any", "all", "cross", "repeat", "fixed", "pad", "trim", "replace", "startswith",
                "endswith", "latin", "index", "set", "sqrt", "exp", "log", "sin", "cos", "tan",
                "atan2", "hypot", "pi", "image"}
    assert set(BUILTINS) == required
    for name, b in BUILTINS.items():
        assert b.name == name and b.doc and "\n" not in b.doc
        assert b.max_args is None or b.max_args >= b.min_args
    assert (BUILTINS["round"].min_args, BUILTINS["round"].max_args) == (1, 2)
    assert BUILTINS["max"].max_args is None and BUILTINS["cross"].named
    assert {n for n, b in BUILTINS.items() if b.random} == {"shuffle", "sample", "choice",
                                                             "randint", "random"}


# ---------------------------------------------------------------- randomness


def test_prng_is_mulberry32_and_resumable() -> None:
    rng = Prng(1)
    # The first outputs of the reference mulberry32 one-liner for seed 1.
    assert [rng.next_uint32() for _ in range(3)] == [2693262067, 11749833, 2265367787]
    saved = rng.state
    after = [rng.next_float() for _ in range(5)]
    resumed = Prng(99)
    resumed.state = saved
    assert [resumed.next_float() for _ in range(5)] == after
    assert Prng(-1).state == Prng(2**32 - 1).state == 2**32 - 1
    assert all(0 <= Prng(s).next_float() < 1 for s in range(200))


def _draws(seed: int, n: int) -> list[float]:
    rng = Prng(seed)
    return [rng.next_float() for _ in range(n)]


def test_shuffle_sample_choice_randint_follow_their_definitions() -> None:
    items = list(range(1, 11))
    u = _draws(5, 20)
    expected = list(items)
    for step, i in enumerate(range(len(expected) - 1, 0, -1)):  # Fisher-Yates, last index down
        j = math.floor(u[step] * (i + 1))
        expected[i], expected[j] = expected[j], expected[i]
    assert ev(call("shuffle", items), seed=5) == expected
    front = list(items)
    for i in range(3):  # partial Fisher-Yates from the front
        j = i + math.floor(u[i] * (len(front) - i))
        front[i], front[j] = front[j], front[i]
    assert ev(call("sample", items, 3), seed=5) == front[:3]
    assert ev(call("choice", items), seed=5) == items[math.floor(u[0] * 10)]
    assert ev(call("randint", 3, 8), seed=5) == 3 + math.floor(u[0] * 6)
    assert ev(call("random"), seed=5) == u[0]


def test_random_builtins_draw_left_to_right() -> None:
    u = _draws(9, 3)
    pair = ev(expr_of([call("random"), {"a": call("random"), "b": call("random")}]), seed=9)
    assert pair == [u[0], {"a": u[1], "b": u[2]}]
    assert ev(call("shuffle", [1]), seed=9) == [1]  # no draws for a single item
    assert sorted(ev(call("shuffle", items := list(range(30))), seed=9)) == items


def test_check_takes_a_loop_over_a_string_as_its_characters() -> None:
    """The checker types `for k in "ab"` as a loop over strings, and still refuses a number."""
    text = 'experiment "x" { instructions: "Press A or B." }\n' \
           'text { text: "go", choices: [lower(k) for k in upper("ab")] }\n'
    rows = sbl.loads(text, "x.sbl").run("random:1")
    assert rows[-1]["choices"] == ["a", "b"]
    with pytest.raises(SblError, match="'for' needs a list or a string to go over, not a"):
        sbl.loads(text.replace('upper("ab")', "3"), "x.sbl")
