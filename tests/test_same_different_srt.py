"""The same_different (jsPsych same-different-html 2.1.0) and serial_reaction_time
(serial-reaction-time 2.1.0) kinds: what a text participant reads, the checks on their keys
and targets, and how the page records them (from the pinned plugin sources,
node_modules/@jspsych/plugin-same-different-html/dist/index.js: the key is taken only once
the second stimulus shows, there is no time limit; plugin-serial-reaction-time/dist/index.js:
a timeout records the key false with rt null, the target as [row, column])."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import sbl
from sbl.backends.text.render import ordinal
from sbl.participants.scripted import Scripted
from sbl.source import SblError
from tests import parity
from tests.browser import file_url, launch, needs_chromium, session

PAIRS = """
experiment "Pairs" { instructions: "Press S if the two words mean the same, D if not." }
table pairs = [{a: "big", b: "large", same: "same"}, {a: "big", b: "small", same: "different"}]
block b over pairs {
  same_different { first: "<b>{a}</b>" second: "{b}" answer: same keys: ["S", "d"] }
}
"""

GRID = """
experiment "Grid" { instructions: "Press the key of the highlighted square." }
block b over [{at: 0}, {at: 4}] {
  serial_reaction_time { choices: ["q", "w", "e", "a", "s"] columns: 3 target: at
                         duration: 800 }
}
"""


def test_a_pair_is_one_line_and_correct_follows_the_answer() -> None:
    exp = sbl.loads(PAIRS, "pairs.sbl")
    rows = exp.run(Scripted(["s", "S"]), seed=1)
    assert [(r["response"], r["correct"]) for r in rows[1:]] == [("S", True), ("S", False)]
    text = exp.transcript(prefix=rows, seed=1)
    assert "You can press S for same or D for different.\n" \
           'You see "big", then "large". You press <<S>>.\n' \
           'You see "big", then "small". You press <<S>>.' in text


def test_the_keys_of_a_pair_are_two() -> None:
    computed = PAIRS.replace('keys: ["S", "d"]', 'keys: shuffle(["s", "d", "x"])')
    with pytest.raises(SblError, match="'keys' must hold 2 items; it holds 3"):
        sbl.loads(computed, "pairs.sbl").run("random", seed=1)


def test_the_grid_reads_the_position_in_words() -> None:
    exp = sbl.loads(GRID, "grid.sbl")
    rows = exp.run(Scripted(["q", "e"]), seed=1)
    assert [(r["response"], r["correct"], r["target"]) for r in rows[1:]] == \
        [("q", True, 0), ("e", False, 4)]
    text = exp.transcript(prefix=rows, seed=1)
    assert "The squares' keys are Q, W, E, A and S, in order.\n" \
           "You see a grid of two rows of three squares; the square in row 1, column 1 is " \
           "highlighted. You press <<Q>>.\n" \
           "You see a grid of two rows of three squares; the square in row 2, column 2 is " \
           "highlighted. You press <<E>>." in text
    one_row = sbl.loads(GRID.replace("columns: 3 ", ""), "row.sbl")
    assert "You see a row of five squares; the fifth is highlighted." in \
        one_row.transcript(prefix=one_row.run(Scripted(["q", "s"]), seed=1), seed=1)


def test_a_target_outside_the_grid_is_a_check_error() -> None:
    with pytest.raises(SblError, match="is 5, but 'choices' has 5 items, numbered from 0"):
        sbl.loads(GRID.replace("{at: 4}", "{at: 5}"), "grid.sbl")


def test_ordinals() -> None:
    assert [ordinal(n) for n in (1, 3, 12, 13, 21, 22, 111)] == \
        ["first", "third", "twelfth", "13th", "21st", "22nd", "111th"]


# ---------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def browser() -> Any:
    with launch() as b:
        yield b


@needs_chromium
def test_a_grid_that_times_out_records_no_key_and_replays_as_text(
        browser: Any, tmp_path: Path) -> None:
    """jsPsych records a timeout as the key false with rt null; the row has no response,
    correct false, and the text runtime replays it cell for cell."""
    exp = sbl.loads(GRID, "grid.sbl")
    text = exp.run(Scripted(["q", "s"]), seed=1)
    page = parity.write_page(exp, tmp_path / "page")
    played = parity.play(browser, page, tmp_path / "play", 1,
                         [text[0], dict(text[1], response=None), text[2]])
    assert (played[1]["response"], played[1]["correct"], played[1]["rt"]) == (None, False, None)
    assert (played[2]["response"], played[2]["correct"]) == ("s", True)
    replayed = exp.run(Scripted([]), prefix=played, seed=1)
    assert not parity.compare_rows(played, replayed).diffs
    assert "You press nothing." in exp.transcript(prefix=played, seed=1)


@needs_chromium
def test_the_page_stops_with_the_text_runtimes_message_for_three_keys(
        browser: Any, tmp_path: Path) -> None:
    computed = PAIRS.replace('keys: ["S", "d"]', 'keys: shuffle(["s", "d", "x"])')
    page = parity.write_page(sbl.loads(computed, "pairs.sbl"), tmp_path / "page")
    with session(browser, tmp_path, clock=False) as s:
        s.goto(file_url(page, participant="1", seed=1))
        s.page.click("#jspsych-instructions-next")
        assert s.wait_state() == "stopped"
        shown = s.page.inner_text(".sbl-error")
    assert "'keys' must hold 2 items; it holds 3" in shown
