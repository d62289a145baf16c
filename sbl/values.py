"""The values of the expression language and the operations on them.

A value is a number (``int`` or ``float``, one IEEE-754 double type: see :func:`num`), a
``str``, a ``bool``, ``None``, a ``list`` of values or a ``dict`` (a record) with ``str`` keys.
``sbl/backends/web/expr.js`` implements every function here again, operation for operation;
``docs/language.md`` (Semantics) is the specification both follow, and
``tests/test_expr_parity.py`` checks that they agree bit for bit.

Operations raise :class:`ValueFault`; the evaluator turns it into an ``EvalError`` that
carries the span of the node that failed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

Value = int | float | str | bool | None | list[Any] | dict[str, Any]

MAX_SAFE = 2.0**53
# Lists built by ranges, repeat, cross and '+' stop here, so a typo cannot hang a browser tab.
MAX_ITEMS = 1_000_000
# Strings built by '+', interpolation and join stop here (characters are code points; the
# JavaScript twin counts them the same way, not in UTF-16 units).
MAX_CHARS = 1_000_000

OVERFLOW = "number overflow (the result is not finite)"
DIVISION_BY_ZERO = "division by zero"


class Row(dict):  # type: ignore[type-arg]
    """A recorded row (an item of ``trials``, or ``prev``): a record whose missing fields read
    as none, as the empty cells of the data file do, because rows of different kinds record
    different columns (docs/language.md, "Names, fields, indexing, prev"). The JavaScript
    twin marks its rows with ``row()`` in expr.js."""

    __slots__ = ()


class ValueFault(Exception):
    """An operation failed on its values; the evaluator adds the source span."""


def empty_list(fn: str) -> str:
    """The fault of an aggregate (mean, min, max) of an empty list, such as a debrief over no
    correct trials: jsPsych would show NaN, sbl stops, saying how to guard it."""
    return (f"{fn} needs a non-empty list (guard it: if len(xs) > 0 then {fn}(xs) "
            f"else ...)")


# ---------------------------------------------------------------- kinds


def kind(v: Any) -> str:
    """The type name a user sees: number, string, bool, none, list or record."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "record"
    raise ValueFault(f"unsupported value of Python type {type(v).__name__}")


def is_number(v: Any) -> bool:
    """True for numbers; bools are not numbers."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_whole(v: Any) -> bool:
    """True for a number with no fractional part."""
    return is_number(v) and float(v).is_integer()


def got(v: Any) -> str:
    """What an error message says was found: the number itself, or the kind of the value."""
    return show(v) if is_number(v) else kind(v)


def num(x: float) -> int | float:
    """Normalise a numeric result: whole values below 2**53 become ``int``; non-finite fails."""
    if not math.isfinite(x):
        raise ValueFault(OVERFLOW)
    if x.is_integer() and abs(x) < MAX_SAFE:
        return int(x)  # also turns -0.0 into 0, as the JS side does
    return x


def truthy(v: Value) -> bool:
    """Python's truthiness: false, none, 0, "", [] and {} are false."""
    if is_number(v):
        return float(v) != 0.0  # type: ignore[arg-type]
    return bool(v)


# ---------------------------------------------------------------- string conversion


def show(v: Value) -> str:
    """The string conversion used by templates and ``str``: strings are shown bare."""
    return v if isinstance(v, str) else show_inner(v)


def show_inner(v: Value) -> str:
    """The conversion of a value inside a list or record: strings quoted like JSON."""
    k = kind(v)
    if k == "string":
        return json.dumps(v, ensure_ascii=False)
    if k == "number":
        return show_number(float(v))  # type: ignore[arg-type]
    if k == "bool":
        return "true" if v else "false"
    if k == "none":
        return "none"
    if k == "list":
        return "[" + ", ".join(show_inner(x) for x in v) + "]"  # type: ignore[union-attr]
    return "{" + ", ".join(f"{show_key(key)}: {show_inner(x)}"
                           for key, x in v.items()) + "}"  # type: ignore[union-attr]


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def show_key(key: str) -> str:
    """A record key as shown: bare when it is an identifier, else quoted like JSON."""
    return key if _IDENT.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def show_number(x: float) -> str:
    """ECMAScript's Number::toString(x), from the shortest round-trip digits of ``repr``."""
    if x == 0:
        return "0"
    if x < 0:
        return "-" + show_number(-x)
    digits, n = _shortest_digits(x)
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    exponent = f"e{'+' if e >= 0 else '-'}{abs(e)}"
    return (digits if k == 1 else digits[0] + "." + digits[1:]) + exponent


def _shortest_digits(x: float) -> tuple[str, int]:
    """Digits s (no leading or trailing zeros) and n with x == 0.s * 10**n."""
    mantissa, _, exp = repr(x).partition("e")  # "123.45", "1e+16", "1.5e-07", "0.001"
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    leading_zeros = len(whole + frac) - len(digits)
    return digits.rstrip("0"), len(whole) + int(exp or 0) - leading_zeros


# ---------------------------------------------------------------- equality and order


def equal(a: Value, b: Value) -> bool:
    """Deep structural equality without coercion; records ignore the order of their keys."""
    ka, kb = kind(a), kind(b)
    if ka != kb:
        return False
    if ka == "number":
        return float(a) == float(b)  # type: ignore[arg-type]
    if ka == "list":
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))  # type: ignore
    if ka == "record":
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)  # type: ignore
    return a == b


