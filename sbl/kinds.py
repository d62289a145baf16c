"""Stimulus kinds, read from their declarations in ``stdlib/kinds/*.toml``.

A kind is data (DESIGN decision 5): its parameters (type, default, whether required), the
jsPsych 8 plugin it runs on (and any others its runtime mapping uses), the data fields it
records (each an sbl expression over the trial's parameters and ``response``, parsed here,
once, when the kind is first used), how it is answered, the ``sbl compare`` analysis of its
rows, an example trial for the tests, and its text template. The checker, both backends,
the comparisons and the documentation all read these declarations; none of them lists kinds.
``docs/extending.md`` says how to add one.
"""

from __future__ import annotations

import enum
import functools
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from sbl import ir, types
from sbl.types import SblType
from sbl.values import show

# A key kind's choices that hold this answer with any key (jsPsych's "ALL_KEYS").
ANY_KEY = "any"
# The key a text participant presses for any key: it is not asked (docs/language.md).
ANY_KEY_PRESSED = " "
# The parameters that let a trial end without an answer: a trial with ``withhold`` (no key
# or button is an answer too) needs one of them given.
ENDINGS = ("duration", "ends_after_audio", "ends_after_video")


class AnswerType(enum.Enum):
    """How a trial of a kind is answered."""

    NONE = "none"      # nothing to answer: shown for a while or paged through
    KEY = "key"        # a key press among the keys of a parameter
    OPTION = "option"  # a choice among the items of a parameter (buttons, slot machines)
    SURVEY = "survey"  # one answer per question: an option, or free text without options
    NUMBER = "number"  # a number from min to max in steps (a slider)


@dataclass(frozen=True, slots=True)
class ParamDecl:
    """A declared parameter of a kind."""

    name: str
    type: SblType
    required: bool
    default: Any
    doc: str
    media: str | None = None  # a media parameter's class of file (MEDIA_CLASSES); None: any
    # a number's least and greatest value (``min = 0``: a time in ms cannot be negative),
    # checked wherever the value is known before the run (sbl/passes/ranges.py)
    min: float | None = None
    max: float | None = None
    # the parameter whose list this one names an item of (``among = "choices"``: the correct
    # key is one of the keys), and whether keys may differ from it in case (``any_case``)
    among: str | None = None
    any_case: bool = False

    @property
    def is_media(self) -> bool:
        """Whether the parameter names media files (type ``media``, ``media?`` or a list)."""
        return types.MEDIA in _scalars(self.type)


def _scalars(t: SblType) -> set[SblType]:
    """The scalar types inside ``t`` (``list[media]?`` -> {media})."""
    t = types.strip_optional(t)
    if isinstance(t, types.ListType):
        return _scalars(t.item)
    return set() if isinstance(t, types.RecordType) else {t}


# The classes of media file a media parameter may restrict itself to (``media = "image"``).
MEDIA_CLASSES = ("image", "audio", "video")


@dataclass(frozen=True, slots=True)
class DataDecl:
    """A data field a kind records, computed from the trial by an sbl expression: ``expr`` is
    parsed once, when the kind is loaded; ``text`` is that expression as declared."""

    name: str
    type: SblType
    expr: ir.Expr
    doc: str
    text: str


@dataclass(frozen=True, slots=True)
class Answer:
    """How a kind is answered: the answer type, the parameter listing the options and, for
    surveys, the field of each question that lists its options (none: free text).
    ``numbered`` options form a scale: a text participant answers 1..k, not letters.
    ``several``: each question takes any number of its options (checkboxes), recorded as the
    list of those chosen."""

    type: AnswerType
    source: str | None = None
    options: str | None = None
    numbered: bool = False
    forced: str | None = None  # the parameter naming the one option a trial instructs
    # a number answer: the parameters holding its lowest and highest value and its step
    bounds: tuple[str, str, str] | None = None
    several: bool = False
    # the number of keys (or options) the ``from`` list must hold (same_different: the key for
    # same, then the key for different); None: any number
    count: int | None = None


@dataclass(frozen=True, slots=True)
class Example:
    """One trial of a kind, for the tests that run every kind: its parameters as sbl source
    (``{ choices: ["a", "b"] }``) and the ``response`` it records when answered so."""

    stimulus: str
    response: Any = None


