"""The ``ir`` backend: the checked IR as versioned JSON (``"sbl-ir": 1``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sbl import ir

if TYPE_CHECKING:
    from sbl.experiment import Experiment


def emit(experiment: Experiment, *, cdn: bool = False, allow_simulate: bool = False) -> str:
    """The experiment's IR as JSON text."""
    return ir.to_json(experiment.ir) + "\n"
