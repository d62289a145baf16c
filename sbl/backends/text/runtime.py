"""The text interpreter: one participant's run of an experiment, as a generator.

:meth:`ParticipantRun.run` yields an :class:`~sbl.protocol.Ask` at each free
response and receives the :class:`~sbl.protocol.Answer`, so one participant and a
batch of participants in lockstep (:mod:`sbl.backends.text.driver`) share one code path.
The browser runtime (``runtime.js``) follows the same rules, so rows agree cell by cell:

- One :class:`~sbl.prng.Prng` per participant, seeded with the participant's seed, drives
  every random builtin and block shuffle. Option letters come from a separate stream
  (:func:`~sbl.backends.text.answers.label_order`), so they never move the main one.
- Declarations are evaluated in order: shared variables get their initial value, ``let``
  constants and tables their value.
- A block whose ``if`` is false at its start is skipped. Otherwise, per pass: for each of
  its ``repeat`` repetitions, ``over`` is evaluated, shuffled (``shuffle``, keeping its
  constraints: :func:`sbl.order.block_order`) and cut to ``sample`` rows, and the body
  runs once per row (once if there is no ``over``). With
  ``until``, after each pass the condition is evaluated with ``trials`` (this pass's rows);
  the block runs again until it holds or ``max`` passes have run. Each repetition is a
  pass, counted from 1 at each entry of the block; rows record the open blocks' passes
  (``pass``, ``pass_path``: :mod:`sbl.repetitions`).
- A stimulus's parameters are evaluated once, in the order written in the .sbl file
  (``prompt`` excepted: only text participants read it); parameters not given take the
  kind's default (none without one). Names: the current rows' columns (inner blocks first),
  then shared variables (current values), ``let`` constants and tables, then ``trials``: the
  rows recorded so far (a loop's ``until`` sees only its pass's rows as ``trials``).
- After the response: the kind's data fields (scope: the parameters and ``response``), then
  the custom data fields (the blocks' from the outermost, then the stimulus's; a later one of
  the same name replaces an earlier; scope: ``response``, ``rt``, the data fields so far, the
  parameters, then the names the parameters see), then the ``after`` statements in order:
  assignments, each seeing the previous one's effect, and ``if`` statements, which run one
  arm (scope: what a custom data field sees, with all data fields; a name that hides a
  shared variable keeps hiding it all through ``after``).
- The row: the core columns, the kind's data fields, every recorded parameter (declaration
  order), the custom data fields, the condition columns (each open block's ``columns`` from
  its current row, innermost block first; a missing field is none), then each shared variable
  after the side effects; on a clash the first wins (the checker rejects clashes that would
  lose a value). ``prev(n)`` is the row n trials back.
"""

from __future__ import annotations

import copy
from collections import ChainMap, Counter
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sbl import groups, ir, repetitions
from sbl.backends.text import answers, render, untimed
from sbl.backends.text.answers import Question
from sbl.backends.text.program import KindInfo, Program
from sbl.backends.text.prompt import Prompt, prepare
from sbl.backends.text.reading import Reading
from sbl.backends.text.render import Layout, Pending, Slot, Tracker
from sbl.backends.text.replay import Replay
from sbl.data import schema
from sbl.evaluate import EvalError, Scope, evaluate
from sbl.kinds import AnswerType
from sbl.markup import markup
from sbl.order import block_order
from sbl.prng import Prng
from sbl.protocol import Answer, Ask
from sbl.source import Diagnostic, SblError
from sbl.values import Row, Value, show, truthy

Run = Generator[Ask, Answer, None]


