"""Commands of the ``sbl`` command line that live outside ``sbl/cli.py``: module ``NAME`` exports
the click command ``NAME``, which ``sbl.cli`` imports only when that command runs (its name is
listed in ``sbl.cli.COMMANDS``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
# What a file of rows may be called (sbl.data.write.FORMATS, without importing it).
ROW_SUFFIXES = (".csv", ".json", ".jsonl")


def reports_errors(func: F) -> F:
    """``sbl.cli.reports_errors``, looked up when the command runs, so that these modules
    never import ``sbl.cli`` at import time (no import cycle)."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sbl.cli import reports_errors as report

        return report(func)(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def check_output(path: str | None, suffixes: tuple[str, ...] = ()) -> None:
    """Refuse an output file that cannot be written, before any slow work: its folder must
    exist, it must not be a folder, and its name must end in one of ``suffixes`` (when given).
    ``None`` and ``-`` (stdout) pass."""
    from pathlib import Path

    from sbl.source import SblError

    if path in (None, "-"):
        return
    assert path is not None
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise SblError.at(None, f"cannot write '{path}': the folder '{folder}' {what}",
                          help=f"create it first (mkdir -p {folder})")
    if target.is_dir():
        raise SblError.at(None, f"cannot write '{path}': it is a folder; give a file name")
    if suffixes and target.suffix.lower() not in suffixes:
        raise SblError.at(None, f"cannot write '{path}': the name must end in "
                                f"{', '.join(suffixes)}")


def check_folder(path: str | None) -> None:
    """Refuse an output folder that is a file (a missing one, and its parents, are made)."""
    from pathlib import Path

    from sbl.source import SblError

    if path is not None and Path(path).exists() and not Path(path).is_dir():
        raise SblError.at(None, f"cannot write into '{path}': it is a file, not a folder")
