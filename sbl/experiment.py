"""The Python API's entry point: a checked experiment and what can be done with it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sbl import ir
from sbl.parse import parse
from sbl.passes import PASSES
from sbl.source import read_source


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

    def to_json(self) -> str:
        """The versioned JSON form of the checked IR."""
        return ir.to_json(self.ir)


def load(path: str | Path) -> Experiment:
    """Read, parse and check a .sbl file."""
    return loads(read_source(path), path)


def loads(text: str, path: str | Path = "<input>") -> Experiment:
    """Parse and check .sbl text; ``path`` names it in errors and anchors CSV files."""
    return Experiment(compile_ir(text, str(path)), Path(path))