@dataclass(eq=False, slots=True)
class Trial:
    """One trial while it runs, the twin of the page runtime's ``t`` (``runtime.js`` begin and
    finish): the stimulus, its kind, the block path, its index and its evaluated parameters
    ``p``; then what its text needs (questions, template view, prompt) and, once answered,
    ``response``, ``rt`` and the kind's ``data`` fields."""

    stim: ir.Stimulus
    kind: KindInfo
    block: str
    index: int
    names: ChainMap[str, Value]  # the names its parameters see (columns, shared, constants)
    p: dict[str, Value] = field(default_factory=dict)
    shown: dict[str, str] = field(default_factory=dict)  # the markup of html parameters
    qs: list[Question] = field(default_factory=list)
    view: dict[str, Any] = field(default_factory=dict)
    prompt: Prompt | None = None
    response: Any = None
    rt: Any = None
    data: dict[str, Value] = field(default_factory=dict)
    # the custom data fields' expressions and, once answered, their values
    fields: dict[str, ir.Expr] = field(default_factory=dict)
    custom: dict[str, Value] = field(default_factory=dict)
    # the condition columns the row records, from the open blocks' current rows
    conditions: dict[str, Value] = field(default_factory=dict)
    # the columns `pass` and `pass_path` (sbl/repetitions.py), from the open blocks' passes
    passes: dict[str, Value] = field(default_factory=dict)


