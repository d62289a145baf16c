"""The resolve pass: read CSV tables, turn the experiment's instructions into its first trial,
and give every stimulus a stable, unique id (``block/name``) that data rows and replay use."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections import Counter
from pathlib import Path

from sbl import ir
from sbl.source import Diagnostic, SblError, read_source

_IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*\Z")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?\Z")


def resolve(experiment: ir.Experiment) -> ir.Experiment:
    """Return the experiment with CSV tables loaded, instructions first and stimulus ids set.

    CSV files are found relative to the .sbl file the experiment was parsed from.
    """
    base = Path(experiment.span.path).parent if experiment.span else Path(".")
    errors: list[Diagnostic] = []
    decls = tuple(_load_table(d, base, errors) if isinstance(d, ir.Table) and d.source else d
                  for d in experiment.decls)
    if errors:
        raise SblError(errors)
    body = _instructions(experiment) + experiment.body
    return dataclasses.replace(experiment, decls=decls, body=_with_ids(body, ""))


def _instructions(experiment: ir.Experiment) -> tuple[ir.Item, ...]:
    """The ``instructions`` setting, as an ordinary first trial of kind ``instructions``."""
    param = next((p for p in experiment.settings if p.name == "instructions"), None)
    if param is None:
        return ()
    pages = param.value if isinstance(param.value, ir.ListExpr) else ir.ListExpr(
        (param.value,), span=param.value.span)
    return (ir.Stimulus("instructions", "instructions", (ir.Param("pages", pages,
                                                                  span=param.span),),
                        span=param.span),)


def _with_ids(items: tuple[ir.Item, ...], prefix: str) -> tuple[ir.Item, ...]:
    """Qualify each stimulus id with its block path; number repeated names (``text-2``)."""
    seen: Counter[str] = Counter()
    out: list[ir.Item] = []
    for item in items:
        if isinstance(item, ir.Block):
            out.append(dataclasses.replace(item, body=_with_ids(item.body, prefix + item.name
                                                                + "/")))
            continue
        seen[item.id] += 1
        suffix = f"-{seen[item.id]}" if seen[item.id] > 1 else ""
        out.append(dataclasses.replace(item, id=f"{prefix}{item.id}{suffix}"))
    return tuple(out)


def _load_table(table: ir.Table, base: Path, errors: list[Diagnostic]) -> ir.Table:
    assert table.source is not None
    path = base / table.source
    if not path.is_file():
        where = table.rows.span or table.span
        errors.append(Diagnostic(f"table '{table.name}': cannot find the file '{table.source}'",
                                 where, help=f"looked for {path}"))
        return table
    try:
        text = read_source(path)
        rows, columns = read_csv(text, str(path))
    except SblError as exc:
        errors.extend(exc.diagnostics)
        return table
    return dataclasses.replace(table, rows=rows, columns=columns)


def read_csv(text: str, path: str) -> tuple[ir.ListExpr, tuple[str, ...]]:
    """Rows of a CSV file with a header row, as a list of record literals with spans in it."""
    lines = list(csv.reader(io.StringIO(text, newline="")))
    if not lines or not any(cell.strip() for cell in lines[0]):
        raise SblError.at(ir.Span(path, 1, 1, 1, 1, text), "the CSV file is empty: it needs a "
                          "header row naming the columns")
    header = [cell.strip() for cell in lines[0]]
    _check_header(header, path, text)
    records = []
    line_numbers = _line_numbers(text)
    for index, cells in enumerate(lines[1:], start=1):
        line = line_numbers[index] if index < len(line_numbers) else index + 1
        if not cells:
            continue
        span = ir.Span(path, line, 1, line, len(",".join(cells)) + 1, text)
        if len(cells) != len(header):
            raise SblError.at(span, f"this row has {_cells(len(cells))} but the header has "
                              f"{_cells(len(header))}", help="every row needs one cell per column")
        fields = tuple(ir.Field(name, ir.Literal(_cell(value), span=span), span=span)
                       for name, value in zip(header, cells, strict=True))
        records.append(ir.RecordExpr(fields, span=span))
    return ir.ListExpr(tuple(records), span=ir.Span(path, 1, 1, 1, 1, text)), tuple(header)


def _line_numbers(text: str) -> list[int]:
    """The 1-based line on which each CSV record starts (quoted cells may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    starts, line = [], 1
    for _ in reader:
        starts.append(line)
        line = reader.line_num + 1
    return starts


def _check_header(header: list[str], path: str, text: str) -> None:
    col = 1
    for name in header:
        span = ir.Span(path, 1, col, 1, col + max(1, len(name)), text)
        if not _IDENT.match(name):
            raise SblError.at(span, f"the column name {name!r} is not a name sbl can use",
                              help="use letters, digits and '_', not starting with a digit")
        if header.count(name) > 1:
            raise SblError.at(span, f"the column '{name}' appears twice in the header")
        col += len(name) + 1


def _cells(n: int) -> str:
    return f"{n} cell{'s' if n != 1 else ''}"


def _cell(text: str) -> int | float | str | bool:
    """A CSV cell as a value: numbers and true/false are typed, everything else is text."""
    stripped = text.strip()
    if _NUMBER.match(stripped):
        value = float(stripped)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if stripped in ("true", "false"):
        return stripped == "true"
    return text
