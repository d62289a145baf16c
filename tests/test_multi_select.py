"""The multi_select kind (jsPsych's survey-multi-select, pinned 2.1.1): a question answered
with any number of its options. A text participant names one set of the option letters
(``<<T, X>>``, ``<<nothing>>``); the row records what the plugin records, the list of the
options checked in the page's order (node_modules/@jspsych/plugin-survey-multi-select/dist/
index.js: the checked boxes in document order; its simulation records them in the order it
drew them, which the page puts back in the options' order)."""

from __future__ import annotations

import pytest

import sbl
from sbl.data.rows import Rows
from sbl.participants.scripted import Scripted
from sbl.protocol import describe_options, match_option
from sbl.source import SblError

CHECKLIST = """
experiment "Colours" { instructions: "Answer." }
multi_select likes {
  questions: [
    {prompt: "Which colours do you like?" options: ["Red", "Yellow", "Green"]},
    {prompt: "Pets?" options: ["cat"]},
  ]
}
"""


def checklist() -> sbl.Experiment:
    return sbl.loads(CHECKLIST, "colours.sbl")


def test_a_set_is_named_in_any_order_and_recorded_in_the_options_order() -> None:
    # seed 0 labels the options T, P, X: "x and t" is Green and Red
    rows = checklist().run(Scripted(["x and t", "nothing"]), seed=0)
    assert rows[-1]["response"] == {"Q0": ["Red", "Green"], "Q1": []}
    text = checklist().transcript(prefix=rows, seed=0)
    assert ('Which colours do you like? Option T is "Red", option P is "Yellow" and option X '
            'is "Green". You choose any number of them: <<T, X>>.') in text
    assert 'Pets? Option T is "cat". You choose any number of them: <<nothing>>.' in text


def test_every_set_of_the_options_is_a_valid_answer() -> None:
    options = ("nothing", "T", "P", "X", "T, P", "T, X", "P, X", "T, P, X")
    assert match_option(options, "x, P") == "P, X"
    assert match_option(options, "t p x") == "T, P, X"
    assert match_option(options, "T and X") == "T, X"
    assert match_option(options, "T, Q") is None  # Q labels no option
    assert match_option(options, "T, T") is None  # one option twice is not a set of two
    assert describe_options(options[:5]) == "nothing; T; P; X or T, P"


def test_an_answer_outside_the_options_is_refused() -> None:
    with pytest.raises(SblError, match="valid answers here are nothing; T; P; X; T, P"):
        checklist().run(Scripted(["T, Q"]), seed=0)


def test_a_set_recorded_in_another_order_replays_as_the_same_answer() -> None:
    rows = checklist().run(Scripted(["x and t", "t"]), seed=0)
    shuffled = [dict(r) for r in rows]
    shuffled[-1]["response"] = {"Q0": ["Green", "Red"], "Q1": ["cat"]}
    text = checklist().transcript(prefix=Rows(shuffled), seed=0)
    assert "You choose any number of them: <<T, X>>." in text


def test_a_computed_question_with_too_many_options_stops_the_text_run() -> None:
    source = CHECKLIST.replace('["Red", "Yellow", "Green"]',
                               'shuffle(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"])')
    exp = sbl.loads(source, "many.sbl")
    with pytest.raises(SblError, match="at most 10, since a text participant chooses among "
                                       "every set of them; this one has 11"):
        exp.run("random", seed=0)
