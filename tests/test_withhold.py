"""Withholding a key (``withhold: true`` on the key kinds): pressing no key is an answer a
text participant can give (``You press <<nothing>>.``), recorded as a page timeout is
(response and rt none), counted as a free response by ``--until``, ``sbl score`` and
``sbl compare``; with it, ``correct_key: none`` means that pressing no key is correct, as in
PsychoPy's keyboard component (a correct answer of None scores a non-response as correct:
psychopy/experiment/components/keyboard/__init__.py, "correct non-response"). The page side
is in tests/test_parity.py (corner "withhold"), the check error in tests/errors/.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

import sbl
from sbl import backends, kinds
from sbl.backends.text import answers
from sbl.cli import main
from sbl.comparison import compare
from sbl.data import read_data, schema
from sbl.participants.random import RandomResponder
from sbl.participants.scripted import Scripted
from sbl.participants.terminal import Terminal
from sbl.source import SblError

ROOT = Path(__file__).resolve().parent.parent
GO_NOGO = ROOT / "tests" / "ports" / "go_nogo.sbl"
GOLDEN = ROOT / "tests" / "golden" / "withhold"

# Two go and two no-go trials in a fixed order; SPACE is the go key.
SOURCE = """
experiment "Go/no-go" { instructions: "Press SPACE for green; press nothing for red." }
block main over [{go: true, color: "green"}, {go: false, color: "red"},
                 {go: false, color: "red"}, {go: true, color: "green"}] {
  html_keyboard circle {
    stimulus: "<p>a {color} circle</p>"
    choices: [" "]
    correct_key: if go then " " else none
    duration: 1000
    withhold: true
  }
}
"""


def experiment(source: str = SOURCE) -> sbl.Experiment:
    return sbl.loads(source, "go_nogo.sbl")


def test_a_withheld_key_is_one_of_the_options() -> None:
    kind = kinds.get("text")
    assert kind is not None
    params = {"choices": ["f", "j"], "withhold": True, "duration": 500}
    (q,) = answers.questions(kind, params, answers.LETTERS)
    assert (q.options, q.values) == (("F", "J", "nothing"), ("f", "j", None))
    assert not q.forced and q.accepts(None) and q.value(q.match("Nothing") or "") is None
    (plain,) = answers.questions(kind, {**params, "withhold": False}, answers.LETTERS)
    assert plain.options == ("F", "J") and not plain.accepts(None)
    # any key with withhold: asked, SPACE (any key) or nothing
    (any_key,) = answers.questions(kind, {**params, "choices": ["any"]}, answers.LETTERS)
    assert any_key.options == ("SPACE", "nothing") and any_key.accepts("q")
    assert any_key.label("q") == "SPACE"  # a page's key replays as the option a model has


def test_a_button_trial_may_be_withheld_too() -> None:
    source = """
