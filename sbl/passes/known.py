"""The values an expression of a trial takes that are known before the run, each with where
it was written, for the checks of declared ranges and choices (sbl/passes/ranges.py).

Known (docs/language.md, "Values known before the run"): a literal, anything computed from
literals and constants (``let``) without random draws, shared variables, groups or ``prev``,
and a column of a table a block goes over when the table's rows are known so (a CSV table; a
written table, reordered or sampled or not). A column's values are reported at their cells:
the CSV cell (``words.csv:4:7``), or the literal in the written table, else the table's
expression. Anything else is None: the runtimes' to check.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sbl import ir, listing, media
from sbl import types as t
from sbl.passes import csv_table, orders
from sbl.passes.literals import constant_number
from sbl.passes.rows import conditions
from sbl.source import Diagnostic

if TYPE_CHECKING:
    from sbl.passes.check import _Checker


@dataclass(frozen=True, slots=True)
class Known:
    """One value an expression takes, where it was written (``span``, found only when a
    check reports it: finding a CSV cell reads the file again) and from what, in words
    ("" for the expression itself; "column 'x' of table 't'"; "the constant 'd'")."""

    value: Any
    where: Callable[[], ir.Span | None]
    source: str = ""

    @property
    def span(self) -> ir.Span | None:
        """Where the value was written."""
        return self.where()


Keep = Callable[[Any], bool]


def _everything(value: Any) -> bool:
    return True


def values(checker: _Checker, expr: ir.Expr, keep: Keep = _everything) -> list[Known] | None:
    """The distinct values ``expr``, in the trial being checked, takes before the run that
    ``keep`` keeps (a check keeps those it reports: a column of a million cells makes no
    million records), one per value, at its first place; None when they are not known."""
    if isinstance(expr, ir.Name):
        block = column_block(checker, expr.name)
        if block is not None:
            return column(checker, block, expr.name, keep)
    hidden = conditions(checker.open, checker.columns)
    value = orders.static_rows(expr, checker.decls, hidden)
    if value is orders.UNKNOWN:
        return None
    if not keep(value):
        return []
    constant = next((d.name for d in checker.decls if isinstance(d, ir.Let)
                     and isinstance(expr, ir.Name) and d.name == expr.name), None)
    return [Known(value, lambda: expr.span, f"the constant '{constant}'" if constant else "")]


def column_block(checker: _Checker, name: str) -> ir.Block | None:
    """The innermost open block whose rows have a column ``name`` (it hides the others)."""
    return next((b for b in reversed(checker.open) if name in checker.own.get(id(b), ())),
                None)


def column(checker: _Checker, block: ir.Block, name: str,
           keep: Keep = _everything) -> list[Known] | None:
    """The distinct values of column ``name`` of the rows ``block`` goes over, when known."""
    assert block.over is not None
    decl = _source(checker, block)
    source = _unordered(decl.rows if decl is not None else block.over)
    what = f"column '{name}' of table '{decl.name}'" if decl else f"column '{name}'"
    if decl is not None and isinstance(decl.rows, ir.TableData):
        return list(_cells(decl.rows, name, what, keep))
    outer = conditions(checker.open[:checker.open.index(block)], checker.columns)
    rows = orders.static_rows(ir.Name(decl.name) if decl else source, checker.decls, outer)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return None
    found = listing.unique([r.get(name) for r in rows])
    return [Known(v, _literal_at(source, name, v), what) for v in found if keep(v)]


@dataclass(frozen=True, slots=True)
class Row:
    """One distinct row, as some expressions see it, of the known rows of the block whose
    columns they use: their values on it, and where each column's cell of it was written."""

    values: tuple[Any, ...]
    cell: Callable[[str, Any], Known]


def rows(checker: _Checker, exprs: tuple[ir.Expr, ...]) -> list[Row] | None:
    """The values ``exprs`` take together on each distinct row of the innermost open block
    whose columns they use (one row for each different combination of those columns), when
    its rows are known; None otherwise (or when they use no column)."""
    names = {n.name for e in exprs for n in ir.walk(e) if isinstance(n, ir.Name)}
    block = next((b for b in reversed(checker.open)
                  if names & set(checker.own.get(id(b), ()))), None)  # the innermost
    if block is None or block.over is None:
        return None
    used = [n for n in checker.own[id(block)] if n in names]
    found = _combinations(checker, block, used)
    if found is None:
        return None
    combos, cell = found
    outer = {n: b for n, b in conditions(checker.open[:checker.open.index(block)],
                                         checker.columns).items() if n not in used}
    out = []
    for combo, index in combos:
        bound = dict(zip(used, combo, strict=True))
        values = tuple(orders.static_rows(e, checker.decls, outer, bound) for e in exprs)
        out.append(Row(values, functools.partial(cell, index)))
    return out


Cell = Callable[[int, str, Any], Known]


