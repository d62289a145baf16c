"""Every value an expression can take before the experiment runs: how the checker lists the
media files a stimulus can show, so that each is checked and preloaded.

The rule (docs/language.md, "Media"): a media value is listable when it is built from
literals, table columns (CSV or written in the file), constants (``let``), ``if ... then ...
else`` and templates over those, ``choice``/``sample``/``shuffle`` of listable lists and
``randint`` of listable bounds, and functions of listable values. The value of a shared
variable, of ``trials`` or of ``prev`` is known only as the experiment runs, so it cannot
choose a file directly; as the test of an ``if`` it can (both branches are listed). The
rows a block's ``if`` surely skips are not tried (:mod:`sbl.media` walks the blocks). Anything
else, or more than :data:`LIMIT` values, is an :class:`Unlistable` error saying why.

The lister evaluates with :func:`sbl.evaluate.evaluate` wherever a value is fixed, and
branches wherever it is not: each name bound to several values is tried with each in turn (so
``"{x}/{x}.png"`` never mixes two values of ``x``), a random draw gives each value it can
draw, an ``if`` whose test is unknown gives both branches.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

from sbl import ir
from sbl.evaluate import BUILTINS, EvalError, Scope, evaluate
from sbl.values import Value, truthy

# The most values one expression may list; more means the rule is being stretched.
LIMIT = 10_000
# The longest list a shuffle or sample is listed for (as every rotation: n lists of n).
ORDERED = 1_000
# Builtins whose value, as a set of items, does not depend on the draw.
REORDERING = ("shuffle", "sample", "reverse", "sorted", "repeat")


class Unlistable(Exception):
    """An expression whose values cannot be listed before the run: why, and where."""

    def __init__(self, reason: str, span: ir.Span | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.span = span


# What a name is bound to: the values it can take, or why they cannot be known.
Binding = list[Value] | Unlistable
Env = Mapping[str, Binding]
_EMPTY = Scope({})


def possible(expr: ir.Expr, env: Env) -> list[Value]:
    """Every value ``expr`` can take with the names of ``env``, without repeats, in the order
    first found; raises :class:`Unlistable`."""
    several = [n for n in _free_names(expr)
               if isinstance(env.get(n), list) and len(env[n]) > 1]  # type: ignore[arg-type]
    if not several:
        return _one(expr, env)
    out: list[Value] = []
    choices = [env[n] for n in several]
    if math.prod(map(len, choices)) > LIMIT:  # type: ignore[arg-type]
        raise Unlistable(f"its names {', '.join(repr(n) for n in several)} take more than "
                         f"{LIMIT:,} combinations of values", expr.span)
    for combo in itertools.product(*choices):  # type: ignore[arg-type]
        fixed = {**env, **{n: [v] for n, v in zip(several, combo, strict=True)}}
        out.extend(_one(expr, fixed))
        _check_size(out, expr)
    return unique(out)


def unique(items: list[Value]) -> list[Value]:
    """``items`` without repeats (by value: 1 and 1.0 are one), in order."""
    seen: dict[str, Value] = {}
    for item in items:
        seen.setdefault(json.dumps(item, sort_keys=True), item)
    return list(seen.values())


def _check_size(found: list[Value], expr: ir.Expr) -> None:
    if len(found) > LIMIT:
        raise Unlistable(f"it can take more than {LIMIT:,} values", expr.span)


def _free_names(expr: ir.Expr) -> list[str]:
    return list(dict.fromkeys(n.name for n in ir.walk(expr) if isinstance(n, ir.Name)))


def _one(expr: ir.Expr, env: Env) -> list[Value]:
    """The values of ``expr`` when every name it uses has at most one value."""
    if isinstance(expr, ir.Name):
        return _name(expr, env)
    if isinstance(expr, ir.Prev):
        raise Unlistable("it depends on the data of an earlier trial (prev)", expr.span)
    if isinstance(expr, ir.Cond):
        return _cond(expr, env)
    if isinstance(expr, ir.Call) and expr.func in BUILTINS and BUILTINS[expr.func].random:
        return _random(expr, env)
    if _fixed(expr, env):
        return _evaluated(expr, env)
    if isinstance(expr, ir.Comprehension | ir.Range):
        raise Unlistable("a list built here from values that vary cannot be listed",
                         expr.span)
    return _product(expr, env)


def _name(expr: ir.Name, env: Env) -> list[Value]:
    found = env.get(expr.name)
    if found is None:
        raise Unlistable(f"'{expr.name}' is known only as the experiment runs", expr.span)
    if isinstance(found, Unlistable):
        raise Unlistable(f"'{expr.name}' {found.reason}", expr.span)
    return found


def _cond(expr: ir.Cond, env: Env) -> list[Value]:
    try:
        tests = [truthy(v) for v in possible(expr.test, env)]
    except Unlistable:
        tests = [True, False]  # decided by the run (a response, a score): either branch
    out = possible(expr.then, env) if True in tests else []
    return unique(out + (possible(expr.otherwise, env) if False in tests else []))


def _random(expr: ir.Call, env: Env) -> list[Value]:
    """Every value a random draw can give."""
    if expr.func in ("choice", "shuffle", "sample") and expr.args:
        lists = [v for v in possible(expr.args[0], env) if isinstance(v, list)]
        items = unique([item for xs in lists for item in xs])
        if expr.func == "choice":
            return items
        if len(items) > ORDERED:
            raise Unlistable(f"{expr.func}() of more than {ORDERED:,} items cannot be listed "
                             "position by position; use choice() to draw one", expr.span)
        # Any item may come first: each rotation holds it at every position, so indexing
        # or iterating the draw lists every item it can give.
        return [items[i:] + items[:i] for i in range(len(items))] or [[]]
    if expr.func == "randint" and len(expr.args) == 2:
        lows, highs = (possible(a, env) for a in expr.args)
        values: set[int] = set()
        for lo, hi in itertools.product(lows, highs):
            if isinstance(lo, int | float) and isinstance(hi, int | float):
                if hi - lo >= LIMIT:
                    raise Unlistable(f"it can take more than {LIMIT:,} values", expr.span)
                values.update(range(int(lo), int(hi) + 1))
        return list(sorted(values))
    raise Unlistable(f"{expr.func}() can give any of infinitely many values", expr.span)


def _fixed(expr: ir.Expr, env: Env) -> bool:
    """Whether ``expr`` has one value: no draw, no prev, every name it uses bound once."""
    for node in ir.walk(expr):
        if isinstance(node, ir.Prev | ir.Cond):
            return False
        if isinstance(node, ir.Call) and node.func in BUILTINS and BUILTINS[node.func].random:
            return False
        if isinstance(node, ir.Name) and isinstance(env.get(node.name), Unlistable):
            return False
    return True


def _evaluated(expr: ir.Expr, env: Env) -> list[Value]:
    names = {n: b[0] for n, b in env.items() if isinstance(b, list) and len(b) == 1}
    try:
        return [evaluate(expr, Scope(names))]
    except EvalError as err:
        if "unknown name" in err.message:
            missing = next(n for n in ir.walk(expr) if isinstance(n, ir.Name)
                           and n.name not in names and f"'{n.name}'" in err.message)
            raise Unlistable(f"'{missing.name}' is known only as the experiment runs",
                             missing.span) from None
        return []  # a combination the run never reaches (or a run-time error: not ours)


def _product(expr: ir.Expr, env: Env) -> list[Value]:
    """The values of a node whose parts vary: the node evaluated on each combination of its
    parts' values."""
    parts = list(_parts(expr))
    values = [possible(p, env) for p in parts]
    holes = [ir.Name(f"\0{i}", span=p.span) for i, p in enumerate(parts)]
    shaped = _rebuild(expr, iter(holes))
    out: list[Value] = []
    for combo in itertools.product(*values):
        scope = Scope({f"\0{i}": v for i, v in enumerate(combo)})
        try:
            out.append(evaluate(shaped, scope))
        except EvalError:
            continue
        _check_size(out, expr)
    return unique(out)


