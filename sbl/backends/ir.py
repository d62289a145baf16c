"""The ``ir`` backend: the checked IR as versioned JSON (``"sbl-ir": 2``; see ``sbl.ir``)."""

from __future__ import annotations

from sbl import ir


def emit(experiment: ir.Experiment, *, cdn: bool = False,
         allow_simulate: bool = False, media_mode: str = "auto") -> str:
    """The experiment's IR as JSON text."""
    return ir.to_json(experiment) + "\n"
