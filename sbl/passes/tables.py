"""A table written in the file holds one type a column (numbers, text, booleans, a record,
... or none), as a CSV table's column does (sbl/passes/csv_table.py): a column of mixed
types could be checked nowhere it is used, so a cell of another type is an error there
(docs/language.md, "Declarations")."""

from __future__ import annotations

from collections.abc import Iterator

from sbl import ir
from sbl import types as t
from sbl.passes.infer import Inferrer, Scope
from sbl.source import Diagnostic
from sbl.types import SblType

_HELP = "write every cell of the column as the same type (\"3\" is text, 3 a number)"


def one_type_a_column(table: ir.Table, scope: Scope) -> Iterator[Diagnostic]:
    """The first cell of each column of ``table`` whose type differs from the column's:
    its rows written one by one (``[{...}, {...}]``), or one record built for each item
    (``for x in xs {...}``) whose field takes different types by an ``if``."""
    silent = Inferrer(lambda d: None)  # the rows' own errors are reported once, elsewhere
    rows = table.rows
    if isinstance(rows, ir.ListExpr):
        yield from _rows(table.name, rows, scope, silent)
    elif isinstance(rows, ir.Comprehension) and isinstance(rows.body, ir.RecordExpr):
        found = t.strip_optional(silent.infer(rows.iterable, scope))
        inner = scope.child(**{rows.var: found.item if isinstance(found, t.ListType)
                               else t.ANY})
        for f in rows.body.fields:
            yield from _branches(table.name, f.name, f.value, inner, silent)


def _rows(name: str, rows: ir.ListExpr, scope: Scope, silent: Inferrer
          ) -> Iterator[Diagnostic]:
    first: dict[str, tuple[SblType, int]] = {}
    for number, row in enumerate(rows.items, start=1):
        for f in row.fields if isinstance(row, ir.RecordExpr) else ():
            found = silent.infer(f.value, scope)
            seen = first.setdefault(f.name, (found, number))
            if _clash(seen[0], found):
                yield Diagnostic(f"column '{f.name}' of table '{name}' is {t.a(seen[0])} in "
                                 f"row {seen[1]} but {t.a(found)} here: a column holds one "
                                 f"type", f.value.span, help=_HELP)
                found = t.ANY  # one error a column
            first[f.name] = (t.join(seen[0], found), seen[1])


def _branches(name: str, column: str, value: ir.Expr, scope: Scope, silent: Inferrer
              ) -> Iterator[Diagnostic]:
    """A field of a comprehension's record that is an ``if`` (however nested) whose
    branches have types no one column holds."""
    leaves: list[ir.Expr] = []
    todo = [value]
    while todo:
        expr = todo.pop(0)
        if isinstance(expr, ir.Cond):
            todo[:0] = [expr.then, expr.otherwise]
        else:
            leaves.append(expr)
    joined: SblType | None = None
    for leaf in leaves:
        found = silent.infer(leaf, scope)
        if joined is not None and _clash(joined, found):
            yield Diagnostic(f"column '{column}' of table '{name}' is {t.a(joined)} on some "
                             f"rows but {t.a(found)} here: a column holds one type",
                             leaf.span, help=_HELP)
            return
        joined = found if joined is None else t.join(joined, found)


def _clash(a: SblType, b: SblType) -> bool:
    """Whether no one type holds ``a`` and ``b`` (and neither is unknown)."""
    return t.join(a, b) == t.ANY and t.ANY not in (a, b)
