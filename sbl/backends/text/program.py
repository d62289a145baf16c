"""What the text runtime needs of an experiment, prepared once per run: each used kind's
declaration, data-field expressions and template, and the columns of its rows."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sbl import ir, kinds, types
from sbl.backends.text import render
from sbl.data import schema
from sbl.passes.rows import rt_columns
from sbl.source import SblError


@dataclass(frozen=True, slots=True)
class KindInfo:
    """A kind as the runtime uses it."""

    kind: kinds.Kind
    data: tuple[tuple[str, ir.Expr], ...]
    recorded: tuple[kinds.ParamDecl, ...]
    html: frozenset[str]

    @property
    def name(self) -> str:
        """The kind's name (and its template's)."""
        return self.kind.name


@functools.cache
def kind_info(name: str) -> KindInfo:
    """The runtime view of the kind called ``name``, its template checked to exist."""
    kind = kinds.get(name)
    if kind is None:
        raise SblError.at(None, f"unknown stimulus kind '{name}'")
    render.template(name)
    data = tuple((d.name, d.expr) for d in kind.data)
    html = frozenset(p.name for p in kind.params if types.strip_optional(p.type) == types.HTML)
    return KindInfo(kind, data, schema.recorded_params(kind), html)


@dataclass(frozen=True)
class Program:
    """A checked experiment ready to run as text."""

    ir: ir.Experiment
    columns: tuple[str, ...]
    kinds: dict[str, KindInfo]
    # by trial id, the columns computed from a response time (sbl.passes.rows.rt_columns)
    from_rt: dict[str, frozenset[str]]

    def kind(self, name: str) -> KindInfo:
        """The runtime view of a kind this experiment uses."""
        return self.kinds[name]


def program(tree: ir.Experiment) -> Program:
    """The :class:`Program` of a checked experiment."""
    used = {s.kind: kind_info(s.kind) for s in ir.stimuli(tree.body)}
    return Program(tree, schema.columns_for(tree), used, rt_columns(tree))