@dataclass(frozen=True, slots=True)
class Kind:
    """One stimulus kind, as declared. ``extra_plugins``: jsPsych plugins its runtime mapping
    uses besides ``plugin``; ``compare``: the ``sbl compare`` analysis of its rows (None for
    kinds without answers, "none" for an answered kind no analysis reads)."""

    name: str
    doc: str
    plugin: str
    answer: Answer
    params: tuple[ParamDecl, ...]
    data: tuple[DataDecl, ...]
    multiline: bool = False  # its text keeps line breaks (pages) instead of one line a trial
    extra_plugins: tuple[str, ...] = ()
    compare: str | None = None
    example: Example | None = None
    transcript: bool = True  # whether its trials are in a model's transcript by default
    gesture: bool = False  # its trials follow a user gesture (a click or key): browsers play
    # no sound before one, so the page asks for a click first when none came (runtime.js)

    def param(self, name: str) -> ParamDecl | None:
        """The declaration of parameter ``name``, or None."""
        return next((p for p in self.params if p.name == name), None)

    @property
    def media_params(self) -> tuple[ParamDecl, ...]:
        """The parameters that name media files."""
        return tuple(p for p in self.params if p.is_media)

    @property
    def response_type(self) -> SblType:
        """The type of the ``response`` this kind records."""
        by_answer: dict[AnswerType, SblType] = {
            AnswerType.NONE: types.NONE, AnswerType.KEY: types.Optional(types.STR),
            AnswerType.OPTION: types.Optional(types.INT),
            AnswerType.SURVEY: types.Optional(types.RecordType((), open=True)),
            AnswerType.NUMBER: types.Optional(types.NUMBER)}
        return by_answer[self.answer.type]


# Parameters every kind accepts, whatever its declaration says.
COMMON_PARAMS: tuple[ParamDecl, ...] = (
    ParamDecl("prompt", types.Optional(types.STR), False, None,
              "What a text participant reads for this trial, instead of the kind's template. "
              "{answer} marks where the answer goes."),
    ParamDecl("transcript", types.Optional(types.BOOL), False, None,
              "Whether a text participant reads this trial; none: the kind's default "
              "(fixation crosses and blank screens are left out)."),
)
# Parameters only text participants read: neither page nor text run records them.
TEXT_ONLY: frozenset[str] = frozenset(p.name for p in COMMON_PARAMS)
# How the page looks (the experiment's `style` setting, and any stimulus's): each field left
# out or none keeps the page's (or the experiment's) own.
STYLE_TYPE = "record{background: str?, color: str?, font_size: number?, width: number?}"
STYLE_FIELDS = ("background", "color", "font_size", "width")
# Parameters every kind accepts that only the page acts on; rows record them.
PAGE_PARAMS: tuple[ParamDecl, ...] = (
    ParamDecl("gap", types.Optional(types.NUMBER), False, None,
              "ms of blank screen after the trial, before the next (jsPsych's post_trial_gap; "
              "it adds no row); none: the enclosing block's gap, else the experiment's, else "
              "0. A text participant reads nothing of it.", min=0),
    ParamDecl("style", types.parse_type(STYLE_TYPE + "?"), False, None,
              "How the page looks during this trial: {background, color (CSS colours), "
              "font_size (px), width (px of content)}; fields left out (or none) come from "
              "the enclosing blocks' style:, then the experiment's. A text participant "
              "reads nothing of it."),
)
# Fields every row has (DESIGN decision 9); they may not be declared again by a kind.
CORE_FIELDS: tuple[str, ...] = (
    "participant", "seed", "source", "block", "pass", "pass_path", "trial_index", "trial",
    "kind", "response", "rt",
)
# Fields jsPsych (or its plugins) adds to every data row of the page; they are not sbl columns.
JSPSYCH_FIELDS: frozenset[str] = frozenset({
    "trial_type", "trial_index", "time_elapsed", "internal_node_id", "sbl_trial_index",
    "sbl_version", "sbl_storage",  # the page's own bookkeeping: see docs/data.md
    "stimulus", "view_history", "question_order", "success", "plugin_version",
    "extension_type", "extension_version", "rt_key_duration", "response_index",
    "slider_start",  # html-slider-response's copy of the slider's start (sbl records `start`)
    # same-different-html's simulation records the two stimuli as `stimuli` (a person's
    # trial, as `stimulus`); sbl records `first` and `second`
    "stimuli",
    # serial-reaction-time's copy of its grid (sbl records `choices` and `columns`)
    "grid",
})


# A question answered with any number of its options has at most this many: a text
# participant chooses among all 2**n sets of them (a model scores each), 1024 at most.
MAX_SEVERAL = 10
# A number answer (a slider) has at most this many positions: a text participant chooses
# among all of them (a model scores each), and no slider on a screen has more pixels.
MAX_POSITIONS = 1001


