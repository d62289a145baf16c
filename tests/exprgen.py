"""Hypothesis strategies that generate IR expressions for the evaluator parity test.

Expressions are built by type (numbers, strings, bools, lists, records) so that most of them
evaluate to a value, with a steady share of ill-typed operands, bad indexes and empty lists
so that the error paths are compared too. Every expression may use the names in
:data:`NAMES` and ``prev``/``prev(2)`` (see :func:`prev`).

Kept out on purpose (documented in docs/language.md): ``^`` with a fractional exponent
(``math.pow`` and ``Math.pow`` may differ in the last bit) and ``upper``/``lower`` on
characters whose case mapping changed after Unicode 14.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from hypothesis import strategies as st

from sbl import ir
from sbl.ir import BinaryOp as Op
from sbl.values import Row

NAMES: dict[str, Any] = {
    "x": 3, "y": -2.5, "z": 0, "big": 1e21, "tiny": 1e-7, "huge": 1.7976931348623157e308,
    "s": "héllo wörld", "e": "😀a\uffff\ue000", "empty": "", "quote": 'say "hi"\n\\',
    "t": True, "f": False, "n": None,
    "xs": [1, 2, 3], "ys": [0.5, -1, 2.25, 1e-7], "words": ["b", "a", "é", "😀", "\uffff", "B"],
    "mixed": [1, "a", True, None, [1]], "nested": [[1, 2], [], [3]], "none_list": [],
    "r": {"a": 1, "b": "x", "c": [1, 2]}, "odd": {"": 1, "two words": 2, "__proto__": 3},
    "rows": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"b": "z", "a": 3}],
    # recorded rows of different kinds: a missing column reads as none (values.Row)
    "trials": [Row({"kind": "instructions", "a": 0}), Row({"kind": "text", "a": 1, "b": "x"}),
               Row({"kind": "text", "b": "y", "a": 2, "task": "go"})],
}
PREV: dict[int, dict[str, Any]] = {
    1: Row({"correct": True, "rt": 512, "response": "f"}),
    2: Row({"correct": False, "rt": 800.5, "response": "j"}),
}
# The math builtins of one argument (sbl/mathfns.py): sbl's own code in both runtimes.
MATH_1 = ("sqrt", "exp", "log", "sin", "cos", "tan")
NUMBER_NAMES = ("x", "y", "z", "big", "tiny", "huge")
STRING_NAMES = ("s", "e", "empty", "quote")
LIST_NAMES = ("xs", "ys", "words", "mixed", "nested", "none_list", "rows", "trials")
RECORD_NAMES = ("r", "odd")

# Characters whose case mappings Python 3.11 (Unicode 14) and current browsers share.
ALPHABET = ("abcxyzABCXYZ019 .,-+e_{}\"\\'\n\t\x01é ß ς Σ İ ı ﬁ ŉ ǅ ÿ Ω ω 😀 👍🏽 \uffff \ue000 "
            "中文 ا ∑ \u0301").replace(" ", "") + " "
NUMBER_TEXTS = (" 3.5 ", "1e21", "-0", "abc", "1_000", "0x10", "Infinity", ".5", "5.", "1e400",
                "", "+2", "\t-7e-3\n", "1.2.3", "٣", "NaN", "1e-400", "00012")
INTERESTING = (0.1, 0.2, 0.5, 1.5, 2.5, -2.5, 1.005, 1e21, 1e-7, 1.5e-7, 9007199254740992.0,
               9007199254740993.0, 123456789012345680000.0, 5e-324, 1.7976931348623157e308,
               -0.0, 0.30000000000000004, 4.35, 1e16, 1e300, 2.675)


def prev(back: int) -> dict[str, Any] | None:
    """The data of the trial ``back`` trials before: prev and prev(2) exist, prev(3) is none."""
    return PREV.get(back)


def lit(value: Any) -> ir.Literal:
    """A literal node."""
    return ir.Literal(value)


def expr_of(value: Any) -> ir.Expr:
    """An expression for a Python value: nodes stay, lists and dicts become displays."""
    if isinstance(value, ir.Node):
        return value  # type: ignore[return-value]
    if isinstance(value, list):
        return ir.ListExpr(tuple(expr_of(v) for v in value))
    if isinstance(value, dict):
        return ir.RecordExpr(tuple(ir.Field(k, expr_of(v)) for k, v in value.items()))
    return ir.Literal(value)


def call(func: str, *args: Any, **kwargs: Any) -> ir.Call:
    """A call node; arguments may be nodes or plain Python values."""
    return ir.Call(func, tuple(expr_of(a) for a in args),
                   tuple(ir.Field(k, expr_of(v)) for k, v in kwargs.items()))


def bin_(op: Op | str, left: Any, right: Any) -> ir.Binary:
    """A binary node; ``op`` may be the operator's text, operands plain Python values."""
    return ir.Binary(Op(op), expr_of(left), expr_of(right))


