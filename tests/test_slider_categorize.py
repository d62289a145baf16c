"""The slider (html-slider-response) and categorisation (categorize-html) kinds: what a text
participant reads and may answer, how the page records them (jsPsych's quirks included, from
the pinned plugin sources in node_modules/@jspsych/plugin-html-slider-response/src/index.ts
and plugin-categorize-html/src/index.ts, 2.1.0), how data are checked, and how
``sbl score`` scores a slider's number."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import sbl
from sbl import kinds
from sbl.participants.scripted import Scripted
from sbl.source import SblError
from tests import parity
from tests.browser import launch, needs_chromium

RATING = """
experiment "Rating"
table items = [{word: "cat", top: 10}, {word: "dog", top: 20}]
block b over items {
  slider { stimulus: "How much do you like the {word}?" high: top step: 5 start: 0 }
  categorize_html {
    stimulus: "<b>{word}</b>"
    choices: ["f", "j"]
    correct_key: if word == "cat" then "F" else "J"
    correct_text: "Yes, a {word}."
    duration: 2000
    feedback_duration: 300
  }
}
"""


def rating() -> sbl.Experiment:
    return sbl.loads(RATING, "rating.sbl")


# ---------------------------------------------------------------- text


def test_a_text_participant_reads_the_range_and_the_feedback() -> None:
    rows = rating().run(Scripted(["5", "f", "20.0", "F"]), seed=1)
    assert [r["response"] for r in rows] == [5, "f", 20, "f"]
    assert [r.get("correct") for r in rows] == [None, True, None, False]
    assert [r.get("feedback") for r in rows] == [None, "Yes, a cat.", None, "Wrong."]
    text = rating().transcript(prefix=rows, seed=1)
    assert 'You see "How much do you like the cat?" The slider goes from 0 to 10 in steps ' \
           'of 5. You choose <<5>>.' in text
    assert 'You see "cat". You press <<F>>. Yes, a cat.' in text
    assert 'You see "dog". You press <<F>>. Wrong.' in text


def test_a_number_off_the_slider_is_refused_naming_the_range() -> None:
    with pytest.raises(SblError, match=r"'7', but the valid answers here are 0, 5 or 10"):
        rating().run(Scripted(["7"]), seed=1)


def test_bounds_computed_at_run_time_are_checked_when_the_trial_runs() -> None:
    source = RATING.replace("high: top step: 5", "high: top - 3 step: 5")
    with pytest.raises(SblError, match=r"high - low \(7\) must be a whole number of steps "
                                       r"of 5") as caught:
        sbl.loads(source, "rating.sbl").run(Scripted(["5"]), seed=1)
    assert "trial 'b/slider'" in caught.value.diagnostics[0].help


def test_positions_rules() -> None:
    assert kinds.positions(1, 7, 1) == (1, 2, 3, 4, 5, 6, 7)
    assert kinds.positions(-10, 10, 10) == (-10, 0, 10)
    assert kinds.positions(0.0, 2.0, 1.0) == (0, 1, 2)  # whole floats (JSON) are whole
    for bad, message in [((0, 1, 0.5), "whole numbers"), ((3, 3, 1), "more than"),
                         ((0, 10, 4), "whole number of steps"), ((0, 1001, 1), "at most 1001"),
                         ((True, 5, 1), "whole numbers"), ((0, math.inf, 1), "whole numbers")]:
        with pytest.raises(ValueError, match=message):
            kinds.positions(*bad)


# ---------------------------------------------------------------- data


def test_data_with_a_response_off_the_slider_is_refused_at_its_row(tmp_path: Path) -> None:
    rows = rating().run(Scripted(["5", "f", "20", "j"]), seed=1)
    path = tmp_path / "rows.csv"
    rows.to_csv(path)
    again = sbl.read_data(path)  # a number read back from a CSV cell
    assert [r["response"] for r in again] == [5, "f", 20, "j"]
    text = path.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    cells = text[1].split(",")
    cells[header.index("response")] = "6"
    path.write_text("\n".join([text[0], ",".join(cells), *text[2:]]) + "\n", encoding="utf-8")
    with pytest.raises(SblError, match=r"rows.csv, row 1, column 'response': 6 is not a "
                                       r"position of this slider \(from its low 0 to its "
                                       r"high 10 in steps of 5\)"):
        sbl.read_data(path)


# ---------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def browser() -> Any:
    with launch() as b:
        yield b


@needs_chromium
def test_simulated_slider_answers_snap_to_the_step_and_timeouts_get_their_feedback(
        browser: Any, tmp_path: Path) -> None:
    """jsPsych's simulated slider draws a whole number from min to max ignoring step; the
    page records the position a real slider would stop at. A categorisation that times out
    records no key, correct false (as jsPsych does) and the timeout feedback; the text
    runtime replays both rows cell for cell."""
    page = parity.write_page(rating(), tmp_path / "page")
    options = [{"data": {"response": 7, "rt": 300}}, {"data": {"response": None, "rt": None}},
               {"data": {"response": 12, "rt": 300}}, {"data": {"response": "J", "rt": 300}}]
    rows = parity.simulate(browser, page, tmp_path / "sim", 1, options)
    assert [r["response"] for r in rows] == [5, None, 10, "j"]
    assert [r.get("correct") for r in rows] == [None, False, None, True]
    assert rows[1]["feedback"] == "Please respond faster."
    replayed = rating().run(Scripted([]), prefix=rows, seed=1)
    assert not parity.compare_rows(rows, replayed).diffs
    text = rating().transcript(prefix=rows, seed=1)
    assert 'You see "cat". You press nothing. Please respond faster.' in text


@needs_chromium
def test_a_person_who_lets_the_time_run_out_gets_rows_the_text_runtime_replays(
        browser: Any, tmp_path: Path) -> None:
    """Played by hand on the fake clock: the slider's and the categorisation's duration run
    out (the categorisation then shows its timeout feedback for feedback_duration)."""
    experiment = sbl.loads(RATING.replace("start: 0", "start: 0 duration: 1500"), "rating.sbl")
    text = experiment.run(Scripted(["5", "f", "20", "j"]), seed=1)
    timeouts = [dict(row, response=None) for row in text]
    page = parity.write_page(experiment, tmp_path / "page")
    played = parity.play(browser, page, tmp_path / "play", 1, timeouts)
    assert [r["response"] for r in played] == [None] * 4
    assert [r.get("feedback") for r in played] == [None, "Please respond faster."] * 2
    replayed = experiment.run(Scripted([]), prefix=played, seed=1)
    assert not parity.compare_rows(played, replayed).diffs


@needs_chromium
def test_page_stops_with_the_text_runtimes_message_for_bad_computed_bounds(
        browser: Any, tmp_path: Path) -> None:
    source = RATING.replace("high: top step: 5", "high: top - 3 step: 5")
    page = parity.write_page(sbl.loads(source, "rating.sbl"), tmp_path / "page")
    from tests.browser import file_url, session

    with session(browser, tmp_path, clock=False) as s:
        s.goto(file_url(page, participant="1", seed=1))
        assert s.wait_state() == "stopped"
        shown = s.page.inner_text(".sbl-error")
    assert "high - low (7) must be a whole number of steps of 5" in shown


# ---------------------------------------------------------------- sbl score


def test_score_scores_the_tokens_of_the_number_among_the_positions(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """A slider's answer is scored like any option: the tokens of the number and, since one
    position begins another (5 and 50), its closing ">>"; k is the number of positions. The
    simulating participant gives the same log-probability to the number it chose."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from sbl.participants import models
    from sbl.participants.hf import HFResponder
    from sbl.protocol import Ask
    from sbl.scoring import score_rows
    from tests.tinymodel import build_tiny_model

    shared = tmp_path_factory.getbasetemp() / "tiny-model-shared"  # as tests/test_score.py
    tiny = models.load(str(build_tiny_model(shared)), device="cpu")
    experiment = sbl.loads(RATING.replace("high: top step: 5", "high: 50 step: 5"),
                           "rating.sbl")
    rows = experiment.run(Scripted(["45", "f", "5", "j"]), seed=1)
    scores = score_rows(experiment, rows, tiny, seed=1)
    sliders = [c for c in scores.table() if c["response"] in ("45", "5")]
    assert [(c["response"], c["options"]) for c in sliders] == [("45", 11), ("5", 11)]
    assert sliders[0]["nll_random"] == pytest.approx(math.log(11))
    text = experiment.transcript(prefix=rows, seed=1)
    prefix = text[:text.index(" <<5>>")] + " <<"
    options = tuple(str(v) for v in range(0, 55, 5))
    answer = HFResponder(tiny).answer([Ask("1", prefix, options, seed=1)])[0]
    chosen = answer.meta["option_logprobs"]
    assert isinstance(chosen, dict)
    assert -chosen["5"] == pytest.approx(sliders[1]["nll"], abs=1e-4)
    json.dumps(scores.table())  # the table is plain data