def positions(low: Any, high: Any, step: Any,
              names: tuple[str, str, str] = ("min", "max", "step")) -> tuple[int, ...]:
    """The values a number answer from ``low`` to ``high`` in steps of ``step`` can take
    (runtime.js ``positions`` is its twin). Raises ValueError, naming the parameters as
    ``names`` does, unless the bounds are whole numbers (jsPsych's slider truncates any
    other to one), ``low < high``, ``step > 0`` and ``high - low`` is a whole number of
    steps, at most MAX_POSITIONS - 1 of them."""
    lo, hi, st = names
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
               and float(x).is_integer() for x in (low, high, step)):
        raise ValueError(f"{lo}, {hi} and {st} must be whole numbers; got {show(low)}, "
                         f"{show(high)}, {show(step)}")
    low, high, step = int(low), int(high), int(step)
    if step <= 0:
        raise ValueError(f"{st} must be more than 0; got {step}")
    if high <= low:
        raise ValueError(f"{hi} must be more than {lo}; got {lo} {low}, {hi} {high}")
    if (high - low) % step:
        raise ValueError(f"{hi} - {lo} ({high - low}) must be a whole number of steps of "
                         f"{step}")
    if (high - low) // step + 1 > MAX_POSITIONS:
        raise ValueError(f"a slider has at most {MAX_POSITIONS} positions; {low} to {high} "
                         f"in steps of {step} makes {(high - low) // step + 1}")
    return tuple(range(low, high + 1, step))


def positions_of(bounds: tuple[str, str, str], values: Mapping[str, Any]) -> tuple[int, ...]:
    """:func:`positions` of a number answer whose bounds are the parameters ``bounds`` (low,
    high, step) of ``values`` (a trial's parameters, or a recorded row)."""
    low, high, step = (values.get(name) for name in bounds)
    return positions(low, high, step, names=bounds)


def _param(name: str, raw: dict[str, Any]) -> ParamDecl:
    media = raw.get("media")
    if media is not None and media not in MEDIA_CLASSES:
        raise ValueError(f"parameter {name!r}: media must be one of {', '.join(MEDIA_CLASSES)}")
    decl = ParamDecl(name, types.parse_type(raw["type"]), bool(raw.get("required", False)),
                     raw.get("default"), raw.get("doc", ""), media, raw.get("min"),
                     raw.get("max"), raw.get("among"), bool(raw.get("any_case", False)))
    _range(decl)
    if media is not None and not decl.is_media:
        raise ValueError(f"parameter {name!r} says media = {media!r} but is not of type media")
    if decl.is_media and decl.default is not None:
        raise ValueError(f"media parameter {name!r} cannot have a default: a file is named "
                         "relative to the .sbl file that uses it")
    return decl


def _range(decl: ParamDecl) -> None:
    """``min`` and ``max`` are numbers, of a number parameter."""
    bounds = [b for b in (decl.min, decl.max) if b is not None]
    if bounds and not types.assignable(types.NUMBER, decl.type):
        raise ValueError(f"parameter {decl.name!r} has min or max but is not a number")
    if any(not isinstance(b, int | float) or isinstance(b, bool) for b in bounds):
        raise ValueError(f"parameter {decl.name!r}: min and max must be numbers")


def _described(name: str, params: tuple[ParamDecl, ...]) -> None:
    """A kind that shows media declares the text a model reads instead: a required
    ``description`` string (DESIGN decision 12), which its template must use."""
    if not any(p.is_media for p in params):
        return
    description = next((p for p in params if p.name == "description"), None)
    if description is None or not description.required or description.type != types.STR:
        raise ValueError(f"kind {name!r} has a media parameter, so it must declare a required "
                         "'description' of type str: the text a model reads instead")


def _data(kind: str, name: str, raw: dict[str, Any]) -> DataDecl:
    from sbl.parse import parse_expr  # only where a kind is loaded: the parser loads Lark

    expr = parse_expr(raw["expr"], f"stdlib/kinds/{kind}.toml:data.{name}")
    return DataDecl(name, types.parse_type(raw["type"]), expr, raw.get("doc", ""), raw["expr"])


