"""sbl: one language for behavioural experiments, run by people in a browser and by language
models as text, writing one data schema.

    import sbl
    exp = sbl.load("examples/bandit.sbl")
"""

from __future__ import annotations

from sbl.experiment import Experiment, load, loads
from sbl.source import SblError

__all__ = ["Experiment", "SblError", "load", "loads"]
__version__ = "0.1.0"
