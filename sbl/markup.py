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
    sets) is interpolated into an ``html`` parameter: it shows as text, escaped (a number
    excepted: escaping leaves its digits as they are, so ``width: {size}px`` works); and for
    each ``markup(...)`` buried in a computed value, where it marks nothing."""
    assigned = {a.target for stim in ir.stimuli(experiment.body)
                for a in ir.assigns(stim.after)}
    # an assignment cannot change a shared variable's type, so its first value's holds
    numbers = frozenset(s.name for s in experiment.shared if _surely_number(s.init))
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
                if _reads_participant(node, assigned) and not _surely_number(node, numbers):
                    out.append(_warning(node, param))
                out.extend(_buried_markup(node, param))
    return out


def misplaced_images(experiment: ir.Experiment) -> list[Diagnostic]:
    """An error for each ``image(...)`` written where it cannot show an image: anywhere but
    in an ``html`` parameter, as its whole value, a hole of its template (or of a template
    marked with ``markup(...)``), or a branch of its ``if``. Elsewhere its value is only the
    description, text, so the image would silently be lost."""
    placed: set[int] = set()
    for stim in ir.stimuli(experiment.body):
        kind = kinds.get(stim.kind)
        html_params = {p.name for p in kind.params
                       if types.strip_optional(p.type) == types.HTML} if kind else set()
        for param in stim.params:
            if param.name in html_params:
                placed.update(id(n) for n in _image_places(param.value))
    return [Diagnostic("image() shows an image only where it is written in an html "
                       "parameter; here its value is just its description", n.span,
                       help="write it in a stimulus's html parameter, as the value, a "
                            "template hole or an if branch: stimulus: "
                            "\"<p>{image(path, text)}</p>\" (docs/language.md, Media)")
            for n in ir.walk(experiment) if _is_image(n) and id(n) not in placed]


def _image_places(expr: ir.Expr) -> list[ir.Expr]:
    """The ``image(...)`` calls of an html parameter's expression that show as images."""
    if _is_image(expr):
        return [expr]
    if isinstance(expr, ir.Cond):
        return _image_places(expr.then) + _image_places(expr.otherwise)
    template = _template(expr)
    return [p for p in template.parts if isinstance(p, ir.Call) and _is_image(p)] \
        if template else []


def image_paths(expr: ir.Expr) -> list[ir.Expr]:
    """The path of each image an html parameter's expression shows, wrapped in the ``if``
    tests that choose it (``none`` on the other branch), so that :mod:`sbl.listing` lists
    only the branches a row can take."""
    if isinstance(expr, ir.Cond):
        none = ir.Literal(None)
        then: list[ir.Expr] = [ir.Cond(expr.test, p, none, span=p.span)
                               for p in image_paths(expr.then)]
        return then + [ir.Cond(expr.test, none, p, span=p.span)
                       for p in image_paths(expr.otherwise)]
    return [call.args[0] for call in _image_places(expr)
            if isinstance(call, ir.Call) and call.args]


def _template(expr: ir.Expr) -> ir.Template | None:
    """The template of an html parameter's value, or of ``markup(template)``: the holes of
    either can be images."""
    if isinstance(expr, ir.Call) and _marked(expr) and len(expr.args) == 1:
        expr = expr.args[0]
    return expr if isinstance(expr, ir.Template) else None


def _is_image(node: object) -> bool:
    return isinstance(node, ir.Call) and node.func == "image"


def _buried_markup(node: ir.Expr, param: ir.Param) -> list[Diagnostic]:
    """A warning for each ``markup(...)`` inside a computed value that is not itself marked
    (``markup(a) + "<p>b</p>"``): the value is plain text, so all of it shows escaped."""
    if _marked(node):
        return []
    return [Diagnostic(f"markup() inside a computed value marks nothing in html parameter "
                       f"'{param.name}': the whole value shows as text, tags and all",
                       n.span or param.span, Severity.WARNING,
                       help="mark the whole value, markup(a + b), or write a template: "
                            "\"{markup(a)}<p>...</p>\" (docs/language.md, Markup)")
            for n in ir.walk(node) if isinstance(n, ir.Call) and _marked(n)]


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


# Builtins whose result is always a number, whatever their arguments.
_NUMBER_CALLS = frozenset({"len", "sum", "mean", "round", "abs", "floor", "ceil", "randint",
                           "random", "count", "number", "sqrt", "exp", "log", "sin", "cos",
                           "tan", "atan2", "hypot", "pi"})
_ARITHMETIC = frozenset({ir.BinaryOp.SUB, ir.BinaryOp.MUL, ir.BinaryOp.DIV,
                         ir.BinaryOp.FLOORDIV, ir.BinaryOp.MOD, ir.BinaryOp.POW})


def _surely_number(expr: ir.Expr, numbers: frozenset[str] = frozenset()) -> bool:
    """Whether ``expr`` can only be a number (or fail), ``numbers`` being names known to
    hold numbers: its escaped text is its text, so participant data of this shape shows in
    an html parameter exactly as written there."""
    if isinstance(expr, ir.Name):
        return expr.name in numbers
    if isinstance(expr, ir.Literal):
        return isinstance(expr.value, (int, float)) and not isinstance(expr.value, bool)
    if isinstance(expr, ir.Unary):
        return expr.op is ir.UnaryOp.NEG
    if isinstance(expr, ir.Binary):
        return expr.op in _ARITHMETIC or (expr.op is ir.BinaryOp.ADD
                                          and _surely_number(expr.left, numbers)
                                          and _surely_number(expr.right, numbers))
    if isinstance(expr, ir.Cond):
        return _surely_number(expr.then, numbers) and _surely_number(expr.otherwise, numbers)
    if isinstance(expr, ir.Call):
        return expr.func in _NUMBER_CALLS or (expr.func in ("min", "max") and all(
            _surely_number(a, numbers) for a in expr.args))
    return False


def _reads_participant(expr: ir.Expr, assigned: set[str]) -> bool:
    return any(isinstance(n, ir.Prev) or (isinstance(n, ir.Name) and n.name in assigned)
               for n in ir.walk(expr))