small_ints = st.integers(-6, 12).map(lit)
number_leaves = st.one_of(
    small_ints,
    st.sampled_from(INTERESTING).map(lit),
    st.floats(-1e6, 1e6).map(lit),
    st.floats(allow_nan=False, allow_infinity=False).map(lit),
    st.sampled_from(NUMBER_NAMES).map(ir.Name),
    st.just(ir.Attr(ir.Prev(1), "rt")),
)
string_leaves = st.one_of(
    st.text(st.sampled_from(ALPHABET), max_size=6).map(lit),
    st.sampled_from(NUMBER_TEXTS).map(lit),
    st.sampled_from(STRING_NAMES).map(ir.Name),
)
bool_leaves = st.one_of(st.booleans().map(lit), st.sampled_from(("t", "f")).map(ir.Name))
list_leaves = st.sampled_from(LIST_NAMES).map(ir.Name)
record_leaves = st.one_of(st.sampled_from(RECORD_NAMES).map(ir.Name),
                          st.sampled_from((1, 2, 3)).map(ir.Prev),
                          st.sampled_from((0, 1, -1)).map(
                              lambda i: ir.Index(ir.Name("trials"), lit(i))))
# Code point order and UTF-16 order disagree between U+E000..U+FFFF and astral characters.
tricky_strings = st.sampled_from(("\uffff", "😀", "\ue000", "a", "", "é", "a😀", "a\uffff", "👍🏽",
                                  "\U0010ffff", "\ud7ff")).map(lit)
oddities = st.one_of(st.just(lit(None)), st.just(ir.Name("n")), st.just(ir.Name("nope")),
                     st.just(ir.Prev(3)))


@functools.cache
def numbers(d: int) -> st.SearchStrategy[ir.Expr]:
    """Expressions that mostly evaluate to numbers."""
    if d <= 0:
        return number_leaves
    n = numbers(d - 1)
    arith = st.sampled_from((Op.ADD, Op.SUB, Op.MUL, Op.DIV, Op.FLOORDIV, Op.MOD))
    return st.one_of(
        number_leaves,
        st.builds(bin_, arith, n, n),
        st.builds(bin_, arith, n, anys(d - 1)),
        st.builds(bin_, st.just(Op.POW), n, exponents(d - 1)),
        st.builds(lambda v: ir.Unary(ir.UnaryOp.NEG, v), n),
        st.builds(call, st.sampled_from(("abs", "floor", "ceil", "round")), n),
        st.builds(call, st.sampled_from(MATH_1), st.one_of(n, anys(d - 1))),
        st.builds(call, st.sampled_from(("atan2", "hypot")), n, n),
        st.just(call("pi")),
        st.builds(lambda v, k: call("round", v, lit(k)), n, st.integers(-3, 4)),
        st.builds(call, st.sampled_from(("len", "sum", "mean", "min", "max")), lists(d - 1)),
        st.builds(call, st.just("len"), st.one_of(strings(d - 1), records(d - 1))),
        st.builds(call, st.sampled_from(("min", "max")), n, n),
        st.builds(lambda a, b: call("randint", a, b), small_ints, small_ints),
        st.just(call("random")),
        st.builds(lambda v: call("number", v), strings(d - 1)),
        st.builds(lambda xs, v: call("count", xs, v), lists(d - 1), anys(d - 1)),
        st.builds(lambda xs, v: call("index", xs, v), st.one_of(lists(d - 1), anys(d - 1)),
                  anys(d - 1)),
        st.builds(lambda xs, i: call("index", xs, ir.Index(xs, lit(i))), lists(d - 1),
                  st.integers(-1, 2)),  # an item that is there (unless xs draws)
        st.builds(ir.Index, lists(d - 1), indexes()),
        st.builds(ir.Cond, bools(d - 1), n, n),
        st.builds(lambda r: ir.Attr(r, "a"), records(d - 1)),
    )


