"""What each row records, checked: condition columns and custom data fields.

A row records each name once (docs/data.md, "Conditions" and "Custom data fields"): the core
columns, the kind's data fields, the parameters, the custom data fields, the condition columns
(the innermost block's first) and the shared variables. Names that would clash are errors
here (a column named like a shared variable excepted: the row records the variable), so
both runtimes can build rows with "the first name wins" and never drop a value.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from sbl import ir, kinds
from sbl.kinds import Kind
from sbl.passes.infer import Scope
from sbl.types import SblType

if TYPE_CHECKING:
    from sbl.passes.check import _Checker

_TEXT_ONLY = frozenset(p.name for p in kinds.COMMON_PARAMS)
_RENAME = "a row records each name once: rename one of them"


def block_columns(checker: _Checker, block: ir.Block, own: dict[str, SblType]
                  ) -> tuple[str, ...]:
    """The condition columns a block's trials record: its rows' fields, less those named like
    a shared variable (the column hides it in expressions, but the row records the shared
    variable, as it always has) or like a field jsPsych adds to the page's rows (`sbl data`
    could not tell them apart). A column named like a core column is an error."""
    span = block.over.span if block.over is not None else block.span
    for name in own:
        if name in kinds.CORE_FIELDS:
            checker.error(span, f"block '{block.name}' goes over rows with a column '{name}', "
                                f"but every row already records '{name}' (a core column)",
                          help=f"rename the column (e.g. '{block.name}_{name}')")
    return tuple(name for name in own
                 if name not in checker.shared and name not in kinds.JSPSYCH_FIELDS)


def conditions(open_blocks: list[ir.Block], columns: dict[int, tuple[str, ...]]
               ) -> dict[str, ir.Block]:
    """The condition columns a trial records, innermost block first, with their block."""
    out: dict[str, ir.Block] = {}
    for block in reversed(open_blocks):
        for name in columns.get(id(block), ()):
            out.setdefault(name, block)
    return out


def trial(checker: _Checker, stim: ir.Stimulus, kind: Kind, scope: Scope) -> dict[str, SblType]:
    """Check the names a trial's row records; return its custom data fields' types."""
    own = conditions(checker.open, checker.columns)
    data_names = {d.name for d in kind.data}
    given = {p.name: p for p in stim.params}
    for name, block in own.items():
        param = given.get(name)
        if name in data_names:
            checker.error(head_span(stim), f"column '{name}' of block '{block.name}' has the "
                                           f"name of the data field '{name}' of {kind.name}",
                          help=_RENAME)
        elif any(p.name == name for p in kind.params if p.name not in _TEXT_ONLY) and (
                param is None or param.value != ir.Name(name)) and not _failed(checker, param):
            checker.error(name_span(param) if param else head_span(stim),
                          f"the row of this {kind.name} records its parameter '{name}', which "
                          f"is not column '{name}' of block '{block.name}'",
                          help=f"pass the column itself ('{name}: {name}') or rename the column")
    return _data_fields(checker, stim, kind, scope, own)


def _data_fields(checker: _Checker, stim: ir.Stimulus, kind: Kind, scope: Scope,
                 own: dict[str, ir.Block]) -> dict[str, SblType]:
    """Check the trial's custom data fields (its blocks', outermost first, then its own)."""
    fields: dict[str, ir.Param] = {}
    nodes: list[ir.Block | ir.Stimulus] = [*checker.open, stim]
    for node in nodes:
        for f in node.data:
            fields[f.name] = f  # a trial's own field replaces its block's of the same name
    params = {p.name: p.type for p in kind.params if p.name not in _TEXT_ONLY}
    found: dict[str, SblType] = {}
    for f in fields.values():
        clash = _taken(f.name, kind, checker.shared, own)
        if clash:
            checker.error(name_span(f), f"data field '{f.name}' has the name of {clash}",
                          help=_RENAME)
        names = {**scope.names, **params, **checker.trial_fields(kind), **found}
        inner = Scope(names, scope.prev_fields, scope.prev_available,
                      f"in data field '{f.name}'")
        found[f.name] = checker.infer.infer(f.value, inner)
        checker.no_randomness(f.value, "a data field")
    return found


def _failed(checker: _Checker, param: ir.Param | None) -> bool:
    """Whether a problem was already reported inside ``param`` (a typo says enough)."""
    span = param.span if param is not None else None
    return span is not None and any(
        d.span is not None and d.span.path == span.path
        and (span.line, span.col) <= (d.span.line, d.span.col)
        and (d.span.end_line, d.span.end_col) <= (span.end_line, span.end_col)
        for d in checker.diagnostics)


def _taken(name: str, kind: Kind, shared: dict[str, SblType], own: dict[str, ir.Block]
           ) -> str | None:
    """What else a row records under ``name``, in words; None when nothing does."""
    if name in kinds.CORE_FIELDS:
        return "a core column"
    if any(d.name == name for d in kind.data):
        return f"a data field of {kind.name}"
    if any(p.name == name for p in kind.params):
        return f"a parameter of {kind.name}"
    if name in shared:
        return "a shared variable"
    if name in kinds.JSPSYCH_FIELDS:
        return "a field jsPsych adds to the page's rows"
    if name in own:
        return f"column '{name}' of block '{own[name].name}'"
    return None


def head_span(stim: ir.Stimulus) -> ir.Span | None:
    """The span of a stimulus's kind name."""
    s = stim.span
    return dataclasses.replace(s, end_line=s.line, end_col=s.col + len(stim.kind)) if s else None


def name_span(node: ir.Param | ir.Assign) -> ir.Span | None:
    """The span of the name a parameter, data field or assignment starts with."""
    s = node.span
    name = node.name if isinstance(node, ir.Param) else node.target
    return dataclasses.replace(s, end_line=s.line, end_col=s.col + len(name)) if s else None
