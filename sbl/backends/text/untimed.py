"""Response times in text runs: what a text participant reads where text shows one.

A text run measures no time: its rows record ``rt`` as none (docs/data.md). Where text a
text participant reads (a stimulus parameter, its prompt, a block header) makes a response
time into text, in a hole ``{...}`` or with ``str(...)``, and there is none to show (the
value is none, or it cannot be computed without one, as ``mean`` of no numbers cannot), the
participant reads :data:`NOT_MEASURED`, and a time unit written right after it (``ms``,
``s``, ...) is left out: "You took {prev.rt} ms." reads "You took not measured.", never
"none ms".

The page is not touched: it has response times, and shows what ``runtime.js`` shows. A
trial replayed from a page row shows what the page showed (a timeout's "none ms" included),
so its recomputed row still equals the recorded one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sbl import ir
from sbl.evaluate import EvalError, Scope, evaluate
from sbl.passes.rows import NOT_MEASURED, reads_rt
from sbl.values import Value, show

__all__ = ["NOT_MEASURED", "PAGE_SOURCES", "Untimed", "finish", "finished", "is_untimed",
           "unmark", "untimed"]
# Rows the page recorded: what they showed was computed from real response times.
PAGE_SOURCES = frozenset({"browser", "browser-simulated"})

# The wording is marked while the parameter is computed, so that a unit after it, written in
# the template or added with `+`, can be left out once the whole text is known.
_OPEN, _CLOSE = "\ue000", "\ue001"
_MARKED = re.compile(f"{_OPEN}([^{_CLOSE}]*){_CLOSE}"
                     r"(?:[ \t]*(?:ms|msecs?|milliseconds?|s|secs?|seconds?)\b)?")
# Failures that are mistakes in the text itself, never the want of a response time.
_NOT_ABOUT_RT = ("unknown name", "needs a random generator")


class Untimed(Scope):
    """A scope for text a text participant reads: a response time it does not have is
    shown as :data:`NOT_MEASURED` (marked until :func:`finish` removes the marks)."""

    def shown(self, expr: ir.Expr) -> str:
        """``expr`` as text; the wording where it shows a response time there is none of."""
        # a walk of the hole costs no more than evaluating it, so it is not cached
        if not reads_rt(expr):
            return super().shown(expr)
        try:
            value = evaluate(expr, self)
        except EvalError as exc:
            if exc.message.startswith(_NOT_ABOUT_RT):
                raise
            value = None
        return f"{_OPEN}{NOT_MEASURED}{_CLOSE}" if value is None else show(value)


def untimed(scope: Scope) -> Untimed:
    """``scope`` as an :class:`Untimed` scope (same names, prev and random stream)."""
    return Untimed(scope.names, scope.prev, scope.rng)


def is_untimed(record: Mapping[str, object] | None) -> bool:
    """Whether a trial is shown without response times: run live in a text run, or
    replayed from a row that a text run recorded."""
    return record is None or record.get("source") not in PAGE_SOURCES


def finished(expr: ir.Expr, value: Value) -> Value:
    """:func:`finish` of the ``value`` of ``expr``, where it could hold a mark (``expr``
    reads a response time): other values are left as they are, uncopied."""
    return finish(value) if reads_rt(expr) else value


def finish(value: Value) -> Value:
    """``value`` with each marked wording unmarked and the time unit after it left out."""
    if isinstance(value, str):
        return unmark(value)
    if isinstance(value, list):
        return [finish(v) for v in value]
    if isinstance(value, dict):
        return {k: finish(v) for k, v in value.items()}
    return value


def unmark(text: str) -> str:
    """:func:`finish` for a text."""
    return _MARKED.sub(r"\1", text) if _OPEN in text else text
