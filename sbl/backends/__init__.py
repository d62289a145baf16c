"""Backends by name: what ``sbl compile --emit NAME`` can produce.

Each backend is a module exporting ``emit(experiment, **options) -> str`` over the checked
IR (:class:`sbl.ir.Experiment`; a backend never sees the API's wrapper); the registry holds
only its name, module and file suffix, so the CLI lists choices without importing any
backend, and adding one never touches the CLI.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sbl.source import SblError, did_you_mean

if TYPE_CHECKING:
    from sbl.ir import Experiment


# Where a page's media files go (``sbl compile --media``; sbl/backends/web/media.py), and the
# bytes of media in all above which ``auto`` writes them beside the page instead of inside:
# inlined, base64 makes them a third larger, and a browser holds the whole page in memory.
MEDIA_MODES = ("auto", "inline", "beside")
MEDIA_INLINE_LIMIT = 16 * 2**20


class Emitter(Protocol):
    """The function a backend module exports."""

    def __call__(self, experiment: Experiment, *, cdn: bool = False,
                 allow_simulate: bool = False, media_mode: str = "auto") -> str: ...


@dataclass(frozen=True, slots=True)
class Backend:
    """A registered backend: its name, the module that implements it, what it writes, and
    the options of ``emit`` it acts on (any other is ignored by it, so the CLI refuses it)."""

    name: str
    module: str
    suffix: str
    help: str
    options: tuple[str, ...] = ()

    def emit(self, experiment: Experiment, *, cdn: bool = False,
             allow_simulate: bool = False, media_mode: str = "auto") -> str:
        """Run the backend on a checked experiment."""
        emitter: Emitter = importlib.import_module(self.module).emit
        return emitter(experiment, cdn=cdn, allow_simulate=allow_simulate,
                       media_mode=media_mode)

    def write(self, experiment: Experiment, path: str | Path, *, cdn: bool = False,
              allow_simulate: bool = False, media_mode: str = "auto") -> int:
        """Run the backend and write its output to ``path`` (UTF-8); the bytes written. A
        backend module may also export ``pieces(experiment, **options, output=path)``, its
        output as strings to write in turn, so that a large output is never held whole
        twice (``output``: where the page goes, for files written beside it)."""
        module = importlib.import_module(self.module)
        pieces = getattr(module, "pieces", None)
        if pieces is None:
            return write_output(path, self.emit(experiment, cdn=cdn,
                                                allow_simulate=allow_simulate,
                                                media_mode=media_mode))
        return write_output(path, *pieces(experiment, cdn=cdn, allow_simulate=allow_simulate,
                                          media_mode=media_mode, output=Path(path)))


REGISTRY: dict[str, Backend] = {b.name: b for b in (
    Backend("html", "sbl.backends.web", ".html",
            "a self-contained jsPsych 8 page for people in a browser",
            ("cdn", "allow_simulate", "media_mode")),
    Backend("ir", "sbl.backends.ir", ".json", "the checked IR as versioned JSON"),
    Backend("transcript", "sbl.backends.text", ".txt",
            "the Psych-101 text a model reads, with answers left open"),
)}


def get(name: str) -> Backend:
    """The backend called ``name``; an unknown name is an SblError with a suggestion."""
    if name not in REGISTRY:
        raise SblError.at(None, f"unknown backend '{name}'", did_you_mean(name, REGISTRY))
    return REGISTRY[name]


_PIECE = 1 << 20  # characters encoded at a time


def encoded(*texts: str) -> Iterator[bytes]:
    """``texts``, one after the other, as UTF-8 a megabyte of characters at a time: a page
    holding a large table is never encoded whole into a second copy."""
    for text in texts:
        for start in range(0, len(text), _PIECE):
            yield text[start:start + _PIECE].encode("utf-8")


def write_output(path: str | Path, *texts: str) -> int:
    """Write ``texts``, one after the other, to ``path`` as UTF-8 (:func:`encoded`); the
    number of bytes written."""
    size = 0
    with open(path, "wb") as f:
        for chunk in encoded(*texts):
            size += f.write(chunk)
    return size
