"""The Python API's entry point: a checked experiment and what can be done with it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sbl import ir
from sbl.parse import parse
from sbl.passes import PASSES
from sbl.source import Diagnostic, read_source

if TYPE_CHECKING:
    from sbl.data import Rows
    from sbl.media import MediaFile
    from sbl.protocol import Responder


def compile_ir(text: str, path: str) -> ir.Experiment:
    """Parse ``text`` and run every pass; raises SblError on any problem."""
    experiment = parse(text, path)
    for run in PASSES:
        experiment = run(experiment)
    return experiment


@dataclass(frozen=True)
class Experiment:
    """A checked experiment, ready to compile to a page or to run as text."""

    ir: ir.Experiment
    path: Path

    @property
    def title(self) -> str:
        """The experiment's title."""
        return self.ir.title

    @property
    def name(self) -> str:
        """A short name for files: the stem of the .sbl file."""
        return self.path.stem

    @property
    def warnings(self) -> list[Diagnostic]:
        """What a valid experiment may still get wrong, in file order: what a model would miss
        (``sbl.passes.lint``), participant data shown in html (``sbl.markup``), response
        times shown to text participants, who have none, and parameters a condition column
        fills (``sbl.passes.rows``)."""
        from sbl.markup import warnings
        from sbl.passes.lint import lint
        from sbl.passes.rows import filled_warnings, text_rt_warnings

        return sorted([*lint(self.ir), *warnings(self.ir), *text_rt_warnings(self.ir),
                       *filled_warnings(self.ir)], key=Diagnostic.sort_key)

    def to_json(self) -> str:
        """The versioned JSON form of the checked IR."""
        return ir.to_json(self.ir)

    def compile(self, output: str | Path | None = None, *, cdn: bool = False,
                allow_simulate: bool = False, media: str = "auto") -> str:
        """The self-contained jsPsych 8 page; also written to ``output`` when given.
        ``allow_simulate`` lets a page that collects data play itself (for piloting);
        ``media`` is where its media files go (``sbl compile --media``: auto, inline, or
        beside, next to ``output``)."""
        from sbl.backends import web, write_output

        out = None if output is None else Path(output)
        pieces = web.pieces(self.ir, cdn=cdn, allow_simulate=allow_simulate,
                            media_mode=media, output=out)
        if out is not None:
            write_output(out, *pieces)
        return "".join(pieces)

    def media_files(self) -> list[MediaFile]:
        """The media files the experiment can show, each found and readable (``sbl check``
        checks them; a text run never needs them); an SblError names each that is not, at
        the place that names it."""
        from sbl.media import files

        return files(self.ir)

    def run(self, participant: Responder | str, prefix: Rows | None = None, seed: int = 0,
            output: str | Path | None = None, *, participants: int = 1,
            batch: int = 1) -> Rows:
        """Run as text with ``participant`` answering (a responder, or a spec as ``sbl run
        -p`` takes), continuing ``prefix`` (recorded rows, replayed first) when given; rows
        go to ``output`` as they are produced."""
        from sbl.backends.text import run_experiment
        from sbl.participants import Options, make

        responder = make(participant, Options(seed=seed, batch=batch)) \
            if isinstance(participant, str) else participant
        return run_experiment(self.ir, responder, prefix=prefix, seed=seed, output=output,
                              participants=participants, batch=batch)

    def simulate(self, model: str | Responder, *, participants: int = 1, batch: int = 8,
                 seed: int = 0, temperature: float = 1.0, prefix: Rows | None = None,
                 output: str | Path | None = None, resume: bool = False,
                 timeout: float = 60.0, threads: int | None = None) -> Rows:
        """Run model participants (a spec as ``sbl simulate --model`` takes, or a responder),
        continuing ``prefix`` when given; ``timeout`` bounds each request to a server
        (``openai:URL#MODEL``), ``threads`` is torch's CPU threads for a local model (default:
        see :mod:`sbl.participants.threads`). See :mod:`sbl.simulate`."""
        from sbl.participants import Options, make
        from sbl.simulate import check_resume, simulate

        name = model if isinstance(model, str) else model.name
        if output is not None:  # before a model is loaded
            check_resume(self.ir, output, resume, name, temperature if isinstance(model, str)
                         else getattr(model, "temperature", None), participants=participants,
                         batch=batch, seed=seed, prefix=prefix)
        options = Options(seed=seed, temperature=temperature, batch=batch, timeout=timeout,
                          threads=threads)
        responder = make(model, options) if isinstance(model, str) else model
        return simulate(self.ir, responder, participants=participants, batch=batch, seed=seed,
                        prefix=prefix, output=output, resume=resume, model=name)

    def transcript(self, participant: Responder | None = None, *, prefix: Rows | None = None,
                   seed: int = 0) -> str:
        """The text a participant reads; without one, with the answers left open (<<?>>)."""
        from sbl.backends.text import transcript

        return transcript(self.ir, participant, prefix=prefix, seed=seed)


def load(path: str | Path) -> Experiment:
    """Read, parse and check a .sbl file."""
    return loads(read_source(path), path)


def loads(text: str, path: str | Path = "<input>") -> Experiment:
    """Parse and check .sbl text; ``path`` names it in errors and anchors CSV files."""
    return Experiment(compile_ir(text, str(path)), Path(path))
