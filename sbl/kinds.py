"""Stimulus kinds, read from their declarations in ``stdlib/kinds/*.toml``.

A kind is data (DESIGN decision 5): its parameters (type, default, whether required), the
jsPsych 8 plugin it runs on, the data fields it records (each an sbl expression over the
trial's parameters and ``response``), how it is answered, and its text template. The checker,
both backends and the documentation all read these declarations; none of them lists kinds.
"""

from __future__ import annotations

import enum
import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sbl import types
from sbl.types import SblType


class AnswerType(enum.Enum):
    """How a trial of a kind is answered."""

    NONE = "none"      # nothing to answer: shown for a while or paged through
    KEY = "key"        # a key press among the keys of a parameter
    OPTION = "option"  # a choice among the items of a parameter (buttons, slot machines)
    SURVEY = "survey"  # one answer per question: an option, or free text without options


@dataclass(frozen=True, slots=True)
class ParamDecl:
    """A declared parameter of a kind."""

    name: str
    type: SblType
    required: bool
    default: Any
    doc: str


@dataclass(frozen=True, slots=True)
class DataDecl:
    """A data field a kind records, computed from the trial by an sbl expression."""

    name: str
    type: SblType
    expr: str
    doc: str


@dataclass(frozen=True, slots=True)
class Answer:
    """How a kind is answered: the answer type, the parameter listing the options and, for
    surveys, the field of each question that lists its options (none: free text).
    ``numbered`` options form a scale: a text participant answers 1..k, not letters."""

    type: AnswerType
    source: str | None = None
    options: str | None = None
    numbered: bool = False
    forced: str | None = None  # the parameter naming the one option a trial instructs


@dataclass(frozen=True, slots=True)
class Kind:
    """One stimulus kind, as declared."""

    name: str
    doc: str
    plugin: str
    answer: Answer
    params: tuple[ParamDecl, ...]
    data: tuple[DataDecl, ...]
    multiline: bool = False  # its text keeps line breaks (pages) instead of one line a trial
    transcript: bool = True  # whether its trials are in a model's transcript by default

    def param(self, name: str) -> ParamDecl | None:
        """The declaration of parameter ``name``, or None."""
        return next((p for p in self.params if p.name == name), None)

    @property
    def response_type(self) -> SblType:
        """The type of the ``response`` this kind records."""
        by_answer: dict[AnswerType, SblType] = {
            AnswerType.NONE: types.NONE, AnswerType.KEY: types.Optional(types.STR),
            AnswerType.OPTION: types.Optional(types.INT),
            AnswerType.SURVEY: types.Optional(types.RecordType((), open=True))}
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
# Fields every row has (DESIGN decision 9); they may not be declared again by a kind.
CORE_FIELDS: tuple[str, ...] = (
    "participant", "seed", "source", "block", "trial_index", "trial", "kind", "response", "rt",
)


def _param(name: str, raw: dict[str, Any]) -> ParamDecl:
    return ParamDecl(name, types.parse_type(raw["type"]), bool(raw.get("required", False)),
                     raw.get("default"), raw.get("doc", ""))


def _kind(name: str, raw: dict[str, Any]) -> Kind:
    answer = raw.get("answer", {"type": "none"})
    params = tuple(_param(n, p) for n, p in raw.get("params", {}).items()) + COMMON_PARAMS
    data = tuple(DataDecl(n, types.parse_type(d["type"]), d["expr"], d.get("doc", ""))
                 for n, d in raw.get("data", {}).items())
    clash = {p.name for p in params} & set(CORE_FIELDS)
    if clash:
        raise ValueError(f"kind {name!r} declares reserved names {sorted(clash)}")
    labels = answer.get("labels", "letters")
    if labels not in ("letters", "numbers"):
        raise ValueError(f"kind {name!r}: answer labels must be 'letters' or 'numbers'")
    return Kind(name, raw.get("doc", ""), raw["plugin"],
                Answer(AnswerType(answer["type"]), answer.get("from"), answer.get("options"),
                       labels == "numbers", answer.get("forced")),
                params, data, bool(raw.get("multiline", False)),
                bool(raw.get("transcript", True)))


def _read(name: str) -> dict[str, Any]:
    entry = resources.files("sbl.stdlib").joinpath(name)
    return tomllib.loads(entry.read_text(encoding="utf-8"))


@functools.cache
def settings() -> tuple[ParamDecl, ...]:
    """The settings an experiment header accepts, from ``stdlib/experiment.toml``."""
    return tuple(_param(n, p) for n, p in _read("experiment.toml")["params"].items())


@functools.cache
def all_kinds() -> dict[str, Kind]:
    """Every kind in the standard library, by name."""
    folder = resources.files("sbl.stdlib").joinpath("kinds")
    names = sorted(e.name.removesuffix(".toml") for e in folder.iterdir()
                   if e.name.endswith(".toml"))
    return {name: _kind(name, _read(f"kinds/{name}.toml")) for name in names}


def get(name: str) -> Kind | None:
    """The kind called ``name``, or None."""
    return all_kinds().get(name)
