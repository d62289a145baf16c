"""The Python evaluator of IR expressions, and the builtin functions.

``sbl/backends/web/expr.js`` is its twin for the browser; ``docs/language.md`` (Semantics)
is the specification of both, and ``tests/test_expr_parity.py`` runs them side by side.
Evaluation order is fixed (left to right, depth first) because random builtins consume one
shared stream.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import ChainMap
from collections.abc import Callable, Mapping
from typing import Any

from sbl import groups, ir, mathfns, prng, values
from sbl import types as t
from sbl.ir import BinaryOp, UnaryOp
from sbl.source import Diagnostic, SblError
from sbl.values import (
    Value,
    ValueFault,
    add,
    check_length,
    check_size,
    compare,
    equal,
    got,
    is_number,
    is_whole,
    kind,
    num,
    numbers,
    show,
    truthy,
)

__all__ = ["BUILTINS", "Builtin", "EvalError", "Scope", "evaluate", "show"]


class EvalError(SblError):
    """An expression failed; ``span`` is the source region of the node that failed."""

    def __init__(self, message: str, span: ir.Span | None = None) -> None:
        super().__init__([Diagnostic(message, span)])
        self.message = message
        self.span = span


def _no_prev(back: int) -> dict[str, Value] | None:
    return None


class Scope:
    """The names an expression sees, the data of earlier trials, and the random stream."""

    def __init__(self, names: Mapping[str, Value],
                 prev: Callable[[int], dict[str, Value] | None] = _no_prev,
                 rng: prng.Prng | None = None) -> None:
        self.names = names
        self.prev = prev
        self.rng = rng

    def lookup(self, name: str) -> Value:
        """The value bound to ``name``; a fault when there is none."""
        try:
            return self.names[name]
        except KeyError:
            raise ValueFault(f"unknown name '{name}'") from None

    def child(self, /, **names: Value) -> Scope:
        """A scope with ``names`` added (comprehension variables), sharing prev and rng."""
        # of the same class: a subclass keeps its own way of showing values
        return type(self)(ChainMap(names, self.names), self.prev,  # type: ignore[arg-type]
                          self.rng)

    def shown(self, expr: ir.Expr) -> str:
        """``expr`` made into text, as a template hole and ``str`` make it: the hook where
        the text runtime words a response time a text run does not have."""
        return show(evaluate(expr, self))


def evaluate(expr: ir.Expr, scope: Scope) -> Value:
    """The value of ``expr`` in ``scope``; raises :class:`EvalError` at the failing node."""
    handler = _HANDLERS.get(type(expr))
    try:
        if handler is None:
            raise ValueFault(f"cannot evaluate a {type(expr).__name__} node")
        return handler(expr, scope)
    except ValueFault as fault:
        raise EvalError(str(fault), expr.span) from None


# ---------------------------------------------------------------- nodes


def _literal(node: ir.Literal, scope: Scope) -> Value:
    v = node.value
    if v is None or isinstance(v, (bool, str)):
        return v
    try:
        return num(float(v))
    except OverflowError:  # an int literal beyond the double range
        raise ValueFault(values.OVERFLOW) from None


def _prev(node: ir.Prev, scope: Scope) -> Value:
    return scope.prev(node.back)


def _attr(node: ir.Attr, scope: Scope) -> Value:
    return field(evaluate(node.obj, scope), node.name)


def field(obj: Value, name: str) -> Value:
    """``obj.name``: a record's field; a fault naming the fields when it is absent, but
    none from a recorded row (:class:`~sbl.values.Row`), which lacks the columns of others."""
    if not isinstance(obj, dict):
        raise ValueFault(f"cannot get field '{name}' of {_a(obj)}")
    if name not in obj:
        if isinstance(obj, values.Row):
            return None
        fields = ", ".join(obj)
        listing = f"fields: {fields}" if fields else "it has no fields"
        raise ValueFault(f"record has no field '{name}' ({listing})")
    return obj[name]


def _index(node: ir.Index, scope: Scope) -> Value:
    obj = evaluate(node.obj, scope)
    return index(obj, evaluate(node.index, scope))


def index(obj: Value, i: Value) -> Value:
    """``obj[i]``: by position (negative from the end) in lists and strings, by key in records."""
    if isinstance(obj, dict):
        if not isinstance(i, str):
            raise ValueFault(f"a record index must be a string; got {kind(i)}")
        return field(obj, i)
    if not isinstance(obj, (list, str)):
        raise ValueFault(f"cannot index {_a(obj)}")
    what = kind(obj)
    if not is_whole(i):
        raise ValueFault(f"a {what} index must be a whole number; got {got(i)}")
    n = len(obj)
    k = float(i) + n if float(i) < 0 else float(i)  # type: ignore[arg-type]
    if not 0 <= k < n:
        raise ValueFault(f"index {show(i)} is out of range for a {what} of length {n}")
    return obj[int(k)]


def _slice(node: ir.Slice, scope: Scope) -> Value:
    obj = evaluate(node.obj, scope)
    bounds = [None if e is None else evaluate(e, scope) for e in (node.start, node.stop)]
    return sliced(obj, *bounds)


def sliced(obj: Value, start: Value, stop: Value) -> Value:
    """``obj[start:stop]`` of a list or string (code points), with Python's rules: a negative
    bound counts from the end, bounds past either end are clamped, none is the end."""
    if not isinstance(obj, (list, str)):
        raise ValueFault(f"cannot slice {_a(obj)}")
    for bound in (start, stop):
        if bound is not None and not is_whole(bound):
            raise ValueFault(f"a slice bound must be a whole number; got {got(bound)}")
    lo, hi = (None if b is None else int(b) for b in (start, stop))  # type: ignore[arg-type]
    return obj[lo:hi]


def _unary(node: ir.Unary, scope: Scope) -> Value:
    v = evaluate(node.operand, scope)
    if node.op is UnaryOp.NOT:
        return not truthy(v)
    if not is_number(v):
        raise ValueFault(f"'-' needs a number; got {kind(v)}")
    return num(-float(v))  # type: ignore[arg-type]


def _binary(node: ir.Binary, scope: Scope) -> Value:
    left = evaluate(node.left, scope)
    if node.op is BinaryOp.AND:
        return truthy(left) and truthy(evaluate(node.right, scope))
    if node.op is BinaryOp.OR:
        return truthy(left) or truthy(evaluate(node.right, scope))
    return _BINARY[node.op](left, evaluate(node.right, scope))


def member(who: str, x: Value, container: Value) -> bool:
    """``x in container``: an item of a list, a substring of a string, a key of a record."""
    if isinstance(container, list):
        return any(equal(x, item) for item in container)
    if isinstance(container, (str, dict)):
        if not isinstance(x, str):
            raise ValueFault(f"{who} needs a string to look for in a {kind(container)}; "
                             f"got {kind(x)}")
        return x in container
    raise ValueFault(f"{who} needs a list, string or record to look in; got {kind(container)}")


def _arith(op: str, fn: Callable[[float, float], Value]) -> Callable[[Value, Value], Value]:
    return lambda a, b: fn(*numbers(op, a, b))


_BINARY: dict[BinaryOp, Callable[[Value, Value], Value]] = {
    BinaryOp.ADD: add,
    BinaryOp.SUB: _arith("-", lambda x, y: num(x - y)),
    BinaryOp.MUL: _arith("*", lambda x, y: num(x * y)),
    BinaryOp.DIV: _arith("/", values.divide),
    BinaryOp.FLOORDIV: _arith("//", values.floordiv),
    BinaryOp.MOD: _arith("%", values.modulo),
    BinaryOp.POW: _arith("^", values.power),
    BinaryOp.EQ: equal,
    BinaryOp.NE: lambda a, b: not equal(a, b),
    BinaryOp.LT: lambda a, b: compare("<", a, b) < 0,
    BinaryOp.LE: lambda a, b: compare("<=", a, b) <= 0,
    BinaryOp.GT: lambda a, b: compare(">", a, b) > 0,
    BinaryOp.GE: lambda a, b: compare(">=", a, b) >= 0,
    BinaryOp.IN: lambda a, b: member("'in'", a, b),
}


def _cond(node: ir.Cond, scope: Scope) -> Value:
    chosen = node.then if truthy(evaluate(node.test, scope)) else node.otherwise
    return evaluate(chosen, scope)


def _template(node: ir.Template, scope: Scope) -> Value:
    return values.joined("a string with holes", (
        part if isinstance(part, str) else scope.shown(part) for part in node.parts))


def _record(node: ir.RecordExpr, scope: Scope) -> Value:
    out: dict[str, Value] = {}
    for f in node.fields:
        out[f.name] = evaluate(f.value, scope)
    return out


def _range(node: ir.Range, scope: Scope) -> Value:
    start = evaluate(node.start, scope)
    stop = evaluate(node.stop, scope)
    for bound in (start, stop):
        if not is_whole(bound):
            raise ValueFault(f"'..' needs whole numbers; got {got(bound)}")
    return whole_range("'..'", float(start), float(stop) + 1.0)  # type: ignore[arg-type]


def whole_range(who: str, start: float, stop: float) -> list[Value]:
    """start, start + 1, ... below stop, each computed as start + i in doubles."""
    n = stop - start
    check_size(who, n)
    return [num(start + float(i)) for i in range(max(0, int(n)))]


def _comprehension(node: ir.Comprehension, scope: Scope) -> Value:
    items = evaluate(node.iterable, scope)
    if isinstance(items, str):
        items = list(items)  # its characters (code points), as len and indexing count them
    if not isinstance(items, list):
        raise ValueFault(f"'for' needs a list or a string to loop over; got {kind(items)}")
    out: list[Value] = []
    for item in items:
        inner = scope.child(**{node.var: item})
        if node.condition is None or truthy(evaluate(node.condition, inner)):
            out.append(evaluate(node.body, inner))
    return out


def _call(node: ir.Call, scope: Scope) -> Value:
    b = BUILTINS.get(node.func)
    if b is None:
        raise ValueFault(f"unknown function '{node.func}'")
    b.check_arity(len(node.args), len(node.kwargs))
    if node.func == "str":  # converts as a template hole does, through the same hook
        return scope.shown(node.args[0])
    args = [evaluate(a, scope) for a in node.args]
    if b.named:
        return b.fn(_named(node.func, node.kwargs, scope))
    if b.random:
        if scope.rng is None:
            raise ValueFault(f"{node.func} needs a random generator, but none was given")
        return b.fn(scope.rng, *args)
    return b.fn(*args)


def _named(func: str, kwargs: tuple[ir.Field, ...], scope: Scope) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for f in kwargs:
        if f.name in out:
            raise ValueFault(f"{func} got '{f.name}' twice")
        out[f.name] = evaluate(f.value, scope)
    return out


def _a(v: Value) -> str:
    k = kind(v)
    return k if k == "none" else f"a {k}"


_HANDLERS: dict[type, Callable[[Any, Scope], Value]] = {
    ir.Literal: _literal,
    ir.Name: lambda node, scope: scope.lookup(node.name),
    ir.Prev: _prev,
    ir.Attr: _attr,
    ir.Index: _index,
    ir.Slice: _slice,
    ir.Unary: _unary,
    ir.Binary: _binary,
    ir.Cond: _cond,
    ir.Template: _template,
    ir.ListExpr: lambda node, scope: [evaluate(item, scope) for item in node.items],
    ir.RecordExpr: _record,
    ir.TableData: lambda node, scope: node.records(),
    ir.Range: _range,
    ir.Comprehension: _comprehension,
    ir.Call: _call,
}


# ---------------------------------------------------------------- builtins


@dataclasses.dataclass(frozen=True)
class Builtin:
    """A builtin function: its arity (``max_args`` None = any number), a one-line doc, code,
    and its static types for the checker: the types of its first arguments (``params``, as
    far as they are fixed) and its result, a type or a rule from the argument types.

    ``named`` builtins take only named arguments (``cross``) and receive them as one dict;
    ``random`` builtins receive the scope's :class:`~sbl.prng.Prng` before their arguments.
    This table is the one declaration of the builtins: the checker (``sbl/passes``) reads it
    and ``tests/test_expr_parity.py`` holds ``expr.js`` to it.
    """

    name: str
    min_args: int
    max_args: int | None
    doc: str
    fn: Callable[..., Value] = dataclasses.field(repr=False)
    random: bool = False
    named: bool = False
    result: t.SblType | t.Rule = t.ANY
    params: tuple[t.SblType, ...] = ()

    def result_type(self, args: list[t.SblType]) -> t.SblType:
        """The static type of a call with arguments of types ``args``."""
        return self.result if isinstance(self.result, t.SblType) else self.result(args)

    def check_arity(self, n: int, n_named: int) -> None:
        """A fault when a call passes the wrong number or kind of arguments."""
        if self.named:
            if n:
                raise ValueFault(f"{self.name} takes only named arguments, "
                                 f"like {self.name}(a: [1, 2])")
            return
        if n_named:
            raise ValueFault(f"{self.name} takes no named arguments")
        if n < self.min_args or (self.max_args is not None and n > self.max_args):
            raise ValueFault(f"{self.name} takes {self.arity_text()}; got {n}")

    def arity_text(self) -> str:
        """'1 argument', '1 to 2 arguments', 'at least 1 argument' or 'no arguments'."""
        lo, hi = self.min_args, self.max_args
        if hi is None:
            return f"at least {lo} argument{'s' * (lo != 1)}"
        if lo == hi:
            return "no arguments" if lo == 0 else f"{lo} argument{'s' * (lo != 1)}"
        return f"{lo} to {hi} arguments"


def _list(fn: str, v: Value) -> list[Value]:
    if not isinstance(v, list):
        raise ValueFault(f"{fn} needs a list; got {kind(v)}")
    return v


def _number(fn: str, v: Value) -> float:
    if not is_number(v):
        raise ValueFault(f"{fn} needs a number; got {kind(v)}")
    return float(v)  # type: ignore[arg-type]


def _whole(fn: str, v: Value, what: str = "whole numbers") -> float:
    if not is_whole(v):
        raise ValueFault(f"{fn} needs {what}; got {got(v)}")
    return float(v)  # type: ignore[arg-type]


def _string(fn: str, v: Value, what: str = "a string") -> str:
    if not isinstance(v, str):
        raise ValueFault(f"{fn} needs {what}; got {kind(v)}")
    return v


def _image(path: Value, description: Value) -> str:
    _string("image", path, "a path")
    return _string("image", description, "a description")


def _numbers_of(fn: str, xs: Value) -> list[float]:
    items = _list(fn, xs)
    for i, x in enumerate(items):
        if not is_number(x):
            raise ValueFault(f"{fn} needs a list of numbers; item {i} is {_a(x)}")
    return [float(x) for x in items]  # type: ignore[arg-type]


def _comparable(fn: str, items: list[Value]) -> None:
    kinds = list(dict.fromkeys(kind(x) for x in items))
    if kinds not in ([], ["number"], ["string"]):
        listing = ", ".join(kinds[:-1]) + " and " + kinds[-1] if len(kinds) > 1 else kinds[0]
        raise ValueFault(f"{fn} needs all numbers or all strings; got {listing}")


def _len(v: Value) -> Value:
    if isinstance(v, (list, str, dict)):
        return len(v)
    raise ValueFault(f"len needs a list, string or record; got {kind(v)}")


def _total(items: list[float]) -> float:
    total = 0.0
    for x in items:  # left to right, as JS does; builtin sum() may compensate (3.12+)
        total += x
    return total


def _mean(xs: Value) -> Value:
    items = _numbers_of("mean", xs)
    if not items:
        raise ValueFault(values.empty_list("mean"))
    return num(_total(items) / len(items))


def _extreme(fn: str, want: int, args: tuple[Value, ...]) -> Value:
    items = list(args)
    if len(args) == 1:
        if not isinstance(args[0], list):
            raise ValueFault(f"{fn} needs a list or at least 2 arguments; got {kind(args[0])}")
        items = args[0]
        if not items:
            raise ValueFault(values.empty_list(fn))
    _comparable(fn, items)
    best = items[0]
    for x in items[1:]:
        if compare(fn, x, best) == want:  # strict, so the first of equal items wins
            best = x
    return best


def _sorted(xs: Value) -> Value:
    items = _list("sorted", xs)
    _comparable("sorted", items)
    return sorted(items, key=lambda x: float(x) if is_number(x) else x)  # type: ignore


def _round(x: Value, digits: Value = 0) -> Value:
    number = _number("round", x)
    d = _whole("round", digits, "a whole number of digits")
    if not -308 <= d <= 308:  # 10^d stays finite and non-zero
        raise ValueFault(f"round needs digits from -308 to 308; got {show(digits)}")
    return values.round_half_away(number, d)


def _range_builtin(*args: Value) -> Value:
    bounds = [_whole("range", v) for v in args]  # (stop) or (start, stop)
    return whole_range("range", *([0.0] + bounds)[-2:])


def _sample(rng: prng.Prng, xs: Value, k: Value) -> Value:
    items = _list("sample", xs)
    n = _whole("sample", k, "a whole number of items")
    if not 0 <= n <= len(items):
        raise ValueFault(f"sample cannot take {show(k)} items from a list of {len(items)}")
    return prng.sample(rng, items, int(n))


def _choice(rng: prng.Prng, xs: Value) -> Value:
    items = _list("choice", xs)
    if not items:
        raise ValueFault("choice needs a non-empty list")
    return prng.choice(rng, items)


def _randint(rng: prng.Prng, a: Value, b: Value) -> Value:
    lo, hi = _whole("randint", a), _whole("randint", b)
    if lo > hi:
        raise ValueFault(f"randint needs a <= b; got {show(a)} and {show(b)}")
    return num(prng.randint(rng, lo, hi))


def _number_builtin(v: Value) -> Value:
    if is_number(v):
        return v
    if isinstance(v, str):
        return values.parse_number(v)
    raise ValueFault(f"number needs a string or a number; got {kind(v)}")


def _join(xs: Value, sep: Value = "") -> Value:
    items = _list("join", xs)
    return values.joined("join", (show(x) for x in items),
                         _string("join", sep, "a string as separator"))


def _split(s: Value, sep: Value) -> Value:
    text = _string("split", s)
    if _string("split", sep, "a string as separator") == "":
        return list(text)  # the characters (code points), as len and indexing count them
    return text.split(sep)  # type: ignore[arg-type]


def _fixed(x: Value, digits: Value) -> Value:
    number = _number("fixed", x)
    d = _whole("fixed", digits, "a whole number of digits")
    if not 0 <= d <= 20:
        raise ValueFault(f"fixed needs digits from 0 to 20; got {show(digits)}")
    rounded = float(values.round_half_away(number, d)) + 0.0  # + 0.0: no "-0.00", as in JS
    if abs(rounded) >= 1e21:  # JS's toFixed writes these as String does: show them alike
        return show(num(rounded))
    return f"{rounded:.{int(d)}f}"  # exact decimal of a double that is near d digits: no ties


def _pad(x: Value, width: Value, fill: Value = " ") -> Value:
    text = show(x)
    n = _whole("pad", width, "a whole number as width")
    if not isinstance(fill, str) or len(fill) != 1:
        raise ValueFault(f"pad needs one character as fill; got {got(fill)}")
    if n > values.MAX_CHARS:
        check_length("pad", int(n))
    return fill * max(0, int(n) - len(text)) + text


def _trim(s: Value) -> Value:
    return _string("trim", s).strip(" \t\n\r")


def _replace(s: Value, old: Value, new: Value) -> Value:
    text = _string("replace", s)
    if _string("replace", old, "a string to replace") == "":
        raise ValueFault("replace needs a non-empty string to replace")
    return values.joined("replace", text.split(old),  # type: ignore[arg-type]
                         _string("replace", new, "a string as replacement"))


def _affix(fn: str, s: Value, part: Value) -> Value:
    text, piece = _string(fn, s), _string(fn, part, "a string to look for")
    return text.startswith(piece) if fn == "startswith" else text.endswith(piece)


def _reverse(v: Value) -> Value:
    if isinstance(v, (list, str)):
        return v[::-1]
    raise ValueFault(f"reverse needs a list or a string; got {kind(v)}")


def _cross(factors: dict[str, Value]) -> Value:
    if not factors:
        raise ValueFault("cross needs at least one named list, like cross(a: [1, 2])")
    size = 1.0
    for name, v in factors.items():
        if not isinstance(v, list):
            raise ValueFault(f"cross needs a list for '{name}'; got {kind(v)}")
        size *= len(v)
    check_size("cross", size)
    # itertools.product varies the last factor fastest: the first named factor is slowest.
    combos = itertools.product(*(list(v) for v in factors.values()))  # type: ignore[arg-type]
    return [dict(zip(factors, combo, strict=True)) for combo in combos]


def _latin(xs: Value) -> Value:
    items = _list("latin", xs)
    n = len(items)
    check_size("latin", n * n * (2 if n % 2 else 1))
    return groups.latin(items)  # type: ignore[return-value]


def _repeat(xs: Value, n: Value) -> Value:
    items = _list("repeat", xs)
    times = _whole("repeat", n, "a whole number of times")
    if times < 0:
        raise ValueFault(f"repeat needs a number of times >= 0; got {show(n)}")
    check_size("repeat", len(items) * times)
    return items * int(times)


def _index_of(xs: Value, x: Value) -> Value:
    items = _list("index", xs)
    return next((i for i, item in enumerate(items) if equal(x, item)), None)


def _set(xs: Value, i: Value, v: Value) -> Value:
    items = _list("set", xs)
    k = _whole("set", i, "a whole number as index")
    n = len(items)
    j = k + n if k < 0 else k  # negative from the end, as xs[i]
    if not 0 <= j < n:
        raise ValueFault(f"set cannot replace item {show(i)} of a list of {n}")
    out = list(items)
    out[int(j)] = v
    return out


_NUM_LIST = t.ListType(t.NUMBER)
_MATH = mathfns.BUILTINS
_LIST_INT = (t.ListType(t.ANY), t.INT)
_TABLE = (
    Builtin("len", 1, 1, "Items of a list, code points of a string, fields of a record.", _len,
            result=t.INT),
    Builtin("sum", 1, 1, "Sum of a list of numbers, added left to right; 0 when empty.",
            lambda xs: num(_total(_numbers_of("sum", xs))), result=t.NUMBER,
            params=(_NUM_LIST,)),
    Builtin("mean", 1, 1, "Sum of a non-empty list of numbers divided by its length.", _mean,
            result=t.NUMBER, params=(_NUM_LIST,)),
    Builtin("min", 1, None, "Smallest item of a list, or of two or more arguments.",
            lambda *args: _extreme("min", -1, args), result=t.extreme),
    Builtin("max", 1, None, "Largest item of a list, or of two or more arguments.",
            lambda *args: _extreme("max", 1, args), result=t.extreme),
    Builtin("round", 1, 2, "round(x, digits=0): halves away from zero, in doubles.", _round,
            result=t.NUMBER, params=(t.NUMBER, t.INT)),
    Builtin("abs", 1, 1, "Absolute value.", lambda x: num(abs(_number("abs", x))),
            result=t.NUMBER, params=(t.NUMBER,)),
    Builtin("floor", 1, 1, "Largest whole number not above x.",
            lambda x: values.floor(_number("floor", x)), result=t.INT, params=(t.NUMBER,)),
    Builtin("ceil", 1, 1, "Smallest whole number not below x.",
            lambda x: values.ceil(_number("ceil", x)), result=t.INT, params=(t.NUMBER,)),
    Builtin("sqrt", 1, 1, "Square root of a number >= 0 (correctly rounded).",
            _MATH["sqrt"], result=t.NUMBER, params=(t.NUMBER,)),
    Builtin("exp", 1, 1, "e to the power x (sbl's own exp, the same in both runtimes).",
            _MATH["exp"], result=t.NUMBER, params=(t.NUMBER,)),
    Builtin("log", 1, 1, "Natural logarithm of a number > 0 (sbl's own, as exp).",
            _MATH["log"], result=t.NUMBER, params=(t.NUMBER,)),
    Builtin("sin", 1, 1, "Sine of an angle in radians, |x| <= 1000000 (sbl's own, as exp).",
            _MATH["sin"], result=t.NUMBER, params=(t.NUMBER,)),
    Builtin("cos", 1, 1, "Cosine of an angle in radians, |x| <= 1000000 (as sin).",
            _MATH["cos"], result=t.NUMBER, params=(t.NUMBER,)),
    Builtin("tan", 1, 1, "Tangent of an angle in radians: sin(x) / cos(x).",
            _MATH["tan"], result=t.NUMBER, params=(t.NUMBER,)),
    Builtin("atan2", 2, 2, "atan2(y, x): the angle of the point (x, y), in (-pi, pi]; "
            "atan2(0, 0) is 0.", _MATH["atan2"], result=t.NUMBER,
            params=(t.NUMBER, t.NUMBER)),
    Builtin("hypot", 2, 2, "hypot(x, y) is sqrt(x * x + y * y).", _MATH["hypot"],
            result=t.NUMBER, params=(t.NUMBER, t.NUMBER)),
    Builtin("pi", 0, 0, "The double nearest to pi, 3.141592653589793.", _MATH["pi"],
            result=t.NUMBER),
    Builtin("range", 1, 2, "range(n) is 0..n-1; range(a, b) is a..b-1.", _range_builtin,
            result=t.ListType(t.INT), params=(t.INT, t.INT)),
    Builtin("shuffle", 1, 1, "A shuffled copy of a list (Fisher-Yates, last index first).",
            lambda rng, xs: prng.shuffle(rng, _list("shuffle", xs)), random=True,
            result=t.same_list, params=(t.ListType(t.ANY),)),
    Builtin("sample", 2, 2, "sample(xs, k): k items without replacement.", _sample,
            random=True, result=t.same_list, params=_LIST_INT),
    Builtin("choice", 1, 1, "One item of a non-empty list, uniformly.", _choice, random=True,
            result=t.item_of, params=(t.ListType(t.ANY),)),
    Builtin("randint", 2, 2, "randint(a, b): a whole number from a to b inclusive.", _randint,
            random=True, result=t.INT, params=(t.INT, t.INT)),
    Builtin("random", 0, 0, "A number in [0, 1).", lambda rng: num(rng.next_float()),
            random=True, result=t.NUMBER),
    Builtin("upper", 1, 1, "The string in upper case (full Unicode case mapping).",
            lambda s: _string("upper", s).upper(), result=t.STR, params=(t.STR,)),
    Builtin("lower", 1, 1, "The string in lower case (full Unicode case mapping).",
            lambda s: _string("lower", s).lower(), result=t.STR, params=(t.STR,)),
    Builtin("str", 1, 1, "The string conversion used by templates.", show, result=t.STR),
    Builtin("markup", 1, 1, "The string as markup: shown as HTML in an html parameter, not "
            "escaped (for HTML the author wrote, never for participant data).",
            lambda s: _string("markup", s), result=t.HTML, params=(t.STR,)),
    Builtin("image", 2, 2, "image(path, description): in an html parameter, the image file "
            "path shown where it is written (listed and checked as media are); its value, and "
            "what a text participant reads, is the description.", _image, result=t.HTML,
            params=(t.STR, t.STR)),
    Builtin("number", 1, 1, "A decimal string read as a number; a number stays as it is.",
            _number_builtin, result=t.NUMBER, params=(t.STR,)),
    Builtin("join", 1, 2, "join(xs, sep=\"\"): the items converted to strings, joined.", _join,
            result=t.STR, params=(t.ListType(t.ANY), t.STR)),
    Builtin("split", 2, 2, "split(s, sep): the parts of s between occurrences of sep; its "
            "characters when sep is \"\".", _split,
            result=t.ListType(t.STR), params=(t.STR, t.STR)),
    Builtin("fixed", 2, 2, "fixed(x, digits): x rounded as round does, written with exactly "
            "digits (0-20) decimals: fixed(2.5, 2) is \"2.50\".", _fixed, result=t.STR,
            params=(t.NUMBER, t.INT)),
    Builtin("pad", 2, 3, "pad(x, width, fill=\" \"): str(x) with fill (one character) added "
            "on the left up to width characters: pad(7, 2, \"0\") is \"07\".", _pad,
            result=t.STR, params=(t.ANY, t.INT, t.STR)),
    Builtin("trim", 1, 1, "The string without leading and trailing spaces, tabs and newlines.",
            _trim, result=t.STR, params=(t.STR,)),
    Builtin("replace", 3, 3, "replace(s, old, new): every occurrence of old (not empty) in s, "
            "left to right, replaced by new.", _replace, result=t.STR,
            params=(t.STR, t.STR, t.STR)),
    Builtin("startswith", 2, 2, "startswith(s, prefix): whether s begins with prefix.",
            lambda s, p: _affix("startswith", s, p), result=t.BOOL, params=(t.STR, t.STR)),
    Builtin("endswith", 2, 2, "endswith(s, suffix): whether s ends with suffix.",
            lambda s, p: _affix("endswith", s, p), result=t.BOOL, params=(t.STR, t.STR)),
    Builtin("contains", 2, 2, "contains(c, x) is x in c.",
            lambda c, x: member("contains", x, c), result=t.BOOL),
    Builtin("reverse", 1, 1, "A list or string in reverse order.", _reverse,
            result=t.same_list),
    Builtin("sorted", 1, 1, "A sorted copy of a list of numbers or of strings (stable).",
            _sorted, result=t.same_list),
    Builtin("count", 2, 2, "count(xs, x): how many items of xs equal x.",
            lambda xs, x: sum(equal(x, item) for item in _list("count", xs)), result=t.INT),
    Builtin("index", 2, 2, "index(xs, x): the position of the first item of xs equal to x; "
            "none when there is none.", _index_of, result=t.Optional(t.INT),
            params=(t.ListType(t.ANY),)),
    Builtin("set", 3, 3, "set(xs, i, v): a copy of xs with item i (negative from the end) "
            "replaced by v.", _set, result=t.set_item, params=_LIST_INT),
    Builtin("any", 1, 1, "Whether some item of a list is truthy.",
            lambda xs: any(truthy(x) for x in _list("any", xs)), result=t.BOOL),
    Builtin("all", 1, 1, "Whether every item of a list is truthy.",
            lambda xs: all(truthy(x) for x in _list("all", xs)), result=t.BOOL),
    Builtin("cross", 0, 0, "cross(a: [...], b: [...]): every combination as a record; "
            "the first factor varies slowest.", _cross, named=True,
            result=t.ListType(t.ANY)),
    Builtin("latin", 1, 1, "The orders of a balanced Latin square of a list's items: n orders "
            "for n items, 2n when n is odd.", _latin,
            result=lambda args: t.ListType(t.same_list(args)), params=(t.ListType(t.ANY),)),
    Builtin("repeat", 2, 2, "repeat(xs, n): xs concatenated n times.", _repeat,
            result=t.same_list, params=_LIST_INT),
)

BUILTINS: dict[str, Builtin] = {b.name: b for b in _TABLE}
