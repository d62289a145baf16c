"""``inherit``: each stimulus that gives no ``gap`` takes the innermost enclosing block's
``gap``, else the experiment's, written into its parameters. Both runtimes then read one
place: a trial's own ``gap`` parameter, evaluated for each trial with its other parameters
(so ``gap: randint(400, 700)`` in a block jitters each of its trials)."""

from __future__ import annotations

import dataclasses

from sbl import ir


def inherit(experiment: ir.Experiment) -> ir.Experiment:
    """The experiment with the block's or experiment's gap in every stimulus that has none."""
    body = tuple(_item(item, experiment.setting("gap")) for item in experiment.body)
    return dataclasses.replace(experiment, body=body)


def _item(item: ir.Item, gap: ir.Expr | None) -> ir.Item:
    if isinstance(item, ir.Block):
        inner = item.gap if item.gap is not None else gap
        return dataclasses.replace(item, body=tuple(_item(i, inner) for i in item.body))
    if gap is None or any(p.name == "gap" for p in item.params):
        return item
    return dataclasses.replace(item, params=(*item.params, ir.Param("gap", gap, span=gap.span)))