@functools.cache
def exponents(d: int) -> st.SearchStrategy[ir.Expr]:
    """Exponents that are whole numbers, 0.5 (sqrt) or not numbers, never other fractions."""
    return st.one_of(
        st.integers(-8, 60).map(lit),
        st.just(lit(0.5)),
        st.sampled_from((1024, 1075, -1074, 2**53)).map(lit),
        st.builds(lambda v: call("floor", v), numbers(d)),
        st.builds(lambda v: call("len", v), lists(d)),
        oddities,
    )


@functools.cache
def indexes() -> st.SearchStrategy[ir.Expr]:
    """Positions: mostly small whole numbers, sometimes fractional or not numbers."""
    return st.one_of(st.integers(-5, 5).map(lit), st.just(lit(1.5)), st.just(lit("a")),
                     st.just(ir.Name("x")), st.just(lit(True)))


@functools.cache
def bounds() -> st.SearchStrategy[ir.Expr | None]:
    """Slice bounds: mostly small whole numbers (some past either end), sometimes missing,
    fractional or not numbers."""
    return st.one_of(st.none(), st.integers(-7, 7).map(lit), st.just(lit(1.5)),
                     st.just(lit("a")), st.just(lit(None)), st.just(lit(10**20)))


@functools.cache
def strings(d: int) -> st.SearchStrategy[ir.Expr]:
    """Expressions that mostly evaluate to strings."""
    if d <= 0:
        return string_leaves
    s = strings(d - 1)
    return st.one_of(
        string_leaves,
        st.builds(bin_, st.just(Op.ADD), s, s),
        st.builds(bin_, st.just(Op.ADD), s, anys(d - 1)),
        st.builds(lambda parts: ir.Template(tuple(parts)),
                  st.lists(st.one_of(st.text(st.sampled_from(ALPHABET), max_size=4), anys(d - 1)),
                           max_size=4)),
        st.builds(call, st.sampled_from(("upper", "lower", "reverse")), s),
        st.builds(call, st.just("str"), anys(d - 1)),
        st.builds(lambda xs, sep: call("join", xs, sep), lists(d - 1), s),
        st.builds(lambda xs: call("join", xs), lists(d - 1)),
        st.builds(ir.Index, s, indexes()),
        st.builds(ir.Slice, st.one_of(s, tricky_strings), bounds(), bounds()),
        st.builds(lambda v, k: call("fixed", v, k), numbers(d - 1),
                  st.one_of(st.integers(-1, 21).map(lit), indexes())),
        st.builds(lambda v, w: call("pad", v, w), anys(d - 1), st.integers(-1, 8).map(lit)),
        st.builds(lambda v, w, f: call("pad", v, w, f), anys(d - 1), st.integers(0, 8).map(lit),
                  st.one_of(st.sampled_from(("0", " ", "😀", "", "ab")).map(lit), anys(0))),
        st.builds(lambda v: call("trim", v), st.one_of(s, st.sampled_from(
            (" a ", "\t\nb\r ", "\u00a0c\u00a0", "\ufeffd", "  ")).map(lit))),
        st.builds(lambda v, old, new: call("replace", v, old, new), s,
                  st.one_of(st.sampled_from(("a", "", "😀", "aa", "\uffff")).map(lit), s), s),
        st.builds(lambda xs: call("choice", xs), lists(d - 1)),
        st.builds(ir.Cond, bools(d - 1), s, s),
        st.builds(lambda r: ir.Attr(r, "b"), records(d - 1)),
    )


