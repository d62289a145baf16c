"""Commands of the ``sbl`` command line that live outside ``sbl/cli.py``: module ``NAME`` exports
the click command ``NAME``, which ``sbl.cli`` imports only when that command runs (its name is
listed in ``sbl.cli.COMMANDS``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """``sbl.cli.reports_errors``, looked up when the command runs, so that these modules
    never import ``sbl.cli`` at import time (no import cycle)."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sbl.cli import reports_errors as report

        return report(func)(*args, **kwargs)
    return wrapper  # type: ignore[return-value]