experiment "Buttons or none" { instructions: "Click the colour word, or nothing." }
block main over [{w: "RED", colour: true}, {w: "TABLE", colour: false}] {
  choice {
    stimulus: w
    choices: ["colour", "other"]
    correct_choice: if colour then "colour" else none
    duration: 2000
    withhold: true
  }
}
"""
    kind = kinds.get("choice")
    assert kind is not None
    params = {"choices": ["a", "b"], "withhold": True, "duration": 100}
    (q,) = answers.questions(kind, params, ("T", "P"))
    assert (q.options, q.values) == (("T", "P", "nothing"), (0, 1, None))
    exp = sbl.loads(source, "buttons.sbl")
    colour, other = answers.label_order(5)[:2]  # the letters participant seed 5 reads
    for script, correct in ((["nothing", "nothing"], [False, True]),
                            ([colour, colour], [True, False])):
        rows = exp.run(Scripted(script), seed=5)
        answered = [r for r in rows if r["kind"] == "choice"]
        assert [r["correct"] for r in answered] == correct and rows.n_responses == 2
    rows = exp.run(Scripted(["nothing", "nothing"]), seed=5)
    assert rows.transcripts["1"].endswith(  # the options once, while they stay the same
        f'option {other} is "other"; you can also choose nothing. You choose <<nothing>>.\n'
        'You see "TABLE". You choose <<nothing>>.')  # and that nothing is an answer


def test_nothing_is_recorded_as_a_timeout_and_scored_correct_on_no_go() -> None:
    rows = experiment().run(Scripted(["space", "nothing", "space", "nothing"]))
    circles = [r for r in rows if r["trial"] == "main/circle"]
    assert [r["response"] for r in circles] == [" ", None, " ", None]
    assert [r["rt"] for r in circles] == [None] * 4
    assert [r["correct"] for r in circles] == [True, True, False, False]
    assert rows.n_responses == 4  # every answer counts, withheld or not
    transcript = rows.transcripts["1"]
    assert "You can press SPACE or nothing." in transcript
    assert 'You see "a red circle". You press <<nothing>>.' in transcript
    assert 'You see "a green circle". You press <<nothing>>.' in transcript


def test_without_withhold_a_single_key_is_still_pressed_unasked() -> None:
    rows = experiment(SOURCE.replace("withhold: true", "")).run(Scripted([]))
    assert rows.n_responses == 0
    assert [r["correct"] for r in rows if r["trial"] == "main/circle"] == \
        [True, None, None, True]


def test_a_person_at_a_terminal_types_nothing() -> None:
    out = io.StringIO()
    person = Terminal(io.StringIO("nothing\nNOTHING\nspace\nnothing\n"), out)
    rows = experiment().run(person)
    assert [r["response"] for r in rows][1:] == [None, None, " ", None]
    assert out.getvalue().count("You press <<") == 4


def test_the_random_participant_withholds_sometimes() -> None:
    rows = sbl.load(GO_NOGO).run(RandomResponder(0), seed=1)
    circles = [r for r in rows if r["trial"] == "main/circle"]
    withheld = [r for r in circles if r["response"] is None]
    assert 0 < len(withheld) < len(circles) and rows.n_responses == len(circles)


def test_page_timeouts_replay_as_answers_and_until_counts_them(tmp_path: Path) -> None:
    exp = experiment()
    recorded = exp.run(Scripted(["nothing", "nothing", "space", "space"]))
    page = [{**r, "source": "browser", "rt": None if r["response"] is None else 412}
            for r in recorded]
    path = tmp_path / "people.json"
    path.write_text(schema.to_json(page), encoding="utf-8")
    people = read_data(path)
    assert people.n_responses == 4
    replayed = exp.run(Scripted([]), prefix=people)
    assert replayed.transcripts["1"] == recorded.transcripts["1"]
    prefix = people.until_response(3)  # before the third answer: two withheld keys
    assert [r["response"] for r in prefix][1:] == [None, None]
    result = CliRunner().invoke(main, ["data", str(path), "--until", "2"])
    assert result.exit_code == 0 and "2 trials, 1 response" in result.output


def test_compare_accuracy_counts_no_go_trials(tmp_path: Path) -> None:
    exp = experiment()
    good = exp.run(Scripted(["space", "nothing", "nothing", "space"]))
    bad = exp.run(Scripted(["space", "space", "space", "space"]))
    comparison = compare([good, bad], labels=["people", "model"])
    score = comparison.score.set_index("dataset")
    assert score.loc["people", "mean"] == pytest.approx(1.0)
    assert score.loc["model", "mean"] == pytest.approx(0.5)  # both no-go trials wrong


def test_a_computed_withhold_without_duration_fails_when_it_runs() -> None:
    source = SOURCE.replace("duration: 1000", "duration: if go then 1000 else none")
    with pytest.raises(SblError, match="'withhold' is true but 'duration' is none"):
        experiment(source).run(Scripted(["space"]))


def test_go_nogo_transcripts(golden) -> None:
    exp = sbl.load(GO_NOGO)
    golden(GOLDEN / "go_nogo.txt", backends.get("transcript").emit(exp.ir))
    rows = exp.run(RandomResponder(0), seed=0)
    golden(GOLDEN / "go_nogo.random.txt", rows.transcripts["1"] + "\n")


# ---------------------------------------------------------------- a model chooses and scores it


@pytest.fixture(scope="module")
def tiny(tiny_model_dir: Path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from sbl.participants import models

    return models.load(str(tiny_model_dir), device="cpu")


def test_a_model_weighs_nothing_and_score_gives_a_withheld_key_its_log_prob(tiny) -> None:
    from sbl.likelihood import response_spans
    from sbl.participants.base import Ask
    from sbl.participants.hf import HFResponder

    exp = experiment()
    simulated = exp.run(HFResponder(tiny), seed=3)
    assert simulated.n_responses == 4  # asked each time, between SPACE and nothing
    people = exp.run(Scripted(["nothing", "space", "nothing", "nothing"]))
    scores = sbl.score(people, tiny, exp)
    (result,) = scores.participants.values()
    assert [(c.response, c.options) for c in result.choices] == \
        [("nothing", 2), ("SPACE", 2), ("nothing", 2), ("nothing", 2)]
    text = people.transcripts["1"]
    for choice, (start, _) in zip(result.choices, response_spans(text), strict=True):
        ask = Ask("1", text[:start], ("SPACE", "nothing"))
        answer = HFResponder(tiny).answer([ask])[0]
        chosen = answer.meta["option_logprobs"][choice.response]  # type: ignore[index]
        assert choice.nll == pytest.approx(-chosen, abs=1e-4)


# ---------------------------------------------------------------- the page


@pytest.mark.slow
def test_page_hides_the_stimulus_after_stimulus_duration_and_records_a_timeout(
        tmp_path: Path) -> None:
    from tests import parity
    from tests.browser import have_chromium, launch, session

    if not have_chromium():
        pytest.skip("needs /usr/bin/chromium and playwright")
    source = """
experiment "A flash, then a window"
text flash { text: "X", choices: ["m"], duration: 1000, stimulus_duration: 300, withhold: true }
"""
    page = parity.write_page(sbl.loads(source, "flash.sbl"), tmp_path / "page")
    shown = ("getComputedStyle(document.querySelector("
             "'#jspsych-html-keyboard-response-stimulus')).visibility")
    with launch() as browser, session(browser, tmp_path) as s:
        s.goto(parity.file_url(page, participant=parity.PARTICIPANT, seed=1))
        s.page.wait_for_selector("#jspsych-html-keyboard-response-stimulus")
        s.run_for(250)
        assert s.page.evaluate(shown) == "visible"
        s.run_for(100)  # past 300 ms: the text is gone, the window still open
        assert s.page.evaluate(shown) == "hidden"
        assert s.page.evaluate("sblRun.st.rows.length") == 0
        s.run_for(700)
        rows = parity.finish(s, page)
    assert [(r["response"], r["rt"], r["correct"], r["stimulus_duration"]) for r in rows] == \
        [(None, None, True, 300)]