@functools.cache
def bools(d: int) -> st.SearchStrategy[ir.Expr]:
    """Expressions that mostly evaluate to bools."""
    if d <= 0:
        return bool_leaves
    b = bools(d - 1)
    compare = st.sampled_from((Op.EQ, Op.NE, Op.LT, Op.LE, Op.GT, Op.GE))
    return st.one_of(
        bool_leaves,
        st.builds(bin_, compare, numbers(d - 1), numbers(d - 1)),
        st.builds(bin_, compare, strings(d - 1), strings(d - 1)),
        st.builds(bin_, compare, tricky_strings, tricky_strings),
        st.builds(_same_record_twice, st.lists(st.tuples(st.sampled_from("abcd"), anys(0)),
                                               max_size=4), st.randoms(use_true_random=False)),
        st.builds(bin_, compare, anys(d - 1), anys(d - 1)),
        st.builds(bin_, st.sampled_from((Op.AND, Op.OR)), anys(d - 1), anys(d - 1)),
        st.builds(bin_, st.sampled_from((Op.AND, Op.OR)), b, b),
        st.builds(lambda v: ir.Unary(ir.UnaryOp.NOT, v), anys(d - 1)),
        st.builds(lambda fn, v, p: call(fn, v, p), st.sampled_from(("startswith", "endswith")),
                  st.one_of(strings(d - 1), tricky_strings),
                  st.one_of(strings(d - 1), tricky_strings)),
        st.builds(bin_, st.just(Op.IN), anys(d - 1), st.one_of(lists(d - 1), strings(d - 1),
                                                              records(d - 1))),
        st.builds(lambda c, v: call("contains", c, v), anys(d - 1), anys(d - 1)),
        st.builds(call, st.sampled_from(("any", "all")), lists(d - 1)),
        st.just(ir.Attr(ir.Prev(1), "correct")),
        st.just(ir.Attr(ir.Prev(2), "task")),
    )


@functools.cache
def lists(d: int) -> st.SearchStrategy[ir.Expr]:
    """Expressions that mostly evaluate to lists."""
    if d <= 0:
        return list_leaves
    xs = lists(d - 1)
    return st.one_of(
        list_leaves,
        st.builds(lambda items: ir.ListExpr(tuple(items)), st.lists(anys(d - 1), max_size=4)),
        st.builds(lambda items: ir.ListExpr(tuple(items)), st.lists(numbers(d - 1), max_size=5)),
        st.builds(lambda items: ir.ListExpr(tuple(items)), st.lists(strings(d - 1), max_size=5)),
        st.builds(ir.Range, small_ints, small_ints),
        st.builds(call, st.just("range"), small_ints),
        st.builds(call, st.just("range"), small_ints, small_ints),
        st.builds(bin_, st.just(Op.ADD), xs, xs),
        st.builds(call, st.sampled_from(("shuffle", "sorted", "reverse", "latin")), xs),
        st.builds(lambda items: call("sorted", ir.ListExpr(tuple(items))),
                  st.lists(tricky_strings, max_size=6)),
        st.builds(lambda v, k: call("sample", v, k), xs, st.integers(-1, 4).map(lit)),
        st.builds(lambda v, k: call("repeat", v, k), xs, st.integers(-1, 3).map(lit)),
        st.builds(lambda v, sep: call("split", v, sep), strings(d - 1),
                  st.sampled_from(("", " ", "a", "l", "😀")).map(lit)),
        st.builds(_cross, st.lists(xs, min_size=0, max_size=3)),
        comprehensions(d),
        st.builds(ir.Slice, xs, bounds(), bounds()),
        st.builds(ir.Cond, bools(d - 1), xs, xs),
        st.builds(lambda v, i, x: call("set", v, i, x), st.one_of(xs, anys(d - 1)),
                  st.one_of(indexes(), st.sampled_from((-7, 7, 1e300)).map(lit)), anys(d - 1)),
        st.builds(lambda v, i, x: call("set", v, lit(i), x), list_leaves, st.integers(-1, 1),
                  anys(d - 1)),  # a position every named list has
    )


