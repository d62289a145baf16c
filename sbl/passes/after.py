"""A trial's side effects (``after { ... }``), checked: what they see and what they set.

An ``after`` is a list of statements run in order once the trial is recorded: assignments to
shared variables and ``if``/``else if``/``else`` statements holding more of them. Its
expressions see, first to last: the trial's response, rt and data fields (the kind's and the
custom ones), the trial's parameters, then what the parameters see (the rows' columns, the
shared variables with their current values, constants, tables and ``trials``). A data field
sees the same names in the same order (docs/language.md, "Side effects").

A parameter hides a shared variable, constant or table of its name, so an ``after`` that
reads such a name is an error: it would read the parameter where, before parameters were
visible there, it read the other (a column of the name is the parameter's own value: the
checker makes the trial pass the column itself, so reading it is no clash).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sbl import ir, kinds
from sbl.kinds import Kind
from sbl.passes.infer import Scope
from sbl.types import SblType

if TYPE_CHECKING:
    from sbl.passes.check import _Checker


def statements(checker: _Checker, stim: ir.Stimulus, kind: Kind, scope: Scope,
               columns: dict[str, SblType], custom: dict[str, SblType]) -> None:
    """Check the ``after`` of ``stim``; ``scope`` is what its parameters see, ``columns`` the
    rows' columns in it and ``custom`` its custom data fields' types."""
    if not stim.after:
        return
    params = {p.name: p.type for p in kind.params if p.name not in kinds.TEXT_ONLY}
    own = {**checker.trial_fields(kind), **custom}
    clashes = {name: _clash(checker, stim.kind, name) for name in params
               if name in scope.names and name not in columns and name not in own}
    names = {**scope.names, **params, **own}
    inner = Scope(names, scope.prev_fields, scope.prev_available,
                  f"in the 'after' of this {stim.kind}", clashes=clashes)
    _check(checker, stim.after, inner)


def _check(checker: _Checker, body: tuple[ir.Statement, ...], scope: Scope) -> None:
    for statement in body:
        if isinstance(statement, ir.Branch):
            checker.infer.infer(statement.test, scope)
            _check(checker, statement.then, scope)
            _check(checker, statement.otherwise, scope)
        else:
            checker.assign(statement, scope)


def _clash(checker: _Checker, kind: str, name: str) -> tuple[str, str]:
    """The error and help for reading ``name``, a parameter and something declared."""
    what = _declared(checker, name)
    return (f"'{name}' in the 'after' of this {kind} could be its parameter '{name}' or the "
            f"{what} '{name}'",
            f"an 'after' reads the trial's parameters before the {what}s: rename the {what} "
            f"so that '{name}' means one thing here")


def _declared(checker: _Checker, name: str) -> str:
    """What the declaration named ``name`` is, in words."""
    if name in checker.shared:
        return "shared variable"
    decl = next((d for d in checker.decls if d.name == name), None)
    if isinstance(decl, ir.Table):
        return "table"
    if isinstance(decl, ir.Group):
        return "group"
    return "constant" if decl is not None else "list of rows"
