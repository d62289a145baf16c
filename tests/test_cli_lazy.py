"""The command line starts fast: commands in sbl/commands/ are imported only when they run,
and ``sbl compile`` imports nothing it does not need."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import sbl.commands
from sbl.cli import COMMANDS, main

from conftest import ROOT

BANDIT = str(ROOT / "examples" / "bandit.sbl")
# Run `sbl ARGS...` in a fresh interpreter and print the sbl and library modules it imported.
IMPORTED = """
import json, sys
from sbl.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.__stdout__)
"""


def imported_by(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", IMPORTED, *args], capture_output=True,
                          text=True, cwd=ROOT, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_the_lazy_table_names_every_module_in_sbl_commands() -> None:
    modules = {m.name for m in pkgutil.iter_modules(sbl.commands.__path__)}
    assert set(COMMANDS) == modules


@pytest.mark.parametrize("name", COMMANDS)
def test_each_lazy_command_is_its_modules_command_and_has_help(name: str) -> None:
    command = main.get_command(click.Context(main), name)
    assert isinstance(command, click.Command) and command.name == name
    assert len(command.help or "") > 20
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0 and f"Usage: main {name}" in result.output


def test_help_lists_lazy_and_eager_commands_with_their_short_help() -> None:
    ctx = click.Context(main)
    output = CliRunner().invoke(main, ["--help"]).output
    names = main.list_commands(ctx)
    assert {"check", "compile", "fmt", *COMMANDS} == set(names)
    for name in names:
        command = main.get_command(ctx, name)
        assert command is not None
        assert f"{name} " in output and command.get_short_help_str(limit=30)[:20] in output


def test_an_unknown_command_is_still_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["__init__"])
    assert result.exit_code == 2 and "No such command" in result.output


def test_compile_imports_no_other_command_nor_template_engine(tmp_path: Path) -> None:
    modules = imported_by("compile", BANDIT, "-o", str(tmp_path / "b.html"))
    assert (tmp_path / "b.html").exists()
    assert "sbl.backends.web" in modules  # the probe does see what compile imports
    assert not {m for m in modules if m.startswith("sbl.commands.")}
    assert not {"jinja2", "rich", "pandas", "torch"} & modules


def test_a_lazy_command_is_imported_when_it_runs() -> None:
    modules = imported_by("data", "--help")
    assert "sbl.commands.data" in modules and "sbl.commands.run" not in modules
