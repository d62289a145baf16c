"""Checks of what a kind declares about a parameter's values, wherever they are known before
the run (sbl/passes/known.py): a number's range (``min``, ``max``: a duration cannot be
negative) and an item named among another parameter's list (``among``: the correct key is one
of the choices). A value computed as the run goes is the runtimes' (docs/language.md).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sbl import ir, kinds
from sbl import types as t
from sbl.kinds import AnswerType, Kind, ParamDecl
from sbl.passes import known
from sbl.source import Diagnostic, did_you_mean
from sbl.values import show_number

if TYPE_CHECKING:
    from sbl.passes.check import _Checker


def bounds(checker: _Checker, given: tuple[ir.Param, ...], declared: tuple[ParamDecl, ...],
           filled: frozenset[str] = frozenset(), head: ir.Span | None = None
           ) -> Iterator[Diagnostic]:
    """Each known value of a parameter with a declared ``min`` or ``max`` outside them."""
    for decl in declared:
        if decl.min is None and decl.max is None:
            continue
        expr = _value(given, decl.name, filled)
        found = known.values(checker, expr, functools.partial(_is_outside, decl=decl)) \
            if expr is not None else None
        for k, more in _first(found):
            yield _at(k, decl.name, _outside(k.value, decl) or "", head, _range_help(decl),
                      more)


def gap(checker: _Checker, expr: ir.Expr) -> Iterator[Diagnostic]:
    """A block's ``gap:``, checked as the ``gap`` parameter every kind has."""
    decl = next(p for p in kinds.PAGE_PARAMS if p.name == "gap")
    return bounds(checker, (ir.Param("gap", expr, span=expr.span),), (decl,))


def among(checker: _Checker, stim: ir.Stimulus, kind: Kind, filled: frozenset[str],
          head: ir.Span | None) -> Iterator[Diagnostic]:
    """Each known value of a parameter declared ``among`` another (``correct_key`` among
    ``choices``) that is not an item of that one's list (a text), or not a position in it (a
    whole number, 0 first: the bandit's ``forced`` arm), when the list is the same on every
    row of the trial and known. Keys of a key kind answered with ``"any"`` all count."""
    for decl in kind.params:
        if decl.among is None:
            continue
        expr = _value(stim.params, decl.name, filled)
        options = _options(checker, stim, kind, decl.among, filled)
        if expr is None:
            continue
        if options is None:  # a list that varies: row by row, with the value on each row
            yield from _row_by_row(checker, stim, kind, decl, expr, filled, head)
            continue
        if _takes_any(kind, options):
            continue
        found = known.values(checker, expr,
                             functools.partial(_is_unlisted, decl=decl, options=options))
        for k, more in _first(found):
            yield _at(k, decl.name, _unlisted(k.value, decl, options) or "", head,
                      _suggest(k.value, decl.among, options), more)


def several(checker: _Checker, stim: ir.Stimulus, kind: Kind, filled: frozenset[str],
            head: ir.Span | None) -> Iterator[Diagnostic]:
    """A known list of questions answered with any number of their options (``multi_select``)
    where a question has more than kinds.MAX_SEVERAL: a text participant chooses among every
    set of them (the text runtime refuses it too, when the list is computed)."""
    if not kind.answer.several or kind.answer.source is None:
        return
    expr, field = _value(stim.params, kind.answer.source, filled), kind.answer.options
    found = known.values(checker, expr, lambda v: _too_many(v, field) > 0) \
        if expr is not None else None
    for k, more in _first(found):
        most = _too_many(k.value, field)
        yield _at(k, kind.answer.source, f"has a question with {most} options, but a "
                  f"question answered with any number of them has at most "
                  f"{kinds.MAX_SEVERAL}", head,
                  "a text participant chooses among every set of the options (2^k); split "
                  "the options over several questions", more)


def counted(checker: _Checker, stim: ir.Stimulus, kind: Kind, filled: frozenset[str],
            head: ir.Span | None) -> Iterator[Diagnostic]:
    """A known list of keys (or options) that does not hold the number the kind declares
    (``answer.count``: same_different's key for same and key for different)."""
    count, source = kind.answer.count, kind.answer.source
    if count is None or source is None:
        return
    expr = _value(stim.params, source, filled)
    found = known.values(checker, expr, lambda v: isinstance(v, list) and len(v) != count) \
        if expr is not None else None
    decl = kind.param(source)
    for k, more in _first(found):
        yield _at(k, source, f"must hold {count} items; it holds {len(k.value)}", head,
                  decl.doc if decl else None, more)


def _too_many(value: Any, field: str | None) -> int:
    """The most options a question of ``value`` (a list of questions) has, when that is more
    than kinds.MAX_SEVERAL; else 0."""
    counts = [len(q.get(field) or []) for q in value if isinstance(q, dict)] \
        if isinstance(value, list) and field else []
    most = max(counts, default=0)
    return most if most > kinds.MAX_SEVERAL else 0


def _row_by_row(checker: _Checker, stim: ir.Stimulus, kind: Kind, decl: ParamDecl,
                expr: ir.Expr, filled: frozenset[str], head: ir.Span | None
                ) -> Iterator[Diagnostic]:
    """``among`` where the list comes from the rows (``choices: [left, right]`` over a
    table): each distinct row of the block's known rows, checked with its own list."""
    listed = _value(stim.params, str(decl.among), filled)
    found = known.rows(checker, (expr, listed)) if listed is not None else None
    bad = [(row, _unlisted(value, decl, options)) for row in found or ()
           for value, options in [row.values] if isinstance(options, list)
           and not _takes_any(kind, options) and _unlisted(value, decl, options)]
    if not bad:
        return
    (row, problem), more = bad[0], len(bad) - 1
    value, options = row.values
    k = row.cell(expr.name, value) if isinstance(expr, ir.Name) and \
        known.column_block(checker, expr.name) is not None else \
        known.Known(value, lambda: expr.span)
    yield _at(k, decl.name, f"{problem} on its row", head,
              _suggest(value, decl.among, options), more)


