"""The ``sbl`` command line. It holds no logic of its own: each command calls the Python API.

Exit status: 0 when all is well, 1 for an error in the user's input (printed as
``file:line:col: error: ...`` on stderr), 2 for a usage error. ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import Any

import click

from sbl import backends
from sbl.backends import MEDIA_INLINE_LIMIT, MEDIA_MODES
from sbl.commands import DEBUG, check_output, given_options, reports_errors
from sbl.source import SblError, render, render_all


class LazyGroup(click.Group):
    """A group whose commands from :mod:`sbl.commands` are imported only when used: command
    ``NAME`` is the function ``NAME`` of module ``sbl.commands.NAME``, so ``sbl compile``
    never pays for importing ``sbl run`` or ``sbl simulate``."""

    def __init__(self, *args: Any, lazy: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted, without importing any."""
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command called ``cmd_name``, importing its module on first use."""
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return self.commands.get(cmd_name)
        command = getattr(importlib.import_module(f"sbl.commands.{cmd_name}"), cmd_name)
        assert isinstance(command, click.Command)
        return command


# The commands that live in sbl/commands/, one module each (tests/test_cli_lazy.py checks
# that this matches the directory).
COMMANDS = ("cache", "compare", "data", "export", "pilot", "run", "score", "simulate")


@click.group(cls=LazyGroup, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.version_option(package_name="sbl")
def main(debug: bool) -> None:
    """sbl: one .sbl file runs as a jsPsych 8 page for people and as a Psych-101 transcript
    for language models, and both write the same data.

    \b
    Typical session (the bandit of examples/):
      sbl check examples/bandit.sbl
      sbl compile examples/bandit.sbl -o bandit.html
      sbl compile examples/bandit.sbl --emit transcript
    """
    DEBUG.on = debug
    _notices_to_stderr()


class _Stderr(logging.Handler):
    """Writes a log record's message to the current stderr (click's, under a test runner)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def _notices_to_stderr() -> None:
    """Show sbl's notices (a model converted once into the cache, a cache entry rebuilt) and
    warnings on stderr; the Python API leaves them to the caller's logging setup."""
    logger = logging.getLogger("sbl")
    if not any(isinstance(h, _Stderr) for h in logger.handlers):
        logger.addHandler(_Stderr())
        logger.setLevel(logging.INFO)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@reports_errors
def check(files: tuple[str, ...]) -> None:
    """Report every problem in FILES; change nothing. Exits 1 if any file has an error,
    including a media file that cannot be found or read (paths are relative to the .sbl
    file). Warnings do not fail: what a model would miss (no instructions, a stimulus with no
    text for a model), participant data shown in an html parameter (it is escaped; a number
    shows as written), and markup() inside a computed value (it marks nothing)."""
    from sbl.experiment import load

    failed = warned = 0
    for file in files:
        try:
            experiment = load(file)
            experiment.media_files()
            found = experiment.warnings
        except SblError as exc:
            failed += 1
            click.echo(render_all(exc), err=True)
            continue
        warned += len(found)
        for warning in found:
            click.echo(render(warning) + "\n", err=True)
    if failed:
        sys.exit(1)
    problems = f"{warned} warning{'s' if warned != 1 else ''}" if warned else "no problems"
    click.echo(f"{len(files)} file{'s' if len(files) != 1 else ''} checked: {problems}",
               err=True)


# The options of `sbl compile` a backend may act on (sbl.backends.Backend.options).
_PAGE_OPTIONS = ("cdn", "allow_simulate", "media_mode")


@main.command(name="compile")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Where to write; '-' or nothing writes to stdout.")
@click.option("--emit", type=click.Choice(sorted(backends.REGISTRY)), default="html",
              show_default=True,
              help="What to produce: " + "; ".join(f"{b.name}: {b.help}" for b in
                                                  backends.REGISTRY.values()) + ".")
@click.option("--cdn", is_flag=True,
              help="html: load the pinned jsPsych from a CDN instead of inlining it.")
@click.option("--allow-simulate", is_flag=True,
              help="html: let a page that sends its data (post_url, jatos, redirect) play "
                   "itself with ?simulate=data-only|visual, for piloting; its rows say "
                   "source browser-simulated. Never for the page participants get.")
@click.option("--media", "media_mode", type=click.Choice(MEDIA_MODES), default="auto",
              show_default=True,
              help="html: where the media files (images, sounds, videos) go. inline: inside "
                   "the page as data: URIs, one file that runs from disk with no network; "
                   "beside: copied into a folder PAGE_media/ next to the page (-o), which "
                   "must travel with it; auto: inline up to "
                   f"{MEDIA_INLINE_LIMIT // 2**20} MB of media in all, beside above that "
                   "(a large page is slow to open and held in memory whole); a page "
                   "written to stdout always inlines them.")
@reports_errors
def compile_(file: str, output: str | None, emit: str, cdn: bool, allow_simulate: bool,
             media_mode: str) -> None:
    """Compile FILE to a browser page, the JSON IR, or the text a model reads."""
    from sbl.experiment import load

    check_output(output)
    backend = backends.get(emit)
    ignored = given_options(tuple(o for o in _PAGE_OPTIONS if o not in backend.options))
    if ignored:
        raise click.UsageError(f"--emit {emit} ignores {' and '.join(ignored)}: "
                               f"{'they apply' if len(ignored) > 1 else 'it applies'} to "
                               f"html pages only")
    if media_mode == "beside" and emit == "html" and output in (None, "-"):
        raise click.UsageError("--media beside writes the media files next to the page, so "
                               "it needs an output file: give one with -o page.html")
    experiment = load(file).ir
    options = {"cdn": cdn, "allow_simulate": allow_simulate, "media_mode": media_mode}
    if output in (None, "-"):
        click.echo(backend.emit(experiment, **options), nl=False)  # type: ignore[arg-type]
    else:
        size = backend.write(experiment, output, **options)  # type: ignore[arg-type]
        click.echo(f"wrote {output} ({size // 1024} KB)", err=True)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing; exit 1 if a file is not formatted.")
@reports_errors
def fmt(files: tuple[str, ...], check_only: bool) -> None:
    """Rewrite FILES in the canonical layout, keeping comments."""
    from sbl.fmt import format_source
    from sbl.source import read_source

    unformatted = []
    for file in files:
        text = read_source(file)
        formatted = format_source(text, file)
        if formatted == text:
            continue
        unformatted.append(file)
        if not check_only:
            Path(file).write_text(formatted, encoding="utf-8")
    verb = "would reformat" if check_only else "reformatted"
    for file in unformatted:
        click.echo(f"{verb} {file}", err=True)
    if check_only and unformatted:
        sys.exit(1)
