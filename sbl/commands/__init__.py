"""Commands of the ``sbl`` command line that live outside ``sbl/cli.py``; each module exports
one click command, which ``sbl.cli`` registers with ``main.add_command``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """``sbl.cli.reports_errors``, looked up when the command runs, so that ``sbl.cli`` can
    import these modules (to register them) without an import cycle."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sbl.cli import reports_errors as report

        return report(func)(*args, **kwargs)
    return wrapper  # type: ignore[return-value]
