"""The README's tutorial, run as written: every `sbl` command of its table, in order, with the
browser step played in Chromium by `sbl pilot` and the model steps on the tiny test model.
Documentation that drifts from the code fails here."""

from __future__ import annotations

import re
import shlex
import string
import subprocess
import sys
from pathlib import Path

from browser import needs_chromium
from conftest import ROOT

TABLE = re.compile(r"^\| (?P<step>[^|]+) \| (?P<command>.+?) \| (?P<python>.+) \|$")


def tutorial_commands() -> list[str]:
    """The `sbl ...` commands of the README's tutorial table, optional parts expanded."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## The tutorial, step by step", 1)[1].split("\n## ", 1)[0]
    commands: list[str] = []
    for line in section.splitlines():
        match = TABLE.match(line)
        if not match or match["step"] in ("step", "---"):
            continue
        for command in re.findall(r"`(sbl [^`]+)`", match["command"]):
            optional = re.search(r"\[([^\]]+)\]", command)
            commands.append(re.sub(r"\s*\[[^\]]+\]", "", command))
            if optional:
                commands.append(commands[-1] + " " + optional.group(1))
    return commands


def test_the_tutorial_has_its_steps() -> None:
    commands = tutorial_commands()
    for verb in ("check", "compile", "data", "run", "simulate", "score", "compare"):
        assert any(c.split()[1] == verb for c in commands), verb


@needs_chromium
def test_every_tutorial_command_runs(tiny_model_dir: Path, tmp_path: Path) -> None:
    sbl = [sys.executable, "-m", "sbl"]
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "bandit.sbl").write_text(
        (ROOT / "examples" / "bandit.sbl").read_text())
    # "open it, play": people play the compiled page; here jsPsych's simulation plays it
    played = subprocess.run(sbl + ["pilot", "examples/bandit.sbl", "-n", "2", "-o",
                                   "bandit.json"], cwd=tmp_path, capture_output=True, text=True)
    assert played.returncode == 0, played.stderr
    for command in tutorial_commands():
        args = shlex.split(command)[1:]
        args = [str(tiny_model_dir) if a == "smollm2" else a for a in args]
        # "continue by hand": the person types letters; invalid ones are asked again
        typed = "\n".join(string.ascii_uppercase * 11) + "\n" if args[0] == "run" else None
        done = subprocess.run(sbl + args, cwd=tmp_path, capture_output=True, text=True,
                              input=typed, timeout=600)
        assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"
    assert (tmp_path / "bandit.html").stat().st_size > 100_000
    assert (tmp_path / "sim.csv").exists() and (tmp_path / "report" / "index.html").exists()