def _combinations(checker: _Checker, block: ir.Block, used: list[str]
                  ) -> tuple[list[tuple[tuple[Any, ...], int]], Cell] | None:
    """The distinct combinations of the columns ``used`` over ``block``'s known rows, each
    with its first row's index, and how to find a column's cell of a row."""
    table = _source(checker, block)
    what = (lambda n: f"column '{n}' of table '{table.name}'") if table else \
        (lambda n: f"column '{n}'")
    if table is not None and isinstance(table.rows, ir.TableData):
        data = table.rows
        first: dict[tuple[Any, ...], int] = {}
        columns = [data.cells[data.columns.index(n)] for n in used]
        for index, combo in enumerate(zip(*columns, strict=True)):
            first.setdefault(combo, index)
        return list(first.items()), lambda i, n, v: Known(v, _cell_at(data, i, n), what(n))
    source = _unordered(table.rows if table is not None else block.over)  # type: ignore[arg-type]
    outer = conditions(checker.open[:checker.open.index(block)], checker.columns)
    records = orders.static_rows(ir.Name(table.name) if table else source, checker.decls, outer)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return None
    seen: dict[str, tuple[tuple[Any, ...], int]] = {}
    for index, record in enumerate(records):
        combo = tuple(record.get(n) for n in used)
        seen.setdefault(json.dumps(combo, sort_keys=True), (combo, index))
    return list(seen.values()), lambda i, n, v: Known(v, _literal_at(source, n, v), what(n))


def odd_cell(checker: _Checker, param: str, expr: ir.Expr, expected: t.SblType,
             head: ir.Span | None) -> Diagnostic | None:
    """When ``expr``, given to parameter ``param`` that needs ``expected`` (numbers or
    booleans), is a CSV column that some of its cells made text (a column is numbers only
    when every cell is a number): an error at the first cell that is not, else None (a
    column of words: the type error at the use says what is wrong)."""
    if not isinstance(expr, ir.Name):
        return None
    block = column_block(checker, expr.name)
    table = _source(checker, block) if block is not None else None
    if table is None or not isinstance(table.rows, ir.TableData):
        return None
    cells = table.rows.cells[table.rows.columns.index(expr.name)]
    want = "a number" if t.assignable(t.NUMBER, expected) else \
        "true or false" if t.assignable(t.BOOL, expected) else None
    if want is None or all(csv_table.looks_typed(c) != want for c in cells):
        return None
    index = next(i for i, c in enumerate(cells) if csv_table.looks_typed(c) != want)
    use = f" of the trial at {head.path}:{head.line}" if head is not None else ""
    return Diagnostic(f"'{param}'{use} must be {t.a(expected)}, but this cell of column "
                      f"'{expr.name}' of table '{table.name}' is not {want}, so the column "
                      f"is text", media.cell_span(table.rows, index, expr.name),
                      help="a CSV column holds numbers (or booleans) only when every cell "
                           "does; fix the cell")


def _unordered(expr: ir.Expr) -> ir.Expr:
    """``expr`` without the reorderings and samplings around it: the rows they draw from."""
    while isinstance(expr, ir.Call) and expr.func in listing.REORDERING and expr.args:
        expr = expr.args[0]
    return expr


def _source(checker: _Checker, block: ir.Block) -> ir.Table | None:
    """The table ``block`` goes over (reordered or sampled), if it goes over one by name."""
    assert block.over is not None
    source = _unordered(block.over)
    return next((d for d in checker.decls if isinstance(source, ir.Name)
                 and isinstance(d, ir.Table) and d.name == source.name), None)


def _cells(table: ir.TableData, name: str, what: str, keep: Keep) -> Iterator[Known]:
    """The distinct cells of a CSV table's column that ``keep`` keeps, each at its first
    row. A column's cells are of one group (numbers, booleans or text: csv_table), so no 1
    and true collide."""
    cells = table.cells[table.columns.index(name)]
    for cell in filter(keep, dict.fromkeys(cells)):
        yield Known(cell, _first_cell_at(table, cells, cell, name), what)


def _cell_at(table: ir.TableData, index: int, name: str) -> Callable[[], ir.Span | None]:
    return lambda: media.cell_span(table, index, name)


def _first_cell_at(table: ir.TableData, cells: tuple[ir.Cell, ...], cell: ir.Cell,
                   name: str) -> Callable[[], ir.Span | None]:
    """Where ``cell`` first is in the column ``cells``, found only when asked."""
    return lambda: media.cell_span(table, cells.index(cell), name)


def _literal_at(written: ir.Expr, name: str, value: Any) -> Callable[[], ir.Span | None]:
    """Where a written table holds ``value`` in field ``name``: the literal, else the
    table's expression (a computed column)."""
    def where() -> ir.Span | None:
        for node in ir.walk(written):
            if isinstance(node, ir.RecordExpr):
                for f in node.fields:
                    if f.name == name and _constant(f.value) == value and \
                            type(_constant(f.value)) is type(value):
                        return f.value.span
        return written.span
    return where


def _constant(expr: ir.Expr) -> Any:
    """The value of a literal (a negative number included), else a marker no value equals."""
    number = constant_number(expr)
    if number is not None:
        return int(number) if number.is_integer() and not isinstance(
            getattr(expr, "value", None), float) else number
    return expr.value if isinstance(expr, ir.Literal) else _NOTHING


_NOTHING = object()
