"""What each row records, checked: condition columns and custom data fields.

A row records each name once (docs/data.md, "Conditions" and "Custom data fields"): the core
columns, the kind's data fields, the parameters, the custom data fields, the condition columns
(the innermost block's first) and the shared variables. Names that would clash are errors
here, so both runtimes can build rows with "the first name wins" and never drop a value, but
for two where one value is meant to win: a column named like a shared variable (the row
records the variable) and a column named like a parameter the trial writes (the row records
what the trial showed, the parameter).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sbl import ir, kinds, types
from sbl.kinds import Kind
from sbl.passes.infer import Scope
from sbl.source import Diagnostic, Severity
from sbl.types import SblType

if TYPE_CHECKING:
    from sbl.passes.check import _Checker

_RENAME = "a row records each name once: rename one of them"


def block_columns(checker: _Checker, block: ir.Block, own: dict[str, SblType]
                  ) -> tuple[str, ...]:
    """The condition columns a block's trials record: its rows' fields, less those named like
    a shared variable (the column hides it in expressions, but the row records the shared
    variable, as it always has) or like a field jsPsych adds to the page's rows (`sbl data`
    could not tell them apart). A column named like a core column is an error."""
    span = block.over.span if block.over is not None else block.span
    for name in own:
        if name in checker.core:
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
        if name in data_names:
            checker.error(head_span(stim), f"column '{name}' of block '{block.name}' has the "
                                           f"name of the data field '{name}' of {kind.name}",
                          help=_RENAME)
        elif (decl := kind.param(name)) is not None and name not in kinds.TEXT_ONLY:
            _param_column(checker, stim, kind, given.get(name), decl, scope.names[name], block)
    return _data_fields(checker, stim, kind, scope, own)


def fills(stim: ir.Stimulus, kind: Kind, columns: Iterable[str]) -> tuple[str, ...]:
    """The parameters ``stim`` leaves out that its condition columns ``columns`` fill, each
    column of a parameter's name (a parameter a row records; not a data field's name): the
    ``inherit`` pass passes them (``color: color``), and the checker takes them as given."""
    given = {p.name for p in stim.params}
    data = {d.name for d in kind.data}
    return tuple(name for name in columns
                 if name not in given and name not in kinds.TEXT_ONLY and name not in data
                 and kind.param(name) is not None)


def filled_warnings(experiment: ir.Experiment) -> list[Diagnostic]:
    """A warning where a condition column fills a parameter the trial leaves out (``inherit``
    wrote it in, placed at the table, outside the stimulus): it changes what the trial shows,
    so ``sbl check`` says so; writing ``color: color`` says it is meant."""
    out = []
    for stim, blocks in _stimuli(experiment.body, ()):
        for param in stim.params:
            block = next((b for b in blocks if param.name in b.columns), None)
            if block is None or param.value != ir.Name(param.name) or _inside(param, stim):
                continue
            out.append(Diagnostic(
                f"column '{param.name}' of block '{block.name}' gives this {stim.kind} its "
                f"{param.name}, as if it said '{param.name}: {param.name}'", head_span(stim),
                Severity.WARNING, help=_fill_help(stim, param.name)))
    return out


def _fill_help(stim: ir.Stimulus, name: str) -> str:
    """How to say a filled parameter is meant, or to give the trial its own value (a value
    the trial writes wins over the column, none included where the parameter is optional)."""
    decl = kind.param(name) if (kind := kinds.get(stim.kind)) is not None else None
    own = (f"'{name}: none' leaves it unset" if decl is not None and types.is_optional(decl.type)
           else f"a value of its own ('{name}: ...') wins over the column")
    return f"write '{name}: {name}' if that is what you mean; {own}; or rename the column"


def _stimuli(items: tuple[ir.Item, ...], blocks: tuple[ir.Block, ...]
             ) -> list[tuple[ir.Stimulus, tuple[ir.Block, ...]]]:
    """Each stimulus with the blocks around it, innermost first."""
    out: list[tuple[ir.Stimulus, tuple[ir.Block, ...]]] = []
    for item in items:
        if isinstance(item, ir.Block):
            out += _stimuli(item.body, (item, *blocks))
        else:
            out.append((item, blocks))
    return out


def _inside(param: ir.Param, stim: ir.Stimulus) -> bool:
    """Whether ``param`` is written in ``stim`` (an inherited one is placed elsewhere)."""
    p, s = param.span, stim.span
    return p is None or s is None or (
        p.path == s.path and (s.line, s.col) <= (p.line, p.col)
        and (p.end_line, p.end_col) <= (s.end_line, s.end_col))


def _param_column(checker: _Checker, stim: ir.Stimulus, kind: Kind, param: ir.Param | None,
                  decl: kinds.ParamDecl, found: SblType, block: ir.Block) -> None:
    """A column named like a parameter: the row records the parameter. A parameter the
    trial writes wins (``correct_key: none`` included), so the column is not in its row; one
    it leaves out is filled by the column (the ``inherit`` pass), which then must be of the
    parameter's type."""
    name, column = decl.name, f"column '{decl.name}' of block '{block.name}'"
    if param is not None:
        return  # what the author wrote wins: the row records it, not the column
    if name == "gap" and (gap := _inherited_gap(checker)) is not None:
        checker.error(head_span(stim), f"the row of this {kind.name} records its gap, which it "
                                       f"takes from {gap}, not from {column}",
                      help="give the trial 'gap: gap' or rename the column")
    elif not types.assignable(found, decl.type):
        from sbl.passes import known  # it reads the rows of the checked blocks

        cell = known.odd_cell(checker, name, ir.Name(name), decl.type, head_span(stim))
        if cell is not None:
            checker.diagnostics.append(cell)
            return
        checker.error(head_span(stim), f"{column} fills the parameter '{name}' this "
                                       f"{kind.name} leaves out, which must be "
                                       f"{types.a(decl.type)}, not {types.a(found)}",
                      help=f"give the {kind.name} its own '{name}', or rename the column")


