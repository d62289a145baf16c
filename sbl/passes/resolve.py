"""The resolve pass: read CSV tables, turn the experiment's instructions into its first trial,
and give every stimulus a stable, unique id (``block/name``) that data rows and replay use."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

from sbl import ir
from sbl.passes.csv_table import read_csv
from sbl.source import Diagnostic, SblError, read_source


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
