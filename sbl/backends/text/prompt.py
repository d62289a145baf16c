"""The per-stimulus ``prompt:`` parameter: what a text participant reads instead of the template.

A prompt is an sbl string. It sees the names a parameter sees plus the trial's evaluated
parameters and its option ``labels``; ``{answer}`` marks where the answer goes, and after it
the prompt may also use ``response``, ``rt`` and the kind's data fields (they are known only
then), and sees shared variables as the trial's side effects left them. A prompt with
``{answer}`` replaces the kind's whole template; one without it replaces
only the template's description of the stimulus, and the template still asks for the answer.
A prompt taken from data (a column) may contain the literal text ``{answer}``.

Prompts are never evaluated by the browser, so they get no random stream: random functions
in a prompt are an error (they would shift the stream both runtimes share).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sbl import ir
from sbl.backends.text.untimed import unmark
from sbl.evaluate import EvalError, Scope, evaluate
from sbl.source import SblError
from sbl.values import Value, show

ANSWER = "answer"
LITERAL = "{answer}"


@dataclass(frozen=True, slots=True)
class Prompt:
    """A prompt split at its answer: ``before`` is final; ``after`` is evaluated once the
    response is known (None when the prompt has no ``{answer}``)."""

    before: str
    after: Callable[[Scope, Callable[[ir.Expr], bool]], str] | None


def _is_answer(part: object) -> bool:
    return isinstance(part, ir.Name) and part.name == ANSWER


def prepare(expr: ir.Expr, scope: Scope, later: frozenset[str]) -> Prompt:
    """Evaluate the part of the prompt before ``{answer}``; ``later`` names the values known
    only after the answer (using one before it is an error)."""
    if isinstance(expr, ir.Template):
        marks = [i for i, p in enumerate(expr.parts) if _is_answer(p)]
        if len(marks) > 1:
            raise SblError.at(expr.span, "a prompt can mark only one {answer}")
        cut = marks[0] if marks else len(expr.parts)
        before = unmark("".join(_part(p, scope, later) for p in expr.parts[:cut]))
        if not marks:
            return Prompt(before, None)
        rest = expr.parts[cut + 1:]
        return Prompt(before, lambda full, unknown: unmark("".join(
            "…" if not isinstance(p, str) and unknown(p) else _part(p, full, frozenset())
            for p in rest)))
    text = unmark(show(_value(expr, scope, later)))
    if text.count(LITERAL) > 1:
        raise SblError.at(expr.span, "a prompt can mark only one {answer}")
    if LITERAL not in text:
        return Prompt(text, None)
    head, tail = text.split(LITERAL)
    return Prompt(head, lambda full, unknown: tail)


def _part(part: str | ir.Expr, scope: Scope, later: frozenset[str]) -> str:
    return part if isinstance(part, str) else str(_value(part, scope, later, hole=True))


def _value(expr: ir.Expr, scope: Scope, later: frozenset[str], hole: bool = False) -> Value:
    """The value of ``expr`` (with ``hole``, made into text as a hole is); errors a prompt's
    author can make are said in a prompt's words."""
    try:
        return scope.shown(expr) if hole else evaluate(expr, scope)
    except EvalError as exc:
        name = exc.message.removeprefix("unknown name '").removesuffix("'")
        if exc.message.startswith("unknown name") and name in later:
            raise SblError.at(exc.span, f"the prompt uses '{name}' before {{answer}}, but it "
                                        f"is known only after the answer") from None
        if exc.message.endswith("needs a random generator, but none was given"):
            raise SblError.at(exc.span, "a prompt cannot use random functions",
                              help="draw the value in a table or another parameter") from None
        raise