def _kind(name: str, raw: dict[str, Any]) -> Kind:
    answer = raw.get("answer", {"type": "none"})
    params = (tuple(_param(n, p) for n, p in raw.get("params", {}).items()) + COMMON_PARAMS
              + PAGE_PARAMS)
    data = tuple(_data(name, n, d) for n, d in raw.get("data", {}).items())
    clash = {p.name for p in params} & set(CORE_FIELDS)
    if clash:
        raise ValueError(f"kind {name!r} declares reserved names {sorted(clash)}")
    _described(name, params)
    for p in params:
        if p.among is not None and not any(q.name == p.among for q in params):
            raise ValueError(f"kind {name!r}: {p.name} is among {p.among!r}, which is not a "
                             "parameter")
    labels = answer.get("labels", "letters")
    if labels not in ("letters", "numbers"):
        raise ValueError(f"kind {name!r}: answer labels must be 'letters' or 'numbers'")
    answer_type = AnswerType(answer["type"])
    example = raw.get("example")
    return Kind(name, raw.get("doc", ""), raw["plugin"],
                Answer(answer_type, answer.get("from"), answer.get("options"),
                       labels == "numbers", answer.get("forced"), _bounds(name, answer),
                       _several(name, answer), answer.get("count")),
                params, data, bool(raw.get("multiline", False)),
                tuple(raw.get("extra_plugins", ())), _compare(name, answer_type, raw),
                Example(example["stimulus"], example.get("response")) if example else None,
                bool(raw.get("transcript", True)), bool(raw.get("gesture", False)))


def _bounds(name: str, answer: dict[str, Any]) -> tuple[str, str, str] | None:
    """A number answer's ``min``, ``max`` and ``step``: the parameters that hold them."""
    if answer["type"] != AnswerType.NUMBER.value:
        return None
    if not all(isinstance(answer.get(k), str) for k in ("min", "max", "step")):
        raise ValueError(f"kind {name!r}: a number answer names its min, max and step "
                         f"parameters (answer = {{ type = \"number\", min = ..., max = ..., "
                         f"step = ... }})")
    return answer["min"], answer["max"], answer["step"]


def _several(name: str, answer: dict[str, Any]) -> bool:
    """Whether a survey's questions take any number of their options (``several = true``)."""
    several = answer.get("several", False)
    if not isinstance(several, bool) or several and (
            answer["type"] != AnswerType.SURVEY.value or not answer.get("options")):
        raise ValueError(f"kind {name!r}: 'several = true' is for a survey answer whose "
                         f"questions list options")
    return several


def _compare(name: str, answer: AnswerType, raw: dict[str, Any]) -> str | None:
    """The kind's ``sbl compare`` analysis: an answered kind names one (or "none"), so that
    a new kind cannot drop out of comparisons unnoticed; a kind without answers names none."""
    compare: str | None = raw.get("compare")
    if answer is not AnswerType.NONE and compare is None:
        raise ValueError(f"kind {name!r}: an answered kind names its compare analysis "
                         f'(compare = "<analysis>" or "none")')
    if answer is AnswerType.NONE and compare is not None:
        raise ValueError(f"kind {name!r}: a kind without answers has no compare analysis")
    return compare


# Folders laid out like ``stdlib/`` (``kinds/<kind>.toml``, ``templates/<kind>.txt``) that
# kinds are read from, the standard library first; a test adds one to try out a new kind.
ROOTS: list[Traversable] = [resources.files("sbl.stdlib")]


def stdlib_file(*parts: str) -> Traversable | None:
    """The file at ``parts`` in the first of the ROOTS that has it, or None."""
    entries = (root.joinpath(*parts) for root in ROOTS)
    return next((e for e in entries if e.is_file()), None)


def _read(*parts: str) -> dict[str, Any]:
    entry = stdlib_file(*parts)
    assert entry is not None, parts
    return tomllib.loads(entry.read_text(encoding="utf-8"))


@functools.cache
def settings() -> tuple[ParamDecl, ...]:
    """The settings an experiment header accepts, from ``stdlib/experiment.toml``."""
    return tuple(_param(n, p) for n, p in _read("experiment.toml")["params"].items())


@functools.cache
def names() -> tuple[str, ...]:
    """The names of the kinds in the standard library, sorted."""
    folders = [root.joinpath("kinds") for root in ROOTS]
    return tuple(sorted({e.name.removesuffix(".toml") for folder in folders if folder.is_dir()
                         for e in folder.iterdir() if e.name.endswith(".toml")}))


@functools.cache
def _load(name: str) -> Kind:
    """The kind called ``name``, read and its data expressions parsed the first time it is
    asked for: a run loads only the kinds it uses."""
    return _kind(name, _read("kinds", f"{name}.toml"))


def reread() -> None:
    """Forget the kinds read so far: the next use reads them from the ROOTS again."""
    names.cache_clear()
    _load.cache_clear()


def all_kinds() -> dict[str, Kind]:
    """Every kind in the standard library, by name."""
    return {name: _load(name) for name in names()}


def get(name: str) -> Kind | None:
    """The kind called ``name``, or None."""
    return _load(name) if name in names() else None
