"""The terminal participant: a person types answers; driven through a real pseudo-terminal."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sbl
from sbl.backends.text import run_experiment
from sbl.backends.text.answers import label_order
from sbl.data import read_data
from sbl.participants.base import Ask
from sbl.participants.terminal import Terminal
from sbl.source import SblError

ROOT = Path(__file__).resolve().parent.parent
BANDIT = ROOT / "examples" / "bandit.sbl"


def test_prints_only_new_text_and_asks_again():
    out = io.StringIO()
    person = Terminal(io.StringIO("x\n  c \n<<A>>\n"), out)
    first = Ask("1", "Intro.\n\nPick C or A. You press <<", ("C", "A"))
    assert person.answer([first])[0].response == "C"
    assert out.getvalue() == ("Intro.\n\nPick C or A. You press <<"
                              "Please answer C or A.\nPick C or A. You press <<")
    out.truncate(0)
    out.seek(0)
    second = Ask("1", first.transcript + "C>> and get 3.\nAgain. You press <<", ("C", "A"))
    assert person.answer([second])[0].response == "A"
    assert out.getvalue() == "C>> and get 3.\nAgain. You press <<"
    with pytest.raises(SblError, match="input ended"):
        person.answer([Ask("1", second.transcript + "A>>.\nOnce more <<", ("C", "A"))])


def test_a_person_runs_the_bandit_in_process():
    a, b = label_order(0)[:2]
    answers = "\n".join([a.lower(), b] * 5 + [a]) + "\n"
    out = io.StringIO()
    rows = run_experiment(sbl.load(BANDIT).ir, Terminal(io.StringIO(answers), out))
    assert out.getvalue() == rows.transcripts["1"] + "\n"
    assert [r["source"] for r in rows][-1] == "terminal" and rows.n_responses == 11


class Pty:
    """A child process on a pseudo-terminal, read and written like a person would."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 30.0) -> str:
        """Read until the output so far contains ``text``; return what came before it."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.master], [], [], left)[0]:
                raise AssertionError(f"timed out waiting for {text!r}; got {self.seen[-300:]!r}")
            try:
                self.seen += os.read(self.master, 4096).decode("utf-8", "replace")
            except OSError:  # the child closed the terminal
                raise AssertionError(f"{text!r} never came; got {self.seen[-300:]!r}") from None
        before, _, self.seen = self.seen.partition(text)
        return before

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())


def test_sbl_run_at_a_terminal(tmp_path):
    out = tmp_path / "rows.csv"
    child = Pty([sys.executable, "-c", "from sbl.commands.run import run; run()",
                 str(BANDIT), "-o", str(out)], ROOT)
    a, b = label_order(0)[:2]
    try:
        intro = child.expect(" <<")
        assert intro.startswith("In this task you choose") and f"Machine {a} is orange" in intro
        child.type("z")  # not a valid answer: asked again
        assert child.expect(f"Please answer {a} or {b}.").strip() == "z"  # the echo
        child.expect(" <<")
        child.type(a.lower())  # case does not matter
        for i in range(10):
            shown = child.expect(" <<")
            if i == 0:
                assert f"{a}>> and get 10 points." in shown and "Score: 10" in shown
            child.type(b)
        tail = child.expect("rows written to")
        assert f"{b}>> and get 10 points." in tail and 'Score: 65' in tail
        assert child.proc.wait(timeout=30) == 0
    finally:
        child.proc.kill()
        os.close(child.master)
    rows = read_data(out)
    assert rows.n_responses == 11 and rows[-1]["score"] == 65
    assert [r["response"] for r in rows if r["kind"] == "bandit"] == [0] + [1] * 10
