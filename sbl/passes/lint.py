"""The lint pass: warnings about a checked experiment that is valid but will mislead a model.

Unlike the passes of ``PASSES`` it changes nothing and raises nothing: it returns warnings,
which ``sbl check`` prints without failing. Each names something a text participant would
miss: instructions (without them a model never learns what the keys or options mean), and
the text of a stimulus a person sees but a model cannot read (HTML that is only markup);
and groups that may not balance (assigned from participant ids, which may not be numbers);
and a timed trial with a single key, which a text participant presses unasked every time: it
cannot withhold a key, so a go/no-go or n-back design that wants no key does not run as text.
"""

from __future__ import annotations

import html
import re

from sbl import ir, kinds, types
from sbl.source import Diagnostic, Severity

_TAG = re.compile(r"<[^>]*>")


def lint(experiment: ir.Experiment) -> list[Diagnostic]:
    """The warnings about ``experiment`` (already resolved and checked), in file order."""
    found = _no_instructions(experiment) + _hashed_groups(experiment)
    for stim in ir.stimuli(experiment.body):
        found += _empty_text(stim) + _unasked_key(stim)
    return sorted(found, key=Diagnostic.sort_key)


def _warning(span: ir.Span | None, message: str, help: str) -> Diagnostic:
    return Diagnostic(message, span, Severity.WARNING, help)


def _no_instructions(experiment: ir.Experiment) -> list[Diagnostic]:
    if any(s.kind == "instructions" for s in ir.stimuli(experiment.body)):
        return []
    s = experiment.span
    head = ir.Span(s.path, s.line, s.col, s.line, s.col + len("experiment")) if s else None
    return [_warning(head, "this experiment has no instructions: a model reading its "
                           "transcript never learns what the keys or options mean",
                     "add 'instructions: \"...\"' to the experiment's settings")]


def _hashed_groups(experiment: ir.Experiment) -> list[Diagnostic]:
    """Groups by participant id balance only over numbered participants (sbl/groups.py)."""
    group = experiment.group
    if group is None or group.source is not ir.GroupSource.PARTICIPANT:
        return []
    s = group.span
    head = ir.Span(s.path, s.line, s.col, s.line, s.col + len("group")) if s else None
    return [_warning(head, "groups by participant id are balanced only when participants are "
                           "numbered (1, 2, ...): any other id, such as Prolific's PROLIFIC_PID "
                           "or the page's anonymous id, is hashed to a group, and hashed groups "
                           "are not balanced",
                     "give the page ?participant=N, or assign by 'url \"NAME\"' or 'jatos'")]


def _empty_text(stim: ir.Stimulus) -> list[Diagnostic]:
    """A stimulus whose HTML, as written, has no text, with nothing for a model instead."""
    kind = kinds.get(stim.kind)
    given = {p.name: p for p in stim.params}
    if kind is None or "prompt" in given or "description" in given or _hidden(kind, given):
        return []
    out = []
    for decl in kind.params:
        param = given.get(decl.name)
        if param is None or types.strip_optional(decl.type) != types.HTML:
            continue
        text = _literal_text(param.value)
        if text is not None and not html.unescape(_TAG.sub("", text)).strip():
            out.append(_warning(param.value.span, f"a model reads nothing for this "
                                                  f"{stim.kind}: its {decl.name} has no text",
                                _help(kind)))
    return out


def _help(kind: kinds.Kind) -> str:
    if kind.param("description") is not None:
        return "give it a description: what a model reads instead"
    return "give it a prompt: what a model reads instead"


def _hidden(kind: kinds.Kind, given: dict[str, ir.Param]) -> bool:
    """Whether the stimulus is surely left out of the transcript."""
    param = given.get("transcript")
    if param is None:
        return not kind.transcript
    return isinstance(param.value, ir.Literal) and param.value.value is False


def _literal_text(expr: ir.Expr) -> str | None:
    """The text of a string written without holes; None when it is computed."""
    if isinstance(expr, ir.Literal) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ir.Template) and all(isinstance(p, str) for p in expr.parts):
        return "".join(p for p in expr.parts if isinstance(p, str))
    return None


def _unasked_key(stim: ir.Stimulus) -> list[Diagnostic]:
    """A key trial with one key and a response window: on the page a person may let the
    window run out, but a text participant is never asked and always presses the key."""
    kind = kinds.get(stim.kind)
    if kind is None or kind.answer.type is not kinds.AnswerType.KEY or not kind.answer.source:
        return []
    given = {p.name: p for p in stim.params}
    if "withhold" in given:  # a text participant is asked: the key or nothing
        return []
    keys, window = given.get(kind.answer.source), given.get("duration")
    if keys is None or window is None or _literal_text(window.value) is not None:
        return []
    if isinstance(window.value, ir.Literal) and window.value.value is None:
        return []
    if not isinstance(keys.value, ir.ListExpr) or len(keys.value.items) != 1:
        return []
    key = _literal_text(keys.value.items[0])
    if key is None or key == kinds.ANY_KEY:
        return []
    shown = "SPACE" if key == " " else repr(key)  # as a text participant reads the key
    return [_warning(keys.value.span, f"a text participant presses {shown} unasked on every "
                                      f"trial of this {stim.kind}: with one key and a duration, "
                                      f"a person may withhold the key, but a text participant "
                                      f"cannot, so its rows never show a withheld response",
                     "add 'withhold: true' to make pressing no key an answer a text "
                     "participant can give (You press <<nothing>>.), or leave out the "
                     "duration if the key must be pressed")]
