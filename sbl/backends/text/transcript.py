"""The ``transcript`` backend: the text a model reads, with its answers left open.

``sbl compile --emit transcript`` shows participant 1 with seed 0. Every free answer is
written `` <<?>>``; whatever depends on an answer is written ``…``: the data fields and
outcome after it (``You press <<?>> and get … points.``), and later text computed from a
shared variable or ``prev`` row that an open answer changed (``You see "Score: …"``).
Forced answers (a single valid option) and everything else are shown as a run would show
them. Blocks whose structure depends on answers (``if``, ``until``) run as if every open
answer were the first option.
"""

from __future__ import annotations

import html
import re
from collections.abc import Generator
from typing import Any

from sbl import ir
from sbl.backends.text import render
from sbl.backends.text.answers import Question
from sbl.backends.text.render import Layout, Pending
from sbl.backends.text.runtime import ParticipantRun, Trial
from sbl.backends.text.untimed import Untimed, unmark
from sbl.evaluate import EvalError, Scope, evaluate
from sbl.protocol import Answer, Ask
from sbl.values import Value

OPEN = "?"
_FULL_STOP = re.compile(r"\.(?!\.)")  # one full stop, not the start of an ellipsis


def free_names(expr: ir.Node) -> set[str]:
    """The names an expression reads (comprehension variables included, to stay on the safe
    side)."""
    return {n.name for n in ir.walk(expr) if isinstance(n, ir.Name)}


def prev_backs(expr: ir.Node) -> set[int]:
    """How far back each ``prev`` in the expression looks."""
    return {n.back for n in ir.walk(expr) if isinstance(n, ir.Prev)}


class OpenRun(ParticipantRun):
    """A run that asks no one: free answers stay open and what follows from them is ``…``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unknown: set[str] = set()         # shared variables an open answer changed
        self.unknown_rows: list[bool] = []     # per row: does it hold an open answer's data
        self._trial_unknown: set[str] = set()  # this trial's names that are open
        self._open_tests = 0  # how many `if`s of an after, around this point, test open values
        self.reading.restate_open = True

    def _depends(self, expr: ir.Node, also: set[str] | frozenset[str] = frozenset()) -> bool:
        """Whether ``expr`` reads a value an open answer determines."""
        if free_names(expr) & (self.unknown | set(also)):
            return True
        return any(back <= len(self.unknown_rows) and self.unknown_rows[-back]
                   for back in prev_backs(expr))

    def _params(self, t: Trial, scope: Scope) -> dict[str, Value]:
        params = super()._params(t, scope)
        self._trial_unknown = {p.name for p in t.stim.params if self._depends(p.value)}
        return params

    def _view(self, t: Trial) -> dict[str, Any]:
        view = super()._view(t)
        given = {p.name: p.value for p in t.stim.params}
        for name in self._trial_unknown & set(view):
            view[name] = self._open_value(given[name], t.names, is_html=name in t.kind.html)
        return view

    def _open_value(self, expr: ir.Expr, names: Any, *, is_html: bool = False) -> Any:
        """How an open parameter shows: a list or record display item by item (the machines'
        colours stay known when only their values are open), a template with ``…`` in its
        open holes, a known part as a run shows it, else ``…``; prepared for text as a run
        prepares the value (HTML tags stripped)."""
        scope = Untimed(names, self._prev, None)
        try:
            if not self._depends(expr):
                return render.display(evaluate(expr, scope), is_html=is_html)
            if isinstance(expr, ir.ListExpr):
                return [self._open_value(i, names, is_html=is_html) for i in expr.items]
            if isinstance(expr, ir.RecordExpr):
                return {f.name: self._open_value(f.value, names, is_html=is_html)
                        for f in expr.fields}
            if isinstance(expr, ir.Template):
                return render.display(unmark(self._open_text(expr, scope, is_html)),
                                      is_html=is_html)
        except EvalError:
            pass
        return Pending("open", None)

    def _open_text(self, expr: ir.Template, scope: Scope, is_html: bool) -> str:
        """A template's text with ``…`` in its open holes; an open hole right before the
        sentence's full stop takes its place ("points…", not "points…."), as the hole may
        itself end the sentence."""
        text = ""
        for part in expr.parts:
            if isinstance(part, str):
                text += part[1:] if text.endswith("…") and _FULL_STOP.match(part) else part
            else:
                text += "…" if self._depends(part) else _hole(part, scope, is_html)
        return text

    def _header_text(self, expr: ir.Expr, names: Any) -> str:
        if not self._depends(expr):
            return super()._header_text(expr, names)
        return render.clean(str(self._open_value(expr, names)))

    def _answer(self, t: Trial, q: Question, i: int, pre: Layout, labels: list[str],
                free: list[bool], recorded: list[Any] | None
                ) -> Generator[Ask, Answer, tuple[str, Any, bool]]:
        if recorded is not None or q.forced:
            return (yield from super()._answer(t, q, i, pre, labels, free, recorded))
        self._trial_unknown |= {"response", "rt"}
        return OPEN, (q.values[0] if q.values else ""), True

    def _data(self, t: Trial) -> dict[str, Value]:
        data = super()._data(t)
        self._trial_unknown |= {name for name, expr in t.kind.data
                                if free_names(expr) & self._trial_unknown}
        return data

    def _branch(self, branch: ir.Branch, test: bool, scope: Scope) -> None:
        if not self._depends(branch.test, self._trial_unknown):
            return super()._branch(branch, test, scope)
        # the arm an open answer picks is open: what either arm sets is open after it
        self._open_tests += 1
        try:
            super()._branch(branch, test, scope)
        finally:
            self._open_tests -= 1
        self.unknown |= {a.target for a in ir.assigns((branch,))}

    def _assign(self, assign: ir.Assign, scope: Scope) -> None:
        if self._open_tests or self._depends(assign.value, self._trial_unknown):
            self.unknown.add(assign.target)
        else:
            self.unknown.discard(assign.target)
        super()._assign(assign, scope)

    def _late(self, t: Trial) -> dict[str, Any]:
        late = super()._late(t)
        for name in self._trial_unknown & set(late):
            late[name] = Pending(name, None)
        return late

    def _unknown(self, expr: ir.Expr) -> bool:
        return self._depends(expr, self._trial_unknown)

    def _finish_trial(self, t: Trial, line: str | None, row: dict[str, Any]) -> None:
        self.unknown_rows.append(bool(self._trial_unknown & ({"response"} | set(row))))
        super()._finish_trial(t, line, row)


def _hole(expr: ir.Expr, scope: Scope, is_html: bool) -> str:
    """A known hole of an open template as text; in html, escaped unless marked as markup
    (computed values are text: sbl/markup.py)."""
    text = scope.shown(expr)
    marked = isinstance(expr, ir.Call) and expr.func == "markup"
    return html.escape(text) if is_html and not marked else text


def open_transcript(experiment: ir.Experiment, seed: int = 0) -> str:
    """The transcript of participant 1 with ``seed``, every free answer left open."""
    from sbl.backends.text.program import program

    prog = program(experiment)
    run = OpenRun(prog, "1", seed, "transcript")
    for _ in run.run():  # an open run never asks, so this loop body never runs
        raise AssertionError("an open transcript asked for an answer")
    return run.transcript

