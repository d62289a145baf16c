"""Checks of values written in the file that the types alone allow but that cannot work: a
slider's bounds, an empty media description, keys beside "any", a misspelt style field, a
withheld key or click on a trial that never ends without one. Each yields its diagnostics;
computed values are the runtimes' to check."""

from __future__ import annotations

from collections.abc import Iterator

from sbl import ir, kinds
from sbl.kinds import AnswerType, Kind
from sbl.passes.rows import head_span
from sbl.source import Diagnostic, did_you_mean

# Why a stimulus showing media needs a description.
DESCRIBE = ("a model cannot see the file: the description is what it reads instead, so say "
            "what a person sees or hears (description: \"a red circle\")")


def bounds(stim: ir.Stimulus, kind: Kind, filled: frozenset[str]) -> Iterator[Diagnostic]:
    """A number answer's bounds (a slider's low, high and step), when written as numbers
    or left to their defaults: the positions they make (kinds.positions). Computed
    bounds, and bounds a table column fills, are checked when the trial runs, by the
    same rule."""
    names = kind.answer.bounds
    if names is None:
        return
    given = {p.name: p for p in stim.params}
    values = {}
    for name in names:
        param, decl = given.get(name), kind.param(name)
        if param is None and name in filled:
            return
        value = constant_number(param.value) if param else decl.default if decl else None
        if value is None or not float(value).is_integer():  # computed, or not whole:
            return                                          # the type check says so
        values[name] = int(value)
    try:
        kinds.positions_of(names, values)
    except ValueError as exc:
        # at the bound the message is about ("high must be ..."), else the last one written
        about = [n for n in names if n in given and str(exc).startswith(f"{n} must")]
        spans = [given[n].value.span for n in about or [n for n in names if n in given]]
        yield Diagnostic(str(exc), spans[-1] if spans else head_span(stim))


def description(stim: ir.Stimulus) -> Iterator[Diagnostic]:
    """A stimulus that shows media says in words what it shows: a model reads that."""
    given = next((p for p in stim.params if p.name == "description"), None)
    # a missing one is reported as a missing required parameter, with DESCRIBE as its help
    if given is not None and isinstance(given.value, ir.Literal) \
            and not str(given.value.value or "").strip():
        yield Diagnostic("an empty description gives a model nothing to read",
                         given.value.span, help=DESCRIBE)


def any_key(stim: ir.Stimulus, kind: Kind) -> Iterator[Diagnostic]:
    """Keys written beside "any", which takes every key: they would change nothing."""
    source = kind.answer.source if kind.answer.type is AnswerType.KEY else None
    keys = next((p.value for p in stim.params if p.name == source), None)
    if not isinstance(keys, ir.ListExpr) or ir.Literal(kinds.ANY_KEY) not in keys.items:
        return
    others = [k for k in keys.items if k != ir.Literal(kinds.ANY_KEY)]
    if others:
        yield Diagnostic(f"'{source}' holds \"any\" and {len(others)} other "
                         f"key{'s' if len(others) > 1 else ''}, but \"any\" already takes "
                         f"every key", keys.span,
                         help='write ["any"] alone, or list only the keys that answer')


def withhold(stim: ir.Stimulus, kind: Kind, filled: frozenset[str]) -> Iterator[Diagnostic]:
    """A trial where no key or button is an answer (``withhold``) must be able to end
    without one: a ``duration`` (or ``ends_after_audio``/``ends_after_video``). Ones
    computed, or filled by a table column, are the runtimes' to check."""
    given = {p.name: p for p in stim.params}
    param = given.get("withhold")
    if param is None or kind.param("withhold") is None or _is(param.value, False):
        return
    ends = [n for n in kinds.ENDINGS if kind.param(n) is not None]
    if any(n in filled or (n in given and not _is(given[n].value, None, False)) for n in ends):
        return
    what = "a key" if kind.answer.type is AnswerType.KEY else "a click"
    yield Diagnostic(f"a person withholds {what} by letting the trial run out, but this "
                     f"{stim.kind} has no {' or '.join(repr(n) for n in ends)}, so it waits "
                     f"for {what} forever", param.value.span,
                     help="give it a response window (duration: 1000), or leave out 'withhold'")


def _is(expr: ir.Expr, *values: object) -> bool:
    """Whether ``expr`` is a literal holding one of ``values`` (``False`` is not 0)."""
    return isinstance(expr, ir.Literal) and any(
        expr.value is v or (type(expr.value) is type(v) and expr.value == v) for v in values)


def style_fields(style: ir.RecordExpr) -> Iterator[Diagnostic]:
    """A style record's fields are the page's: a misspelt one would be ignored."""
    for f in style.fields:
        if f.name not in kinds.STYLE_FIELDS:
            yield Diagnostic(f"a style has no field '{f.name}'", f.span or style.span,
                             help=did_you_mean(f.name, kinds.STYLE_FIELDS)
                             or f"its fields are {', '.join(kinds.STYLE_FIELDS)}")


def constant_number(expr: ir.Expr) -> float | None:
    """The value of a number written as a literal (``-100`` included); None otherwise."""
    if isinstance(expr, ir.Unary) and expr.op is ir.UnaryOp.NEG:
        inner = constant_number(expr.operand)
        return None if inner is None else -inner
    value = expr.value if isinstance(expr, ir.Literal) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None
