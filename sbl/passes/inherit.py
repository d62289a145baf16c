"""``inherit``: what a stimulus leaves out, it takes from around it, written into its
parameters so that both runtimes read one place, the trial's own parameters:

- a ``gap``: the innermost enclosing block's ``gap``, else the experiment's. It is evaluated
  for each trial with its other parameters (so ``gap: randint(400, 700)`` in a block jitters
  each of its trials);
- a parameter named like one of its condition columns: the column (``color: color``), so
  what the row records under that name is both the condition and what the trial showed
  (docs/data.md, "Condition columns"; the checker has checked the column's type)."""

from __future__ import annotations

import dataclasses

from sbl import ir, kinds
from sbl.passes.rows import fills


def inherit(experiment: ir.Experiment) -> ir.Experiment:
    """The experiment with each stimulus's inherited gap and filled parameters given."""
    body = tuple(_item(item, experiment.setting("gap"), ()) for item in experiment.body)
    return dataclasses.replace(experiment, body=body)


def _item(item: ir.Item, gap: ir.Expr | None, open_blocks: tuple[ir.Block, ...]) -> ir.Item:
    """``item`` with what it inherits; ``open_blocks`` are the blocks around it, innermost
    first."""
    if isinstance(item, ir.Block):
        inner = item.gap if item.gap is not None else gap
        within = (item, *open_blocks)
        return dataclasses.replace(item, body=tuple(_item(i, inner, within) for i in item.body))
    params = item.params
    if gap is not None and not any(p.name == "gap" for p in params):
        params = (*params, ir.Param("gap", gap, span=gap.span))
    kind = kinds.get(item.kind)
    if kind is not None:
        columns: dict[str, ir.Block] = {}
        for block in open_blocks:
            columns.update((name, block) for name in block.columns if name not in columns)
        filled = fills(dataclasses.replace(item, params=params), kind, columns)
        params += tuple(_column(name, columns[name]) for name in filled)
    return item if params == item.params else dataclasses.replace(item, params=params)


def _column(name: str, block: ir.Block) -> ir.Param:
    """``name: name``, placed at the table the column comes from (errors point there)."""
    span = block.over.span if block.over is not None else block.span
    return ir.Param(name, ir.Name(name, span=span), span=span)