def compare(op: str, a: Value, b: Value) -> int:
    """-1, 0 or 1 for two numbers or two strings (strings by code point); else a fault."""
    if is_number(a) and is_number(b):
        x, y = float(a), float(b)  # type: ignore[arg-type]
    elif isinstance(a, str) and isinstance(b, str):
        x, y = a, b  # type: ignore[assignment]  # Python orders str by code point
    else:
        raise ValueFault(f"'{op}' needs two numbers or two strings; got {kind(a)} and {kind(b)}")
    return (x > y) - (x < y)


# ---------------------------------------------------------------- arithmetic


def add(a: Value, b: Value) -> Value:
    """``+``: numbers add, strings and lists concatenate."""
    if is_number(a) and is_number(b):
        return num(float(a) + float(b))  # type: ignore[arg-type]
    if isinstance(a, str) and isinstance(b, str):
        check_length("'+'", len(a) + len(b))
        return a + b
    if isinstance(a, list) and isinstance(b, list):
        check_size("'+'", len(a) + len(b))
        return a + b
    raise ValueFault(f"'+' needs two numbers, two strings or two lists; "
                     f"got {kind(a)} and {kind(b)}")


def numbers(op: str, a: Value, b: Value) -> tuple[float, float]:
    """Both operands of an arithmetic operator as floats, or a fault naming the operator."""
    if not (is_number(a) and is_number(b)):
        raise ValueFault(f"'{op}' needs two numbers; got {kind(a)} and {kind(b)}")
    return float(a), float(b)  # type: ignore[arg-type]


def divide(a: float, b: float) -> int | float:
    """``/``."""
    if b == 0:
        raise ValueFault(DIVISION_BY_ZERO)
    return num(a / b)


def floordiv(a: float, b: float) -> int | float:
    """``//``: CPython's float floor division, step by step, so JS can repeat it exactly."""
    if b == 0:
        raise ValueFault(DIVISION_BY_ZERO)
    mod = math.fmod(a, b)
    div = (a - mod) / b
    if mod != 0 and (b < 0) != (mod < 0):
        div -= 1.0
    if div == 0:
        return 0
    floor = _floor(div)
    if div - floor > 0.5:
        floor += 1.0
    return num(floor)


def modulo(a: float, b: float) -> int | float:
    """``%``: the remainder with the sign of the divisor (Python's rule)."""
    if b == 0:
        raise ValueFault(DIVISION_BY_ZERO)
    mod = math.fmod(a, b)
    if mod != 0 and (b < 0) != (mod < 0):
        mod += b
    return num(mod)


def power(x: float, y: float) -> int | float:
    """``^``: whole exponents by squaring (same multiplications in JS), 0.5 by sqrt, else pow."""
    if y.is_integer():
        if y >= 0:
            return num(_pow_whole(x, y))
        if x == 0:
            raise ValueFault(DIVISION_BY_ZERO)
        p = _pow_whole(x, -y)
        if p == 0:  # x**-y underflowed, so its reciprocal is too large
            raise ValueFault(OVERFLOW)
        return num(1.0 / p)
    if x < 0:
        raise ValueFault("'^' cannot raise a negative number to a fractional power")
    if x == 0 and y < 0:
        raise ValueFault(DIVISION_BY_ZERO)
    if y == 0.5:  # sqrt is correctly rounded everywhere; pow is not
        return num(math.sqrt(x))
    try:
        return num(math.pow(x, y))
    except OverflowError:
        raise ValueFault(OVERFLOW) from None


def _pow_whole(x: float, n: float) -> float:
    """x**n for a whole n >= 0 by right-to-left binary exponentiation, in doubles."""
    result = 1.0
    while n > 0:
        if math.fmod(n, 2.0) == 1.0:
            result *= x
        n = _floor(n / 2.0)
        if n > 0:
            x *= x
    return result


def _floor(x: float) -> float:
    """math.floor as a float, defined for infinities (Python's raises on them)."""
    return x if not math.isfinite(x) else float(math.floor(x))


def round_half_away(x: float, digits: float) -> int | float:
    """``round(x, d)``: sign(x) * floor(|x| * 10^d + 0.5) / 10^d, in doubles."""
    p = float(power(10.0, digits))
    scaled = abs(x) * p + 0.5
    if not math.isfinite(scaled):
        raise ValueFault(OVERFLOW)
    sign = -1.0 if x < 0 else 1.0
    return num(sign * _floor(scaled) / p)


def floor(x: float) -> int | float:
    """The largest whole number not above x."""
    return num(_floor(x))


def ceil(x: float) -> int | float:
    """The smallest whole number not below x."""
    return num(float(math.ceil(x)))


_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def parse_number(s: str) -> int | float:
    """Read a decimal number, allowing surrounding spaces, tabs and newlines; else a fault."""
    text = s.strip(" \t\n\r")
    if not _DECIMAL.fullmatch(text):
        raise ValueFault(f"number needs a decimal number like \"-3.5e2\"; "
                         f"got {json.dumps(s, ensure_ascii=False)}")
    return num(float(text))


def check_size(what: str, n: float) -> None:
    """Refuse to build a list longer than MAX_ITEMS."""
    if n > MAX_ITEMS:
        raise ValueFault(f"{what} would make a list of {show_number(float(n))} items "
                         f"(the limit is {MAX_ITEMS})")


def check_length(what: str, n: int) -> None:
    """Refuse to build a string longer than MAX_CHARS."""
    if n > MAX_CHARS:
        raise ValueFault(f"{what} would make a string longer than {MAX_CHARS} characters")


def joined(what: str, pieces: Iterable[str], sep: str = "") -> str:
    """``sep.join(pieces)``, refused as soon as it would pass MAX_CHARS."""
    out: list[str] = []
    total = 0
    for piece in pieces:
        total += len(piece) + (len(sep) if out else 0)
        check_length(what, total)
        out.append(piece)
    return sep.join(out)
