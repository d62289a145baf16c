"""The command line: help everywhere, exit codes 0/1/2, diagnostics on stderr, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from sbl import ir
from sbl.cli import main

from conftest import ROOT

BANDIT = str(ROOT / "examples" / "bandit.sbl")


def run(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_check_ok() -> None:
    result = run("check", BANDIT)
    assert result.exit_code == 0 and "no problems" in result.stderr


def test_compile_emits_versioned_ir() -> None:
    result = run("compile", BANDIT, "--emit", "ir")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["sbl-ir"] == ir.IR_VERSION == 4


def test_usage_error_exits_2() -> None:
    assert run("compile", BANDIT, "--emit", "pdf").exit_code == 2
    assert run("nonsense").exit_code == 2
    assert run("check").exit_code == 2


def test_missing_file_is_exit_1_without_traceback(tmp_path: Path) -> None:
    result = run("check", str(tmp_path / "nope.sbl"))
    assert result.exit_code == 1
    assert "cannot read file" in result.stderr and "Traceback" not in result.stderr


def test_fmt_check_and_rewrite(tmp_path: Path) -> None:
    messy = tmp_path / "m.sbl"
    messy.write_text('experiment "x"\nshared  s=0\n')
    assert run("fmt", "--check", str(messy)).exit_code == 1
    assert messy.read_text() == 'experiment "x"\nshared  s=0\n'
    assert run("fmt", str(messy)).exit_code == 0
    assert messy.read_text() == 'experiment "x"\n\nshared s = 0\n'
    assert run("fmt", "--check", str(messy)).exit_code == 0


def test_debug_shows_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sbl"
    bad.write_text('experiment "x"\nlet a = lenn(1)\n')
    plain = run("check", str(bad))
    assert "Traceback" not in plain.stderr
    debug = subprocess.run([sys.executable, "-m", "sbl", "--debug", "compile", str(bad)],
                           capture_output=True, text=True)
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_counts_are_singular_for_one(tmp_path: Path) -> None:
    """One participant, trial and response are counted as such, not "1 responses"."""
    one = tmp_path / "one.sbl"
    one.write_text('experiment "One"\nblock main {\n  text { text: "Go" choices: ["f", "j"] }\n}\n',
                   encoding="utf-8")
    result = run("run", str(one), "-p", "scripted:f")
    assert result.exit_code == 0, result.stderr
    assert "1 participant, 1 trial, 1 response (use -o" in result.stderr
    result = run("run", str(one), "-p", "random", "-n", "2")
    assert "2 participants, 2 trials, 2 responses" in result.stderr
