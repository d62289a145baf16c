"""The constraints on a block's shuffled order, checked (docs/language.md, "Constrained orders").

A constraint needs ``shuffle`` and ``over``, and names a column of the rows (did you mean).
When the rows are known before the run (a CSV table, a literal table, anything computed from
declarations without random draws or shared variables; for each group in turn when they
depend on the participant's group), an impossible constraint is an error here: first by
counting (each constraint alone), then by the complete search of :mod:`sbl.order` on the
rows themselves (all constraints together) when it finishes within :data:`CHECK_STEPS` steps.
Whatever cannot be known here is a run-time error naming the block.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sbl import ir, order
from sbl.evaluate import Scope, evaluate
from sbl.prng import Prng
from sbl.source import SblError, did_you_mean
from sbl.types import SblType

if TYPE_CHECKING:
    from sbl.passes.check import _Checker

CHECK_STEPS = 20_000  # search steps spent at check time (about a second in Python)
MAX_GROUPS = 100  # groups whose rows are checked one by one
UNKNOWN = object()
Decls = tuple[ir.Shared | ir.Let | ir.Table | ir.Group, ...]


def check_block(checker: _Checker, block: ir.Block, own: dict[str, SblType],
                outer: Mapping[str, SblType]) -> None:
    """Report what is wrong with ``block``'s constraints; ``own`` are its rows' columns (empty
    when unknown), ``outer`` the columns of the blocks around it."""
    if not block.constraints:
        return
    first = block.constraints[0]
    if block.order is not ir.Order.SHUFFLE or block.over is None:
        missing = "'over' a table and 'shuffle'" if block.over is None else "'shuffle'"
        checker.error(first.span, f"'{first.rule.value}' constrains a shuffled order, but "
                                  f"block '{block.name}' has no {missing}",
                      help=f"write e.g. 'block {block.name} over TABLE shuffle "
                           f"{order.describe(first)}'" if block.over is None else
                      f"write 'shuffle' before it: 'shuffle {order.describe(first)}'")
        return
    unknown = [c for c in block.constraints if c.column and own and c.column not in own]
    for c in unknown:
        checker.error(_column_span(c), f"block '{block.name}' goes over rows with no column "
                                       f"'{c.column}'",
                      did_you_mean(c.column or "", own)
                      or f"its columns are {', '.join(own)}")
    if unknown:
        return
    for where, rows in known_rows(block.over, checker.decls, outer):
        if isinstance(rows, list) and all(isinstance(r, dict) for r in rows):
            _satisfiable(checker, block, rows, where)


def known_rows(expr: ir.Expr, decls: Decls, hidden: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The values of ``expr`` known before the run: one, named "", when it is the same for
    every participant; one per group (named " in group N") when it depends on the group and
    the groups are known; none otherwise."""
    value = static_rows(expr, decls, hidden)
    if value is not UNKNOWN:
        return [("", value)]
    index = next((i for i, d in enumerate(decls) if isinstance(d, ir.Group)), None)
    if index is None:
        return []
    group = decls[index]
    assert isinstance(group, ir.Group)
    options = static_rows(group.groups, decls[:index], {})
    if not isinstance(options, list) or len(options) > MAX_GROUPS:
        return []
    out = []
    for number, option in enumerate(options, 1):
        value = static_rows(expr, decls, hidden, {group.name: option})
        if value is UNKNOWN:
            return []
        out.append((f" in group {number}", value))
    return out


def _satisfiable(checker: _Checker, block: ir.Block, rows: list[Any], where: str) -> None:
    """Errors for constraints that no order of the known ``rows`` keeps (``where``: which
    participants get these rows, "" for all)."""
    found = False
    for c in block.constraints:
        why = order.impossible(c, rows)
        if why:
            found = True
            checker.error(c.span, f"no order of block '{block.name}'{where} keeps "
                                  f"'{order.describe(c)}': {why}")
    if found:
        return
    try:
        order.solve(Prng(0), len(rows), order.rules(block.constraints, rows), CHECK_STEPS)
    except order.NoOrder:
        said = ", ".join(order.describe(c) for c in block.constraints)
        checker.error(_joined(block.constraints),
                      f"no order of the {len(rows)} rows of block '{block.name}'{where} keeps "
                      f"{said} together (a complete search found none)",
                      help="loosen one of the constraints, or add rows")
    except order.Unsolved:
        pass  # too large to settle here; the run searches again, and says so if it fails


def static_rows(expr: ir.Expr, decls: Decls, hidden: Mapping[str, Any],
                bound: Mapping[str, Any] | None = None) -> Any:
    """The value of ``expr`` when it is known before the run (it uses only declarations
    computed without random draws, shared variables or groups, and the names ``bound``);
    ``UNKNOWN`` otherwise."""
    scope: dict[str, Any] = {}
    for name in {n.name for n in ir.walk(expr) if isinstance(n, ir.Name)}:
        if name in hidden:
            return UNKNOWN  # a column of an enclosing block: its value changes by row
        if bound and name in bound:
            scope[name] = bound[name]
            continue
        index = next((i for i, d in enumerate(decls) if d.name == name), None)
        if index is None:
            continue  # a comprehension's variable, or an unknown name evaluate reports
        decl = decls[index]
        if isinstance(decl, ir.Shared | ir.Group):
            return UNKNOWN  # changes during the run, or differs by participant
        value = static_rows(decl.value if isinstance(decl, ir.Let) else decl.rows,
                            decls[:index], {}, bound)
        if value is UNKNOWN:
            return UNKNOWN
        scope[name] = value
    try:
        return evaluate(expr, Scope(scope))
    except SblError:
        return UNKNOWN


def _joined(constraints: tuple[ir.Constraint, ...]) -> ir.Span | None:
    """One span from the first constraint to the last (on one line: else the first's)."""
    first, last = constraints[0].span, constraints[-1].span
    if first is None or last is None or first.line != last.end_line:
        return first
    return dataclasses.replace(first, end_col=last.end_col)


def _column_span(c: ir.Constraint) -> ir.Span | None:
    """The span of the column a constraint names: the word after its keyword."""
    span = c.span
    if span is None or span.text is None or c.column is None:
        return span
    line = span.text.split("\n")[span.line - 1]
    start = line.find(c.column, span.col - 1 + len(c.rule.value))
    if start < 0:
        return span
    return dataclasses.replace(span, col=start + 1, end_line=span.line,
                               end_col=start + 1 + len(c.column))