def _same_record_twice(fields: list[tuple[str, ir.Expr]], rnd: Any) -> ir.Binary:
    """``{...} == {...}`` with the same fields in another order (equal records ignore order)."""
    shuffled = list(fields)
    rnd.shuffle(shuffled)
    record = lambda fs: ir.RecordExpr(tuple(ir.Field(k, e) for k, e in fs))  # noqa: E731
    return bin_(Op.EQ, record(fields), record(shuffled))


def _cross(factors: list[ir.Expr]) -> ir.Call:
    names = ["color", "word", "size"]
    return ir.Call("cross", (), tuple(ir.Field(n, f) for n, f in zip(names, factors, strict=False)))


@functools.cache
def comprehensions(d: int) -> st.SearchStrategy[ir.Expr]:
    """``for v in xs [if c] body``, where body and condition usually use ``v``."""
    v = ir.Name("v")
    body = st.one_of(
        st.just(v),
        st.builds(lambda e: bin_(Op.ADD, v, e), anys(d - 1)),
        st.builds(lambda e: bin_(Op.MUL, v, e), numbers(d - 1)),
        st.builds(lambda e: ir.Template(("<", v, "|", e, ">")), anys(d - 1)),
        st.just(ir.RecordExpr((ir.Field("item", v), ir.Field("x", ir.Name("x"))))),
        anys(d - 1),
    )
    cond = st.one_of(st.none(), st.just(v), st.builds(lambda e: bin_(Op.GT, v, e), numbers(0)),
                     bools(d - 1))
    iterable = st.one_of(lists(d - 1), st.builds(ir.Range, small_ints, small_ints), strings(0))
    return st.builds(lambda b, it, c: ir.Comprehension(b, "v", it, c), body, iterable, cond)


@functools.cache
def records(d: int) -> st.SearchStrategy[ir.Expr]:
    """Expressions that mostly evaluate to records."""
    if d <= 0:
        return record_leaves
    keys = st.sampled_from(("a", "b", "c", "_x", "A1"))
    return st.one_of(
        record_leaves,
        st.builds(lambda fs: ir.RecordExpr(tuple(ir.Field(k, e) for k, e in fs)),
                  st.lists(st.tuples(keys, anys(d - 1)), max_size=3)),
        st.builds(ir.Index, st.just(ir.Name("rows")), indexes()),
        st.builds(ir.Index, records(d - 1), st.sampled_from(("a", "b", "", "__proto__")).map(lit)),
        st.builds(ir.Cond, bools(d - 1), records(d - 1), records(d - 1)),
    )


@functools.cache
def anys(d: int) -> st.SearchStrategy[ir.Expr]:
    """Expressions of any type, including none and unknown names."""
    return st.one_of(numbers(d), strings(d), bools(d), lists(d), records(d), oddities)


def expressions(depth: int = 3) -> st.SearchStrategy[ir.Expr]:
    """Top-level expressions (spans are added afterwards by :func:`with_spans`)."""
    return anys(depth)


def with_spans(expr: ir.Expr) -> ir.Expr:
    """A copy of ``expr`` whose nodes carry distinct spans, numbered in pre-order."""
    counter = iter(range(1, 1_000_000))

    def visit(node: Any) -> Any:
        if isinstance(node, tuple):
            return tuple(visit(item) for item in node)
        if not isinstance(node, ir.Node):
            return node
        line = next(counter)
        cls: Any = type(node)
        children = {name: visit(getattr(node, name)) for name in _field_names(cls)}
        return cls(**children, span=ir.Span("gen.sbl", line, 1, line, 2))

    return visit(expr)  # type: ignore[no-any-return]


@functools.cache
def _field_names(cls: Any) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.name != "span")
