"""sbl: one language for behavioural experiments, run by people in a browser and by language
models as text, writing one data schema.

    import sbl
    exp = sbl.load("examples/bandit.sbl")
    exp.compile("bandit.html")
    human = sbl.read_data("bandit.json")
    rows = exp.run(sbl.participants.Terminal(), prefix=human.until_response(3))

Names are imported on first use, so ``import sbl`` (and ``sbl check``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Experiment": "sbl.experiment", "load": "sbl.experiment", "loads": "sbl.experiment",
    "SblError": "sbl.source", "Rows": "sbl.data", "read_data": "sbl.data",
    "score": "sbl.scoring", "compare": "sbl.comparison", "Comparison": "sbl.comparison",
    "export_psych_ds": "sbl.export", "validate_psych_ds": "sbl.export",
    "export_psych101": "sbl.export", "read_psych101": "sbl.export",
}
__all__ = [*sorted(_LAZY), "participants"]


def __getattr__(name: str) -> Any:
    if name == "participants":
        return importlib.import_module("sbl.participants")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sbl' has no attribute {name!r}")