def _parts(expr: ir.Node) -> Iterator[ir.Expr]:
    """The direct sub-expressions of ``expr`` (a record's or call's fields' values too)."""
    for f in dataclasses.fields(expr):  # type: ignore[arg-type]
        value = getattr(expr, f.name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, ir.Field):
                yield item.value
            elif isinstance(item, ir.Node) and f.name != "span":
                yield item  # type: ignore[misc]


def _rebuild(expr: ir.Node, holes: Iterator[ir.Expr]) -> Any:
    """``expr`` with its direct sub-expressions replaced, in order, by ``holes``."""
    def swap(item: Any) -> Any:
        if isinstance(item, ir.Field):
            return dataclasses.replace(item, value=next(holes))
        return next(holes) if isinstance(item, ir.Node) else item

    changes = {}
    for f in dataclasses.fields(expr):  # type: ignore[arg-type]
        value = getattr(expr, f.name)
        if f.name == "span":
            continue
        changes[f.name] = tuple(map(swap, value)) if isinstance(value, tuple) else swap(value)
    return dataclasses.replace(expr, **changes)  # type: ignore[type-var]


def row_items(expr: ir.Expr, env: Env) -> list[Value]:
    """The rows a block ``over expr`` can visit: a reordering or sampling of a table visits
    rows of that table, whatever the draw."""
    if isinstance(expr, ir.Call) and expr.func in REORDERING and expr.args:
        return row_items(expr.args[0], env)
    return unique([item for xs in possible(expr, env) if isinstance(xs, list) for item in xs])