def _inherited_gap(checker: _Checker) -> str | None:
    """Where a trial without a gap of its own takes one (``inherit``), in words."""
    for block in reversed(checker.open):
        if block.gap is not None:
            return f"block '{block.name}'"
    return "the experiment" if checker.gap is not None else None


def _data_fields(checker: _Checker, stim: ir.Stimulus, kind: Kind, scope: Scope,
                 own: dict[str, ir.Block]) -> dict[str, SblType]:
    """Check the trial's custom data fields (its blocks', outermost first, then its own)."""
    fields: dict[str, ir.Param] = {}
    nodes: list[ir.Block | ir.Stimulus] = [*checker.open, stim]
    for node in nodes:
        for f in node.data:
            fields[f.name] = f  # a trial's own field replaces its block's of the same name
    params = {p.name: p.type for p in kind.params if p.name not in kinds.TEXT_ONLY}
    found: dict[str, SblType] = {}
    base = {**scope.names, **params, **checker.trial_fields(kind)}
    for f in fields.values():
        clash = _taken(f.name, kind, checker.shared, own, checker.core)
        if clash:
            checker.error(name_span(f), f"data field '{f.name}' has the name of {clash}",
                          help=_RENAME)
        names = {**base, **found}
        inner = Scope(names, scope.prev_fields, scope.prev_available,
                      f"in data field '{f.name}'")
        found[f.name] = checker.infer.infer(f.value, inner)
        checker.no_randomness(f.value, "a data field")
    return found


def _taken(name: str, kind: Kind, shared: dict[str, SblType], own: dict[str, ir.Block],
           core: tuple[str, ...]) -> str | None:
    """What else a row records under ``name``, in words; None when nothing does."""
    if name in core:
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


# ---------------------------------------------------------------- response times in text runs

# What a text participant reads where text shows a response time it has none of (the text
# runtime's rule: sbl/backends/text/untimed.py).
NOT_MEASURED = "not measured"


def reads_rt(expr: ir.Expr) -> list[ir.Node]:
    """The places in ``expr`` that read a response time: ``rt``, ``x.rt`` and ``x["rt"]``."""
    return [n for n in ir.walk(expr)
            if (isinstance(n, ir.Name) and n.name == "rt")
            or (isinstance(n, ir.Attr) and n.name == "rt")
            or (isinstance(n, ir.Index) and n.index == ir.Literal("rt"))]


def rt_columns(experiment: ir.Experiment) -> dict[str, frozenset[str]]:
    """By trial id, the columns of its row computed from a response time: parameters and
    custom data fields that read one, and shared variables an ``after`` sets from one. Text
    runs have no rt, so these cells may differ from a page run with the same answers."""
    out: dict[str, frozenset[str]] = {}
    shared: set[str] = set()
    blocks: dict[str, tuple[ir.Param, ...]] = {}
    _collect(experiment.body, (), blocks)
    for stim in ir.stimuli(experiment.body):
        fields = (*stim.params, *blocks.get(stim.id, ()), *stim.data)
        names = {p.name for p in fields if reads_rt(p.value)}
        shared |= {a.target for a in stim.after if reads_rt(a.value)}
        out[stim.id] = frozenset(names)
    return {trial: names | shared for trial, names in out.items()}


def _collect(items: tuple[ir.Item, ...], inherited: tuple[ir.Param, ...],
             out: dict[str, tuple[ir.Param, ...]]) -> None:
    """Each stimulus's inherited block data fields, by id."""
    for item in items:
        if isinstance(item, ir.Block):
            _collect(item.body, (*inherited, *item.data), out)
        else:
            out[item.id] = inherited


def text_rt_warnings(experiment: ir.Experiment) -> list[Diagnostic]:
    """Warnings where text a participant reads (a stimulus parameter) needs a response time
    and does not say what to show without one: in text runs rt is none."""
    out = []
    for stim in ir.stimuli(experiment.body):
        for param in stim.params:
            found = reads_rt(param.value)
            if found and not _handles_none(param.value):
                out.append(Diagnostic(
                    f"parameter '{param.name}' shows a response time, but a text participant "
                    f"has none (rt is none in text runs): it reads '{NOT_MEASURED}' there",
                    found[0].span, Severity.WARNING,
                    help="say what to show without one, e.g. if rts == [] then 'no times "
                         "measured' else ... (see docs/data.md, Debriefs)"))
    return out


def _handles_none(expr: ir.Expr) -> bool:
    """Whether ``expr`` says what to show without a response time: it tests for an empty
    list, or an ``if`` tests for none (a filter such as ``if t.rt != none`` in a
    comprehension is no such guard: it leaves an empty list)."""
    def compares(node: ir.Node, what: ir.Expr) -> bool:
        return isinstance(node, ir.Binary) and node.op in (ir.BinaryOp.EQ, ir.BinaryOp.NE) \
            and what in (node.left, node.right)

    nodes = list(ir.walk(expr))
    return any(compares(n, ir.ListExpr(())) for n in nodes) or any(
        isinstance(n, ir.Cond) and any(compares(m, ir.Literal(None)) for m in ir.walk(n.test))
        for n in nodes)
