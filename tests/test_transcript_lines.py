"""How a model's lines are worded and joined (docs/language.md, "What a model reads"): a
description is prose (unquoted), a stimulus's own text is quoted; a choice's options are
stated when they change; a feedback trial continues the line of the answered trial it
follows; an open transcript's placeholders take the place of a full stop."""

from __future__ import annotations

import sbl
from sbl.backends.text import render, transcript
from sbl.backends.text.answers import label_order
from sbl.backends.text.reading import Reading
from sbl.participants.scripted import Scripted

A, B, C = label_order(0)[:3]


def lines_of(text: str, responses: list[str] | None = None) -> list[str]:
    exp = sbl.loads('experiment "x" { instructions: "Read." }\n' + text, "test.sbl")
    who = None if responses is None else Scripted(responses)
    return transcript(exp.ir, who).split("\n")[2:]


def test_a_description_is_prose_and_a_stimulus_text_is_quoted():
    lines = lines_of('''
html_keyboard { stimulus: "<b>STOP</b>", choices: ["f", "j"] }
html_keyboard { stimulus: "<i></i>", description: "a red circle", choices: ["f", "j"] }
html_keyboard { stimulus: "<i></i>", description: "\\"<<<\\"", choices: ["f", "j"] }
slider { stimulus: "<i></i>", description: "a face", low: 0, high: 2 }
categorize_html { stimulus: "<i></i>", description: "a dog", choices: ["f"], correct_key: "f" }
''', ["f", "j", "f", "1"])
    assert lines[1:4] == ['You see "STOP". You press <<F>>.',
                          "You see a red circle. You press <<J>>.",
                          'You see "‹‹‹". You press <<F>>.']  # an author's own quotes stay
    assert lines[4] == "You see a face. The slider goes from 0 to 2. You choose <<1>>."
    assert lines[5] == "You see a dog. You press F. Correct."


def test_choice_options_are_stated_when_they_change():
    lines = lines_of('''
table t = [{q: "One?", o: "a"}, {q: "Two?", o: "a"}, {q: "Three?", o: "b"}]
block b over t { choice { stimulus: q, choices: [o, "z"] } }
choice { stimulus: "Four?", choices: ["b", "z"], prompt: "Again: four?" }
''', [A, B, A, B])
    assert lines == [
        f'You see "One?" Option {A} is "a" and option {B} is "z". You choose <<{A}>>.',
        f'You see "Two?" You choose <<{B}>>.',  # the same options: not repeated
        f'You see "Three?" Option {A} is "b" and option {B} is "z". You choose <<{A}>>.',
        # an author's prompt replaces the question, not the options
        f'Again: four? Option {A} is "b" and option {B} is "z". You choose <<{B}>>.']


FEEDBACK = '''
text { text: "Hi", choices: ["f", "j"], correct_key: "f" }
fixation {}
feedback { correct: prev(2).correct }
text { text: "Next", duration: 100 }
feedback { correct: false, incorrect_text: "Too slow" }
text { text: "Ho", choices: ["f", "j"] }
feedback { correct: true }
feedback { correct: true, correct_text: "Well done." }
'''


def test_feedback_continues_the_line_of_the_answered_trial_before_it():
    assert lines_of(FEEDBACK, ["f", "j"]) == [
        "You can press F or J.",
        'You see "Hi". You press <<F>>. Correct!',  # across a screen left out
        'You see "Next".',
        'You see "Too slow".',  # the trial before asked for nothing: a line of its own
        'You see "Ho". You press <<J>>. Correct!',
        'You see "Well done."']  # a second outcome: its own line


def test_what_was_read_after_a_trial_ends_before_its_outcome():
    reading = Reading()
    reading.trial("You press <<F>>.", answered=True)
    reading.trial(None)
    reading.trial("Correct!", continued=True)
    reading.trial("Wrong!", continued=True)  # nothing open any more: a line of its own
    assert reading.until(1) == reading.until(2) == "You press <<F>>."
    assert reading.until(3) == "You press <<F>>. Correct!"
    assert reading.text == reading.until(4) == "You press <<F>>. Correct!\nWrong!"


def test_open_values_in_an_open_transcript():
    lines = lines_of('''
shared n = 0
block b repeat 2 {
  bandit { arms: [{color: "red", value: n}, {color: "blue", value: 1}]
           after { n = n + response } }
  text { text: "You win {prev.value} points{if prev.value > 0 then '!' else ''}. Total {n}." }
  feedback { correct: prev(2).value > 0 }
}
''')
    assert lines == [
        f"There are two slot machines, labeled {A} and {B}. "
        f"Machine {A} is red and machine {B} is blue.",  # colours known, values open
        "You press <<?>> and get … points.",
        'You see "You win … points… Total …".',  # not "points…."
        'You see "…".',
        "You press <<?>> and get … points.",
        'You see "You win … points… Total …".',
        'You see "…".']


def test_a_bandit_names_its_arms_and_their_marks():
    lines = lines_of('''
bandit { arms: [{color: "grey", value: 1, label: "A"}, {color: "red", value: 2}], noun: "deck" }
bandit { arms: [{color: "grey", value: 1}, {color: "red", value: 2}], noun: "lottery box" }
''', [A, B])
    assert lines[0] == (f'There are two decks, labeled {A} and {B}. '
                        f'Deck {A} is grey and marked "A" and deck {B} is red.')
    assert lines[2] == f"Box {A} is grey and box {B} is red."  # the noun's head word
    assert [render.plural(n) for n in ("deck", "lottery box", "key", "lottery", "church")] == [
        "decks", "lottery boxes", "keys", "lotteries", "churches"]
    given = lines_of('bandit { arms: [{color: "red", value: 1}, {color: "blue", value: 2}], '
                     'noun: "cactus", nouns: "cacti" }\n')  # an irregular plural, given
    assert given[0].startswith(f"There are two cacti, labeled {A} and {B}. Cactus {A} is red")
