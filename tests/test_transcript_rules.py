"""What a model reads (docs/language.md, "What a model reads"): labels introduced once,
settings written when they change, screens left out, headers, reflowed instructions,
instructed trials, unambiguous markers, and the warnings of ``sbl check``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import sbl
from sbl.backends.text import render, run_experiment, transcript
from sbl.backends.text.answers import Question, label_order
from sbl.cli import main
from sbl.fmt import format_source
from sbl.participants.scripted import Scripted
from sbl.source import SblError, Severity


def loads(text: str) -> sbl.Experiment:
    return sbl.loads(text, "test.sbl")


def lines_of(text: str, responses: list[str], seed: int = 0) -> list[str]:
    return transcript(loads(text).ir, Scripted(responses), seed=seed).split("\n")


A, B = label_order(0)[:2]

ARMS = '[{color: c0, value: 1}, {color: c1, value: 2}]'


def test_labels_in_instructions_prompt_and_no_second_introduction():
    lines = lines_of(f'''
experiment "x"
instructions {{ pages: ["Two machines."],
                prompt: "Two slot machines, labeled {{labels[0]}} and {{labels[1]}}." }}
table t = [{{c0: "red", c1: "blue"}}, {{c0: "red", c1: "blue"}}, {{c0: "green", c1: "blue"}}]
block b over t {{ bandit {{ arms: {ARMS} }} }}
''', [A, B, A])
    assert lines == [
        f"Two slot machines, labeled {A} and {B}.", "",
        f"Machine {A} is red and machine {B} is blue.",  # labels already introduced
        f"You press <<{A}>> and get 1 point.",
        f"You press <<{B}>> and get 2 points.",
        f"Machine {A} is green and machine {B} is blue.",  # restated: the colours changed
        f"You press <<{A}>> and get 1 point."]


def test_fixation_and_blank_are_left_out_unless_asked_for():
    lines = lines_of('''
experiment "x" { instructions: "Read." }
fixation {}
blank { duration: 300 }
fixation { transcript: true }
text { text: "Hello", duration: 200, transcript: false }
text { text: "Bye", duration: 200 }
''', [])
    assert lines == ["Read.", "", "You see a fixation cross (+) for 500 ms.", 'You see "Bye".']


def test_a_trial_that_asks_cannot_be_left_out():
    exp = loads('experiment "x"\ntext { text: "?", choices: ["f", "j"], transcript: false }\n')
    with pytest.raises(SblError) as info:
        run_experiment(exp.ir, Scripted(["f"]))
    assert "asks for an answer" in info.value.diagnostics[0].message


def test_headers_count_passes_and_rows_with_a_blank_line_before():
    lines = lines_of('''
experiment "x" { instructions: "Hi." }
table t = [{v: 1}, {v: 2}]
block game over t repeat 2 {
  header: "Game {pass}. There are {len(rows)} trials in this game."
  text { text: "{v}" }
}
''', [])
    assert lines == ["Hi.", "", "Game 1. There are 2 trials in this game.", 'You see "1".',
                     'You see "2".', "", "Game 2. There are 2 trials in this game.",
                     'You see "1".', 'You see "2".']


def test_a_header_is_text_only_and_checked():
    with pytest.raises(SblError) as info:
        loads('experiment "x"\nblock b {\n  header: "{shuffle([1])}"\n  text { text: "a" }\n}\n')
    assert "a header cannot use 'shuffle'" in info.value.diagnostics[0].message
    with pytest.raises(SblError) as info:
        loads('experiment "x"\nblock b {\n  heder: "x"\n  text { text: "a" }\n}\n')
    assert "block 'b' has no parameter 'heder'" in info.value.diagnostics[0].message
    exp = loads('experiment "x"\nblock b {\n  header: "H"\n  text { text: "a" }\n}\n')
    assert "\n  header: \"H\"\n" in format_source(
        'experiment "x"\nblock b {\nheader: "H"\ntext { text: "a" }\n}\n', "t.sbl")
    assert exp.compile().count('"header"') >= 1  # travels in the IR; the page ignores it


def test_instructions_are_reflowed():
    assert render.reflow("""
    You will see a few digits. After a short pause you see a
    sequence again: press S if it is the same.
    Then press on.

    A new paragraph
    continues here,
    and ends.
    """) == ("You will see a few digits. After a short pause you see a sequence again: "
             "press S if it is the same.\nThen press on.\n\n"
             "A new paragraph continues here, and ends.")


def test_instructed_trials_read_as_psych101():
    lines = lines_of(f'''
experiment "x" {{ instructions: "Choose." }}
table t = [{{c0: "red", c1: "blue", f: 1}}, {{c0: "red", c1: "blue", f: none}}]
block b over t {{ bandit {{ arms: {ARMS}, forced: f }} }}
''', [A])  # only the free trial is asked
    assert lines[2:] == [
        f"There are two slot machines, labeled {A} and {B}. "
        f"Machine {A} is red and machine {B} is blue.",
        f"You are instructed to press {B} and get 2 points.",
        f"You press <<{A}>> and get 1 point."]


def test_instructed_trials_are_not_asked_and_out_of_range_is_an_error():
    q = Question(("C", "A"), (0, 1), only=1)
    assert q.forced and q.instructed and q.valid == ("A",) and q.match("c") is None
    def program(shared: str, forced: str) -> str:
        return (f'experiment "x"\nlet c0 = "r"\nlet c1 = "b"\n{shared}bandit {{ arms: {ARMS}, '
                f"forced: {forced} }}\n")

    with pytest.raises(SblError) as info:  # known before the run: at sbl check
        loads(program("", "2"))
    assert "'forced' is 2, but 'arms' has 2 items" in info.value.diagnostics[0].message
    exp = loads(program("shared arm = 2\n", "arm"))  # computed: when it runs
    with pytest.raises(SblError) as info:
        run_experiment(exp.ir, Scripted([]))
    assert "'forced' is 2, but the trial has 2 options" in info.value.diagnostics[0].message


def test_markers_only_around_answers():
    assert render.clean("<<<<<") == "\u2039" * 5
    assert render.clean(">> x >>>") == "\u203a\u203a x \u203a\u203a\u203a"
    assert render.clean("5 > 3 < 4") == "5 > 3 < 4"
    exp = loads('''
experiment "x" { instructions: "Press F or J." }
html_keyboard { stimulus: "<div>&lt;&lt;&lt;&lt;&lt;</div>", choices: ["f", "j"] }
text_survey { questions: [{prompt: "Say <<hi>>"}] }
''')
    rows = run_experiment(exp.ir, Scripted(["f", "a>b <<c"]))
    edges = run_experiment(exp.ir, Scripted(["f", "<b>"])).transcripts["1"]
    assert "You answer <<\u2039b\u203a>>." in edges  # never <<<b>>>
    text = rows.transcripts["1"]
    assert 'You see "\u2039\u2039\u2039\u2039\u2039". You press <<F>>.' in text
    assert "Say \u2039\u2039hi\u203a\u203a You answer <<a>b \u2039\u2039c>>." in text
    assert rows[-1]["response"] == {"Q0": "a>b <<c"}  # the data keep what was typed
    assert text.count("<<") == text.count(">>") == 2


def test_emit_transcript_and_run_render_markup_alike():
    exp = loads('''
experiment "x" { instructions: "Press F." }
shared n = 0
html_keyboard a { stimulus: "<p>go</p>", choices: ["f", "j"],
                  after { n = n + (if response == "f" then 1 else 0) } }
html_keyboard b { stimulus: "<b>Count</b> <i>{n}</i>" }
''')
    assert transcript(exp.ir).split("\n")[-1] == 'You see "Count …".'  # depends on an answer
    assert transcript(exp.ir, Scripted(["f"])).split("\n")[-1] == 'You see "Count 1".'


def test_warnings_about_what_a_model_would_miss():
    exp = loads('experiment "x"\n'
                'html_keyboard { stimulus: "<img src=\\"a.png\\">", choices: ["f"] }\n'
                'html_keyboard { stimulus: "<img src=\\"a.png\\">", description: "A cat." }\n')
    found = exp.warnings
    assert [d.severity for d in found] == [Severity.WARNING] * 2
    assert "no instructions" in found[0].message and found[0].span.line == 1
    assert "reads nothing for this html_keyboard" in found[1].message
    assert found[1].span.line == 2 and "description" in found[1].help
    assert loads('experiment "x" { instructions: "Hi." }\nfixation {}\n').warnings == []


def test_check_prints_warnings_and_passes(tmp_path: Path):
    path = tmp_path / "w.sbl"
    path.write_text('experiment "x"\ntext { text: "a" }\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0
    assert f"{path}:1:1: warning: this experiment has no instructions" in result.stderr
    assert result.stderr.rstrip().endswith("1 file checked: 1 warning")


def test_a_recording_that_did_not_follow_the_instruction_is_refused():
    exp = loads(f'''
experiment "x" {{ instructions: "Choose." }}
table t = [{{c0: "red", c1: "blue", f: 1}}, {{c0: "red", c1: "blue", f: none}}]
block b over t {{ bandit {{ arms: {ARMS}, forced: f }} }}
''')
    rows = run_experiment(exp.ir, Scripted([A]))
    assert [r["response"] for r in rows][1:] == [1, 0]
    again = run_experiment(exp.ir, Scripted([]), prefix=rows)  # replayed as recorded
    assert again.transcripts["1"] == rows.transcripts["1"]
    rows[1]["response"] = 0  # arm 0 on the trial that instructed arm 1
    with pytest.raises(SblError) as info:
        run_experiment(exp.ir, Scripted([]), prefix=rows)
    assert "is not one of the trial's answers" in info.value.diagnostics[0].message
