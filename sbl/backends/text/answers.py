"""What a trial asks and how answers map to recorded responses.

A trial asks one question per answer slot: key kinds ask for one of the readable key names
(``F``, ``SPACE``), option kinds (bandit arms, buttons) for one of the participant's option
letters, survey kinds one question per item (multiple choice: letters; rating scales: the
numbers 1..k; free text: anything). Responses are recorded as jsPsych records them: the key
(``"f"``, ``" "``), the 0-based option index, or ``{"Q0": ...}`` (the option text for multiple
choice, the label index for scales, the text for free text).
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sbl import kinds, prng
from sbl.backends.text.render import ANGLES, clean, key_name, one_line
from sbl.evaluate import EvalError
from sbl.kinds import AnswerType
from sbl.protocol import SEPARATOR, match_option
from sbl.values import show

LETTERS = tuple(string.ascii_uppercase)
# What a replayed timeout (response none) shows in place of an answer, and the answer a text
# participant gives to press no key (or click no button) on a trial with ``withhold``
# (recorded as a timeout).
TIMEOUT = "nothing"
# The answers that may be withheld (a key, a button) where a kind declares ``withhold``.
WITHHELD = (AnswerType.KEY, AnswerType.OPTION)
# Mixed into the participant's seed for the label stream, so drawing labels never moves the
# main stream that the browser consumes too.
LABEL_SALT = 0x9E3779B9


def label_order(seed: int) -> tuple[str, ...]:
    """The participant's option letters: A-Z shuffled by a Prng seeded with seed ^ LABEL_SALT.
    An item with k options is labelled with the first k (Psych-101: drawn without
    replacement, once per participant)."""
    return tuple(prng.shuffle(prng.Prng((seed ^ LABEL_SALT) & 0xFFFFFFFF), list(LETTERS)))


def letters(order: tuple[str, ...], k: int) -> tuple[str, ...]:
    """Labels for k options: the first k letters, or the numbers 1..k beyond 26 options."""
    return order[:k] if k <= len(order) else tuple(str(i + 1) for i in range(k))


@dataclass(frozen=True, slots=True)
class Question:
    """One answer slot: its option ``options`` (labels; None for free text), the response
    value each records, and ``only``: the index of the one option the trial instructs (None:
    every option is valid); ``any_key``: any key answers, so a recorded key of any name is
    accepted (the one option is the key a text participant presses); ``numeric``: the
    options are the numbers a slider can take, matched and recorded as numbers;
    ``withhold``: its last option is TIMEOUT, no key or button, recorded as none;
    ``picks``: the labels of the options of a question answered with any number of them
    (its options are then every set of them, :func:`_several_question`)."""

    options: tuple[str, ...] | None
    values: tuple[Any, ...] = ()
    only: int | None = None
    any_key: bool = False
    numeric: bool = False  # a number answer (a slider's positions)
    withhold: bool = False  # pressing no key (TIMEOUT, recorded as none) is an answer too
    picks: tuple[str, ...] = ()  # the option labels a set of options is written with

    @property
    def valid(self) -> tuple[str, ...] | None:
        """The labels a participant may answer with."""
        if self.options is None or self.only is None:
            return self.options
        return (self.options[self.only],)

    @property
    def forced(self) -> bool:
        """A single valid option: answered without asking and written without markers."""
        return self.valid is not None and len(self.valid) == 1

    @property
    def instructed(self) -> bool:
        """One option of several is instructed (Psych-101's "You are instructed to press")."""
        return self.only is not None

    def match(self, text: str) -> str | None:
        """The valid option ``text`` names (case-insensitive), or None; free text is cleaned."""
        if self.valid is None:
            return free_text(text)
        return match_option(self.valid, text.strip().removeprefix("<<").removesuffix(">>"))

    def value(self, label: str) -> Any:
        """The recorded value of an answer label."""
        return label if self.options is None else self.values[self.options.index(label)]

    def answered(self, text: str, label: str) -> Any:
        """The recorded value of the answer ``text`` that showed as ``label``: the option's
        value, or the typed text itself on one line (data keep what was typed)."""
        return one_line(text) if self.options is None else self.value(label)

    def in_order(self, value: Any) -> Any:
        """A set of options recorded in another order (jsPsych's simulation records them as
        it drew them) in the options' order; any other value as it is."""
        if not self.picks or not isinstance(value, list):
            return value
        every = self.values[-1]  # the set of all the options, in their order
        return sorted(value, key=lambda v: every.index(v) if v in every else len(every))

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is a recorded value of one of the valid options (keys in any
        case; on an instructed trial only the instructed option's)."""
        value = self.in_order(value)
        if value is None:
            return self.withhold
        if self.any_key:
            return isinstance(value, str)
        if self.numeric:
            return isinstance(value, (int, float)) and not isinstance(value, bool) and (
                value in self.values)
        values = self.values if self.only is None else (self.values[self.only],)
        return any(v == value and type(v) is type(value) or (
            isinstance(v, str) and isinstance(value, str) and v.lower() == value.lower())
            for v in values)

    def label(self, value: Any) -> str:
        """The label a recorded value shows as (a replayed answer). Any key where no key is
        an answer too is a choice between a key and none: a key replays as that option, so
        that ``sbl score`` scores what a text participant could answer."""
        value = self.in_order(value)
        if value is None:
            return TIMEOUT
        if self.any_key and self.withhold and self.options:
            return self.options[0]
        if self.options is None:
            return free_text(str(value))
        for option, v in zip(self.options, self.values, strict=True):
            if v == value or (isinstance(v, str) and isinstance(value, str)
                              and v.lower() == value.lower()):
                return option
        return key_name(value) if isinstance(value, str) else str(value)


def free_text(text: str) -> str:
    """A free-text answer as it sits between the markers: on one line, runs of ``<`` or ``>``
    cleaned, and a ``<`` at its start or a ``>`` at its end made an angle quotation mark,
    since next to `` <<`` or ``>>`` it would make the marker ambiguous."""
    shown = clean(one_line(text))
    if shown.startswith("<"):
        shown = shown[0].translate(ANGLES) + shown[1:]
    if shown.endswith(">"):
        shown = shown[:-1] + shown[-1].translate(ANGLES)
    return shown


def questions(kind: kinds.Kind, params: Mapping[str, Any],
              order: tuple[str, ...]) -> list[Question]:
    """The answer slots of a trial of ``kind`` with these evaluated parameters."""
    answer = kind.answer
    if answer.type is AnswerType.NUMBER and answer.bounds is not None:
        return [_number_question(answer.bounds, params)]
    items = params.get(answer.source) if answer.source else None
    withhold = answer.type in WITHHELD and _withholds(params)
    if answer.count is not None and isinstance(items, list) and len(items) != answer.count:
        raise EvalError(counted(answer.source, answer.count, len(items)))
    if answer.type is AnswerType.NONE or not isinstance(items, list) or not items:
        return []
    if answer.type is AnswerType.KEY:
        return [_key_question(items, withhold)]
    if answer.type is AnswerType.OPTION:
        only = params.get(answer.forced) if answer.forced else None
        if only is not None and not 0 <= only < len(items):
            raise EvalError(f"'{answer.forced}' is {only}, but the trial has {len(items)} "
                            f"options (0 to {len(items) - 1})")
        labels, values = letters(order, len(items)), tuple(range(len(items)))
        if withhold:  # the buttons' letters, then clicking none
            return [Question((*labels, TIMEOUT), (*values, None), only, withhold=True)]
        return [Question(labels, values, only)]
    return [_survey_question(kind, q, order) for q in items]


def counted(source: str | None, count: int, given: int) -> str:
    """The error of a list of keys or options that does not hold the ``count`` a kind
    declares (runtime.js ``counted`` is its twin, with this message)."""
    return f"'{source}' must hold {count} items; it holds {given}"


def _key_question(items: list[Any], withhold: bool) -> Question:
    """A key trial's one question: its keys by name, then TIMEOUT when it may be withheld.
    Any key is one option, SPACE (not asked unless withholding is the other)."""
    keys = tuple(dict.fromkeys(str(k) for k in items))
    any_key = kinds.ANY_KEY in keys
    if any_key:
        keys = (kinds.ANY_KEY_PRESSED,)
    names = tuple(key_name(k) for k in keys)
    if withhold:
        return Question((*names, TIMEOUT), (*keys, None), any_key=any_key, withhold=True)
    return Question(names, keys, any_key=any_key)


def _withholds(params: Mapping[str, Any]) -> bool:
    """Whether a trial takes no key (or no button) as an answer: ``withhold`` with a way to
    end without one (runtime.js ``withholds`` is its twin, with this message)."""
    if params.get("withhold") is not True:
        return False
    if not any(params.get(name) not in (None, False) for name in kinds.ENDINGS):
        raise EvalError("'withhold' is true but 'duration' is none: no answer is an answer "
                        "only on a trial that ends without one")
    return True


def _number_question(bounds: tuple[str, str, str], params: Mapping[str, Any]) -> Question:
    """A slider's one question: every position, labelled as sbl shows the number."""
    try:
        values = kinds.positions_of(bounds, params)
    except ValueError as exc:
        raise EvalError(str(exc)) from None
    return Question(tuple(show(v) for v in values), values, numeric=True)


def _survey_question(kind: kinds.Kind, item: Any, order: tuple[str, ...]) -> Question:
    field = kind.answer.options
    if field is None:
        return Question(None)
    opts = item.get(field) if isinstance(item, dict) else None
    opts = list(opts) if isinstance(opts, list) else []
    if kind.answer.numbered:  # a scale: labelled 1..k, recorded as the label's index
        return Question(tuple(str(i + 1) for i in range(len(opts))), tuple(range(len(opts))))
    if kind.answer.several:
        return _several_question(opts, letters(order, len(opts)))
    return Question(letters(order, len(opts)), tuple(opts))


def _several_question(opts: list[Any], picks: tuple[str, ...]) -> Question:
    """A question answered with any number of its options: one answer per set of them, by
    size, then in the options' order (``nothing``, ``C``, ``F``, ``C, F``), recorded as
    jsPsych's survey-multi-select records it, the list of the options chosen in their order."""
    if len(opts) > kinds.MAX_SEVERAL:
        raise EvalError(f"a question answered with any number of its options has at most "
                        f"{kinds.MAX_SEVERAL}, since a text participant chooses among every "
                        f"set of them; this one has {len(opts)}")
    sets = [c for k in range(len(opts) + 1) for c in itertools.combinations(range(len(opts)), k)]
    labels = tuple(SEPARATOR.join(picks[i] for i in c) if c else TIMEOUT for c in sets)
    return Question(labels, tuple([opts[i] for i in c] for c in sets), picks=picks)


def response(kind: kinds.Kind, values: list[Any]) -> Any:
    """The recorded response from each slot's value (a survey gives ``{"Q0": ...}``)."""
    if kind.answer.type is AnswerType.SURVEY:
        return {f"Q{i}": v for i, v in enumerate(values)} if values else None
    return values[0] if values else None


def slot_values(kind: kinds.Kind, recorded: Any, count: int) -> list[Any]:
    """The value of each slot in a recorded response (inverse of :func:`response`)."""
    if kind.answer.type is AnswerType.SURVEY:
        got = recorded if isinstance(recorded, dict) else {}
        return [got.get(f"Q{i}") for i in range(count)]
    return [recorded] * min(count, 1)
