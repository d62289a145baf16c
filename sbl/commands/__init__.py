"""Commands of the ``sbl`` command line that live outside ``sbl/cli.py``: module ``NAME`` exports
the click command ``NAME``, which ``sbl.cli`` imports only when that command runs (its name is
listed in ``sbl.cli.COMMANDS``). What every command shares lives here, below ``sbl.cli``:
how errors are reported, and the option type of a participant spec."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import click

from sbl.source import SblError, render_all

F = TypeVar("F", bound=Callable[..., Any])
# What a file of rows may be called (sbl.data.write.FORMATS, without importing it).
ROW_SUFFIXES = (".csv", ".json", ".jsonl")


class _Debug:
    """Whether ``sbl --debug`` asked for tracebacks."""

    on = False


DEBUG = _Debug()


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def reports_errors(func: F) -> F:
    """Print an SblError as diagnostics and exit 1; anything else as a one-line internal error."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SblError as exc:
            if DEBUG.on:
                traceback.print_exc()
            _fail(render_all(exc))
        except (click.exceptions.Exit, click.ClickException, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # `sbl data x.json | head`: the reader left; nothing to say
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so the exit flush is quiet
            sys.exit(0)
        except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
            if DEBUG.on:
                raise
            _fail(f"sbl: internal error: {type(exc).__name__}: {exc}\n"
                  "(run again with --debug for a traceback, and please report it)")
    return wrapper  # type: ignore[return-value]


def check_output(path: str | None, suffixes: tuple[str, ...] = ()) -> None:
    """Refuse an output file that cannot be written, before any slow work: its folder must
    exist, it must not be a folder, and its name must end in one of ``suffixes`` (when given).
    ``None`` and ``-`` (stdout) pass."""
    from pathlib import Path


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


def given_options(names: tuple[str, ...]) -> list[str]:
    """The options of the running command named in ``names`` (parameter names, as the
    function receives them) that were given on the command line, as written (``--cdn``): a
    command refuses those that the mode it was called in would ignore (a usage error)."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    return [max(param.opts, key=len) for param in ctx.command.params
            if param.name in names and ctx.get_parameter_source(param.name)
            not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)]


def refuse_ignored(spec: str, options: tuple[str, ...], what: str) -> None:
    """A usage error when an option in ``options`` (each named as its :class:`Options`
    field) was given but the participant ``spec`` names (``what``: how the command calls
    it) ignores it: ``--timeout`` is for servers, ``--device`` and ``--threads`` for local
    models, ``--temperature`` for models."""
    from sbl.participants.registry import resolve

    kind, _ = resolve(spec)
    ignored = given_options(tuple(o for o in options if kind.ignores(o)))
    if ignored:
        raise click.UsageError(f"{what} '{spec}' ({kind.name}) ignores "
                               f"{' and '.join(ignored)}; drop "
                               f"{'them' if len(ignored) > 1 else 'it'}")


def check_folder(path: str | None) -> None:
    """Refuse an output folder that is a file (a missing one, and its parents, are made)."""
    from pathlib import Path


    if path is not None and Path(path).exists() and not Path(path).is_dir():
        raise SblError.at(None, f"cannot write into '{path}': it is a file, not a folder")


class ParticipantSpec(click.ParamType):
    """A participant spec (``random``, ``scripted:C,A``, ``smollm2``...), checked against the
    registry when the command line is read, so a bad one is a usage error (exit 2) with a
    suggestion, before any experiment or model is loaded. ``scores``: the type must score."""

    name = "participant"

    def __init__(self, *, scores: bool = False) -> None:
        self.scores = scores

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        """The spec unchanged, once the registry knows it."""
        from sbl.participants.registry import resolve

        try:
            resolve(str(value), scores=self.scores)
        except SblError as exc:
            diagnostic = exc.diagnostics[0]
            hint = f" ({diagnostic.help})" if diagnostic.help else ""
            self.fail(f"{diagnostic.message}{hint}", param, ctx)
        return str(value)


def participant_help(lead: str) -> str:
    """``lead`` and the registered participant types, for ``--help``."""
    from sbl.participants.registry import help_text

    return help_text(lead)


def threads_option(func: F) -> F:
    """The ``--threads N`` option of the commands that run a local model."""
    return click.option(
        "--threads", type=click.IntRange(min=1), metavar="N",
        help="CPU threads for a local model (default: every core this process may use, with "
             "OpenMP threads sleeping rather than spinning while they wait, so that a machine "
             "shared with other busy processes does not slow to a crawl; OMP_NUM_THREADS if "
             "set).")(func)


def timeout_option(func: F) -> F:
    """The ``--timeout SECONDS`` option of the commands that can ask a server."""
    return click.option(
        "--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
        metavar="SECONDS",
        help="With --model openai:...: how long one request may take before it is tried "
             "again (4 more tries, each retry said on stderr).")(func)