def _takes_any(kind: Kind, options: list[Any]) -> bool:
    """Whether a key kind's list takes every key ("any")."""
    return kind.answer.type is AnswerType.KEY and kinds.ANY_KEY in options


def _first(found: list[known.Known] | None) -> list[tuple[known.Known, int]]:
    """The first of the values a check reports, with how many others it leaves unsaid (a
    column of many wrong cells is one error, at its first: fixing one shows the next)."""
    return [(found[0], len(found) - 1)] if found else []


def _is_unlisted(value: Any, decl: ParamDecl, options: list[Any]) -> bool:
    return _unlisted(value, decl, options) is not None


def _is_outside(value: Any, decl: ParamDecl) -> bool:
    return _outside(value, decl) is not None


def _unlisted(value: Any, decl: ParamDecl, options: list[Any]) -> str | None:
    """What is wrong with ``value`` as an item (a text) or a position (a whole number) of
    ``options``, the list parameter ``decl.among`` holds; None when nothing is."""
    among = decl.among
    if isinstance(value, str) and not _listed(value, options, decl.any_case):
        return _not_among(value, str(among), options)
    if isinstance(value, int) and not isinstance(value, bool) and \
            not 0 <= value < len(options):
        return (f"is {value}, but '{among}' has {len(options)} "
                f"item{'s' if len(options) != 1 else ''}, numbered from 0")
    return None


def _value(given: tuple[ir.Param, ...], name: str, filled: frozenset[str]) -> ir.Expr | None:
    """The expression that gives parameter ``name``: its own, or the column that fills it."""
    param = next((p for p in given if p.name == name), None)
    if param is not None:
        return param.value
    return ir.Name(name) if name in filled else None


def _options(checker: _Checker, stim: ir.Stimulus, kind: Kind, name: str,
             filled: frozenset[str]) -> list[Any] | None:
    """The list parameter ``name`` holds, when it is one list known before the run."""
    expr = _value(stim.params, name, filled)
    if expr is None:
        decl = kind.param(name)
        return decl.default if decl is not None and isinstance(decl.default, list) else None
    found = known.values(checker, expr)
    if found is None or len(found) != 1 or not isinstance(found[0].value, list):
        return None
    return list(found[0].value)


def _outside(value: Any, decl: ParamDecl) -> str | None:
    """What is wrong with ``value`` against the declared range, or None."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None  # none, or the wrong type: the type check says so
    if decl.min is not None and value < decl.min:
        return f"cannot be below {show_number(decl.min)}; it is {show_number(value)}"
    if decl.max is not None and value > decl.max:
        return f"cannot be above {show_number(decl.max)}; it is {show_number(value)}"
    return None


def _range_help(decl: ParamDecl) -> str:
    """What to write instead: a number in the range, or none where none is allowed."""
    low, high = decl.min, decl.max
    text = (f"from {show_number(low)} to {show_number(high)}" if low is not None
            and high is not None else f"{show_number(low)} or more" if low is not None
            else f"{show_number(high)} or less")  # type: ignore[arg-type]
    return f"write {text}" + (", or none" if t.is_optional(decl.type) else "")


def _listed(value: str, options: list[Any], any_case: bool) -> bool:
    return value in options or any_case and any(
        isinstance(o, str) and o.lower() == value.lower() for o in options)


def _not_among(value: str, among: str, options: list[Any]) -> str:
    if not options:
        return f"is {json.dumps(value)}, but '{among}' is empty: nothing answers this trial"
    shown = ", ".join(json.dumps(o) for o in options)
    return f"is {json.dumps(value)}, which is not one of the {among} ({shown})"


def _suggest(value: Any, among: str | None, options: list[Any]) -> str | None:
    """A did-you-mean from the options: one differing only in case first (a key is recorded
    as the choices write it, so "F" never equals a key listed as "f")."""
    if not isinstance(value, str):
        return f"write 0 to {len(options) - 1}" if options else None
    texts = [o for o in options if isinstance(o, str)]
    same = next((o for o in texts if o.lower() == value.lower()), None)
    if same is not None:
        return f"did you mean '{same}'? the key pressed is recorded as '{among}' writes it"
    return did_you_mean(value, texts) or f"add it to '{among}', or name one of them"


def _at(k: known.Known, name: str, problem: str, head: ir.Span | None,
        help: str | None, more: int = 0) -> Diagnostic:
    """The diagnostic at the place ``k`` was written, saying where it came from (and how
    many other values of its column are wrong too)."""
    if not k.source.startswith("column"):
        suffix = f", from {k.source}" if k.source else ""
        return Diagnostic(f"'{name}' {problem}{suffix}", k.span, help=help)
    use = f" of the trial at {head.path}:{head.line}" if head is not None else ""
    others = f" (and {more} other value{'s' if more > 1 else ''} of the column)" if more else ""
    return Diagnostic(f"'{name}'{use} {problem}, in this cell of {k.source}{others}", k.span,
                      help=help)