class ParticipantRun:
    """One participant going through the experiment; see the module docstring for the rules."""

    def __init__(self, program: Program, participant: str, seed: int, source: str, *,
                 replay: Replay | None = None,
                 on_row: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.program, self.participant, self.source = program, participant, source
        self.seed = seed & 0xFFFFFFFF
        self.rng = Prng(self.seed)
        self.order = answers.label_order(self.seed)
        self.replay, self.on_row = replay, on_row
        self.rows: list[dict[str, Any]] = []
        self.reading = Reading()
        self.shared: dict[str, Value] = {}
        self.consts: dict[str, Value] = {}
        self.group: int | None = None  # the participant's group, with groups declared
        # the open blocks, their current rows and passes (from 1 at each entry), outermost first
        self.open: list[tuple[ir.Block, Mapping[str, Value], int]] = []
        self.tokens = 0
        self.passes: Counter[tuple[str, ...]] = Counter()  # headers written, per block
        self.invalid_mass: list[float] = []
        # the option count of each marked (free) answer, in transcript order; None for text
        self.option_counts: list[int | None] = []
        self.response_options: list[tuple[str, ...] | None] = []  # the options themselves

    @property
    def transcript(self) -> str:
        """Everything the participant has read so far (Psych-101 text, no trailing newline)."""
        return self.reading.text

    def transcript_until(self, rows: int) -> str:
        """What the participant had read when their first ``rows`` trials were over."""
        return self.reading.until(rows)

    def run(self) -> Run:
        """Run the whole experiment, yielding an Ask at each free response."""
        self._declare()
        yield from self._items(self.program.ir.body, (), ())
        if self.replay is not None:
            self.replay.finish()

    # -- names ---------------------------------------------------------------------------

    def _names(self, columns: tuple[Mapping[str, Value], ...]) -> ChainMap[str, Value]:
        # `trials` (every row so far, not copied) is hidden by a declaration of that name
        return ChainMap(*columns, self.shared, self.consts,  # type: ignore[arg-type]
                        {"trials": self.rows})

    def _scope(self, names: Mapping[str, Value]) -> Scope:
        return Scope(names, self._prev, self.rng)

    def _prev(self, back: int) -> dict[str, Value] | None:
        return self.rows[-back] if 0 < back <= len(self.rows) else None

    def _declare(self) -> None:
        for decl in self.program.ir.decls:
            scope = self._scope(self._names(()))
            if isinstance(decl, ir.Shared):
                self.shared[decl.name] = evaluate(decl.init, scope)
            elif isinstance(decl, ir.Let):
                self.consts[decl.name] = evaluate(decl.value, scope)
            elif isinstance(decl, ir.Group):
                self.consts[decl.name] = self._group(decl, scope)
            else:
                self.consts[decl.name] = evaluate(decl.rows, scope)

    def _group(self, decl: ir.Group, scope: Scope) -> Value:
        """The participant's group (sbl/groups.py): the one replayed data recorded, else the
        one their id gives. Text runs have no URL and no JATOS batch: for every source, the
        participant's id (1, 2, ... in ``sbl run -n`` and ``sbl simulate``) is the key."""
        options = evaluate(decl.groups, scope)
        if not isinstance(options, list) or not options or \
                not all(isinstance(g, dict) for g in options):
            raise EvalError(f"the groups of '{decl.name}' must be a non-empty list of records",
                            decl.groups.span)
        recorded = self.replay.group(len(options)) if self.replay is not None else None
        self.group = recorded or groups.group_number(self.participant, len(options))
        return options[self.group - 1]

    # -- blocks --------------------------------------------------------------------------

    def _items(self, items: tuple[ir.Item, ...], columns: tuple[Mapping[str, Value], ...],
               path: tuple[str, ...]) -> Run:
        for item in items:
            if isinstance(item, ir.Stimulus):
                yield from self._trial(item, columns, path)
            else:
                yield from self._block(item, columns, (*path, item.name))

    def _block(self, block: ir.Block, columns: tuple[Mapping[str, Value], ...],
               path: tuple[str, ...]) -> Run:
        scope = self._scope(self._names(columns))
        if block.condition is not None and not truthy(evaluate(block.condition, scope)):
            return
        passes = 0  # loop passes
        number = 0  # the pass rows record: repetitions of all loop passes, from 1
        while True:
            start = len(self.rows)
            for _ in range(block.repeat):
                number += 1
                rows = list(self._block_rows(block, scope))
                if block.header is not None:
                    self._header(block.header, path, scope.names, rows)
                for row in rows:
                    self.open.append((block, row, number))
                    yield from self._items(block.body, (row, *columns), path)
                    self.open.pop()
            passes += 1
            if block.until is None or (block.max_loops is not None and passes >= block.max_loops):
                return
            if truthy(evaluate(block.until, scope.child(trials=self.rows[start:]))):
                return

    def _block_rows(self, block: ir.Block, scope: Scope) -> Iterator[Mapping[str, Value]]:
        if block.over is None:
            yield {}
            return
        rows = evaluate(block.over, scope)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise EvalError(f"block '{block.name}' must go over a list of records", block.over.span)
        if block.order is ir.Order.SHUFFLE:
            rows = block_order(self.rng, block, rows)
        yield from rows[:block.sample] if block.sample is not None else rows

    # -- trials --------------------------------------------------------------------------

    def _trial(self, stim: ir.Stimulus, columns: tuple[Mapping[str, Value], ...],
               path: tuple[str, ...]) -> Run:
        try:
            yield from self._run_trial(stim, columns, path)
        except EvalError as exc:
            raise _in_trial(exc, f"while running trial '{stim.id}' (participant "
                                 f"{self.participant}, trial_index {len(self.rows)})") from None

    def _run_trial(self, stim: ir.Stimulus, columns: tuple[Mapping[str, Value], ...],
                   path: tuple[str, ...]) -> Run:
        taken = self.replay.take(stim) if self.replay is not None else None
        record = taken[0] if taken else None
        t = self._begin(stim, columns, path, untimed.is_untimed(record))
        visible = self._visible(t)
        t.qs = answers.questions(t.kind.kind, t.p, self.order)
        if not visible and not all(q.forced for q in t.qs):
            raise SblError.at(stim.span, f"this {stim.kind} asks for an answer, so a text "
                                         f"participant must read it",
                              help="remove 'transcript: false'")
        if taken is not None:  # before anything is computed from the recorded response
            assert self.replay is not None
            self.replay.check_response(t.kind.kind, t.qs, *taken)
        t.view = self._view(t)
        t.prompt = self._prompt(t)
        if visible:
            self._setting(t)
        pre = self._pre_layout(t)
        labels, free, values = yield from self._answers(t, pre, record)
        t.response = record.get("response") if record else answers.response(t.kind.kind, values)
        t.rt = record.get("rt") if record else None
        t.data = self._data(t)
        t.custom = self._custom(t)
        self._after(t)
        row = self._row(t)
        if taken is not None:
            assert self.replay is not None
            # A text run's cells computed from its (absent) rt read as this version words
            # them (sbl.backends.text.untimed), not necessarily as a run recorded them.
            unchecked = self.program.from_rt.get(stim.id, frozenset()) \
                if untimed.is_untimed(record) else frozenset()
            self.replay.check(taken[0], row, taken[1], _column_kinds(t, self.shared), unchecked)
            row["source"] = taken[0].get("source") or row["source"]
        final = self._final(t)
        if final.segments[:len(t.qs)] != pre.segments[:len(t.qs)]:
            raise SblError.at(stim.span, f"the text of this {stim.kind} before the answer "
                                         f"changes once the answer is known",
                              help=f"see stdlib/templates/{stim.kind}.txt or the prompt")
        self._finish_trial(t, render.assemble(final, labels, free) if visible else None, row)

    def _begin(self, stim: ir.Stimulus, columns: tuple[Mapping[str, Value], ...],
               path: tuple[str, ...], no_rt: bool) -> Trial:
        """The trial with its parameters evaluated (runtime.js ``begin``); ``no_rt``: shown
        without response times, which its text words as ``untimed`` says."""
        names = self._names(columns)
        t = Trial(stim, self.program.kind(stim.kind), "/".join(path), len(self.rows), names)
        scope = self._scope(names)
        t.p = self._params(t, untimed.untimed(scope) if no_rt else scope)
        nodes: list[ir.Block | ir.Stimulus] = [b for b, _, _ in self.open]
        for node in (*nodes, stim):
            t.fields.update((f.name, f.value) for f in node.data)
        t.passes = repetitions.columns([(b, n) for b, _, n in self.open])
        for block, row, _ in reversed(self.open):
            for name in block.columns:
                t.conditions.setdefault(name, copy.deepcopy(row.get(name)))
        return t

    def _pre_layout(self, t: Trial) -> Layout:
        """The trial's text before its answers are known (nothing to do without answers)."""
        if not t.qs:
            return Layout(("",))
        tracker = Tracker(len(t.qs))
        return self._layout(t, self._pending(t, tracker), tracker, "")

    def _answers(self, t: Trial, pre: Layout, record: Mapping[str, Any] | None
                 ) -> Generator[Ask, Answer, tuple[list[str], list[bool], list[Any]]]:
        """Each slot's label, whether it is free, and its value: asked, forced or replayed."""
        labels: list[str] = []
        free: list[bool] = []
        values: list[Any] = []
        recorded = answers.slot_values(t.kind.kind, record.get("response"),
                                       len(t.qs)) if record else None
        for i, q in enumerate(t.qs):
            label, value, is_free = yield from self._answer(t, q, i, pre, labels, free,
                                                            recorded)
            labels.append(label)
            free.append(is_free)
            values.append(value)
        return labels, free, values

    def _finish_trial(self, t: Trial, line: str | None, row: dict[str, Any]) -> None:
        """Record the trial's row, and its line unless it is left out of the transcript."""
        self.reading.trial(line, answered=bool(t.qs), continued=t.view["continued"])
        self.rows.append(row)
        if self.on_row is not None:
            self.on_row(row)

    def _answer(self, t: Trial, q: Question, i: int, pre: Layout, labels: list[str],
                free: list[bool], recorded: list[Any] | None
                ) -> Generator[Ask, Answer, tuple[str, Any, bool]]:
        """One slot's (label, recorded value, whether it is a free answer)."""
        if recorded is not None:
            value = recorded[i]
            # a timeout is an answer where pressing no key is one (withhold)
            is_free = (value is not None or q.withhold) and not q.forced
            if is_free:
                self.option_counts.append(len(q.options) if q.options else None)
                self.response_options.append(q.options)
            return q.label(value), value, is_free
        if q.forced:
            assert q.valid is not None
            return q.valid[0], q.value(q.valid[0]), False
        partial = render.ask_text(pre, labels, free)
        ask = Ask(self.participant, self._with_history(partial), q.valid, self.seed)
        answer = yield ask
        label = q.match(answer.response)
        if label is None:
            valid = ", ".join(q.valid or ())
            raise SblError.at(t.stim.span, f"participant {self.participant} answered "
                                           f"{answer.response!r} to trial '{t.stim.id}'; the "
                                           f"valid answers are {valid}")
        self.tokens += answer.tokens
        self.option_counts.append(len(q.valid) if q.valid else None)
        self.response_options.append(q.valid)
        if answer.invalid_mass is not None:
            self.invalid_mass.append(answer.invalid_mass)
        return label, q.answered(answer.response, label), True

    def _with_history(self, partial: str) -> str:
        history = self.transcript
        return f"{history}\n{partial}" if history else partial

    # -- values --------------------------------------------------------------------------

    def _params(self, t: Trial, scope: Scope) -> dict[str, Value]:
        """Parameters evaluated in the order written, then defaults, in declaration order;
        the markup an ``html`` parameter shows goes to ``t.shown`` (sbl/markup.py)."""
        given: dict[str, Value] = {}
        for p in t.stim.params:
            if p.name in schema.TEXT_ONLY:
                continue
            if p.name in t.kind.html:
                value, shown = markup(p.value, scope)
                given[p.name] = untimed.finished(p.value, value)
                t.shown[p.name] = untimed.unmark(shown)
            else:
                given[p.name] = untimed.finished(p.value, evaluate(p.value, scope))
        return {d.name: given[d.name] if d.name in given else copy.deepcopy(d.default)
                for d in t.kind.recorded}

    def _data(self, t: Trial) -> dict[str, Value]:
        scope = Scope({**t.p, "response": t.response}, self._prev, None)
        return {name: evaluate(expr, scope) for name, expr in t.kind.data}

    def _custom(self, t: Trial) -> dict[str, Value]:
        """The custom data fields, in order, each seeing the ones before it."""
        own: dict[str, Value] = {"response": t.response, "rt": t.rt, **t.data}
        scope = Scope(ChainMap(own, t.p, t.names), self._prev, None)
        for name, expr in t.fields.items():
            own[name] = evaluate(expr, scope)
        return {name: own[name] for name in t.fields}

    def _after(self, t: Trial) -> None:
        """The side effects, in order; they see what a custom data field sees."""
        own = {"response": t.response, "rt": t.rt, **t.data, **t.custom}
        self._statements(t.stim.after, self._scope(ChainMap(own, t.p, t.names)))

    def _statements(self, statements: tuple[ir.Statement, ...], scope: Scope) -> None:
        for s in statements:
            if isinstance(s, ir.Branch):
                self._branch(s, truthy(evaluate(s.test, scope)), scope)
            else:
                self._assign(s, scope)

    def _branch(self, branch: ir.Branch, test: bool, scope: Scope) -> None:
        self._statements(branch.then if test else branch.otherwise, scope)

    def _assign(self, assign: ir.Assign, scope: Scope) -> None:
        self.shared[assign.target] = evaluate(assign.value, scope)

    def _row(self, t: Trial) -> dict[str, Any]:
        row: dict[str, Any] = Row({
            "participant": self.participant, "seed": self.seed, "source": self.source,
            "block": t.block, **t.passes, "trial_index": t.index, "trial": t.stim.id,
            "kind": t.stim.kind, "response": t.response, "rt": t.rt})
        if self.group is not None:
            row[groups.COLUMN] = self.group
        for name, value in t.data.items():
            row.setdefault(name, value)
        for decl in t.kind.recorded:
            row.setdefault(decl.name, t.p[decl.name])
        for part in (t.custom, t.conditions):
            for name, value in part.items():
                row.setdefault(name, value)
        for name, value in self.shared.items():
            row.setdefault(name, value)
        return row

    # -- text ----------------------------------------------------------------------------

    def _view(self, t: Trial) -> dict[str, Any]:
        """The template's context before the answer: parameters prepared for text, labels."""
        kind = t.kind.kind
        if kind.multiline:
            view: dict[str, Any] = {k: _pages(v) for k, v in t.p.items()}
        else:
            view = {k: render.display(t.shown.get(k, v), is_html=k in t.kind.html)
                    for k, v in t.p.items()}
        options = [q.picks or q.options or () for q in t.qs]  # a set's single options
        answer = kind.answer.type
        view["labels"] = options if answer is AnswerType.SURVEY else (
            options[0] if options else ())
        view["keys"] = view["labels"] if answer is AnswerType.KEY else ()
        view["forced"] = len(t.qs) == 1 and t.qs[0].instructed
        view["free"] = any(not q.forced for q in t.qs)
        view["prompt"] = None
        view["setting"], view["continued"] = "", False  # see _setting
        return view

    def _prompt(self, t: Trial) -> Prompt | None:
        expr = next((p.value for p in t.stim.params if p.name == "prompt"), None)
        if expr is None:
            return None
        later = frozenset({"response", "rt", *(n for n, _ in t.kind.data)})
        scope = untimed.Untimed(ChainMap(self._told(t.qs, expr), t.p, t.names), self._prev, None)
        prompt = prepare(expr, scope, later)
        if prompt.after is not None and len(t.qs) != 1:
            raise SblError.at(expr.span, f"a prompt with {{answer}} needs a trial with one "
                                         f"answer; this {t.stim.kind} has {len(t.qs)}")
        return prompt

    def _told(self, qs: list[Question], expr: ir.Expr | None) -> dict[str, Value]:
        """The names a prompt sees besides parameters: its ``labels`` (the participant's
        letters when the trial has no options: ``labels[0]`` is every first option's), and
        ``instructed`` (whether one option of several is instructed: written unmarked).
        A prompt that shows the labels has introduced them to the reader."""
        if expr is not None and _reads(expr, "labels"):
            self.reading.introduced = True
        labels = _labels(qs) if qs else list(self.order)
        return {"labels": labels, "instructed": len(qs) == 1 and qs[0].instructed}

    def _visible(self, t: Trial) -> bool:
        """Whether a text participant reads this trial: its ``transcript:``, else the kind's
        default (fixation crosses and blank screens carry nothing for a reader)."""
        expr = next((p.value for p in t.stim.params if p.name == "transcript"), None)
        value = None if expr is None else evaluate(expr, Scope(ChainMap(t.p, t.names),
                                                                 self._prev, None))
        return t.kind.kind.transcript if value is None else truthy(value)

    def _setting(self, t: Trial) -> None:
        """The kind's setting (e.g. the machines' colours) when it changed: on a line of its
        own, or in the trial's line where the kind's template places it (``setting``); then
        whether the trial continues the line before it (``continued``: an outcome after an
        answered trial, docs/language.md "What a model reads")."""
        name = t.kind.name
        inline = render.reads(name, "setting")
        if t.prompt is None:
            options = t.kind.kind.answer.type is AnswerType.OPTION
            t.view["setting"] = self.reading.setting(name, t.view, options, inline=inline)
        elif inline:  # the author's prompt replaces the text before it, not the setting
            t.view["setting"] = render.render_setting(name, {**t.view, "intro": False})
        t.view["continued"] = render.reads(name, "continued") and self.reading.open

    def _header(self, expr: ir.Expr, path: tuple[str, ...], names: Mapping[str, Value],
                rows: list[Mapping[str, Value]]) -> None:
        """A block's header: a blank line, then its text (none when it is empty). ``pass``
        counts the passes of this block over the whole run; ``rows`` are this pass's rows."""
        self.passes[path] += 1
        told = {"pass": self.passes[path], "rows": list(rows), **self._told([], expr)}
        text = self._header_text(expr, ChainMap(told, names))  # type: ignore[arg-type]
        self.reading.header(text)

    def _header_text(self, expr: ir.Expr, names: Mapping[str, Value]) -> str:
        """The text of a header expression, reflowed and cleaned like instructions."""
        text = show(evaluate(expr, untimed.Untimed(names, self._prev, None)))
        return render.clean(render.reflow(untimed.unmark(text)))

    def _pending(self, t: Trial, tracker: Tracker) -> dict[str, Any]:
        """The response-dependent names, pending: what the template sees before the answer."""
        return {n: Pending(n, tracker) for n in ("response", *(n for n, _ in t.kind.data))}

    def _late(self, t: Trial) -> dict[str, Any]:
        """The response-dependent names once the answer is known, prepared for text."""
        return {"response": t.response, **{k: render.display(v) for k, v in t.data.items()}}

    def _unknown(self, expr: ir.Expr) -> bool:
        """Whether a prompt part shows a value the transcript leaves open (never, here)."""
        return False

    def _layout(self, t: Trial, late: dict[str, Any], tracker: Tracker | None,
                after: str) -> Layout:
        """The trial's text around its answer slots, from the prompt or the template."""
        prompt = t.prompt
        if prompt is not None and prompt.after is not None:
            return Layout((render.clean(prompt.before), after))
        context = {**t.view, **late}
        if prompt is not None:
            before = render.reflow(prompt.before) if t.kind.kind.multiline else prompt.before
            context["prompt"] = render.clean(before)
        slots = [Slot(i, tracker) for i in range(len(t.qs))]
        context["answer"] = slots[0] if len(slots) == 1 else None
        context["answers"] = slots
        return render.render(t.kind.name, context, len(t.qs), tracker)

    def _final(self, t: Trial) -> Layout:
        """The trial's text once the response is known."""
        after = ""
        if t.prompt is not None and t.prompt.after is not None:
            scope = untimed.Untimed(ChainMap({**self._told(t.qs, None), "response": t.response,
                                             "rt": t.rt}, t.data, t.p, t.names), self._prev, None)
            after = render.clean(t.prompt.after(scope, self._unknown))
        return self._layout(t, self._late(t), None, after)


def _labels(qs: list[Question]) -> list[Any]:
    """The ``labels`` a prompt sees: the options of a one-question trial, else one list each."""
    options = [list(q.options or ()) for q in qs]
    return options[0] if len(options) == 1 else options


def _pages(value: Value) -> Value:
    """Instruction pages, each reflowed: sentences kept whole, paragraphs kept apart."""
    if isinstance(value, list):
        return [render.clean(render.reflow(v)) if isinstance(v, str) else v for v in value]
    return value


def _reads(expr: ir.Expr, name: str) -> bool:
    """Whether ``expr`` reads the name ``name``."""
    return any(isinstance(n, ir.Name) and n.name == name for n in ir.walk(expr))


def _column_kinds(t: Trial, shared: Mapping[str, Value]) -> dict[str, str]:
    """What each column of a row is, for replay messages."""
    out = {name: "shared variable" for name in shared}
    out.update({name: "condition column" for name in t.conditions})
    out.update({d.name: "parameter" for d in t.kind.recorded})
    out.update({name: "data field" for name, _ in t.kind.data})
    out.update({name: "data field" for name in t.fields})
    return out


def _in_trial(exc: EvalError, where: str) -> SblError:
    """The error with a help line saying which trial of which participant failed."""
    first = exc.diagnostics[0]
    help = f"{first.help}; {where}" if first.help else where
    return SblError([Diagnostic(first.message, first.span, first.severity, help),
                     *exc.diagnostics[1:]])
