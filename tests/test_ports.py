"""Published tasks ported to sbl (tests/ports/, each file's header names its source, from
jsPsych's examples, SweetBean's demos, PsyToolkit's library and PsychoPy's demos): each checks
without errors, keeps its format, compiles to a page, runs as text with a random participant,
and its rows replay to themselves. A regression corpus of real experiments' shapes:
staircases, stop-signal, risk, rule switches, gambling, n-back, go/no-go, titration, cueing,
RSVP, visual search, IAT, serial reaction time, reconstruction and free recall."""

from __future__ import annotations

from pathlib import Path

import pytest

import sbl
from sbl.backends.text import run_experiment
from sbl.fmt import format_source
from sbl.participants.scripted import Scripted

PORTS = sorted((Path(__file__).parent / "ports").glob("*.sbl"))


def test_there_are_ports():
    assert len(PORTS) >= 10


@pytest.mark.parametrize("path", PORTS, ids=lambda p: p.stem)
def test_a_port_checks_compiles_runs_and_replays(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert format_source(text, str(path)) == text
    exp = sbl.load(path)
    page = exp.compile()
    assert "<html" in page.lower() and exp.title in page
    for seed in (1, 2):
        rows = exp.run("random", seed=seed)
        assert len(rows) > 0 and {r["participant"] for r in rows} == {"1"}
        replayed = run_experiment(exp.ir, Scripted([]), prefix=rows, seed=seed)
        assert list(replayed) == list(rows)
