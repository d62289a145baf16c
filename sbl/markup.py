"""Markup by value type: what an ``html`` parameter shows as HTML, and what it shows as text.

Markup is a value an author writes on purpose: the string literals of an ``html``
parameter's expression (a literal, the text of a template, the literal branches of
``if``). Every value computed while the experiment runs, a column, a shared variable, a
participant's response or typed answer, a number, is text, and is escaped wherever it is
shown, in ``html`` parameters too. ``runtime.js`` (``markupOf``) follows the same rule, and
the text backend shows the text of this markup, so both show a typed ``<b>`` as ``<b>``.
"""

from __future__ import annotations

import html

from sbl import ir, kinds, types
from sbl.evaluate import Scope, evaluate
from sbl.source import Diagnostic, Severity
from sbl.values import Value, show, truthy


def markup(expr: ir.Expr, scope: Scope) -> tuple[Value, str]:
    """The value of ``expr`` (as :func:`evaluate` gives it, each part evaluated once and in
    the same order) and the markup it shows as, computed values escaped."""
    if isinstance(expr, ir.Literal) and isinstance(expr.value, str):
        return expr.value, expr.value
    if isinstance(expr, ir.Template):
        value: list[str] = []
        shown: list[str] = []
        for part in expr.parts:
            text = part if isinstance(part, str) else scope.shown(part)
            value.append(text)
            shown.append(text if isinstance(part, str) or _marked(part) else html.escape(text))
        return "".join(value), "".join(shown)
    if isinstance(expr, ir.Cond):
        chosen = expr.then if truthy(evaluate(expr.test, scope)) else expr.otherwise
        return markup(chosen, scope)
    result = evaluate(expr, scope)
    if _marked(expr):
        return result, show(result)
    return result, "" if result is None else html.escape(show(result))


def warnings(experiment: ir.Experiment) -> list[Diagnostic]:
    """A warning for each place participant data (``prev``, or a shared variable an ``after``
    sets) is interpolated into an ``html`` parameter: it shows as text, escaped."""
    assigned = {a.target for stim in ir.stimuli(experiment.body) for a in stim.after}
    out: list[Diagnostic] = []
    for stim in ir.stimuli(experiment.body):
        kind = kinds.get(stim.kind)
        if kind is None:
            continue
        markup_params = {p.name for p in kind.params
                         if types.strip_optional(p.type) == types.HTML}
        for param in stim.params:
            if param.name not in markup_params:
                continue
            for node in _computed(param.value):
                if _reads_participant(node, assigned):
                    out.append(_warning(node, param))
    return out


def _warning(node: ir.Expr, param: ir.Param) -> Diagnostic:
    if _marked(node):
        return Diagnostic(f"participant data marked as markup in html parameter "
                          f"'{param.name}': it runs as HTML", node.span or param.span,
                          Severity.WARNING,
                          help="mark only HTML you wrote with markup(); leave participant "
                               "data as text, which is escaped")
    return Diagnostic(f"participant data in html parameter '{param.name}' is escaped: it "
                      "shows as text, never as markup", node.span or param.span,
                      Severity.WARNING,
                      help="only what you write literally in an html parameter, or mark "
                           "with markup(), is markup (docs/language.md, Markup)")


def _computed(expr: ir.Expr) -> list[ir.Expr]:
    """The parts of an html parameter's expression that are computed, not written."""
    if isinstance(expr, ir.Literal) and isinstance(expr.value, str):
        return []
    if isinstance(expr, ir.Template):
        return [p for p in expr.parts if not isinstance(p, str)]
    if isinstance(expr, ir.Cond):
        return _computed(expr.then) + _computed(expr.otherwise)
    return [expr]


def _marked(expr: ir.Expr) -> bool:
    """Whether ``expr`` is ``markup(...)``: a value the author marked as markup."""
    return isinstance(expr, ir.Call) and expr.func == "markup"


def _reads_participant(expr: ir.Expr, assigned: set[str]) -> bool:
    return any(isinstance(n, ir.Prev) or (isinstance(n, ir.Name) and n.name in assigned)
               for n in ir.walk(expr))
