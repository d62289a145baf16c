"""``inherit``: what a stimulus leaves out, it takes from around it, written into its
parameters so that both runtimes read one place, the trial's own parameters:

- a ``gap``: the innermost enclosing block's ``gap``, else the experiment's. It is evaluated
  for each trial with its other parameters (so ``gap: randint(400, 700)`` in a block jitters
  each of its trials);
- a ``style``: its own, merged field by field with its blocks' ``style:`` (innermost
  first): a field its own style leaves out or gives as none comes from the innermost block
  that gives it; the experiment's ``style`` fills the rest on the page;
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
    params = _with_style(item.params, [b.style for b in open_blocks if b.style is not None])
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


def _with_style(params: tuple[ir.Param, ...], styles: list[ir.Expr]) -> tuple[ir.Param, ...]:
    """``params`` with ``style`` merged from the trial's own and its blocks' (innermost first):
    each field from the first of them that gives it, not none."""
    if not styles:
        return params
    own = next((p for p in params if p.name == "style"), None)
    sources = ([own.value] if own is not None else []) + styles
    merged = _merge(sources)
    if own is None:
        return (*params, ir.Param("style", merged, span=styles[0].span))
    return tuple(ir.Param("style", merged, span=p.span) if p is own else p for p in params)


def _merge(sources: list[ir.Expr]) -> ir.Expr:
    """One expression for the merged style of ``sources`` (first wins). Each source is bound
    once, in order, as a comprehension's variable (``[... for s in [SOURCE]][0]``), so one
    that draws random numbers draws once; the names are not identifiers a file can use."""
    span = sources[0].span
    names = [f"style#{i}" for i in range(len(sources))]
    written = [s for s in sources if isinstance(s, ir.RecordExpr)]
    given = {f.name for s in written for f in s.fields}
    fields = [f for f in kinds.STYLE_FIELDS if len(written) < len(sources) or f in given]
    body: ir.Expr = ir.RecordExpr(tuple(ir.Field(f, _pick(f, names, span), span=span)
                                        for f in fields), span=span)
    for name, source in reversed(list(zip(names, sources, strict=True))):
        loop = ir.Comprehension(body, name, ir.ListExpr((source,), span=span), span=span)
        body = ir.Index(loop, ir.Literal(0, span=span), span=span)
    return body


def _pick(field: str, names: list[str], span: ir.Span | None) -> ir.Expr:
    """``field`` of the first of ``names`` that is a record giving it, not none; else none."""
    if not names:
        return ir.Literal(None, span=span)
    var, none = ir.Name(names[0], span=span), ir.Literal(None, span=span)
    value = ir.Attr(var, field, span=span)
    test = ir.Binary(ir.BinaryOp.AND, ir.Binary(ir.BinaryOp.AND,
                     ir.Binary(ir.BinaryOp.NE, var, none, span=span),
                     ir.Binary(ir.BinaryOp.IN, ir.Literal(field, span=span), var, span=span),
                     span=span), ir.Binary(ir.BinaryOp.NE, value, none, span=span), span=span)
    return ir.Cond(test, value, _pick(field, names[1:], span), span=span)
